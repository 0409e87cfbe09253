"""scikit-learn transformers that turn raw ECGs into model input.

Every transformer takes ``(n_ecgs, n_leads, n_times)`` float32 signals in
millivolts, works on each record independently (nothing is computed across
the batch), and returns float32. Filters and resampling are zero-phase and
run in the frequency domain over the whole batch; inside an
:class:`ECGPipeline` consecutive frequency-domain steps share a single FFT
round trip, and large batches are processed in chunks so that memory stays
bounded. This package never imports torch.

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

from ._base import ECGTransformer, SpectralStep
from ._crop import CropOrPad
from ._filters import BandpassFilter, BaselineRemoval, NotchFilter
from ._leads import ReorderLeads
from ._normalize import DEEPECG_TARGET_MAGNITUDE, NormalizeLeads, spectral_magnitude
from ._pipeline import ECGPipeline, make_deepecg_preprocessing
from ._resample import Resample
from ._spectral_notch import SpectralNotch

__all__ = [
    "BandpassFilter",
    "BaselineRemoval",
    "CropOrPad",
    "DEEPECG_TARGET_MAGNITUDE",
    "ECGPipeline",
    "ECGTransformer",
    "NormalizeLeads",
    "NotchFilter",
    "ReorderLeads",
    "Resample",
    "SpectralNotch",
    "SpectralStep",
    "make_deepecg_preprocessing",
    "spectral_magnitude",
]
