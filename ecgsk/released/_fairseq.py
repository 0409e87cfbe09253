"""Read fairseq-signals checkpoints (DeepECG-SSL) into the ``"deepecg-ssl"`` ECG transformer.

DeepECG-SSL is released as a fairseq-signals checkpoint: a file written by ``torch.save`` holding
a dict with ``"model"`` (the state dict of the fine-tuned ``ecg_transformer_classifier``, a
wav2vec 2.0 + CMSC + random-lead-masking encoder with a linear head ``proj``) and ``"cfg"`` (the
training configuration; ``"args"`` in older files). This module maps that state dict onto
:class:`~ecgsk.nn.transformer.ECGTransformer` without fairseq, omegaconf or hydra:

==============================================================  =================================
fairseq-signals key (after the encoder prefix)                  ecgsk ``ECGTransformer`` key
==============================================================  =================================
``feature_extractor.conv_layers.{i}.0.weight``                  ``feature_encoder.layers.{i}.0.*``
``feature_extractor.conv_layers.0.2.{weight,bias}`` (GroupNorm)  ``feature_encoder.layers.0.1.*``
``layer_norm.*``                                                ``feature_norm.*``
``post_extract_proj.*``                                         ``post_extract_proj.*``
``mask_emb``                                                    ``mask_embedding``
``conv_pos.pos_conv.0.*`` or ``encoder.pos_conv.0.*``           ``pos_conv.conv.*``
``encoder.layers.{i}.self_attn.{q,k,v}_proj.*``                 ``layers.{i}.attn.qkv.*`` (q;k;v)
``encoder.layers.{i}.self_attn.out_proj.*``                     ``layers.{i}.attn.out.*``
``encoder.layers.{i}.self_attn_layer_norm.*``                   ``layers.{i}.norm1.*``
``encoder.layers.{i}.{fc1,fc2}.*``                              ``layers.{i}.{fc1,fc2}.*``
``encoder.layers.{i}.final_layer_norm.*``                       ``layers.{i}.norm2.*``
``encoder.layer_norm.*``                                        ``encoder_norm.*``
``proj.*`` (the classification head)                            ``head.linear.*``
==============================================================  =================================

The encoder prefix is ``encoder.`` (fairseq-signals) or ``w2v_encoder.w2v_model.`` (fairseq's
wav2vec 2.0 fine-tuning layout, whose head is ``w2v_encoder.proj``). The positional convolution
is weight-normalised in fairseq-signals, stored either as ``weight_g``/``weight_v`` (old
``torch.nn.utils.weight_norm``) or ``parametrizations.weight.original0``/``original1``; both
become ``pos_conv_weight_norm=True``. The pretraining-only modules (``quantizer``,
``project_q``, ``final_proj``, ``target_glu``, ``input_quantizer``, ``project_inp``) are
ignored. The released *pretrained* encoder, whose keys have no prefix (top-level
``feature_extractor.*``, ``encoder.layers.*``, ``quantizer.*``), is read by
:mod:`ecgsk.released._pretrained` with the same mapping (:func:`map_encoder_state`). Sizes are read from the tensors (width, FFN width, layers, positional kernel and
groups, outputs); the number of attention heads, the layer-norm placement and the conv strides,
which tensors do not record, from the checkpoint's configuration.

Checkpoints are unpickled with ``torch.load(weights_only=True)`` and an allow-list of the
plain-data types fairseq files contain (:func:`safe_checkpoint_globals`); any other pickled
object is refused unless the caller passes ``trust_checkpoint=True`` for a file it trusts.

fairseq-signals pools the transformer output by averaging each feature over its non-zero time
steps; ``ECGTransformer``'s mean pooling averages over all steps, which is the same unless a
feature is exactly 0.0 at some step.
"""

from __future__ import annotations

import argparse
import ast
import numbers
import pickle
import re
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import Tensor

from ..nn import build_model
from ._torchscript import is_torchscript_archive

#: Encoder prefixes of the state-dict keys, in the order they are tried.
ENCODER_PREFIXES: tuple[str, ...] = ("encoder.", "w2v_encoder.w2v_model.")
#: Head prefixes matching :data:`ENCODER_PREFIXES`.
HEAD_PREFIXES: tuple[str, ...] = ("proj.", "w2v_encoder.proj.")
#: Encoder submodules used only by self-supervised pretraining (their weights are ignored).
PRETRAINING_ONLY: tuple[str, ...] = (
    "quantizer.", "project_q.", "final_proj.", "target_glu.", "input_quantizer.", "project_inp.",
)
#: Where the positional convolution lives: new fairseq-signals, then older releases.
_POS_CONV_PREFIXES: tuple[str, ...] = ("conv_pos.pos_conv.0.", "encoder.pos_conv.0.")
_DEFAULT_CONV_LAYERS = "[(256, 2, 2)] * 4"
_SHOWN = 5


class FairseqCheckpoint(dict):
    """A loaded fairseq checkpoint: the ``torch.load`` dict, with typed accessors.

    Attributes
    ----------
    path : pathlib.Path
        The file it was read from.

    Examples
    --------
    >>> import torch
    >>> ckpt = FairseqCheckpoint({"model": {"proj.bias": torch.zeros(2)}, "cfg": {}})
    >>> list(ckpt.state_dict)
    ['proj.bias']
    """

    path: Path

    @property
    def state_dict(self) -> dict[str, Tensor]:
        """The model's state dict (``self["model"]``)."""
        return self["model"]


def _numpy_globals() -> list:
    """numpy's scalar, dtype and array reconstructors, under numpy 1 and numpy 2 module names."""
    import numpy as np

    try:
        from numpy._core import multiarray
    except ImportError:  # numpy < 2
        from numpy.core import multiarray
    allowed: list = [np.dtype, np.ndarray]
    # the dtype classes of plain numbers and strings (the object dtype stays refused)
    allowed += sorted({type(np.dtype(code)) for code in "?bhilqpBHILQPefdgFDGUS"}, key=str)
    version = tuple(int(part) for part in re.findall(r"\d+", torch.__version__)[:2])
    if version < (2, 6):  # no (function, "module.name") entries: the installed numpy's names
        return [*allowed, multiarray.scalar, multiarray._reconstruct]
    for module in ("numpy.core.multiarray", "numpy._core.multiarray"):
        allowed += [(multiarray.scalar, f"{module}.scalar"),
                    (multiarray._reconstruct, f"{module}._reconstruct")]
    return allowed


def safe_checkpoint_globals() -> list:
    """Python types a fairseq checkpoint may pickle that are plain data, loadable without trust.

    ``torch.load(weights_only=True)`` rebuilds tensors, containers and numbers only; fairseq
    files also pickle an ``argparse.Namespace`` (``args`` of files written before fairseq's
    hydra configuration) and numpy scalars (validation losses in ``extra_state``). Rebuilding
    these sets attributes and copies bytes, and runs no code from the file. omegaconf
    containers are not listed: fairseq-signals stores ``cfg`` as plain dicts, and an omegaconf
    object restores references to arbitrary classes.

    Returns
    -------
    list
        Entries for ``torch.serialization.safe_globals``: classes and functions, or
        ``(function, "module.name")`` pairs for names numpy 1 wrote.

    Examples
    --------
    >>> import argparse
    >>> argparse.Namespace in safe_checkpoint_globals()
    True
    """
    return [argparse.Namespace, *_numpy_globals()]


def _refused_object(exc: pickle.UnpicklingError) -> str | None:
    """What torch's tensors-only unpickler refused, or None if ``exc`` is another failure."""
    message = str(exc)
    if "weights only load failed" not in message.lower():
        return None
    name = re.search(r"GLOBAL ([\w.]+)", message)
    if name is not None:
        return f"it references {name.group(1)}"
    detail = re.search(r"WeightsUnpickler error: ([^\n]*)", message)
    return detail.group(1).strip() if detail else "torch's weights_only check failed"


def _untrusted_message(path: Path, refused: str) -> str:
    return (
        f"{path} holds pickled Python objects that a tensors-only load refuses ({refused}). "
        "Unpickling them runs code stored in the file, so ecgsk does not do it by default. "
        "Only if you trust where this file comes from, pass trust_checkpoint=True to load it "
        "with torch.load(weights_only=False)."
    )


def _torch_load(path: Path, trust_checkpoint: bool = False):
    """``torch.load`` on the CPU: tensors and plain data only, unless the file is trusted."""
    try:
        if trust_checkpoint:
            return torch.load(path, map_location="cpu", weights_only=False)
        safe_globals = getattr(torch.serialization, "safe_globals", None)
        if safe_globals is None:  # torch < 2.5: tensors and builtins only
            return torch.load(path, map_location="cpu", weights_only=True)
        with safe_globals(safe_checkpoint_globals()):
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        refused = None if trust_checkpoint else _refused_object(exc)
        if refused is not None:
            raise ValueError(_untrusted_message(path, refused)) from None
        raise ValueError(f"{path} is not a PyTorch checkpoint file: {exc}") from exc
    except ModuleNotFoundError as exc:
        raise ImportError(
            f"{path} stores objects of the module {exc.name!r}; install it to read the file"
        ) from exc
    except Exception as exc:
        raise ValueError(f"{path} is not a PyTorch checkpoint file: {exc}") from exc


def _check_trust(trust_checkpoint) -> bool:
    if not isinstance(trust_checkpoint, bool):
        raise TypeError(
            f"trust_checkpoint must be True or False, got {type(trust_checkpoint).__name__}"
        )
    return trust_checkpoint


def read_fairseq_checkpoint(path, *, trust_checkpoint: bool = False) -> FairseqCheckpoint:
    """Read a fairseq(-signals) checkpoint file on the CPU and check its structure.

    The file is read with ``torch.load(weights_only=True)``, which rebuilds tensors and plain
    values only, with the plain-data types fairseq files pickle allowed as well
    (:func:`safe_checkpoint_globals`: ``argparse.Namespace``, numpy scalars and arrays). A file
    holding any other Python object (an omegaconf container, a class of some library, or a
    payload) is refused: unpickling it would run code stored in the file. Pass
    ``trust_checkpoint=True`` to unpickle it fully, and only for a file you trust.

    Parameters
    ----------
    path : str or path
        A local checkpoint file (nothing is downloaded).
    trust_checkpoint : bool, default=False
        Load with ``torch.load(weights_only=False)``, which executes whatever the file's
        pickles call. Only for files from a source you trust.

    Returns
    -------
    FairseqCheckpoint
        The checkpoint dict, with at least ``"model"`` (a state dict of tensors) and a
        configuration under ``"cfg"`` or ``"args"``.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is a TorchScript archive, is not a ``torch.save`` file, holds Python
        objects other than plain data while ``trust_checkpoint`` is False (the message says
        which), or does not hold a fairseq checkpoint dict.
    TypeError
        If ``trust_checkpoint`` is not a bool.

    Examples
    --------
    >>> import tempfile, torch
    >>> path = tempfile.mktemp(suffix=".pt")
    >>> torch.save({"model": {"proj.weight": torch.zeros(3, 4)},
    ...             "cfg": {"model": {"encoder_attention_heads": 2}}}, path)
    >>> ckpt = read_fairseq_checkpoint(path)
    >>> list(ckpt.state_dict)
    ['proj.weight']
    """
    trust_checkpoint = _check_trust(trust_checkpoint)
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint file {str(path)!r} does not exist")
    if is_torchscript_archive(path):
        raise ValueError(
            f"{path} is a TorchScript archive (DeepECG-SL style), not a fairseq checkpoint"
        )
    state = _torch_load(path, trust_checkpoint)
    if not isinstance(state, Mapping) or not isinstance(state.get("model"), Mapping):
        found = f"a {type(state).__name__}"
        if isinstance(state, Mapping):
            found += f" with keys {sorted(map(str, state))[:_SHOWN]}"
        raise ValueError(
            f"{path} is not a fairseq checkpoint: expected a dict with a 'model' state dict, "
            f"got {found}"
        )
    bad = [k for k, v in state["model"].items() if not isinstance(v, Tensor)]
    if bad:
        raise ValueError(f"{path}: the 'model' state dict holds non-tensor entries {bad[:_SHOWN]}")
    if _get(state, "cfg") is None and _get(state, "args") is None:
        raise ValueError(
            f"{path} is not a fairseq checkpoint: it has no 'cfg' (or 'args') configuration"
        )
    ckpt = FairseqCheckpoint(state)
    ckpt.path = path
    return ckpt


# ---------------------------------------------------------------- configuration
def _get(container, key, default=None):
    """``container[key]`` for dicts and omegaconf containers, ``container.key`` for namespaces."""
    if container is None:
        return default
    if isinstance(container, argparse.Namespace):
        return getattr(container, key, default)
    try:
        if key in container:
            return container[key]
    except TypeError:
        pass
    return getattr(container, key, default)


def _encoder_config(ckpt: Mapping):
    """The configuration the encoder was built from (the pretraining one when recorded)."""
    args = _get(ckpt, "args")
    if args is not None and _get(ckpt, "cfg") is None:
        return args
    model_cfg = _get(_get(ckpt, "cfg"), "model")
    for nested in ("w2v_args", "args"):
        inner = _get(_get(model_cfg, nested), "model")
        if inner is not None:
            return inner
    return model_cfg


def parse_conv_layers(spec) -> tuple[tuple[int, int, int], ...]:
    """Parse fairseq's ``conv_feature_layers`` string (a Python list expression) safely.

    Only list/tuple literals of integers combined with ``+`` and ``*`` are accepted.

    Examples
    --------
    >>> parse_conv_layers("[(256, 2, 2)] * 2 + [(128, 3, 1)]")
    ((256, 2, 2), (256, 2, 2), (128, 3, 1))
    """
    if not isinstance(spec, str):
        layers = spec
    else:
        try:
            tree = ast.parse(spec, mode="eval").body
        except SyntaxError:
            raise ValueError(f"conv_feature_layers {spec!r} is not a list expression") from None
        layers = _literal(tree, spec)
    try:
        parsed = tuple(tuple(int(v) for v in layer) for layer in layers)
    except (TypeError, ValueError):
        raise ValueError(
            f"conv_feature_layers {spec!r} is not a list of (dim, kernel, stride)"
        ) from None
    if not parsed or any(len(layer) != 3 for layer in parsed):
        raise ValueError(f"conv_feature_layers {spec!r} is not a list of (dim, kernel, stride)")
    return parsed


def _literal(node, spec):
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return node.value
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_literal(e, spec) for e in node.elts]
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mult)):
        left, right = _literal(node.left, spec), _literal(node.right, spec)
        if isinstance(node.op, ast.Add) and isinstance(left, list) and isinstance(right, list):
            return left + right
        if isinstance(node.op, ast.Mult) and isinstance(left, list) and isinstance(right, int):
            return left * right
    raise ValueError(f"conv_feature_layers {spec!r} uses an unsupported expression")


# ---------------------------------------------------------------- state-dict mapping
def _find_prefix(keys, candidates, probe: str, what: str) -> str:
    for prefix in candidates:
        if prefix + probe in keys:
            return prefix
    shown = sorted(keys)[:_SHOWN]
    raise ValueError(
        f"not a DeepECG-SSL (fairseq-signals wav2vec 2.0) checkpoint: no {what} "
        f"({' or '.join(p + probe for p in candidates)}); first keys: {shown}"
    )


def _layer_count(keys, pattern: str) -> int:
    found = {int(m.group(1)) for k in keys if (m := re.match(pattern, k))}
    if not found:
        return 0
    if found != set(range(max(found) + 1)):
        missing = sorted(set(range(max(found) + 1)) - found)
        raise ValueError(f"the checkpoint lacks layers {missing[:_SHOWN]} ({pattern})")
    return max(found) + 1


def _cfg_int(cfg, key, default, what) -> int:
    value = _get(cfg, key, default)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"the checkpoint's {what} ({key}) must be an integer, got {value!r}")
    return int(value)


def ssl_model_config(ckpt: Mapping) -> dict:
    """``ECGTransformer`` keyword arguments describing the checkpoint's architecture.

    Parameters
    ----------
    ckpt : mapping
        A checkpoint from :func:`read_fairseq_checkpoint`.

    Returns
    -------
    dict
        ``n_leads``, ``n_outputs`` and the ``ECGTransformer`` keyword arguments
        (``conv_layers``, ``embed_dim``, ``n_layers``, ``n_heads``, ``ffn_dim``,
        ``pos_conv_kernel``, ``pos_conv_groups``, ``pos_conv_weight_norm``,
        ``layer_norm_first``).

    Raises
    ------
    ValueError
        If the checkpoint is not a wav2vec 2.0 / ECG-transformer classifier, uses a variant
        ``ECGTransformer`` cannot represent, or its tensors disagree with its configuration.

    Examples
    --------
    >>> ckpt = read_fairseq_checkpoint("deepecg_ssl_77.pt")  # doctest: +SKIP
    >>> ssl_model_config(ckpt)["n_heads"]  # doctest: +SKIP
    12
    """
    sd = ckpt["model"]
    keys = set(sd)
    enc = _classifier_prefix(keys)
    head = HEAD_PREFIXES[ENCODER_PREFIXES.index(enc)]
    if head + "weight" not in keys:
        raise ValueError(
            f"the checkpoint has no classification head {head}weight: it is a pretrained "
            "encoder, not a fine-tuned DeepECG-SSL classifier; load an encoder with "
            "ecgsk.released.load_deepecg_ssl_encoder(path)"
        )
    arch = encoder_arch_config(ckpt, enc)
    return {"n_leads": arch.pop("n_leads"), "n_outputs": int(sd[head + "weight"].shape[0]),
            **arch}


def _classifier_prefix(keys) -> str:
    """The encoder prefix of a fine-tuned checkpoint; a pretraining checkpoint is named as such."""
    probe = "feature_extractor.conv_layers.0.0.weight"
    if probe in keys and not any(p + probe in keys for p in ENCODER_PREFIXES):
        raise ValueError(
            "this is a DeepECG-SSL pretraining checkpoint (the released pretrained encoder: "
            "top-level feature_extractor.*, encoder.layers.*, quantizer.*), not a fine-tuned "
            "classifier (encoder.* keys with a proj.* head); load it with "
            "ecgsk.released.load_deepecg_ssl_encoder(path) or ECGPretrainer.from_deepecg(path)"
        )
    return _find_prefix(keys, ENCODER_PREFIXES, probe, "convolutional feature extractor")


def encoder_arch_config(ckpt: Mapping, enc: str) -> dict:
    """``n_leads`` and the ``ECGTransformer`` arguments of the encoder under key prefix ``enc``.

    Shared by the fine-tuned (``enc`` ``"encoder."`` or ``"w2v_encoder.w2v_model."``) and the
    pretraining layout (``enc`` ``""``): sizes from the tensors, the rest from the
    configuration.

    Examples
    --------
    >>> ckpt = read_fairseq_checkpoint("deepecg_ssl_pretrained.pt")  # doctest: +SKIP
    >>> encoder_arch_config(ckpt, "")["embed_dim"]  # doctest: +SKIP
    768
    """
    sd = ckpt["model"]
    keys = set(sd)
    cfg = _encoder_config(ckpt)
    mode = _get(cfg, "extractor_mode", "default")
    if mode != "default":
        raise ValueError(
            f"extractor_mode={mode!r} (layer norm in every conv block) is not supported; "
            "ECGTransformer has one GroupNorm after the first conv layer ('default')"
        )
    if _get(cfg, "conv_bias", False):
        raise ValueError("conv_bias=True is not supported: ECGTransformer's convs have no bias")
    conv_layers = parse_conv_layers(_get(cfg, "conv_feature_layers", _DEFAULT_CONV_LAYERS))
    conv_pattern = re.escape(enc) + r"feature_extractor\.conv_layers\.(\d+)\.0\.weight"
    n_conv = _layer_count(keys, conv_pattern)
    if n_conv != len(conv_layers):
        raise ValueError(
            f"conv_feature_layers describes {len(conv_layers)} conv layers but the checkpoint "
            f"holds {n_conv}"
        )
    n_leads = int(sd[f"{enc}feature_extractor.conv_layers.0.0.weight"].shape[1])
    c_in = n_leads
    for i, (dim, kernel, _) in enumerate(conv_layers):
        shape = tuple(sd[f"{enc}feature_extractor.conv_layers.{i}.0.weight"].shape)
        if shape != (dim, c_in, kernel):
            raise ValueError(
                f"conv layer {i} has weight shape {shape}; conv_feature_layers "
                f"{conv_layers[i]} expects {(dim, c_in, kernel)}"
            )
        c_in = dim
    n_layers = _layer_count(keys, re.escape(enc) + r"encoder\.layers\.(\d+)\.")
    if n_layers == 0:
        raise ValueError(f"the checkpoint has no transformer layers ({enc}encoder.layers.0.*)")
    fc1 = f"{enc}encoder.layers.0.fc1.weight"
    if fc1 not in keys:
        raise ValueError(f"missing key {fc1}")
    ffn_dim, embed_dim = sd[fc1].shape
    pos = next((p for p in _POS_CONV_PREFIXES if f"{enc}{p}bias" in keys), None)
    if pos is None:
        raise ValueError(
            "missing the positional convolution "
            f"({' or '.join(enc + p + 'bias' for p in _POS_CONV_PREFIXES)})"
        )
    pos_keys = {k[len(enc + pos):] for k in keys if k.startswith(enc + pos)}
    weight_norm = bool(pos_keys & {"weight_g", "parametrizations.weight.original0"})
    v_key = ("weight_v" if "weight_v" in pos_keys else "parametrizations.weight.original1"
             if weight_norm else "weight")
    if v_key not in pos_keys:
        raise ValueError(f"missing key {enc}{pos}{v_key} (positional convolution weight)")
    pos_shape = tuple(sd[f"{enc}{pos}{v_key}"].shape)
    if len(pos_shape) != 3 or pos_shape[0] != embed_dim or embed_dim % pos_shape[1]:
        raise ValueError(f"positional convolution weight has an unexpected shape {pos_shape}")
    n_heads = _cfg_int(cfg, "encoder_attention_heads", 12, "number of attention heads")
    if embed_dim % n_heads:
        raise ValueError(
            f"encoder_attention_heads={n_heads} does not divide the width {embed_dim}"
        )
    return {
        "n_leads": int(n_leads),
        "conv_layers": conv_layers,
        "embed_dim": int(embed_dim),
        "n_layers": n_layers,
        "n_heads": n_heads,
        "ffn_dim": int(ffn_dim),
        "pos_conv_kernel": int(pos_shape[2]),
        "pos_conv_groups": int(embed_dim // pos_shape[1]),
        "pos_conv_weight_norm": weight_norm,
        "layer_norm_first": bool(_get(cfg, "layer_norm_first", False)),
    }


def _key_map(enc: str, head: str | None, pos: str, n_conv: int, n_layers: int,
             pos_weights: dict[str, str], has_groupnorm: bool) -> dict[str, str | tuple[str, ...]]:
    """ecgsk key -> fairseq key (or the q, k, v keys concatenated into it)."""
    mapping: dict[str, str | tuple[str, ...]] = {}
    convs = f"{enc}feature_extractor.conv_layers"
    for i in range(n_conv):
        mapping[f"feature_encoder.layers.{i}.0.weight"] = f"{convs}.{i}.0.weight"
    if has_groupnorm:
        for p in ("weight", "bias"):
            mapping[f"feature_encoder.layers.0.1.{p}"] = f"{convs}.0.2.{p}"
    for p in ("weight", "bias"):
        mapping[f"feature_norm.{p}"] = f"{enc}layer_norm.{p}"
        mapping[f"post_extract_proj.{p}"] = f"{enc}post_extract_proj.{p}"
        mapping[f"encoder_norm.{p}"] = f"{enc}encoder.layer_norm.{p}"
        if head is not None:
            mapping[f"head.linear.{p}"] = f"{head}{p}"
    mapping["mask_embedding"] = f"{enc}mask_emb"
    mapping["pos_conv.conv.bias"] = f"{enc}{pos}bias"
    for dst, src in pos_weights.items():
        mapping[f"pos_conv.conv.{dst}"] = f"{enc}{pos}{src}"
    for i in range(n_layers):
        src, dst = f"{enc}encoder.layers.{i}.", f"layers.{i}."
        for p in ("weight", "bias"):
            mapping[f"{dst}attn.qkv.{p}"] = tuple(f"{src}self_attn.{n}_proj.{p}" for n in "qkv")
            mapping[f"{dst}attn.out.{p}"] = f"{src}self_attn.out_proj.{p}"
            mapping[f"{dst}norm1.{p}"] = f"{src}self_attn_layer_norm.{p}"
            mapping[f"{dst}fc1.{p}"] = f"{src}fc1.{p}"
            mapping[f"{dst}fc2.{p}"] = f"{src}fc2.{p}"
            mapping[f"{dst}norm2.{p}"] = f"{src}final_layer_norm.{p}"
    return mapping


_NORM_NAMES = {
    "parametrizations.weight.original0": "parametrizations.weight.original0",
    "parametrizations.weight.original1": "parametrizations.weight.original1",
}
# torch.nn.utils.weight_norm's names: g is original0, v is original1
_OLD_NORM_NAMES = {
    "parametrizations.weight.original0": "weight_g",
    "parametrizations.weight.original1": "weight_v",
}


def fold_weight_norm(g: Tensor, v: Tensor) -> Tensor:
    """The weight ``g * v / ||v||`` of a weight-normalised conv (norm over all dims but the last).

    fairseq-signals normalises the positional convolution along its kernel axis
    (``weight_norm(conv, dim=2)``), so ``g`` has shape ``(1, 1, kernel)``.

    Examples
    --------
    >>> import torch
    >>> v = torch.ones(4, 2, 3)
    >>> fold_weight_norm(torch.full((1, 1, 3), 2.0), v)[0, 0]
    tensor([0.7071, 0.7071, 0.7071])
    """
    return g * (v / v.norm(dim=tuple(range(v.dim() - 1)), keepdim=True))


def _pos_conv_weights(sd, pos: str, want_norm: bool):
    """(state dict, ecgsk -> source names, source keys consumed by a conversion) for pos conv.

    The weight is stored plain or weight-normalised (old or new names) in the checkpoint, and
    wanted plain or weight-normalised by the model: convert between the two when they differ.
    """
    if pos + "weight_g" in sd:
        names = _OLD_NORM_NAMES
    elif pos + "parametrizations.weight.original0" in sd:
        names = _NORM_NAMES
    else:
        names = None
    if want_norm == (names is not None):
        return sd, (names if want_norm else {"weight": "weight"}), set()
    sd = dict(sd)
    if names is None:  # plain weight -> g = ||w||, v = w
        if pos + "weight" not in sd:
            return sd, _NORM_NAMES, set()
        weight = sd[pos + "weight"].float()
        sd[pos + _NORM_NAMES["parametrizations.weight.original0"]] = weight.norm(
            dim=tuple(range(weight.dim() - 1)), keepdim=True)
        sd[pos + _NORM_NAMES["parametrizations.weight.original1"]] = weight
        return sd, _NORM_NAMES, {pos + "weight"}
    g_key = pos + names["parametrizations.weight.original0"]
    v_key = pos + names["parametrizations.weight.original1"]
    if v_key not in sd:
        return sd, {"weight": "weight"}, set()
    g, v = sd[g_key].float(), sd[v_key].float()
    if g.dim() != v.dim() or g.shape[-1] != v.shape[-1] or g.numel() != v.shape[-1]:
        raise ValueError(
            f"the positional convolution's weight norm has g {tuple(g.shape)} and v "
            f"{tuple(v.shape)}; expected g of shape (1, 1, kernel)"
        )
    sd[pos + "weight"] = fold_weight_norm(g, v)
    return sd, {"weight": "weight"}, {g_key, v_key}


def convert_fairseq_state_dict(ckpt: Mapping, model: torch.nn.Module) -> dict[str, Tensor]:
    """Map a DeepECG-SSL checkpoint's state dict onto ``model``'s keys, checking everything.

    Parameters
    ----------
    ckpt : mapping
        A checkpoint from :func:`read_fairseq_checkpoint`.
    model : ECGTransformer
        Built with :func:`ssl_model_config` (its state dict gives the expected keys and
        shapes).

    Returns
    -------
    dict of str to Tensor
        float32 tensors for every key of ``model.state_dict()`` (``mask_embedding`` keeps the
        model's own value when the checkpoint dropped ``mask_emb``, as fine-tuning without
        masking does; ``post_extract_proj`` becomes the identity when the checkpoint has none
        because its conv width equals its model width).

    Raises
    ------
    ValueError
        Listing the first offending keys when the checkpoint has keys the model does not
        know (other than the pretraining-only modules), lacks keys, or has tensors of the
        wrong shape.

    Examples
    --------
    >>> from ecgsk.nn import build_model  # doctest: +SKIP
    >>> ckpt = read_fairseq_checkpoint("deepecg_ssl_77.pt")  # doctest: +SKIP
    >>> cfg = ssl_model_config(ckpt)  # doctest: +SKIP
    >>> model = build_model("deepecg-ssl", n_leads=cfg.pop("n_leads"),
    ...                     n_outputs=cfg.pop("n_outputs"), **cfg)  # doctest: +SKIP
    >>> model.load_state_dict(convert_fairseq_state_dict(ckpt, model))  # doctest: +SKIP
    <All keys matched successfully>
    """
    sd = ckpt["model"]
    enc = _classifier_prefix(set(sd))
    head = HEAD_PREFIXES[ENCODER_PREFIXES.index(enc)]
    out, used, missing, shapes = map_encoder_state(sd, enc, head, model)
    ignored = tuple(enc + p for p in PRETRAINING_ONLY)
    unexpected = sorted(k for k in set(sd) - used if not k.startswith(ignored))
    raise_mismatch(unexpected, missing, shapes)
    return out


def raise_mismatch(unexpected, missing, shapes) -> None:
    """Raise one ValueError listing the first unexpected, missing and misshapen keys, if any."""
    problems = []
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected key(s): {unexpected[:_SHOWN]}")
    if missing:
        problems.append(f"{len(missing)} missing key(s): {missing[:_SHOWN]}")
    if shapes:
        problems.append(f"{len(shapes)} shape mismatch(es): {shapes[:_SHOWN]}")
    if problems:
        raise ValueError("the checkpoint does not match the DeepECG-SSL architecture: "
                         + "; ".join(problems))


def map_encoder_state(sd: Mapping, enc: str, head: str | None, model: torch.nn.Module):
    """Map the encoder tensors under key prefix ``enc`` (and the head ``head``) onto ``model``.

    Returns
    -------
    out : dict of str to Tensor
        float32 copies under ``model``'s keys (``head.linear.*`` keeps the model's own values
        when ``head`` is None).
    used : set of str
        The checkpoint keys consumed.
    missing, shapes : list of str
        Descriptions of absent keys and of shape mismatches (empty when all is well).
    """
    keys = set(sd)
    pos = next((p for p in _POS_CONV_PREFIXES if f"{enc}{p}bias" in keys), _POS_CONV_PREFIXES[0])
    target = model.state_dict()
    want_norm = "pos_conv.conv.parametrizations.weight.original0" in target
    sd, pos_weights, folded = _pos_conv_weights(sd, enc + pos, want_norm)
    keys = set(sd)
    mapping = _key_map(enc, head, pos, len(model.conv_layers), len(model.layers), pos_weights,
                       has_groupnorm=f"{enc}feature_extractor.conv_layers.0.2.weight" in keys)
    out: dict[str, Tensor] = {}
    if head is None:
        out.update({k: v.clone() for k, v in target.items() if k.startswith("head.")})
    missing: list[str] = []
    shapes: list[str] = []
    used: set[str] = set(folded)
    for dst, src in mapping.items():
        if dst not in target:
            missing.append(f"{dst} (no such parameter in the model)")
            continue
        parts = src if isinstance(src, tuple) else (src,)
        absent = [s for s in parts if s not in keys]
        if absent:
            if dst == "mask_embedding":
                out[dst] = target[dst].clone()
                continue
            if dst.startswith("post_extract_proj.") and target[dst].shape[0] == (
                target["feature_norm.weight"].shape[0]
            ):
                out[dst] = (torch.eye(target[dst].shape[0]) if dst.endswith("weight")
                            else torch.zeros(target[dst].shape[0]))
                continue
            missing.extend(absent)
            continue
        used.update(parts)
        tensor = torch.cat([sd[s] for s in parts], dim=0) if len(parts) > 1 else sd[parts[0]]
        if tuple(tensor.shape) != tuple(target[dst].shape):
            shown = " + ".join(f"{s} {tuple(sd[s].shape)}" for s in parts)
            shapes.append(f"{shown} -> {dst} expects {tuple(target[dst].shape)}")
            continue
        out[dst] = tensor.detach().to(torch.float32).clone()
    return out, used, missing, shapes


def load_fairseq_ssl(path_or_ckpt, n_times: int = 2500, weight_norm: bool = False, *,
                     trust_checkpoint: bool = False, **kwargs):
    """Build a ``"deepecg-ssl"`` :class:`~ecgsk.nn.transformer.ECGTransformer` from a checkpoint.

    Parameters
    ----------
    path_or_ckpt : str, path or mapping
        A fairseq-signals checkpoint file, or a dict from :func:`read_fairseq_checkpoint`.
    n_times : int, default=2500
        Samples per lead of the input (10 s at 250 Hz for DeepECG).
    weight_norm : bool, default=False
        Keep the positional convolution weight-normalised (``pos_conv_weight_norm=True``, as
        fairseq-signals trains it). By default its weight is folded into a plain tensor
        (:func:`fold_weight_norm`): the same function, and a module that pickles and exports
        (torch refuses to pickle parametrized modules).
    trust_checkpoint : bool, default=False
        Unpickle a file holding Python objects other than plain data (see
        :func:`read_fairseq_checkpoint`); only for a file you trust.
    **kwargs
        Other ``ECGTransformer`` arguments (dropouts; ``pooling`` must stay ``"mean"``).

    Returns
    -------
    model : ECGTransformer
        In evaluation mode, with the checkpoint's weights.
    config : dict
        The :func:`ssl_model_config` of the checkpoint (its ``pos_conv_weight_norm`` says how
        the file stores the positional convolution).

    Examples
    --------
    >>> model, config = load_fairseq_ssl("deepecg_ssl_77.pt")  # doctest: +SKIP
    >>> config["embed_dim"], config["n_layers"], config["n_outputs"]  # doctest: +SKIP
    (768, 12, 77)
    """
    trust_checkpoint = _check_trust(trust_checkpoint)
    ckpt = path_or_ckpt if isinstance(path_or_ckpt, Mapping) else read_fairseq_checkpoint(
        path_or_ckpt, trust_checkpoint=trust_checkpoint)
    config = ssl_model_config(ckpt)
    arch = {k: v for k, v in config.items() if k not in ("n_leads", "n_outputs")}
    arch["pos_conv_weight_norm"] = bool(weight_norm)
    model = build_model("deepecg-ssl", n_leads=config["n_leads"], n_times=n_times,
                        n_outputs=config["n_outputs"], **{**arch, **kwargs})
    model.load_state_dict(convert_fairseq_state_dict(ckpt, model))
    return model.eval(), config
