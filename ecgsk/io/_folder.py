"""Read a folder (or list) of ECG files of any supported format into one batch."""

from __future__ import annotations

from pathlib import Path

from ._common import (
    as_path_list,
    check_errors_option,
    read_all,
    stack_records,
    warn_implausible_amplitude,
)
from ._dicom import read_dicom_record
from ._hl7 import read_hl7_record
from ._muse import read_muse_record
from ._philips import read_philips_record
from ._records import ECGRecords
from ._scp import read_scp_record
from ._wfdb import read_wfdb_record, record_base
from ._wfdb_header import check_default_sfreq
from ._xml import xml_root_name

_WFDB_SUFFIXES = (".hea", ".dat", ".mat")
_XML_SUFFIXES = (".xml",)
_DICOM_SUFFIXES = (".dcm", ".dicom")
_SCP_SUFFIXES = (".scp",)
_SELF_CONTAINED_SUFFIXES = (*_XML_SUFFIXES, *_DICOM_SUFFIXES, *_SCP_SUFFIXES)  # header + samples
_SUFFIXES = (".hea", *_SELF_CONTAINED_SUFFIXES)


def _find_files(folder: Path) -> list[Path]:
    found = [
        p for p in folder.rglob("*")
        if p.is_file() and p.suffix.lower() in _SUFFIXES
    ]
    return sorted(found)


def _list_files(source, what: str) -> list[Path]:
    """The ECG files of ``source`` (folders searched recursively); ``what`` names it in errors."""
    files: list[Path] = []
    for item in as_path_list(source, what):
        if item.is_dir():
            found = _find_files(item)
            if not found:
                raise ValueError(f"folder {item} holds no supported ECG file "
                                 "(*.hea, *.xml, *.dcm, *.scp)")
            files.extend(found)
        elif item.is_file() or item.with_name(record_base(item).name + ".hea").is_file():
            files.append(item)
        else:
            raise FileNotFoundError(f"{item} does not exist")
    return files


_XML_READERS = {
    "RestingECG": lambda path, verify: read_muse_record(path, "auto", verify),
    "AnnotatedECG": lambda path, verify: read_hl7_record(path),
    "restingecgdata": lambda path, verify: read_philips_record(path),
}
_XML_FORMATS = "an HL7 aECG <AnnotatedECG> or Philips <restingecgdata>"


def _read_xml(path: Path, verify: bool):
    """Read an ECG XML file with the reader its root element names."""
    if not path.is_file():
        raise FileNotFoundError(f"ECG XML file {path} not found")
    root = xml_root_name(path)
    if root not in _XML_READERS:
        found = f"root element <{root}>" if root else "no XML root element found"
        raise ValueError(
            f"{path} is not a GE MUSE RestingECG file nor {_XML_FORMATS} file ({found})"
        )
    return _XML_READERS[root](path, verify)


def _read_one(path: Path, verify: bool, default_sfreq=None):
    suffix = path.suffix.lower()
    if suffix in _XML_SUFFIXES:
        return _read_xml(path, verify)
    if suffix in _DICOM_SUFFIXES:
        return read_dicom_record(path)
    if suffix in _SCP_SUFFIXES:
        return read_scp_record(path, verify)
    if suffix in _WFDB_SUFFIXES or not suffix:
        return read_wfdb_record(path, verify, default_sfreq)
    raise ValueError(
        f"{path}: unsupported file type {suffix!r} (supported: WFDB .hea/.dat/.mat, "
        "XML (GE MUSE, HL7 aECG, Philips), DICOM .dcm, SCP-ECG .scp)"
    )


def read_records(
    source,
    sfreq=None,
    n_times=None,
    *,
    errors: str = "raise",
    verify: bool = True,
    default_sfreq=None,
    check_amplitude: bool = True,
) -> ECGRecords:
    """Read a folder or a list of ECG files of any supported format.

    A folder is searched recursively for WFDB headers (``*.hea``, read with
    their ``.dat`` or ``.mat`` data), XML files (``*.xml``: GE MUSE, HL7
    aECG or Philips, told apart by their root element), DICOM waveforms
    (``*.dcm``, with the optional pydicom) and SCP-ECG files (``*.scp``);
    files are read in sorted path order and concatenated. A list may mix formats and
    name WFDB records with or without extension.

    Parameters
    ----------
    source : str, path-like, or list of them
        A folder, one file, or a list of files.
    sfreq : float, optional
        Resample every record to this rate (Hz); without it, records of
        different rates raise ``ValueError``.
    n_times : int, optional
        Crop or pad every record (centred) to this many samples; without it,
        records of different lengths raise ``ValueError``.
    errors : {"raise", "skip"}, default="raise"
        ``"raise"``: the first unreadable file raises ``ValueError`` naming
        it. ``"skip"``: unreadable files are left out and listed in one
        ``UserWarning``.
    verify : bool, default=True
        Check the WFDB header checksums, the MUSE per-lead CRC32 and the
        SCP-ECG file CRC.
    default_sfreq : float, optional
        The rate (Hz) of a WFDB header that omits it (WFDB's own default is
        250 Hz; without ``default_sfreq`` such a header is unreadable). A
        file's stated rate is never replaced.
    check_amplitude : bool, default=True
        Warn, naming the records, when a record's amplitude is implausible
        for an ECG in mV (see :func:`read_wfdb`); ``False`` skips the check.

    Returns
    -------
    ECGRecords
        Signals ``(n_records, n_leads, n_times)`` in float32 mV, ``sfreq``,
        ``leads`` and ``meta`` (the columns of the format readers, such as
        :func:`read_wfdb` and :func:`read_muse_xml`; absent fields are NaN).
        Every non-WFDB reader fills ``statements``, the list of diagnosis
        statements, beside the ``diagnosis`` string.

    Raises
    ------
    FileNotFoundError
        If ``source`` does not exist.
    ValueError
        If a folder holds no supported file, a file is unreadable (with
        ``errors="raise"``), or records differ in rate, length or lead set.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from ecgsk.io import write_muse_xml
    >>> folder = tempfile.mkdtemp()
    >>> leads = ["I", "II", "V1", "V2", "V3", "V4", "V5", "V6"]
    >>> for k in range(3):
    ...     write_muse_xml(os.path.join(folder, f"ecg{k}.xml"), np.full((8, 1000), 0.1 * k), 500, leads)
    >>> rec = read_records(folder)
    >>> rec.signals.shape, list(rec.meta["record_id"])
    ((3, 12, 1000), ['ecg0', 'ecg1', 'ecg2'])
    """
    check_errors_option(errors)
    default_sfreq = check_default_sfreq(default_sfreq)
    files = _list_files(source, "ECG file paths")
    records = read_all(files, lambda p: _read_one(p, verify, default_sfreq), errors)
    if check_amplitude:
        warn_implausible_amplitude(records)
    return stack_records(records, sfreq, n_times)
