"""Real, zero-phase frequency responses used by the spectral steps.

Each function returns a float64 gain per frequency (Hz). The responses are
the squared magnitudes of classic analog prototypes, that is what filtering
forwards and backwards (``filtfilt``) with the one-pass filter gives, without
the phase distortion of a single pass and without bilinear warping.
"""

from __future__ import annotations

import numpy as np


def butter_highpass_gain(freqs: np.ndarray, cutoff: float, order: int) -> np.ndarray:
    """``|H|^2`` of an order-``order`` Butterworth high-pass (0 at DC, 1/4 at ``cutoff``)."""
    x = (np.asarray(freqs, dtype=np.float64) / cutoff) ** (2 * order)
    return (x / (1.0 + x)) ** 2


def butter_lowpass_gain(freqs: np.ndarray, cutoff: float, order: int) -> np.ndarray:
    """``|H|^2`` of an order-``order`` Butterworth low-pass (1 at DC, 1/4 at ``cutoff``)."""
    x = (np.asarray(freqs, dtype=np.float64) / cutoff) ** (2 * order)
    return (1.0 / (1.0 + x)) ** 2


def notch_gain(freqs: np.ndarray, centers, bandwidth: float) -> np.ndarray:
    """``|H|^2`` of second-order notches at ``centers``, each ``bandwidth`` Hz wide.

    ``H(f) = (c^2 - f^2) / (c^2 - f^2 + i f bw)``: exactly zero at each center,
    and ``bandwidth`` is the -3 dB width of the one-pass notch.
    """
    f = np.asarray(freqs, dtype=np.float64)
    gain = np.ones_like(f)
    for c in centers:
        d = (c * c - f * f) ** 2
        gain *= d / (d + (f * bandwidth) ** 2)
    return gain


def raised_cosine_taper(freqs: np.ndarray, stop: float, transition: float) -> np.ndarray:
    """1 below ``stop - transition``, 0 at and above ``stop``, a half cosine between."""
    f = np.asarray(freqs, dtype=np.float64)
    start = stop - transition
    gain = np.ones_like(f)
    if transition > 0:
        band = (f > start) & (f < stop)
        gain[band] = 0.5 * (1.0 + np.cos(np.pi * (f[band] - start) / transition))
    gain[f >= stop] = 0.0
    return gain
