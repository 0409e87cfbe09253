"""Zero-phase band-pass and power-line notch filters, applied in the frequency domain."""

from __future__ import annotations

import math
import numbers

import numpy as np

from .._validation import check_frequency, check_sfreq
from ._base import SpectralStep, check_positive_float, check_positive_int, rfft_freqs
from ._gains import butter_highpass_gain, butter_lowpass_gain, notch_gain


class BandpassFilter(SpectralStep):
    """Zero-phase Butterworth band-pass (or high-/low-pass) filter.

    The filter multiplies the spectrum of each lead by the squared magnitude
    of an analog Butterworth response, which is what forward-backward
    filtering (``scipy.signal.filtfilt``) with a Butterworth filter of order
    ``order`` does, without its bilinear frequency warping: no phase shift,
    a gain of 1/4 (-6 dB) at each cut-off. It runs as one FFT round trip over
    the whole batch and is fused with neighbouring frequency-domain steps
    inside :class:`ECGPipeline`. Records are extended by odd reflection at both
    edges before filtering (see :mod:`ecgsk.preprocessing`).

    Parameters
    ----------
    sfreq : float
        Sampling rate of the input in Hz.
    low : float or None, default=0.5
        High-pass cut-off in Hz (removes baseline wander). ``None`` for a
        low-pass filter only.
    high : float or None, default=40.0
        Low-pass cut-off in Hz, strictly below the Nyquist frequency. ``None``
        for a high-pass filter only.
    order : int, default=4
        Order of the one-pass Butterworth prototype.

    Attributes
    ----------
    n_leads_in_ : int
        Number of leads seen in ``fit``.
    n_times_in_ : int
        Number of samples per lead seen in ``fit``.

    Notes
    -----
    A high-pass cut-off needs records at least one period of ``low`` long
    (``sfreq / low`` samples); shorter input raises ``ValueError``.

    Examples
    --------
    >>> import numpy as np
    >>> from ecgsk.preprocessing import BandpassFilter
    >>> t = np.arange(5000) / 500
    >>> X = np.tile(np.sin(2 * np.pi * 10 * t) + 0.5, (1, 12, 1)).astype("float32")
    >>> Y = BandpassFilter(500, low=0.5, high=40).fit_transform(X)
    >>> Y.shape, Y.dtype
    ((1, 12, 5000), dtype('float32'))
    >>> bool(abs(Y.mean()) < 1e-3)  # the 0.5 mV offset is gone, the 10 Hz sine stays
    True
    """

    def __init__(self, sfreq, low=0.5, high=40.0, order=4):
        self.sfreq = sfreq
        self.low = low
        self.high = high
        self.order = order

    def _validate_params(self):
        sfreq = check_sfreq(self.sfreq)
        check_positive_int(self.order, "order")
        if self.low is None and self.high is None:
            raise ValueError("BandpassFilter needs at least one of low and high (both are None)")
        low = None if self.low is None else check_frequency(self.low, sfreq, "low")
        high = None if self.high is None else check_frequency(self.high, sfreq, "high")
        if low is not None and high is not None and low >= high:
            raise ValueError(f"low={self.low!r} Hz must be below high={self.high!r} Hz")

    def _min_times(self):
        if self.low is None:
            return 2
        return int(math.ceil(float(self.sfreq) / float(self.low)))

    def _too_short_reason(self):
        return f"one period of the low={self.low:g} Hz cut-off at sfreq={float(self.sfreq):g} Hz"

    def _dc_gain(self):
        return 0.0 if self.low is not None else 1.0

    def _pad_seconds(self):
        # Measured on real 12-lead records against filtering a longer
        # recording: a mirror of a quarter period of ``low`` is as accurate
        # at the edges as one of several periods.
        pads = []
        if self.low is not None:
            pads.append(0.25 / float(self.low))
        if self.high is not None:
            pads.append(5.0 / float(self.high))
        return max(pads)

    def _spectral_ops(self, n_fft, sfreq):
        freqs = rfft_freqs(n_fft, sfreq)
        gain = np.ones_like(freqs)
        if self.low is not None:
            gain *= butter_highpass_gain(freqs, float(self.low), int(self.order))
        if self.high is not None:
            gain *= butter_lowpass_gain(freqs, float(self.high), int(self.order))
        return [("gain", gain)]


class NotchFilter(SpectralStep):
    """Zero-phase notch filter for power-line interference and its harmonics.

    Removes narrow bands centred on ``freq`` and its multiples below the
    Nyquist frequency. Each notch is the squared magnitude of a second-order
    notch ``(c^2 - f^2) / (c^2 - f^2 + i f w)``: exactly zero at its centre,
    ``w = freq / quality`` Hz wide at -3 dB of the one-pass response, with no
    phase shift. Every harmonic gets the same width in Hz, since mains
    harmonics are as narrow as the fundamental. As with any notch, a tone
    that starts or stops abruptly (as at the edges of a record) leaves a
    transient of a few tenths of a second.

    Parameters
    ----------
    sfreq : float
        Sampling rate of the input in Hz.
    freq : float or sequence of float, default=50.0
        Power-line frequency in Hz (50 in Europe, Asia, Africa; 60 in the
        Americas). A sequence such as ``(50, 60)`` notches both.
    harmonics : int or None, default=None
        Number of multiples of ``freq`` to notch (1 = the fundamental only).
        ``None`` notches every multiple below the Nyquist frequency. Multiples
        at or above Nyquist are skipped.
    quality : float, default=30.0
        Quality factor ``freq / width`` of the fundamental's notch (with
        several frequencies, of the lowest one), so the default notch is
        1.7 Hz wide at 50 Hz.

    Attributes
    ----------
    n_leads_in_ : int
        Number of leads seen in ``fit``.
    n_times_in_ : int
        Number of samples per lead seen in ``fit``.
    centers_ : tuple of float
        The notched frequencies in Hz.

    Examples
    --------
    >>> import numpy as np
    >>> from ecgsk.preprocessing import NotchFilter
    >>> t = np.arange(5000) / 500
    >>> X = np.tile(np.sin(2 * np.pi * 50 * t), (2, 12, 1)).astype("float32")
    >>> notch = NotchFilter(500, freq=50.0).fit(X)
    >>> notch.centers_
    (50.0, 100.0, 150.0, 200.0)
    >>> Y = notch.transform(X)
    >>> bool(np.abs(Y[..., 500:-500]).max() < 0.01)  # gone, away from the edges
    True
    """

    def __init__(self, sfreq, freq=50.0, harmonics=None, quality=30.0):
        self.sfreq = sfreq
        self.freq = freq
        self.harmonics = harmonics
        self.quality = quality

    def _freqs(self):
        if isinstance(self.freq, numbers.Real) and not isinstance(self.freq, bool):
            return (self.freq,)
        try:
            freqs = tuple(self.freq)
        except TypeError:
            raise TypeError(
                f"freq must be a frequency in Hz or a sequence of them, got {self.freq!r}"
            ) from None
        if not freqs:
            raise ValueError("freq is an empty sequence: give at least one frequency in Hz")
        return freqs

    def _validate_params(self):
        sfreq = check_sfreq(self.sfreq)
        for f in self._freqs():
            check_frequency(f, sfreq, "freq")
        if self.harmonics is not None:
            check_positive_int(self.harmonics, "harmonics")
        check_positive_float(self.quality, "quality")

    def _centers(self) -> tuple[float, ...]:
        nyquist = float(self.sfreq) / 2
        centers = set()
        for f in self._freqs():
            f = float(f)
            k_max = int(math.ceil(nyquist / f)) if self.harmonics is None else int(self.harmonics)
            centers.update(k * f for k in range(1, k_max + 1) if k * f < nyquist)
        return tuple(sorted(centers))

    def _bandwidths(self):
        return min(float(f) for f in self._freqs()) / float(self.quality)

    def _fit_shape(self, n_leads, n_times):
        super()._fit_shape(n_leads, n_times)
        self.centers_ = self._centers()
        return self

    def _min_times(self):
        # The frequency resolution must be finer than the notch width.
        return int(math.ceil(float(self.sfreq) / self._bandwidths()))

    def _too_short_reason(self):
        return f"the {self._bandwidths():.3g} Hz wide notch needs {1 / self._bandwidths():.3g} s of signal"

    def _pad_seconds(self):
        # Three time constants of the notch's impulse response.
        return 3.0 / (math.pi * self._bandwidths())

    def _spectral_ops(self, n_fft, sfreq):
        freqs = rfft_freqs(n_fft, sfreq)
        return [("gain", notch_gain(freqs, self._centers(), self._bandwidths()))]


_BASELINE_METHODS = ("highpass", "median")


class BaselineRemoval(SpectralStep):
    """Remove baseline wander (respiration, electrode motion, offsets).

    Parameters
    ----------
    sfreq : float
        Sampling rate of the input in Hz.
    method : {"highpass", "median"}, default="highpass"
        * ``"highpass"``: zero-phase Butterworth high-pass at ``cutoff``
          (as :class:`BandpassFilter` with ``high=None``), fused with the other
          frequency-domain steps; fast.
        * ``"median"``: subtract the baseline estimated by two median filters
          in a row, of ``windows[0]`` then ``windows[1]`` seconds (the first
          removes the QRS complexes, the second the P and T waves). Non-linear
          and slower (milliseconds per ECG), but it leaves the low-frequency
          content of the ST segment alone. The medians are evaluated every
          tenth of the first window and linearly interpolated in between.
    cutoff : float, default=0.5
        High-pass cut-off in Hz (``"highpass"``).
    order : int, default=4
        Butterworth order (``"highpass"``).
    windows : tuple of float, default=(0.2, 0.6)
        Median filter lengths in seconds (``"median"``).

    Attributes
    ----------
    n_leads_in_ : int
        Number of leads seen in ``fit``.
    n_times_in_ : int
        Number of samples per lead seen in ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> from ecgsk.preprocessing import BaselineRemoval
    >>> t = np.arange(5000) / 500
    >>> drift = 0.8 * np.sin(2 * np.pi * 0.1 * t) + 0.3
    >>> X = np.tile(np.sin(2 * np.pi * 8 * t) + drift, (1, 12, 1)).astype("float32")
    >>> Y = BaselineRemoval(500).fit_transform(X)
    >>> bool(np.abs(Y - np.sin(2 * np.pi * 8 * t))[..., 500:-500].max() < 0.05)
    True
    """

    def __init__(self, sfreq, method="highpass", cutoff=0.5, order=4, windows=(0.2, 0.6)):
        self.sfreq = sfreq
        self.method = method
        self.cutoff = cutoff
        self.order = order
        self.windows = windows

    @property
    def _spectral(self):
        return self.method == "highpass"

    def _validate_params(self):
        sfreq = check_sfreq(self.sfreq)
        if self.method not in _BASELINE_METHODS:
            raise ValueError(f"method must be one of {_BASELINE_METHODS}, got {self.method!r}")
        check_frequency(self.cutoff, sfreq, "cutoff")
        check_positive_int(self.order, "order")
        try:
            short, long = self.windows
        except (TypeError, ValueError):
            raise ValueError(f"windows must be two durations in seconds, got {self.windows!r}") from None
        check_positive_float(short, "windows[0]")
        check_positive_float(long, "windows[1]")
        if self._window_samples()[0] < 3:
            raise ValueError(f"windows[0]={short!r} s is shorter than 3 samples at sfreq={sfreq:g} Hz")

    def _window_samples(self):
        sfreq = float(self.sfreq)
        return tuple(int(round(float(w) * sfreq)) | 1 for w in self.windows)  # odd lengths

    def _min_times(self):
        if self.method == "highpass":
            return int(math.ceil(float(self.sfreq) / float(self.cutoff)))
        return max(self._window_samples())

    def _too_short_reason(self):
        if self.method == "highpass":
            return f"one period of the cutoff={self.cutoff:g} Hz at sfreq={float(self.sfreq):g} Hz"
        return f"the longest median window, {max(self.windows):g} s"

    def _dc_gain(self):
        return 0.0

    def _pad_seconds(self):
        return 0.25 / float(self.cutoff)

    def _spectral_ops(self, n_fft, sfreq):
        gain = butter_highpass_gain(rfft_freqs(n_fft, sfreq), float(self.cutoff), int(self.order))
        return [("gain", gain)]

    def _chunk_kernel(self, n_ecgs, n_leads, n_times):
        w_short, w_long = self._window_samples()
        stride = max(1, w_short // 10)
        # Second window counted in grid points, odd.
        w_long_grid = max(1, int(round(w_long / stride))) | 1

        def kernel(Xc, rows):
            grid = _strided_median(Xc, w_short, stride)
            baseline = _strided_median(grid, w_long_grid, 1)
            return Xc - _interp_grid(baseline, stride, Xc.shape[-1])

        return kernel


def _strided_median(X, window, stride):
    """Running median of odd length ``window`` (mirror at the edges), every ``stride`` samples."""
    half = window // 2
    n = X.shape[-1]
    half_eff = min(half, n - 1)
    padded = np.pad(X, [(0, 0)] * (X.ndim - 1) + [(half_eff, half_eff)], mode="reflect")
    if half_eff < half:
        padded = np.pad(padded, [(0, 0)] * (X.ndim - 1) + [(half - half_eff, half - half_eff)], mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(padded, window, axis=-1)[..., ::stride, :]
    return np.median(windows, axis=-1).astype(np.float32)


def _interp_grid(values, stride, n):
    """Linear interpolation of values given every ``stride`` samples back to ``n`` samples."""
    if stride == 1:
        return values[..., :n]
    pos = np.arange(n) / stride
    i0 = np.minimum(pos.astype(np.intp), values.shape[-1] - 1)
    i1 = np.minimum(i0 + 1, values.shape[-1] - 1)
    frac = (pos - i0).astype(np.float32)
    return values[..., i0] * (1 - frac) + values[..., i1] * frac
