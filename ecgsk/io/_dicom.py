"""DICOM waveform ECGs (12-Lead ECG, General ECG and Ambulatory ECG Waveform Storage) via pydicom."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np

from ..leads import STANDARD_12, canonical_lead_names
from ._common import (
    SFREQ_RANGE,
    RawRecord,
    as_path_list,
    check_errors_option,
    naming_errors,
    normalise_sex,
    read_all,
    stack_records,
    unit_to_mv,
    warn_implausible_amplitude,
)
from ._muse import _twelve_leads
from ._records import ECGRecords

# SCP-ECG lead codes (coding scheme SCPECG, used by DICOM CID 3001) of the 12 standard leads.
_SCPECG_CODES = {
    "5.6.3-9-1": "I", "5.6.3-9-2": "II", "5.6.3-9-61": "III", "5.6.3-9-62": "aVR",
    "5.6.3-9-63": "aVL", "5.6.3-9-64": "aVF", "5.6.3-9-3": "V1", "5.6.3-9-4": "V2",
    "5.6.3-9-5": "V3", "5.6.3-9-6": "V4", "5.6.3-9-7": "V5", "5.6.3-9-8": "V6",
}
_AGE_UNITS = {"Y": 1.0, "M": 1 / 12, "W": 7 / 365.25, "D": 1 / 365.25}
_GROUPS = ("auto", "rhythm", "median")


def _pydicom():
    try:
        import pydicom
    except ImportError:
        raise ImportError(
            'reading DICOM ECGs needs pydicom: pip install "ecgsk[dicom]"'
        ) from None
    return pydicom


def _lead_name(channel) -> str | None:
    source = channel.get("ChannelSourceSequence")
    if not source:
        return None
    item = source[0]
    name = _SCPECG_CODES.get(str(item.get("CodeValue", "")).strip())
    if name:
        return name
    meaning = re.sub(r"\(.*?\)", "", str(item.get("CodeMeaning", "")))
    meaning = re.sub(r"^\s*lead\s+", "", meaning, flags=re.I).strip()
    try:
        (name,) = canonical_lead_names([meaning])
    except (TypeError, ValueError):
        return None
    return name if name in STANDARD_12 else None


def _pick_group(ds, path: Path, waveform: str):
    groups = list(ds.get("WaveformSequence") or [])
    if not groups:
        raise ValueError(f"{path}: the DICOM file holds no WaveformSequence (not a waveform object)")
    labels = [str(g.get("MultiplexGroupLabel", "")).upper() for g in groups]
    if waveform == "median":
        wanted = [i for i, label in enumerate(labels) if "MEDIAN" in label or "BEAT" in label]
    else:
        wanted = [i for i, label in enumerate(labels) if "RHYTHM" in label] or [
            i for i, g in enumerate(groups)
            if str(g.get("WaveformOriginality", "")).upper() == "ORIGINAL"]
        if not wanted and waveform == "auto":
            wanted = [0]
    if not wanted:
        raise ValueError(f"{path}: no {waveform} multiplex group (groups present: {labels})")
    return wanted[0], groups[wanted[0]]


def _group_signals(ds, index: int, group, path: Path) -> tuple[float, dict[str, np.ndarray]]:
    from pydicom.waveforms import multiplex_array

    sfreq = float(group.get("SamplingFrequency") or math.nan)
    low, high = SFREQ_RANGE
    if not math.isfinite(sfreq) or not low <= sfreq <= high:
        raise ValueError(f"{path}: sampling frequency {group.get('SamplingFrequency')!r} Hz is "
                         f"missing or outside the plausible range ({low:g} to {high:g} Hz)")
    try:
        raw = multiplex_array(ds, index, as_raw=True)  # (n_samples, n_channels)
    except (ValueError, KeyError, AttributeError, TypeError) as exc:
        raise ValueError(f"{path}: the waveform data cannot be decoded ({exc})") from exc
    padding = group.get("WaveformPaddingValue")
    pad_value = None
    if padding is not None and len(bytes(padding)) == raw.dtype.itemsize:
        pad_value = int.from_bytes(bytes(padding), "little",
                                   signed=str(group.get("WaveformSampleInterpretation")) != "US")
        limits = np.iinfo(raw.dtype)
        if pad_value not in (limits.min, limits.max):
            # Converters often declare 0 here, a real sample value: only a code at the end of
            # the range is taken as "no data".
            pad_value = None
    decoded = {}
    for k, channel in enumerate(group.ChannelDefinitionSequence):
        name = _lead_name(channel)
        if name is None:
            continue
        where = f"{path}, lead {name}"
        units = channel.get("ChannelSensitivityUnitsSequence")
        unit = str(units[0].get("CodeValue", "")) if units else None
        to_mv = unit_to_mv(unit or "uV", where)
        sensitivity = float(channel.get("ChannelSensitivity", 1.0))
        correction = float(channel.get("ChannelSensitivityCorrectionFactor", 1.0))
        baseline = float(channel.get("ChannelBaseline", 0.0))
        if not (math.isfinite(sensitivity) and sensitivity > 0 and math.isfinite(correction)):
            raise ValueError(f"{where}: invalid channel sensitivity {sensitivity!r}")
        counts = raw[:, k].astype(np.float64)
        values = (counts * sensitivity * correction + baseline) * to_mv
        if pad_value is not None:
            values[raw[:, k] == pad_value] = np.nan
        if name in decoded:
            raise ValueError(f"{path}: lead {name} appears twice in the waveform")
        decoded[name] = values.astype(np.float32)
    return sfreq, decoded


def _age(text) -> float:
    match = re.fullmatch(r"\s*(\d{1,3})\s*([YMWD])\s*", str(text or ""))
    return int(match.group(1)) * _AGE_UNITS[match.group(2)] if match else math.nan


def read_dicom_record(path, waveform: str = "auto") -> RawRecord:
    """Read one DICOM ECG file into a :class:`RawRecord` with the 12 standard leads."""
    pydicom = _pydicom()
    from pydicom.errors import InvalidDicomError

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"DICOM file {path} not found")
    with naming_errors(path):
        try:
            ds = pydicom.dcmread(path)
        except InvalidDicomError as exc:
            raise ValueError(f"{path} is not a DICOM file ({exc})") from exc
        except (OSError, EOFError) as exc:
            raise ValueError(f"{path}: the DICOM file is truncated or corrupt ({exc})") from exc
        return _read_dicom(ds, path, waveform)


def _read_dicom(ds, path: Path, waveform: str) -> RawRecord:
    index, group = _pick_group(ds, path, waveform)
    sfreq, decoded = _group_signals(ds, index, group, path)
    if not decoded:
        raise ValueError(f"{path}: the waveform holds no standard ECG lead")
    signal = _twelve_leads(decoded, path)
    statements = [
        " ".join(str(a.UnformattedTextValue).split())
        for a in ds.get("WaveformAnnotationSequence") or []
        if "UnformattedTextValue" in a and str(a.UnformattedTextValue).strip()
    ]
    when = str(ds.get("AcquisitionDateTime") or "")
    date = str(ds.get("AcquisitionDate") or ds.get("ContentDate") or when[:8])
    clock = str(ds.get("AcquisitionTime") or ds.get("ContentTime") or when[8:14])
    meta = {
        "record_id": path.stem,
        "path": str(path),
        "patient_id": str(ds.get("PatientID")) if ds.get("PatientID") else None,
        "age": _age(ds.get("PatientAge")),
        "sex": normalise_sex(ds.get("PatientSex")),
        "acquisition_date": f"{date[:4]}-{date[4:6]}-{date[6:8]}" if len(date) >= 8 else None,
        "acquisition_time": f"{clock[:2]}:{clock[2:4]}:{clock[4:6]}" if len(clock) >= 6 else None,
        "diagnosis": " ".join(statements) if statements else None,
        "statements": statements,
        "waveform_type": str(group.get("MultiplexGroupLabel") or "").title() or None,
    }
    return RawRecord(signal, sfreq, STANDARD_12, meta, str(path))


def read_dicom_ecg(
    paths,
    sfreq=None,
    n_times=None,
    *,
    waveform: str = "auto",
    errors: str = "raise",
    check_amplitude: bool = True,
) -> ECGRecords:
    """Read DICOM waveform ECG files (12-lead, general, ambulatory) in millivolts.

    Needs the optional dependency pydicom (``pip install "ecgsk[dicom]"``).
    The chosen multiplex group of the ``WaveformSequence`` is decoded and
    each channel scaled as DICOM defines it: ``counts * ChannelSensitivity *
    ChannelSensitivityCorrectionFactor + ChannelBaseline``, in the unit of
    ``ChannelSensitivityUnitsSequence`` (usually uV), returned in mV; samples
    equal to ``WaveformPaddingValue`` become NaN when that value is the end
    of the sample range (such as -32768; converters often declare 0, a real
    sample value, which is then kept). Channels are named from
    their SCP-ECG source code (``5.6.3-9-1`` is lead I) or its meaning;
    other channels are ignored, missing limb leads are derived from I and II.

    Parameters
    ----------
    paths : str, path-like or list of them
        DICOM files.
    sfreq : float, optional
        Resample every ECG to this rate (Hz).
    n_times : int, optional
        Crop or pad every ECG (centred) to this many samples.
    waveform : {"auto", "rhythm", "median"}, default="auto"
        The ``RHYTHM`` group (``"auto"``: else the first ``ORIGINAL`` group,
        else the first), or the ``MEDIAN BEAT`` group.
    errors : {"raise", "skip"}, default="raise"
        Raise on an unreadable file, or skip it and list it in one warning.
    check_amplitude : bool, default=True
        Warn, naming the files, when an ECG's amplitude is implausible in mV.

    Returns
    -------
    ECGRecords
        ``signals`` ``(n_files, 12, n_times)`` float32 mV, ``sfreq``,
        ``leads`` and ``meta`` with ``record_id``, ``path``, ``patient_id``,
        ``age`` (years, from ``PatientAge``), ``sex``, ``acquisition_date``,
        ``acquisition_time``, ``diagnosis``, ``statements`` (the
        ``UnformattedTextValue`` of the waveform annotations: the device's
        interpretation) and ``waveform_type`` (the group label).

    Raises
    ------
    ImportError
        If pydicom is not installed.
    ValueError
        For a file that is not DICOM or holds no waveform, a missing lead,
        an unknown unit, or files whose rate or length differ. The message
        names the file.

    Examples
    --------
    >>> from pydicom.data import get_testdata_file
    >>> X, sfreq, leads, meta = read_dicom_ecg(get_testdata_file("waveform_ecg.dcm"))
    >>> X.shape, sfreq, meta.loc[0, "statements"]
    ((1, 12, 10000), 1000.0, ['RITMO SINUSALE', 'ECG NORMALE'])
    """
    check_errors_option(errors)
    if waveform not in _GROUPS:
        raise ValueError(f"waveform must be one of {_GROUPS}, got {waveform!r}")
    _pydicom()
    items = as_path_list(paths, "DICOM paths")
    records = read_all(items, lambda p: read_dicom_record(p, waveform), errors)
    if check_amplitude:
        warn_implausible_amplitude(records)
    return stack_records(records, sfreq=sfreq, n_times=n_times)
