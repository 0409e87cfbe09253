"""GE MUSE ``RestingECG`` XML: read (any number of files) and write (one ECG per file)."""

from __future__ import annotations

import base64
import binascii
import math
import os
import warnings
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np

from ..leads import DERIVABLE_LEADS, STANDARD_12, canonical_lead_names, derive_limb_leads
from ._common import (
    SFREQ_RANGE,
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

_INDEPENDENT = ("I", "II", "V1", "V2", "V3", "V4", "V5", "V6")
_AGE_UNITS_IN_YEARS = {
    "YEARS": 1.0, "MONTHS": 1 / 12, "WEEKS": 7 / 365.25, "DAYS": 1 / 365.25, "HOURS": 1 / 8766,
}
_WAVEFORM_CHOICES = ("auto", "rhythm", "median")


def _text(element, path: str, default=None):
    if element is None:
        return default
    found = element.find(path)
    if found is None or found.text is None or not found.text.strip():
        return default
    return found.text.strip()


def _integer(element, tag: str, where: str, default=None):
    text = _text(element, tag, default)
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{where}: <{tag}> is not an integer: {text!r}") from None


def _parse_file(path: Path) -> ET.Element:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"MUSE XML file {path} not found") from None
    if b"<!ENTITY" in data:
        # Entity expansion is the one XML feature that can blow up memory; MUSE never uses it.
        raise ValueError(f"{path}: XML entity declarations are not accepted in an ECG file")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise ValueError(f"{path} is not well-formed XML (truncated or corrupt file?): {exc}") from exc
    if root.tag != "RestingECG":
        raise ValueError(f"{path} is not a GE MUSE RestingECG file (root element <{root.tag}>)")
    return root


def _pick_waveform(root: ET.Element, path: Path, waveform: str) -> ET.Element:
    by_type: dict[str, ET.Element] = {}
    for element in root.findall("Waveform"):
        kind = (_text(element, "WaveformType", "") or "").lower()
        by_type.setdefault(kind, element)
    if waveform in ("auto", "rhythm") and "rhythm" in by_type:
        return by_type["rhythm"]
    if waveform == "median" and "median" in by_type:
        return by_type["median"]
    if waveform == "auto" and "median" in by_type:
        warnings.warn(
            f"{path} has no Rhythm waveform; reading the Median (representative) beat instead",
            UserWarning,
            stacklevel=6,
        )
        return by_type["median"]
    found = sorted(k for k in by_type if k) or ["none"]
    wanted = "Rhythm or Median" if waveform == "auto" else waveform.capitalize()
    raise ValueError(f"{path}: no {wanted} <Waveform> found (waveform types present: {found})")


def _sample_rate(element: ET.Element, path: Path) -> float:
    base = _text(element, "SampleBase")
    exponent = _text(element, "SampleExponent", "0")
    fields = f"SampleBase={base!r}, SampleExponent={exponent!r}"
    if base is None:
        raise ValueError(f"{path}: the waveform has no sample rate (no <SampleBase>)")
    try:
        power = int(exponent)
        sfreq = float(base) * 10.0 ** power if abs(power) <= 12 else math.inf
    except (TypeError, ValueError):
        raise ValueError(f"{path}: invalid sample rate ({fields}): not numbers") from None
    low, high = SFREQ_RANGE
    if not math.isfinite(sfreq) or sfreq <= 0:
        raise ValueError(f"{path}: invalid sample rate {sfreq!r} Hz ({fields})")
    if not low <= sfreq <= high:
        raise ValueError(
            f"{path}: sample rate {sfreq:g} Hz ({fields}) is outside the plausible range for "
            f"an ECG ({low:g} to {high:g} Hz)"
        )
    return sfreq


def _decode_lead(lead: ET.Element, path: Path, verify_crc: bool) -> tuple[str, np.ndarray]:
    lead_id = _text(lead, "LeadID")
    if lead_id is None:
        raise ValueError(f"{path}: a <LeadData> element has no LeadID")
    where = f"{path}, lead {lead_id}"
    sample_size = _integer(lead, "LeadSampleSize", where, "2")
    if sample_size != 2:
        raise ValueError(f"{where}: LeadSampleSize {sample_size} is not supported (only 16-bit samples)")
    encoded = _text(lead, "WaveFormData")
    if encoded is None:
        raise ValueError(f"{where}: no WaveFormData")
    try:
        raw = base64.b64decode("".join(encoded.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"{where}: WaveFormData is not valid base64 ({exc})") from exc
    if len(raw) % 2:
        raise ValueError(f"{where}: WaveFormData holds an odd number of bytes ({len(raw)})")
    n_expected = _integer(lead, "LeadSampleCountTotal", where)
    if n_expected is not None and n_expected != len(raw) // 2:
        raise ValueError(
            f"{where}: LeadSampleCountTotal says {n_expected} samples but WaveFormData holds "
            f"{len(raw) // 2}; the file is truncated or corrupt"
        )
    crc = _integer(lead, "LeadDataCRC32", where)
    if verify_crc and crc is not None and crc != zlib.crc32(raw):
        raise ValueError(
            f"{where}: CRC32 of WaveFormData does not match LeadDataCRC32; the data is corrupt "
            "(to read it anyway pass verify_crc=False to read_muse_xml, or verify=False to "
            "read_records)"
        )
    per_bit_text = _text(lead, "LeadAmplitudeUnitsPerBit")
    if per_bit_text is None:
        raise ValueError(f"{where}: no LeadAmplitudeUnitsPerBit (amplitude resolution)")
    try:
        per_bit = float(per_bit_text.replace(",", "."))
    except ValueError:
        per_bit = math.nan
    if not math.isfinite(per_bit) or per_bit <= 0:
        raise ValueError(f"{where}: invalid LeadAmplitudeUnitsPerBit {per_bit_text!r}")
    to_mv = unit_to_mv(_text(lead, "LeadAmplitudeUnits", "MICROVOLTS"), where)
    counts = np.frombuffer(raw, dtype="<i2")
    return lead_id, adc_to_mv(counts[np.newaxis], 1.0, 0.0, per_bit * to_mv)[0]


def _twelve_leads(decoded: dict[str, np.ndarray], path: Path) -> np.ndarray:
    to_derive = [name for name in DERIVABLE_LEADS if name not in decoded]
    missing = [name for name in STANDARD_12 if name not in decoded and name not in DERIVABLE_LEADS]
    if missing:
        why = ""
        if to_derive and {"I", "II"} & set(missing):
            why = f" (leads I and II are needed to derive {to_derive})"
        raise ValueError(f"{path}: lead(s) {missing} missing{why}; found {sorted(decoded)}")
    if to_derive:
        derived = derive_limb_leads(decoded["I"], decoded["II"])
        decoded = {**decoded, **{name: derived[name] for name in to_derive}}
    return np.stack([decoded[name] for name in STANDARD_12])


def _age_years(demographics: ET.Element | None) -> float:
    age = parse_age(_text(demographics, "PatientAge"))
    units = (_text(demographics, "AgeUnits", "YEARS") or "YEARS").upper()
    return age * _AGE_UNITS_IN_YEARS.get(units, math.nan)


def _statement_lines(root: ET.Element, section: str) -> list[str]:
    """The statements of a diagnosis section, one per line of the printed report.

    MUSE splits a line into several ``<DiagnosisStatement>`` fragments ("SINUS
    TACHYCARDIA", "WITH", "ONE", "VENTRICULAR PREMATURE BEAT"); the fragment
    flagged ``ENDSLINE`` closes the line.
    """
    lines, current = [], []
    for statement in root.findall(f"{section}/DiagnosisStatement"):
        text = _text(statement, "StmtText")
        if text:
            current.append(" ".join(text.split()))
        flags = {(f.text or "").strip().upper() for f in statement.findall("StmtFlag")}
        if "ENDSLINE" in flags and current:
            lines.append(" ".join(current))
            current = []
    if current:
        lines.append(" ".join(current))
    return lines


def read_muse_record(path, waveform: str = "auto", verify_crc: bool = True) -> RawRecord:
    """Read one MUSE XML file into a :class:`RawRecord` with the 12 standard leads."""
    path = Path(path)
    with naming_errors(path):
        return _read_muse(path, waveform, verify_crc)


def _read_muse(path: Path, waveform: str, verify_crc: bool) -> RawRecord:
    root = _parse_file(path)
    element = _pick_waveform(root, path, waveform)
    sfreq = _sample_rate(element, path)
    decoded: dict[str, np.ndarray] = {}
    for lead in element.findall("LeadData"):
        lead_id, values = _decode_lead(lead, path, verify_crc)
        try:
            (name,) = canonical_lead_names([lead_id])
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{path}: {exc}") from exc
        if name in decoded:
            raise ValueError(f"{path}: lead {name} appears twice in the waveform")
        decoded[name] = values
    if not decoded:
        raise ValueError(f"{path}: the waveform holds no <LeadData>")
    lengths = {name: len(v) for name, v in decoded.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"{path}: leads have different numbers of samples: {lengths}")
    if next(iter(lengths.values())) == 0:
        raise ValueError(f"{path}: the waveform holds no samples")
    signal = _twelve_leads(decoded, path)
    patient = root.find("PatientDemographics")
    test = root.find("TestDemographics")
    statements = [
        s.text.strip() for s in root.findall("Diagnosis/DiagnosisStatement/StmtText")
        if s.text and s.text.strip()
    ]
    confirmed, original = _statement_lines(root, "Diagnosis"), _statement_lines(root, "OriginalDiagnosis")
    meta = {
        "record_id": path.stem,
        "path": str(path),
        "patient_id": _text(patient, "PatientID"),
        "age": _age_years(patient),
        "sex": normalise_sex(_text(patient, "Gender")),
        "acquisition_date": _text(test, "AcquisitionDate"),
        "acquisition_time": _text(test, "AcquisitionTime"),
        "diagnosis": " ".join(statements) if statements else None,
        "statements": confirmed,
        "statements_confirmed": confirmed,
        "statements_original": original,
        "waveform_type": _text(element, "WaveformType"),
    }
    return RawRecord(signal, sfreq, STANDARD_12, meta, str(path))


def read_muse_xml(
    paths,
    sfreq=None,
    n_times=None,
    *,
    waveform: str = "auto",
    verify_crc: bool = True,
    errors: str = "raise",
    check_amplitude: bool = True,
) -> ECGRecords:
    """Read GE MUSE ``RestingECG`` XML files as 12-lead ECGs in millivolts.

    Each ``<LeadData>`` of the chosen ``<Waveform>`` holds base64 little-endian
    16-bit samples (``WaveFormData``), scaled by ``LeadAmplitudeUnitsPerBit``
    in ``LeadAmplitudeUnits`` (usually 4.88 MICROVOLTS); the rate is
    ``SampleBase * 10**SampleExponent`` Hz. MUSE usually stores only the
    independent leads I, II and V1-V6: the missing limb leads III, aVR, aVL
    and aVF are derived from I and II (Einthoven and Goldberger), and the 12
    leads are returned in :data:`ecgsk.leads.STANDARD_12` order. Other stored
    leads (for example V4R) are ignored.

    Parameters
    ----------
    paths : str, path-like or list of them
        MUSE XML files.
    sfreq : float, optional
        Resample every ECG to this rate (Hz); without it, files of different
        rates raise ``ValueError``.
    n_times : int, optional
        Crop or pad every ECG (centred) to this many samples; without it, files
        of different lengths raise ``ValueError``.
    waveform : {"auto", "rhythm", "median"}, default="auto"
        Which ``<Waveform>`` to read: the 10 s ``Rhythm`` strip, the ``Median``
        representative beat, or ``"auto"``: Rhythm, else Median with a warning.
    verify_crc : bool, default=True
        Check each lead's ``LeadDataCRC32`` (when present) against its data.
    errors : {"raise", "skip"}, default="raise"
        Raise on an unreadable file, or skip it and list it in one warning.
    check_amplitude : bool, default=True
        Warn, naming the files, when an ECG's amplitude is implausible in mV
        (see :func:`read_wfdb`); ``False`` skips the check.

    Returns
    -------
    ECGRecords
        ``signals`` ``(n_files, 12, n_times)`` float32 mV, ``sfreq``,
        ``leads`` (:data:`~ecgsk.leads.STANDARD_12`) and ``meta`` with
        ``record_id`` (file name without extension), ``path``, ``patient_id``,
        ``age`` (years, float), ``sex`` (``"male"``/``"female"``/NaN),
        ``acquisition_date``, ``acquisition_time``, ``diagnosis`` (the
        statement texts), ``statements_confirmed`` and
        ``statements_original`` (lists of the statement lines of
        ``<Diagnosis>``, the overread one, and of ``<OriginalDiagnosis>``, the
        device's; a line joins the fragments up to one flagged ``ENDSLINE``),
        ``statements`` (the confirmed list, the key every reader fills) and
        ``waveform_type``.

    Raises
    ------
    ValueError
        For malformed or truncated XML, invalid base64, a sample count or CRC
        that does not match the data, a missing lead (for example lead II,
        which the derived leads need), or files whose rate or length differ.
        The message names the file (and lead).

    See Also
    --------
    write_muse_xml : write an ECG as a MUSE XML file.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from ecgsk.io import write_muse_xml
    >>> t = np.arange(5000) / 500
    >>> ecg = np.stack([np.sin(2 * np.pi * (k + 1) * t) for k in range(8)]).astype(np.float32)
    >>> path = os.path.join(tempfile.mkdtemp(), "ecg1.xml")
    >>> write_muse_xml(path, ecg, 500, ["I", "II", "V1", "V2", "V3", "V4", "V5", "V6"])
    >>> X, sfreq, leads, meta = read_muse_xml(path)
    >>> X.shape, sfreq, leads[:4]
    ((1, 12, 5000), 500.0, ('I', 'II', 'III', 'aVR'))
    >>> bool(np.abs(X[0, 1] - ecg[1]).max() <= 0.00488 / 2 + 1e-6)
    True
    """
    check_errors_option(errors)
    if waveform not in _WAVEFORM_CHOICES:
        raise ValueError(f"waveform must be one of {_WAVEFORM_CHOICES}, got {waveform!r}")
    items = as_path_list(paths, "MUSE XML paths")
    records = read_all(items, lambda p: read_muse_record(p, waveform, verify_crc), errors)
    if check_amplitude:
        warn_implausible_amplitude(records)
    return stack_records(records, sfreq=sfreq, n_times=n_times)


# --------------------------------------------------------------------------- writing


def _sample_base(sfreq: float) -> tuple[int, int]:
    """Write ``sfreq`` as an integer SampleBase times 10**SampleExponent."""
    for digits in range(7):
        scaled = sfreq * 10**digits
        if abs(scaled - round(scaled)) < 1e-6 * max(1.0, scaled):
            return int(round(scaled)), -digits
    raise ValueError(f"sfreq={sfreq!r} Hz cannot be written as a MUSE SampleBase/SampleExponent")


def _quantise(signal: np.ndarray, units_per_bit_uv: float, what: str) -> np.ndarray:
    if not np.all(np.isfinite(signal)):
        raise ValueError(f"{what} contains NaN or inf; MUSE XML cannot store them")
    counts = np.rint(signal.astype(np.float64) * 1000.0 / units_per_bit_uv)
    peak = float(np.abs(signal).max()) if signal.size else 0.0
    if counts.min(initial=0) < -32768 or counts.max(initial=0) > 32767:
        raise ValueError(
            f"{what} reaches {peak:.3f} mV, beyond the 16-bit range at {units_per_bit_uv} uV per "
            f"bit ({32767 * units_per_bit_uv / 1000:.1f} mV); pass a larger units_per_bit"
        )
    return counts.astype("<i2")


def _waveform_xml(kind: str, signal: np.ndarray, leads, sfreq: float, per_bit: float) -> str:
    base, exponent = _sample_base(sfreq)
    counts = _quantise(signal, per_bit, f"the {kind} waveform")
    parts = [
        "  <Waveform>",
        f"    <WaveformType>{kind}</WaveformType>",
        "    <WaveformStartTime>0</WaveformStartTime>",
        f"    <NumberofLeads>{len(leads)}</NumberofLeads>",
        "    <SampleType>CONTINUOUS_SAMPLES</SampleType>",
        f"    <SampleBase>{base}</SampleBase>",
        f"    <SampleExponent>{exponent}</SampleExponent>",
    ]
    for name, row in zip(leads, counts, strict=True):
        raw = row.tobytes()
        parts += [
            "    <LeadData>",
            f"      <LeadByteCountTotal>{len(raw)}</LeadByteCountTotal>",
            "      <LeadTimeOffset>0</LeadTimeOffset>",
            f"      <LeadSampleCountTotal>{row.size}</LeadSampleCountTotal>",
            f"      <LeadAmplitudeUnitsPerBit>{per_bit!r}</LeadAmplitudeUnitsPerBit>",
            "      <LeadAmplitudeUnits>MICROVOLTS</LeadAmplitudeUnits>",
            "      <LeadHighLimit>32767</LeadHighLimit>",
            "      <LeadLowLimit>-32768</LeadLowLimit>",
            f"      <LeadID>{name}</LeadID>",
            "      <LeadOffsetFirstSample>0</LeadOffsetFirstSample>",
            "      <FirstSampleBaseline>0</FirstSampleBaseline>",
            "      <LeadSampleSize>2</LeadSampleSize>",
            f"      <LeadDataCRC32>{zlib.crc32(raw)}</LeadDataCRC32>",
            f"      <WaveFormData>{base64.b64encode(raw).decode('ascii')}</WaveFormData>",
            "    </LeadData>",
        ]
    parts.append("  </Waveform>")
    return "\n".join(parts)


def _as_leads_by_time(signal, leads, what: str) -> tuple[np.ndarray, tuple[str, ...]]:
    arr = np.asarray(signal)
    if arr.ndim == 3 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim != 2:
        raise ValueError(
            f"{what} must be one ECG of shape (n_leads, n_times) or (1, n_leads, n_times), "
            f"got shape {arr.shape} (write one file per ECG)"
        )
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise TypeError(f"{what} must hold real numbers in mV, got dtype {arr.dtype}")
    names = canonical_lead_names(list(leads))
    if len(names) != arr.shape[0]:
        raise ValueError(f"{what} has {arr.shape[0]} leads but {len(names)} lead names were given")
    if arr.shape[1] == 0:
        raise ValueError(f"{what} has no samples")
    return arr.astype(np.float64), names


def _lead_table(arr: np.ndarray, names, store_derived: bool, what: str) -> tuple[np.ndarray, tuple]:
    by_name = dict(zip(names, arr, strict=True))
    missing = [n for n in _INDEPENDENT if n not in by_name]
    if missing:
        raise ValueError(f"{what} lacks lead(s) {missing}; MUSE XML needs I, II and V1-V6")
    out_leads = STANDARD_12 if store_derived else _INDEPENDENT
    derived = derive_limb_leads(by_name["I"], by_name["II"])
    rows = [by_name[n] if n in by_name else derived[n] for n in out_leads]
    return np.stack(rows), out_leads


def write_muse_xml(
    path,
    signals_mv,
    sfreq,
    leads,
    *,
    median_mv=None,
    patient_id=None,
    age=None,
    sex=None,
    acquisition_date=None,
    acquisition_time=None,
    units_per_bit: float = 4.88,
    store_derived: bool = True,
) -> None:
    """Write one ECG as a GE MUSE ``RestingECG`` XML file.

    Samples are quantised to 16-bit integers of ``units_per_bit`` microvolts
    (MUSE's usual 4.88 uV), base64-encoded little-endian with a CRC32 per
    lead, as :func:`read_muse_xml` and MUSE-reading tools expect. Useful for
    tests and to hand tools that only read MUSE XML (such as DeepECG's own
    pipeline) an ECG from another source.

    Parameters
    ----------
    path : str or path-like
        Output file (overwritten).
    signals_mv : array-like of shape (n_leads, n_times) or (1, n_leads, n_times)
        One ECG in millivolts. It must hold leads I, II and V1-V6; the other
        limb leads are taken from it when present, else derived from I and II.
    sfreq : float
        Sampling rate in Hz (written as ``SampleBase``/``SampleExponent``).
    leads : sequence of str
        Names of the rows of ``signals_mv`` (any case or common alias).
    median_mv : array-like of shape (n_leads, n_median), optional
        A representative beat with the same leads, written as a ``Median``
        waveform before the ``Rhythm`` one. DeepECG's XML reader takes the
        rhythm strip from the second ``<Waveform>``, so give one when the
        file is meant for it.
    patient_id, age, sex, acquisition_date, acquisition_time : optional
        Written to ``PatientDemographics`` (``PatientID``, ``PatientAge`` in
        years, ``Gender``) and ``TestDemographics`` (``AcquisitionDate``
        such as ``"11-09-1984"``, ``AcquisitionTime`` such as ``"09:17:34"``).
    units_per_bit : float, default=4.88
        Amplitude resolution in microvolts per bit; the largest storable
        amplitude is ``32767 * units_per_bit`` uV (160 mV at 4.88).
    store_derived : bool, default=True
        Store all 12 leads in the standard order. ``False`` stores only the 8
        independent leads, as MUSE itself does (readers derive the rest).

    Raises
    ------
    ValueError
        If the signal is not one 2-D ECG, lacks an independent lead, holds
        NaN/inf, or exceeds the 16-bit range at ``units_per_bit``.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> ecg = np.zeros((8, 2500), np.float32)
    >>> ecg[1, ::250] = 1.0
    >>> path = os.path.join(tempfile.mkdtemp(), "ecg.xml")
    >>> write_muse_xml(path, ecg, 250, ["I", "II", "V1", "V2", "V3", "V4", "V5", "V6"], age=63, sex="female")
    >>> rec = read_muse_xml(path)
    >>> rec.signals.shape, float(rec.meta.loc[0, "age"]), rec.meta.loc[0, "sex"]
    ((1, 12, 2500), 63.0, 'female')
    """
    from .._validation import check_sfreq

    sfreq = check_sfreq(sfreq)
    if not (isinstance(units_per_bit, (int, float)) and math.isfinite(units_per_bit) and units_per_bit > 0):
        raise ValueError(f"units_per_bit must be a positive number of microvolts, got {units_per_bit!r}")
    arr, names = _as_leads_by_time(signals_mv, leads, "signals_mv")
    rhythm, out_leads = _lead_table(arr, names, store_derived, "signals_mv")
    waveforms = []
    if median_mv is not None:
        median, _ = _as_leads_by_time(median_mv, leads, "median_mv")
        median, _ = _lead_table(median, names, store_derived, "median_mv")
        waveforms.append(_waveform_xml("Median", median, out_leads, sfreq, float(units_per_bit)))
    waveforms.append(_waveform_xml("Rhythm", rhythm, out_leads, sfreq, float(units_per_bit)))

    def field(tag, value):
        return f"    <{tag}>{escape(str(value))}</{tag}>" if value is not None else None

    gender = {"male": "MALE", "female": "FEMALE"}.get(normalise_sex(sex), None)
    patient = [
        field("PatientID", patient_id),
        field("PatientAge", None if age is None else f"{float(age):g}"),
        field("AgeUnits", None if age is None else "YEARS"),
        field("Gender", gender),
    ]
    test = [field("AcquisitionDate", acquisition_date), field("AcquisitionTime", acquisition_time)]
    lines = [
        '<?xml version="1.0" encoding="ISO-8859-1"?>',
        '<!DOCTYPE RestingECG SYSTEM "restecg.dtd">',
        "<RestingECG>",
        "  <MuseInfo>",
        "    <MuseVersion>ecgsk</MuseVersion>",
        "  </MuseInfo>",
        "  <PatientDemographics>",
        *[p for p in patient if p],
        "  </PatientDemographics>",
        "  <TestDemographics>",
        *[t for t in test if t],
        "  </TestDemographics>",
        *waveforms,
        "</RestingECG>",
        "",
    ]
    Path(os.fspath(path)).write_text("\n".join(lines), encoding="iso-8859-1", errors="xmlcharrefreplace")
