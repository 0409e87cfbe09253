"""Adaptive removal of narrow-band interference peaks, record by record."""

from __future__ import annotations

import math

import numpy as np
from scipy.ndimage import maximum_filter1d

from .._validation import check_frequency, check_sfreq
from ._base import SpectralStep, check_positive_float


class SpectralNotch(SpectralStep):
    """Find narrow interference peaks in each record's spectrum and flatten them.

    Mains hum at an unexpected frequency, its harmonics, or the tone of a
    nearby device show up as narrow spikes in the amplitude spectrum. For each
    record, the amplitude spectrum averaged over leads is compared with its
    own neighbourhood: a bin is an interference peak when it exceeds
    every bin of both flanks (from ``peak_width / 2`` to
    ``peak_width / 2 + flank_width`` Hz away on each side) by more than
    ``threshold_db``. Each peak, widened to ``peak_width``, is then flattened
    in every lead: its amplitude is replaced by the straight line joining the
    amplitudes at the edges of the band, and its phase is kept. What remains
    in the band is the background level (with the interference's phase), so
    a strong tone is attenuated by some 20-30 dB rather than cancelled; a
    :class:`NotchFilter` removes a known mains frequency completely.

    This is the approach of DeepECG's ``ECGSignalProcessor`` (find
    narrow-band peaks above ``min_freq``, replace their magnitude by a linear
    interpolation between the band edges, keep the phase), with two
    differences: DeepECG detects the peaks on the spectrum of lead I averaged
    over a whole batch of ECGs, so that one record's cleaning depends on the
    others processed with it; here each record is cleaned on its own
    spectrum. And the peak test compares a bin with the largest bin of its
    flanks rather than with the mean plus a multiple of the standard
    deviation of a window: heart-rate harmonics form a comb of similar peaks
    0.5-3 Hz apart, which the flanks contain, so they are not mistaken for
    interference.

    Parameters
    ----------
    sfreq : float
        Sampling rate of the input in Hz.
    min_freq : float, default=20.0
        Peaks below this frequency are never touched (the ECG's own content
        dominates there).
    threshold_db : float, default=6.0
        How far above both flanks (in dB of amplitude) a bin must be. On the
        first 200 PTB-XL records at 500 Hz, the defaults flag 125 peaks in 91
        records, all but one at harmonics of the 50 Hz mains.
    peak_width : float, default=2.0
        Width in Hz of the band flattened around each peak (wide enough to
        take the skirts of a hum whose frequency drifts a little); peaks wider
        than this are not interference and are left alone.
    flank_width : float, default=3.0
        Width in Hz of each flank a peak is compared with.

    Attributes
    ----------
    n_leads_in_ : int
        Number of leads seen in ``fit``.
    n_times_in_ : int
        Number of samples per lead seen in ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> from ecgsk.preprocessing import SpectralNotch
    >>> rng = np.random.default_rng(0)
    >>> t = np.arange(5000) / 500
    >>> X = rng.normal(scale=0.1, size=(2, 12, 5000)) + 0.5 * np.sin(2 * np.pi * 70 * t)
    >>> Y = SpectralNotch(500).fit_transform(X.astype("float32"))
    >>> def at_70hz(a):  # amplitude of the 70 Hz tone between 1 s and 9 s
    ...     return np.abs(np.fft.rfft(a[..., 500:-500], axis=-1))[..., 560].mean() * 2 / 4000
    >>> round(float(at_70hz(X)), 2), bool(at_70hz(Y) < 0.05)
    (0.5, True)
    """

    def __init__(self, sfreq, min_freq=20.0, threshold_db=6.0, peak_width=2.0, flank_width=3.0):
        self.sfreq = sfreq
        self.min_freq = min_freq
        self.threshold_db = threshold_db
        self.peak_width = peak_width
        self.flank_width = flank_width

    def _validate_params(self):
        sfreq = check_sfreq(self.sfreq)
        check_frequency(self.min_freq, sfreq, "min_freq")
        check_positive_float(self.threshold_db, "threshold_db")
        check_positive_float(self.peak_width, "peak_width")
        check_positive_float(self.flank_width, "flank_width")

    def _min_times(self):
        # Frequency resolution of a quarter of the peak width, so that a
        # peak's band and its flanks span several bins.
        return int(math.ceil(4 * float(self.sfreq) / float(self.peak_width)))

    def _too_short_reason(self):
        return f"resolving {self.peak_width:g} Hz wide peaks at sfreq={float(self.sfreq):g} Hz"

    def _pad_seconds(self):
        return 0.5 / float(self.peak_width)

    def _spectral_ops(self, n_fft, sfreq):
        df = sfreq / n_fft
        half = max(1, int(round(float(self.peak_width) / 2 / df)))
        flank = max(1, int(round(float(self.flank_width) / df)))
        first_bin = int(math.ceil(float(self.min_freq) / df))
        ratio = np.float32(10 ** (float(self.threshold_db) / 20))

        def flatten(Z, n_fft_now, sfreq_now):
            return _flatten_peaks(Z, half, flank, first_bin, ratio)

        return [("func", flatten)]


def _flatten_peaks(Z: np.ndarray, half: int, flank: int, first_bin: int, ratio) -> np.ndarray:
    nb = Z.shape[-1]
    if first_bin >= nb:
        return Z
    mag = np.abs(Z)
    level = mag.mean(axis=1)  # (n, nb): interference is common to the leads
    # Largest bin of each flank: a centred running maximum, shifted.
    run_max = maximum_filter1d(level, size=flank, axis=-1, mode="nearest")
    before = flank // 2
    after = flank - 1 - before
    idx = np.arange(nb)
    left = run_max[:, np.clip(idx - half - 1 - after, 0, nb - 1)]
    right = run_max[:, np.clip(idx + half + 1 + before, 0, nb - 1)]
    peak = level > ratio * np.maximum(left, right)
    peak[:, :first_bin] = False
    rows = np.flatnonzero(peak.any(axis=1))
    if rows.size == 0:
        return Z
    band = maximum_filter1d(peak[rows], size=2 * half + 1, axis=-1)
    band[:, :first_bin] = False
    # For every bin of a band: the nearest bins outside it on each side.
    lo = np.maximum.accumulate(np.where(band, -1, idx), axis=-1)
    hi = np.minimum.accumulate(np.where(band, nb, idx)[:, ::-1], axis=-1)[:, ::-1]
    r, b = np.nonzero(band)
    lo_b = lo[r, b]
    hi_b = hi[r, b]
    lo_b = np.where(lo_b < 0, hi_b, lo_b)
    hi_b = np.where(hi_b >= nb, lo_b, hi_b)
    span = np.maximum(hi_b - lo_b, 1)
    w = ((b - lo_b) / span).astype(np.float32)[:, None]
    rec = rows[r]
    target = mag[rec, :, lo_b] * (1 - w) + mag[rec, :, hi_b] * w  # (k, n_leads)
    current = mag[rec, :, b]
    scale = np.where(current > 0, target / np.where(current > 0, current, 1), 0).astype(np.float32)
    Z[rec, :, b] = Z[rec, :, b] * scale
    return Z
