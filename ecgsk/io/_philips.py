"""Philips SierraECG / PhilipsECG XML (``restingecgdata``, versions 1.03, 1.04, 1.04.01)."""

from __future__ import annotations

import base64
import binascii
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
    parse_age,
    read_all,
    stack_records,
    warn_implausible_amplitude,
)
from ._muse import _twelve_leads
from ._records import ECGRecords
from ._xli import xli_decode
from ._xml import local_name, parse_xml

SUPPORTED_TYPES = ("SierraECG", "PhilipsECG")
SUPPORTED_VERSIONS = ("1.03", "1.04", "1.04.01")
_DEFAULT_LABELS = STANDARD_12  # the order of 1.03 files, which carry no lead labels


def _strip_namespaces(root) -> None:
    for element in root.iter():
        element.tag = local_name(element.tag)


def _text(element, path: str):
    found = element.find(path) if element is not None else None
    if found is None or found.text is None or not found.text.strip():
        return None
    return " ".join(found.text.split())


def _check_version(root, path: Path) -> tuple[str, str]:
    kind = _text(root, "documentinfo/documenttype")
    version = _text(root, "documentinfo/documentversion")
    if kind not in SUPPORTED_TYPES or version not in SUPPORTED_VERSIONS:
        raise ValueError(
            f"{path}: unsupported Philips XML document {kind or '?'} {version or '?'} "
            f"(supported: {'/'.join(SUPPORTED_TYPES)} {', '.join(SUPPORTED_VERSIONS)})"
        )
    return kind, version


def _number(text, what: str, path: Path) -> float:
    try:
        value = float(str(text).strip())
    except (TypeError, ValueError):
        raise ValueError(f"{path}: {what} is missing or not a number ({text!r})") from None
    if not math.isfinite(value):
        raise ValueError(f"{path}: {what} is not finite ({text!r})")
    return value


def _sfreq(root, waveforms, path: Path) -> float:
    text = waveforms.get("samplespersecond") or _text(
        root, "dataacquisition/signalcharacteristics/samplingrate")
    sfreq = _number(text, "the sampling rate", path)
    low, high = SFREQ_RANGE
    if not low <= sfreq <= high:
        raise ValueError(f"{path}: sample rate {sfreq:g} Hz is outside the plausible range for "
                         f"an ECG ({low:g} to {high:g} Hz)")
    return sfreq


def _leads(root, waveforms, path: Path, sfreq: float) -> tuple[dict[str, np.ndarray], bool]:
    """Decoded ADC counts by lead name, and whether they are XLI-compressed."""
    labels = (waveforms.get("leadlabels") or "").split()
    count = waveforms.get("numberofleads")
    if labels:
        labels = labels[:int(_number(count, "numberofleads", path))] if count else labels
    else:
        allocated = _text(root, "dataacquisition/signalcharacteristics/numberchannelsallocated")
        labels = list(_DEFAULT_LABELS[:int(_number(allocated or 12, "channels", path))])
    encoding = waveforms.get("dataencoding", "Base64")
    method = waveforms.get("compression") or waveforms.get("compressmethod")
    if (waveforms.get("compressflag") or "").lower() == "false":
        method = None
    duration = waveforms.get("durationperchannel")
    n_times = round(_number(duration, "durationperchannel", path) * sfreq / 1000) if duration else None
    if encoding == "Plain":  # whitespace-separated integers, lead after lead, never compressed
        try:
            data = np.array((waveforms.text or "").split(), dtype=np.int64).astype("<i2").tobytes()
        except (ValueError, OverflowError):
            raise ValueError(f"{path}: Plain parsedwaveforms hold a value that is not a "
                             "16-bit integer") from None
        method = None
    elif encoding == "Base64":
        try:
            data = base64.b64decode("".join((waveforms.text or "").split()), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError(f"{path}: parsedwaveforms is not valid base64 ({exc})") from exc
    else:
        raise ValueError(f"{path}: waveform data encoding {encoding!r} is not supported "
                         "(Base64 or Plain)")
    if not data:
        raise ValueError(f"{path}: parsedwaveforms holds no data")
    if method and method.upper() == "XLI":
        chunks = xli_decode(data, str(path))
        if len(chunks) < len(labels):
            raise ValueError(f"{path}: the XLI data holds {len(chunks)} leads, "
                             f"{len(labels)} lead labels are declared")
        compressed = True
    elif method in (None, "", "Uncompressed", "None"):
        if n_times is None:
            raise ValueError(f"{path}: uncompressed waveforms without durationperchannel")
        if len(data) < 2 * n_times * len(labels):
            raise ValueError(f"{path}: the waveform data holds {len(data)} bytes, "
                             f"{2 * n_times * len(labels)} expected (truncated?)")
        counts = np.frombuffer(data[:2 * n_times * len(labels)], dtype="<i2")
        chunks = list(counts.reshape(len(labels), n_times).astype(np.int64))
        compressed = False
    else:
        raise ValueError(f"{path}: waveform compression {method!r} is not supported (XLI or none)")
    decoded = {}
    for label, values in zip(labels, chunks, strict=False):
        try:
            (name,) = canonical_lead_names([label])
        except (TypeError, ValueError):
            continue
        if n_times is not None and len(values) < n_times:
            raise ValueError(f"{path}, lead {name}: {len(values)} samples decoded, "
                             f"{n_times} declared (truncated or corrupt data)")
        decoded[name] = values[:n_times] if n_times is not None else values
    return decoded, compressed


def _restore_limb_leads(decoded: dict[str, np.ndarray]) -> None:
    """XLI stores III, aVR, aVL and aVF as residuals from their values derived from I and II.

    The rule of the Philips format (as the sierra-ecg-tools readers document it): III is
    ``II - I - r``, aVR ``-r - floor((I + II) / 2)``, aVL ``floor((I - III) / 2) - r``
    and aVF ``floor((II + III) / 2) - r``, each with the restored III.
    """
    if not {"I", "II", "III", "aVR", "aVL", "aVF"} <= set(decoded):
        return
    i, ii = decoded["I"], decoded["II"]
    iii = ii - i - decoded["III"]
    decoded["III"] = iii
    decoded["aVR"] = -decoded["aVR"] - (i + ii) // 2
    decoded["aVL"] = (i - iii) // 2 - decoded["aVL"]
    decoded["aVF"] = (ii + iii) // 2 - decoded["aVF"]


def _statement(element) -> str | None:
    left = _text(element, "leftstatement") or _text(element, "lhsstatement")
    right = _text(element, "rightstatement") or _text(element, "rhsstatement")
    if right and "*" in right:  # a template whose variables are filled elsewhere
        right = None
    text = " ".join(t for t in (left, right) if t)
    return text or None


def _interpretation_statements(root) -> tuple[list[str], list[str]]:
    """(printed statements, statements of the analysis program) of the last interpretation."""
    interpretations = root.findall("interpretations/interpretation")
    if not interpretations:
        return [], []
    last = interpretations[-1]
    printed = [s for s in map(_statement, last.findall("statement")) if s]
    original = []
    components = last.find("interpretationdatastructure/statementcomponents")
    for item in components if components is not None else []:
        if item.get("source") not in (None, "Analysis program"):
            continue
        parsed = item.find("unparsedstatement")
        text = _statement(parsed) if parsed is not None else " ".join((item.text or "").split())
        if text:
            original.append(text)
    return printed, original


def _severity(root) -> str | None:
    interpretations = root.findall("interpretations/interpretation")
    text = _text(interpretations[-1], "severity") if interpretations else None
    return (text or "").strip(" -") or None


def _age_years(patient) -> float:
    years = parse_age(_text(patient, "age/years"))
    if not math.isnan(years):
        return years
    months = parse_age(_text(patient, "age/months"))
    return months / 12 if not math.isnan(months) else math.nan


def read_philips_record(path) -> RawRecord:
    """Read one Philips XML file into a :class:`RawRecord` with the 12 standard leads."""
    path = Path(path)
    with naming_errors(path):
        return _read_philips(path)


def _read_philips(path: Path) -> RawRecord:
    root = parse_xml(path, "Philips XML")
    _strip_namespaces(root)
    if root.tag != "restingecgdata":
        raise ValueError(f"{path} is not a Philips SierraECG file (root element <{root.tag}>)")
    kind, version = _check_version(root, path)
    waveforms = root.find("waveforms/parsedwaveforms")
    if waveforms is None:
        raise ValueError(f"{path}: no <parsedwaveforms> (no rhythm waveform)")
    sfreq = _sfreq(root, waveforms, path)
    decoded, compressed = _leads(root, waveforms, path, sfreq)
    if compressed:
        _restore_limb_leads(decoded)
    resolution = waveforms.get("resolution") or _text(
        root, "dataacquisition/signalcharacteristics/resolution") or _text(
        root, "dataacquisition/signalcharacteristics/signalresolution")
    uv_per_bit = _number(resolution, "the signal resolution (uV per bit)", path)
    offset = _number(waveforms.get("signaloffset", "0"), "signaloffset", path)
    if uv_per_bit <= 0:
        raise ValueError(f"{path}: the signal resolution {uv_per_bit!r} uV is not positive")
    if not decoded:
        raise ValueError(f"{path}: no standard ECG lead in the waveform")
    scaled = {name: ((v - offset) * (uv_per_bit * 1e-3)).astype(np.float32)
              for name, v in decoded.items()}
    signal = _twelve_leads(scaled, path)
    patient = root.find("patient/generalpatientdata")
    acquisition = root.find("dataacquisition")
    printed, original = _interpretation_statements(root)
    status = root.get("status")
    meta = {
        "record_id": path.stem,
        "path": str(path),
        "patient_id": _text(patient, "patientid"),
        "age": _age_years(patient),
        "sex": normalise_sex(_text(patient, "sex")),
        "acquisition_date": acquisition.get("date") if acquisition is not None else None,
        "acquisition_time": acquisition.get("time") if acquisition is not None else None,
        "diagnosis": " ".join(printed) if printed else None,
        "statements": printed,
        "statements_original": original,
        "statements_confirmed": printed if (status or "").lower() == "confirmed" else None,
        "severity": _severity(root),
        "status": status,
        "document_version": f"{kind} {version}",
        "waveform_type": "Rhythm",
    }
    return RawRecord(signal, sfreq, STANDARD_12, meta, str(path))


def read_philips_xml(
    paths, sfreq=None, n_times=None, *, errors: str = "raise", check_amplitude: bool = True,
) -> ECGRecords:
    """Read Philips SierraECG / PhilipsECG XML files as 12-lead ECGs in millivolts.

    Reads the ``restingecgdata`` documents of PageWriter, IntelliSpace /
    TraceMasterVue and HeartStart devices, document versions 1.03, 1.04 and
    1.04.01, in UTF-8 or UTF-16 (either byte order; also files that declare
    UTF-16 but are stored as single bytes). The ``<parsedwaveforms>`` rhythm
    strip is read: Base64 (uncompressed or XLI-compressed: LZW then
    second-order delta coding, see ``ecgsk.io._xli``) or Plain (decimal
    integers). XLI stores leads III, aVR, aVL and aVF as residuals from their
    values computed from I and II; they are restored, which gives the 12
    leads as recorded (uncompressed data hold the leads themselves). Samples are ``(counts -
    signaloffset) * resolution`` microvolts, returned in mV; extra channels
    beyond the declared leads are ignored. Representative beats
    (``<repbeats>``) are not read.

    Parameters
    ----------
    paths : str, path-like or list of them
        Philips XML files.
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
        ``leads`` (:data:`~ecgsk.leads.STANDARD_12`) and ``meta`` with
        ``record_id``, ``path``, ``patient_id``, ``age``, ``sex``,
        ``acquisition_date``, ``acquisition_time``, ``diagnosis`` (the printed
        statements joined by spaces), ``statements`` (the printed
        ``<statement>`` list: left and right statement joined),
        ``statements_original`` (the analysis program's statements of
        ``statementcomponents``, also those an editor deleted; empty in 1.03
        files), ``statements_confirmed`` (the printed list when the document
        status is ``Confirmed``, else None), ``severity`` (such as ``ABNORMAL
        ECG``), ``status``, ``document_version`` and ``waveform_type``.

    Raises
    ------
    ValueError
        For malformed XML, another document type or version, invalid base64,
        corrupt or truncated XLI data, a missing lead I/II/V1-V6, or files
        whose rate or length differ. The message names the file.

    Examples
    --------
    >>> import base64, os, tempfile
    >>> import numpy as np
    >>> counts = np.tile(np.arange(-100, 100, dtype="<i2"), (12, 5))  # 12 leads x 1000
    >>> xml = ('<restingecgdata><documentinfo><documenttype>PhilipsECG</documenttype>'
    ...        '<documentversion>1.04</documentversion></documentinfo><waveforms>'
    ...        '<parsedwaveforms dataencoding="Base64" compression="Uncompressed" '
    ...        'numberofleads="12" leadlabels="I II III aVR aVL aVF V1 V2 V3 V4 V5 V6" '
    ...        'durationperchannel="2000" samplespersecond="500" resolution="5">'
    ...        + base64.b64encode(counts.tobytes()).decode() +
    ...        '</parsedwaveforms></waveforms></restingecgdata>')
    >>> path = os.path.join(tempfile.mkdtemp(), "ecg.xml")
    >>> with open(path, "w") as f:
    ...     _ = f.write(xml)
    >>> X, sfreq, leads, meta = read_philips_xml(path)
    >>> X.shape, sfreq, round(float(X[0, 0, 0]), 6), meta.loc[0, "document_version"]
    ((1, 12, 1000), 500.0, -0.5, 'PhilipsECG 1.04')
    """
    check_errors_option(errors)
    items = as_path_list(paths, "Philips XML paths")
    records = read_all(items, read_philips_record, errors)
    if check_amplitude:
        warn_implausible_amplitude(records)
    return stack_records(records, sfreq=sfreq, n_times=n_times)
