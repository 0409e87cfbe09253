"""The DeepECG release's own signal steps: decimation by slicing and batch spectral cleaning.

They reproduce ``utils/files_handler.py`` and ``utils/ecg_signal_processor.py``
of HeartWise-AI/DeepECG_Docker (commit 2a9680e), so that
``make_deepecg_preprocessing(..., release=True)`` gives the released models
the input they were trained on. ecgsk's default chain replaces both (see
:doc:`/user_guide/preprocessing`).
"""

from __future__ import annotations

import math

import numpy as np
import scipy.fft
from scipy.signal import medfilt

from .._validation import check_sfreq
from ._base import BaseECGStep, LearnedStep, check_positive_float, check_positive_int
from ._lowess import lowess

DEEPECG_SFREQ = 250.0
DEEPECG_N_TIMES = 2500


class Decimate(BaseECGStep):
    """Keep every ``q``-th sample, without an anti-aliasing filter (as DeepECG's code does).

    The release brings a ``T``-sample record to 2500 samples with
    ``x[::T // 2500]``, whatever its rate: for 10 s records at an integer
    multiple ``q`` of 250 Hz that is decimation by ``q`` with no low-pass, so
    everything between 125 Hz and the input's Nyquist frequency folds back
    into 0-125 Hz. Only use it to reproduce the release;
    :class:`Resample` low-passes first.

    Parameters
    ----------
    sfreq_in : float
        Sampling rate of the input in Hz: an integer multiple ``q`` of
        ``sfreq_out``.
    sfreq_out : float, default=250.0
        Sampling rate of the output in Hz.
    n_times : int or None, default=2500
        Number of output samples the records must give: the input must have
        exactly ``q * n_times`` samples, the only lengths for which the
        release decimates by ``q`` and yields 2500 samples (a ``T``-sample
        record is sliced by ``T // 2500``, which for other lengths changes
        the rate or leaves more than 2500 samples). ``None`` accepts any
        length (``ceil(T / q)`` samples out).

    Attributes
    ----------
    factor_ : int
        ``q = sfreq_in / sfreq_out``.
    n_leads_in_, n_times_in_ : int
        Shape of the ECGs seen in ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> from ecgsk.preprocessing import Decimate
    >>> X = np.arange(5000, dtype="float32").reshape(1, 1, 5000)
    >>> Decimate(500).fit_transform(X)[0, 0, :4].tolist()
    [0.0, 2.0, 4.0, 6.0]
    """

    def __init__(self, sfreq_in, sfreq_out=DEEPECG_SFREQ, n_times=DEEPECG_N_TIMES):
        self.sfreq_in = sfreq_in
        self.sfreq_out = sfreq_out
        self.n_times = n_times

    def _factor(self) -> int:
        sfreq_in = check_sfreq(self.sfreq_in, "sfreq_in")
        sfreq_out = check_sfreq(self.sfreq_out, "sfreq_out")
        q = sfreq_in / sfreq_out
        if q < 1 or not math.isclose(q, round(q), rel_tol=0, abs_tol=1e-9):
            raise ValueError(
                f"Decimate needs sfreq_in to be an integer multiple of sfreq_out, got "
                f"{sfreq_in:g} Hz and {sfreq_out:g} Hz: DeepECG's code has no resampling for "
                f"{sfreq_in:g} Hz input (it would take every {max(int(q), 1)}-th sample and "
                f"treat the result as {sfreq_out:g} Hz); use make_deepecg_preprocessing(..., "
                "release=False), which resamples any rate"
            )
        return int(round(q))

    def _validate_params(self):
        self._factor()
        if self.n_times is not None:
            check_positive_int(self.n_times, "n_times")

    def _fit_shape(self, n_leads, n_times):
        super()._fit_shape(n_leads, n_times)
        self.factor_ = self._factor()
        return self

    def _output_shape(self, n_leads, n_times):
        q = self._factor()
        if self.n_times is not None and n_times != q * int(self.n_times):
            want = int(self.n_times)
            step = n_times // want
            what = (f"slices a {n_times}-sample record by {step}" if step else
                    f"refuses records under {want} samples")
            raise ValueError(
                f"Decimate(sfreq_in={float(self.sfreq_in):g}) reproduces DeepECG's decimation "
                f"only for records of {q * want} samples ({want} at "
                f"{float(self.sfreq_out):g} Hz), got {n_times}: the release {what}; crop or "
                f"pad the records to {q * want} samples first (CropOrPad), or pass n_times=None"
            )
        return n_leads, -(-n_times // q)

    def _chunk_kernel(self, n_ecgs, n_leads, n_times):
        q = self._factor()
        if q == 1:
            return None
        return lambda Xc, rows: np.ascontiguousarray(Xc[..., ::q])


class DeepECGSpectralCleaning(LearnedStep):
    """DeepECG's interference cleaning: peaks found on the cohort, flattened in every record.

    The release (``ECGSignalProcessor.clean_and_process_ecg_leads``) works on
    a whole batch of 250 Hz records:

    1. on the mean, over the batch, of ``|DFT(lead I)|``, above 20 Hz, a bin
       is a peak when it exceeds the mean plus 5 standard deviations of a
       5 Hz sliding window that contains it (3.25 when it lies within 5% of
       2, 3 or 4 times an earlier peak); peaks less than 1 Hz apart are
       merged into ranges;
    2. for every lead, the mean spectrum of that lead above 30 Hz is median
       filtered (5 bins) and LOWESS-smoothed (``frac=0.1``); each range is
       widened to where the spectrum crosses that smooth curve on both sides,
       then by 1 Hz;
    3. in every record and lead, the DFT magnitude over each range is replaced
       by the straight line between its values at the range's edges, the
       phase kept.

    Here steps 1 and 2 run in ``fit`` on the training cohort and the ranges
    are stored (``ranges_``); ``transform`` applies step 3 to each record on
    its own, so one record's output never depends on the others, and
    ``fit_transform`` on a batch is the release's cleaning of that batch.

    Parameters
    ----------
    sfreq : float, default=250.0
        Sampling rate of the input in Hz (the release assumes 250 Hz).
    window : float, default=5.0
        Width in Hz of the sliding window of the peak test.
    std_threshold : float, default=5.0
        Standard deviations above the window's mean that make a peak.
    min_freq : float, default=20.0
        Peaks are searched above this frequency (Hz).
    crossing_min_freq : float, default=30.0
        The smooth curve of step 2 is fitted above this frequency (Hz).
    widen : float, default=1.0
        Hz added on both sides of each range.
    ranges : list of list of (float, float) or None, default=None
        Fixed ranges for each lead (what ``fit`` would store in ``ranges_``,
        for example from a model's training cohort): then ``fit`` learns
        nothing.

    Attributes
    ----------
    peak_ranges_ : list of (float, float) or None
        Ranges (Hz) found on lead I, in the order the release finds them
        (``None`` when ``ranges`` is given).
    ranges_ : list of list of (float, float)
        For each lead, the ranges flattened in it (empty when no peak).
    n_leads_in_, n_times_in_ : int
        Shape of the ECGs seen in ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> from ecgsk.preprocessing import DeepECGSpectralCleaning
    >>> rng = np.random.default_rng(0)
    >>> t = np.arange(2500) / 250
    >>> X = (rng.normal(scale=0.1, size=(8, 12, 2500))
    ...      + 0.3 * np.sin(2 * np.pi * 60 * t)).astype("float32")   # 60 Hz hum
    >>> clean = DeepECGSpectralCleaning().fit(X)
    >>> [(round(a, 1), round(b, 1)) for a, b in clean.peak_ranges_]
    [(60.0, 60.0)]
    >>> def hum(a):
    ...     return float(np.abs(np.fft.rfft(a, axis=-1))[..., 600].mean() * 2 / 2500)
    >>> round(hum(X), 2), hum(clean.transform(X)) < 0.02
    (0.3, True)
    """

    def __init__(self, sfreq=DEEPECG_SFREQ, window=5.0, std_threshold=5.0, min_freq=20.0,
                 crossing_min_freq=30.0, widen=1.0, ranges=None):
        self.sfreq = sfreq
        self.window = window
        self.std_threshold = std_threshold
        self.min_freq = min_freq
        self.crossing_min_freq = crossing_min_freq
        self.widen = widen
        self.ranges = ranges

    def _validate_params(self):
        check_sfreq(self.sfreq)
        for name in ("window", "std_threshold", "min_freq", "crossing_min_freq"):
            check_positive_float(getattr(self, name), name)
        check_positive_float(self.widen, "widen", allow_zero=True)
        if self.ranges is not None:
            _check_ranges(self.ranges)

    def _learns_from_data(self) -> bool:
        return self.ranges is None

    def _fit_shape(self, n_leads, n_times):
        super()._fit_shape(n_leads, n_times)
        if self.ranges is not None:
            if len(self.ranges) != n_leads:
                raise ValueError(f"ranges has {len(self.ranges)} entries (one list per lead) "
                                 f"but X has {n_leads} leads")
            self.ranges_ = [[(float(a), float(b)) for a, b in lead] for lead in self.ranges]
            self.peak_ranges_ = None
        return self

    def _min_times(self):
        # At least one full peak window above min_freq.
        return int(math.ceil(2 * float(self.sfreq) / float(self.window)))

    def _fit_data(self, X):
        sfreq = float(self.sfreq)
        n_times = X.shape[-1]
        freqs = np.fft.fftfreq(n_times, 1 / sfreq)
        self.peak_ranges_ = _detect_peaks(
            _mean_spectrum(X[:, 0]), freqs, float(self.window), float(self.std_threshold),
            float(self.min_freq),
        )
        self.ranges_ = []
        for lead in range(X.shape[1]):
            if not self.peak_ranges_:
                self.ranges_.append([])
                continue
            crossings = _crossings(_mean_spectrum(X[:, lead]), freqs, self.peak_ranges_,
                                   float(self.crossing_min_freq))
            w = float(self.widen)
            # The release iterates over a set of the ranges: same order, duplicates dropped.
            self.ranges_.append([tuple(map(float, r))
                                 for r in set((a - w, b + w) for a, b in crossings)])

    def _chunk_kernel(self, n_ecgs, n_leads, n_times):
        if not any(self.ranges_):
            return None
        freqs = np.fft.fftfreq(n_times, 1 / float(self.sfreq))
        half = n_times // 2
        plans = []
        for lead, ranges in enumerate(self.ranges_):
            for lo_hz, hi_hz in ranges:
                if lo_hz >= hi_hz:
                    continue
                start = max(int(np.searchsorted(freqs[:half], lo_hz, side="left")), 0)
                end = min(int(np.searchsorted(freqs[:half], hi_hz, side="right")) - 1, half - 1)
                if start != end and start <= end:
                    plans.append((lead, start, end))
        if not plans:
            return None

        def clean(Xc, rows):
            Z = scipy.fft.rfft(Xc, axis=-1)
            mag = np.abs(Z)
            phase = np.angle(Z)
            out = Z.copy()
            for lead, start, end in plans:
                f0, f1 = freqs[start], freqs[end]
                m0, m1 = mag[:, lead, start:start + 1], mag[:, lead, end:end + 1]
                f = freqs[start:end + 1]
                line = (f - f0) * ((m1 - m0) / (f1 - f0)) + m0
                out[:, lead, start:end + 1] = line * np.exp(1j * phase[:, lead, start:end + 1])
            return scipy.fft.irfft(out, n=n_times, axis=-1).astype(np.float32, copy=False)

        return clean


def _check_ranges(ranges) -> None:
    try:
        ok = all(len(pair) == 2 and all(isinstance(v, (int, float, np.number)) for v in pair)
                 for lead in ranges for pair in lead)
    except TypeError:
        ok = False
    if not ok:
        raise ValueError("ranges must be a list (one per lead) of lists of (low, high) pairs in "
                         f"Hz, got {ranges!r:.80}")


def _mean_spectrum(signals: np.ndarray) -> np.ndarray:
    """Mean over records of ``|DFT|`` (float32, as the release computes it)."""
    return np.abs(np.fft.fft(signals.astype(np.float32), axis=-1)).mean(axis=0)


def _detect_peaks(spectrum, freqs, window, std_threshold, min_freq):
    """Peak ranges of the release's ``detect_peaks_with_sliding_window``."""
    valid = freqs >= min_freq
    vfreqs = freqs[valid]
    vmag = spectrum[valid]
    points = int(window / (freqs[1] - freqs[0]))
    n_win = vmag.size - points + 1
    if points < 1 or n_win < 1:
        return []
    windows = np.lib.stride_tricks.sliding_window_view(vmag, points)
    mean = windows.mean(axis=1)
    std = windows.std(axis=1)
    harmonic_threshold = std_threshold * 0.65
    low = windows > (mean + harmonic_threshold * std)[:, None]
    high = windows > (mean + std_threshold * std)[:, None]
    peaks: list[int] = []
    multiples = np.zeros(0)
    # Scan the candidates in the release's order (window by window): whether a
    # bin counts depends on the peaks found before it.
    for i, j in zip(*np.nonzero(low), strict=True):
        f = vfreqs[i + j]
        is_peak = bool(high[i, j])
        if not is_peak and multiples.size:
            is_peak = bool(np.any(np.abs(f - multiples) <= 1e-08 + 0.05 * np.abs(multiples)))
        if is_peak:
            peaks.append(int(i + j))
            multiples = np.concatenate([multiples, f * np.array([2.0, 3.0, 4.0])])
    if not peaks:
        return []
    pfreqs = vfreqs[peaks]
    regions = [[peaks[0]]]
    for k in range(1, len(peaks)):
        if pfreqs[k] - pfreqs[k - 1] <= 1:
            regions[-1].append(peaks[k])
        else:
            regions.append([peaks[k]])
    return [(float(vfreqs[r[0]]), float(vfreqs[r[-1]])) for r in regions]


def _crossings(spectrum, freqs, peak_ranges, min_freq):
    """Band edges of the release's ``find_crossings_for_peaks`` for one lead."""
    valid = freqs >= min_freq
    vfreqs = freqs[valid]
    vmag = spectrum[valid]
    smooth = lowess(medfilt(vmag, kernel_size=5), vfreqs, frac=0.1)
    above = vmag > smooth
    below = vmag < smooth
    # A crossing between bins i and i+1: one strictly above, the other strictly below.
    cross = (above[:-1] & below[1:]) | (below[:-1] & above[1:])
    out = []
    for lo, hi in peak_ranges:
        mid = int(np.argmin(np.abs(vfreqs - (lo + hi) / 2)))
        up = np.flatnonzero(cross[:mid])  # pairs (i-1, i) with i <= mid
        down = np.flatnonzero(cross[mid:])  # pairs (i, i+1) with i >= mid
        up_f = vfreqs[up[-1] + 1] if up.size else None
        down_f = vfreqs[mid + down[0]] if down.size else None
        out.append((lo if up_f is None else float(up_f), hi if down_f is None else float(down_f)))
    return out
