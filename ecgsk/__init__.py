"""ecgsk: scikit-learn compatible 12-lead ECG deep learning (DeepECG-SSL / DeepECG-SL)."""

from ._version import __version__
from . import labels, leads
from .metrics import register_scorers

# Makes "roc_auc_macro" and "average_precision_macro" usable by name in cross_val_score/GridSearchCV.
register_scorers()

__all__ = ["__version__", "labels", "leads", "register_scorers"]
