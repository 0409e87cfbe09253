"""The device shim of the ECG estimators: ``device="auto"`` stays the parameter, ``device_`` is used.

skorch reads ``net.device`` wherever it places a module or a batch; with ``"auto"`` it would
fail. :func:`device_context` lets those reads see the resolved device for the duration of a
call, and the parameter (what ``get_params``, ``clone`` and pickles hold) is never changed.
"""

from __future__ import annotations

import contextlib

import torch


def resolve_device(device) -> str:
    """``"auto"`` (or None) -> ``"cuda"`` when a GPU is visible, else ``"cpu"``; others unchanged.

    Examples
    --------
    >>> resolve_device("cpu")
    'cpu'
    """
    if device is None or (isinstance(device, str) and device == "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    return str(device)


def check_device_available(device) -> None:
    """Raise a clear ``ValueError`` for a CUDA device on a machine without one."""
    if torch.device(device).type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} but no CUDA device is available; use device=\"auto\" (CUDA when "
            'present, else CPU) or device="cpu"'
        )


@contextlib.contextmanager
def device_context(net, device):
    """While open, ``net.device`` reads as ``device``."""
    param = net.__dict__.get("device")
    net.__dict__["device"] = device
    try:
        yield device
    finally:
        net.__dict__["device"] = param


def unpickled_device(state) -> tuple[str | None, bool]:
    """Prepare a pickled net's state for skorch's ``__setstate__``.

    Returns the ``device`` parameter to restore after skorch is done (None when skorch's own
    choice must be kept) and puts a concrete device in ``state``.
    """
    param = state.get("device")
    if param is None or param == "auto":
        state["device"] = resolve_device(param)
        return param, True
    return None, False
