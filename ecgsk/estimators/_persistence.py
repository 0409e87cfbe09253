"""Saving a trained estimator as safetensors weights plus a JSON model card, and loading it back.

The folder written by ``save(path)`` holds ``weights.safetensors`` (the network only, no pickled
code) and ``card.json`` (what is needed to rebuild the estimator and to refuse input that does
not match: labels, thresholds, input shape, lead order and sampling rate when known, the
model's registry name and keyword arguments, and the library version).
"""

from __future__ import annotations

import datetime
import importlib
import json
import numbers
from pathlib import Path

import numpy as np
import torch

CARD_FILE = "card.json"
WEIGHTS_FILE = "weights.safetensors"
CARD_FORMAT = "ecgsk-model"
CARD_VERSION = 1

# estimator parameters stored in the card (plain values only); the rest take their defaults
_CARD_PARAMS = (
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
# fitted attributes restored from the card
_CARD_FITTED = (
    "task_",
    "n_leads_",
    "n_times_",
    "n_outputs_",
    "y_ndim_",
    "n_epochs_",
    "best_epoch_",
)


def _plain(value):
    """``value`` if JSON can hold it exactly, else a marker that it was left out."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, (list, tuple)):
        # nested sequences too, e.g. conv_layers=((256, 2, 2), ...); raises if an item cannot
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return value.tolist()
    raise TypeError


def card_header(fmt: str, version: int) -> dict:
    """The first fields of every ecgsk card: format, versions and creation time (UTC)."""
    from .. import __version__

    return {
        "format": fmt,
        "format_version": version,
        "ecgsk_version": __version__,
        "torch_version": torch.__version__,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def _full_repr(obj) -> str:
    """``repr`` of an sklearn object without the "..." that sklearn puts in long ones."""
    if hasattr(obj, "get_params"):
        return obj.__repr__(N_CHAR_MAX=1_000_000)
    return repr(obj)


def _import_path(obj) -> str:
    return f"{obj.__module__}:{obj.__qualname__}"


def _import(path: str):
    module_name, _, qualname = path.partition(":")
    target = importlib.import_module(module_name)
    for part in qualname.split("."):
        target = getattr(target, part)
    return target


class PersistenceMixin:
    """``save(path)`` and ``load(path)`` for the ECG estimators."""

    def save(self, path, *, sfreq=None, leads=None, preprocessing=None):
        """Write the trained estimator to the folder ``path`` (created if needed).

        Parameters
        ----------
        path : str or path
            Output folder; ``weights.safetensors`` and ``card.json`` are written into it.
        sfreq : float, optional
            Sampling rate (Hz) of the network input, recorded in the card.
        leads : sequence of str, optional
            Lead order of the network input (``len(leads)`` must equal ``n_leads_``).
        preprocessing : object, optional
            The preprocessing applied before the network (e.g. a ``Pipeline``); its ``repr``
            is recorded in the card for humans.

        Returns
        -------
        pathlib.Path
            The folder written.

        Examples
        --------
        >>> import tempfile
        >>> import numpy as np
        >>> from ecgsk.estimators import ECGClassifier
        >>> rng = np.random.default_rng(0)
        >>> X = rng.standard_normal((32, 12, 250)).astype("float32")
        >>> y = np.tile([0, 1], 16)
        >>> clf = ECGClassifier("xresnet1d50-tiny", max_epochs=1, random_state=0,
        ...                     progress_bar=False, verbose=0).fit(X, y)
        >>> folder = clf.save(tempfile.mkdtemp(), sfreq=250)
        >>> sorted(p.name for p in folder.iterdir())
        ['card.json', 'weights.safetensors']
        >>> loaded = ECGClassifier.load(folder, device="cpu")
        >>> bool(np.array_equal(loaded.predict_proba(X), clf.predict_proba(X)))
        True
        >>> loaded.card_["input"]["sfreq"]
        250.0
        """
        from safetensors.torch import save_model


        self.check_is_fitted()
        module = self.module
        spec = getattr(self, "module_spec_", None)
        if getattr(self, "encoder", None) is not None:
            if spec is None:
                raise ValueError(
                    "save() rebuilds the network from a registry name; this estimator was "
                    "fine-tuned from an encoder given as a module instance, so use pickle or joblib"
                )
            module_ref = {"registry": spec["name"]}
        elif isinstance(module, str):
            module_ref = {"registry": module}
        elif isinstance(module, type):
            module_ref = {"class": _import_path(module)}
        else:
            raise ValueError(
                "save() rebuilds the network from a registry name or a class; this estimator "
                "was given a module instance, so use pickle or joblib instead"
            )
        module_kwargs = {}
        kwargs = spec["kwargs"] if getattr(self, "encoder", None) is not None else None
        for key, value in (kwargs or self.get_params_for("module")).items():
            try:
                module_kwargs[key] = _plain(value)
            except TypeError:
                raise ValueError(
                    f"module__{key}={value!r} cannot be stored in the JSON card"
                ) from None
        if leads is not None:
            leads = [str(lead) for lead in leads]
            if len(leads) != self.n_leads_:
                raise ValueError(
                    f"leads names {len(leads)} leads but the model has {self.n_leads_}"
                )
        params = {}
        for name in _CARD_PARAMS:
            if name in self.__dict__:
                try:
                    params[name] = _plain(getattr(self, name))
                except TypeError:
                    continue
        card = {
            **card_header(CARD_FORMAT, CARD_VERSION),
            # an estimator trained with an accelerator is saved as its plain counterpart
            "estimator": getattr(self, "_saved_as", type(self).__name__),
            "module": module_ref,
            "module_kwargs": module_kwargs,
            "optimizer": _import_path(self.optimizer) if isinstance(self.optimizer, type) else None,
            "params": params,
            "fitted": {k: _plain(getattr(self, k)) for k in _CARD_FITTED if hasattr(self, k)},
            "classes": None
            if not hasattr(self, "classes_")
            else np.asarray(self.classes_).tolist(),
            "thresholds": None
            if getattr(self, "thresholds_", None) is None
            else np.asarray(self.thresholds_).tolist(),
            "target_mean": None if not hasattr(self, "y_mean_") else self.y_mean_.tolist(),
            "target_scale": None if not hasattr(self, "y_scale_") else self.y_scale_.tolist(),
            "input": {
                "n_leads": int(self.n_leads_),
                "n_times": int(self.n_times_),
                "sfreq": None if sfreq is None else float(sfreq),
                "leads": leads,
            },
            "preprocessing": None if preprocessing is None else _full_repr(preprocessing),
        }
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        save_model(self.module_, str(folder / WEIGHTS_FILE))
        (folder / CARD_FILE).write_text(json.dumps(card, indent=2, ensure_ascii=False))
        return folder

    @classmethod
    def load(cls, path, *, device="auto"):
        """Load an estimator written by :meth:`save`, ready to predict.

        Parameters
        ----------
        path : str or path
            The folder given to :meth:`save`.
        device : str, default="auto"
            Where to put the network (``"auto"``: CUDA when available).

        Returns
        -------
        estimator
            With ``card_`` holding the model card.

        Raises
        ------
        FileNotFoundError
            If ``path`` holds no ``card.json``.
        ValueError
            If the card belongs to another estimator class or a newer card format.

        Examples
        --------
        See :meth:`save`.
        """
        from safetensors.torch import load_model

        folder = Path(path)
        card_path = folder / CARD_FILE
        if not card_path.exists():
            raise FileNotFoundError(f"{card_path} does not exist: not a folder written by save()")
        card = json.loads(card_path.read_text())
        if card.get("format") != CARD_FORMAT:
            raise ValueError(f"{card_path} is not an ecgsk model card")
        if card.get("format_version", 0) > CARD_VERSION:
            raise ValueError(
                f"{card_path} was written by a newer ecgsk (card version "
                f"{card['format_version']}); upgrade ecgsk to load it"
            )
        if card["estimator"] != cls.__name__:
            raise ValueError(f"{folder} holds a {card['estimator']}, not a {cls.__name__}")
        ref = card["module"]
        module = ref["registry"] if "registry" in ref else _import(ref["class"])
        kwargs = dict(card["params"])
        if "threshold" in kwargs and isinstance(kwargs["threshold"], list):
            kwargs["threshold"] = tuple(kwargs["threshold"])
        if card.get("optimizer"):
            kwargs["optimizer"] = _import(card["optimizer"])
        kwargs.update({f"module__{k}": v for k, v in card["module_kwargs"].items()})
        est = cls(module, device=device, progress_bar=False, verbose=0, **kwargs)
        for key, value in card["fitted"].items():
            setattr(est, key, value)
        if card.get("classes") is not None:
            classes = card["classes"]
            as_object = est.task_ == "multilabel" and isinstance(classes[0], str)
            est.classes_ = np.asarray(classes, dtype=object if as_object else None)
        if card.get("thresholds") is not None:
            est.thresholds_ = np.asarray(card["thresholds"], dtype=np.float64)
        elif hasattr(est, "classes_"):
            est.thresholds_ = None
        if card.get("target_mean") is not None:
            est.y_mean_ = np.asarray(card["target_mean"], dtype=np.float64)
            est.y_scale_ = np.asarray(card["target_scale"], dtype=np.float64)
        est.monitor_ = est._score_name
        est.pos_weight_ = None
        est.initialize()
        load_model(est.module_, str(folder / WEIGHTS_FILE), device=str(est.device_))
        est.module_.eval()
        est.card_ = card
        return est
