"""Export of fitted estimators to ONNX and TorchScript, with a JSON card inside the file.

The exported graph is the estimator's inference path, not only its network:

- ``ECGClassifier``: ``predict_proba`` (sigmoid per label for multilabel targets, ``[1 - p, p]``
  for binary ones, softmax over classes for multiclass ones), or ``decision_function``
  (logits) or ``transform`` (embeddings);
- ``ECGRegressor``: ``predict`` in the target's original units (the training
  standardisation undone inside the graph), or ``transform``;
- ``ECGPretrainer`` and ``ECGEmbedder``: ``transform`` (embeddings of the encoder).

Its single input is ``ecg``, float32 ``(batch, n_leads, n_times)`` in the units and layout the
estimator was trained on; the batch axis is dynamic. The card (estimator, task, classes,
thresholds, input shape, sampling rate and leads when known, ecgsk version) lives in the ONNX
``metadata_props`` and in the TorchScript archive's extra files, so that a deployment without
ecgsk can read it (:func:`read_export_card` reads it back).

Design notes
------------
- The network is deep-copied to the CPU in float32 evaluation mode, and weight
  parametrizations are folded into plain weights, so exporting never changes the estimator and
  the file does not depend on where it was trained.
- ONNX goes through ``torch.onnx.export(..., dynamo=True)`` (``torch.export`` based). The
  TorchScript-based exporter is used only when the dynamo one fails (``exporter="auto"``, with
  a warning) or on request (``exporter="torchscript"``); the card says which one wrote the file.
- Every export is checked by default: the file is reloaded (onnxruntime, ``torch.jit.load``) and
  run on a few random ECGs, with another batch size than the tracing one when the batch is
  dynamic, and must match eager torch within ``1e-4``.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import warnings
import zipfile
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from ._cards import EXPORT_FORMAT, card_header, parse_card, read_torchscript_card, validate_card
from ._links import Embeddings

EXPORT_VERSION = 1
INPUT_NAME = "ecg"
CARD_KEY = "ecgsk_card"
TORCHSCRIPT_CARD_FILE = "ecgsk_card.json"
ONNX_EXPORTERS = ("auto", "dynamo", "torchscript")
TORCHSCRIPT_METHODS = ("script", "trace")
EXPORT_EXTRA = "ecgsk[export]"
# ONNX metadata also holds these card entries one by one (each value JSON-encoded), so that a
# deployment can read, e.g., json.loads(meta["classes"]) without parsing the whole card
FLAT_METADATA = (
    "estimator",
    "task",
    "output",
    "classes",
    "thresholds",
    "columns",
    "n_leads",
    "n_times",
    "sfreq",
    "leads",
    "ecgsk_version",
)
OUTPUT_NAMES = {
    "predict_proba": "proba",
    "decision_function": "logits",
    "predict": "prediction",
    "transform": "embedding",
}
_ATOL = 1e-4
_RTOL = 1e-4
# the protobuf limit of a single .onnx file is 2 GB; above this the weights go to a side file
_MAX_INLINE_BYTES = 1_500_000_000


# ---------------------------------------------------------------------------- what to export
def _check_exportable(estimator) -> None:
    from sklearn.utils.validation import check_is_fitted

    if not hasattr(estimator, "_export_outputs"):
        raise TypeError(
            "only ECGClassifier, ECGRegressor, ECGPretrainer and ECGEmbedder can be exported, got "
            f"{type(estimator).__name__}"
        )
    check_is_fitted(estimator)


def _model_name(estimator, net: nn.Module) -> str:
    spec = getattr(estimator, "module_spec_", None) or getattr(net, "module_spec", None)
    if spec:
        return str(spec["name"])
    module = getattr(estimator, "module", None)
    return module if isinstance(module, str) else type(net).__name__


def _input_info(estimator, net: nn.Module, n_times, sfreq, leads):
    """``(n_leads, n_times, sfreq, leads)`` of the exported input."""
    from .._validation import check_positive_int, check_sfreq
    from ..leads import canonical_lead_names

    if n_times is not None:
        n_times = check_positive_int(n_times, "n_times")
    n_leads, n_times, known_sfreq, known_leads = estimator._export_input(net, n_times)
    sfreq = known_sfreq if sfreq is None else sfreq
    leads = known_leads if leads is None else leads
    if leads is not None:
        if isinstance(leads, str):
            raise TypeError(f"leads must be a sequence of lead names, not the string {leads!r}")
        leads = list(canonical_lead_names([str(lead) for lead in leads]))  # e.g. AVR -> aVR
        if len(leads) != n_leads:
            raise ValueError(f"leads names {len(leads)} leads but the model takes {n_leads}")
    if sfreq is not None:
        sfreq = float(check_sfreq(sfreq))
    return n_leads, int(n_times), sfreq, leads


def _prepared_copy(net: nn.Module) -> nn.Module:
    """A CPU float32 copy in evaluation mode with parametrizations folded into the weights."""
    from torch.nn.utils import parametrize

    net = copy.deepcopy(net).cpu().float().eval()
    for module in [m for m in net.modules() if parametrize.is_parametrized(m)]:
        # not parametrize.remove_parametrizations: it deletes the property from the
        # parametrized class, which the copy shares with the estimator's own network
        values = {name: getattr(module, name).detach().clone() for name in module.parametrizations}
        module.__class__ = type(module).__bases__[0]  # the class before parametrization
        delattr(module, "parametrizations")
        for name, value in values.items():
            module.register_parameter(name, nn.Parameter(value, requires_grad=False))
    for param in net.parameters():
        param.requires_grad_(False)
    return net


def _jsonable(values):
    if values is None:
        return None
    return json.loads(json.dumps(np.asarray(values).tolist(), default=str))


def build_inference_module(estimator, output=None, *, n_times=None, sfreq=None, leads=None):
    """The inference graph of a fitted estimator as a torch module, and its export card.

    Parameters
    ----------
    estimator : fitted ECGClassifier, ECGRegressor, ECGPretrainer or ECGEmbedder
    output : str, optional
        Which method the graph computes: ``"predict_proba"`` (classifier default),
        ``"decision_function"``, ``"predict"`` (regressor default) or ``"transform"``
        (embeddings; pretrainer and embedder default).
    n_times : int, optional
        Samples per lead of the input. Fixed by ``fit`` for all but :class:`ECGEmbedder`,
        whose default is the length its encoder was built for.
    sfreq : float, optional
        Sampling rate of the input (Hz), recorded in the card (default: the estimator's card
        when it was loaded, or ``ECGPretrainer.sfreq``).
    leads : sequence of str, optional
        Lead order of the input, recorded in the card.

    Returns
    -------
    module : torch.nn.Module
        A CPU float32 module in evaluation mode mapping ``ecg`` ``(batch, n_leads, n_times)``
        to the output; the estimator's own network is not shared.
    card : dict
        What the exported file records about itself (JSON-serialisable).

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If the estimator is not fitted.

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> from ecgsk.estimators import ECGClassifier
    >>> X = np.random.default_rng(0).standard_normal((32, 12, 250)).astype("float32")
    >>> clf = ECGClassifier("xresnet1d50-tiny", max_epochs=1, random_state=0,
    ...                     progress_bar=False, verbose=0).fit(X, np.tile([0, 1], 16))
    >>> module, card = build_inference_module(clf)
    >>> bool(np.allclose(module(torch.from_numpy(X)).detach().numpy(), clf.predict_proba(X),
    ...                  atol=1e-6))
    True
    >>> card["output"], card["columns"], card["input"]["shape"]
    ('predict_proba', [0, 1], ['batch', 12, 250])
    """

    _check_exportable(estimator)
    allowed = estimator._export_outputs
    output = allowed[0] if output is None else output
    if output not in allowed:
        raise ValueError(
            f"a {type(estimator).__name__} exports one of {allowed}, got output={output!r}"
        )
    source = estimator._export_network()
    n_leads, n_times, sfreq, leads = _input_info(estimator, source, n_times, sfreq, leads)
    net = _prepared_copy(source)
    task = getattr(estimator, "task_", "embedding")
    classes = _jsonable(getattr(estimator, "classes_", None))
    thresholds = _jsonable(getattr(estimator, "thresholds_", None))
    if output == "transform":
        if not hasattr(net, "forward_features"):
            raise AttributeError(
                f"the module {type(net).__name__} has no forward_features(x) method, so it has "
                "no embeddings to export"
            )
        module, extra = Embeddings(net), {}
        n_features = int(getattr(net, "n_features", 0)) or None
        columns = None if n_features is None else [f"embedding{i}" for i in range(n_features)]
        shape = ["batch", n_features]
    else:
        module, columns, shape, extra = estimator._inference_graph(net, output)
        columns = _jsonable(columns)
    card = {
        **card_header(EXPORT_FORMAT, EXPORT_VERSION),
        "estimator": type(estimator).__name__,
        "model": _model_name(estimator, source),
        "task": task,
        "output": output,
        "output_name": OUTPUT_NAMES[output],
        "output_shape": shape,
        "columns": columns,
        "classes": classes,
        "thresholds": thresholds,
        "n_leads": n_leads,
        "n_times": n_times,
        "sfreq": sfreq,
        "leads": leads,
        "input": {
            "name": INPUT_NAME,
            "shape": ["batch", n_leads, n_times],
            "dtype": "float32",
            "n_leads": n_leads,
            "n_times": n_times,
            "sfreq": sfreq,
            "leads": leads,
        },
        **extra,
    }
    return module.eval(), validate_card(card, EXPORT_FORMAT, "export card")


# ---------------------------------------------------------------------------- helpers
def _require_onnx(for_export: bool = True):
    """Import onnx, onnxscript (export only) and onnxruntime, naming the extra if missing."""
    names = ("onnx", "onnxscript", "onnxruntime") if for_export else ("onnx",)
    missing = []
    for name in names:
        try:
            __import__(name)
        except ImportError:
            missing.append(name)
    if missing:
        raise ImportError(
            f"ONNX export needs {', '.join(missing)}, which is not installed: "
            f"pip install '{EXPORT_EXTRA}' (onnx, onnxscript, onnxruntime)"
        )


@contextlib.contextmanager
def _quiet_torch():
    """Silence torch's deprecation notices and exporter chatter for the duration of an export."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            # torch.jit and the TorchScript-based ONNX exporter are deprecated in recent torch
            warnings.filterwarnings("ignore", category=DeprecationWarning)
            warnings.filterwarnings("ignore", category=FutureWarning)
            warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
            yield
    finally:
        logger.setLevel(level)


def _probe(n_leads: int, n_times: int, batch: int, seed: int = 0) -> Tensor:
    """Random ECG-like input (about half a millivolt of noise), reproducible."""
    rng = np.random.default_rng(seed)
    x = 0.5 * rng.standard_normal((batch, n_leads, n_times))
    return torch.from_numpy(x.astype(np.float32))


def _check_close(actual: np.ndarray, expected: np.ndarray, what: str) -> None:
    if actual.shape != expected.shape:
        raise RuntimeError(
            f"the {what} returns shape {actual.shape} where torch returns {expected.shape}"
        )
    err = np.abs(actual.astype(np.float64) - expected.astype(np.float64))
    bound = _ATOL + _RTOL * np.abs(expected.astype(np.float64))
    if not np.all(err <= bound):
        raise RuntimeError(
            f"the {what} differs from torch by up to {err.max():.3g} (tolerance {_ATOL:g} + "
            f"{_RTOL:g} x |value|); the export is not faithful for this model"
        )


def _eager(module: nn.Module, x: Tensor) -> np.ndarray:
    with torch.inference_mode():
        return module(x).numpy()


def _metadata(card: dict) -> dict[str, str]:
    props = {CARD_KEY: json.dumps(card, ensure_ascii=False)}
    for key in FLAT_METADATA:
        props[key] = json.dumps(card.get(key), ensure_ascii=False)
    return props


# ---------------------------------------------------------------------------- ONNX
def _export_dynamo(module, x, path: Path, opset, dynamic_batch, props, large) -> int:
    dynamic_shapes = {INPUT_NAME: {0: torch.export.Dim("batch")}} if dynamic_batch else None
    program = torch.onnx.export(
        module,
        (x,),
        dynamo=True,
        input_names=[INPUT_NAME],
        output_names=[props["output_name"]],
        opset_version=opset,
        dynamic_shapes=dynamic_shapes,
        verbose=False,
    )
    model = program.model
    for key, value in props["metadata"].items():
        model.metadata_props[key] = value
    model.doc_string = props["doc"]
    program.save(str(path), external_data=large)
    return int(model.opset_imports.get("", 0))


def _export_torchscript_onnx(module, x, path: Path, opset, dynamic_batch, props, large) -> int:
    import onnx

    name = props["output_name"]
    axes = {INPUT_NAME: {0: "batch"}, name: {0: "batch"}} if dynamic_batch else None
    torch.onnx.export(
        module,
        (x,),
        str(path),
        dynamo=False,
        input_names=[INPUT_NAME],
        output_names=[name],
        opset_version=opset,
        dynamic_axes=axes,
    )
    model = onnx.load(str(path))
    for key, value in props["metadata"].items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    model.doc_string = props["doc"]
    onnx.save(model, str(path), save_as_external_data=large)
    return next((int(o.version) for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)


def _onnx_session(path: Path, n_threads: int | None = None):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = int(n_threads or torch.get_num_threads())
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def export_onnx(
    estimator,
    path,
    *,
    output=None,
    opset=None,
    dynamic_batch=True,
    exporter="auto",
    n_times=None,
    sfreq=None,
    leads=None,
    verify=True,
):
    """Write the inference graph of a fitted estimator to an ONNX file.

    Parameters
    ----------
    estimator : fitted ECGClassifier, ECGRegressor, ECGPretrainer or ECGEmbedder
    path : str or path
        The ``.onnx`` file to write (its folder is created if needed).
    output : str, optional
        ``"predict_proba"``, ``"decision_function"``, ``"predict"`` or ``"transform"`` (see
        :func:`build_inference_module`); by default what the estimator predicts.
    opset : int, optional
        ONNX opset version (default: the exporter's recommended one).
    dynamic_batch : bool, default=True
        Let the batch axis vary; otherwise the file takes batches of exactly 2 ECGs.
    exporter : {"auto", "dynamo", "torchscript"}, default="auto"
        ``"dynamo"``: ``torch.onnx.export(dynamo=True)``; ``"torchscript"``: torch's older
        TorchScript-based exporter; ``"auto"``: dynamo, falling back to the older exporter
        (with a warning) if it fails.
    n_times, sfreq, leads
        See :func:`build_inference_module`.
    verify : bool, default=True
        Reload the file with onnxruntime and check that it matches torch on random ECGs
        (within 1e-4), at another batch size than the tracing one when the batch is dynamic.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    ImportError
        If onnx, onnxscript or onnxruntime is missing (``pip install 'ecgsk[export]'``).
    sklearn.exceptions.NotFittedError
        If the estimator is not fitted.
    RuntimeError
        If ``verify`` finds that the file does not reproduce torch's outputs.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from ecgsk.estimators import ECGClassifier
    >>> X = np.random.default_rng(0).standard_normal((32, 12, 250)).astype("float32")
    >>> clf = ECGClassifier("xresnet1d50-tiny", max_epochs=1, random_state=0,
    ...                     progress_bar=False, verbose=0).fit(X, np.tile([0, 1], 16))
    >>> path = export_onnx(clf, tempfile.mkdtemp() + "/clf.onnx")
    >>> read_export_card(path)["classes"]
    [0, 1]
    """
    if exporter not in ONNX_EXPORTERS:
        raise ValueError(f"exporter must be one of {ONNX_EXPORTERS}, got {exporter!r}")
    if opset is not None and (isinstance(opset, bool) or not isinstance(opset, int) or opset < 7):
        raise ValueError(f"opset must be None or an ONNX opset version (int >= 7), got {opset!r}")
    module, card = build_inference_module(
        estimator, output, n_times=n_times, sfreq=sfreq, leads=leads
    )
    _require_onnx()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    x = _probe(card["n_leads"], card["n_times"], batch=2)
    n_bytes = sum(t.numel() * t.element_size() for t in module.state_dict().values())
    large = n_bytes > _MAX_INLINE_BYTES
    card["dynamic_batch"] = bool(dynamic_batch)
    doc = (
        f"ecgsk {card['estimator']} ({card['model']}): {card['output']} of ECGs "
        f"{INPUT_NAME} (batch, {card['n_leads']}, {card['n_times']}) float32; the JSON card is "
        f"metadata '{CARD_KEY}'"
    )

    def run(which: str) -> int:
        card["exporter"] = f"torch.onnx.export(dynamo={which == 'dynamo'})"
        props = {"output_name": card["output_name"], "metadata": _metadata(card), "doc": doc}
        write = _export_dynamo if which == "dynamo" else _export_torchscript_onnx
        with _quiet_torch(), torch.no_grad():
            return write(module, x, path, opset, dynamic_batch, props, large)

    if exporter == "auto":
        try:
            run("dynamo")
        except Exception as exc:  # the dynamo exporter does not handle every custom module
            warnings.warn(
                f"torch.onnx.export(dynamo=True) failed for {type(module.net).__name__} "
                f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}); "
                "using the TorchScript-based exporter",
                UserWarning,
                stacklevel=2,
            )
            run("torchscript")
    else:
        run(exporter)
    if verify:
        session = _onnx_session(path)
        probe = _probe(card["n_leads"], card["n_times"], batch=3 if dynamic_batch else 2, seed=1)
        got = session.run(None, {INPUT_NAME: probe.numpy()})[0]
        _check_close(got, _eager(module, probe), f"ONNX file {path.name}")
    return path


# ---------------------------------------------------------------------------- TorchScript
def export_torchscript(
    estimator,
    path,
    *,
    output=None,
    method="script",
    n_times=None,
    sfreq=None,
    leads=None,
    verify=True,
):
    """Write the inference graph of a fitted estimator as a TorchScript archive.

    The archive loads with ``torch.jit.load`` alone (no ecgsk needed); its card is the extra
    file ``ecgsk_card.json``.

    Parameters
    ----------
    estimator : fitted ECGClassifier, ECGRegressor, ECGPretrainer or ECGEmbedder
    path : str or path
        The file to write (``.pt``), its folder created if needed.
    output : str, optional
        See :func:`build_inference_module`.
    method : {"script", "trace"}, default="script"
        ``torch.jit.script`` (keeps the input checks of ``ecgsk.nn`` models) or
        ``torch.jit.trace`` (for custom modules that cannot be scripted).
    n_times, sfreq, leads
        See :func:`build_inference_module`.
    verify : bool, default=True
        Reload the archive and check it against torch on random ECGs (within 1e-4).

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If the estimator is not fitted.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> import torch
    >>> from ecgsk.estimators import ECGRegressor
    >>> X = np.random.default_rng(0).standard_normal((32, 12, 250)).astype("float32")
    >>> reg = ECGRegressor("xresnet1d50-tiny", max_epochs=1, random_state=0,
    ...                    progress_bar=False, verbose=0).fit(X, 60 + 10 * X[:, 0, 0])
    >>> path = export_torchscript(reg, tempfile.mkdtemp() + "/reg.pt")
    >>> scripted = torch.jit.load(str(path))
    >>> bool(np.allclose(scripted(torch.from_numpy(X)).numpy(), reg.predict(X), rtol=1e-5))
    True
    """
    if method not in TORCHSCRIPT_METHODS:
        raise ValueError(f"method must be one of {TORCHSCRIPT_METHODS}, got {method!r}")
    module, card = build_inference_module(
        estimator, output, n_times=n_times, sfreq=sfreq, leads=leads
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    card["dynamic_batch"] = True
    card["exporter"] = f"torch.jit.{method}"
    with _quiet_torch(), torch.no_grad():
        if method == "script":
            try:
                compiled = torch.jit.script(module)
            except Exception as exc:
                raise TypeError(
                    f"torch.jit.script cannot compile {type(module.net).__name__} ({exc}); try "
                    'method="trace"'
                ) from exc
        else:
            compiled = torch.jit.trace(module, _probe(card["n_leads"], card["n_times"], batch=2))
        torch.jit.save(
            compiled, str(path), _extra_files={TORCHSCRIPT_CARD_FILE: json.dumps(card)}
        )
    if verify:
        with _quiet_torch():
            loaded = torch.jit.load(str(path), map_location="cpu")
        probe = _probe(card["n_leads"], card["n_times"], batch=3, seed=1)
        _check_close(_eager(loaded, probe), _eager(module, probe), f"TorchScript file {path.name}")
    return path


# ---------------------------------------------------------------------------- reading back
def read_export_card(path) -> dict:
    """The card of a file written by ``to_onnx`` or ``to_torchscript``.

    Parameters
    ----------
    path : str or path
        An ``.onnx`` file (needs the ``onnx`` package) or a TorchScript archive.

    Returns
    -------
    dict
        ``estimator``, ``model``, ``task``, ``output``, ``columns``, ``classes``,
        ``thresholds``, ``input`` (name, shape, sfreq, leads), ``ecgsk_version``, ...

    Raises
    ------
    ValueError
        If the file holds no ecgsk card.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from ecgsk.estimators import ECGEmbedder
    >>> from ecgsk.nn import build_model
    >>> X = np.zeros((2, 12, 500), dtype="float32")
    >>> embedder = ECGEmbedder(build_model("deepecg-ssl-tiny", n_times=500, n_outputs=1)).fit(X)
    >>> card = read_export_card(embedder.to_torchscript(tempfile.mkdtemp() + "/emb.pt"))
    >>> card["output"], card["input"]["shape"]
    ('transform', ['batch', 12, 500])
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    if zipfile.is_zipfile(path):
        # read as a zip: the archive's code is never loaded to read its card
        text = read_torchscript_card(path)
        if not text:
            raise ValueError(f"{path} is a TorchScript archive without an ecgsk card")
        return parse_card(text, EXPORT_FORMAT, f"{path} ({TORCHSCRIPT_CARD_FILE})")
    _require_onnx(for_export=False)
    import onnx

    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:
        raise ValueError(f"{path} is neither an ONNX file nor a TorchScript archive") from exc
    props = {p.key: p.value for p in model.metadata_props}
    if CARD_KEY not in props:
        raise ValueError(f"{path} is an ONNX file without an ecgsk card (metadata '{CARD_KEY}')")
    return parse_card(props[CARD_KEY], EXPORT_FORMAT, f"{path} (metadata '{CARD_KEY}')")


# ---------------------------------------------------------------------------- estimator methods
class ExportMixin:
    """``to_onnx`` and ``to_torchscript`` for the fitted ECG estimators and ``ECGEmbedder``."""

    def to_onnx(self, path, *, opset=None, dynamic_batch=True, output=None, n_times=None,
                **kwargs):
        """Write the fitted estimator's inference graph to an ONNX file.

        The graph takes ``ecg`` (float32, ``(batch, n_leads_, n_times)``) and returns what
        ``output`` names: by default ``predict_proba`` for a classifier, ``predict`` (original
        units) for a regressor, ``transform`` (embeddings, without ``ECGEmbedder``'s cache) for
        a pretrainer or an embedder. Classes, thresholds, input shape and the ecgsk version are
        in the file's metadata.

        Parameters
        ----------
        path : str or path
            The ``.onnx`` file to write.
        opset : int, optional
            ONNX opset version (default: the exporter's recommended one).
        dynamic_batch : bool, default=True
            Let the batch axis vary.
        output : {"predict_proba", "decision_function", "predict", "transform"}, optional
            The method the graph computes.
        n_times : int, optional
            Samples per lead of the input (the time axis is fixed in the file). ``fit`` sets it
            (``n_times_``) for all but :class:`ECGEmbedder`, whose default is the length its
            encoder was built for (``encoder_.n_times``).
        **kwargs
            ``exporter``, ``sfreq``, ``leads``, ``verify``: see
            :func:`ecgsk.estimators._export.export_onnx`.

        Returns
        -------
        pathlib.Path

        Examples
        --------
        >>> import tempfile
        >>> import numpy as np
        >>> from ecgsk.estimators import ECGClassifier
        >>> X = np.random.default_rng(0).standard_normal((32, 12, 250)).astype("float32")
        >>> clf = ECGClassifier("xresnet1d50-tiny", max_epochs=1, random_state=0,
        ...                     progress_bar=False, verbose=0).fit(X, np.tile([0, 1], 16))
        >>> path = clf.to_onnx(tempfile.mkdtemp() + "/clf.onnx")
        >>> import onnxruntime
        >>> session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
        >>> proba = session.run(None, {"ecg": X[:5]})[0]
        >>> bool(np.allclose(proba, clf.predict_proba(X[:5]), atol=1e-4))
        True
        """
        return export_onnx(self, path, output=output, opset=opset, dynamic_batch=dynamic_batch,
                           n_times=n_times, **kwargs)

    def to_torchscript(self, path, *, method="script", output=None, n_times=None, **kwargs):
        """Write the fitted estimator's inference graph as a TorchScript archive.

        The archive computes what :meth:`to_onnx` computes, loads with ``torch.jit.load``
        without ecgsk, and carries the same card as the extra file ``ecgsk_card.json``.

        Parameters
        ----------
        path : str or path
            The file to write (``.pt``).
        method : {"script", "trace"}, default="script"
            ``torch.jit.script`` or ``torch.jit.trace``.
        output : {"predict_proba", "decision_function", "predict", "transform"}, optional
            The method the graph computes.
        n_times : int, optional
            Samples per lead recorded in the card (and used to trace); see :meth:`to_onnx`.
        **kwargs
            ``sfreq``, ``leads``, ``verify``: see
            :func:`ecgsk.estimators._export.export_torchscript`.

        Returns
        -------
        pathlib.Path

        Examples
        --------
        >>> import json
        >>> import tempfile
        >>> import numpy as np
        >>> import torch
        >>> from ecgsk.estimators import ECGEmbedder
        >>> from ecgsk.nn import build_model
        >>> X = np.random.default_rng(0).standard_normal((3, 12, 500)).astype("float32")
        >>> embedder = ECGEmbedder(build_model("deepecg-ssl-tiny", n_times=500, n_outputs=1)).fit(X)
        >>> extra = {"ecgsk_card.json": ""}
        >>> scripted = torch.jit.load(embedder.to_torchscript(tempfile.mkdtemp() + "/emb.pt"),
        ...                           _extra_files=extra)
        >>> bool(np.allclose(scripted(torch.from_numpy(X)).numpy(), embedder.transform(X),
        ...                  atol=1e-5))
        True
        >>> json.loads(extra["ecgsk_card.json"])["input"]["shape"]
        ['batch', 12, 500]
        """
        return export_torchscript(self, path, output=output, method=method, n_times=n_times,
                                  **kwargs)
