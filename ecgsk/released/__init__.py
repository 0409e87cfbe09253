"""Loading the published DeepECG weights, without fairseq or the release's code.

- DeepECG-SSL: a fairseq-signals checkpoint (``torch.save``), unpickled with an allow-list of
  plain-data types (:func:`read_fairseq_checkpoint`; ``trust_checkpoint=True`` for anything
  else, only for a file you trust), its configuration parsed and its state dict mapped onto
  the ``"deepecg-ssl"`` network of :mod:`ecgsk.nn` (:func:`load_fairseq_ssl`).
- the pretrained DeepECG-SSL encoder: a fairseq-signals pretraining checkpoint (top-level
  ``feature_extractor.*``, ``encoder.layers.*``, ``quantizer.*``, ...), loaded as an encoder
  for ``encoder=`` arguments (:func:`load_deepecg_ssl_encoder`) or, with its quantizer and
  projections, as a fitted pretrainer (:meth:`ecgsk.ECGPretrainer.from_deepecg`);
- DeepECG-SL: a TorchScript archive, wrapped by :class:`ReleasedTorchScript`.
- :func:`load_deepecg` turns either into a fitted estimator; users call it through
  :meth:`ecgsk.ECGClassifier.from_deepecg`.

This package imports neither scikit-learn nor the estimators.

Examples
--------
>>> from ecgsk.released import DEEPECG_SSL_OUTPUT_LABELS, ssl_output_permutation
>>> len(DEEPECG_SSL_OUTPUT_LABELS), ssl_output_permutation().shape
(77, (77,))
"""

from ._deepecg import (
    DEEPECG_SSL_INPUT_SCALE,
    DEEPECG_SSL_OUTPUT_LABELS,
    KINDS,
    check_release_thresholds,
    detect_release_kind,
    load_deepecg,
    ssl_output_permutation,
)
from ._fairseq import (
    FairseqCheckpoint,
    convert_fairseq_state_dict,
    encoder_arch_config,
    fold_weight_norm,
    load_fairseq_ssl,
    parse_conv_layers,
    read_fairseq_checkpoint,
    safe_checkpoint_globals,
    ssl_model_config,
)
from ._pretrained import (
    convert_pretraining_state_dict,
    load_deepecg_pretrainer,
    load_deepecg_ssl_encoder,
    pretrained_encoder_prefix,
    pretraining_config,
)
from ._torchscript import (
    DEEPECG_SL_INPUT_SCALE,
    RELEASE_N_LEADS,
    RELEASE_N_TIMES,
    ReleasedTorchScript,
    is_torchscript_archive,
    load_torchscript,
    torchscript_bytes,
)

__all__ = [
    "DEEPECG_SL_INPUT_SCALE",
    "DEEPECG_SSL_INPUT_SCALE",
    "DEEPECG_SSL_OUTPUT_LABELS",
    "FairseqCheckpoint",
    "KINDS",
    "RELEASE_N_LEADS",
    "RELEASE_N_TIMES",
    "ReleasedTorchScript",
    "check_release_thresholds",
    "convert_fairseq_state_dict",
    "convert_pretraining_state_dict",
    "detect_release_kind",
    "encoder_arch_config",
    "fold_weight_norm",
    "is_torchscript_archive",
    "load_deepecg",
    "load_deepecg_pretrainer",
    "load_deepecg_ssl_encoder",
    "load_fairseq_ssl",
    "load_torchscript",
    "parse_conv_layers",
    "pretrained_encoder_prefix",
    "pretraining_config",
    "read_fairseq_checkpoint",
    "safe_checkpoint_globals",
    "ssl_model_config",
    "ssl_output_permutation",
    "torchscript_bytes",
]
