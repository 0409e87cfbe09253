"""WFDB records: ``.hea`` + ``.dat`` (PTB-XL, MIT-BIH) and ``.hea`` + ``.mat`` (CinC 2021)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ..leads import canonical_lead_names
from ._common import (
    RawRecord,
    adc_to_mv,
    as_path_list,
    check_errors_option,
    naming_errors,
    normalise_sex,
    parse_age,
    read_all,
    stack_records,
    unit_to_mv,
    warn_implausible_amplitude,
)
from ._records import ECGRecords
from ._wfdb_header import apply_header_fields, check_default_sfreq, check_header

_EXTENSIONS = (".hea", ".dat", ".mat")

# The WFDB "no data" code of each storage format (WFDB signal(5) manual).
_INVALID_SAMPLE = {
    "16": -(2**15), "61": -(2**15), "160": -(2**15), "516": -(2**15),
    "80": -(2**7), "508": -(2**7),
    "212": -(2**11),
    "310": -(2**9), "311": -(2**9),
    "24": -(2**23), "524": -(2**23),
    "32": -(2**31),
}

# "69 M 1085 1629 x1": the MIT-BIH convention of age and sex on the first comment line.
_MITDB_AGE_SEX = re.compile(r"^\s*(\d{1,3}|\?+)\s+([MF?])\b")


def record_base(path: Path) -> Path:
    """Return the record path without a WFDB extension."""
    return path.with_suffix("") if path.suffix.lower() in _EXTENSIONS else path


def _header_problem(hea: Path) -> str | None:
    """Return why a header cannot be parsed, or None when it parses."""
    import wfdb

    try:
        wfdb.rdheader(str(hea.with_suffix("")))
    except Exception as exc:  # wfdb raises many exception types for a bad header
        return f"{type(exc).__name__}: {exc}"
    return None


def _read_digital(base: Path, default_sfreq=None):
    import wfdb

    hea = base.with_name(base.name + ".hea")
    if not hea.is_file():
        raise FileNotFoundError(f"WFDB header {hea} not found")
    fields = check_header(hea, default_sfreq)
    try:
        rec = wfdb.rdrecord(str(base), physical=False)
    except Exception as exc:
        # parsing the header a second time only on failure tells a bad header from bad data
        # (header parsing costs about as much as reading a 10 s record)
        problem = _header_problem(hea)
        if problem is not None:
            raise ValueError(f"{hea} is not a valid WFDB header ({problem})") from exc
        if isinstance(exc, FileNotFoundError):
            raise ValueError(
                f"WFDB record {base}: data file {exc.filename} is missing"
            ) from exc
        header = wfdb.rdheader(str(base))
        files = sorted(set(header.file_name or []))
        where = ", ".join(str(base.parent / f) for f in files) or str(base)
        raise ValueError(
            f"WFDB record {base}: could not read the samples of {where}; the file is truncated "
            f"or corrupt ({type(exc).__name__}: {exc})"
        ) from exc
    apply_header_fields(rec, fields, hea)
    return rec


def _check_record(rec, base: Path, verify_checksum: bool) -> np.ndarray:
    if not rec.n_sig or rec.d_signal is None:
        raise ValueError(f"WFDB record {base} holds no signals")
    digital = np.asarray(rec.d_signal)
    if digital.ndim != 2 or digital.shape != (rec.sig_len, rec.n_sig) or rec.sig_len < 1:
        raise ValueError(
            f"WFDB record {base}: expected {rec.sig_len} samples x {rec.n_sig} signals, "
            f"read an array of shape {digital.shape}; the data file is truncated or corrupt"
        )
    if not rec.fs or not np.isfinite(rec.fs) or rec.fs <= 0:
        raise ValueError(f"WFDB record {base}: invalid sampling rate {rec.fs!r} in the header")
    gains = np.asarray(rec.adc_gain, dtype=np.float64)
    if np.any(~np.isfinite(gains)) or np.any(gains <= 0):
        raise ValueError(f"WFDB record {base}: uncalibrated signal (ADC gains {list(rec.adc_gain)})")
    if verify_checksum and rec.checksum is not None:
        # The header checksum is the 16-bit sum of every stored sample of a signal (a
        # header may give it for some signals only).
        sums = digital.sum(axis=0, dtype=np.int64) % 65536
        known = np.array([c is not None for c in rec.checksum], dtype=bool)
        expected = np.array([c or 0 for c in rec.checksum], dtype=np.int64) % 65536
        bad = np.flatnonzero(known & (sums != expected))
        if bad.size:
            files = sorted({rec.file_name[i] for i in bad})
            raise ValueError(
                f"WFDB record {base}: checksum mismatch for signal(s) "
                f"{[rec.sig_name[i] for i in bad]} in {files}: the data file is corrupt "
                "(to read it anyway pass verify_checksum=False to read_wfdb, or verify=False "
                "to read_records)"
            )
    return digital


def _comment_meta(comments: list[str]) -> dict:
    """Parse ``Key: value`` header comments (CinC, PTB) and the MIT-BIH age/sex line."""
    meta: dict = {}
    for line in comments:
        key, sep, value = line.partition(":")
        if not sep or not key.strip() or len(key) > 40:
            continue
        name = re.sub(r"\W+", "_", key.strip().lower()).strip("_")
        value = value.strip()
        if name == "age":
            meta["age"] = parse_age(value)
        elif name in ("sex", "gender"):
            meta["sex"] = normalise_sex(value)
        elif name == "dx":
            meta["dx"] = tuple(c.strip() for c in value.split(",") if c.strip())
        elif name and name not in meta:
            meta[name] = value
    if "age" not in meta and "sex" not in meta:
        for line in comments:
            match = _MITDB_AGE_SEX.match(line)
            if match:
                meta["age"] = parse_age(match.group(1))
                meta["sex"] = normalise_sex(match.group(2))
                break
    return meta


def read_wfdb_record(path, verify_checksum: bool = True, default_sfreq=None) -> RawRecord:
    """Read one WFDB record into a :class:`RawRecord` (float32 mV, canonical lead names).

    ``default_sfreq``: the rate of a header without one (None: such a header raises).
    """
    base = record_base(Path(path))
    with naming_errors(base):
        return _read_record(base, verify_checksum, default_sfreq)


def _read_record(base: Path, verify_checksum: bool, default_sfreq) -> RawRecord:
    rec = _read_digital(base, default_sfreq)
    digital = _check_record(rec, base, verify_checksum)
    to_mv = [unit_to_mv(u, f"WFDB record {base}") for u in (rec.units or [None] * rec.n_sig)]
    invalid = [_INVALID_SAMPLE.get(str(f)) for f in rec.fmt]
    signal = adc_to_mv(digital.T, rec.adc_gain, rec.baseline, to_mv, invalid=invalid)
    names = rec.sig_name or [f"signal{i}" for i in range(rec.n_sig)]
    try:
        leads = canonical_lead_names(names)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"WFDB record {base}: {exc}") from exc
    meta = {"record_id": rec.record_name, "path": str(base)}
    comments = [c.strip() for c in (rec.comments or []) if c.strip()]
    meta.update(_comment_meta(comments))
    if comments:
        meta["comments"] = "\n".join(comments)
    if rec.base_date is not None:
        meta["base_date"] = str(rec.base_date)
    if rec.base_time is not None:
        meta["base_time"] = str(rec.base_time)
    return RawRecord(signal, float(rec.fs), leads, meta, str(base))


def read_wfdb(
    paths,
    sfreq=None,
    n_times=None,
    *,
    verify_checksum: bool = True,
    errors: str = "raise",
    default_sfreq=None,
    check_amplitude: bool = True,
) -> ECGRecords:
    """Read WFDB records (``.hea`` + ``.dat`` or ``.hea`` + ``.mat``) in millivolts.

    Reads PTB-XL and MIT-BIH style records (header plus binary ``.dat``) and the
    PhysioNet/CinC Challenge 2021 records (header plus a MATLAB ``.mat`` file
    holding ``val``). Samples are converted to physical units with the header's
    gain and baseline, ``(d - baseline) / gain``, and to millivolts from the
    header's units. Lead names are canonicalised (``AVR`` becomes ``aVR``) but
    kept in the order of the file: use :class:`ecgsk.preprocessing.ReorderLeads`
    for the standard order. Records with another lead set (for example
    MIT-BIH's two leads) are returned with their own leads. When several
    records hold the same leads in different orders, they are aligned on the
    order of the first; different lead sets cannot be stacked and raise.

    Parameters
    ----------
    paths : str, path-like or list of them
        Record paths, with or without extension (``"00001_hr"``,
        ``"00001_hr.hea"``, ``"E07500.mat"`` all name a record).
    sfreq : float, optional
        Resample every record to this rate (Hz) with
        :class:`ecgsk.preprocessing.Resample`. Without it, records of different
        rates raise ``ValueError``.
    n_times : int, optional
        Crop or pad every record (centred) to this many samples with
        :class:`ecgsk.preprocessing.CropOrPad`, after resampling. Without it,
        records of different lengths raise ``ValueError``.
    verify_checksum : bool, default=True
        Compare each signal with the 16-bit checksum stored in the header, to
        catch corrupt data files.
    errors : {"raise", "skip"}, default="raise"
        What to do with an unreadable record: raise, or skip it and list it in
        one warning.
    default_sfreq : float, optional
        The rate (Hz) of a header that omits it. The WFDB format then assumes
        250 Hz; ecgsk never guesses, so without ``default_sfreq`` such a
        header raises. Pass ``default_sfreq=250`` to accept WFDB's default.
    check_amplitude : bool, default=True
        Warn, naming the records, when a record's amplitude is implausible
        for an ECG in mV (median per-lead peak-to-peak above 50 mV: a wrong
        gain or microvolts; largest below 0.01 mV: a flat line or a unit
        error). ``False`` skips the check.

    Returns
    -------
    ECGRecords
        ``signals`` of shape ``(n_records, n_leads, n_times)``, float32 mV
        (samples stored as the format's "no data" code become NaN); ``sfreq``;
        ``leads``; ``meta`` with ``record_id``, ``path`` and what the header
        comments hold: ``age`` (float, NaN when unknown), ``sex`` (``"male"``,
        ``"female"`` or NaN), ``dx`` (tuple of SNOMED-CT codes, CinC headers),
        other ``Key: value`` comments as text, and the raw ``comments``.

    Raises
    ------
    FileNotFoundError
        If a record's header does not exist.
    ValueError
        For an invalid header (a sampling rate that is missing, text, not
        positive, not finite or outside 20 Hz to 100 kHz; a junk signal
        field), a missing, truncated or corrupt data file (the message names
        the file and the field), or records whose rate, length or lead set
        differ (unless ``sfreq``/``n_times`` are given).

    See Also
    --------
    read_records : read a folder of records of any supported format.

    Examples
    --------
    >>> import numpy as np, wfdb, tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> mv = np.round(np.sin(np.linspace(0, 6, 500))[:, None] * [1.0, 0.5], 3)
    >>> wfdb.wrsamp("rec", fs=500, units=["mV", "mV"], sig_name=["I", "II"],
    ...             p_signal=mv, fmt=["16", "16"], adc_gain=[1000, 1000],
    ...             baseline=[0, 0], write_dir=folder)
    >>> X, sfreq, leads, meta = read_wfdb(os.path.join(folder, "rec.hea"))
    >>> X.shape, sfreq, leads, meta["record_id"][0]
    ((1, 2, 500), 500.0, ('I', 'II'), 'rec')
    >>> bool(np.allclose(X[0].T, mv, atol=1e-6))
    True
    """
    check_errors_option(errors)
    default_sfreq = check_default_sfreq(default_sfreq)
    items = as_path_list(paths, "WFDB record paths")
    records = read_all(
        items, lambda p: read_wfdb_record(p, verify_checksum, default_sfreq), errors
    )
    if check_amplitude:
        warn_implausible_amplitude(records)
    return stack_records(records, sfreq=sfreq, n_times=n_times)
