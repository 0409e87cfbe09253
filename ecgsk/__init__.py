"""ecgsk: scikit-learn compatible 12-lead ECG deep learning (DeepECG-SSL / DeepECG-SL)."""

from ._version import __version__
from . import labels, leads

__all__ = ["__version__", "labels", "leads"]
