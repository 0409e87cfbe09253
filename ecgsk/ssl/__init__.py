"""Self-supervised pretraining objectives of DeepECG-SSL.

- wav2vec 2.0 masked contrastive learning with a Gumbel product quantizer,
- CMSC, contrastive multi-segment coding across segments (and patients),
- RLM, random lead masking as input corruption.

:class:`SSLPretextModel` combines them around an ``ecgsk.nn`` ECG transformer;
``ecgsk.ECGPretrainer`` trains it as an sklearn estimator.
"""

from ._losses import cmsc_loss, sample_negatives, wav2vec2_contrastive_loss
from ._masking import compute_span_mask, random_lead_mask
from ._pretext import OBJECTIVES, SSLPretextModel, scale_gradient, split_segments
from ._quantizer import GumbelProductQuantizer, QuantizerOutput

__all__ = [
    "OBJECTIVES",
    "GumbelProductQuantizer",
    "QuantizerOutput",
    "SSLPretextModel",
    "cmsc_loss",
    "compute_span_mask",
    "random_lead_mask",
    "sample_negatives",
    "scale_gradient",
    "split_segments",
    "wav2vec2_contrastive_loss",
]
