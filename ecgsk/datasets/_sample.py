"""The real PTB-XL sample bundled with ecgsk (ecg_id 1-200 at 500 Hz, CC BY 4.0)."""

from __future__ import annotations

import io
import json
import lzma
import threading
from importlib import resources

import numpy as np
from sklearn.utils import Bunch

from .._validation import check_sfreq
from ..io._common import adc_to_mv
from ._build_sample import INFO_FILE, SIGNALS_FILE, STATEMENTS_FILE, TABLE_FILE, delta_decode
from ._ptbxl import (
    check_label_set,
    describe,
    ptbxl_labels,
    ptbxl_meta,
    read_database_csv,
    read_statements_csv,
)

_CACHE: dict[str, object] = {}
_LOCK = threading.Lock()
_INVALID = -(2**15)  # the WFDB format-16 "no data" code, as read_wfdb treats it


def _data_file(name: str):
    return resources.files("ecgsk.datasets").joinpath("data", name)


def _counts() -> tuple[np.ndarray, dict]:
    """Decoded int16 counts ``(200, 12, 5000)`` and the info dict, cached in-process."""
    with _LOCK:
        if "counts" not in _CACHE:
            info = json.loads(_data_file(INFO_FILE).read_text())
            packed = _data_file(SIGNALS_FILE).read_bytes()
            counts = delta_decode(np.load(io.BytesIO(lzma.decompress(packed)), allow_pickle=False))
            if list(counts.shape) != info["shape"]:
                raise RuntimeError(f"bundled sample has shape {counts.shape}, expected {info['shape']}")
            counts.setflags(write=False)
            _CACHE["counts"], _CACHE["info"] = counts, info
        return _CACHE["counts"], _CACHE["info"]


def load_ptbxl_sample(labels: str = "superdiagnostic", sfreq=500) -> Bunch:
    """Load the real PTB-XL sample bundled with ecgsk: 200 12-lead ECGs, 10 s.

    The records are PTB-XL ecg_id 1 to 200 (500 Hz release), stored in the
    package as their int16 ADC counts (lossless, about 4.4 MB), with their rows
    of ``ptbxl_database.csv`` and the ``scp_statements.csv`` table. They are
    early recordings (1984 on) and skewed towards normal ECGs: a sample for
    examples, demos and tests, not an evaluation set. PTB-XL is CC BY 4.0:
    cite it (see ``description`` and ``ecgsk/datasets/data/ATTRIBUTION.md``).

    Parameters
    ----------
    labels : {"superdiagnostic", "scp", "deepecg"}, default="superdiagnostic"
        The label set, as in :func:`load_ptbxl`.
    sfreq : float, default=500
        Sampling rate of the returned signals. Other rates than 500 Hz are
        produced with :class:`ecgsk.preprocessing.Resample` (anti-aliased).

    Returns
    -------
    Bunch
        The same fields as :func:`load_ptbxl`: ``signals`` (200, 12,
        n_times) float32 mV (5000 samples at 500 Hz), ``sfreq``, ``leads``,
        ``labels``, ``meta``, ``unmapped`` and ``description``. The arrays are
        fresh copies on every call.

    Examples
    --------
    >>> from ecgsk.datasets import load_ptbxl_sample
    >>> data = load_ptbxl_sample()
    >>> data.signals.shape, data.sfreq, data.leads[:3]
    ((200, 12, 5000), 500.0, ('I', 'II', 'III'))
    >>> list(data.labels.columns), int(data.labels.loc[1, "NORM"])
    (['NORM', 'MI', 'STTC', 'CD', 'HYP'], 1)
    >>> row = data.meta.loc[1]
    >>> float(row["age"]), row["sex"], int(row["strat_fold"])
    (56.0, 'female', 3)
    """
    check_label_set(labels)
    sfreq = check_sfreq(sfreq)
    counts, info = _counts()
    with resources.as_file(_data_file(TABLE_FILE)) as table_path:
        table = read_database_csv(table_path)
    with resources.as_file(_data_file(STATEMENTS_FILE)) as statements_path:
        statements = read_statements_csv(statements_path)
    signals = adc_to_mv(counts, info["adc_gain_per_mv"], info["baseline"], invalid=_INVALID)
    source_sfreq = float(info["sfreq"])
    if sfreq != source_sfreq:
        from ..preprocessing import Resample

        signals = np.asarray(Resample(source_sfreq, sfreq).fit_transform(signals), dtype=np.float32)
    label_frame, unmapped = ptbxl_labels(table["scp_codes"], statements, labels)
    return Bunch(
        signals=signals,
        sfreq=sfreq,
        leads=tuple(info["leads"]),
        labels=label_frame,
        meta=ptbxl_meta(table),
        unmapped=unmapped,
        description=describe("bundled sample, ecg_id 1-200", len(table), sfreq, labels, unmapped),
    )
