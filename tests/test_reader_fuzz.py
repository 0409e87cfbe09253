"""Fuzzing the readers with damaged real files (issue 13).

Real records (PTB-XL WFDB format 16, the same signal in MIT-BIH's format 212,
a CinC 2021 ``.mat`` record, a GE MUSE XML export and an ecgsk-written MUSE
file with CRC32s) are damaged at random: truncated, bytes overwritten, a
header field or an XML element replaced by junk. Every outcome must be either
a correct read (one record, float32, no infinities, a plausible positive
rate, the file's lead count) or a ``ValueError``/``TypeError`` whose message
names the file. Seeded, so a failure reproduces; ``fuzz_outcomes`` tallies
how each case ended (``python tests/test_reader_fuzz.py`` prints it).
"""

from __future__ import annotations

import math
import re
import shutil
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).resolve().parent / "data"
N_CASES = 40  # per source and kind of damage: 600 damaged files, 1,800 reads, ~10 s

JUNK = [
    "", "abc", "-1", "0", "-0", "nan", "NaN", "inf", "-inf", "1e309", "5e9", "1e-9", "0x1F",
    "99999999999999999999", "1.5", "-32768", "((", ")", "/", "//", "1/0", "(0)", "+", "e",
    "\u0663", "\u00e9t\u00e9", "16x", "x16", "212:3", "1000.0(0)/", "1000(abc)/mV", "/mV",
    "1000.0(0)/furlongs", "12 12", "#", "\t", "-", "NULL", "None", "true", "[]", "{}", "%s",
]
XML_ELEMENTS = [
    "SampleBase", "SampleExponent", "LeadSampleCountTotal", "LeadAmplitudeUnitsPerBit",
    "LeadAmplitudeUnits", "LeadID", "WaveFormData", "LeadSampleSize", "LeadDataCRC32",
    "PatientAge", "AgeUnits", "Gender", "WaveformType", "LeadByteCountTotal",
]


# ----------------------------------------------------------------------------- sources


def _sources(folder: Path) -> dict[str, tuple[str, list[Path], Path, int]]:
    """name -> (kind, files to damage, path to read, expected lead count)."""
    import wfdb

    from ecgsk.io import read_wfdb, write_muse_xml

    out = {}
    for name, sub, stem, data in (("ptbxl16", "ptbxl", "00001_lr", ".dat"),
                                  ("cinc_mat", "cinc2021", "E07500", ".mat")):
        dest = folder / name
        dest.mkdir(parents=True)
        for ext in (".hea", data):
            shutil.copyfile(DATA / sub / f"{stem}{ext}", dest / f"{stem}{ext}")
        out[name] = ("wfdb", [dest / f"{stem}.hea", dest / f"{stem}{data}"], dest / stem, 12)
    # the PTB-XL signal stored as MIT-BIH does it: format 212 (12-bit samples, 2 in 3 bytes)
    rec = read_wfdb(DATA / "ptbxl" / "00001_lr")
    dest = folder / "mit212"
    dest.mkdir(parents=True)
    wfdb.wrsamp("r212", fs=rec.sfreq, units=["mV"] * 12, sig_name=list(rec.leads),
                p_signal=rec.signals[0].T.astype(np.float64), fmt=["212"] * 12,
                adc_gain=[200.0] * 12, baseline=[0] * 12, write_dir=str(dest))
    out["mit212"] = ("wfdb", [dest / "r212.hea", dest / "r212.dat"], dest / "r212", 12)
    dest = folder / "muse_ge"
    dest.mkdir(parents=True)
    shutil.copyfile(DATA / "muse" / "muse_ecg_deidentified_1.xml", dest / "ge.xml")
    out["muse_ge"] = ("xml", [dest / "ge.xml"], dest / "ge.xml", 12)
    dest = folder / "muse_crc"
    dest.mkdir(parents=True)
    write_muse_xml(dest / "crc.xml", rec.signals[0], rec.sfreq, rec.leads, store_derived=False)
    out["muse_crc"] = ("xml", [dest / "crc.xml"], dest / "crc.xml", 12)
    return out


# ----------------------------------------------------------------------------- damage


def _truncate(data: bytes, rng) -> bytes:
    return data[: int(rng.integers(0, len(data)))]


def _flip(data: bytes, rng) -> bytes:
    out = bytearray(data)
    for pos in rng.integers(0, len(out), size=int(rng.integers(1, 12))):
        out[pos] = int(rng.integers(0, 256))
    return bytes(out)


def _junk(rng) -> str:
    return JUNK[int(rng.integers(len(JUNK)))]


def _junk_header_field(text: str, rng) -> str:
    """Replace one whitespace-separated field of the record line or a signal line."""
    lines = text.split("\n")
    body = [i for i, line in enumerate(lines) if line.strip() and not line.startswith("#")]
    i = body[0] if rng.random() < 0.5 else body[int(rng.integers(len(body)))]
    tokens = lines[i].split(" ")
    tokens[int(rng.integers(len(tokens)))] = _junk(rng)
    lines[i] = " ".join(tokens)
    return "\n".join(lines)


def _junk_xml_element(text: str, rng) -> str:
    tag = XML_ELEMENTS[int(rng.integers(len(XML_ELEMENTS)))]
    matches = list(re.finditer(rf"<{tag}>([^<]*)</{tag}>", text))
    if not matches:
        return text
    m = matches[int(rng.integers(len(matches)))]
    junk = _junk(rng).replace("&", "&amp;").replace("<", "&lt;")
    return text[: m.start(1)] + junk + text[m.end(1):]


def _damage(kind: str, files: list[Path], damage: str, rng) -> str:
    """Damage one of ``files`` in place; return a description of what was done."""
    if damage == "field":
        path = files[0]
        text = path.read_text(encoding="latin-1")
        new = _junk_header_field(text, rng) if kind == "wfdb" else _junk_xml_element(text, rng)
        # the file's bytes kept as they were; junk beyond latin-1 written as its UTF-8 bytes
        path.write_bytes("".join(
            c if ord(c) < 256 else c.encode("utf-8").decode("latin-1") for c in new
        ).encode("latin-1"))
        return f"{path.name}: field replaced"
    path = files[int(rng.integers(len(files)))]
    data = path.read_bytes()
    path.write_bytes(_truncate(data, rng) if damage == "truncate" else _flip(data, rng))
    return f"{path.name}: {damage}"


# ----------------------------------------------------------------------------- checks


def _readers(kind: str):
    from ecgsk.io import read_muse_xml, read_records, read_wfdb
    from ecgsk.io._items import scan_header

    def scan(path):
        return scan_header(path if kind == "xml" else path.with_suffix(".hea"))

    direct = read_wfdb if kind == "wfdb" else read_muse_xml
    return {"direct": direct, "read_records": read_records, "scan_header": scan}


def _check_read(result, reader: str, kind: str, n_leads: int) -> str | None:
    """Why a successful read is not a correct one, or None."""
    from ecgsk.io._common import SFREQ_RANGE

    low, high = SFREQ_RANGE
    if reader == "scan_header":
        if not (math.isfinite(result.sfreq) and low <= result.sfreq <= high):
            return f"rate {result.sfreq!r}"
        if result.n_times < 1 or len(result.leads) != n_leads:
            return f"n_times {result.n_times}, {len(result.leads)} leads"
        return None
    X = result.signals
    if X.dtype != np.float32 or X.ndim != 3 or X.shape[0] != 1 or X.shape[2] < 1:
        return f"signals {X.dtype} {X.shape}"
    if X.shape[1] != n_leads or len(result.leads) != n_leads:
        return f"{X.shape[1]} leads"
    if np.isinf(X).any():
        return "infinite samples"
    if kind == "xml" and np.isnan(X).any():
        return "NaN samples (MUSE has no missing-sample code)"
    if not (isinstance(result.sfreq, float) and low <= result.sfreq <= high):
        return f"rate {result.sfreq!r}"
    return None


def _how_read(result, pristine: np.ndarray, caught) -> str:
    """Classify a correct read: the pristine samples, or others (with or without a warning)."""
    if not hasattr(result, "signals"):
        return "correct read (header scan)"
    same = result.signals.shape == pristine.shape and np.allclose(
        result.signals, pristine, equal_nan=True, atol=1e-6)
    if same:
        return "correct read, pristine samples"
    if any("implausible amplitude" in str(w.message) for w in caught):
        return "read, other samples, amplitude warning"
    if caught:
        return "read, other samples, another warning (e.g. Median beat read)"
    return "read, other samples (damage the format cannot detect)"


def fuzz_outcomes(folder: Path, n_cases: int = N_CASES, seed: int = 0):
    """Run every case; return (tally Counter, list of bad outcomes)."""
    tally: Counter = Counter()
    bad: list[str] = []
    sources = _sources(folder / "pristine")
    expected = {name: _readers(kind)["direct"](target).signals
                for name, (kind, _, target, _) in sources.items()}
    for s_index, (name, (kind, files, target, n_leads)) in enumerate(sources.items()):
        pristine = {f: f.read_bytes() for f in files}
        for d_index, damage in enumerate(("truncate", "flip", "field")):
            rng = np.random.default_rng([seed, s_index, d_index])
            for case in range(n_cases):
                for f, data in pristine.items():
                    f.write_bytes(data)
                what = _damage(kind, files, damage, rng)
                for reader, read in _readers(kind).items():
                    label = f"{name}/{damage}/{case}/{reader} ({what})"
                    try:
                        with warnings.catch_warnings(record=True) as caught:
                            warnings.simplefilter("always")
                            result = read(target)
                    except (ValueError, TypeError) as exc:
                        if target.stem not in str(exc):
                            bad.append(f"{label}: {type(exc).__name__} without the file: {exc}")
                            tally[(name, damage, "raise, file not named")] += 1
                        else:
                            tally[(name, damage, f"raise {type(exc).__name__}")] += 1
                        continue
                    except Exception as exc:  # noqa: BLE001 - what the test is looking for
                        bad.append(f"{label}: {type(exc).__name__}: {exc}")
                        tally[(name, damage, f"other {type(exc).__name__}")] += 1
                        continue
                    problem = _check_read(result, reader, kind, n_leads)
                    if problem:
                        bad.append(f"{label}: read but wrong: {problem}")
                        tally[(name, damage, "wrong read")] += 1
                    else:
                        tally[(name, damage, _how_read(result, expected[name], caught))] += 1
        for f, data in pristine.items():
            f.write_bytes(data)
    return tally, bad


def test_damaged_files_read_correctly_or_raise_naming_the_file(tmp_path):
    tally, bad = fuzz_outcomes(tmp_path)
    assert sum(tally.values()) == 5 * 3 * N_CASES * 3
    assert not bad, f"{len(bad)} bad outcome(s):\n" + "\n".join(bad[:25])
    kinds = {k[2] for k in tally}
    assert "correct read, pristine samples" in kinds and "raise ValueError" in kinds


@pytest.mark.parametrize("name", ["00001_lr", "E07500"])
def test_pristine_fixtures_read(name):
    from ecgsk.io import read_wfdb

    sub = "ptbxl" if name == "00001_lr" else "cinc2021"
    rec = read_wfdb(DATA / sub / name)
    assert rec.signals.shape[:2] == (1, 12) and np.isfinite(rec.signals).all()


if __name__ == "__main__":  # print the tally: python tests/test_reader_fuzz.py
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        counts, problems = fuzz_outcomes(Path(tmp), n_cases=int(sys.argv[1]) if sys.argv[1:] else N_CASES)
    for key in sorted(counts):
        print(*key, counts[key], sep="\t")
    print("total", sum(counts.values()), "bad", len(problems))
    seen = Counter(re.sub(r"/\d+/", "/N/", re.sub(r"\d+", "#", p.split(": ", 1)[1]))
                   for p in problems)
    print("\n".join(f"{n}x {p}" for p, n in seen.most_common()))
    print("\n".join(problems[:20]))
