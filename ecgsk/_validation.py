"""One place for input checks, so every public function fails the same clear way."""

from __future__ import annotations

import numbers

import numpy as np


def check_ecg(
    X,
    *,
    n_leads: int | None = None,
    n_times: int | None = None,
    min_times: int = 1,
    allow_nan: bool = False,
    dtype=np.float32,
    copy: bool = False,
    name: str = "X",
) -> np.ndarray:
    """Validate an ECG batch and return it as a C-contiguous float array.

    Parameters
    ----------
    X : array-like of shape (n_ecgs, n_leads, n_times)
        ECG signals in millivolts, time on the last axis.
    n_leads : int, optional
        The number of leads the caller needs (for example the count seen in ``fit``).
    n_times : int, optional
        The exact number of samples the caller needs.
    min_times : int, default=1
        The minimum number of samples (for example what a filter needs).
    allow_nan : bool, default=False
        Accept NaN (never inf).
    dtype : numpy dtype, default=float32
        Output dtype. Integer or boolean input is converted; other dtypes
        (strings, objects, complex) raise ``TypeError``.
    copy : bool, default=False
        Always return a copy.
    name : str, default="X"
        Name used in error messages.

    Returns
    -------
    ndarray of shape (n_ecgs, n_leads, n_times)

    Raises
    ------
    TypeError
        For non-numeric input.
    ValueError
        For the wrong number of dimensions, an empty batch, the wrong lead
        count or length, too few samples, NaN or inf.

    Examples
    --------
    >>> import numpy as np
    >>> check_ecg(np.zeros((2, 12, 500))).dtype
    dtype('float32')
    >>> check_ecg(np.zeros((12, 500)))
    Traceback (most recent call last):
    ...
    ValueError: X must be 3-D (n_ecgs, n_leads, n_times); got a 2-D array of shape (12, 500). For a single ECG use X[np.newaxis].
    """
    if hasattr(X, "to_numpy") and not isinstance(X, np.ndarray):
        raise TypeError(f"{name} must be a numeric array of shape (n_ecgs, n_leads, n_times), got {type(X).__name__}")
    try:
        arr = np.asarray(X)
    except Exception as exc:  # ragged lists and the like
        raise ValueError(f"{name} could not be converted to an array: {exc}") from exc
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.floating)
        or np.issubdtype(arr.dtype, np.integer)
        or arr.dtype == bool
    ):
        raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    if arr.ndim != 3:
        hint = " For a single ECG use X[np.newaxis]." if arr.ndim == 2 else ""
        raise ValueError(
            f"{name} must be 3-D (n_ecgs, n_leads, n_times); got a {arr.ndim}-D array of shape {arr.shape}.{hint}"
        )
    if arr.shape[0] == 0:
        raise ValueError(f"{name} is empty: it holds 0 ECGs (shape {arr.shape})")
    if arr.shape[1] == 0 or arr.shape[2] == 0:
        raise ValueError(f"{name} has no leads or no samples (shape {arr.shape})")
    if n_leads is not None and arr.shape[1] != n_leads:
        raise ValueError(f"{name} has {arr.shape[1]} leads, expected {n_leads}")
    if n_times is not None and arr.shape[2] != n_times:
        raise ValueError(f"{name} has {arr.shape[2]} samples per lead, expected {n_times}")
    if arr.shape[2] < min_times:
        raise ValueError(
            f"{name} is too short: {arr.shape[2]} samples per lead, at least {min_times} are needed"
        )
    out = np.array(arr, dtype=dtype, order="C", copy=True) if copy else np.ascontiguousarray(arr, dtype=dtype)
    _check_finite(out, allow_nan=allow_nan, name=name)
    return out


def _check_finite(arr: np.ndarray, *, allow_nan: bool, name: str) -> None:
    # One reduction is much cheaper than np.isfinite on the whole batch; an overflow to inf
    # only sends us to the exact checks below.
    with np.errstate(over="ignore", invalid="ignore"):
        total = float(np.sum(arr))
    if np.isfinite(total):
        return
    if np.isinf(arr).any():
        where = np.argwhere(np.isinf(arr))[0]
        raise ValueError(f"{name} contains inf (first at ECG {where[0]}, lead {where[1]}, sample {where[2]})")
    if not allow_nan and np.isnan(arr).any():
        where = np.argwhere(np.isnan(arr))[0]
        raise ValueError(f"{name} contains NaN (first at ECG {where[0]}, lead {where[1]}, sample {where[2]})")


def check_sfreq(sfreq, name: str = "sfreq") -> float:
    """Return a positive finite sampling rate in Hz as float, or raise.

    Examples
    --------
    >>> check_sfreq(500)
    500.0
    """
    if isinstance(sfreq, bool) or not isinstance(sfreq, numbers.Real):
        raise TypeError(f"{name} must be a number in Hz, got {type(sfreq).__name__}: {sfreq!r}")
    value = float(sfreq)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive sampling rate in Hz, got {sfreq!r}")
    return value


def check_frequency(freq, sfreq: float, name: str) -> float:
    """Check that a cut-off frequency lies strictly between 0 and Nyquist.

    Examples
    --------
    >>> check_frequency(40, 500, "high")
    40.0
    """
    if isinstance(freq, bool) or not isinstance(freq, numbers.Real):
        raise TypeError(f"{name} must be a frequency in Hz, got {type(freq).__name__}: {freq!r}")
    value = float(freq)
    nyquist = sfreq / 2.0
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name}={freq!r} Hz must be positive")
    if value >= nyquist:
        raise ValueError(
            f"{name}={freq!r} Hz is at or above the Nyquist frequency ({nyquist:g} Hz for sfreq={sfreq:g} Hz)"
        )
    return value



def check_positive_int(value, name: str) -> int:
    """Return ``value`` as an int if it is a positive integer, else raise.

    Parameters
    ----------
    value : object
        The value to check (``bool`` is refused even though it is an ``int``).
    name : str
        Parameter name used in the error message.

    Returns
    -------
    int

    Raises
    ------
    TypeError
        If ``value`` is not an integer.
    ValueError
        If it is not positive.

    Examples
    --------
    >>> check_positive_int(12, "batch_size")
    12
    >>> check_positive_int(0, "batch_size")
    Traceback (most recent call last):
    ...
    ValueError: batch_size must be a positive integer, got 0
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a positive integer, got {type(value).__name__}: {value!r}")
    if value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)
