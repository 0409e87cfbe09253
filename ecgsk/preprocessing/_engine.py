"""Chunked, fused execution of ECG transformer steps.

``run_steps(steps, X)`` applies fitted steps to a checked batch. It

* cuts the batch into chunks of ECGs, so that the working memory of a
  transform is a few megabytes on top of its input and output, whatever the
  batch size;
* fuses consecutive frequency-domain steps (filters, notches, resampling,
  adaptive notch) into a single ``rfft``/``irfft`` round trip per chunk, their
  real gains multiplied into one array beforehand.

Zero-phase filtering with an FFT is circular: the end of a record wraps onto
its start. To keep that from leaking into the output, each record is first
extended at both edges by a mirror image, and the rest of the FFT buffer is a
straight line from the end of the right mirror back to the start of the left
one, so that the circular signal has no jump (see ``_pad_reflect``). The
padding is cut off after filtering.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import scipy.fft

# Working set per chunk: small enough to stay in the CPU caches, large enough
# that the per-call overhead of numpy and pocketfft is amortised.
CHUNK_BYTES = 16 * 2**20


def run_steps(steps, X: np.ndarray, chunk_bytes: int | None = None) -> np.ndarray:
    """Apply fitted steps to ``X`` (already checked: float32, C-contiguous, 3-D).

    Returns ``X`` itself when every step is an identity for this input.
    """
    n_ecgs, n_leads, n_times = X.shape
    stages, out_shape = build_stages(steps, n_ecgs, n_leads, n_times)
    if not stages:
        return X
    per_ecg = max(stage.bytes_per_ecg for stage in stages)
    chunk = max(1, (chunk_bytes or CHUNK_BYTES) // max(per_ecg, 1))
    if chunk >= n_ecgs:
        Y = X
        for stage in stages:
            Y = stage(Y, slice(0, n_ecgs))
        return _owned(Y, X)
    out = np.empty((n_ecgs, *out_shape), dtype=np.float32)
    for start in range(0, n_ecgs, chunk):
        rows = slice(start, min(start + chunk, n_ecgs))
        Y = X[rows]
        for stage in stages:
            Y = stage(Y, rows)
        out[rows] = Y
    return out


def _owned(Y: np.ndarray, X: np.ndarray) -> np.ndarray:
    # A stage may return a view into a larger work buffer (the padded FFT
    # output): copy it so the result holds only its own samples.
    if Y.base is not None or not Y.flags.c_contiguous:
        return np.array(Y, dtype=np.float32, order="C", copy=True)
    return Y


def build_stages(steps, n_ecgs: int, n_leads: int, n_times: int):
    """Turn fitted steps into executable stages; check lengths and rates.

    Returns ``(stages, (n_leads_out, n_times_out))``.
    """
    stages: list = []
    shape = (n_leads, n_times)
    rate = None
    i = 0
    while i < len(steps):
        if steps[i]._spectral:
            group = []
            shape_in = shape
            while i < len(steps) and steps[i]._spectral:
                step = steps[i]
                r_in, r_out = step._rates()
                if rate is not None and not math.isclose(r_in, rate, rel_tol=1e-9):
                    raise ValueError(
                        f"{type(step).__name__}(sfreq={r_in:g}) follows a step that produces "
                        f"signals at {rate:g} Hz: the sampling rates of the steps disagree"
                    )
                rate = r_out
                step._check_length(shape[1])
                shape = step._output_shape(*shape)
                group.append(step)
                i += 1
            stage = SpectralGroup(group, n_leads=shape_in[0], n_times=shape_in[1])
            if not stage.identity:
                stages.append(stage)
            continue
        step = steps[i]
        step._check_length(shape[1])
        new_shape = step._output_shape(*shape)
        kernel = step._chunk_kernel(n_ecgs, *shape)
        if kernel is not None:
            in_bytes = 4 * shape[0] * shape[1]
            out_bytes = 4 * new_shape[0] * new_shape[1]
            stages.append(_KernelStage(kernel, in_bytes + 2 * out_bytes))
        shape = new_shape
        i += 1
    return stages, shape


class _KernelStage:
    def __init__(self, kernel, bytes_per_ecg: int):
        self.kernel = kernel
        self.bytes_per_ecg = bytes_per_ecg

    def __call__(self, Xc: np.ndarray, rows: slice) -> np.ndarray:
        return self.kernel(Xc, rows)


class SpectralGroup:
    """Consecutive spectral steps run as one FFT round trip per chunk.

    Parameters
    ----------
    steps : list of SpectralStep
        Fitted steps whose rates chain (checked by :func:`build_stages`).
    n_leads, n_times : int
        Shape of each input record.
    """

    def __init__(self, steps, n_leads: int, n_times: int):
        self.n_leads = n_leads
        self.n_times = n_times
        sfreq_in = steps[0]._rates()[0]
        ratios = []
        total = Fraction(1)
        for step in steps:
            total *= step._ratio()
            ratios.append(total)
        self.ratio = total
        # The FFT length and the left padding must map to whole numbers of
        # samples at every intermediate rate.
        block = math.lcm(*(r.denominator for r in ratios))
        n_out = n_times
        for step in steps:
            n_out = step._output_shape(n_leads, n_out)[1]
        self.n_out = n_out

        pad = int(math.ceil(max(step._pad_seconds() for step in steps) * sfreq_in))
        pad_left = -(-pad // block) * block
        if pad_left > n_times - 1:
            pad_left = ((n_times - 1) // block) * block
        # The right mirror matches the left one; after it comes a short
        # straight line back to the first padded sample (a smooth wrap-around),
        # and enough room for the rounded-up output length.
        min_ratio = min(ratios + [Fraction(1)])
        mirror_right = min(max(pad_left, 1), n_times - 1)
        pad_right = max(mirror_right + max(16, pad // 4), int(math.ceil(2 / min_ratio)))
        k = scipy.fft.next_fast_len(-(-(pad_left + n_times + pad_right) // block), real=True)
        n_fft = k * block
        self.n_fft = n_fft
        self.pad_left = pad_left
        self.out_start = int(pad_left * total)
        assert self.out_start + n_out <= n_fft * total, "padding too short for the output length"

        self.program, self.n_fft_out = _compile(steps, n_fft, sfreq_in)
        # Without a high-pass the odd mirror is smoother (see _pad_reflect).
        self.odd_mirror = all(step._dc_gain() != 0.0 for step in steps)
        self.identity = not self.program and self.n_fft_out == n_fft and n_out == n_times
        self.bytes_per_ecg = 4 * n_leads * (3 * n_fft + 2 * self.n_fft_out)
        self._buf = None

    def __call__(self, Xc: np.ndarray, rows: slice) -> np.ndarray:
        # One work buffer per transform call, reused by every chunk: fresh
        # large allocations would page-fault on every chunk.
        shape = (*Xc.shape[:-1], self.n_fft)
        if self._buf is None or self._buf.shape[0] < shape[0] or self._buf.shape[1:] != shape[1:]:
            self._buf = np.empty(shape, dtype=np.float32)
        buf = _pad_reflect(Xc, self.pad_left, self._buf[:shape[0]], odd=self.odd_mirror)
        Z = scipy.fft.rfft(buf, axis=-1)
        del buf
        for op in self.program:
            kind = op[0]
            if kind == "mul":
                if Z.flags.c_contiguous:
                    Z *= op[1]
                else:
                    # After a truncation Z is a strided view: multiplying into a
                    # new array also makes the contiguous copy the irfft needs.
                    Z = Z * op[1]
            elif kind == "resize":
                Z = _resize(Z, op[1])
            else:  # "func"
                _, func, n_fft_now, sfreq_now = op
                Z = func(Z, n_fft_now, sfreq_now)
        y = scipy.fft.irfft(Z, n=self.n_fft_out, axis=-1, overwrite_x=True)
        return y[..., self.out_start:self.out_start + self.n_out]


def _compile(steps, n_fft: int, sfreq: float):
    """Collect the steps' operations into a short program.

    Real gains commute with truncating or zero-extending the spectrum, so all
    gains between two non-linear operations are multiplied into one array and
    applied once, after the resizes, on the fewest bins.
    """
    program: list = []
    pending = None
    for step in steps:
        for op in step._spectral_ops(n_fft, sfreq):
            if op[0] == "gain":
                gain = np.asarray(op[1], dtype=np.float64)
                pending = gain if pending is None else pending * gain
            elif op[0] == "resize":
                n_new, sfreq_new = int(op[1]), float(op[2])
                scale = n_new / n_fft
                nb_new = n_new // 2 + 1
                base = np.ones(n_fft // 2 + 1) if pending is None else pending
                pending = np.zeros(nb_new)
                keep = min(nb_new, base.size)
                pending[:keep] = base[:keep] * scale
                # Consecutive resizes collapse into one: the pending gain holds
                # zeros for every bin an intermediate truncation dropped.
                if program and program[-1][0] == "resize":
                    program[-1] = ("resize", nb_new)
                else:
                    program.append(("resize", nb_new))
                n_fft, sfreq = n_new, sfreq_new
            elif op[0] == "func":
                if pending is not None:
                    program.append(("mul", pending.astype(np.float32)))
                    pending = None
                program.append(("func", op[1], n_fft, sfreq))
            else:  # pragma: no cover - programming error in a step
                raise ValueError(f"unknown spectral operation {op[0]!r}")
    if pending is not None and not np.all(pending == 1.0):
        program.append(("mul", pending.astype(np.float32)))
    return program, n_fft


def _resize(Z: np.ndarray, nb_new: int) -> np.ndarray:
    nb = Z.shape[-1]
    if nb_new <= nb:
        return Z[..., :nb_new]
    out = np.zeros((*Z.shape[:-1], nb_new), dtype=Z.dtype)
    out[..., :nb] = Z
    return out


def _pad_reflect(X: np.ndarray, pad_left: int, buf: np.ndarray, odd: bool) -> np.ndarray:
    """Copy ``X`` into the longer buffer ``buf``, mirrored at both edges.

    An even mirror (``x[-j] = x[j]``) keeps the local baseline level; it is
    used before a high-pass, where an odd mirror (``x[-j] = 2 x[0] - x[j]``)
    would shift the level of the padding by twice the distance between the
    edge sample and the baseline (large when a record starts inside a QRS
    complex), and the high-pass would turn that shift into a transient. Without
    a high-pass the odd mirror is better: it keeps the slope continuous, so a
    low-pass or resampling does not ring at the edges. The rest of the buffer
    is a straight line from the end of the right mirror back to the start of
    the left one.
    """
    n = X.shape[-1]
    n_fft = buf.shape[-1]
    buf[..., pad_left:pad_left + n] = X
    if pad_left:
        # buf[pad_left - j] = x[j] (or 2 x[0] - x[j]), j = 1..pad_left
        if odd:
            np.subtract(2 * X[..., :1], X[..., pad_left:0:-1], out=buf[..., :pad_left])
        else:
            buf[..., :pad_left] = X[..., pad_left:0:-1]
    # The right edge gets the same mirror length as the left one, so that the
    # result does not depend on how much longer the FFT length is.
    m = min(max(pad_left, 1), n - 1, n_fft - pad_left - n)
    end = pad_left + n + m
    if m > 0:
        # buf[pad_left + n - 1 + j] = x[n-1-j] (or 2 x[n-1] - x[n-1-j]), j = 1..m
        right = buf[..., pad_left + n:end]
        if odd:
            np.subtract(2 * X[..., -1:], X[..., n - 1 - m:n - 1][..., ::-1], out=right)
        else:
            right[...] = X[..., n - 1 - m:n - 1][..., ::-1]
    if end < n_fft:
        # Fill the rest with a straight line from the end of the right mirror
        # to the start of the left one: a smooth wrap-around.
        k = n_fft - end + 1
        frac = (np.arange(1, k, dtype=np.float32) / np.float32(k))
        last = buf[..., end - 1:end]
        buf[..., end:] = last + (buf[..., :1] - last) * frac
    return buf
