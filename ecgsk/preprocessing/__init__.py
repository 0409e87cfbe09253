"""scikit-learn transformers that turn raw ECGs into model input.

Every transformer takes ``(n_ecgs, n_leads, n_times)`` float32 signals in
millivolts and returns float32. Transforming a record never depends on the
other records of the batch: most steps learn nothing, and the two that do
(:class:`AmplitudeScaler`, :class:`DeepECGSpectralCleaning`) learn in ``fit``
on the training cohort and apply what they learned unchanged, as
scikit-learn's scalers do. Filters and resampling are zero-phase and run in
the frequency domain over the whole batch; inside an :class:`ECGPipeline`
consecutive frequency-domain steps share a single FFT round trip, and large
batches are processed in chunks so that memory stays bounded. This package
never imports torch.

Records are extended at both edges by a mirror image before filtering, so
that the circular FFT does not wrap the end of a record onto its start.

Examples
--------
>>> import numpy as np
>>> from ecgsk.preprocessing import make_deepecg_preprocessing
>>> X = np.random.default_rng(0).normal(size=(3, 12, 5000)).astype("float32")
>>> make_deepecg_preprocessing(500).fit_transform(X).shape
(3, 12, 2500)
"""

import warnings as _warnings

from ._amplitude import AmplitudeWarning, check_amplitude
from ._base import BaseECGStep, LearnedStep, SpectralStep
from ._crop import CropOrPad, PaddingWarning
from ._filters import BandpassFilter, BaselineRemoval, NotchFilter
from ._freeze import freeze_if_fitted, freeze_learned
from ._leads import ReorderLeads
from ._normalize import DEEPECG_TARGET_MAGNITUDE, NormalizeLeads, spectral_magnitude
from ._pipeline import ECGPipeline, make_deepecg_preprocessing
from ._release import Decimate, DeepECGSpectralCleaning
from ._resample import Resample
from ._scaler import DEEPECG_POWER_RATIO, AmplitudeScaler, mean_dft_magnitude
from ._spectral_notch import SpectralNotch

__all__ = [
    "AmplitudeScaler",
    "AmplitudeWarning",
    "BandpassFilter",
    "BaseECGStep",
    "BaselineRemoval",
    "CropOrPad",
    "DEEPECG_POWER_RATIO",
    "DEEPECG_TARGET_MAGNITUDE",
    "Decimate",
    "DeepECGSpectralCleaning",
    "ECGPipeline",
    "LearnedStep",
    "NormalizeLeads",
    "NotchFilter",
    "PaddingWarning",
    "ReorderLeads",
    "Resample",
    "SpectralNotch",
    "SpectralStep",
    "check_amplitude",
    "freeze_if_fitted",
    "freeze_learned",
    "make_deepecg_preprocessing",
    "mean_dft_magnitude",
    "spectral_magnitude",
]


def __getattr__(name):
    # ``ECGTransformer`` was the name of the base class; ecgsk.nn.ECGTransformer
    # is the network. The old name still works, with a warning.
    if name == "ECGTransformer":
        _warnings.warn(
            "ecgsk.preprocessing.ECGTransformer is deprecated and will be removed: use "
            "ecgsk.preprocessing.BaseECGStep (ecgsk.nn.ECGTransformer is the network)",
            DeprecationWarning, stacklevel=2,
        )
        return BaseECGStep
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
