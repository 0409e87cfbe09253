"""Load the public DeepECG weights (DeepECG-SL TorchScript, DeepECG-SSL fairseq-signals) as
fitted :class:`~ecgsk.ECGClassifier` estimators. Nothing is downloaded: users pass local files.

What the release expects (HeartWise-AI/DeepECG_Docker: ``models/efficientnet_wrapper.py``,
``models/wcr_ecg_transformer.py``, ``utils/analysis_pipeline.py``, ``utils/constants.py``,
``data/project_dataset.py``):

- input ``(batch, 12, 2500)`` float32, 10 s at 250 Hz, leads I, II, III, aVR, aVL, aVF, V1-V6
  (ecgsk's ``STANDARD_12``); the pipeline brings every cohort to PTB-XL's amplitude scale
  (millivolts) by matching the mean spectral magnitude of lead I, as ecgsk's
  ``make_deepecg_preprocessing`` does record by record;
- DeepECG-SL (EfficientNetV2, a TorchScript file loaded with ``torch.jit.load``) multiplies
  that signal by ``1 / 0.0048`` before the network (the 4.8 uV per count of the Montreal Heart
  Institute's MUSE recordings it was trained on); its 77 logits follow the label list
  (:data:`ecgsk.labels.DEEPECG_LABELS`);
- DeepECG-SSL (the "WCR" wav2vec 2.0 + CMSC + RLM transformer, a fairseq-signals checkpoint)
  takes the signal unscaled; its 77 logits come in the order of
  :data:`DEEPECG_SSL_OUTPUT_LABELS`, which DeepECG_Docker permutes into the label list.

Both return logits; probabilities are their sigmoid. The weight files carry no decision
thresholds, so ``thresholds_`` is 0.5 for every label unless ``thresholds=`` is given.
DeepECG_Docker keeps its own per-label thresholds for the SSL model in code
(``WCR_THRESHOLDS`` in ``utils/constants.py``, moved in later versions to
``thresholds/wcr_77_classes_ecg_machine_diagnosis.json``; chosen on the Montreal Heart
Institute's data, many far below 0.5); they are not copied here, and a user can pass them by
label name.
"""

from __future__ import annotations

import numbers
import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch

from ..labels import DEEPECG_LABELS
from ._fairseq import (
    _check_trust,
    convert_fairseq_state_dict,
    read_fairseq_checkpoint,
    ssl_model_config,
)
from ._torchscript import (
    DEEPECG_SL_INPUT_SCALE,
    RELEASE_N_LEADS,
    RELEASE_N_TIMES,
    ReleasedTorchScript,
    is_torchscript_archive,
)

#: DeepECG-SSL takes millivolts as they are.
DEEPECG_SSL_INPUT_SCALE = 1.0
KINDS = ("auto", "sl", "ssl")

#: The 77 labels in the order of the released DeepECG-SSL (WCR) head's outputs.
DEEPECG_SSL_OUTPUT_LABELS: tuple[str, ...] = (
    "Acute pericarditis", "QS complex in V1-V2-V3", "T wave inversion (anterior - V3-V4)",
    "Right atrial enlargement", "2nd degree AV block - mobitz 1",
    "Left posterior fascicular block", "Wolff-Parkinson-White (Pre-excitation syndrome)",
    "Junctional rhythm", "Premature ventricular complex", "rSR' in V1-V2",
    "Right superior axis", "ST elevation (inferior - II, III, aVF)", "Afib",
    "ST elevation (anterior - V3-V4)", "RV1 + SV6 > 11 mm", "Sinusal", "Monomorph",
    "Delta wave", "R/S ratio in V1-V2 >1", "Third Degree AV Block", "LV pacing",
    "Nonspecific intraventricular conduction delay", "ST depression (inferior - II, III, aVF)",
    "Regular", "Premature atrial complex", "2nd degree AV block - mobitz 2",
    "Left anterior fascicular block", "Q wave (septal- V1-V2)", "Prolonged QT",
    "Left axis deviation", "Left ventricular hypertrophy", "ST depression (septal- V1-V2)",
    "Supraventricular tachycardia", "Atrial paced", "Q wave (inferior - II, III, aVF)",
    "no_qrs", "T wave inversion (lateral -I, aVL, V5-V6)", "Right bundle branch block",
    "ST elevation (septal - V1-V2)", "SV1 + RV5 or RV6 > 35 mm", "Right axis deviation",
    "RaVL > 11 mm", "Polymorph", "Ventricular tachycardia", "QRS complex negative in III",
    "ST depression (lateral - I, avL, V5-V6)", "1st degree AV block", "Lead misplacement",
    "Q wave (posterior - V7-V9)", "Atrial flutter", "Ventricular paced",
    "ST elevation (posterior - V7-V8-V9)", "Ectopic atrial rhythm (< 100 BPM)",
    "Early repolarization", "Ventricular Rhythm", "Irregularly irregular",
    "Atrial tachycardia (>= 100 BPM)", "R complex in V5-V6",
    "ST elevation (lateral - I, aVL, V5-V6)", "Brugada", "Bi-atrial enlargement",
    "Q wave (lateral- I, aVL, V5-V6)", "ST upslopping",
    "T wave inversion (inferior - II, III, aVF)",
    "Regularly irregular", "Bradycardia", "qRS in V5-V6-I, aVL", "Q wave (anterior - V3-V4)",
    "Acute MI", "ST depression (anterior - V3-V4)", "Right ventricular hypertrophy",
    "T wave inversion (septal- V1-V2)", "ST downslopping", "Left bundle branch block",
    "Low voltage", "U wave", "Left atrial enlargement",
)


def ssl_output_permutation() -> np.ndarray:
    """Indices ``p`` such that ``ssl_logits[:, p]`` is in :data:`DEEPECG_LABELS` order.

    Examples
    --------
    >>> from ecgsk.labels import DEEPECG_LABELS
    >>> p = ssl_output_permutation()
    >>> DEEPECG_SSL_OUTPUT_LABELS[p[0]] == DEEPECG_LABELS[0]
    True
    """
    position = {name: i for i, name in enumerate(DEEPECG_SSL_OUTPUT_LABELS)}
    return np.array([position[name] for name in DEEPECG_LABELS], dtype=np.int64)


def detect_release_kind(path) -> str:
    """``"sl"`` for a TorchScript archive, ``"ssl"`` for a ``torch.save`` checkpoint file.

    Parameters
    ----------
    path : str or path
        A local file.

    Returns
    -------
    {"sl", "ssl"}

    Raises
    ------
    FileNotFoundError
        If ``path`` is not a file.
    ValueError
        If the file is neither a TorchScript archive nor a PyTorch checkpoint.

    Examples
    --------
    >>> import tempfile, torch
    >>> path = tempfile.mktemp(suffix=".pt")
    >>> torch.jit.save(torch.jit.script(torch.nn.Linear(2, 1)), path)
    >>> detect_release_kind(path)
    'sl'
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"weights file {str(path)!r} does not exist")
    if is_torchscript_archive(path):
        return "sl"
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            if any(n.endswith("data.pkl") for n in archive.namelist()):
                return "ssl"
        raise ValueError(
            f"{path} is a zip file but neither a TorchScript archive nor a PyTorch checkpoint"
        )
    with open(path, "rb") as f:
        head = f.read(2)
    # torch.save's legacy (non-zip) format starts with a pickle protocol-2+ opcode
    if head[:1] == b"\x80":
        return "ssl"
    raise ValueError(
        f"{path} is not a DeepECG weights file: expected a TorchScript archive (DeepECG-SL) or "
        "a fairseq-signals checkpoint written by torch.save (DeepECG-SSL)"
    )


def _check_kind(kind) -> str:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    return kind


def _classes(n_outputs: int):
    """``(task_, classes_)`` for a head of ``n_outputs`` logits."""
    if n_outputs == len(DEEPECG_LABELS):
        return "multilabel", np.asarray(DEEPECG_LABELS, dtype=object)
    if n_outputs == 1:
        return "binary", np.array([0, 1])
    return "multilabel", np.arange(n_outputs)


def _output_order(n_outputs: int) -> str:
    """Name of the order of the estimator's outputs (``classes_``)."""
    return "DEEPECG_LABELS" if n_outputs == len(DEEPECG_LABELS) else "output index"


def _probability(value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{what} must be a probability in (0, 1), got {value!r}")
    if not 0.0 < float(value) < 1.0:  # also refuses NaN
        raise ValueError(f"{what} must be a probability in (0, 1), got {value!r}")
    return float(value)


def check_release_thresholds(thresholds, task: str, classes) -> np.ndarray:
    """Decision thresholds for a loaded release, one per label, validated.

    Parameters
    ----------
    thresholds : float, array-like or dict
        One probability for every label; one per label in the order of ``classes`` (binary:
        one value); or ``{label: probability}`` by label name (labels left out keep 0.5).
        Every value must lie strictly between 0 and 1.
    task : {"binary", "multilabel"}
        The estimator's ``task_``.
    classes : ndarray
        The estimator's ``classes_`` (binary: the positive class, ``classes[1]``, names the
        one label).

    Returns
    -------
    ndarray of shape (n_labels,)
        The thresholds, as float64.

    Raises
    ------
    ValueError
        If a value is outside (0, 1) or NaN, the array has the wrong shape, or a dict names
        a label that is not in ``classes``.
    TypeError
        If ``thresholds`` or one of its values is not a number.

    Examples
    --------
    >>> import numpy as np
    >>> check_release_thresholds({"b": 0.2}, "multilabel", np.array(["a", "b"], dtype=object))
    array([0.5, 0.2])
    """
    labels = [classes[1]] if task == "binary" else list(classes)
    n_labels = len(labels)
    if isinstance(thresholds, numbers.Real) and not isinstance(thresholds, bool):
        return np.full(n_labels, _probability(thresholds, "thresholds"))
    if isinstance(thresholds, Mapping):
        position = {label: i for i, label in enumerate(labels)}
        unknown = [key for key in thresholds if key not in position]
        if unknown:
            shown = ", ".join(map(repr, labels[:3]))
            raise ValueError(
                f"thresholds names {len(unknown)} label(s) the model does not output: "
                f"{unknown[:5]}; its labels are classes_ ({shown}, ...)"
            )
        out = np.full(n_labels, 0.5)
        for key, value in thresholds.items():
            out[position[key]] = _probability(value, f"thresholds[{key!r}]")
        return out
    if isinstance(thresholds, (str, bytes, bool)) or thresholds is None:
        raise TypeError(
            "thresholds must be a probability, an array of one per label or a dict by label "
            f"name, got {thresholds!r}"
        )
    try:
        values = np.asarray(thresholds, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            f"thresholds must be numbers, got {type(thresholds).__name__} {thresholds!r}"
        ) from None
    if values.shape != (n_labels,):
        raise ValueError(
            f"thresholds has shape {values.shape}; the model has {n_labels} label(s), so one "
            f"threshold per label is shape ({n_labels},)"
        )
    bad = np.flatnonzero(~((values > 0.0) & (values < 1.0)))
    if bad.size:
        raise ValueError(
            f"thresholds must be probabilities in (0, 1); label(s) {bad[:5].tolist()} have "
            f"{values[bad[:5]].tolist()}"
        )
    return values


def _make_fitted(cls, module, n_outputs, device, thresholds, **kwargs):
    """An estimator set up as ``PersistenceMixin.load`` does, without calling fit."""
    task, classes = _classes(n_outputs)
    chosen = check_release_thresholds(thresholds, task, classes)
    # a single threshold also becomes the parameter, so a later fit (fine-tuning) keeps it
    threshold = float(chosen[0]) if np.all(chosen == chosen[0]) else 0.5
    est = cls(module, device=device, threshold=threshold, progress_bar=False, verbose=0,
              **kwargs)
    est.task_ = task
    est.classes_ = classes
    est.n_leads_, est.n_times_, est.n_outputs_ = RELEASE_N_LEADS, RELEASE_N_TIMES, n_outputs
    est.thresholds_ = chosen
    est.n_epochs_ = est.best_epoch_ = 0
    est.monitor_ = est._score_name
    est.pos_weight_ = None
    return est


def _load_sl(cls, path: Path, device, thresholds):
    probe = ReleasedTorchScript(path)
    try:
        with torch.inference_mode():
            out = probe.eval()(torch.zeros(2, RELEASE_N_LEADS, RELEASE_N_TIMES))
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"{path}: the TorchScript model fails on a (2, 12, 2500) input, the DeepECG input "
            f"shape: {exc}"
        ) from exc
    if out.dim() != 2 or out.shape[0] != 2:
        raise ValueError(
            f"{path}: the TorchScript model maps (2, 12, 2500) to {tuple(out.shape)}; a DeepECG "
            "model returns (batch, n_outputs) logits"
        )
    n_outputs = int(out.shape[1])
    est = _make_fitted(cls, ReleasedTorchScript, n_outputs, device, thresholds,
                       module__path=str(path), module__input_scale=DEEPECG_SL_INPUT_SCALE)
    est.initialize()
    est.module_.eval()
    # the archive's outputs are used as they come: in the label list's order for 77 of them
    order = _output_order(n_outputs)
    est.release_ = {"kind": "sl", "path": str(path), "input_scale": DEEPECG_SL_INPUT_SCALE,
                    "file_output_order": order, "output_order": order}
    return est


def _load_ssl(cls, path: Path, device, thresholds, trust_checkpoint):
    ckpt = read_fairseq_checkpoint(path, trust_checkpoint=trust_checkpoint)
    config = ssl_model_config(ckpt)
    if config["n_leads"] != RELEASE_N_LEADS:
        raise ValueError(
            f"{path}: the checkpoint takes {config['n_leads']} leads; DeepECG models take 12"
        )
    n_outputs = config["n_outputs"]
    arch = {k: v for k, v in config.items() if k not in ("n_leads", "n_outputs")}
    # a weight-normalised (parametrized) module cannot be pickled: fold the norm, same function
    del arch["pos_conv_weight_norm"]
    if arch["conv_layers"] == ((256, 2, 2),) * 4:
        del arch["conv_layers"]  # the registry default: keeps the model card plain JSON
    est = _make_fitted(cls, "deepecg-ssl", n_outputs, device, thresholds,
                       **{f"module__{k}": v for k, v in arch.items()})
    est.initialize()
    state = convert_fairseq_state_dict(ckpt, est.module_)
    permuted = n_outputs == len(DEEPECG_SSL_OUTPUT_LABELS)
    if permuted:
        order = torch.from_numpy(ssl_output_permutation())
        for key in ("head.linear.weight", "head.linear.bias"):
            state[key] = state[key][order]
    est.module_.load_state_dict(state)
    est.module_.eval()
    est.release_ = {"kind": "ssl", "path": str(path), "input_scale": DEEPECG_SSL_INPUT_SCALE,
                    "file_output_order": "DEEPECG_SSL_OUTPUT_LABELS" if permuted
                    else "output index",
                    "output_order": _output_order(n_outputs),
                    "config": {k: v for k, v in config.items() if k != "conv_layers"}
                    | {"conv_layers": [list(c) for c in config["conv_layers"]]}}
    return est


def load_deepecg(cls, path, *, kind="auto", device="auto", thresholds=0.5,
                 trust_checkpoint=False):
    """Load released DeepECG weights as a fitted estimator of class ``cls``.

    See :meth:`ecgsk.ECGClassifier.from_deepecg`, which calls it and documents the
    parameters.

    Returns
    -------
    estimator
        A fitted ``cls`` wrapping the file's network, with ``release_`` describing the file.

    Examples
    --------
    >>> from ecgsk import ECGClassifier
    >>> clf = load_deepecg(ECGClassifier, "deepecg_sl_77.pt")  # doctest: +SKIP
    """
    kind = _check_kind(kind)
    trust_checkpoint = _check_trust(trust_checkpoint)
    path = Path(path).expanduser()
    detected = detect_release_kind(path)
    if kind == "auto":
        kind = detected
    elif kind != detected:
        what = {"sl": "a TorchScript archive (DeepECG-SL)",
                "ssl": "a torch.save checkpoint (DeepECG-SSL)"}[detected]
        raise ValueError(f"kind={kind!r} but {path} is {what}")
    path = path.resolve()
    if kind == "sl":
        return _load_sl(cls, path, device, thresholds)
    return _load_ssl(cls, path, device, thresholds, trust_checkpoint)
