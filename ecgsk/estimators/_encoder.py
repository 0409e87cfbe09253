"""Pretrained encoders: saving them with a card, and resolving ``encoder=`` arguments.

An encoder folder holds ``encoder.safetensors`` (weights only) and ``encoder.json`` (the
registry name and keyword arguments that rebuild the network, its input shape, sampling rate
and lead order when known, how it was pretrained, and the library version).
"""

from __future__ import annotations

import copy
from pathlib import Path

import torch

from ._cards import (
    ENCODER_CARD,
    ENCODER_FORMAT,
    ENCODER_VERSION,
    card_header,
    plain,
    read_card,
    write_card,
)

ENCODER_WEIGHTS = "encoder.safetensors"


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


    kwargs = {}
    for key, value in dict(spec.get("kwargs", {})).items():
        try:
            kwargs[key] = plain(value)
        except TypeError:
            raise ValueError(f"the encoder's {key}={value!r:.60} cannot be stored in the JSON "
                             "card") from None
    card = {
        **card_header(ENCODER_FORMAT, ENCODER_VERSION),
        "model": {"name": spec["name"], "kwargs": kwargs},
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
    write_card(folder / ENCODER_CARD, card)
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
    ('ECGTransformer', {'name': 'deepecg-ssl-tiny', 'kwargs': {}})
    """
    if isinstance(source, torch.nn.Module):
        spec = getattr(source, "module_spec", None)  # set by ecgsk.nn.build_model
        return copy.deepcopy(source), None if spec is None else dict(spec)
    if hasattr(source, "_pretrained_encoder"):  # a fitted ECG estimator (its own error if not)
        return source._pretrained_encoder()
    if isinstance(source, (str, Path)):
        return _load_encoder_folder(Path(source))
    raise TypeError(
        "encoder must be a fitted ECGPretrainer (or fitted ECGClassifier/ECGRegressor), a folder "
        f"written by ECGPretrainer.save(), or a torch module; got {type(source).__name__}"
    )


def load_weights(module, path: Path, device: str = "cpu"):
    """Load a safetensors file into ``module`` (non-strict); return ``(missing, unexpected)``.

    Weights saved by earlier ecgsk versions are upgraded first (a plain positional-conv weight
    becomes the weight-norm pair, :func:`ecgsk.nn.transformer.upgrade_pos_conv_state`).
    """
    from safetensors.torch import load_file

    from ..nn.transformer import upgrade_pos_conv_state

    state = upgrade_pos_conv_state(load_file(str(path), device=device), module)
    result = module.load_state_dict(state, strict=False)
    return result.missing_keys, result.unexpected_keys


def _load_encoder_folder(folder: Path):
    from ..nn import build_model, list_models

    card_path = folder / ENCODER_CARD
    if not card_path.exists():
        raise FileNotFoundError(
            f"{card_path} does not exist: not a folder written by ECGPretrainer.save()"
        )
    card = read_card(card_path, ENCODER_FORMAT)
    spec = card["model"]
    shape = card["input"]
    if spec["name"] not in list_models():  # only registry networks: the card names no code
        raise ValueError(f"{card_path}: model.name is {spec['name']!r}, which is not a registered "
                         "ecgsk network (ecgsk.nn.list_models())")
    encoder = build_model(
        spec["name"], n_leads=shape["n_leads"], n_times=shape["n_times"], n_outputs=1, **spec["kwargs"]
    )
    missing, unexpected = load_weights(encoder, folder / ENCODER_WEIGHTS)
    if missing or unexpected:
        raise ValueError(
            f"{folder / ENCODER_WEIGHTS} does not match {spec['name']!r}: missing {sorted(missing)[:5]}, "
            f"unexpected {sorted(unexpected)[:5]}"
        )
    encoder.card_ = card
    return encoder, {"name": spec["name"], "kwargs": dict(spec["kwargs"])}
