"""A lazy cohort: ECGs read one at a time from a .npy file, a zarr store or a folder of records."""

from __future__ import annotations

import math
import numbers
import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from torch.utils.data import Dataset

from .._validation import check_sfreq
from ..io._common import check_errors_option
from ..io._convert import PREPROCESSING_ATTR, open_store
from ..io._items import (
    ItemSpec,
    find_record_files,
    find_reference,
    fit_once,
    length_at,
    record_ids,
    scan_header,
)
from ..leads import STANDARD_12, canonical_lead_names
from ..preprocessing._introspection import check_preprocessing, describe_preprocessing

_ZARR_MARKERS = ("zarr.json", ".zgroup", ".zarray")


def _kind(source) -> str:
    if isinstance(source, np.ndarray):
        raise TypeError(
            "ECGDataset reads ECGs from disk; an in-memory array can be given to the estimators "
            "directly (or saved with np.save and opened here)"
        )
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.exists():
            raise FileNotFoundError(f"{path} does not exist")
        if path.is_file() and path.suffix.lower() == ".npy":
            return "npy"
        if path.is_dir() and any((path / m).exists() for m in _ZARR_MARKERS):
            return "zarr"
    return "records"


def _check_n_times(n_times):
    if n_times is None:
        return None
    if isinstance(n_times, bool) or not isinstance(n_times, numbers.Integral) or n_times < 1:
        raise ValueError(f"n_times must be a positive integer number of samples, got {n_times!r}")
    return int(n_times)


class ECGDataset(Dataset):
    """ECGs read one at a time from disk, for cohorts that do not fit in memory.

    A ``torch.utils.data.Dataset`` whose item ``i`` is one ECG ``(n_leads,
    n_times)`` in float32 (millivolts, or whatever ``preprocessing`` makes of
    them). Every ecgsk estimator takes it in place of an in-memory array for
    ``fit``, ``predict``, ``predict_proba`` and ``transform``, also with
    DataLoader workers (``num_workers=2``): the dataset pickles without its
    data and reopens its file in each worker.

    Parameters
    ----------
    source : str, path-like or list of them
        One of:

        - a ``.npy`` file of shape ``(n, n_leads, n_times)``, opened with
          ``np.load(mmap_mode="r")``; each item is one positioned read of its
          row, so resident memory does not grow with the rows read (pages of a
          memory map would count in it). ``sfreq`` is then required: a ``.npy``
          does not store it;
        - a zarr store written by :func:`ecgsk.io.convert` (a folder such as
          ``cohort.zarr``);
        - a folder of records (WFDB ``.hea`` + ``.dat``/``.mat``; ``.xml``:
          GE MUSE, HL7 aECG or Philips, told apart by their root element;
          DICOM ``.dcm``; SCP-ECG ``.scp``; searched recursively, in sorted
          path order) or a list of record files. Headers are scanned when the dataset is built (rate,
          length, leads, metadata; a truncated WFDB data file is caught from
          its size); each record's samples are read when its item is asked for.
    preprocessing : sklearn transformer, optional
        Applied to each item as ``x[None]``, for example
        ``make_deepecg_preprocessing(500)`` fitted on the training ECGs. An
        unfitted one whose steps learn nothing from the data (for example
        ``make_deepecg_preprocessing(500, normalize="record")``) is cloned and
        fitted once, on the first item; any other unfitted one (the default
        cohort amplitude gain learns from the data) is refused
        (``ValueError``): fit it on your training ECGs first.
        Its input rate and lead order are checked against the items.
    sfreq : float, optional
        Sampling rate in Hz of the items before ``preprocessing``. For a
        ``.npy`` it is the rate of the stored signals (required). For a store
        or a folder, records at another rate are resampled to it
        (:class:`~ecgsk.preprocessing.Resample`); without it a folder whose
        records differ in rate is an error.
    n_times : int, optional
        Crop or zero-pad (centred) every item to this many samples before
        ``preprocessing``; without it a folder whose records differ in length
        is an error.
    errors : {"raise", "skip"}, default="raise"
        For a folder: what to do with a record whose header is unreadable,
        whose data file is missing or truncated, or whose leads, rate or length
        do not match the reference record (the first one whose samples read,
        when the dataset is built). ``"raise"``: ``ValueError`` naming the
        file. ``"skip"``: leave it out (one warning; listed in ``failures``).
        Past the reference, a fault only visible in the samples (corrupt data,
        checksum, NaN) raises ``ValueError`` naming the file when its item is
        read, whatever ``errors`` says: run :func:`ecgsk.io.convert` to find
        them all first.
    leads : sequence of str, optional
        Lead names of a ``.npy`` (default: the 12 standard leads when it holds
        12 leads). Ignored for the other sources, which store their names.

    Attributes
    ----------
    ids : list of str
        Record ids, aligned with the items: the file stems of a folder (paths
        relative to the folder when stems repeat), the stored ids of a zarr
        store, ``"0"`` to ``"n-1"`` for a ``.npy``.
    sfreq : float or None
        Sampling rate of the items after ``preprocessing`` (None when a
        non-ecgsk step hides it).
    leads : tuple of str
        Lead names of the items after ``preprocessing``.
    meta : pandas.DataFrame
        One row per item, aligned with ``ids``: column ``id``, and for a folder
        or a store ``path``, the metadata of the files (age, sex, ...) and
        their rate and length.
    shape : tuple of int
        ``(n, n_leads, n_times)`` of the items after ``preprocessing``.
    failures : pandas.DataFrame
        ``path`` and ``reason`` of the files left out with ``errors="skip"``.
    preprocessing_ : transformer or None
        The fitted preprocessing applied to the items.
    store_preprocessing : str or None
        For a zarr store written by :func:`ecgsk.io.convert` with a
        ``preprocessing``: its full ``repr`` (the store attribute
        ``"preprocessing"``). The stored signals already went through it, and
        ``ecgsk predict`` does not preprocess them again. None otherwise.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from ecgsk.datasets import ECGDataset, load_ptbxl_sample
    >>> from ecgsk.preprocessing import make_deepecg_preprocessing
    >>> path = os.path.join(tempfile.mkdtemp(), "cohort.npy")
    >>> signals = load_ptbxl_sample().signals[:8]
    >>> np.save(path, signals)
    >>> pipe = make_deepecg_preprocessing(500).fit(signals)  # learns the cohort gain
    >>> ds = ECGDataset(path, sfreq=500, preprocessing=pipe)
    >>> len(ds), ds.shape, ds.sfreq, ds.ids[:2]
    (8, (8, 12, 2500), 250.0, ['0', '1'])
    >>> ds[0].shape, ds[0].dtype
    ((12, 2500), dtype('float32'))
    """

    def __init__(self, source, *, preprocessing=None, sfreq=None, n_times=None,
                 errors="raise", leads=None):
        check_errors_option(errors)
        check_preprocessing(preprocessing)
        self.source = source
        self.failures = pd.DataFrame(columns=["path", "reason"])
        self.store_preprocessing = None
        self._array = None
        self._row = None
        self._files: list[str] | None = None
        sfreq = None if sfreq is None else check_sfreq(sfreq)
        n_times = _check_n_times(n_times)
        self._kind = _kind(source)
        first = None  # item 0 before preprocessing, when the source was already read for it
        if self._kind == "npy":
            spec, ids, meta = self._init_npy(Path(source), sfreq, n_times, leads)
        elif self._kind == "zarr":
            spec, ids, meta = self._init_zarr(Path(source), sfreq, n_times)
        else:
            spec, ids, meta, first = self._init_records(source, sfreq, n_times, errors)
        self.ids = ids
        self.meta = meta
        self._spec = spec
        # item 0 fixes the shapes and fits the preprocessing
        self._set_preprocessing(preprocessing, self._conformed(0) if first is None else first)

    # ------------------------------------------------------------------ sources
    def _init_npy(self, path: Path, sfreq, n_times, leads):
        try:
            array = np.load(path, mmap_mode="r", allow_pickle=False)
        except ValueError as exc:
            raise ValueError(f"{path} is not a readable .npy array of numbers: {exc}") from exc
        if array.ndim != 3:
            raise ValueError(
                f"{path} must hold ECGs of shape (n_ecgs, n_leads, n_times); got a "
                f"{array.ndim}-D array of shape {array.shape}"
            )
        if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
            raise TypeError(f"{path} must hold real numbers, got dtype {array.dtype}")
        n, n_leads, length = array.shape
        if n == 0 or n_leads == 0 or length == 0:
            raise ValueError(f"{path} holds no ECG (shape {array.shape})")
        if sfreq is None:
            raise ValueError(
                f"sfreq is required for a .npy source: {path} does not store its sampling rate"
            )
        if leads is None:
            if n_leads != len(STANDARD_12):
                raise ValueError(
                    f"{path} holds {n_leads} leads: pass leads= with their names "
                    "(12 leads are taken to be the standard 12 in order)"
                )
            leads = STANDARD_12
        leads = canonical_lead_names(leads)
        if len(leads) != n_leads:
            raise ValueError(f"{path} holds {n_leads} leads but leads= names {len(leads)}")
        # Rows of a C-order file are read with os.pread, not through the memory map: pages of
        # a map count in the process's resident memory until unmapped, reads do not.
        self._row = None if array.flags.f_contiguous and not array.flags.c_contiguous else (
            int(array.offset), array.dtype.str, (n_leads, length))
        self._array = array
        spec = ItemSpec(leads, sfreq, n_times or length, crop=n_times is not None)
        self._stored = (leads, sfreq)
        ids = [str(i) for i in range(n)]
        return spec, ids, pd.DataFrame({"id": ids})

    def _init_zarr(self, path: Path, sfreq, n_times):
        signals, attrs, meta = open_store(path)
        stored_sfreq, stored_leads = attrs.get("sfreq"), attrs.get("leads")
        stored_preprocessing = attrs.get(PREPROCESSING_ATTR)
        self.store_preprocessing = (stored_preprocessing
                                    if isinstance(stored_preprocessing, str) else None)
        n, n_leads, length = signals.shape
        if n == 0:
            raise ValueError(f"zarr store {path} holds no ECG")
        if stored_leads is None:
            stored_leads = STANDARD_12 if n_leads == len(STANDARD_12) else None
        if stored_leads is None or len(stored_leads) != n_leads:
            raise ValueError(f"zarr store {path} does not name its {n_leads} leads (attr 'leads')")
        if stored_sfreq is None and sfreq is None:
            raise ValueError(f"zarr store {path} does not store its sampling rate: pass sfreq=")
        stored_sfreq = float(stored_sfreq) if stored_sfreq is not None else sfreq
        leads = tuple(stored_leads)
        target = sfreq if sfreq is not None else stored_sfreq
        out_len = length_at(n_leads, length, stored_sfreq, target)
        spec = ItemSpec(leads, target, n_times or out_len, resample=True, crop=n_times is not None)
        self._array = signals
        self._stored = (leads, stored_sfreq)
        if meta is None:
            meta = pd.DataFrame({"id": [str(i) for i in range(n)]})
        return spec, [str(i) for i in meta["id"]], meta.reset_index(drop=True)

    def _init_records(self, source, sfreq, n_times, errors):
        files = find_record_files(source)
        headers, failed = [], []
        for path in files:
            try:
                headers.append(scan_header(path))
            except (ValueError, OSError) as exc:
                if errors == "raise":
                    raise ValueError(str(exc) if isinstance(exc, ValueError) else
                                     f"{path} could not be read ({exc})") from exc
                failed.append((str(path), str(exc)))
        # The reference (rate, leads, length) is the first record whose samples read: a
        # corrupt record with a readable header must not impose its rate on the good ones.
        ref = find_reference([h.path for h in headers], sfreq, n_times,
                             stop_at_error=errors == "raise")
        failed.extend(ref.failures)
        order = {str(p): k for k, p in enumerate(files)}
        failed.sort(key=lambda item: order[item[0]])
        if ref.spec is None:
            raise ValueError(f"none of the {len(files)} file(s) could be read; first error: "
                             f"{failed[0][1]}")
        first, spec = headers[ref.index], ref.spec
        kept = [first]
        for h in headers[ref.index + 1:]:
            reason = self._header_mismatch(h, first, spec.sfreq, sfreq, n_times)
            if reason is None:
                kept.append(h)
            elif errors == "raise":
                raise ValueError(reason)
            else:
                failed.append((str(h.path), reason))
        if failed:
            failed.sort(key=lambda item: order[item[0]])
            shown = "\n  ".join(f"{p}: {r}" for p, r in failed[:20])
            more = f"\n  ... and {len(failed) - 20} more" if len(failed) > 20 else ""
            warnings.warn(f"skipped {len(failed)} of {len(files)} file(s) (see .failures):\n  "
                          f"{shown}{more}", UserWarning, stacklevel=3)
            self.failures = pd.DataFrame(failed, columns=["path", "reason"])
        self._files = [str(h.path) for h in kept]
        ids = record_ids([h.path for h in kept])
        rows = [{"id": i, "path": str(h.path), **{k: (",".join(map(str, v))
                 if isinstance(v, (tuple, list)) else v) for k, v in h.meta.items()},
                 "source_sfreq": h.sfreq, "source_n_times": h.n_times}
                for i, h in zip(ids, kept, strict=True)]
        meta = pd.DataFrame(rows)
        last = ["source_sfreq", "source_n_times"]
        return spec, ids, meta[[c for c in meta.columns if c not in last] + last], ref.x

    @staticmethod
    def _header_mismatch(h, first, target, sfreq, n_times) -> str | None:
        if sorted(h.leads) != sorted(first.leads):
            return (f"{h.path} has leads {list(h.leads)}, expected the lead set "
                    f"{list(first.leads)} of {first.path}")
        if sfreq is None and not math.isclose(h.sfreq, target, rel_tol=1e-9):
            return (f"{h.path} is sampled at {h.sfreq:g} Hz, expected {target:g} Hz like "
                    f"{first.path} (pass sfreq= to resample every record to one rate)")
        length = length_at(len(h.leads), h.n_times, h.sfreq, target)
        expected = length_at(len(first.leads), first.n_times, first.sfreq, target)
        if n_times is None and length != expected:
            return (f"{h.path} has {length} samples per lead at {target:g} Hz, expected "
                    f"{expected} like {first.path} (pass n_times= to crop or pad every record "
                    "to one length)")
        return None

    def _set_preprocessing(self, preprocessing, first: np.ndarray):
        spec = self._spec
        self.preprocessing = preprocessing
        if preprocessing is None:
            self.preprocessing_ = None
            self.leads, self.sfreq = spec.leads, spec.sfreq
            spec.out_shape = tuple(first.shape)
            return
        leads, sfreq = describe_preprocessing(preprocessing, spec.leads, spec.sfreq)
        fitted, out = fit_once(preprocessing, first)
        if out.ndim != 3 or out.shape[0] != 1:
            raise ValueError(
                f"preprocessing returned shape {out.shape} for one ECG, expected "
                "(1, n_leads, n_times)"
            )
        spec.preprocessing = fitted
        spec.out_shape = tuple(out.shape[1:])
        self.preprocessing_ = fitted
        self.sfreq = sfreq
        self.leads = leads if len(leads) == out.shape[1] else tuple(
            f"lead{i}" for i in range(out.shape[1]))

    # ------------------------------------------------------------------ items
    def _data(self):
        """The memmap or zarr array, (re)opened in this process when needed."""
        if self._array is None:
            path = Path(self.source)
            if self._kind == "npy":
                self._array = np.load(path, mmap_mode="r", allow_pickle=False)
            else:
                self._array = open_store(path)[0]
        return self._array

    def _stored_row(self, i: int) -> np.ndarray:
        """Row ``i`` of the .npy or zarr array, as a new float32 array."""
        if self._row is None:
            return np.array(self._data()[i], dtype=np.float32)
        offset, dtype, shape = self._row
        dtype = np.dtype(dtype)
        size = dtype.itemsize * shape[0] * shape[1]
        # opened per read: nothing stays open (no ResourceWarning, nothing to reopen in workers)
        fd = os.open(self.source, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        try:
            data = os.pread(fd, size, offset + i * size)
        finally:
            os.close(fd)
        if len(data) != size:
            raise ValueError(f"{self.source} is shorter than its header says (truncated .npy?)")
        return np.frombuffer(data, dtype=dtype).reshape(shape).astype(np.float32)

    def _where(self, i: int) -> str:
        if self._files is not None:
            return self._files[i]
        return f"ECG {i} of {self.source}"

    def _conformed(self, i: int) -> np.ndarray:
        """Item ``i`` before preprocessing."""
        spec = self._spec
        if self._files is not None:
            return spec.read(self._files[i])[0]
        leads, rate = self._stored
        return spec.conform(self._stored_row(i), leads, rate, self._where(i))

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i) -> np.ndarray:
        if isinstance(i, bool) or not isinstance(i, numbers.Integral):
            raise TypeError(f"ECGDataset indices must be integers, got {type(i).__name__}")
        n = len(self.ids)
        if not -n <= i < n:
            raise IndexError(f"index {i} is out of range for a dataset of {n} ECGs")
        i = int(i) % n
        return self._spec.finish(self._conformed(i), self._where(i))

    @property
    def shape(self) -> tuple[int, int, int]:
        return (len(self.ids), *self._spec.out_shape)

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_array"] = None  # a memmap would pickle its whole content: reopened on use
        return state

    def __repr__(self) -> str:
        kind = {"npy": ".npy memmap", "zarr": "zarr store", "records": "record files"}[self._kind]
        where = self.source if isinstance(self.source, (str, os.PathLike)) else "a list of files"
        rate = "unknown rate" if self.sfreq is None else f"{self.sfreq:g} Hz"
        return f"ECGDataset({len(self)} ECGs {self.shape[1:]} at {rate}, {kind} {str(where)!r})"

