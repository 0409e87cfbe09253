"""Read the released *pretrained* DeepECG-SSL encoder: a fairseq-signals pretraining checkpoint.

The public pretrained encoder is the state dict of fairseq-signals' ``wav2vec2_cmsc`` model
(``fairseq_signals/models/wav2vec2/wav2vec2.py``, built on ``ecg_transformer.py``), saved by
``torch.save`` as ``{"model": state, "cfg": {...}}``. Its keys have no encoder prefix:

==============================================  =============================================
pretraining-checkpoint key                      ecgsk (``ECGPretrainer.module_``) key
==============================================  =============================================
``feature_extractor.*``, ``layer_norm.*``,      ``encoder.*``, mapped as in
``post_extract_proj.*``, ``conv_pos.*`` (or     :mod:`ecgsk.released._fairseq` with an empty
``encoder.pos_conv.*``), ``encoder.layers.*``,  prefix (``encoder.layer_norm`` ->
``encoder.layer_norm.*``                        ``encoder.encoder_norm``, ...)
``mask_emb``                                    ``encoder.mask_embedding``
``quantizer.weight_proj.{weight,bias}``         ``quantizer.to_logits.*``
``quantizer.vars`` ``(1, G*V, d)``              ``quantizer.codebooks`` ``(G, V, d)``
``project_q.*``                                 ``target_proj.*``
``final_proj.*``                                ``context_proj.*``
==============================================  =============================================

fairseq's Gumbel quantizer indexes entry ``v`` of group ``g`` as ``g * V + v`` both in its
logits and in ``vars``, which is the row-major order of ecgsk's ``(G, V)`` logits and
``(G, V, d)`` codebooks. Its temperature is not a tensor: it is recomputed from the update
count (``optimizer_history[-1]["num_updates"]``) and ``latent_temp`` as fairseq does,
``max(start * decay ** num_updates, floor)``.

The projection ``project_q`` maps the quantized ``vq_dim`` vectors to ``final_dim``; ecgsk's
objective quantizes straight to ``final_dim`` (``latent_dim=0``, the release's setting), so a
file with another ``latent_dim``, or with ``quantize_input``/``target_glu``, loads as an
encoder (:func:`load_deepecg_ssl_encoder`) but not as a pretrainer.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import Tensor

from ._fairseq import (
    _SHOWN,
    ENCODER_PREFIXES,
    HEAD_PREFIXES,
    PRETRAINING_ONLY,
    _check_trust,
    _encoder_config,
    _get,
    encoder_arch_config,
    map_encoder_state,
    raise_mismatch,
    read_fairseq_checkpoint,
)
from ._torchscript import RELEASE_N_TIMES

_PROBE = "feature_extractor.conv_layers.0.0.weight"
#: Objective modules of fairseq's wav2vec 2.0 that ecgsk's SSL objective does not have.
UNSUPPORTED_OBJECTIVE: tuple[str, ...] = ("input_quantizer.", "project_inp.", "target_glu.")
#: fairseq-signals' ``latent_temp`` default: start, floor, decay per update.
DEFAULT_LATENT_TEMP = (2.0, 0.5, 0.999995)
_EXPECTED = (
    "a DeepECG-SSL pretraining checkpoint (the released pretrained encoder) has top-level "
    "feature_extractor.*, encoder.layers.*, mask_emb, quantizer.*, project_q.*, final_proj.*"
)


def _fine_tuned_message(head: str, n_outputs: int) -> str:
    return (
        f"this is a fine-tuned DeepECG-SSL classifier checkpoint (a {n_outputs}-output head "
        f"{head}weight), not the pretrained encoder; load it with "
        "ECGClassifier.from_deepecg(path) (the fitted classifier also serves as encoder=...)"
    )


def pretrained_encoder_prefix(ckpt: Mapping) -> str:
    """The key prefix of the encoder in a pretraining (or head-less) DeepECG-SSL checkpoint.

    Parameters
    ----------
    ckpt : mapping
        A checkpoint from :func:`read_fairseq_checkpoint`.

    Returns
    -------
    str
        ``""`` for the pretraining layout; ``"encoder."`` or ``"w2v_encoder.w2v_model."`` for a
        fine-tuning layout whose head was removed.

    Raises
    ------
    ValueError
        For a fine-tuned classifier (use ``ECGClassifier.from_deepecg``), an ecgsk state dict,
        or any other key layout; the message says what the keys look like and what was
        expected.

    Examples
    --------
    >>> import torch
    >>> pretrained_encoder_prefix({"model": {_PROBE: torch.zeros(1)}})
    ''
    """
    sd = ckpt["model"]
    keys = set(sd)
    if _PROBE in keys:
        return ""
    for enc, head in zip(ENCODER_PREFIXES, HEAD_PREFIXES, strict=True):
        if enc + _PROBE in keys:
            if head + "weight" in keys:
                raise ValueError(_fine_tuned_message(head, int(sd[head + "weight"].shape[0])))
            return enc
    shown = sorted(keys)[:_SHOWN]
    if any(k.startswith(("feature_encoder.", "encoder.feature_encoder.")) for k in keys):
        what = ("an ecgsk ECGTransformer state dict (feature_encoder.*); ecgsk encoders are "
                "folders written by ECGPretrainer.save, given as encoder=folder")
    else:
        what = "no DeepECG-SSL checkpoint"
    raise ValueError(f"keys {shown} look like {what}; {_EXPECTED}")


def _quantizer_config(sd: Mapping, cfg) -> dict | None:
    """``final_dim``, ``n_groups``, ``n_entries`` of the quantized-target objective, or None."""
    if "quantizer.weight_proj.weight" not in sd:
        if any(k.startswith("quantizer.") for k in sd):
            raise ValueError(
                "the checkpoint's quantizer has a multi-layer weight_proj "
                "(weight_proj_depth > 1), which ecgsk's GumbelProductQuantizer does not have"
            )
        return None
    for key in ("quantizer.vars", "project_q.weight", "final_proj.weight"):
        if key not in sd:
            raise ValueError(f"the checkpoint has a quantizer but no {key}")
    n_codes, var_dim = sd["quantizer.vars"].shape[1:]
    final_dim, vq_dim = sd["project_q.weight"].shape
    n_groups = int(_get(cfg, "latent_groups", 2))
    if vq_dim != n_groups * var_dim or n_codes % n_groups:
        raise ValueError(
            f"quantizer.vars {tuple(sd['quantizer.vars'].shape)} and project_q.weight "
            f"{tuple(sd['project_q.weight'].shape)} do not fit latent_groups={n_groups}"
        )
    if vq_dim != final_dim:
        raise ValueError(
            f"the checkpoint quantizes to latent_dim={vq_dim} and projects to final_dim="
            f"{final_dim}; ecgsk's wav2vec 2.0 objective quantizes to final_dim (latent_dim=0, "
            "the release's setting); load the encoder alone with load_deepecg_ssl_encoder"
        )
    return {"final_dim": int(final_dim), "n_groups": n_groups,
            "n_entries": int(n_codes // n_groups)}


def _latent_temp(cfg) -> tuple[float, float, float]:
    value = _get(cfg, "latent_temp", DEFAULT_LATENT_TEMP)
    if isinstance(value, str):
        try:
            value = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            raise ValueError(f"latent_temp {value!r} is not a (start, floor, decay) tuple") from None
    try:
        start, floor, decay = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"latent_temp {value!r} is not a (start, floor, decay) tuple") from None
    return start, floor, decay


def _num_updates(ckpt: Mapping) -> int | None:
    history = _get(ckpt, "optimizer_history")
    if isinstance(history, (list, tuple)) and history and isinstance(history[-1], Mapping):
        value = history[-1].get("num_updates")
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
    return None


def pretraining_config(ckpt: Mapping) -> dict:
    """What a DeepECG-SSL pretraining checkpoint holds, read from its tensors and configuration.

    Parameters
    ----------
    ckpt : mapping
        A checkpoint from :func:`read_fairseq_checkpoint`.

    Returns
    -------
    dict
        ``"prefix"`` (see :func:`pretrained_encoder_prefix`); ``"encoder"``: ``n_leads`` and
        the ``ECGTransformer`` arguments; ``"quantizer"``: ``final_dim``, ``n_groups``,
        ``n_entries`` of the ``SSLPretextModel`` (None when the file has no quantizer);
        ``"latent_temp"``; ``"num_updates"`` (None when not recorded); ``"unsupported"``: the
        objective modules ecgsk's objective lacks (``input_quantizer``, ``target_glu``, ...).

    Examples
    --------
    >>> ckpt = read_fairseq_checkpoint("deepecg_ssl_pretrained.pt")  # doctest: +SKIP
    >>> pretraining_config(ckpt)["quantizer"]  # doctest: +SKIP
    {'final_dim': 256, 'n_groups': 2, 'n_entries': 320}
    """
    enc = pretrained_encoder_prefix(ckpt)
    sd = ckpt["model"]
    cfg = _encoder_config(ckpt)
    quantizer = _quantizer_config(sd, cfg) if enc == "" else None
    unsupported = sorted({p.rstrip(".") for k in sd for p in UNSUPPORTED_OBJECTIVE
                          if k.startswith(enc + p)})
    return {"prefix": enc, "encoder": encoder_arch_config(ckpt, enc), "quantizer": quantizer,
            "latent_temp": _latent_temp(cfg), "num_updates": _num_updates(ckpt),
            "unsupported": unsupported}


def _module_kwargs(arch: Mapping) -> dict:
    """``module__*`` keyword arguments (plain JSON) rebuilding the encoder of ``arch``."""
    kwargs = {k: v for k, v in arch.items() if k != "n_leads"}
    if tuple(map(tuple, kwargs["conv_layers"])) == ((256, 2, 2),) * 4:
        del kwargs["conv_layers"]  # the registry default
    else:
        kwargs["conv_layers"] = [list(layer) for layer in kwargs["conv_layers"]]
    return kwargs


def load_deepecg_ssl_encoder(path, *, n_times: int = RELEASE_N_TIMES,
                             trust_checkpoint: bool = False, **kwargs):
    """Load the released pretrained DeepECG-SSL encoder as an ``ecgsk.nn`` ECG transformer.

    The file is a fairseq-signals pretraining checkpoint (see the module documentation for
    its keys), read with the same tensors-only, allow-listed unpickling as
    :func:`read_fairseq_checkpoint`; half-precision tensors are cast to float32. The encoder
    can be passed as ``encoder=`` to :class:`ecgsk.ECGEmbedder`, :class:`ecgsk.ECGClassifier`
    and :class:`ecgsk.ECGRegressor`. The pretraining-only modules (quantizer, projections) are
    not part of it: :meth:`ecgsk.ECGPretrainer.from_deepecg` keeps them.

    Parameters
    ----------
    path : str or path
        A local ``.pt`` file.
    n_times : int, default=2500
        Samples per lead the encoder is built for (10 s at 250 Hz); any length of at least
        one token works at inference.
    trust_checkpoint : bool, default=False
        Unpickle a file holding Python objects other than plain data; only for a file you
        trust (see :func:`read_fairseq_checkpoint`).
    **kwargs
        Other ``ECGTransformer`` arguments (dropouts).

    Returns
    -------
    ECGTransformer
        The ``"deepecg-ssl"`` network (sizes from the file), in evaluation mode, with a
        placeholder one-output head (fine-tuning replaces it). The positional convolution
        stays weight-normalised when the file stores it so (``weight_g``/``weight_v``).

    Raises
    ------
    ValueError
        If the file is a fine-tuned classifier (the message says to use
        ``ECGClassifier.from_deepecg``), a TorchScript archive, not a checkpoint, or its keys
        or shapes do not match the architecture (the first offending keys are listed).

    Examples
    --------
    Build a tiny pretraining checkpoint with the release's key names, in half precision:

    >>> import tempfile, torch
    >>> from ecgsk.nn import build_model
    >>> from ecgsk.released import load_deepecg_ssl_encoder
    >>> ref = build_model("deepecg-ssl-tiny", n_outputs=1, pos_conv_weight_norm=False)
    >>> names = {"feature_encoder.layers.0.1": "feature_extractor.conv_layers.0.2",
    ...          "feature_norm": "layer_norm", "encoder_norm": "encoder.layer_norm",
    ...          "mask_embedding": "mask_emb", "pos_conv.conv": "conv_pos.pos_conv.0"}
    >>> state = {}
    >>> for key, value in ref.state_dict().items():
    ...     if key.startswith("head."):
    ...         continue
    ...     for ours, theirs in names.items():
    ...         key = key.replace(ours, theirs)
    ...     key = key.replace("feature_encoder.layers.", "feature_extractor.conv_layers.")
    ...     if key.startswith("layers."):
    ...         key = "encoder." + key.replace("norm1", "self_attn_layer_norm").replace(
    ...             "norm2", "final_layer_norm").replace("attn.out", "self_attn.out_proj")
    ...         if ".attn.qkv." in key:
    ...             for name, part in zip("qkv", value.chunk(3)):
    ...                 state[key.replace("attn.qkv", f"self_attn.{name}_proj")] = part.half()
    ...             continue
    ...     state[key] = value.half()
    >>> path = tempfile.mktemp(suffix=".pt")
    >>> torch.save({"model": state, "cfg": {"model": {
    ...     "_name": "wav2vec2_cmsc", "conv_feature_layers": "[(32, 2, 2)] * 4",
    ...     "encoder_attention_heads": 4}}}, path)
    >>> encoder = load_deepecg_ssl_encoder(path)
    >>> encoder.n_features, len(encoder.layers)
    (64, 2)
    >>> torch.equal(encoder.mask_embedding, ref.mask_embedding.half().float())
    True
    """
    trust_checkpoint = _check_trust(trust_checkpoint)
    from ..nn import build_model

    ckpt = read_fairseq_checkpoint(Path(path).expanduser(), trust_checkpoint=trust_checkpoint)
    enc = pretrained_encoder_prefix(ckpt)
    arch = encoder_arch_config(ckpt, enc)
    module_kwargs = {**_module_kwargs(arch), **kwargs}
    encoder = build_model("deepecg-ssl", n_leads=arch["n_leads"], n_times=n_times, n_outputs=1,
                          **module_kwargs)
    state, used, missing, shapes = map_encoder_state(ckpt["model"], enc, None, encoder)
    ignored = tuple(enc + p for p in PRETRAINING_ONLY)
    unexpected = sorted(k for k in set(ckpt["model"]) - used if not k.startswith(ignored))
    raise_mismatch(unexpected, missing, shapes)
    encoder.load_state_dict(state)
    return encoder.eval()


def convert_pretraining_state_dict(ckpt: Mapping, pretext: torch.nn.Module) -> dict[str, Tensor]:
    """Map a pretraining checkpoint onto an :class:`ecgsk.ssl.SSLPretextModel`'s state dict.

    Parameters
    ----------
    ckpt : mapping
        A pretraining checkpoint from :func:`read_fairseq_checkpoint`.
    pretext : SSLPretextModel
        Built with the sizes of :func:`pretraining_config`.

    Returns
    -------
    dict of str to Tensor
        Every key of ``pretext.state_dict()``: the file's tensors as float32 (``encoder.*``,
        and with the ``"wav2vec2"`` objective ``quantizer.*``, ``target_proj.*``,
        ``context_proj.*``); the placeholder head and the quantizer's temperature keep
        ``pretext``'s values.

    Raises
    ------
    ValueError
        Listing unexpected, missing or misshapen keys, or naming objective modules ecgsk's
        objective does not have.

    Examples
    --------
    >>> pretext = ECGPretrainer.from_deepecg("deepecg_ssl_pretrained.pt").module_  # doctest: +SKIP
    """
    config = pretraining_config(ckpt)
    if config["prefix"] != "":
        raise ValueError(f"the encoder has the prefix {config['prefix']!r}, so this is no "
                         f"pretraining checkpoint: {_EXPECTED}")
    sd = ckpt["model"]
    target = pretext.state_dict()
    out = {k: v.clone() for k, v in target.items()}
    encoder_state, used, missing, shapes = map_encoder_state(sd, "", None, pretext.encoder)
    out.update({f"encoder.{k}": v for k, v in encoder_state.items()})
    objective = ("quantizer.", "project_q.", "final_proj.")
    if hasattr(pretext, "quantizer"):
        if config["unsupported"]:
            raise ValueError(
                f"the checkpoint's objective has {config['unsupported']}, which ecgsk's "
                "wav2vec 2.0 objective does not have; load the encoder alone with "
                "load_deepecg_ssl_encoder"
            )
        if config["quantizer"] is None:
            raise ValueError(
                "the checkpoint has no quantizer (quantize_targets=False): ecgsk's wav2vec 2.0 "
                "objective quantizes its targets; pretrain with objectives=('cmsc',) or load "
                "the encoder alone with load_deepecg_ssl_encoder"
            )
        pairs = {
            "quantizer.to_logits.weight": "quantizer.weight_proj.weight",
            "quantizer.to_logits.bias": "quantizer.weight_proj.bias",
            "target_proj.weight": "project_q.weight", "target_proj.bias": "project_q.bias",
            "context_proj.weight": "final_proj.weight", "context_proj.bias": "final_proj.bias",
        }
        codebooks = target["quantizer.codebooks"]
        if "quantizer.vars" in sd and sd["quantizer.vars"].numel() == codebooks.numel():
            out["quantizer.codebooks"] = sd["quantizer.vars"].reshape(codebooks.shape).float()
            used.add("quantizer.vars")
        else:
            shapes.append(f"quantizer.vars -> quantizer.codebooks {tuple(codebooks.shape)}")
        for dst, src in pairs.items():
            if src not in sd:
                missing.append(src)
            elif tuple(sd[src].shape) != tuple(target[dst].shape):
                shapes.append(f"{src} {tuple(sd[src].shape)} -> {dst} expects "
                              f"{tuple(target[dst].shape)}")
            else:
                out[dst] = sd[src].detach().float().clone()
                used.add(src)
    else:  # CMSC alone: the wav2vec 2.0 modules have nowhere to go
        used |= {k for k in sd if k.startswith(objective + UNSUPPORTED_OBJECTIVE)}
    raise_mismatch(sorted(set(sd) - used), missing, shapes)
    return out


def load_deepecg_pretrainer(cls, path, *, trust_checkpoint=False, **params):
    """A fitted ``cls`` (``ECGPretrainer``) holding a released pretraining checkpoint.

    See :meth:`ecgsk.ECGPretrainer.from_deepecg`, which calls it and documents the
    parameters.

    Examples
    --------
    A tiny pretraining checkpoint with the release's key names (the encoder's as in
    :func:`load_deepecg_ssl_encoder`'s example, then the objective's):

    >>> import tempfile, torch
    >>> from ecgsk import ECGPretrainer
    >>> from ecgsk.nn import build_model
    >>> ref = build_model("deepecg-ssl-tiny", n_outputs=1, pos_conv_weight_norm=False)
    >>> names = {"feature_encoder.layers.0.1": "feature_extractor.conv_layers.0.2",
    ...          "feature_norm": "layer_norm", "encoder_norm": "encoder.layer_norm",
    ...          "mask_embedding": "mask_emb", "pos_conv.conv": "conv_pos.pos_conv.0",
    ...          "feature_encoder.layers.": "feature_extractor.conv_layers.",
    ...          "norm1": "self_attn_layer_norm", "norm2": "final_layer_norm",
    ...          "attn.out": "self_attn.out_proj"}
    >>> state = {}
    >>> for key, value in ref.state_dict().items():
    ...     for ours, theirs in names.items():
    ...         key = key.replace(ours, theirs)
    ...     key = "encoder." + key if key.startswith("layers.") else key
    ...     parts = zip("qkv", value.chunk(3)) if ".attn.qkv." in key else [("", value)]
    ...     for name, part in parts:
    ...         state[key.replace("attn.qkv", f"self_attn.{name}_proj")] = part.half()
    >>> del state["head.linear.weight"], state["head.linear.bias"]
    >>> state.update({"quantizer.vars": torch.rand(1, 2 * 8, 8).half(),  # 2 groups of 8
    ...               "quantizer.weight_proj.weight": torch.randn(16, 32).half(),
    ...               "quantizer.weight_proj.bias": torch.zeros(16).half(),
    ...               "project_q.weight": torch.randn(16, 16).half(),
    ...               "project_q.bias": torch.zeros(16).half(),
    ...               "final_proj.weight": torch.randn(16, 64).half(),
    ...               "final_proj.bias": torch.zeros(16).half()})
    >>> path = tempfile.mktemp(suffix=".pt")
    >>> torch.save({"model": state, "optimizer_history": [{"num_updates": 1000}],
    ...             "cfg": {"model": {"_name": "wav2vec2_cmsc", "latent_groups": 2,
    ...                               "conv_feature_layers": "[(32, 2, 2)] * 4",
    ...                               "encoder_attention_heads": 4}}}, path)
    >>> pre = load_deepecg_pretrainer(ECGPretrainer, path, device="cpu", max_epochs=1)
    >>> tuple(pre.module_.quantizer.codebooks.shape), pre.encoder_.n_features
    ((2, 8, 8), 64)
    >>> torch.equal(pre.module_.context_proj.weight, state["final_proj.weight"].float())
    True
    """
    trust_checkpoint = _check_trust(trust_checkpoint)
    path = Path(path).expanduser().resolve()
    ckpt = read_fairseq_checkpoint(path, trust_checkpoint=trust_checkpoint)
    config = pretraining_config(ckpt)
    if config["prefix"] != "":
        raise ValueError(f"{path}: the encoder's keys start with {config['prefix']!r}, so this "
                         f"is no pretraining checkpoint; {_EXPECTED}")
    arch = config["encoder"]
    module_kwargs = {f"module__{k}": v for k, v in _module_kwargs(arch).items()}
    params = {**module_kwargs, **params}
    pretext = dict(params.pop("pretext_options", None) or {})
    if config["quantizer"] is not None:
        fixed = {k: pretext[k] for k, v in config["quantizer"].items()
                 if k in pretext and pretext[k] != v}
        if fixed:
            raise ValueError(f"pretext_options {fixed} differ from the checkpoint's quantizer "
                             f"{config['quantizer']}")
        pretext.update(config["quantizer"])
    params.setdefault("warm_start", True)  # fit continues pretraining
    est = cls("deepecg-ssl", pretext_options=pretext, **params)
    est._check_params()
    est.n_leads_, est.n_outputs_ = arch["n_leads"], 1
    est.segment_length_ = int(round(est.segment_seconds * est.sfreq))
    est.n_segments_ = RELEASE_N_TIMES // est.segment_length_
    if est.n_segments_ < 2:
        raise ValueError(
            f"segment_seconds={est.segment_seconds:g} at sfreq={est.sfreq:g} does not cut the "
            f"release's {RELEASE_N_TIMES}-sample ECGs into two segments"
        )
    est.n_times_ = RELEASE_N_TIMES
    est.initialize()
    module = est._bare_module()
    module.load_state_dict(convert_pretraining_state_dict(ckpt, module))
    start, floor, decay = config["latent_temp"]
    if hasattr(module, "quantizer"):
        quantizer = module.quantizer
        quantizer.max_temperature, quantizer.min_temperature, quantizer.decay = start, floor, decay
        updates = config["num_updates"] or 0
        quantizer.current_temperature.fill_(max(start * decay**updates, floor))
    module.eval()
    est.n_epochs_ = est.best_epoch_ = 0
    est.release_ = {"kind": "ssl-pretrained", "path": str(path),
                    "num_updates": config["num_updates"], "latent_temp": list(config["latent_temp"]),
                    "config": {k: v for k, v in arch.items() if k != "conv_layers"}
                    | {"conv_layers": [list(c) for c in arch["conv_layers"]]}}
    return est
