"""ecgsk: scikit-learn compatible 12-lead ECG deep learning (DeepECG-SSL / DeepECG-SL).

The estimators (``ECGClassifier``, ``ECGRegressor``, ``ECGPretrainer``, ``ECGEmbedder``) and the
``labels`` and ``leads`` modules are imported on first use, so that ``import ecgsk`` (and
``import ecgsk.nn``) stays light and loads neither scikit-learn nor pandas. Importing ecgsk
changes nothing in other libraries: to use the ecgsk scorers by name in scikit-learn, call
:func:`ecgsk.metrics.register_scorers` (or pass the scorer objects, e.g.
``scoring=ecgsk.metrics.roc_auc_macro``).
"""

import importlib

from ._version import __version__

_ESTIMATORS = ("ECGClassifier", "ECGRegressor", "ECGPretrainer", "ECGEmbedder")
_SUBMODULES = ("labels", "leads")

__all__ = ["__version__", "labels", "leads", "register_scorers", *_ESTIMATORS]


def __getattr__(name):
    if name in _ESTIMATORS:
        return getattr(importlib.import_module(".estimators", __name__), name)
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name == "register_scorers":
        return importlib.import_module(".metrics", __name__).register_scorers
    raise AttributeError(f"module 'ecgsk' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
