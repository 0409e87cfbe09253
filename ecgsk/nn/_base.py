"""Shared contract of every ``ecgsk.nn`` model: argument checks, input checks, head swapping."""

from __future__ import annotations

import numbers

import torch
from torch import Tensor, nn

from .._validation import check_positive_int  # the one positive-int check
from ._layers import to_fast_layout


def check_probability(value, name: str) -> float:
    """Return ``value`` as a float in ``[0, 1)``, else raise.

    Examples
    --------
    >>> check_probability(0.2, "dropout")
    0.2
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number in [0, 1), got {type(value).__name__}: {value!r}")
    if not 0.0 <= float(value) < 1.0:
        raise ValueError(f"{name} must be in [0, 1), got {value!r}")
    return float(value)


def check_widths(values, name: str) -> list[int]:
    """Return a non-empty sequence of positive ints (channel widths) as a list, else raise.

    Examples
    --------
    >>> check_widths((64, 128), "widths")
    [64, 128]
    """
    widths = [check_positive_int(v, f"each of {name}") for v in values]
    if not widths:
        raise ValueError(f"{name} must not be empty")
    return widths


def count_parameters(module: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters of a torch module.

    Parameters
    ----------
    module : torch.nn.Module
    trainable_only : bool, default=False
        Count only parameters with ``requires_grad=True``.

    Returns
    -------
    int

    Examples
    --------
    >>> from torch import nn
    >>> count_parameters(nn.Linear(10, 3))
    33
    """
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)


class ECGModule(nn.Module):
    """Base class holding the ``ecgsk.nn`` model contract.

    Subclasses call :meth:`_init_signal` first in ``__init__``, build their layers, set
    ``n_features`` and create the head with ``self.head = self._make_head(n_outputs)``; they
    implement :meth:`forward_features` (which should start with ``self._check_input(x)``) and
    :meth:`_make_head`. ``forward`` is ``head(forward_features(x))``.

    Attributes
    ----------
    n_leads, n_times, n_outputs : int
        The signal shape the model was built for and the number of logits.
    min_times : int
        The shortest input (samples per lead) the model accepts.
    n_features : int
        Size ``d`` of the vector returned by :meth:`forward_features`.
    head : torch.nn.Module
        Maps ``(B, n_features)`` to logits ``(B, n_outputs)``.

    Examples
    --------
    >>> import torch
    >>> from ecgsk.nn import build_model
    >>> model = build_model("deepecg-sl-tiny", n_leads=12, n_times=1000, n_outputs=5)
    >>> model.forward_features(torch.zeros(2, 12, 1000)).shape == (2, model.n_features)
    True
    >>> model.reset_head(3)
    >>> model(torch.zeros(2, 12, 1000)).shape
    torch.Size([2, 3])
    """

    def _init_signal(self, n_leads, n_times, n_outputs, min_times: int = 1) -> None:
        self.n_leads = check_positive_int(n_leads, "n_leads")
        self.n_times = check_positive_int(n_times, "n_times")
        self.n_outputs = check_positive_int(n_outputs, "n_outputs")
        self.min_times = int(min_times)
        if self.n_times < self.min_times:
            raise ValueError(
                f"{type(self).__name__} needs at least {self.min_times} samples per lead, "
                f"got n_times={self.n_times}"
            )

    def _check_input(self, x: Tensor) -> None:
        # Skipped while tracing: the checks would be baked into the graph as constants anyway,
        # and Python comparisons on traced sizes only produce warnings.
        if torch.jit.is_tracing():
            return
        if x.dim() != 3:
            raise ValueError(
                f"input must be 3-D (batch, n_leads, n_times), got {x.dim()} dimensions"
            )
        if x.shape[1] != self.n_leads:
            raise ValueError(
                f"input has {x.shape[1]} leads but the model was built for n_leads={self.n_leads}"
            )
        if x.shape[2] < self.min_times:
            raise ValueError(
                f"input has {x.shape[2]} samples per lead; "
                f"this model needs at least {self.min_times}"
            )
        if not x.is_floating_point():
            raise TypeError(f"input must be a floating point tensor, got {x.dtype}")

    def _to_layout(self, x: Tensor) -> Tensor:
        # The convolutional networks set ``fast_layout = True`` in __init__ and keep their
        # feature maps in the channels-last 4-D view of ecgsk.nn._layers (same function, faster
        # CPU kernels); False runs the plain 3-D path.
        if self.fast_layout:
            return to_fast_layout(x)
        return x

    def _make_head(self, n_outputs: int) -> nn.Module:  # pragma: no cover - abstract
        raise NotImplementedError

    def forward_features(self, x: Tensor) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def forward(self, x: Tensor) -> Tensor:
        """Logits ``(B, n_outputs)`` for input ``(B, n_leads, n_times)``."""
        return self.head(self.forward_features(x))

    @torch.jit.unused
    def reset_head(self, n_outputs: int) -> None:
        """Replace the head by a freshly initialised one with ``n_outputs`` logits.

        The new head is created on the device and with the dtype of the old one.
        """
        n_outputs = check_positive_int(n_outputs, "n_outputs")
        ref = next(self.head.parameters(), None)
        head = self._make_head(n_outputs)
        if ref is not None:
            head = head.to(device=ref.device, dtype=ref.dtype)
        self.head = head
        self.n_outputs = n_outputs
