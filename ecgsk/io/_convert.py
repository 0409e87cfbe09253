"""Convert a folder of ECG records into a chunked zarr store, in parallel and resumably.

Store layout (``dest/``)::

    zarr.json          zarr v3 group; attrs: sfreq, leads, n_records, ecgsk_store, and
                       preprocessing (the untruncated repr of the preprocessing applied
                       to the signals, or null)
    signals/           float32 (n, n_leads, n_times), one inner chunk per record,
                       shards of ``chunk_size`` records
    records.csv        one row per stored record: id, path, then metadata columns
    failures.csv       path, reason: every file that could not be converted
    manifest.json      settings fingerprint and the chunks already written
    parts/             per-chunk records/failures tables (the committed ones are
                       assembled at the end)

Work is done in chunks of ``chunk_size`` files, in file order. A chunk is
committed (its rows written, its tables saved, then the manifest replaced
atomically) before the next one starts, so an interrupted conversion resumes
after the last committed chunk and ends with the same store.
"""

from __future__ import annotations

import hashlib
import json
import math
import numbers
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .._validation import check_sfreq
from ..preprocessing._introspection import (
    check_preprocessing,
    describe_preprocessing,
    preprocessing_repr,
)
from ._common import amplitude_problem, warn_amplitude_list
from ._items import (
    ItemSpec,
    find_record_files,
    find_reference,
    fit_once,
    record_ids,
)

STORE_FORMAT = 1
SIGNALS = "signals"
RECORDS_CSV = "records.csv"
FAILURES_CSV = "failures.csv"
MANIFEST = "manifest.json"
PARTS = "parts"
PREPROCESSING_ATTR = "preprocessing"  # store attribute: what the signals went through
_AMPLITUDE_KEY = "_amplitude_problem"  # travels with a record's meta, never written
_OWN_ENTRIES = ("zarr.json", SIGNALS, RECORDS_CSV, FAILURES_CSV, MANIFEST, PARTS)


@dataclass
class ConvertReport:
    """What :func:`convert` did.

    Attributes
    ----------
    path : pathlib.Path
        The store (open it with ``ecgsk.datasets.ECGDataset(path)``).
    n_converted : int
        Records written by this call.
    n_failed : int
        Files that could not be converted (all of ``failures``).
    n_skipped : int
        Records already in the store from an earlier, interrupted call.
        ``n_converted + n_skipped`` records are in the store, and
        ``n_converted + n_skipped + n_failed`` is the number of files.
    failures : pandas.DataFrame
        ``path`` and ``reason`` of every failed file (also in ``failures.csv``).

    Examples
    --------
    >>> import pandas as pd
    >>> ConvertReport("cohort.zarr", 3, 1, 0, pd.DataFrame({"path": ["x.hea"], "reason": ["bad"]}))
    ConvertReport(path='cohort.zarr', n_converted=3, n_failed=1, n_skipped=0)
    """

    path: Path
    n_converted: int
    n_failed: int
    n_skipped: int
    failures: pd.DataFrame = field(repr=False)

    def __repr__(self):
        return (
            f"ConvertReport(path={str(self.path)!r}, n_converted={self.n_converted}, "
            f"n_failed={self.n_failed}, n_skipped={self.n_skipped})"
        )


# --------------------------------------------------------------------------- parameters


def _check_params(sfreq, n_times, chunk_size, n_jobs):
    if sfreq is not None:
        sfreq = check_sfreq(sfreq)
    for name, value in (("n_times", n_times), ("chunk_size", chunk_size)):
        if value is None and name == "n_times":
            continue
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, numbers.Integral) or n_jobs == 0:
        raise ValueError(f"n_jobs must be a non-zero integer (-1 for all cores), got {n_jobs!r}")
    return sfreq, None if n_times is None else int(n_times), int(chunk_size), int(n_jobs)


def _fingerprint(files, preprocessing, sfreq, n_times, chunk_size) -> str:
    """Identify the work: the same files and settings give the same store."""
    import joblib

    digest = hashlib.sha256()
    for path in files:
        digest.update(str(Path(path).resolve()).encode() + b"\0")
    digest.update(json.dumps([sfreq, n_times, chunk_size, STORE_FORMAT]).encode())
    digest.update(b"-" if preprocessing is None else joblib.hash(preprocessing).encode())
    return digest.hexdigest()


# --------------------------------------------------------------------------- the store


def _write_json(path: Path, obj) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=1))
    os.replace(tmp, path)


def _write_csv(path: Path, frame: pd.DataFrame) -> None:
    tmp = path.with_name(path.name + ".tmp")
    frame.to_csv(tmp, index=False)
    os.replace(tmp, path)


def _check_dest(dest: Path, fingerprint: str, resume: bool) -> dict | None:
    """Return the manifest to resume from, or None for a fresh start; change nothing.

    A store of other files or settings is refused when resuming, unless no chunk
    of it was committed (then there is nothing to keep).
    """
    manifest_path = dest / MANIFEST
    if manifest_path.is_file():
        manifest = json.loads(manifest_path.read_text())
        if not resume:
            return None
        if manifest.get("fingerprint") == fingerprint:
            return manifest
        if not manifest.get("chunks"):
            return None  # nothing was committed: nothing to keep
        raise ValueError(
            f"{dest} holds a conversion of other files or with other settings; pass "
            "resume=False to overwrite it, or choose another destination"
        )
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise ValueError(
            f"{dest} exists and is not an ecgsk store written by convert; choose a new or "
            "empty destination"
        )
    return None


def _start_dest(dest: Path, manifest: dict) -> None:
    """Clear what an earlier conversion left in ``dest`` and write a fresh manifest."""
    for name in _OWN_ENTRIES:
        target = dest / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    (dest / PARTS).mkdir(parents=True, exist_ok=True)
    _write_json(dest / MANIFEST, manifest)


def _part(dest: Path, kind: str, k: int) -> Path:
    return dest / PARTS / f"{kind}-{k:06d}.csv"


def _drop_parts(dest: Path, k: int) -> None:
    """Delete the tables of chunk ``k`` (left by a run stopped before committing it)."""
    for kind in ("records", "failures"):
        _part(dest, kind, k).unlink(missing_ok=True)


def _read_parts(dest: Path, kind: str, n_chunks: int, columns) -> pd.DataFrame:
    """The ``kind`` tables of chunks ``0 .. n_chunks - 1`` (those the manifest committed)."""
    frames = []
    for k in range(n_chunks):
        part = _part(dest, kind, k)
        if part.is_file():
            frames.append(pd.read_csv(part, dtype={"id": str, "path": str}))
    if not frames:
        return pd.DataFrame(columns=list(columns))
    return pd.concat(frames, ignore_index=True)


def _record_meta(rec) -> dict:
    """The metadata of one record as CSV-friendly values (tuples joined by commas, lists JSON)."""
    row = {}
    for key, value in rec.meta.items():
        if key in ("record_id", "path"):
            continue
        if isinstance(value, list):  # statements: JSON, since they hold commas themselves
            row[key] = json.dumps(value, ensure_ascii=False)
        elif isinstance(value, tuple):
            row[key] = ",".join(map(str, value))
        else:
            row[key] = value
    row["source_sfreq"] = float(rec.sfreq)
    row["source_n_times"] = int(rec.signal.shape[1])
    return row


# --------------------------------------------------------------------------- reading


def _load_many(spec: ItemSpec, paths: list[str]):
    """Worker task: ``(item or None, record meta or failure reason)`` for each path."""
    out = []
    for path in paths:
        try:
            item, rec = spec.load(path)
        except ValueError as exc:
            out.append((None, str(exc)))
            continue
        info = _record_meta(rec)  # not the raw signal: only the item travels back
        info[_AMPLITUDE_KEY] = amplitude_problem(rec.signal)
        out.append((item, info))
    return out


def _reference(files, sfreq, n_times, preprocessing):
    """Targets from the first file whose samples read: its leads, rate and length, then
    the preprocessing (checked against them and fitted if it needs to be).

    Returns ``(spec, failures)``; ``spec`` is None when no file can be read, and
    ``failures`` holds the ``(path, reason)`` of each file tried before the first good one.
    """
    ref = find_reference(files, sfreq, n_times)
    spec = ref.spec
    if spec is None:
        return None, ref.failures
    spec.out_shape = tuple(ref.x.shape)
    if preprocessing is not None:
        describe_preprocessing(preprocessing, spec.leads, spec.sfreq)
        spec.preprocessing, out = fit_once(preprocessing, ref.x)
        if out.ndim != 3 or out.shape[0] != 1:
            raise ValueError(
                f"preprocessing returned shape {out.shape} for one ECG, expected "
                "(1, n_leads, n_times)"
            )
        spec.out_shape = tuple(out.shape[1:])
    return spec, ref.failures


class _Runner:
    """Load chunks of files, in this process or in joblib workers, with a progress bar."""

    def __init__(self, spec, n_jobs, bar):
        self.spec, self.n_jobs, self.bar = spec, n_jobs, bar
        self.parallel = None

    def __enter__(self):
        if self.n_jobs != 1:
            from joblib import Parallel

            self.parallel = Parallel(n_jobs=self.n_jobs, return_as="generator")
            self.parallel.__enter__()
        return self

    def __exit__(self, *exc):
        if self.parallel is not None:
            self.parallel.__exit__(*exc)

    def run(self, paths: list[str]):
        if self.parallel is None:
            results = []
            for path in paths:
                results.extend(_load_many(self.spec, [path]))
                self.bar.update(1)
            return results
        from joblib import delayed

        n_tasks = min(len(paths), 4 * self.parallel.n_jobs if self.parallel.n_jobs > 0 else 16)
        size = math.ceil(len(paths) / max(n_tasks, 1))
        pieces = [paths[i:i + size] for i in range(0, len(paths), size)]
        results = []
        for piece in self.parallel(delayed(_load_many)(self.spec, piece) for piece in pieces):
            results.extend(piece)
            self.bar.update(len(piece))
        return results


# --------------------------------------------------------------------------- convert


def convert(
    source,
    dest,
    *,
    preprocessing=None,
    sfreq=None,
    n_times=None,
    chunk_size=256,
    n_jobs=1,
    resume=True,
    progress=True,
    check_amplitude=True,
) -> ConvertReport:
    """Convert a folder (or list) of ECG records into a chunked zarr array store.

    Each record (WFDB ``.hea`` + ``.dat``/``.mat``; ``.xml`` as GE MUSE, HL7
    aECG or Philips XML by its root element; DICOM ``.dcm``; SCP-ECG ``.scp``)
    is read,
    put in the lead order of the first readable record, resampled to
    ``sfreq`` and cropped or padded to ``n_times`` if asked, passed through
    ``preprocessing``, and written as one row of the float32 array ``signals``
    of a zarr store at ``dest``. Files are read in parallel (joblib,
    ``n_jobs``) in chunks of ``chunk_size``; a file that cannot be converted
    is written with its reason to ``dest/failures.csv`` and the rest go on.
    Open the result with :class:`ecgsk.datasets.ECGDataset`.

    Parameters
    ----------
    source : str, path-like or list of them
        A folder (searched recursively for ``*.hea``, ``*.xml``, ``*.dcm`` and
        ``*.scp``, in sorted order) or a list of record files.
    dest : str or path-like
        The store folder to create (for example ``"cohort.zarr"``); it must be
        new, empty, or an earlier store of this function.
    preprocessing : sklearn transformer, optional
        Applied to every record as ``x[None]``, for example
        ``make_deepecg_preprocessing(500)``. An unfitted one made of
        :mod:`ecgsk.preprocessing` steps is cloned and fitted once on the first
        record (those steps learn nothing from data); any other must be fitted
        beforehand. Its expected input rate and lead order are checked against
        the records. Its full ``repr`` is stored in the store's attribute
        ``"preprocessing"`` (``ECGDataset(dest).store_preprocessing``), so that
        readers such as ``ecgsk predict`` know the signals are preprocessed.
    sfreq : float, optional
        Resample every record to this rate (Hz) before ``preprocessing``.
        Without it, a record at another rate than the first one fails.
    n_times : int, optional
        Crop or pad every record (centred) to this many samples, after
        resampling. Without it, a record of another length fails.
    chunk_size : int, default=256
        Files per unit of work; also the number of records per zarr shard.
    n_jobs : int, default=1
        joblib workers reading files (-1: all cores).
    resume : bool, default=True
        Continue an interrupted conversion into the same ``dest``: chunks
        already written are skipped. ``False`` starts over.
    progress : bool, default=True
        Show a tqdm progress bar (on stderr).
    check_amplitude : bool, default=True
        Warn once, naming the records converted by this call whose amplitude
        is implausible for an ECG in mV (see :func:`read_wfdb`); ``False``
        skips the check.

    Returns
    -------
    ConvertReport
        ``n_converted``, ``n_failed``, ``n_skipped``, ``path`` and the
        ``failures`` table.

    Raises
    ------
    FileNotFoundError
        If ``source`` does not exist.
    TypeError
        If ``preprocessing`` is not a transformer (no ``fit``/``transform``).
    ValueError
        For an empty folder, bad parameters, preprocessing built for another
        rate or lead order or not fitted, a ``dest`` holding something else
        (or a conversion with other settings, when resuming), or when no file
        at all can be read (``failures.csv`` is written first). ``dest`` is
        left as it was, except in the last case.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from ecgsk.io import convert, write_muse_xml
    >>> folder = tempfile.mkdtemp()
    >>> leads = ["I", "II", "V1", "V2", "V3", "V4", "V5", "V6"]
    >>> for k in range(3):
    ...     ecg = np.full((8, 1000), 0.1 * k)
    ...     write_muse_xml(os.path.join(folder, f"ecg{k}.xml"), ecg, 500, leads)
    >>> with open(os.path.join(folder, "notes.xml"), "w") as f:
    ...     _ = f.write("<notes>not an ECG</notes>")
    >>> report = convert(folder, os.path.join(tempfile.mkdtemp(), "cohort.zarr"), progress=False)
    >>> report.n_converted, report.n_failed
    (3, 1)
    >>> path, reason = report.failures.loc[0, ["path", "reason"]]
    >>> os.path.basename(path), "is not a GE MUSE RestingECG file" in reason
    ('notes.xml', True)
    >>> from ecgsk.datasets import ECGDataset
    >>> ECGDataset(report.path).shape
    (3, 12, 1000)
    """
    import zarr
    from tqdm.auto import tqdm
    from zarr.codecs import ZstdCodec

    sfreq, n_times, chunk_size, n_jobs = _check_params(sfreq, n_times, chunk_size, n_jobs)
    check_preprocessing(preprocessing)
    files = find_record_files(source)
    ids = record_ids(files)
    dest = Path(dest)
    fingerprint = _fingerprint(files, preprocessing, sfreq, n_times, chunk_size)
    manifest = _check_dest(dest, fingerprint, bool(resume))
    n_chunks = math.ceil(len(files) / chunk_size)
    # Before anything is written: a preprocessing that does not fit the records is refused
    # with dest untouched, so a corrected call is not taken for another conversion.
    spec, errors = _reference(files, sfreq, n_times, preprocessing)
    if manifest is None:
        manifest = {"fingerprint": fingerprint, "format": STORE_FORMAT, "n_files": len(files),
                    "chunk_size": chunk_size, "chunks": [], "complete": False}
        _start_dest(dest, manifest)
    done = manifest["chunks"]
    if spec is None:
        _write_csv(dest / FAILURES_CSV, pd.DataFrame(errors, columns=["path", "reason"]))
        raise ValueError(
            f"none of the {len(files)} file(s) could be converted (reasons in "
            f"{dest / FAILURES_CSV}); first error: {errors[0][1]}"
        )
    # failures.csv: those of the committed chunks, then appended to chunk by chunk
    _write_csv(dest / FAILURES_CSV, _read_parts(dest, "failures", len(done), ("path", "reason")))
    out_leads, out_sfreq = spec.leads, spec.sfreq
    if preprocessing is not None:
        out_leads, out_sfreq = describe_preprocessing(preprocessing, spec.leads, spec.sfreq)
    n_out_leads, n_out_times = spec.out_shape
    if len(out_leads) != n_out_leads:  # a non-ecgsk step changed the lead count
        out_leads = tuple(f"lead{i}" for i in range(n_out_leads))

    committed = sum(c["n_ok"] for c in done)
    group = zarr.open_group(dest, mode="a")
    if SIGNALS in group:
        signals = group[SIGNALS]
        signals.resize((committed, n_out_leads, n_out_times))  # drop rows of an unfinished chunk
    else:
        signals = group.create_array(
            SIGNALS, shape=(0, n_out_leads, n_out_times), dtype="float32",
            chunks=(1, n_out_leads, n_out_times), shards=(chunk_size, n_out_leads, n_out_times),
            compressors=ZstdCodec(level=1),
        )
    group.attrs.update({
        "sfreq": out_sfreq, "leads": list(out_leads), "ecgsk_store": STORE_FORMAT,
        PREPROCESSING_ATTR: (None if spec.preprocessing is None
                             else preprocessing_repr(spec.preprocessing)),
    })

    skipped_files = sum(c["n_files"] for c in done)
    n_converted = 0
    implausible: list[str] = []
    bar = tqdm(total=len(files), initial=skipped_files, unit="file", desc="convert",
               disable=not progress)
    try:
        with _Runner(spec, n_jobs, bar) as runner:
            for k in range(len(done), n_chunks):
                _drop_parts(dest, k)  # tables of this chunk left by a run stopped before its commit
                lo, hi = k * chunk_size, min((k + 1) * chunk_size, len(files))
                results = runner.run([str(p) for p in files[lo:hi]])
                rows, items, failed = [], [], []
                for i, (item, info) in zip(range(lo, hi), results, strict=True):
                    problem = info.pop(_AMPLITUDE_KEY, None) if item is not None else None
                    if problem is not None:
                        implausible.append(f"{files[i]}: {problem}")
                    if item is None:
                        failed.append({"path": str(files[i]), "reason": info})
                    else:
                        items.append(item)
                        rows.append({"id": ids[i], "path": str(files[i]), **info})
                if items:
                    signals.resize((committed + len(items), n_out_leads, n_out_times))
                    signals[committed:committed + len(items)] = np.stack(items)
                if rows:
                    _write_csv(_part(dest, "records", k), pd.DataFrame(rows))
                if failed:
                    _write_csv(_part(dest, "failures", k), pd.DataFrame(failed))
                committed += len(items)
                n_converted += len(items)
                done.append({"n_files": hi - lo, "n_ok": len(items), "n_failed": len(failed)})
                _write_json(dest / MANIFEST, manifest)
                if failed:
                    pd.DataFrame(failed).to_csv(dest / FAILURES_CSV, mode="a", header=False,
                                                index=False)
    finally:
        bar.close()

    records = _read_parts(dest, "records", len(done), ("id", "path"))
    failures = _read_parts(dest, "failures", len(done), ("path", "reason"))
    _write_csv(dest / RECORDS_CSV, records)
    _write_csv(dest / FAILURES_CSV, failures)
    group.attrs["n_records"] = committed
    manifest["complete"] = True
    _write_json(dest / MANIFEST, manifest)
    if check_amplitude:
        warn_amplitude_list(implausible, n_converted, stacklevel=2)
    return ConvertReport(dest, n_converted, len(failures), committed - n_converted, failures)


# --------------------------------------------------------------------------- reading back


def open_store(path: Path):
    """Return ``(signals array, attrs, meta)`` of a store written by :func:`convert`.

    ``attrs`` is the store's attributes (``sfreq``, ``leads``, ``preprocessing``,
    ...) as a dict; ``meta`` the ``records.csv`` table, or None without one.
    """
    import zarr

    manifest_path = path / MANIFEST
    if manifest_path.is_file() and not json.loads(manifest_path.read_text()).get("complete"):
        raise ValueError(
            f"{path} is an unfinished conversion (interrupted?): run ecgsk.io.convert again "
            "with the same arguments to finish it"
        )
    try:
        group = zarr.open_group(path, mode="r")
    except Exception as exc:  # zarr raises several types for a folder that is not a store
        raise ValueError(
            f"{path} is not a readable zarr store ({type(exc).__name__}: {exc})"
        ) from exc
    if SIGNALS not in group:
        raise ValueError(f"zarr store {path} has no {SIGNALS!r} array")
    signals = group[SIGNALS]
    if len(signals.shape) != 3:
        raise ValueError(
            f"{path}/{SIGNALS} must be 3-D (n_ecgs, n_leads, n_times), got shape {signals.shape}"
        )
    records = path / RECORDS_CSV
    meta = pd.read_csv(records, dtype={"id": str, "path": str}) if records.is_file() else None
    if meta is not None and len(meta) != signals.shape[0]:
        raise ValueError(
            f"{records} lists {len(meta)} records but {path}/{SIGNALS} holds {signals.shape[0]}"
        )
    return signals, dict(group.attrs), meta
