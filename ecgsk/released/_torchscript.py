"""TorchScript archives: detecting, reading and writing them, and the released DeepECG-SL model.

DeepECG-SL (EfficientNetV2) is released only as a TorchScript archive, loaded with
``torch.jit.load``; :class:`ReleasedTorchScript` puts it behind ecgsk's input convention.
"""

from __future__ import annotations

import io
import warnings
import zipfile
from pathlib import Path

import torch
from torch import Tensor, nn

#: Signal the release's DeepECG-SL multiplies its (millivolt) input by: 1 / 0.0048 mV per unit.
DEEPECG_SL_INPUT_SCALE = 1.0 / 0.0048
#: Input shape of the released models: 12 leads, 2500 samples (10 s at 250 Hz).
RELEASE_N_LEADS, RELEASE_N_TIMES = 12, 2500
_JIT_DEPRECATION = r"`torch\.jit\.\w+` is deprecated"


def is_torchscript_archive(path) -> bool:
    """True if ``path`` is a TorchScript archive (a zip with ``code/`` and ``constants.pkl``).

    Examples
    --------
    >>> import tempfile, torch
    >>> path = tempfile.mktemp(suffix=".pt")
    >>> torch.save({"w": torch.zeros(1)}, path)
    >>> is_torchscript_archive(path)
    False
    """
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return False
    return any(n.endswith("constants.pkl") or "/code/" in n for n in names)



def torchscript_bytes(module: torch.jit.ScriptModule) -> bytes:
    """Serialise a TorchScript module to bytes (``torch.jit.save`` into memory).

    Examples
    --------
    >>> import torch
    >>> scripted = torch.jit.script(torch.nn.Linear(2, 1))
    >>> type(load_torchscript(io.BytesIO(torchscript_bytes(scripted)))).__name__
    'RecursiveScriptModule'
    """
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_JIT_DEPRECATION, category=DeprecationWarning)
        torch.jit.save(module, buffer)
    return buffer.getvalue()


def load_torchscript(source) -> torch.jit.ScriptModule:
    """``torch.jit.load`` on the CPU, without torch's deprecation warning for TorchScript.

    The released DeepECG-SL model only exists as TorchScript, so the warning (which asks to
    move to ``torch.export``) is not something a user of the file can act on.

    Parameters
    ----------
    source : str, path or file-like
        The archive.

    Returns
    -------
    torch.jit.ScriptModule

    Examples
    --------
    >>> import io, torch
    >>> scripted = torch.jit.script(torch.nn.Linear(2, 1))
    >>> load_torchscript(io.BytesIO(torchscript_bytes(scripted))).original_name
    'Linear'
    """
    if isinstance(source, Path):
        source = str(source)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_JIT_DEPRECATION, category=DeprecationWarning)
        return torch.jit.load(source, map_location="cpu")


class ReleasedTorchScript(nn.Module):
    """A released TorchScript ECG model behind ecgsk's input convention (millivolts).

    ``forward(x)`` returns ``model(x * input_scale)``: the logits the release computes on its
    own expected input. The TorchScript archive is read once, at construction; pickling stores
    its bytes, so a pickled estimator does not need the file any more.

    Parameters
    ----------
    path : str or path
        The TorchScript archive (``torch.jit.load``).
    n_leads, n_times : int, default=12, 2500
        Input shape the module is checked with.
    n_outputs : int, default=77
        Logits the archive must return.
    input_scale : float, default=1 / 0.0048
        Factor applied to the millivolt input before the archive (DeepECG-SL's own scaling).

    Attributes
    ----------
    model : torch.jit.ScriptModule
        The released network.

    Examples
    --------
    >>> import tempfile, torch
    >>> path = tempfile.mktemp(suffix=".pt")
    >>> net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12 * 10, 3))
    >>> torch.jit.save(torch.jit.script(net), path)
    >>> wrapped = ReleasedTorchScript(path, n_times=10, n_outputs=3, input_scale=2.0)
    >>> x = torch.randn(4, 12, 10)
    >>> bool(torch.allclose(wrapped(x), net(2.0 * x)))
    True
    """

    is_released_torchscript = True  # export refuses it by this flag (no import of this module)

    def __init__(self, path, n_leads: int = RELEASE_N_LEADS, n_times: int = RELEASE_N_TIMES,
                 n_outputs: int = 77, input_scale: float = DEEPECG_SL_INPUT_SCALE):
        super().__init__()
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"TorchScript file {str(path)!r} does not exist")
        try:
            self.model = load_torchscript(path)
        except RuntimeError as exc:
            raise ValueError(f"{path} is not a loadable TorchScript archive: {exc}") from exc
        self.path = str(path)
        self.n_leads, self.n_times, self.n_outputs = int(n_leads), int(n_times), int(n_outputs)
        self.input_scale = float(input_scale)

    def forward(self, x: Tensor) -> Tensor:
        out = self.model(x * self.input_scale)
        if not isinstance(out, Tensor):
            raise TypeError(
                f"the TorchScript model returned a {type(out).__name__}, not a tensor of logits"
            )
        return out

    def __getstate__(self):
        state = self.__dict__.copy()
        modules = dict(state["_modules"])
        modules["model"] = torchscript_bytes(modules["model"])
        state["_modules"] = modules
        return state

    def __setstate__(self, state):
        modules = dict(state["_modules"])
        if isinstance(modules.get("model"), bytes):
            modules["model"] = load_torchscript(io.BytesIO(modules["model"]))
        state["_modules"] = modules
        super().__setstate__(state)
