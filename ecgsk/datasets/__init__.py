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

__all__ = ["load_ptbxl", "load_ptbxl_sample", "make_synthetic_ecgs"]
