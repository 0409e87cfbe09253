"""skorch-based estimators: :class:`ECGClassifier` and :class:`ECGRegressor`.

Both follow the scikit-learn API (``fit``, ``predict``, ``predict_proba``/``transform``,
``get_params``/``set_params``, pickling) on ECG arrays of shape ``(n_ecgs, n_leads, n_times)``
and build their network from the :mod:`ecgsk.nn` registry.
"""

from ._augment import ECGAugment
from ._classifier import ECGClassifier
from ._losses import AsymmetricLoss, FocalLoss
from ._regressor import ECGRegressor

__all__ = ["AsymmetricLoss", "ECGAugment", "ECGClassifier", "ECGRegressor", "FocalLoss"]
