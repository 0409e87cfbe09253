"""Synthetic 12-lead ECGs from neurokit2's multi-lead simulator, for tests."""

from __future__ import annotations

import numbers
from fractions import Fraction

import numpy as np
import pandas as pd
from scipy.signal import resample_poly
from sklearn.utils import check_random_state

from .._validation import check_sfreq
from ..io._records import ECGRecords
from ..leads import STANDARD_12, derive_limb_leads

_MIN_SIMULATION_RATE = 500


def _heart_rate_range(heart_rate) -> tuple[float, float]:
    if isinstance(heart_rate, numbers.Real) and not isinstance(heart_rate, bool):
        low = high = float(heart_rate)
    else:
        try:
            low, high = (float(v) for v in heart_rate)
        except (TypeError, ValueError):
            raise ValueError(
                f"heart_rate must be a number or a (low, high) pair in beats per minute, got {heart_rate!r}"
            ) from None
    if not (np.isfinite(low) and np.isfinite(high) and 20 <= low <= high <= 250):
        raise ValueError(f"heart_rate must lie within 20-250 bpm with low <= high, got {heart_rate!r}")
    return low, high


def make_synthetic_ecgs(
    n: int = 10,
    sfreq=500,
    duration=10,
    random_state=None,
    heart_rate=(60, 90),
    noise: float = 0.01,
) -> ECGRecords:
    """Simulate 12-lead ECGs with neurokit2's multi-lead ECGSYN model.

    For tests and examples that need ECG-shaped input of any rate and length.
    They are **not** a substitute for real ECGs: the simulator draws each lead
    from one dynamical model with per-lead wave amplitudes, so morphology,
    axis and inter-lead relations are only roughly physiological, and there
    is no pathology. Use :func:`load_ptbxl_sample` for real ECGs.

    Two corrections make the leads consistent: neurokit2 rescales every lead
    to span -0.4 to 1.2 mV, so each lead's median (its isoelectric level) is
    subtracted, and III, aVR, aVL and aVF are derived from I and II
    (:func:`ecgsk.leads.derive_limb_leads`) so that Einthoven's and
    Goldberger's laws hold as in a recording.

    Parameters
    ----------
    n : int, default=10
        Number of ECGs (each takes 0.5 to 1 s to simulate: keep ``n`` small).
    sfreq : int, default=500
        Sampling rate in Hz (a whole number). Below 500 Hz the ECGs are
        simulated at 500 Hz and resampled (anti-aliased), because the
        simulator's integration does not finish at low rates.
    duration : float, default=10
        Length in seconds; each ECG has ``round(duration * sfreq)`` samples.
    random_state : int, RandomState or None
        Seed for reproducible output.
    heart_rate : float or (low, high), default=(60, 90)
        Mean heart rate in bpm, or the range each ECG's rate is drawn from
        uniformly.
    noise : float, default=0.01
        Amplitude (mV) of neurokit2's additive Laplace noise.

    Returns
    -------
    ECGRecords
        ``signals`` (n, 12, n_times) float32 mV in :data:`~ecgsk.leads.STANDARD_12`
        order, ``sfreq``, ``leads`` and ``meta`` with ``record_id`` and
        ``heart_rate`` (the simulated mean rate, bpm).

    Examples
    --------
    >>> from ecgsk.datasets import make_synthetic_ecgs
    >>> X, sfreq, leads, meta = make_synthetic_ecgs(2, sfreq=250, duration=4, random_state=0)
    >>> X.shape, X.dtype, sfreq, leads[3]
    ((2, 12, 1000), dtype('float32'), 250.0, 'aVR')
    >>> list(meta.columns)
    ['record_id', 'heart_rate']
    """
    import neurokit2 as nk

    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    sfreq = check_sfreq(sfreq)
    if not float(sfreq).is_integer():
        raise ValueError(f"sfreq must be a whole number of Hz for the simulator, got {sfreq!r}")
    if isinstance(duration, bool) or not isinstance(duration, numbers.Real) or not duration > 0:
        raise ValueError(f"duration must be a positive number of seconds, got {duration!r}")
    n_times = int(round(duration * sfreq))
    if n_times < 2:
        raise ValueError(f"duration={duration!r} s at {sfreq:g} Hz gives fewer than 2 samples")
    if isinstance(noise, bool) or not isinstance(noise, numbers.Real) or not 0 <= noise < np.inf:
        raise ValueError(f"noise must be a non-negative amplitude in mV, got {noise!r}")
    low, high = _heart_rate_range(heart_rate)
    rng = check_random_state(random_state)
    rates = rng.uniform(low, high, size=n)
    seeds = rng.randint(0, 2**31 - 1, size=n)

    # The simulator's integration stalls at low rates (100 Hz never finishes):
    # simulate at 500 Hz or more, then resample with an anti-aliasing filter.
    internal = max(int(sfreq), _MIN_SIMULATION_RATE)
    ratio = Fraction(int(sfreq), internal)
    n_internal = int(np.ceil(n_times / ratio))
    signals = np.empty((n, len(STANDARD_12), n_times), dtype=np.float32)
    for i in range(n):
        frame = nk.ecg_simulate(
            duration=n_internal / internal,
            length=n_internal,
            sampling_rate=internal,
            noise=float(noise),
            heart_rate=float(rates[i]),
            method="multileads",
            random_state=int(seeds[i]),
        )
        ecg = frame[list(STANDARD_12)].to_numpy(dtype=np.float64).T
        if ratio != 1:
            ecg = resample_poly(ecg, ratio.numerator, ratio.denominator, axis=1)
        ecg = ecg[:, :n_times]
        ecg -= np.median(ecg, axis=1, keepdims=True)
        derived = derive_limb_leads(ecg[0], ecg[1])
        for name in ("III", "aVR", "aVL", "aVF"):
            ecg[STANDARD_12.index(name)] = derived[name]
        signals[i] = ecg
    meta = pd.DataFrame({"record_id": [f"synthetic_{i:04d}" for i in range(n)], "heart_rate": rates})
    return ECGRecords(signals, sfreq, STANDARD_12, meta)
