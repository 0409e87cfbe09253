"""Pieces shared by the readers: one record in memory, unit handling, stacking."""

from __future__ import annotations

import math
import os
import struct
import warnings
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .._validation import check_sfreq
from ..preprocessing._amplitude import MAX_PLAUSIBLE_PTP, MIN_PLAUSIBLE_PTP, lead_amplitudes
from ._records import ECGRecords

SFREQ_RANGE = (20.0, 100_000.0)
"""Sampling rates (Hz) a file may state: a rate outside is refused as a corrupt field.

Below 20 Hz a QRS complex cannot be represented; above 100 kHz no ECG device
samples. A header saying ``5e9`` or ``1`` is a damaged field, not an ECG.
"""

AMPLITUDE_RANGE_MV = (MIN_PLAUSIBLE_PTP, MAX_PLAUSIBLE_PTP)
"""Plausible peak-to-peak amplitudes (mV) for the read-time amplitude check.

A record is flagged when the median over its leads of the per-lead
peak-to-peak amplitude exceeds 50 mV (a real ECG stays within a few mV, and
a pacing spike or a lead-off artefact in one lead does not move the median):
a wrong ADC gain, or microvolts stored as millivolts. It is also flagged when
its largest per-lead peak-to-peak amplitude is below 0.01 mV (10 uV): a flat
line, or millivolts stored as microvolts. NaN samples are ignored.
"""

# Factor that turns a value in the given unit into millivolts (keys lower case).
_TO_MV: dict[str, float] = {
    "mv": 1.0,
    "millivolts": 1.0,
    "millivolt": 1.0,
    "uv": 1e-3,
    "µv": 1e-3,
    "μv": 1e-3,
    "microvolts": 1e-3,
    "microvolt": 1e-3,
    "nv": 1e-6,
    "nanovolts": 1e-6,
    "v": 1e3,
    "volts": 1e3,
    "volt": 1e3,
}


def unit_to_mv(unit: str | None, source: str) -> float:
    """Return the factor turning ``unit`` into mV, or raise naming ``source``."""
    key = "mv" if unit is None or not str(unit).strip() else str(unit).strip().lower()
    if key not in _TO_MV:
        raise ValueError(
            f"{source}: amplitude unit {unit!r} is not a voltage unit ecgsk knows "
            f"(expected one of mV, uV, V and their spellings)"
        )
    return _TO_MV[key]


def adc_to_mv(digital: np.ndarray, gain, baseline, to_mv=1.0, invalid=None) -> np.ndarray:
    """Convert ADC counts ``(n_leads, n_times)`` to float32 millivolts.

    ``(d - baseline) / gain * to_mv`` per lead, computed in float64 so that the
    float32 result is the correctly rounded physical value; samples equal to
    ``invalid`` (the format's "no data" code; one value, or one per lead with
    None for "none") become NaN.
    """
    d = np.asarray(digital)
    gain = np.asarray(gain, dtype=np.float64).reshape(-1, 1)
    baseline = np.asarray(baseline, dtype=np.float64).reshape(-1, 1)
    to_mv = np.asarray(to_mv, dtype=np.float64).reshape(-1, 1)
    out = d.astype(np.float64)
    out -= baseline
    out /= gain
    out *= to_mv
    if invalid is not None:
        if np.isscalar(invalid):
            out[d == invalid] = np.nan
        else:
            for lead, code in enumerate(invalid):
                if code is not None:
                    out[lead, d[lead] == code] = np.nan
    return out.astype(np.float32)


def normalise_sex(value) -> str | float:
    """Map the sex spellings found in ECG files onto ``"male"``, ``"female"`` or NaN."""
    if value is None:
        return math.nan
    text = str(value).strip().lower()
    if text in {"m", "male", "man"}:
        return "male"
    if text in {"f", "female", "woman"}:
        return "female"
    return math.nan


def parse_age(value) -> float:
    """Return an age in years as float, NaN when absent or not a number."""
    if value is None:
        return math.nan
    try:
        age = float(str(value).strip())
    except ValueError:
        return math.nan
    return age if math.isfinite(age) and age >= 0 else math.nan


def amplitude_problem(signal: np.ndarray) -> str | None:
    """Why the amplitude of one record ``(n_leads, n_times)`` in mV is implausible, or None.

    See :data:`AMPLITUDE_RANGE_MV` for the rule.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.linspace(0, 1, 500)
    >>> amplitude_problem(np.sin(2 * np.pi * t)[None].repeat(12, 0)) is None
    True
    >>> print(amplitude_problem(787 * np.sin(2 * np.pi * t)[None].repeat(12, 0)))  # doctest: +ELLIPSIS
    median peak-to-peak amplitude over leads is 1574 mV (above 50 mV: a wrong gain, ...)
    """
    sig = np.asarray(signal)
    if sig.ndim != 2 or sig.shape[1] == 0 or not np.isfinite(sig).any():
        return None
    low, high = AMPLITUDE_RANGE_MV
    typical, widest = lead_amplitudes(sig[None])  # the rule of ecgsk.preprocessing's check
    median, largest = float(typical[0]), float(widest[0])
    if median > high:
        return (
            f"median peak-to-peak amplitude over leads is {median:.4g} mV (above {high:g} mV: "
            "a wrong gain, or microvolts stored as millivolts?)"
        )
    if largest < low:
        return (
            f"largest peak-to-peak amplitude over leads is {largest:.3g} mV (below {low:g} mV: "
            "a flat line, or millivolts stored as microvolts?)"
        )
    return None


def warn_implausible_amplitude(records: Sequence, stacklevel: int = 3) -> list[str]:
    """Warn once, naming the records whose amplitude is implausible; return their sources."""
    flagged, sources = [], []
    for rec in records:
        problem = amplitude_problem(rec.signal)
        if problem is not None:
            flagged.append(f"{rec.source}: {problem}")
            sources.append(rec.source)
    warn_amplitude_list(flagged, len(records), stacklevel)
    return sources


def warn_amplitude_list(flagged: list[str], n_records: int, stacklevel: int) -> None:
    """One warning listing ``"source: problem"`` lines (the first ten, then a count)."""
    if not flagged:
        return
    shown = "\n  ".join(flagged[:10])
    more = f"\n  ... and {len(flagged) - 10} more" if len(flagged) > 10 else ""
    warnings.warn(
        f"{len(flagged)} of {n_records} record(s) have an implausible amplitude for an "
        f"ECG in millivolts:\n  {shown}{more}\n(pass check_amplitude=False to skip this check)",
        UserWarning,
        stacklevel=stacklevel + 1,
    )


@contextmanager
def naming_errors(source) -> Iterator[None]:
    """Turn any error reading ``source`` into a ``ValueError`` that names it.

    A damaged file can make a parsing library fail with ``IndexError``,
    ``struct.error``, ``OverflowError``, ``zlib.error``, ``UnicodeDecodeError``
    and the like, whose messages do not say which file; a ``ValueError`` that
    already names the file passes through unchanged. ``OSError`` (a missing
    or unreadable file) is left as it is.
    """
    try:
        yield
    except ValueError as exc:
        if str(source) in str(exc):
            raise
        raise ValueError(f"{source}: {exc}") from exc
    except (ArithmeticError, LookupError, TypeError, EOFError, struct.error, zlib.error) as exc:
        raise ValueError(
            f"{source} could not be read: the file is damaged or not in the expected format "
            f"({type(exc).__name__}: {exc})"
        ) from exc


@dataclass
class RawRecord:
    """One record as read from disk, before it is stacked with others."""

    signal: np.ndarray  # (n_leads, n_times) float32 mV
    sfreq: float
    leads: tuple[str, ...]
    meta: dict = field(default_factory=dict)
    source: str = ""


def as_path_list(paths, what: str) -> list[Path]:
    """Accept one path or an iterable of paths; reject empty input."""
    if isinstance(paths, (str, os.PathLike)):
        items = [paths]
    elif isinstance(paths, Iterable):
        items = list(paths)
    else:
        raise TypeError(f"{what} must be a path or a list of paths, got {type(paths).__name__}")
    if not items:
        raise ValueError(f"no {what} given: the list is empty")
    out = []
    for item in items:
        if not isinstance(item, (str, os.PathLike)):
            raise TypeError(f"{what} must be str or os.PathLike, got {type(item).__name__}: {item!r}")
        out.append(Path(item))
    return out


def check_errors_option(errors: str) -> str:
    if errors not in ("raise", "skip"):
        raise ValueError(f"errors must be 'raise' or 'skip', got {errors!r}")
    return errors


def read_all(
    items: Sequence, read_one: Callable[[object], RawRecord], errors: str
) -> list[RawRecord]:
    """Read every item; with ``errors="skip"`` drop unreadable ones with one warning."""
    records: list[RawRecord] = []
    failures: list[str] = []
    for item in items:
        if errors == "raise":
            records.append(read_one(item))
            continue
        try:
            records.append(read_one(item))
        except (ValueError, OSError) as exc:
            failures.append(f"{item}: {exc}")
    if failures:
        shown = "\n  ".join(failures[:20])
        more = f"\n  ... and {len(failures) - 20} more" if len(failures) > 20 else ""
        warnings.warn(
            f"skipped {len(failures)} of {len(items)} unreadable file(s):\n  {shown}{more}",
            UserWarning,
            stacklevel=3,
        )
    if not records:
        raise ValueError(f"none of the {len(items)} file(s) could be read; first error: {failures[0]}")
    return records


def _align_leads(records: list[RawRecord]) -> tuple[str, ...]:
    """Put every record in the lead order of the first; different lead sets are an error."""
    leads = records[0].leads
    for rec in records[1:]:
        if rec.leads == leads:
            continue
        if set(rec.leads) != set(leads):
            raise ValueError(
                f"records have different leads and cannot be stacked: {records[0].source} has "
                f"{list(leads)}, {rec.source} has {list(rec.leads)}. Read them separately."
            )
        order = [rec.leads.index(name) for name in leads]
        rec.signal = rec.signal[order]
        rec.leads = leads
    return leads


def _describe(records: list[RawRecord], key: Callable[[RawRecord], object], label: str) -> str:
    groups: dict[object, list[str]] = {}
    for rec in records:
        groups.setdefault(key(rec), []).append(rec.source)
    parts = []
    for value, sources in groups.items():
        example = ", ".join(sources[:2]) + (f" and {len(sources) - 2} more" if len(sources) > 2 else "")
        parts.append(f"{label} {value:g}: {len(sources)} record(s) ({example})")
    return "; ".join(parts)


def stack_records(records: list[RawRecord], sfreq=None, n_times=None) -> ECGRecords:
    """Stack records into one ``(n, n_leads, n_times)`` array.

    Different sampling rates or lengths raise unless ``sfreq``/``n_times`` ask
    for resampling (:class:`ecgsk.preprocessing.Resample`) and cropping or
    padding (:class:`ecgsk.preprocessing.CropOrPad`).
    """
    if sfreq is not None:
        sfreq = check_sfreq(sfreq)
    if n_times is not None:
        if isinstance(n_times, bool) or not isinstance(n_times, (int, np.integer)) or n_times < 1:
            raise ValueError(f"n_times must be a positive integer number of samples, got {n_times!r}")
        n_times = int(n_times)
    leads = _align_leads(records)

    rates = {rec.sfreq for rec in records}
    if sfreq is None and len(rates) > 1:
        raise ValueError(
            "records have different sampling rates: "
            + _describe(records, lambda r: r.sfreq, "sfreq")
            + ". Pass sfreq= to resample them all to one rate."
        )
    target_sfreq = float(sfreq) if sfreq is not None else records[0].sfreq

    # Resample per (rate, length) group: one vectorised call per group.
    groups: dict[tuple[float, int], list[int]] = {}
    for i, rec in enumerate(records):
        if rec.sfreq != target_sfreq:
            groups.setdefault((rec.sfreq, rec.signal.shape[1]), []).append(i)
    if groups:
        from ..preprocessing import Resample

        for (rate, _), members in groups.items():
            batch = np.stack([records[i].signal for i in members])
            out = Resample(rate, target_sfreq).fit_transform(batch)
            for i, sig in zip(members, out, strict=True):
                records[i].signal = np.asarray(sig, dtype=np.float32)
                records[i].sfreq = target_sfreq

    lengths = {rec.signal.shape[1] for rec in records}
    if n_times is None and len(lengths) > 1:
        raise ValueError(
            "records have different lengths: "
            + _describe(records, lambda r: r.signal.shape[1], "n_times")
            + ". Pass n_times= to crop or pad them all to one length."
        )
    if n_times is not None and lengths != {n_times}:
        from ..preprocessing import CropOrPad

        by_length: dict[int, list[int]] = {}
        for i, rec in enumerate(records):
            by_length.setdefault(rec.signal.shape[1], []).append(i)
        for length, members in by_length.items():
            if length == n_times:
                continue
            batch = np.stack([records[i].signal for i in members])
            out = CropOrPad(n_times).fit_transform(batch)
            for i, sig in zip(members, out, strict=True):
                records[i].signal = np.asarray(sig, dtype=np.float32)

    # Copy into one array and release each record as we go: np.empty commits pages only
    # when written, so the peak stays near one copy of the data (matters for full PTB-XL).
    first = records[0].signal
    signals = np.empty((len(records), *first.shape), dtype=np.float32)
    for i, rec in enumerate(records):
        signals[i] = rec.signal
        rec.signal = None
    meta = pd.DataFrame([rec.meta for rec in records])
    meta.index = pd.RangeIndex(len(meta))
    return ECGRecords(signals, float(target_sfreq), tuple(leads), meta)
