"""Datasets: PTB-XL from its official layout, a bundled real PTB-XL sample, synthetic ECGs.

Examples
--------
>>> from ecgsk.datasets import load_ptbxl_sample
>>> load_ptbxl_sample().signals.shape
(200, 12, 5000)
"""

from __future__ import annotations

from ._ptbxl import load_ptbxl
from ._sample import load_ptbxl_sample
from ._synthetic import make_synthetic_ecgs

__all__ = ["ECGDataset", "load_ptbxl", "load_ptbxl_sample", "make_synthetic_ecgs"]


def __getattr__(name):  # ECGDataset is a torch Dataset: import torch only when it is used
    if name == "ECGDataset":
        from ._lazy import ECGDataset

        return ECGDataset
    raise AttributeError(f"module 'ecgsk.datasets' has no attribute {name!r}")
