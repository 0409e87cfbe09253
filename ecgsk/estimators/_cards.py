"""Every ecgsk card in one place: written, read, validated and version-checked here.

Three kinds of card describe a trained network as plain JSON:

- the **model card** ``card.json`` of ``ECGClassifier.save`` / ``ECGRegressor.save``
  (format ``"ecgsk-model"``);
- the **encoder card** ``encoder.json`` of ``ECGPretrainer.save`` (``"ecgsk-encoder"``);
- the **export card** inside a file written by ``to_onnx`` / ``to_torchscript``
  (``"ecgsk-export"``; ONNX metadata, or the extra file ``ecgsk_card.json`` of the archive).

Each card starts with :func:`card_header` (format, ``format_version``, library versions,
creation time). :func:`read_card` and :func:`validate_card` check every field against the
schema of its format and version: its type, its allowed values (``task_`` is one of the known
tasks, an input shape is a positive integer, ...) and the agreements between fields (as many
classes and thresholds as the network has outputs); a problem is a ``ValueError`` naming the
field, e.g. ``card.json: fitted.task_ must be one of [...]``. A card written by a newer ecgsk
is refused with a request to upgrade.

The preprocessing is stored as data: each step's class name and its ``get_params(deep=False)``
(nested steps, such as those of a pipeline, recursively), under a ``version`` field
(:func:`preprocessing_to_data`, :func:`preprocessing_from_data`). Version-1 model cards stored
the preprocessing as its ``repr``; they still load: the text is converted to the same data
(literals only, nothing is evaluated) and rebuilt the same way, and :func:`upgrade_card`
rewrites such a card in the current format.

Trust model
-----------
A card is data, and loading one never runs code named by it:

- **Safe to load from a stranger**: a model folder (``card.json`` + ``weights.safetensors``),
  an encoder folder (``encoder.json`` + ``encoder.safetensors``) and the card of an exported
  file. A card can only name networks of :mod:`ecgsk.nn` (registry names from
  :func:`ecgsk.nn.list_models`, or the ecgsk network classes), optimisers of
  :mod:`torch.optim` by class name, and the steps of :mod:`ecgsk.preprocessing` (plus
  scikit-learn's ``Pipeline``); the names are looked up in those allow-lists, never imported
  from the text, and anything else is a ``ValueError`` naming the field. Their values are JSON
  literals passed as keyword arguments. safetensors files hold tensors only (no pickle).
- **Needs your own code**: a model trained with a network class of your own is saved with that
  class's import path for the record, but loading it requires ``load(path, module=YourClass)``
  (likewise ``optimizer=``): you name the code, the card does not.
- **Needs ``trust_checkpoint=True``**: released weights (``ECGClassifier.from_deepecg``) in a
  fairseq-signals checkpoint hold a pickle; ecgsk reads them with an allow-list of tensor and
  container types and refuses anything else unless you pass ``trust_checkpoint=True``, which
  unpickles the file with torch's full unpickler: only for a file whose origin you trust. A
  pickled or joblib-dumped estimator is always code: load it only from a trusted source.
- A card whose network is the released DeepECG-SL TorchScript wrapper names the absolute path of
  that TorchScript archive on this machine; it is loaded as ``from_deepecg`` loads it.

Examples
--------
>>> from ecgsk.preprocessing import make_deepecg_preprocessing
>>> data = preprocessing_to_data(make_deepecg_preprocessing(500))
>>> data["version"], data["step"]["class"]
(1, 'ECGPipeline')
>>> pipe = preprocessing_from_data(data)
>>> [name for name, _ in pipe.steps][:3], pipe.named_steps["resample"].sfreq_in
(['leads', 'bandpass', 'notch'], 500.0)
"""

from __future__ import annotations

import ast
import datetime
import json
import math
import numbers
import zipfile
from pathlib import Path

import numpy as np

from .._version import __version__

MODEL_FORMAT = "ecgsk-model"
MODEL_VERSION = 2  # 2: preprocessing stored as data; 1: as its repr
ENCODER_FORMAT = "ecgsk-encoder"
ENCODER_VERSION = 1
EXPORT_FORMAT = "ecgsk-export"
EXPORT_VERSION = 1
PREPROCESSING_VERSION = 1

MODEL_CARD = "card.json"
ENCODER_CARD = "encoder.json"
TORCHSCRIPT_CARD_FILE = "ecgsk_card.json"

SUPPORTED = {MODEL_FORMAT: (1, 2), ENCODER_FORMAT: (1,), EXPORT_FORMAT: (1,)}
CLASSIFIER_TASKS = ("binary", "multiclass", "multilabel")
TASKS = (*CLASSIFIER_TASKS, "regression")
EXPORT_TASKS = (*TASKS, "embedding")
EXPORT_ESTIMATORS = ("ECGClassifier", "ECGRegressor", "ECGPretrainer", "ECGEmbedder")
EXPORT_OUTPUTS = ("predict_proba", "decision_function", "predict", "transform")

# estimator parameters a model card may set (plain values only); the rest take their defaults
CARD_PARAMS = (
    "loss",
    "pos_weight",
    "threshold",
    "lr",
    "batch_size",
    "max_epochs",
    "weight_decay",
    "random_state",
    "patience",
    "lr_schedule",
    "grad_clip",
    "max_time",
    "amp",
    "num_workers",
)
# fitted attributes a model card restores
CARD_FITTED = ("task_", "n_leads_", "n_times_", "n_outputs_", "y_ndim_", "n_epochs_",
               "best_epoch_")


# ----------------------------------------------------------------------------- header
def card_header(fmt: str, version: int) -> dict:
    """The first fields of every ecgsk card: format, versions and creation time (UTC).

    Examples
    --------
    >>> header = card_header("ecgsk-model", 2)
    >>> header["format"], header["format_version"], sorted(header)[:2]
    ('ecgsk-model', 2, ['created', 'ecgsk_version'])
    """
    import torch

    return {
        "format": fmt,
        "format_version": version,
        "ecgsk_version": __version__,
        "torch_version": torch.__version__,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


# ----------------------------------------------------------------------------- allow-lists
def allowed_networks() -> dict[str, type]:
    """The network classes a card may name, by class name: the ecgsk networks only."""
    from .. import nn as ecg_nn
    from ..nn import ECGModule
    from ..released import ReleasedTorchScript

    classes = {ReleasedTorchScript.__name__: ReleasedTorchScript}
    for name in ecg_nn.__all__:
        obj = getattr(ecg_nn, name)
        if isinstance(obj, type) and issubclass(obj, ECGModule) and obj is not ECGModule:
            classes[obj.__name__] = obj
    return classes


def allowed_optimizers() -> dict[str, type]:
    """The optimiser classes a card may name: those of :mod:`torch.optim`, by class name."""
    import torch

    return {
        name: obj for name, obj in vars(torch.optim).items()
        if isinstance(obj, type) and issubclass(obj, torch.optim.Optimizer)
        and obj is not torch.optim.Optimizer
    }


def allowed_steps() -> dict[str, type]:
    """The preprocessing classes a card may name: ecgsk's steps and scikit-learn's Pipeline."""
    from sklearn.base import BaseEstimator
    from sklearn.pipeline import Pipeline

    from .. import preprocessing as pre

    classes = {"Pipeline": Pipeline}
    for name in pre.__all__:
        obj = getattr(pre, name)
        if isinstance(obj, type) and issubclass(obj, BaseEstimator):
            classes[obj.__name__] = obj
    return classes


def _legacy_name(path: str, allowed: dict, where: str, what: str, prefix: str) -> str:
    """The class name in a ``module:qualname`` path written by ecgsk 0.1 cards.

    The path is only compared with the allow-list (its module must lie under ``prefix``, its
    name must be allow-listed): nothing is imported from it.
    """
    module, _, qualname = path.partition(":")
    if not (module == prefix or module.startswith(prefix + ".")) or qualname not in allowed:
        raise ValueError(f"{where} names {path!r}, which is not {what}")
    return qualname


def resolve_network(ref: dict, where: str = "module"):
    """The registry name (str) or allow-listed class a card's ``module`` entry names.

    Examples
    --------
    >>> resolve_network({"registry": "xresnet1d50-tiny"})
    'xresnet1d50-tiny'
    >>> resolve_network({"class": "XResNet1d"}).__name__
    'XResNet1d'
    >>> resolve_network({"class": "subprocess:Popen"})
    Traceback (most recent call last):
    ...
    ValueError: module.class names 'subprocess:Popen', which is not an ecgsk network; ...
    """
    from ..nn import list_models

    if "registry" in ref:
        name = ref["registry"]
        if name not in list_models():
            raise ValueError(
                f"{where}.registry names {name!r}, which is not a registered ecgsk network "
                f"(ecgsk.nn.list_models())"
            )
        return name
    allowed = allowed_networks()
    name = ref["class"]
    hint = "load a network of your own with load(path, module=YourClass)"
    if ":" in name:
        name = _legacy_name(name, allowed, f"{where}.class", f"an ecgsk network; {hint}", "ecgsk")
    if name not in allowed:
        raise ValueError(
            f"{where}.class names {name!r}, which is not an ecgsk network (one of "
            f"{sorted(allowed)}); load a network of your own with load(path, module=YourClass)"
        )
    return allowed[name]


def resolve_optimizer(name: str, where: str = "optimizer"):
    """The :mod:`torch.optim` class a card names (``"AdamW"``, or ``"torch.optim.adamw:AdamW"``).

    Examples
    --------
    >>> resolve_optimizer("torch.optim.adamw:AdamW").__name__
    'AdamW'
    """
    allowed = allowed_optimizers()
    if ":" in name:
        name = _legacy_name(name, allowed, where, "a torch.optim optimiser; load with "
                            "load(path, optimizer=YourOptimizer) to use your own", "torch.optim")
    if name not in allowed:
        raise ValueError(
            f"{where} names {name!r}, which is not a torch.optim optimiser (one of "
            f"{sorted(allowed)}); load with load(path, optimizer=YourOptimizer) to use your own"
        )
    return allowed[name]


# ----------------------------------------------------------------------------- JSON values
def plain(value):
    """``value`` as JSON can hold it exactly; ``TypeError`` if it cannot.

    Examples
    --------
    >>> plain((1, 2.5, [True, None]))
    [1, 2.5, [True, None]]
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return value.tolist()
    raise TypeError(f"{type(value).__name__} cannot be stored in a JSON card")


def _is_json_literal(value) -> bool:
    if value is None or isinstance(value, (bool, str, int, float)):
        return True
    if isinstance(value, list):
        return all(_is_json_literal(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_json_literal(v) for k, v in value.items())
    return False


# ----------------------------------------------------------------------------- preprocessing
_TAGS = ("step", "tuple", "dict", "float", "array")


def _encode(value, where: str):
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        value = float(value)
        return value if math.isfinite(value) else {"float": repr(value)}
    if isinstance(value, list):
        return [_encode(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, tuple):
        return {"tuple": [_encode(v, f"{where}[{i}]") for i, v in enumerate(value)]}
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"dict": {k: _encode(v, f"{where}.{k}") for k, v in value.items()}}
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return {"array": _encode(value.tolist(), where), "dtype": value.dtype.str}
    if hasattr(value, "get_params"):
        return {"step": _encode_step(value, where)}
    raise ValueError(
        f"{where} = {value!r:.60} cannot be stored in a card (JSON literals, tuples, dicts, "
        "numeric arrays and ecgsk preprocessing steps only)"
    )


def _encode_step(step, where: str) -> dict:
    allowed = allowed_steps()
    cls = type(step)
    if allowed.get(cls.__name__) is not cls:
        raise ValueError(
            f"{where} is a {cls.__module__}.{cls.__qualname__}, which a card cannot record: "
            "only ecgsk.preprocessing steps and Pipeline are stored (as data); save with "
            "preprocessing=None and keep your own preprocessing with joblib"
        )
    params = step.get_params(deep=False)
    return {"class": cls.__name__,
            "params": {k: _encode(v, f"{where}.{k}") for k, v in params.items()}}


def preprocessing_to_data(preprocessing) -> dict:
    """The card entry of a preprocessing: its steps' classes and parameters, as JSON data.

    Parameters
    ----------
    preprocessing : ecgsk.preprocessing step or Pipeline of them

    Returns
    -------
    dict
        ``{"version": 1, "step": {"class": name, "params": {...}}}``; tuples, dicts,
        non-finite floats, arrays and nested steps are tagged (``{"tuple": [...]}``, ...).

    Raises
    ------
    ValueError
        If a step is not an :mod:`ecgsk.preprocessing` step (or a ``Pipeline``), or a parameter
        is not plain data.

    Examples
    --------
    >>> from ecgsk.preprocessing import Resample
    >>> data = preprocessing_to_data(Resample(500, 250))
    >>> data["version"], data["step"]["class"], data["step"]["params"]["sfreq_in"]
    (1, 'Resample', 500)
    """
    from ..preprocessing import freeze_if_fitted

    # what fitted steps learned (a cohort gain) is written into their parameters first
    step = _encode_step(freeze_if_fitted(preprocessing), "preprocessing")
    return {"version": PREPROCESSING_VERSION, "step": step}


def _decode(value, where: str):
    if value is None or isinstance(value, (bool, str, int, float)):
        return value
    if isinstance(value, list):
        return [_decode(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if not isinstance(value, dict) or len(value) not in (1, 2) or not set(value) & set(_TAGS):
        raise ValueError(f"{where} is not a stored parameter value: {value!r:.80}")
    if "step" in value:
        return _decode_step(value["step"], where)
    if "tuple" in value and isinstance(value["tuple"], list):
        return tuple(_decode(v, f"{where}[{i}]") for i, v in enumerate(value["tuple"]))
    if "dict" in value and isinstance(value["dict"], dict):
        return {str(k): _decode(v, f"{where}.{k}") for k, v in value["dict"].items()}
    if "float" in value and value["float"] in ("inf", "-inf", "nan"):
        return float(value["float"])
    if "array" in value and isinstance(value.get("dtype"), str):
        try:
            dtype = np.dtype(value["dtype"])
        except TypeError:
            dtype = None
        if dtype is None or dtype.kind not in "biuf":
            raise ValueError(f"{where}.dtype must be a numeric dtype, got {value['dtype']!r}")
        return np.asarray(_decode(value["array"], where), dtype=dtype)
    raise ValueError(f"{where} is not a stored parameter value: {value!r:.80}")


def _decode_step(data, where: str):
    if not isinstance(data, dict) or set(data) != {"class", "params"}:
        raise ValueError(f"{where} must be {{'class': name, 'params': {{...}}}}, got {data!r:.80}")
    name, params = data["class"], data["params"]
    allowed = allowed_steps()
    if not isinstance(name, str) or name not in allowed:
        raise ValueError(
            f"{where}.class is {name!r}, which is not an ecgsk preprocessing step (one of "
            f"{sorted(allowed)})"
        )
    if not isinstance(params, dict):
        raise ValueError(f"{where}.params must be a dict, got {type(params).__name__}")
    cls = allowed[name]
    known = set(cls._get_param_names())
    kwargs = {}
    for key, value in params.items():
        if key not in known:
            raise ValueError(f"{where}.params.{key} is not a parameter of {name}")
        kwargs[key] = _decode(value, f"{where}.params.{key}")
    if "steps" in kwargs:
        kwargs["steps"] = _check_pipeline_steps(kwargs["steps"], f"{where}.params.steps")
        if kwargs.get("memory") is not None:  # a cache folder named by a card: refused
            raise ValueError(f"{where}.params.memory must be null in a card")
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: {name} cannot be rebuilt from the card ({exc})") from None


def _check_pipeline_steps(steps, where: str) -> list:
    if not isinstance(steps, (list, tuple)) or not steps:
        raise ValueError(f"{where} must be a non-empty list of (name, step) pairs")
    out = []
    for i, pair in enumerate(steps):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2 or not isinstance(pair[0], str):
            raise ValueError(f"{where}[{i}] must be a (name, step) pair, got {pair!r:.80}")
        out.append(tuple(pair))
    return out


def _positional_defaults(cls) -> list:
    import inspect

    return [p.name for p in inspect.signature(cls).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


def preprocessing_from_data(data, where: str = "preprocessing"):
    """Rebuild (unfitted) the preprocessing stored by :func:`preprocessing_to_data`.

    ``data`` may also be the text of a version-1 card (the preprocessing's ``repr``): it is
    converted to the same data first (see :func:`legacy_preprocessing_to_data`).

    Parameters
    ----------
    data : dict, str or None
        The card's ``"preprocessing"`` entry.
    where : str
        How error messages name the entry.

    Returns
    -------
    estimator or None

    Raises
    ------
    ValueError
        If the entry names anything but ecgsk preprocessing steps, holds a newer version, or
        its parameters do not rebuild the steps.

    Examples
    --------
    >>> from ecgsk.preprocessing import CropOrPad
    >>> preprocessing_from_data(preprocessing_to_data(CropOrPad(2500)))
    CropOrPad(n_times=2500)
    >>> preprocessing_from_data(None) is None
    True
    """
    if data is None:
        return None
    if isinstance(data, str):
        data = legacy_preprocessing_to_data(data, where)
    if not isinstance(data, dict) or "version" not in data or "step" not in data:
        raise ValueError(f"{where} must be {{'version': ..., 'step': {{...}}}} or null")
    version = data["version"]
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ValueError(f"{where}.version must be a positive integer, got {version!r}")
    if version > PREPROCESSING_VERSION:
        raise ValueError(
            f"{where}.version is {version}: written by a newer ecgsk (this one reads up to "
            f"{PREPROCESSING_VERSION}); upgrade ecgsk"
        )
    return _decode_step(data["step"], f"{where}.step")


# ----------------------------------------------------------------------------- legacy text
_LEGACY_NAMES = {"inf": {"float": "inf"}, "nan": {"float": "nan"}, "None": None, "True": True,
                 "False": False}
_NUMPY_SCALARS = {"float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8",
                  "uint16", "uint32", "uint64", "bool_", "str_"}


def legacy_preprocessing_to_data(text: str, where: str = "preprocessing") -> dict:
    """Convert a version-1 card's preprocessing (its scikit-learn ``repr``) to the current data.

    The text is parsed into a syntax tree whose nodes are only *read*: calls become
    ``{"class": name, "params": {...}}`` entries (checked later against the allow-list, like
    any card), literals stay literals; nothing is evaluated, imported or called.

    Examples
    --------
    >>> legacy_preprocessing_to_data("Resample(sfreq_in=np.float64(500.0), sfreq_out=250)")
    {'version': 1, 'step': {'class': 'Resample', 'params': {'sfreq_in': 500.0, 'sfreq_out': 250}}}
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"{where} is not a description of a preprocessing: {text!r:.80}")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"{where} (version-1 text) cannot be read: {exc.msg}") from None
    source = text.strip()

    def fail(node, why):
        snippet = ast.get_source_segment(source, node) or ""
        raise ValueError(f"{where} (version-1 text) cannot be converted: {why} ({snippet[:80]!r})")

    def value(node):
        if isinstance(node, ast.Constant):
            if node.value is Ellipsis:
                fail(node, "it was recorded truncated ('...')")
            if isinstance(node.value, float) and not math.isfinite(node.value):
                return {"float": repr(node.value)}
            return node.value
        if isinstance(node, ast.List):
            return [value(item) for item in node.elts]
        if isinstance(node, ast.Tuple):
            return {"tuple": [value(item) for item in node.elts]}
        if isinstance(node, ast.Dict):
            keys = [value(k) for k in node.keys]
            if not all(isinstance(k, str) for k in keys):
                fail(node, "dict keys must be strings")
            return {"dict": dict(zip(keys, (value(v) for v in node.values), strict=True))}
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            operand = value(node.operand)
            if isinstance(operand, dict) and operand.get("float") == "inf":
                return {"float": "-inf"} if isinstance(node.op, ast.USub) else operand
            if isinstance(operand, bool) or not isinstance(operand, (int, float)):
                fail(node, "a sign applies only to numbers")
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.Name) and node.id in _LEGACY_NAMES:
            return _LEGACY_NAMES[node.id]
        if isinstance(node, ast.Call):
            return call(node)
        fail(node, "it holds something other than a literal or a preprocessing step")

    def call(node):
        func = node.func
        if (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
                and func.value.id in {"np", "numpy"} and func.attr in _NUMPY_SCALARS
                and len(node.args) == 1 and not node.keywords):  # numpy 2 scalar reprs
            return value(node.args[0])
        if not isinstance(func, ast.Name):
            fail(node, "only ecgsk.preprocessing steps and Pipeline may appear")
        allowed = allowed_steps()
        if func.id not in allowed:
            fail(node, "only ecgsk.preprocessing steps and Pipeline may appear")
        params = {}
        names = _positional_defaults(allowed[func.id])
        if len(node.args) > len(names):
            fail(node, "too many positional arguments")
        for name, arg in zip(names, node.args, strict=False):
            params[name] = value(arg)
        for keyword in node.keywords:
            if keyword.arg is None:
                fail(node, "** arguments are not allowed")
            params[keyword.arg] = value(keyword.value)
        if isinstance(params.get("steps"), list):  # (name, step) pairs come back as lists
            params["steps"] = [s if isinstance(s, dict) else {"tuple": s}
                               for s in params["steps"]]
        return {"step": {"class": func.id, "params": params}}

    top = value(tree.body)
    if not (isinstance(top, dict) and "step" in top):
        raise ValueError(f"{where} (version-1 text) does not describe a preprocessing step")
    return {"version": PREPROCESSING_VERSION, "step": top["step"]}


# ----------------------------------------------------------------------------- schema
class _Spec:
    """One field: accepted JSON types, allowed values, and whether it may be null or absent."""

    def __init__(self, kind, *, required=True, null=False, choices=None, minimum=None,
                 positive=False, items=None):
        self.kind, self.required, self.null = kind, required, null
        self.choices, self.minimum, self.items = choices, minimum, items
        self.positive = positive


def _type_ok(value, kind: str) -> bool:
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "str":
        return isinstance(value, str)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "list":
        return isinstance(value, list)
    if kind == "dict":
        return isinstance(value, dict)
    if kind == "json":
        return _is_json_literal(value)
    if kind == "label":  # a class or label name
        return isinstance(value, (str, int, float, bool)) and _is_json_literal(value)
    raise AssertionError(kind)


_WORDS = {"int": "an integer", "number": "a number", "str": "a string", "bool": "true or false",
          "list": "a list", "dict": "an object", "json": "JSON data", "label": "a label name"}


def _check(value, spec: _Spec, where: str) -> None:
    if value is None:
        if spec.null:
            return
        raise ValueError(f"{where} must be {_WORDS[spec.kind]}, got null")
    if not _type_ok(value, spec.kind):
        raise ValueError(f"{where} must be {_WORDS[spec.kind]}, got {value!r:.60}")
    if spec.choices is not None and value not in spec.choices:
        raise ValueError(f"{where} must be one of {list(spec.choices)}, got {value!r:.60}")
    if spec.kind in ("int", "number") and not math.isfinite(value):
        raise ValueError(f"{where} must be finite, got {value!r}")
    if spec.minimum is not None and value < spec.minimum:
        raise ValueError(f"{where} must be >= {spec.minimum}, got {value!r}")
    if spec.positive and value <= 0:
        raise ValueError(f"{where} must be positive, got {value!r}")
    if spec.items is not None:
        for i, item in enumerate(value):
            _check(item, spec.items, f"{where}[{i}]")


def _section(card: dict, schema: dict, where: str) -> None:
    if not isinstance(card, dict):
        raise ValueError(f"{where} must be an object, got {type(card).__name__}")
    for key, spec in schema.items():
        if key not in card:
            if isinstance(spec, dict) or spec.required:
                raise ValueError(f"{where}.{key} is missing")
            continue
        if isinstance(spec, dict):
            _section(card[key], spec, f"{where}.{key}")
        else:
            _check(card[key], spec, f"{where}.{key}")


_POS = {"minimum": 1}
_HEADER = {
    "format": _Spec("str"),
    "format_version": _Spec("int", minimum=1),
    "ecgsk_version": _Spec("str", required=False),
    "torch_version": _Spec("str", required=False),
    "created": _Spec("str", required=False),
}
_INPUT = {
    "n_leads": _Spec("int", **_POS),
    "n_times": _Spec("int", **_POS),
    "sfreq": _Spec("number", null=True, positive=True),
    "leads": _Spec("list", null=True, items=_Spec("str")),
}
_NUMBERS = _Spec("list", null=True, required=False, items=_Spec("number"))
_MODEL = {
    **_HEADER,
    "estimator": _Spec("str"),
    "module": _Spec("dict"),
    "module_kwargs": _Spec("dict"),
    "optimizer": _Spec("str", null=True, required=False),
    "params": _Spec("dict"),
    "fitted": {
        "task_": _Spec("str", choices=TASKS),
        "n_leads_": _Spec("int", **_POS),
        "n_times_": _Spec("int", **_POS),
        "n_outputs_": _Spec("int", **_POS),
        "y_ndim_": _Spec("int", required=False, choices=(1, 2)),
        "n_epochs_": _Spec("int", required=False, minimum=0),
        "best_epoch_": _Spec("int", required=False, null=True, minimum=0),
    },
    "classes": _Spec("list", null=True, required=False, items=_Spec("label")),
    "thresholds": _NUMBERS,
    "target_mean": _NUMBERS,
    "target_scale": _NUMBERS,
    "input": _INPUT,
}
_ENCODER = {
    **_HEADER,
    "model": {"name": _Spec("str"), "kwargs": _Spec("dict")},
    "input": _INPUT,
    "n_features": _Spec("int", required=False, minimum=0),
    "pretraining": _Spec("json", required=False, null=True),
}
_EXPORT_INPUT = {**_INPUT, "name": _Spec("str"), "shape": _Spec("list"),
                 "dtype": _Spec("str", choices=("float32",))}
_EXPORT = {
    **_HEADER,
    "estimator": _Spec("str", choices=EXPORT_ESTIMATORS),
    "model": _Spec("str"),
    "task": _Spec("str", choices=EXPORT_TASKS),
    "output": _Spec("str", choices=EXPORT_OUTPUTS),
    "output_name": _Spec("str"),
    "output_shape": _Spec("list"),
    "columns": _Spec("list", null=True, items=_Spec("label")),
    "classes": _Spec("list", null=True, items=_Spec("label")),
    "thresholds": _NUMBERS,
    "target_mean": _NUMBERS,
    "target_scale": _NUMBERS,
    "input": _EXPORT_INPUT,
    "dynamic_batch": _Spec("bool", required=False),
    "exporter": _Spec("str", required=False),
}
_SCHEMAS = {MODEL_FORMAT: _MODEL, ENCODER_FORMAT: _ENCODER, EXPORT_FORMAT: _EXPORT}


def _check_plain_kwargs(kwargs: dict, where: str) -> None:
    for key, value in kwargs.items():
        if not isinstance(key, str) or not key.isidentifier():
            raise ValueError(f"{where} has the key {key!r}, which is not a parameter name")
        if not _is_json_literal(value):
            raise ValueError(f"{where}.{key} must be JSON data")


def _check_thresholds(values, where: str) -> None:
    for i, value in enumerate(values or ()):
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{where}[{i}] must be a probability in [0, 1], got {value!r}")


def _check_model(card: dict, where: str) -> None:
    ref = card["module"]
    if len(ref) != 1 or not set(ref) <= {"registry", "class"}:
        raise ValueError(
            f"{where}.module must hold exactly one of 'registry' (a registry name) or 'class' "
            f"(an ecgsk network), got keys {sorted(ref)}"
        )
    _check(next(iter(ref.values())), _Spec("str"), f"{where}.module.{next(iter(ref))}")
    _check_plain_kwargs(card["module_kwargs"], f"{where}.module_kwargs")
    unknown = sorted(set(card["params"]) - set(CARD_PARAMS))
    if unknown:
        raise ValueError(f"{where}.params.{unknown[0]} is not a parameter a card may set "
                         f"(one of {list(CARD_PARAMS)})")
    _check_plain_kwargs(card["params"], f"{where}.params")
    unknown = sorted(set(card["fitted"]) - set(CARD_FITTED))
    if unknown:
        raise ValueError(f"{where}.fitted.{unknown[0]} is not a fitted attribute a card may "
                         f"restore (one of {list(CARD_FITTED)})")
    fitted, shape = card["fitted"], card["input"]
    task, n_out = fitted["task_"], fitted["n_outputs_"]
    for key in ("n_leads", "n_times"):
        if shape[key] != fitted[f"{key}_"]:
            raise ValueError(f"{where}.input.{key} is {shape[key]} but {where}.fitted.{key}_ is "
                             f"{fitted[f'{key}_']}")
    if shape.get("leads") is not None and len(shape["leads"]) != shape["n_leads"]:
        raise ValueError(f"{where}.input.leads names {len(shape['leads'])} leads but "
                         f"input.n_leads is {shape['n_leads']}")
    classes, thresholds = card.get("classes"), card.get("thresholds")
    regression = task == "regression"
    if (card["estimator"] == "ECGRegressor") != regression and card["estimator"] in (
            "ECGClassifier", "ECGRegressor"):
        raise ValueError(f"{where}.fitted.task_ is {task!r}, which an {card['estimator']} does "
                         "not have")
    if regression:
        for key in ("target_mean", "target_scale"):
            values = card.get(key)
            if values is None or len(values) != n_out:
                raise ValueError(f"{where}.{key} must list {n_out} numbers (one per output) for "
                                 f"a regression model, got {values!r:.60}")
        if any(s <= 0 or not math.isfinite(s) for s in card["target_scale"]):
            raise ValueError(f"{where}.target_scale must hold positive numbers")
        return
    if classes is None:
        raise ValueError(f"{where}.classes is missing: a {task} model needs its class names")
    if len(set(map(json.dumps, classes))) != len(classes):
        raise ValueError(f"{where}.classes holds duplicates")
    expected = 2 if task == "binary" else n_out
    if task == "binary" and n_out != 1:
        raise ValueError(f"{where}.fitted.n_outputs_ must be 1 for a binary model, got {n_out}")
    if task == "multiclass" and n_out < 3:
        raise ValueError(f"{where}.fitted.n_outputs_ must be >= 3 for a multiclass model, got "
                         f"{n_out}")
    if len(classes) != expected:
        raise ValueError(f"{where}.classes lists {len(classes)} classes but the {task} network "
                         f"has {n_out} output(s): expected {expected}")
    if task == "multiclass":
        if thresholds is not None:
            raise ValueError(f"{where}.thresholds must be null for a multiclass model (it "
                             f"predicts the most probable class); got {len(thresholds)} values")
        return
    if thresholds is not None and len(thresholds) != n_out:
        raise ValueError(f"{where}.thresholds lists {len(thresholds)} values but the network has "
                         f"{n_out} output(s)")
    _check_thresholds(thresholds, f"{where}.thresholds")


def _check_export(card: dict, where: str) -> None:
    shape, inp = card["output_shape"], card["input"]
    columns = card.get("columns")
    if columns is not None and (len(shape) != 2 or shape[1] != len(columns)):
        raise ValueError(f"{where}.columns lists {len(columns)} names but output_shape is "
                         f"{shape}")
    if card.get("thresholds") is not None and card.get("classes") is not None and len(
            card["thresholds"]) not in (len(card["classes"]), 1):
        raise ValueError(f"{where}.thresholds lists {len(card['thresholds'])} values but "
                         f"classes lists {len(card['classes'])}")
    _check_thresholds(card.get("thresholds"), f"{where}.thresholds")
    if inp["shape"][1:] != [inp["n_leads"], inp["n_times"]]:
        raise ValueError(f"{where}.input.shape {inp['shape']} disagrees with input.n_leads/"
                         "n_times")


def validate_card(card, fmt: str, where: str = "card") -> dict:
    """Check a card against the schema of its format and version; return it.

    Parameters
    ----------
    card : dict
        A parsed card.
    fmt : {"ecgsk-model", "ecgsk-encoder", "ecgsk-export"}
        The format the caller expects.
    where : str
        How error messages name the card (e.g. its path).

    Raises
    ------
    ValueError
        Naming the first field that is missing, of the wrong type, out of its allowed values, or
        inconsistent with another; or if the card is of another format or a newer version.

    Examples
    --------
    >>> validate_card({"format": "ecgsk-model", "format_version": 9}, "ecgsk-model")
    Traceback (most recent call last):
    ...
    ValueError: card was written by a newer ecgsk (ecgsk-model version 9; this ecgsk reads up to 2): upgrade ecgsk to load it
    """
    if not isinstance(card, dict):
        raise ValueError(f"{where} must be a JSON object, got {type(card).__name__}")
    if card.get("format") != fmt:
        raise ValueError(f"{where} is not an {fmt} card (format: {card.get('format')!r})")
    version = card.get("format_version")
    _check(version, _HEADER["format_version"], f"{where}.format_version")
    if version > max(SUPPORTED[fmt]):
        raise ValueError(
            f"{where} was written by a newer ecgsk ({fmt} version {version}; this ecgsk reads up "
            f"to {max(SUPPORTED[fmt])}): upgrade ecgsk to load it"
        )
    _section(card, _SCHEMAS[fmt], where)
    if fmt == MODEL_FORMAT:
        _check_model(card, where)
        pre = card.get("preprocessing")
        if version == 1 and not (pre is None or isinstance(pre, str)):
            raise ValueError(f"{where}.preprocessing must be text or null in a version-1 card")
        if version >= 2 and pre is not None:
            _section(pre, {"version": _Spec("int", minimum=1), "step": _Spec("dict"),
                           "repr": _Spec("str", required=False)}, f"{where}.preprocessing")
            preprocessing_from_data(pre, f"{where}.preprocessing")  # allow-listed, rebuildable
    elif fmt == ENCODER_FORMAT:
        _check_plain_kwargs(card["model"]["kwargs"], f"{where}.model.kwargs")
        leads = card["input"].get("leads")
        if leads is not None and len(leads) != card["input"]["n_leads"]:
            raise ValueError(f"{where}.input.leads names {len(leads)} leads but input.n_leads is "
                             f"{card['input']['n_leads']}")
    else:
        _check_export(card, where)
    return card


# ----------------------------------------------------------------------------- files
def write_card(path, card: dict) -> Path:
    """Validate ``card`` and write it as JSON to ``path``; return the path."""
    path = Path(path)
    validate_card(card, card.get("format"), str(path))
    path.write_text(json.dumps(card, indent=2, ensure_ascii=False))
    return path


def parse_card(text, fmt: str, where: str = "card") -> dict:
    """Parse and validate a card's JSON text (``ValueError`` naming ``where`` if it is not)."""
    try:
        card = json.loads(text)
    except (json.JSONDecodeError, ValueError, TypeError, RecursionError) as exc:
        raise ValueError(f"{where} is not valid JSON ({exc})") from None
    return validate_card(card, fmt, where)


def read_card(path, fmt: str) -> dict:
    """Read, validate and version-check the card file ``path`` of format ``fmt``.

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    ValueError
        If it is not valid JSON or fails :func:`validate_card`.

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "card.json"
    >>> _ = path.write_text(json.dumps({"format": "ecgsk-model", "format_version": 2}))
    >>> read_card(path, "ecgsk-model")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: .../card.json.estimator is missing
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path} cannot be read ({exc})") from None
    return parse_card(text, fmt, str(path))


def read_torchscript_card(path) -> str | None:
    """The text of ``ecgsk_card.json`` in a TorchScript archive, read as a zip (no code loaded).

    ``None`` if the archive has no such entry.
    """
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            parts = name.split("/")
            if parts[-1] == TORCHSCRIPT_CARD_FILE and len(parts) >= 2 and parts[-2] == "extra":
                return archive.read(name).decode("utf-8")
    return None


def upgrade_card(folder) -> Path:
    """Rewrite a model folder's version-1 ``card.json`` in the current format.

    The preprocessing text is converted to data (see :func:`legacy_preprocessing_to_data`) and
    checked by rebuilding it; the old card is kept as ``card.v1.json``.

    Returns
    -------
    pathlib.Path
        The card written (unchanged if it already was current).
    """
    path = Path(folder) / MODEL_CARD
    card = read_card(path, MODEL_FORMAT)
    if card["format_version"] == MODEL_VERSION:
        return path
    new = upgraded_model_card(card, str(path))
    (Path(folder) / "card.v1.json").write_text(path.read_text(encoding="utf-8"))
    return write_card(path, new)


def upgraded_model_card(card: dict, where: str = "card") -> dict:
    """A version-1 model card converted in memory to the current version."""
    if card["format_version"] >= MODEL_VERSION:
        return card
    new = dict(card)
    text = card.get("preprocessing")
    if text is not None:
        data = legacy_preprocessing_to_data(text, f"{where}.preprocessing")
        preprocessing_from_data(data, f"{where}.preprocessing")  # refuse what would not rebuild
        new["preprocessing"] = {**data, "repr": text}
    new["format_version"] = MODEL_VERSION
    new["upgraded_from"] = card["format_version"]
    return new
