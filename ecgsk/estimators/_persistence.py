"""Saving a trained estimator as safetensors weights plus a JSON model card, and loading it back.

The folder written by ``save(path)`` holds ``weights.safetensors`` (the network only, no pickled
code) and ``card.json`` (what is needed to rebuild the estimator and to refuse input that does
not match: labels, thresholds, input shape, lead order and sampling rate when known, the
model's registry name and keyword arguments, and the library version).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..preprocessing._freeze import freeze_if_fitted
from ._cards import (
    CARD_FITTED,
    CARD_PARAMS,
    MODEL_CARD,
    MODEL_FORMAT,
    MODEL_VERSION,
    card_header,
    plain,
    preprocessing_to_data,
    read_card,
    resolve_network,
    resolve_optimizer,
    upgraded_model_card,
    write_card,
)

CARD_FILE = MODEL_CARD
WEIGHTS_FILE = "weights.safetensors"
CARD_FORMAT = MODEL_FORMAT
CARD_VERSION = MODEL_VERSION

__all__ = ["CARD_FILE", "WEIGHTS_FILE", "PersistenceMixin", "card_header"]


def _full_repr(obj) -> str:
    """``repr`` of an sklearn object without the "..." that sklearn puts in long ones."""
    if hasattr(obj, "get_params"):
        return obj.__repr__(N_CHAR_MAX=1_000_000)
    return repr(obj)


def _import_path(obj) -> str:
    return f"{obj.__module__}:{obj.__qualname__}"


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
        preprocessing : ecgsk.preprocessing step or Pipeline of them, optional
            The preprocessing applied before the network, recorded in the card as data (each
            step's class and parameters), so that ``ecgsk predict`` can rebuild it. Only
            :mod:`ecgsk.preprocessing` steps can be recorded (``ValueError`` otherwise).

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
                # the name of an ecgsk network; another class is recorded by its import path
            # for the record, and load() then needs module=TheClass
            from ._cards import allowed_networks

            known = allowed_networks().get(module.__name__) is module
            module_ref = {"class": module.__name__ if known else _import_path(module)}
        else:
            raise ValueError(
                "save() rebuilds the network from a registry name or a class; this estimator "
                "was given a module instance, so use pickle or joblib instead"
            )
        module_kwargs = {}
        kwargs = spec["kwargs"] if getattr(self, "encoder", None) is not None else None
        for key, value in (kwargs or self.get_params_for("module")).items():
            try:
                module_kwargs[key] = plain(value)
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
        for name in CARD_PARAMS:
            if name in self.__dict__:
                try:
                    params[name] = plain(getattr(self, name))
                except TypeError:
                    continue
        card = {
            **card_header(CARD_FORMAT, CARD_VERSION),
            # an estimator trained with an accelerator is saved as its plain counterpart
            "estimator": getattr(self, "_saved_as", type(self).__name__),
            "module": module_ref,
            "module_kwargs": module_kwargs,
            "optimizer": _optimizer_name(self.optimizer),
            "params": params,
            "fitted": {k: plain(getattr(self, k)) for k in CARD_FITTED if hasattr(self, k)},
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
            "preprocessing": None if preprocessing is None else {
                **preprocessing_to_data(preprocessing),
                 "repr": _full_repr(freeze_if_fitted(preprocessing))},
        }
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        save_model(self.module_, str(folder / WEIGHTS_FILE))
        write_card(folder / CARD_FILE, card)
        return folder

    @classmethod
    def load(cls, path, *, device="auto", module=None, optimizer=None):
        """Load an estimator written by :meth:`save`, ready to predict.

        The card is validated field by field and names only allow-listed code: networks of
        :mod:`ecgsk.nn`, :mod:`torch.optim` optimisers and :mod:`ecgsk.preprocessing` steps
        (see the trust model in :mod:`ecgsk.estimators._cards`); the weights are safetensors
        (no pickle). A folder from a stranger is safe to load.

        Parameters
        ----------
        path : str or path
            The folder given to :meth:`save`.
        device : str, default="auto"
            Where to put the network (``"auto"``: CUDA when available).
        module : type, optional
            The network class, for a model trained with a class of your own (the card records
            its import path, but never imports it).
        optimizer : type, optional
            The optimiser class, for one outside :mod:`torch.optim`.

        Returns
        -------
        estimator
            With ``card_`` holding the model card (in the current format).

        Raises
        ------
        FileNotFoundError
            If ``path`` holds no ``card.json``.
        ValueError
            If the card belongs to another estimator class, a newer card format, names code
            outside the allow-lists, or a field is missing or invalid (the message names it).

        Examples
        --------
        See :meth:`save`.
        """
        from ._encoder import load_weights

        folder = Path(path)
        card_path = folder / CARD_FILE
        if not card_path.exists():
            raise FileNotFoundError(f"{card_path} does not exist: not a folder written by save()")
        card = upgraded_model_card(read_card(card_path, CARD_FORMAT), str(card_path))
        if card["estimator"] != cls.__name__:
            raise ValueError(f"{folder} holds a {card['estimator']}, not a {cls.__name__}")
        if module is None:
            module = resolve_network(card["module"], f"{card_path}: module")
        kwargs = dict(card["params"])
        if "threshold" in kwargs and isinstance(kwargs["threshold"], list):
            kwargs["threshold"] = tuple(kwargs["threshold"])
        if optimizer is not None:
            kwargs["optimizer"] = optimizer
        elif card.get("optimizer"):
            kwargs["optimizer"] = resolve_optimizer(card["optimizer"], f"{card_path}: optimizer")
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
        missing, unexpected = load_weights(est.module_, folder / WEIGHTS_FILE,
                                           device=str(est.device_))
        if missing or unexpected:
            raise ValueError(
                f"{folder / WEIGHTS_FILE} does not match the card's network: missing "
                f"{sorted(missing)[:5]}, unexpected {sorted(unexpected)[:5]}"
            )
        est.module_.eval()
        est.card_ = card
        return est


def _optimizer_name(optimizer):
    """A torch.optim class by name; another class by import path (load() then needs it)."""
    if not isinstance(optimizer, type):
        return None
    from ._cards import allowed_optimizers

    if allowed_optimizers().get(optimizer.__name__) is optimizer:
        return optimizer.__name__
    return _import_path(optimizer)
