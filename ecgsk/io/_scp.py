"""SCP-ECG (EN 1064 / ISO 11073-91064) binary files: sections 0, 1, 2, 3, 6 and 8.

Layout: a CRC and the record size (6 bytes), then sections, each with a
16-byte header (CRC, id, length, versions, reserved). Section 0 points to
the others; 1 holds the patient and acquisition tags; 2 the Huffman tables
(or "use the default table"); 3 the leads and their sample ranges; 6 the
rhythm data (amplitude multiplier in nV, sample interval in us, difference
encoding, per-lead byte counts, then the encoded leads); 8 the full-text
interpretive statements.
"""

from __future__ import annotations

import binascii
import math
import struct
from pathlib import Path

import numpy as np

from ..leads import STANDARD_12
from ._common import (
    SFREQ_RANGE,
    RawRecord,
    as_path_list,
    check_errors_option,
    naming_errors,
    read_all,
    stack_records,
    warn_implausible_amplitude,
)
from ._muse import _twelve_leads
from ._records import ECGRecords

# SCP-ECG lead codes (section 3) of the 12 standard leads.
_LEAD_CODES = {1: "I", 2: "II", 3: "V1", 4: "V2", 5: "V3", 6: "V4", 7: "V5", 8: "V6",
               61: "III", 62: "aVR", 63: "aVL", 64: "aVF"}
_DEFAULT_HUFFMAN = 19999  # section 2 "number of tables" meaning: use the standard's default table
_AGE_UNITS = {1: 1.0, 2: 1 / 12, 3: 7 / 365.25, 4: 1 / 365.25, 5: 1 / 8766}
_CONFIRMATION = {0: "original", 1: "confirmed", 2: "overread", 3: "no interpretation"}


def _crc_ccitt(data: bytes) -> int:
    """CRC-CCITT (polynomial 0x1021, initial 0xFFFF), as SCP-ECG uses."""
    return binascii.crc_hqx(data, 0xFFFF)


def _sections(data: bytes, path: Path, verify: bool) -> dict[int, bytes]:
    """Section id -> section body (without its 16-byte header), from the section 0 pointers."""
    if len(data) < 6 + 16:
        raise ValueError(f"{path}: {len(data)} bytes is too short for an SCP-ECG file")
    size = struct.unpack_from("<I", data, 2)[0]
    if size != len(data):
        raise ValueError(f"{path}: the SCP-ECG header says {size} bytes but the file has "
                         f"{len(data)} (truncated, or not a standard SCP-ECG file)")
    if verify and struct.unpack_from("<H", data, 0)[0] != _crc_ccitt(data[2:]):
        raise ValueError(f"{path}: the file CRC does not match its content (corrupt file; "
                         "verify=False reads it anyway)")
    sid, length = struct.unpack_from("<HI", data, 8)
    if sid != 0 or length < 16 or 6 + length > len(data):
        raise ValueError(f"{path}: no valid SCP-ECG section 0 (pointer section) at byte 6")
    sections = {}
    for at in range(6 + 16, 6 + length - 9, 10):
        ident, size, index = struct.unpack_from("<HII", data, at)
        if size == 0 or index == 0:
            continue
        start = index - 1
        if start + size > len(data) or size < 16:
            raise ValueError(f"{path}: section {ident} ({size} bytes at byte {start}) lies "
                             "outside the file (truncated or corrupt)")
        head_id = struct.unpack_from("<H", data, start + 2)[0]
        if head_id != ident:
            raise ValueError(f"{path}: section 0 points to section {ident} at byte {start} but "
                             f"section {head_id} is there (corrupt file)")
        sections[ident] = data[start + 16:start + size]
    return sections


def _patient(body: bytes | None) -> dict:
    """Section 1 tags: patient id, age, sex, acquisition date and time."""
    out = {"patient_id": None, "age": math.nan, "sex": math.nan,
           "acquisition_date": None, "acquisition_time": None}
    at = 0
    while body is not None and at + 3 <= len(body):
        tag, length = body[at], struct.unpack_from("<H", body, at + 1)[0]
        value = body[at + 3:at + 3 + length]
        at += 3 + length
        if tag == 255:
            break
        if tag == 2:
            out["patient_id"] = value.split(b"\0")[0].decode("latin-1").strip() or None
        elif tag == 4 and length >= 3:
            age, unit = struct.unpack_from("<HB", value)
            if age and unit in _AGE_UNITS:
                out["age"] = age * _AGE_UNITS[unit]
        elif tag == 8 and length >= 1:
            out["sex"] = {1: "male", 2: "female"}.get(value[0], math.nan)
        elif tag == 25 and length >= 4:
            year, month, day = struct.unpack_from("<HBB", value)
            out["acquisition_date"] = f"{year:04d}-{month:02d}-{day:02d}"
        elif tag == 26 and length >= 3:
            out["acquisition_time"] = f"{value[0]:02d}:{value[1]:02d}:{value[2]:02d}"
    return out


def _statements(body: bytes | None) -> tuple[list[str], str | None]:
    """Section 8: the full-text interpretive statements and their confirmation status."""
    if not body or len(body) < 9:
        return [], None
    status = _CONFIRMATION.get(body[0])
    count, at, out = body[8], 9, []
    for _ in range(count):
        if at + 3 > len(body):
            break
        length = struct.unpack_from("<H", body, at + 1)[0]
        text = body[at + 3:at + 3 + length].split(b"\0")[0].decode("latin-1")
        at += 3 + length
        if text.strip():
            out.append(" ".join(text.split()))
    return out, status


def _leads(body: bytes | None, path: Path) -> tuple[list[str | None], list[int]]:
    if body is None:
        raise ValueError(f"{path}: no section 3 (lead definition)")
    n_leads, flags = body[0], body[1]
    if n_leads == 0:
        raise ValueError(f"{path}: section 3 defines no leads (a non-standard SCP-ECG file?)")
    if flags & 1:
        raise ValueError(f"{path}: reference beat subtraction is used; ecgsk does not decode "
                         "such SCP-ECG rhythm data")
    names, counts = [], []
    for k in range(n_leads):
        start, end, code = struct.unpack_from("<IIB", body, 2 + 9 * k)
        if end < start:
            raise ValueError(f"{path}: lead {k + 1} ends (sample {end}) before it starts ({start})")
        names.append(_LEAD_CODES.get(code))
        counts.append(end - start + 1)
    return names, counts


def huffman_default(data: bytes, n: int, where: str) -> np.ndarray:
    """Decode ``n`` values coded with the default Huffman table of SCP-ECG.

    ``0`` is 0; ``k`` ones, a zero and a sign bit are +-k (k = 1 .. 8); nine
    ones and a zero are followed by an 8-bit, ten ones by a 16-bit two's
    complement value.
    """
    bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8)).tobytes().translate(
        bytes.maketrans(b"\x00\x01", b"01")).decode("ascii")
    out = np.empty(n, dtype=np.int64)
    at, size = 0, len(bits)
    for i in range(n):
        zero = bits.find("0", at, at + 10)
        ones = (zero - at) if zero >= 0 else min(10, size - at)
        if ones <= 8:
            if zero < 0 or (ones and zero + 1 >= size):
                raise ValueError(f"{where}: the Huffman data ends after {i} of {n} samples")
            out[i] = 0 if ones == 0 else (-ones if bits[zero + 1] == "1" else ones)
            at = zero + 1 + (1 if ones else 0)
            continue
        width = 8 if ones == 9 else 16
        start = at + 10
        if start + width > size:
            raise ValueError(f"{where}: the Huffman data ends after {i} of {n} samples")
        value = int(bits[start:start + width], 2)
        out[i] = value - (1 << width) if value >= 1 << (width - 1) else value
        at = start + width
    return out


def undo_differences(values: np.ndarray, order: int) -> np.ndarray:
    """Samples from first (``x[i] = x[i-1] + d[i]``) or second differences."""
    if order == 0:
        return values
    if order == 1:
        return np.cumsum(values)
    v = values.astype(np.int64)
    if v.size < 2:
        return v
    # x[i] - x[i-1] = (x[i-1] - x[i-2]) + d[i]: the first differences are a running sum.
    first = np.cumsum(np.concatenate([[v[1] - v[0]], v[2:]]))
    return np.concatenate([[v[0]], v[0] + np.cumsum(first)])


def _rhythm(body: bytes | None, huffman: bytes | None, names, counts, path: Path):
    if body is None:
        raise ValueError(f"{path}: no section 6 (rhythm data)")
    avm, interval, diff, bimodal = struct.unpack_from("<HHBB", body)
    if avm == 0 or interval == 0:
        raise ValueError(f"{path}: section 6 states an amplitude multiplier of {avm} nV and a "
                         f"sample interval of {interval} us")
    if diff not in (0, 1, 2) or bimodal not in (0, 1):
        raise ValueError(f"{path}: section 6 encoding (difference {diff}, bimodal {bimodal}) "
                         "is not a standard one")
    if bimodal:
        raise ValueError(f"{path}: bimodal compression is used; ecgsk does not decode it")
    use_huffman = huffman is not None
    if use_huffman and struct.unpack_from("<H", huffman)[0] != _DEFAULT_HUFFMAN:
        raise ValueError(f"{path}: custom Huffman tables are used; ecgsk decodes only the "
                         "default SCP-ECG table")
    sizes = struct.unpack_from(f"<{len(names)}H", body, 6)
    at = 6 + 2 * len(names)
    if at + sum(sizes) > len(body):
        raise ValueError(f"{path}: section 6 lists {sum(sizes)} data bytes but holds "
                         f"{len(body) - at} (truncated or corrupt)")
    decoded = {}
    for name, count, size in zip(names, counts, sizes, strict=True):
        chunk = body[at:at + size]
        at += size
        if name is None:
            continue
        where = f"{path}, lead {name}"
        if use_huffman:
            values = huffman_default(chunk, count, where)
        else:
            if size < 2 * count:
                raise ValueError(f"{where}: {size} bytes for {count} 16-bit samples")
            values = np.frombuffer(chunk[:2 * count], dtype="<i2").astype(np.int64)
        if name in decoded:
            raise ValueError(f"{path}: lead {name} appears twice")
        decoded[name] = (undo_differences(values, diff) * (avm * 1e-6)).astype(np.float32)
    return _sampling_rate(interval, path), decoded


def _sampling_rate(interval_us: int, path: Path) -> float:
    sfreq = 1e6 / interval_us
    # The interval is stored in whole microseconds: 600 Hz is written 1667 us. A whole rate
    # that rounds to the stored interval is the one the device used.
    if round(1e6 / round(sfreq)) == interval_us:
        sfreq = float(round(sfreq))
    low, high = SFREQ_RANGE
    if not low <= sfreq <= high:
        raise ValueError(f"{path}: sample interval {interval_us} us ({sfreq:g} Hz) is outside "
                         f"the plausible range for an ECG ({low:g} to {high:g} Hz)")
    return sfreq


def read_scp_record(path, verify: bool = True) -> RawRecord:
    """Read one SCP-ECG file into a :class:`RawRecord` with the 12 standard leads."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"SCP-ECG file {path} not found") from None
    with naming_errors(path):
        sections = _sections(data, path, verify)
        names, counts = _leads(sections.get(3), path)
        sfreq, decoded = _rhythm(sections.get(6), sections.get(2), names, counts, path)
        if not decoded:
            raise ValueError(f"{path}: section 3 holds no standard ECG lead")
        lengths = {name: len(v) for name, v in decoded.items()}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"{path}: leads have different numbers of samples: {lengths}")
        signal = _twelve_leads(decoded, path)
        statements, status = _statements(sections.get(8))
        meta = {"record_id": path.stem, "path": str(path), **_patient(sections.get(1))}
        meta.update({
            "diagnosis": " ".join(statements) if statements else None,
            "statements": statements,
            "statements_confirmed": statements if status == "confirmed" else None,
            "interpretation_status": status,
            "waveform_type": "Rhythm",
        })
        return RawRecord(signal, sfreq, STANDARD_12, meta, str(path))


def read_scp_ecg(
    paths,
    sfreq=None,
    n_times=None,
    *,
    verify_crc: bool = True,
    errors: str = "raise",
    check_amplitude: bool = True,
) -> ECGRecords:
    """Read SCP-ECG (EN 1064) files as 12-lead ECGs in millivolts.

    The rhythm data of section 6 are decoded: Huffman-coded with the
    standard's default table (section 2 says so) or stored as plain 16-bit
    values, then undone from first or second differences, and scaled by the
    amplitude value multiplier (nV per count) to mV. The rate is ``1e6 /
    sample interval`` (us), rounded to the whole rate that the stored
    interval stands for (1667 us is 600 Hz). Leads are named from their
    section 3 codes; missing limb leads are derived from I and II (many
    devices store the 8 independent leads). Files using reference beat
    subtraction, bimodal compression or custom Huffman tables raise
    ``ValueError`` (not decoded).

    Parameters
    ----------
    paths : str, path-like or list of them
        SCP-ECG files (``.scp``).
    sfreq : float, optional
        Resample every ECG to this rate (Hz).
    n_times : int, optional
        Crop or pad every ECG (centred) to this many samples.
    verify_crc : bool, default=True
        Check the file's CRC-CCITT against its content.
    errors : {"raise", "skip"}, default="raise"
        Raise on an unreadable file, or skip it and list it in one warning.
    check_amplitude : bool, default=True
        Warn, naming the files, when an ECG's amplitude is implausible in mV.

    Returns
    -------
    ECGRecords
        ``signals`` ``(n_files, 12, n_times)`` float32 mV, ``sfreq``,
        ``leads`` and ``meta`` with ``record_id``, ``path``, ``patient_id``,
        ``age``, ``sex``, ``acquisition_date``, ``acquisition_time``,
        ``diagnosis``, ``statements`` (the section 8 full-text statements),
        ``statements_confirmed`` (the same list when section 8 says
        "confirmed", else None), ``interpretation_status`` and
        ``waveform_type``.

    Raises
    ------
    ValueError
        For a truncated file, a CRC mismatch, sections that lie outside the
        file, an encoding ecgsk does not decode, a missing lead, or files
        whose rate or length differ. The message names the file.

    Examples
    --------
    >>> import numpy as np
    >>> from ecgsk.io._scp import huffman_default, undo_differences
    >>> huffman_default(bytes([0b01001011, 0b10000000]), 4, "demo").tolist()  # 0, 1, -1, 2
    [0, 1, -1, 2]
    >>> undo_differences(np.array([5, 2, 1, -1]), 1).tolist()
    [5, 7, 8, 7]
    """
    check_errors_option(errors)
    items = as_path_list(paths, "SCP-ECG paths")
    records = read_all(items, lambda p: read_scp_record(p, verify_crc), errors)
    if check_amplitude:
        warn_implausible_amplitude(records)
    return stack_records(records, sfreq=sfreq, n_times=n_times)
