"""skorch-based estimators: :class:`ECGClassifier`, :class:`ECGRegressor`, :class:`ECGPretrainer`.

All follow the scikit-learn API (``fit``, ``predict``, ``predict_proba``/``transform``,
``get_params``/``set_params``, pickling) on ECG arrays of shape ``(n_ecgs, n_leads, n_times)``
and build their network from the :mod:`ecgsk.nn` registry. :class:`ECGEmbedder` turns a
pretrained encoder into a plain sklearn transformer.
"""

from ._accelerate import (
    AcceleratedECGClassifier,
    AcceleratedECGPretrainer,
    AcceleratedECGRegressor,
)
from ._augment import ECGAugment
from ._classifier import ECGClassifier
from ._embedder import ECGEmbedder
from ._encoder import load_encoder, save_encoder
from ._export import read_export_card
from ._losses import AsymmetricLoss, FocalLoss
from ._pretrainer import ECGPretrainer
from ._regressor import ECGRegressor

__all__ = [
    "AcceleratedECGClassifier",
    "AcceleratedECGPretrainer",
    "AcceleratedECGRegressor",
    "AsymmetricLoss",
    "ECGAugment",
    "ECGClassifier",
    "ECGEmbedder",
    "ECGPretrainer",
    "ECGRegressor",
    "FocalLoss",
    "load_encoder",
    "read_export_card",
    "save_encoder",
]
