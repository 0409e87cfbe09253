"""skorch-based estimators: :class:`ECGClassifier`, :class:`ECGRegressor`, :class:`ECGPretrainer`.

All follow the scikit-learn API (``fit``, ``predict``, ``predict_proba``/``transform``,
``get_params``/``set_params``, pickling) on ECG arrays of shape ``(n_ecgs, n_leads, n_times)``
and build their network from the :mod:`ecgsk.nn` registry. :class:`ECGEmbedder` turns a
pretrained encoder into a plain sklearn transformer.
"""

from ._augment import ECGAugment
from ._classifier import ECGClassifier
from ._embedder import ECGEmbedder
from ._encoder import load_encoder, save_encoder
from ._losses import AsymmetricLoss, FocalLoss
from ._pretrainer import ECGPretrainer
from ._regressor import ECGRegressor

__all__ = [
    "AsymmetricLoss",
    "ECGAugment",
    "ECGClassifier",
    "ECGEmbedder",
    "ECGPretrainer",
    "ECGRegressor",
    "FocalLoss",
    "load_encoder",
    "save_encoder",
]
