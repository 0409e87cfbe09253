"""Name -> constructor registry of the ``ecgsk.nn`` models."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import nn


@dataclass(frozen=True)
class ModelSpec:
    """What the registry knows about one model name.

    Attributes
    ----------
    name : str
        Registry name, e.g. ``"deepecg-sl"``.
    builder : callable
        ``builder(n_leads, n_times, n_outputs, **kwargs)`` returning the module.
    n_params : int
        Documented number of parameters for ``n_leads=12, n_times=2500, n_outputs=77`` with the
        default keyword arguments (the registry test checks it).
    description : str
        One line saying what the model is.
    tiny : bool
        True for the small variants meant for CPU tests.
    """

    name: str
    builder: Callable[..., nn.Module]
    n_params: int
    description: str = ""
    tiny: bool = False


_REGISTRY: dict[str, ModelSpec] = {}


def register_model(name: str, *, n_params: int, description: str = "", tiny: bool = False):
    """Decorator registering a model constructor under ``name``.

    Parameters
    ----------
    name : str
        The registry name (lower case, unique).
    n_params : int
        The documented parameter count for ``(n_leads, n_times, n_outputs) = (12, 2500, 77)``.
    description : str, optional
        One line shown by :func:`model_info`.
    tiny : bool, default=False
        Mark a small variant meant for fast CPU tests.

    Returns
    -------
    callable
        The decorator; it returns the constructor unchanged.

    Examples
    --------
    >>> from torch import nn
    >>> from ecgsk.nn import register_model, build_model, unregister_model
    >>> class Mean(nn.Module):
    ...     def __init__(self, n_leads, n_times, n_outputs):
    ...         super().__init__()
    ...         self.head = nn.Linear(n_leads, n_outputs)
    ...     def forward(self, x):
    ...         return self.head(x.mean(-1))
    >>> @register_model("doc-mean", n_params=12 * 77 + 77)
    ... def _mean(n_leads, n_times, n_outputs):
    ...     return Mean(n_leads, n_times, n_outputs)
    >>> build_model("doc-mean").head.out_features
    77
    >>> unregister_model("doc-mean")
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"model name must be a non-empty string, got {name!r}")

    def decorator(builder):
        if name in _REGISTRY:
            raise ValueError(f"a model named {name!r} is already registered")
        _REGISTRY[name] = ModelSpec(
            name=name, builder=builder, n_params=int(n_params), description=description, tiny=tiny
        )
        return builder

    return decorator


def unregister_model(name: str) -> None:
    """Remove ``name`` from the registry (for plugins and tests).

    Examples
    --------
    >>> from ecgsk.nn import unregister_model
    >>> unregister_model("no-such-model")
    Traceback (most recent call last):
    ...
    ValueError: unknown model 'no-such-model'
    """
    if name not in _REGISTRY:
        raise ValueError(f"unknown model {name!r}")
    del _REGISTRY[name]


def list_models(tiny: bool | None = None) -> list[str]:
    """Sorted names of the registered models.

    Parameters
    ----------
    tiny : bool, optional
        ``True``: only the small test variants; ``False``: only the full-size models;
        ``None`` (default): all of them.

    Returns
    -------
    list of str

    Examples
    --------
    >>> from ecgsk.nn import list_models
    >>> "deepecg-sl" in list_models()
    True
    >>> all(name.endswith("-tiny") for name in list_models(tiny=True))
    True
    """
    return sorted(n for n, s in _REGISTRY.items() if tiny is None or s.tiny == tiny)


def model_info(name: str) -> ModelSpec:
    """The :class:`ModelSpec` registered under ``name``.

    Examples
    --------
    >>> from ecgsk.nn import model_info
    >>> model_info("deepecg-sl").n_params > 1_000_000
    True
    """
    if name not in _REGISTRY:
        raise ValueError(
            f"unknown model {name!r}; available models: {', '.join(list_models())}"
        )
    return _REGISTRY[name]


def build_model(
    name: str, n_leads: int = 12, n_times: int = 2500, n_outputs: int = 77, **kwargs
) -> nn.Module:
    """Build a registered model by name.

    Parameters
    ----------
    name : str
        A name from :func:`list_models`, e.g. ``"deepecg-sl"``, ``"xresnet1d101"`` or
        ``"deepecg-ssl"``.
    n_leads : int, default=12
        Number of input leads.
    n_times : int, default=2500
        Number of samples per lead (10 s at 250 Hz by default).
    n_outputs : int, default=77
        Number of logits (77 DeepECG labels by default).
    **kwargs
        Passed to the model constructor (e.g. ``drop_path_rate``, ``dropout``).

    Returns
    -------
    torch.nn.Module
        Freshly initialised (deterministic under ``torch.manual_seed``), in training mode. Its
        ``module_spec`` attribute, ``{"name": name, "kwargs": kwargs}``, rebuilds it (the
        estimators' ``module_spec_``; a card stores it).

    Raises
    ------
    ValueError
        For an unknown name (the message lists the available ones) or bad shape arguments.

    Examples
    --------
    >>> import torch
    >>> from ecgsk.nn import build_model
    >>> model = build_model("xresnet1d50-tiny", n_leads=12, n_times=1000, n_outputs=5)
    >>> model(torch.zeros(2, 12, 1000)).shape
    torch.Size([2, 5])
    """
    spec = model_info(name)
    model = spec.builder(n_leads=n_leads, n_times=n_times, n_outputs=n_outputs, **kwargs)
    # the network's spec travels with it (deep copies, pickles), so that a module given as an
    # encoder can be saved by name: the estimators' ``module_spec_`` is the same dict
    model.module_spec = {"name": name, "kwargs": dict(kwargs)}
    return model
