"""Philips XLI waveform decompression (the ``compression="XLI"`` parsedwaveforms).

The format, as described by the public sierra-ecg-tools project (MIT; read
for the format only, this is an independent implementation): the decoded
base64 holds one chunk per lead, each

* an 8-byte header: the chunk size in bytes (int32 little endian), two bytes
  not used here, and the lead's first difference seed (int16 little endian);
* ``size`` bytes of LZW codes: 10 bits each, most significant bit first,
  a dictionary that starts with the 256 single bytes and grows to code 1022;
  a larger code ends the stream;
* the decompressed bytes are ``n`` high bytes followed by ``n`` low bytes of
  ``n`` int16 values: the first two samples, then second-order differences
  offset by 64. Sample ``i >= 2`` is ``2 * x[i-1] - x[i-2] - d`` where ``d``
  is the seed for ``i = 2`` and ``value[i-1] - 64`` after that.
"""

from __future__ import annotations

import numpy as np

_BITS = 10
_MAX_CODE = (1 << _BITS) - 2
_WEIGHTS = 1 << np.arange(_BITS - 1, -1, -1)


def lzw_decode(data: bytes) -> bytes:
    """Decompress 10-bit MSB-first LZW codes (no clear code; codes above 1022 end the data)."""
    bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8))
    n_codes = bits.size // _BITS
    codes = bits[: n_codes * _BITS].reshape(n_codes, _BITS) @ _WEIGHTS
    table = [bytes([i]) for i in range(256)]
    out = bytearray()
    previous = b""
    for code in codes.tolist():
        if code > _MAX_CODE:
            break
        if code < len(table):
            entry = table[code]
        elif code == len(table) and previous:
            entry = previous + previous[:1]
        else:
            raise ValueError(f"XLI data is corrupt: LZW code {code} is not yet defined")
        out += entry
        if previous and len(table) <= _MAX_CODE:
            table.append(previous + entry[:1])
        previous = entry
    return bytes(out)


def undo_deltas(values: np.ndarray, seed: int) -> np.ndarray:
    """Rebuild samples from the two first values and the offset second differences."""
    v = values.astype(np.int64)
    if v.size <= 2:
        return v
    d = np.empty(v.size - 2, dtype=np.int64)
    d[0] = seed
    d[1:] = v[2:-1] - 64
    # x[i] - x[i-1] = (x[i-1] - x[i-2]) - d[i]: the first differences are a running sum.
    first = np.concatenate([[v[1] - v[0]], (v[1] - v[0]) - np.cumsum(d)])
    return np.concatenate([[v[0]], v[0] + np.cumsum(first)])


def xli_decode(data: bytes, where: str) -> list[np.ndarray]:
    """Decode every lead chunk of an XLI byte string into int64 samples."""
    leads, offset = [], 0
    while offset < len(data):
        if len(data) - offset < 8:
            raise ValueError(f"{where}: XLI data ends inside a chunk header (truncated?)")
        size = int.from_bytes(data[offset:offset + 4], "little", signed=True)
        seed = int.from_bytes(data[offset + 6:offset + 8], "little", signed=True)
        offset += 8
        if size < 0 or offset + size > len(data):
            raise ValueError(
                f"{where}: XLI chunk {len(leads) + 1} declares {size} bytes but "
                f"{len(data) - offset} remain (truncated or corrupt data)"
            )
        raw = lzw_decode(data[offset:offset + size])
        offset += size
        if len(raw) % 2:
            raw += b"\x00"
        half = len(raw) // 2
        packed = np.frombuffer(raw, dtype=np.uint8).astype(np.int32)
        values = ((packed[:half] << 8) | packed[half:]).astype(np.uint16).view(np.int16)
        leads.append(undo_deltas(values, seed))
    return leads
