"""Pretrained encoders: saving them with a card, and resolving ``encoder=`` arguments.

An encoder folder holds ``encoder.safetensors`` (weights only) and ``encoder.json`` (the
registry name and keyword arguments that rebuild the network, its input shape, sampling rate
and lead order when known, how it was pretrained, and the library version).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import torch

from ._persistence import card_header

ENCODER_CARD = "encoder.json"
ENCODER_WEIGHTS = "encoder.safetensors"
ENCODER_FORMAT = "ecgsk-encoder"


def save_encoder(encoder, path, *, spec, n_leads, n_times, sfreq=None, leads=None, pretraining=None):
    """Write an encoder's weights and card to the folder ``path``.

    Parameters
    ----------
    encoder : torch.nn.Module
        The network (an ``ecgsk.nn`` model).
    path : str or path
        Output folder, created if needed.
    spec : dict
        ``{"name": registry name, "kwargs": {...}}``: what rebuilds the network.
    n_leads, n_times : int
        The input shape it was trained on.
    sfreq : float, optional
        Sampling rate of that input (Hz).
    leads : sequence of str, optional
        Lead order of that input.
    pretraining : dict, optional
        How it was trained (objectives, epochs, losses), for the record.

    Returns
    -------
    pathlib.Path
        The folder.

    Examples
    --------
    >>> import tempfile
    >>> from ecgsk.nn import build_model
    >>> enc = build_model("deepecg-ssl-tiny", n_times=1250, n_outputs=1)
    >>> folder = save_encoder(enc, tempfile.mkdtemp(), spec={"name": "deepecg-ssl-tiny", "kwargs": {}},
    ...                       n_leads=12, n_times=1250, sfreq=250)
    >>> sorted(p.name for p in folder.iterdir())
    ['encoder.json', 'encoder.safetensors']
    """
    from safetensors.torch import save_model


    card = {
        **card_header(ENCODER_FORMAT, 1),
        "model": {"name": spec["name"], "kwargs": dict(spec.get("kwargs", {}))},
        "input": {
            "n_leads": int(n_leads),
            "n_times": int(n_times),
            "sfreq": None if sfreq is None else float(sfreq),
            "leads": None if leads is None else [str(lead) for lead in leads],
        },
        "n_features": int(getattr(encoder, "n_features", 0)),
        "pretraining": pretraining,
    }
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    save_model(encoder, str(folder / ENCODER_WEIGHTS))
    (folder / ENCODER_CARD).write_text(json.dumps(card, indent=2, ensure_ascii=False))
    return folder


def load_encoder(source):
    """Return a fresh copy of a pretrained encoder and the spec that rebuilds it.

    Parameters
    ----------
    source : fitted ECGPretrainer, fitted ECGClassifier/ECGRegressor, folder, or torch.nn.Module
        A folder is one written by :func:`save_encoder` (``ECGPretrainer.save``). Inside
        ``cross_val_score``/``GridSearchCV`` use a folder or ``pretrainer.encoder_``: sklearn
        clones estimator parameters into unfitted copies.

    Returns
    -------
    encoder : torch.nn.Module
        A deep copy: fine-tuning never changes ``source``.
    spec : dict or None
        ``{"name", "kwargs"}`` when the network comes from the registry, else None.

    Examples
    --------
    >>> from ecgsk.nn import build_model
    >>> enc, spec = load_encoder(build_model("deepecg-ssl-tiny", n_times=1250, n_outputs=1))
    >>> type(enc).__name__, spec
    ('ECGTransformer', None)
    """
    if isinstance(source, torch.nn.Module):
        spec = getattr(source, "ecgsk_spec", None)
        return copy.deepcopy(source), None if spec is None else dict(spec)
    if hasattr(source, "_pretrained_encoder"):  # a fitted ECG estimator (its own error if not)
        return source._pretrained_encoder()
    if isinstance(source, (str, Path)):
        return _load_encoder_folder(Path(source))
    raise TypeError(
        "encoder must be a fitted ECGPretrainer (or fitted ECGClassifier/ECGRegressor), a folder "
        f"written by ECGPretrainer.save(), or a torch module; got {type(source).__name__}"
    )


def _load_encoder_folder(folder: Path):
    from safetensors.torch import load_model

    from ..nn import build_model

    card_path = folder / ENCODER_CARD
    if not card_path.exists():
        raise FileNotFoundError(f"{card_path} does not exist: not a folder written by ECGPretrainer.save()")
    card = json.loads(card_path.read_text())
    if card.get("format") != ENCODER_FORMAT:
        raise ValueError(f"{card_path} is not an ecgsk encoder card")
    spec = card["model"]
    shape = card["input"]
    encoder = build_model(
        spec["name"], n_leads=shape["n_leads"], n_times=shape["n_times"], n_outputs=1, **spec["kwargs"]
    )
    missing, unexpected = load_model(encoder, str(folder / ENCODER_WEIGHTS), strict=False)
    if missing or unexpected:
        raise ValueError(
            f"{folder / ENCODER_WEIGHTS} does not match {spec['name']!r}: missing {sorted(missing)[:5]}, "
            f"unexpected {sorted(unexpected)[:5]}"
        )
    encoder.card_ = card
    encoder.ecgsk_spec = {"name": spec["name"], "kwargs": dict(spec["kwargs"])}
    return encoder, {"name": spec["name"], "kwargs": dict(spec["kwargs"])}
