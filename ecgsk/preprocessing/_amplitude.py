"""Amplitude plausibility: are these signals millivolts?

A resting 12-lead ECG spans a few millivolts: QRS complexes of 0.5-3 mV,
rarely above 10 mV even with severe hypertrophy or baseline wander. A record
whose peak-to-peak amplitude reaches tens of millivolts was almost always
read with a wrong gain (microvolts or ADC counts taken as millivolts); one
below a hundredth of a millivolt in every lead is in volts, or flat. Both
pass every later step silently, so the check runs where signals enter: the
readers and :class:`~ecgsk.preprocessing.ECGPipeline`.
"""

from __future__ import annotations

import warnings

import numpy as np

#: Peak-to-peak amplitude (mV) above which a lead is implausible for a resting ECG.
MAX_PLAUSIBLE_PTP = 50.0
#: Peak-to-peak amplitude (mV) below which every lead of a record counts as flat.
MIN_PLAUSIBLE_PTP = 0.01

_SHOWN = 10


class AmplitudeWarning(UserWarning):
    """Signals whose amplitudes are implausible for millivolts (wrong gain, volts, flat)."""


def check_amplitude(signals, *, max_ptp=MAX_PLAUSIBLE_PTP, min_ptp=MIN_PLAUSIBLE_PTP,
                    names=None, warn=True, stacklevel=2):
    """Find records whose amplitudes are implausible for millivolts, and warn.

    A record is *too large* when the median over its leads of the per-lead
    peak-to-peak amplitude exceeds ``max_ptp`` (a gain error: microvolts or
    ADC counts read as millivolts; a spike or lead-off artefact in one lead
    does not count), and *too small* when every lead spans less than
    ``min_ptp`` (volts read as millivolts, or a flat record). NaN samples are
    ignored. The readers of :mod:`ecgsk.io` apply the same rule
    (:func:`lead_amplitudes`).

    Parameters
    ----------
    signals : array-like of shape (n_ecgs, n_leads, n_times)
        ECG signals that should be in millivolts.
    max_ptp : float or None, default=50.0
        Largest plausible median peak-to-peak amplitude of the leads, in mV; ``None``
        skips the check for large records.
    min_ptp : float or None, default=0.01
        Records whose every lead spans less than this (mV) are flagged;
        ``None`` skips the check for small records.
    names : sequence of str or None, default=None
        A name per record (file paths, record ids) to use in the warning
        instead of the record's index.
    warn : bool, default=True
        Emit one :class:`AmplitudeWarning` that names the flagged records
        (the first ten of each kind, then a count).
    stacklevel : int, default=2
        Passed to :func:`warnings.warn`, so that the warning points at the
        caller's code.

    Returns
    -------
    too_large, too_small : ndarray of int
        Indices of the flagged records, in increasing order.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> from ecgsk.preprocessing import check_amplitude
    >>> X = np.zeros((3, 12, 500), dtype="float32")
    >>> X[:, :, 100] = 1.5                   # a 1.5 mV spike: plausible
    >>> X[1] *= 1000                         # the same record in microvolts
    >>> X[2] /= 1000                         # ... and in volts
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     large, small = check_amplitude(X)
    >>> large.tolist(), small.tolist()
    ([1], [2])
    >>> print(caught[0].message)  # doctest: +NORMALIZE_WHITESPACE
    implausible amplitudes for millivolts: 1 record(s) whose median lead is above 50 mV
    peak-to-peak (a wrong gain? microvolts or ADC counts read as mV): records [1] (largest
    1.5e+03 mV);
    1 record(s) below 0.01 mV peak-to-peak in every lead (volts read as mV, or a flat
    record): records [2] (largest 0.0015 mV). Check the gain or units of these records
    (check_amplitude=False turns this check off).
    """
    X = np.asarray(signals)
    if X.ndim != 3:
        raise ValueError(f"signals must be 3-D (n_ecgs, n_leads, n_times), got {X.ndim}-D")
    if names is not None and len(names) != len(X):
        raise ValueError(f"names has {len(names)} entries but signals has {len(X)} records")
    for value, label in ((max_ptp, "max_ptp"), (min_ptp, "min_ptp")):
        if value is not None and not (isinstance(value, (int, float, np.number))
                                      and np.isfinite(value) and value > 0):
            raise ValueError(f"{label} must be a positive number or None, got {value!r}")
    empty = np.zeros(0, dtype=np.intp)
    if X.size == 0:
        return empty, empty
    typical, widest = lead_amplitudes(X)
    too_large = np.flatnonzero(typical > max_ptp) if max_ptp is not None else empty
    too_small = np.flatnonzero(widest < min_ptp) if min_ptp is not None else empty
    if warn and (too_large.size or too_small.size):
        parts = []
        if too_large.size:
            parts.append(
                f"{too_large.size} record(s) whose median lead is above {max_ptp:g} mV "
                f"peak-to-peak (a wrong gain? microvolts or ADC counts read as mV): "
                f"{_which(too_large, names)} (largest {typical[too_large].max():.3g} mV)"
            )
        if too_small.size:
            parts.append(
                f"{too_small.size} record(s) below {min_ptp:g} mV peak-to-peak in every lead "
                f"(volts read as mV, or a flat record): {_which(too_small, names)} "
                f"(largest {widest[too_small].max():.3g} mV)"
            )
        warnings.warn(
            "implausible amplitudes for millivolts: " + "; ".join(parts) + ". Check the gain "
            "or units of these records (check_amplitude=False turns this check off).",
            AmplitudeWarning, stacklevel=stacklevel,
        )
    return too_large, too_small


def lead_amplitudes(signals) -> tuple[np.ndarray, np.ndarray]:
    """``(median, widest)`` per-lead peak-to-peak amplitude of each record ``(n, leads, times)``.

    The median over leads is what the "too large" rule uses (a pacing spike or a lead-off
    artefact in one lead does not move it); the widest lead is what the "too small" rule uses
    (a record is flat only if every lead is). NaN samples are ignored, an all-NaN lead counts
    as 0 mV.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.zeros((1, 3, 4)); x[0, 0, 0] = 2.0; x[0, 1, 0] = 1.0
    >>> lead_amplitudes(x)
    (array([1.]), array([2.]))
    """
    X = np.asarray(signals)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN leads
        # In float64: the range of integer counts can overflow their own dtype.
        ptp = (np.nanmax(X, axis=-1).astype(np.float64)
               - np.nanmin(X, axis=-1).astype(np.float64))  # (n, leads)
    ptp = np.where(np.isnan(ptp), 0.0, ptp)
    return np.median(ptp, axis=-1), ptp.max(axis=-1)


def _which(indices: np.ndarray, names) -> str:
    shown = indices[:_SHOWN]
    items = [str(names[i]) for i in shown] if names is not None else [int(i) for i in shown]
    more = f" and {indices.size - _SHOWN} more" if indices.size > _SHOWN else ""
    return f"records {items}{more}"
