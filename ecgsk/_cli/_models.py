"""Open a model folder given on the command line: a saved estimator or a pretrained encoder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ._errors import CLIError

# the file names and formats of ecgsk.estimators._cards (not imported here: it loads torch)
MODEL_CARD, MODEL_FORMAT = "card.json", "ecgsk-model"
ENCODER_CARD, ENCODER_FORMAT = "encoder.json", "ecgsk-encoder"

_ESTIMATORS = ("ECGClassifier", "ECGRegressor")


@dataclass
class LoadedModel:
    """A model ready for inference and the input it expects.

    Attributes
    ----------
    kind : {"classifier", "regressor", "encoder"}
    path : Path
        The folder.
    card : dict
        Its ``card.json`` or ``encoder.json``.
    estimator : ECGClassifier, ECGRegressor or None
        Set for saved estimators.
    encoder : torch.nn.Module or None
        Set for encoder folders (in evaluation mode, on ``device``).
    device : str
        Where the network runs.
    n_leads : int
        Leads of the network input.
    n_times : int or None
        Samples of the network input; None when any length from ``min_times`` on works.
    min_times : int
    sfreq : float or None
        Sampling rate of the network input, when the card records it.
    leads : tuple of str or None
        Lead order of the network input, when the card records it.
    preprocessing : estimator or None
        The card's preprocessing, rebuilt unfitted.
    """

    kind: str
    path: Path
    card: dict
    estimator: object | None
    encoder: object | None
    device: str
    n_leads: int
    n_times: int | None
    min_times: int
    sfreq: float | None
    leads: tuple[str, ...] | None
    preprocessing: object | None

    def describe_input(self) -> str:
        """The network input in words, e.g. ``12 leads x 2500 samples at 250 Hz``."""
        length = f"{self.n_times} samples" if self.n_times else f">= {self.min_times} samples"
        rate = f" at {self.sfreq:g} Hz" if self.sfreq else ""
        return f"{self.n_leads} leads x {length}{rate}"


def _check_device(device: str) -> None:
    import torch

    try:
        kind = torch.device("cpu" if device == "auto" else device).type
    except RuntimeError:
        raise CLIError(
            f"--device {device!r} is not a device name (auto, cpu, cuda, cuda:1, ...)"
        ) from None
    if kind == "cuda" and not torch.cuda.is_available():
        raise CLIError(
            f"--device {device} asks for a GPU but no CUDA device is available; use auto or cpu"
        )


def _read_card(path: Path, fmt: str, what: str = "MODEL") -> dict:
    """The validated card at ``path`` (the one card reader of ecgsk, errors as usage errors)."""
    from ..estimators._cards import read_card, upgraded_model_card

    try:
        card = read_card(path, fmt)
        return upgraded_model_card(card, str(path)) if fmt == MODEL_FORMAT else card
    except (OSError, ValueError) as exc:
        raise CLIError(f"{what} card {path} cannot be used: {exc}") from None


def _card_preprocessing(card: dict, path: Path, what: str):
    from ..estimators._cards import preprocessing_from_data

    try:
        return preprocessing_from_data(card.get("preprocessing"), f"{path}: preprocessing")
    except ValueError as exc:
        raise CLIError(f"{what} card {exc}") from None


def load_model(path, *, device: str = "auto", what: str = "MODEL") -> LoadedModel:
    """Load a folder written by ``ECGClassifier/ECGRegressor.save`` or ``ECGPretrainer.save``.

    Parameters
    ----------
    path : str or Path
        The model folder.
    device : str, default="auto"
        ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"``, ``"cuda:1"``...
    what : str, default="MODEL"
        How error messages name the argument.

    Returns
    -------
    LoadedModel

    Raises
    ------
    CLIError
        If the folder does not exist, is not a model folder, or cannot be loaded.

    Examples
    --------
    >>> import tempfile
    >>> load_model(tempfile.mkdtemp())  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ecgsk._cli._errors.CLIError: MODEL ... is not a model folder: ...
    """
    _check_device(device)
    folder = Path(path)
    if not folder.exists():
        raise CLIError(f"{what} {folder} does not exist")
    if not folder.is_dir():
        raise CLIError(
            f"{what} {folder} is a file; give the folder written by save() (it holds "
            f"{MODEL_CARD} and weights.safetensors)"
        )
    if (folder / MODEL_CARD).is_file():
        return _load_estimator(folder, device, what)
    if (folder / ENCODER_CARD).is_file():
        return _load_encoder(folder, device, what)
    raise CLIError(
        f"{what} {folder} is not a model folder: it holds neither {MODEL_CARD} "
        f"(ECGClassifier/ECGRegressor.save) nor {ENCODER_CARD} (ECGPretrainer.save)"
    )


def _load_estimator(folder: Path, device: str, what: str) -> LoadedModel:
    from .. import estimators
    from ..preprocessing._introspection import pipeline_rates

    card = _read_card(folder / MODEL_CARD, MODEL_FORMAT, what)
    name = card["estimator"]
    if name not in _ESTIMATORS:
        raise CLIError(f"{what} {folder} holds a {name!r}; expected one of {list(_ESTIMATORS)}")
    preprocessing = _card_preprocessing(card, folder / MODEL_CARD, what)
    try:
        est = getattr(estimators, name).load(folder, device=device)
    except Exception as exc:  # damaged weights raise library-specific errors: an input problem
        raise CLIError(f"{what} {folder} cannot be loaded ({type(exc).__name__}: {exc})") from None
    shape = card["input"]
    sfreq = shape.get("sfreq")
    if sfreq is None and preprocessing is not None:
        sfreq = pipeline_rates(preprocessing)[1]
    leads = shape.get("leads")
    return LoadedModel(
        kind="regressor" if name == "ECGRegressor" else "classifier",
        path=folder,
        card=card,
        estimator=est,
        encoder=None,
        device=str(est.device_),
        n_leads=int(est.n_leads_),
        n_times=int(est.n_times_),
        min_times=int(est.n_times_),
        sfreq=None if sfreq is None else float(sfreq),
        leads=None if leads is None else tuple(leads),
        preprocessing=preprocessing,
    )


def _load_encoder(folder: Path, device: str, what: str) -> LoadedModel:
    from ..estimators import load_encoder
    from ..estimators._base import resolve_device

    _read_card(folder / ENCODER_CARD, ENCODER_FORMAT, what)
    try:
        encoder, _ = load_encoder(folder)
        resolved = resolve_device(device)
        encoder = encoder.to(resolved).eval()
    except Exception as exc:  # damaged weights raise library-specific errors: an input problem
        raise CLIError(f"{what} {folder} cannot be loaded ({type(exc).__name__}: {exc})") from None
    if not hasattr(encoder, "forward_features"):
        raise CLIError(f"{what} {folder}: {type(encoder).__name__} has no forward_features()")
    card = encoder.card_
    shape = card.get("input", {})
    sfreq, leads = shape.get("sfreq"), shape.get("leads")
    return LoadedModel(
        kind="encoder",
        path=folder,
        card=card,
        estimator=None,
        encoder=encoder,
        device=str(resolved),
        n_leads=int(shape["n_leads"]),
        n_times=None,
        min_times=int(getattr(encoder, "min_times", 1)),
        sfreq=None if sfreq is None else float(sfreq),
        leads=None if leads is None else tuple(leads),
        preprocessing=None,
    )
