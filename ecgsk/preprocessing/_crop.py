"""Crop or zero-pad every record to a fixed number of samples."""

from __future__ import annotations

import warnings

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.utils import check_random_state

from ._base import BaseECGStep, check_positive_float, check_positive_int

_MODES = ("center", "start", "random")


class PaddingWarning(UserWarning):
    """Records padded so much that the padding dominates the output."""


class CropOrPad(BaseECGStep):
    """Cut longer records and zero-pad shorter ones to ``n_times`` samples.

    Parameters
    ----------
    n_times : int
        Number of samples per lead of the output.
    mode : {"center", "start", "random"}, default="center"
        Which part to keep when cropping, and where to put the signal when
        padding: the middle (padding split evenly, the extra sample at the
        end), the beginning (padding at the end), or a random offset drawn
        independently for each ECG (data augmentation).
    random_state : int, RandomState instance or None, default=None
        Seeds the offsets of ``mode="random"``. An int gives the same offsets
        on every ``transform`` call; a ``RandomState`` advances between calls.
    max_pad : float or None, default=0.5
        Warn (:class:`PaddingWarning`) when zero padding makes up this share
        of the output or more: records half as long as the output or
        shorter. That is how a wrong sampling rate shows when the records
        carry none (100 Hz records given to a pipeline built for 500 Hz come
        out 80% zeros), and a model scores padding as if it were signal.
        ``None`` turns the warning off.

    Attributes
    ----------
    n_leads_in_ : int
        Number of leads seen in ``fit``.
    n_times_in_ : int
        Number of samples per lead seen in ``fit``.

    Notes
    -----
    Input that already has ``n_times`` samples is returned unchanged, without
    a copy. Padding uses zeros, the baseline of a filtered ECG.

    Every record of a batch has the same length, so the padding warning
    concerns every record of the batch; it names how many there are, the
    input length and the share of padding.

    Examples
    --------
    >>> import numpy as np
    >>> from ecgsk.preprocessing import CropOrPad
    >>> X = np.arange(10, dtype="float32").reshape(1, 1, 10)
    >>> CropOrPad(4).fit_transform(X)[0, 0].tolist()
    [3.0, 4.0, 5.0, 6.0]
    >>> CropOrPad(13, mode="start").fit_transform(X)[0, 0, -4:].tolist()
    [9.0, 0.0, 0.0, 0.0]
    """

    def __init__(self, n_times, mode="center", random_state=None, max_pad=0.5):
        self.n_times = n_times
        self.mode = mode
        self.random_state = random_state
        self.max_pad = max_pad

    def _validate_params(self):
        check_positive_int(self.n_times, "n_times")
        if self.mode not in _MODES:
            raise ValueError(f"mode must be one of {_MODES}, got {self.mode!r}")
        if self.max_pad is not None:
            check_positive_float(self.max_pad, "max_pad")

    def _output_shape(self, n_leads, n_times):
        return n_leads, int(self.n_times)

    def _chunk_kernel(self, n_ecgs, n_leads, n_times):
        target = int(self.n_times)
        if n_times == target:
            return None
        span = abs(n_times - target)
        if n_times < target and self.max_pad is not None:
            share = span / target
            if share >= float(self.max_pad):
                which = "the record" if n_ecgs == 1 else f"all {n_ecgs} records (indices 0-{n_ecgs - 1})"
                warnings.warn(
                    f"CropOrPad pads {which} from {n_times} to {target} samples: "
                    f"{share:.0%} of the output is zero padding. Are the records this short, "
                    "or is their sampling rate not the one the preprocessing was built for? "
                    "(max_pad=None turns this warning off)",
                    PaddingWarning, stacklevel=6,
                )
        if self.mode == "random":
            offsets = check_random_state(self.random_state).randint(0, span + 1, size=n_ecgs)
        else:
            offsets = np.full(n_ecgs, span // 2 if self.mode == "center" else 0)

        if n_times > target:

            def crop(Xc, rows):
                off = offsets[rows]
                if np.all(off == off[0]):
                    return Xc[..., off[0]:off[0] + target]
                windows = sliding_window_view(Xc, target, axis=-1)
                return windows[np.arange(Xc.shape[0]), :, off]

            return crop

        def pad(Xc, rows):
            off = offsets[rows]
            Y = np.zeros((Xc.shape[0], Xc.shape[1], target), dtype=np.float32)
            if np.all(off == off[0]):
                Y[..., off[0]:off[0] + n_times] = Xc
            else:
                windows = sliding_window_view(Y, n_times, axis=-1, writeable=True)
                windows[np.arange(Xc.shape[0]), :, off] = Xc
            return Y

        return pad
