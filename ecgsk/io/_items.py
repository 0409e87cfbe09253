"""One ECG at a time: find record files, scan their headers, turn one record into model input.

Shared by :class:`ecgsk.datasets.ECGDataset` (items read on demand) and
:func:`ecgsk.io.convert` (records read in parallel into an array store), so
that both apply exactly the same checks, resampling, cropping and
preprocessing to each record.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from ..leads import canonical_lead_names
from ..preprocessing._introspection import is_stateless
from ._common import RawRecord
from ._folder import _SELF_CONTAINED_SUFFIXES, _list_files, _read_one
from ._wfdb import _comment_meta, record_base
from ._wfdb_header import apply_header_fields, check_header

# Bits per stored sample of the fixed-width WFDB formats (310/311 pack 3 samples in 4 bytes).
_WFDB_BITS = {
    "8": 8, "16": 16, "61": 16, "80": 8, "160": 16, "212": 12, "24": 24, "32": 32,
    "310": 32 / 3, "311": 32 / 3,
}


def find_record_files(source) -> list[Path]:
    """Return the record files of a folder (searched recursively, sorted) or of a list.

    Raises ``FileNotFoundError`` for a path that does not exist and
    ``ValueError`` for an empty list or a folder without any ``*.hea``/``*.xml``.
    """
    return _list_files(source, "ECG record paths")


def record_ids(files: list[Path]) -> list[str]:
    """File stems, or paths relative to the common folder (no suffix) when stems repeat."""
    stems = [
        p.stem if p.suffix.lower() in _SELF_CONTAINED_SUFFIXES else record_base(p).name
        for p in files
    ]
    if len(set(stems)) == len(stems):
        return stems
    root = Path(os.path.commonpath([str(p.resolve().parent) for p in files]))
    ids = [p.resolve().relative_to(root).with_suffix("").as_posix() for p in files]
    if len(set(ids)) != len(ids):
        seen: set[str] = set()
        dup = next(i for i in ids if i in seen or seen.add(i))
        raise ValueError(f"two files name the same record {dup!r} (for example a .hea and a .xml)")
    return ids


def read_record(path, verify: bool = True) -> RawRecord:
    """Read one record of any supported format (checksums verified) into a :class:`RawRecord`."""
    return _read_one(Path(path), bool(verify))


# --------------------------------------------------------------------------- headers


@dataclass(frozen=True)
class RecordHeader:
    """What a record holds, known without decoding its samples (WFDB) or after one read (XML)."""

    path: Path
    sfreq: float
    n_times: int
    leads: tuple[str, ...]
    meta: dict = field(default_factory=dict)


def _wfdb_data_check(header, base: Path) -> int:
    """Check the data files exist and are long enough; return the number of samples."""
    files: dict[str, list[int]] = {}
    for i, name in enumerate(header.file_name or []):
        files.setdefault(name, []).append(i)
    n_times = header.sig_len or 0
    for name, signals in files.items():
        path = base.parent / name
        if not path.is_file():
            raise ValueError(f"WFDB record {base}: data file {path} is missing")
        fmt = str(header.fmt[signals[0]])
        if fmt not in _WFDB_BITS:
            continue  # compressed (FLAC) formats: the size says nothing
        offset = (header.byte_offset or [0] * header.n_sig)[signals[0]] or 0
        frame = sum((header.samps_per_frame or [1] * header.n_sig)[i] or 1 for i in signals)
        size = path.stat().st_size
        if not header.sig_len:  # the length is then implied by the file size
            n_times = int((size - offset) * 8 // (frame * _WFDB_BITS[fmt]))
            continue
        needed = offset + math.ceil(header.sig_len * frame * _WFDB_BITS[fmt] / 8)
        if size < needed:
            raise ValueError(
                f"WFDB record {base}: data file {path} holds {size} bytes but the header "
                f"implies {needed}: the file is truncated"
            )
    if n_times < 1:
        raise ValueError(f"WFDB record {base} holds no samples")
    return int(n_times)


def _scan_wfdb(path: Path) -> RecordHeader:
    import wfdb

    base = record_base(path)
    hea = base.with_name(base.name + ".hea")
    if not hea.is_file():
        raise ValueError(f"WFDB header {hea} not found")
    fields = check_header(hea, default_hint=False)  # wfdb misreads some rates
    try:
        header = wfdb.rdheader(str(base))
    except Exception as exc:  # wfdb raises many exception types for a bad header
        raise ValueError(f"{hea} is not a valid WFDB header ({type(exc).__name__}: {exc})") from exc
    apply_header_fields(header, fields, hea)
    if not getattr(header, "n_sig", 0) or not getattr(header, "file_name", None):
        raise ValueError(f"WFDB record {base} holds no signals (or is a multi-segment record)")
    if not header.fs or not np.isfinite(header.fs) or header.fs <= 0:
        raise ValueError(f"WFDB record {base}: invalid sampling rate {header.fs!r} in the header")
    n_times = _wfdb_data_check(header, base)
    try:
        leads = canonical_lead_names(header.sig_name or [f"signal{i}" for i in range(header.n_sig)])
    except (TypeError, ValueError) as exc:
        raise ValueError(f"WFDB record {base}: {exc}") from exc
    comments = [c.strip() for c in (header.comments or []) if c.strip()]
    return RecordHeader(path, float(header.fs), n_times, leads, _comment_meta(comments))


def scan_header(path) -> RecordHeader:
    """Rate, length, leads and metadata of one record, without keeping its samples.

    WFDB: the header is parsed and the data files' sizes checked against it
    (a truncated ``.dat`` is caught here). XML, DICOM, SCP-ECG: the file is parsed and
    decoded (an XML file holds its header and samples together).
    """
    path = Path(path)
    if path.suffix.lower() in _SELF_CONTAINED_SUFFIXES:
        rec = read_record(path)
        meta = {k: v for k, v in rec.meta.items() if k not in ("record_id", "path")}
        return RecordHeader(path, float(rec.sfreq), int(rec.signal.shape[1]), rec.leads, meta)
    return _scan_wfdb(path)


# --------------------------------------------------------------------------- one item


def _not_fitted(preprocessing) -> bool:
    try:
        check_is_fitted(preprocessing)
    except NotFittedError:
        return True
    except Exception:  # noqa: BLE001 (not an sklearn estimator: no opinion)
        return False
    return False


def fit_once(preprocessing, x: np.ndarray):
    """Return ``(fitted, output on x)``: ``preprocessing`` if fitted, else a fitted clone.

    Only a preprocessing made of ecgsk steps, which learn nothing from the
    data, is fitted here (a clone, on the one ECG ``x``, which is exact). Any
    other unfitted step would learn from that one ECG alone: ``ValueError``
    asks for it to be fitted on the training data first.
    """
    stateless = is_stateless(preprocessing)
    try:
        return preprocessing, np.asarray(preprocessing.transform(x[None]))
    except (NotFittedError, AttributeError) as exc:
        if stateless and isinstance(exc, NotFittedError):
            fitted = clone(preprocessing).fit(x[None])
            return fitted, np.asarray(fitted.transform(x[None]))
        if isinstance(exc, AttributeError) and not _not_fitted(preprocessing):
            raise  # a bug in the transformer, not a missing fit
        raise ValueError(
            f"preprocessing {type(preprocessing).__name__} is not fitted and has steps that "
            "learn from the data (such as the cohort amplitude gain of "
            "make_deepecg_preprocessing, or a step from outside ecgsk): fit it on your "
            "training ECGs first (preprocessing.fit(X_train)) and pass the fitted one "
            f"({type(exc).__name__}: {exc})"
        ) from exc


@dataclass
class ItemSpec:
    """How every record becomes one item: lead order, rate, length, then preprocessing.

    Parameters
    ----------
    leads : tuple of str
        Lead order of the items before preprocessing. A record with the same
        leads in another order is reordered; another lead set is an error.
    sfreq : float
        Rate before preprocessing. A record at another rate is resampled when
        ``resample`` is true, else it is an error.
    n_times : int
        Samples before preprocessing (at ``sfreq``). A record of another length
        is cropped or zero-padded (centred) when ``crop`` is true, kept as it is
        when ``any_length`` is true (each item then has its record's length), else it is
        an error.
    preprocessing : fitted transformer or None
        Applied to ``x[None]``.
    out_shape : (int, int) or None
        ``(n_leads, n_times)`` every item must have after preprocessing.
    """

    leads: tuple[str, ...]
    sfreq: float
    n_times: int
    resample: bool = False
    crop: bool = False
    preprocessing: object = None
    out_shape: tuple[int, int] | None = None
    any_length: bool = False
    verify: bool = True

    def conform(self, signal: np.ndarray, leads, sfreq: float, where: str) -> np.ndarray:
        """Lead order, rate and length of one record; raise ``ValueError`` naming ``where``."""
        from ..preprocessing import CropOrPad, Resample

        x = np.asarray(signal, dtype=np.float32)
        leads = tuple(leads)
        if leads != self.leads:
            if sorted(leads) != sorted(self.leads):
                raise ValueError(
                    f"{where} has leads {list(leads)}, expected the lead set {list(self.leads)}"
                )
            x = x[[leads.index(name) for name in self.leads]]
        if not math.isclose(sfreq, self.sfreq, rel_tol=1e-9):
            if not self.resample:
                raise ValueError(
                    f"{where} is sampled at {sfreq:g} Hz, expected {self.sfreq:g} Hz "
                    "(pass sfreq= to resample every record to one rate)"
                )
            x = Resample(sfreq, self.sfreq).fit_transform(x[None])[0]
        if x.shape[1] != self.n_times and not (self.any_length and not self.crop):
            if not self.crop:
                raise ValueError(
                    f"{where} has {x.shape[1]} samples per lead at {self.sfreq:g} Hz, expected "
                    f"{self.n_times} (pass n_times= to crop or pad every record to one length)"
                )
            x = CropOrPad(self.n_times).fit_transform(x[None])[0]
        _check_finite(x, where, "")
        return np.ascontiguousarray(x, dtype=np.float32)

    def finish(self, x: np.ndarray, where: str) -> np.ndarray:
        """Apply the preprocessing to one conformed ECG and check the result."""
        if self.preprocessing is None:
            return x
        try:
            out = np.asarray(self.preprocessing.transform(x[None]), dtype=np.float32)
        except ValueError as exc:
            raise ValueError(f"{where}: preprocessing failed: {exc}") from exc
        if out.ndim != 3 or out.shape[0] != 1:
            raise ValueError(
                f"{where}: preprocessing returned shape {out.shape}, expected (1, n_leads, n_times)"
            )
        out = out[0]
        if self.out_shape is not None and out.shape != tuple(self.out_shape):
            raise ValueError(
                f"{where}: preprocessing returned an ECG of shape {out.shape}, expected "
                f"{tuple(self.out_shape)} like the others"
            )
        _check_finite(out, where, " after preprocessing")
        return np.ascontiguousarray(out)

    def read(self, path) -> tuple[np.ndarray, RawRecord]:
        """Read the record at ``path``: ``(conformed ECG, record)``, or ``ValueError``."""
        rec = _read_or_fail(path, self.verify)
        return self.conform(rec.signal, rec.leads, rec.sfreq, str(path)), rec

    def load(self, path) -> tuple[np.ndarray, RawRecord]:
        """Read the record at ``path`` and return ``(item, record)``; ``ValueError`` names it."""
        x, rec = self.read(path)
        return self.finish(x, str(path)), rec


def _read_or_fail(path, verify: bool = True) -> RawRecord:
    """:func:`read_record`, with every failure a ``ValueError`` naming the file."""
    where = str(path)
    try:
        return read_record(path) if verify else read_record(path, verify=False)
    except FileNotFoundError as exc:
        raise ValueError(f"{where}: {exc}") from exc
    except OSError as exc:
        raise ValueError(f"{where} could not be read ({type(exc).__name__}: {exc})") from exc


def length_at(n_leads: int, n_times: int, rate_in: float, rate_out: float) -> int:
    """Samples per lead of an ECG of ``n_times`` samples at ``rate_in`` once at ``rate_out``."""
    if math.isclose(rate_in, rate_out, rel_tol=1e-9):
        return int(n_times)
    from ..preprocessing import Resample

    return int(Resample(rate_in, rate_out)._output_shape(n_leads, n_times)[1])


def spec_for_record(leads, rate: float, n_times: int, sfreq=None, n_times_out=None) -> ItemSpec:
    """The :class:`ItemSpec` a reference record sets.

    Its leads; its rate, or ``sfreq`` (then every record is resampled); its
    length at that rate, or ``n_times_out`` (then every record is cropped or
    padded).
    """
    target = float(rate if sfreq is None else sfreq)
    length = length_at(len(leads), n_times, rate, target)
    return ItemSpec(tuple(leads), target, int(n_times_out if n_times_out is not None else length),
                    resample=sfreq is not None, crop=n_times_out is not None)


@dataclass
class Reference:
    """The record that sets the targets: the first whose samples read and conform.

    ``index`` is its position in the list searched (None when no record
    reads), ``spec`` the targets it sets, ``x`` its conformed ECG, and
    ``failures`` the ``(path, reason)`` of every record tried before it.
    """

    index: int | None
    spec: ItemSpec | None
    x: np.ndarray | None
    failures: list[tuple[str, str]]


def find_reference(paths, sfreq=None, n_times=None, *, stop_at_error=False,
                   verify: bool = True) -> Reference:
    """The first of ``paths`` whose samples read and conform to the targets it sets.

    A record whose header reads but whose samples are corrupt never becomes
    the reference, so it cannot impose its rate or leads on the good ones.
    With ``stop_at_error`` the first failure raises its ``ValueError``
    instead of being collected.
    """
    failures: list[tuple[str, str]] = []
    for index, path in enumerate(paths):
        try:
            rec = _read_or_fail(path, verify)
            spec = spec_for_record(rec.leads, rec.sfreq, rec.signal.shape[1], sfreq, n_times)
            spec.verify = verify
            x = spec.conform(rec.signal, rec.leads, rec.sfreq, str(path))
        except ValueError as exc:
            if stop_at_error:
                raise
            failures.append((str(path), str(exc)))
            continue
        return Reference(index, spec, x, failures)
    return Reference(None, None, None, failures)


def _check_finite(x: np.ndarray, where: str, stage: str) -> None:
    if np.isfinite(x).all():
        return
    n_nan, n_inf = int(np.isnan(x).sum()), int(np.isinf(x).sum())
    what = " and ".join(
        part for part in (f"{n_nan} NaN" if n_nan else "", f"{n_inf} inf" if n_inf else "") if part
    )
    raise ValueError(
        f"{where} contains {what} sample(s){stage} (missing or invalid data); "
        "the models need finite signals"
    )
