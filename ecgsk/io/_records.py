"""The record container every reader returns."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd


class ECGRecords(NamedTuple):
    """ECG signals with their sampling rate, lead names and per-record metadata.

    A named tuple, so both ``X, sfreq, leads, meta = read_wfdb(...)`` and
    ``rec.signals`` work.

    Attributes
    ----------
    signals : ndarray of shape (n_ecgs, n_leads, n_times), float32
        Signals in millivolts.
    sfreq : float
        Sampling rate in Hz, shared by all records.
    leads : tuple of str
        Lead names, in the order of axis 1 of ``signals``.
    meta : DataFrame
        One row per record, aligned with ``signals`` (``record_id`` and whatever
        the files hold: age, sex, diagnosis codes, ...).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rec = ECGRecords(np.zeros((1, 12, 10), np.float32), 500.0, ("I",) * 12, pd.DataFrame({"record_id": ["a"]}))
    >>> rec.signals.shape, rec.sfreq
    ((1, 12, 10), 500.0)
    """

    signals: np.ndarray
    sfreq: float
    leads: tuple[str, ...]
    meta: pd.DataFrame
