"""Strict checks of a WFDB header's text, before the ``wfdb`` package parses it.

The ``wfdb`` package parses the record line with a permissive regular expression
that stops at the first character it does not expect and fills what it could
not read with defaults. ``r 12 abc 5000`` (text), ``r 12 -500 5000`` (negative)
and ``r 12 nan 5000`` become WFDB's default 250 Hz; ``r 12 5e9 5000`` becomes
5 Hz and loses the length; a signal line whose gain is junk gets the default
gain of 200 and the rest of the line as its name. These checks read the fields
themselves (WFDB header(5) format) and refuse what the package would misread,
naming the file and the field.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

from ._common import SFREQ_RANGE

WFDB_DEFAULT_SFREQ = 250.0
"""The rate the WFDB format assumes when a header omits it (used only on request)."""

_DECIMAL = r"(?:\d+\.?\d*|\.\d+)"
_FS_FIELD = re.compile(
    r"^(?P<fs>[^/()]*)(?:/(?P<counter>[^()]*))?(?:\((?P<base>[^()]*)\))?$"
)
_FORMAT_FIELD = re.compile(r"^(?P<fmt>\d+)(?:x\d+)?(?::\d+)?(?:\+\d+)?$")
# The storage formats of WFDB signal(5) that the wfdb package reads.
_FORMATS = ("8", "16", "24", "32", "61", "80", "160", "212", "310", "311", "508", "516", "524")
_GAIN_FIELD = re.compile(
    rf"^[-+]?{_DECIMAL}(?:[eE][-+]?\d+)?(?:\(-?\d+\))?(?:/[^\s]*)?$"
)
_INTEGER = re.compile(r"^[-+]?\d+$")
_LOOKS_NUMERIC = re.compile(r"^[-+]?[\d.]")
_INT_MAX = 2**31 - 1  # WFDB's integer fields are C longs (32-bit on the platforms it targets)
# Signal-line fields after the gain: ADC resolution, ADC zero, initial value, checksum, block size.
_INTEGER_FIELDS = ("ADC resolution", "ADC zero", "initial value", "checksum", "block size")


@dataclass(frozen=True)
class HeaderFields:
    """The record-line fields ecgsk relies on, as written in the header."""

    sfreq: float
    sfreq_given: bool
    n_sig: int
    sig_len: int | None


def header_lines(text: str) -> list[str]:
    """Non-comment, non-empty lines, split as the ``wfdb`` package splits them."""
    lines = (line.strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def _float_field(value: str, hea: Path, what: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{hea} is not a valid WFDB header: {what} {value!r} is not a number") from None
    if not math.isfinite(number):
        raise ValueError(f"{hea} is not a valid WFDB header: {what} {value!r} is not finite")
    return number


def _sampling_rate(token: str, hea: Path) -> float:
    match = _FS_FIELD.match(token)
    if match is None or not match.group("fs"):
        raise ValueError(
            f"{hea} is not a valid WFDB header: sampling-rate field {token!r} is not of the form "
            "FS[/COUNTER_FREQ[(BASE_COUNTER)]]"
        )
    text = match.group("fs")
    fs = _float_field(text, hea, "sampling rate")
    low, high = SFREQ_RANGE
    if fs <= 0:
        raise ValueError(f"{hea} is not a valid WFDB header: sampling rate {text!r} Hz must be positive")
    if not low <= fs <= high:
        raise ValueError(
            f"{hea} is not a valid WFDB header: sampling rate {text!r} Hz is outside the plausible range "
            f"for an ECG ({low:g} to {high:g} Hz)"
        )
    if not re.fullmatch(_DECIMAL, text):
        # the wfdb package reads only the leading digits: "5e2" would become 5 Hz
        raise ValueError(
            f"{hea} is not a valid WFDB header: sampling rate {text!r} is written in a notation the wfdb "
            f"package misreads; write it as a plain decimal ({fs:g})"
        )
    for name, value in (("counter frequency", match.group("counter")),
                        ("base counter value", match.group("base"))):
        if value:
            _float_field(value, hea, name)
    return fs


def _check_signal_line(line: str, index: int, hea: Path) -> None:
    tokens = line.split()
    where = f"{hea} is not a valid WFDB header: signal line {index + 1}"
    if len(tokens) < 2:
        raise ValueError(f"{where}: {line!r} has no storage format field")
    match = _FORMAT_FIELD.match(tokens[1])
    if match is None:
        raise ValueError(f"{where}: storage format field {tokens[1]!r} is not valid")
    if match.group("fmt") not in _FORMATS:
        raise ValueError(
            f"{where}: storage format {match.group('fmt')!r} is not a WFDB format "
            f"(one of {', '.join(_FORMATS)})"
        )
    if len(tokens) < 3:
        return
    if not _GAIN_FIELD.match(tokens[2]):
        raise ValueError(
            f"{where}: ADC gain field {tokens[2]!r} is not of the form GAIN[(BASELINE)][/UNITS]"
        )
    gain = float(re.match(rf"[-+]?{_DECIMAL}(?:[eE][-+]?\d+)?", tokens[2]).group())
    if not math.isfinite(gain):
        raise ValueError(f"{where}: ADC gain {tokens[2]!r} is not finite")
    if gain == 0:
        # WFDB reads a zero gain as "uncalibrated" and the wfdb package substitutes 200
        raise ValueError(f"{where}: ADC gain {tokens[2]!r} is zero: the signal is uncalibrated")
    # WFDB puts the description after all eight fields; the wfdb package also accepts a
    # shorter line that ends in a one-word description, so a last non-numeric token is one.
    fields = tokens[3:8]
    if len(tokens) <= 8 and fields and not _LOOKS_NUMERIC.match(fields[-1]):
        fields = fields[:-1]
    for name, token in zip(_INTEGER_FIELDS, fields, strict=False):
        if not _INTEGER.match(token):
            raise ValueError(f"{where}: {name} field {token!r} is not an integer")
        if abs(int(token)) > _INT_MAX:
            raise ValueError(f"{where}: {name} field {token!r} is out of range")
    baseline = re.search(r"\((-?\d+)\)", tokens[2])
    if baseline and abs(int(baseline.group(1))) > _INT_MAX:
        raise ValueError(f"{where}: ADC baseline in {tokens[2]!r} is out of range")


def check_header(hea: Path, default_sfreq=None, *, default_hint: bool = True) -> HeaderFields:
    """Validate the record line and signal lines of a WFDB header; return its key fields.

    Parameters
    ----------
    hea : Path
        The ``.hea`` file.
    default_sfreq : float or None
        Rate to assume when the header omits it (WFDB's own default is 250 Hz).
        None: a header without a rate raises.
    default_hint : bool, default=True
        Whether that error suggests the ``default_sfreq=`` keyword (False
        where the caller offers none: then it asks to add the rate).

    Raises
    ------
    ValueError
        Naming the file and the field: a rate that is text, not positive, not
        finite, outside :data:`ecgsk.io._common.SFREQ_RANGE` or written in a
        notation the ``wfdb`` package misreads; a missing rate without
        ``default_sfreq``; a signal count or length that is not a non-negative
        integer; a signal line whose format, gain or integer fields are junk.
    """
    try:
        raw = hea.read_bytes()
    except OSError as exc:
        raise ValueError(f"WFDB header {hea} cannot be read ({exc})") from exc
    for number, line in enumerate(raw.splitlines(), start=1):
        # the wfdb package drops non-ASCII bytes: "1\x86000/mV" would become a gain of 1000
        if not line.lstrip().startswith(b"#") and not line.isascii():
            raise ValueError(
                f"{hea} is not a valid WFDB header: line {number} holds non-ASCII bytes "
                f"({line[:60]!r}); only comment lines may"
            )
    lines = header_lines(raw.decode("ascii", errors="ignore"))  # as the wfdb package does
    if not lines:
        raise ValueError(f"{hea} is not a valid WFDB header: it holds no record line")
    tokens = lines[0].split()
    if len(tokens) < 2:
        raise ValueError(
            f"{hea} is not a valid WFDB header: record line {lines[0]!r} has no number-of-signals field"
        )
    name, _, n_seg = tokens[0].partition("/")
    if n_seg:
        raise ValueError(f"WFDB header {hea} is a multi-segment record, which ecgsk does not read")
    if not re.fullmatch(r"\d+", tokens[1]):
        raise ValueError(
            f"{hea} is not a valid WFDB header: number-of-signals field {tokens[1]!r} is not a "
            "non-negative integer"
        )
    n_sig = int(tokens[1])
    if n_sig > 100_000:
        raise ValueError(f"{hea} is not a valid WFDB header: {n_sig} signals is not plausible")
    if len(tokens) >= 3:
        sfreq, given = _sampling_rate(tokens[2], hea), True
    elif default_sfreq is None:
        fix = (
            f"pass default_sfreq={WFDB_DEFAULT_SFREQ:g} if that is right" if default_hint
            else "add the rate to the header's first line"
        )
        raise ValueError(
            f"{hea} is not a valid WFDB header: the record line {lines[0]!r} has no sampling-rate field; "
            f"the WFDB format then assumes {WFDB_DEFAULT_SFREQ:g} Hz, which ecgsk does not "
            f"guess: {fix}"
        )
    else:
        sfreq, given = float(default_sfreq), False
    sig_len = None
    if len(tokens) >= 4:
        if not re.fullmatch(r"\d+", tokens[3]):
            raise ValueError(
                f"{hea} is not a valid WFDB header: number-of-samples field {tokens[3]!r} is not a "
                "non-negative integer"
            )
        sig_len = int(tokens[3])
        if sig_len > _INT_MAX:
            raise ValueError(
                f"{hea} is not a valid WFDB header: number of samples {tokens[3]} is out of range"
            )
    if len(lines) - 1 < n_sig:
        raise ValueError(
            f"{hea} is not a valid WFDB header: its record line declares {n_sig} signal(s) but "
            f"it describes {len(lines) - 1} (a truncated header?)"
        )
    for i, line in enumerate(lines[1 : 1 + n_sig]):
        _check_signal_line(line, i, hea)
    return HeaderFields(sfreq, given, n_sig, sig_len)


def check_default_sfreq(default_sfreq):
    """Validate the ``default_sfreq`` option (None, or a rate in :data:`SFREQ_RANGE`)."""
    if default_sfreq is None:
        return None
    from .._validation import check_sfreq

    value = check_sfreq(default_sfreq, "default_sfreq")
    low, high = SFREQ_RANGE
    if not low <= value <= high:
        raise ValueError(f"default_sfreq must lie between {low:g} and {high:g} Hz, got {value:g}")
    return value


def apply_header_fields(header, fields: HeaderFields, hea: Path) -> None:
    """Check the ``wfdb`` package's parse against ``fields``; set the rate it defaulted."""
    if not fields.sfreq_given:
        header.fs = fields.sfreq
    elif not math.isclose(float(header.fs or 0), fields.sfreq, rel_tol=1e-12):
        raise ValueError(
            f"{hea} is not a valid WFDB header: the wfdb package read the sampling rate as {header.fs!r} "
            f"but the header says {fields.sfreq:g} Hz"
        )
    if fields.sig_len is not None and header.sig_len != fields.sig_len:
        raise ValueError(
            f"{hea} is not a valid WFDB header: the wfdb package read {header.sig_len!r} samples but the "
            f"header says {fields.sig_len}"
        )
