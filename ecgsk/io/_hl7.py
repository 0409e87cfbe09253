"""HL7 v3 annotated ECG (aECG, the FDA's ``AnnotatedECG`` XML, namespace ``urn:hl7-org:v3``)."""

from __future__ import annotations

import math
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
from ._xml import local_name, parse_xml

_NS = {"h": "urn:hl7-org:v3"}
_XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
_SECONDS = {"s": 1.0, "ms": 1e-3, "us": 1e-6}
_STATEMENT_CODES = ("MDC_ECG_INTERPRETATION_STATEMENT", "MDC_ECG_INTERPRETATION_SUMMARY")


def _attr(element, path: str, name: str = "value"):
    found = element.find(path, _NS) if element is not None else None
    value = None if found is None else found.get(name)
    return value.strip() if value and value.strip() else None


def _number(text, where: str) -> float:
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise ValueError(f"{where} is not a number: {text!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"{where} is not finite: {text!r}")
    return value


def _rhythm_series(root, path: Path):
    series = root.findall("h:component/h:series", _NS)
    if not series:
        raise ValueError(f"{path}: no <series> (no waveform) in the AnnotatedECG")
    for element in series:
        if (_attr(element, "h:code", "code") or "RHYTHM").upper() == "RHYTHM":
            return element
    return series[0]


def _sfreq(sequence, path: Path) -> float:
    value = sequence.find("h:value", _NS)
    increment = value.find("h:increment", _NS) if value is not None else None
    if increment is None:
        raise ValueError(f"{path}: the time sequence has no <increment> (no sampling rate)")
    unit = (increment.get("unit") or "s").strip()
    if unit not in _SECONDS:
        raise ValueError(f"{path}: time increment unit {unit!r} is not one of {sorted(_SECONDS)}")
    step = _number(increment.get("value"), f"{path}: the time increment") * _SECONDS[unit]
    if step <= 0:
        raise ValueError(f"{path}: the time increment {step!r} s is not positive")
    sfreq = 1.0 / step
    low, high = SFREQ_RANGE
    if not low <= sfreq <= high:
        raise ValueError(
            f"{path}: sample rate {sfreq:g} Hz (increment {step:g} s) is outside the plausible "
            f"range for an ECG ({low:g} to {high:g} Hz)"
        )
    return round(sfreq, 6)


def _lead_values(value, where: str) -> np.ndarray:
    kind = local_name(value.get(_XSI_TYPE, "")).split(":")[-1]
    if kind not in ("SLIST_PQ", "SLIST_INT"):
        raise ValueError(f"{where}: waveform type {kind or 'none'!r} is not supported "
                         "(expected SLIST_PQ or SLIST_INT)")
    origin, scale = value.find("h:origin", _NS), value.find("h:scale", _NS)
    digits = value.find("h:digits", _NS)
    if digits is None or not (digits.text or "").strip():
        raise ValueError(f"{where}: no <digits>")
    if scale is None:
        raise ValueError(f"{where}: no <scale> (amplitude resolution)")
    unit = scale.get("unit")
    if unit is None:
        raise ValueError(f"{where}: the <scale> states no amplitude unit")
    to_mv = unit_to_mv(unit, where)
    gain = _number(scale.get("value"), f"{where}: <scale>")
    offset = 0.0
    if origin is not None:
        offset = _number(origin.get("value", "0"), f"{where}: <origin>")
        offset *= unit_to_mv(origin.get("unit") or unit, where)
    try:
        counts = np.array(digits.text.split(), dtype=np.float64)
    except ValueError as exc:
        raise ValueError(f"{where}: <digits> holds a value that is not a number ({exc})") from None
    return (offset + counts * (gain * to_mv)).astype(np.float32)


def _decode_leads(sequence_set, path: Path) -> tuple[float, dict[str, np.ndarray]]:
    sfreq, decoded = None, {}
    for sequence in sequence_set.findall("h:component/h:sequence", _NS):
        code = _attr(sequence, "h:code", "code") or ""
        if code.startswith("TIME_"):
            sfreq = _sfreq(sequence, path)
            continue
        if not code.startswith("MDC_ECG_LEAD_"):
            continue
        try:
            (name,) = canonical_lead_names([code[len("MDC_ECG_LEAD_"):]])
        except (TypeError, ValueError):
            continue  # a lead outside the 12 standard ones (V4R, X, ...)
        if name not in STANDARD_12:
            continue
        if name in decoded:
            raise ValueError(f"{path}: lead {name} appears twice in the rhythm waveform")
        value = sequence.find("h:value", _NS)
        if value is None:
            raise ValueError(f"{path}, lead {name}: the sequence has no <value>")
        decoded[name] = _lead_values(value, f"{path}, lead {name}")
    if sfreq is None:
        raise ValueError(f"{path}: the sequence set has no TIME_ABSOLUTE/TIME_RELATIVE sequence")
    return sfreq, decoded


def _statements(root) -> list[str]:
    out = []
    for annotation in root.iter("{urn:hl7-org:v3}annotation"):
        if _attr(annotation, "h:code", "code") not in _STATEMENT_CODES:
            continue
        value = annotation.find("h:value", _NS)
        text = " ".join((value.text or "").split()) if value is not None else ""
        text = text.rstrip(", ")  # Philips-made aECG pad statements with ", , "
        if text:
            out.append(text)
    return out


def _timestamp(value):
    if not value or len(value) < 8 or not value[:8].isdigit():
        return None, None
    date = f"{value[:4]}-{value[4:6]}-{value[6:8]}"
    clock = value[8:14]
    if len(clock) >= 4 and clock.isdigit():
        clock = clock.ljust(6, "0")
        return date, f"{clock[:2]}:{clock[2:4]}:{clock[4:6]}"
    return date, None


def read_hl7_record(path) -> RawRecord:
    """Read one HL7 aECG file into a :class:`RawRecord` with the 12 standard leads."""
    path = Path(path)
    with naming_errors(path):
        return _read_hl7(path)


def _read_hl7(path: Path) -> RawRecord:
    root = parse_xml(path, "HL7 aECG")
    if local_name(root.tag) != "AnnotatedECG" or not root.tag.startswith("{urn:hl7-org:v3}"):
        raise ValueError(f"{path} is not an HL7 aECG file (root element <{root.tag}>)")
    series = _rhythm_series(root, path)
    sequence_sets = series.findall("h:component/h:sequenceSet", _NS)
    if not sequence_sets:
        raise ValueError(f"{path}: the rhythm series has no <sequenceSet>")
    sfreq, decoded = _decode_leads(sequence_sets[0], path)
    if not decoded:
        raise ValueError(f"{path}: the rhythm series holds no standard ECG lead (MDC_ECG_LEAD_*)")
    lengths = {name: len(v) for name, v in decoded.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"{path}: leads have different numbers of samples: {lengths}")
    if next(iter(lengths.values())) == 0:
        raise ValueError(f"{path}: the waveform holds no samples")
    signal = _twelve_leads(decoded, path)
    subject = root.find(".//h:trialSubject", _NS)
    person = subject.find("h:subjectDemographicPerson", _NS) if subject is not None else None
    when = _attr(root, "h:effectiveTime/h:center") or _attr(root, "h:effectiveTime/h:low")
    date, clock = _timestamp(when)
    statements = _statements(root)
    meta = {
        "record_id": path.stem,
        "path": str(path),
        "patient_id": _attr(subject, "h:id", "extension"),
        "age": math.nan,
        "sex": normalise_sex(_attr(person, "h:administrativeGenderCode", "code")),
        "acquisition_date": date,
        "acquisition_time": clock,
        "diagnosis": " ".join(statements) if statements else None,
        "statements": statements,
        "waveform_type": "Rhythm",
    }
    return RawRecord(signal, sfreq, STANDARD_12, meta, str(path))


def read_hl7_aecg(
    paths, sfreq=None, n_times=None, *, errors: str = "raise", check_amplitude: bool = True,
) -> ECGRecords:
    """Read HL7 v3 annotated ECG (aECG) XML files as 12-lead ECGs in millivolts.

    The rhythm ``<series>`` is read: its ``TIME_ABSOLUTE`` (or
    ``TIME_RELATIVE``) sequence gives the rate (``1 / increment``), and each
    ``MDC_ECG_LEAD_*`` sequence (``SLIST_PQ`` or ``SLIST_INT``) the samples
    ``origin + scale * digits`` in the unit of ``<scale>`` (usually uV),
    converted to mV. Lead codes map to standard names (``MDC_ECG_LEAD_AVR``
    to ``aVR``); limb leads a file omits are derived from I and II, leads
    outside the standard 12 are ignored, and the 12 leads are returned in
    :data:`ecgsk.leads.STANDARD_12` order. Representative beats
    (``derivedSeries``) are not read.

    Parameters
    ----------
    paths : str, path-like or list of them
        aECG XML files.
    sfreq : float, optional
        Resample every ECG to this rate (Hz); without it, files of different
        rates raise ``ValueError``.
    n_times : int, optional
        Crop or pad every ECG (centred) to this many samples; without it,
        files of different lengths raise ``ValueError``.
    errors : {"raise", "skip"}, default="raise"
        Raise on an unreadable file, or skip it and list it in one warning.
    check_amplitude : bool, default=True
        Warn, naming the files, when an ECG's amplitude is implausible in mV.

    Returns
    -------
    ECGRecords
        ``signals`` ``(n_files, 12, n_times)`` float32 mV, ``sfreq``,
        ``leads`` and ``meta`` with ``record_id``, ``path``, ``patient_id``
        (the trial subject id), ``age`` (NaN: aECG states a birth date, not an
        age), ``sex``, ``acquisition_date`` (``YYYY-MM-DD``),
        ``acquisition_time``, ``diagnosis`` (the statements joined by spaces),
        ``statements`` (the list of ``MDC_ECG_INTERPRETATION_STATEMENT`` and
        ``..._SUMMARY`` texts, in file order; comments are left out) and
        ``waveform_type``.

    Raises
    ------
    ValueError
        For malformed XML, a file that is not an aECG, a missing rate, scale
        or unit, non-numeric digits, a missing lead I/II/V1-V6, or leads of
        different lengths. The message names the file (and lead).

    Examples
    --------
    >>> import os, tempfile
    >>> digits = " ".join(str(v) for v in range(-250, 250))
    >>> leads = "".join(
    ...     f'<component><sequence><code code="MDC_ECG_LEAD_{name}"/>'
    ...     f'<value xsi:type="SLIST_PQ"><origin value="0" unit="uV"/>'
    ...     f'<scale value="5" unit="uV"/><digits>{digits}</digits></value></sequence></component>'
    ...     for name in ["I", "II", "V1", "V2", "V3", "V4", "V5", "V6"])
    >>> xml = ('<AnnotatedECG xmlns="urn:hl7-org:v3" '
    ...        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><component><series>'
    ...        '<code code="RHYTHM"/><component><sequenceSet><component><sequence>'
    ...        '<code code="TIME_ABSOLUTE"/><value xsi:type="GLIST_TS"><head value="20240101"/>'
    ...        f'<increment value="0.002" unit="s"/></value></sequence></component>{leads}'
    ...        '</sequenceSet></component></series></component></AnnotatedECG>')
    >>> path = os.path.join(tempfile.mkdtemp(), "ecg.xml")
    >>> with open(path, "w") as f:
    ...     _ = f.write(xml)
    >>> X, sfreq, leads, meta = read_hl7_aecg(path)
    >>> X.shape, sfreq, leads[2], round(float(X[0, 0, -1]), 6)
    ((1, 12, 500), 500.0, 'III', 1.245)
    """
    check_errors_option(errors)
    items = as_path_list(paths, "HL7 aECG paths")
    records = read_all(items, read_hl7_record, errors)
    if check_amplitude:
        warn_implausible_amplitude(records)
    return stack_records(records, sfreq=sfreq, n_times=n_times)
