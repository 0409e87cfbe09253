"""ecgsk: scikit-learn compatible 12-lead ECG deep learning (DeepECG-SSL / DeepECG-SL).

The estimators (``ECGClassifier``, ``ECGRegressor``, ``ECGPretrainer``, ``ECGEmbedder``) are imported on first use, so that
``import ecgsk`` stays light for the numpy-only parts (preprocessing, metrics, readers).
"""

from . import labels, leads
from ._version import __version__
from .metrics import register_scorers

# Makes "roc_auc_macro" and "average_precision_macro" usable by name in cross_val_score/GridSearchCV.
register_scorers()

_ESTIMATORS = ("ECGClassifier", "ECGRegressor", "ECGPretrainer", "ECGEmbedder")

__all__ = ["__version__", "labels", "leads", "register_scorers", *_ESTIMATORS]


def __getattr__(name):
    if name in _ESTIMATORS:
        from . import estimators

        return getattr(estimators, name)
    raise AttributeError(f"module 'ecgsk' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_ESTIMATORS))
