"""Rebuild the bundled PTB-XL sample (maintainers only).

Usage::

    python -m ecgsk.datasets._build_sample /path/to/ptb-xl [--n 200]

``/path/to/ptb-xl`` is a PTB-XL folder in the official layout (or the
``ptbxl_subset`` test folder). The script writes, into
``ecgsk/datasets/data/``:

- ``ptbxl_sample_500hz.npy.xz``: the int16 ADC counts (gain 1000/mV, baseline
  0) of ecg_id 1..n at 500 Hz, shape ``(n, 12, 5000)``, delta-encoded along
  time (first sample as is, then successive differences, wrapping in int16 so
  that ``np.cumsum(..., dtype=np.int16)`` restores them exactly), saved as a
  ``.npy`` and compressed with ``lzma`` (xz);
- ``ptbxl_sample.csv``: those rows of ``ptbxl_database.csv`` (without the
  file-name columns);
- ``ptbxl_scp_statements.csv``: a copy of ``scp_statements.csv``;
- ``ptbxl_sample.json``: shape, lead names, gain and a SHA-256 of the counts.

It checks that decoding gives back the records bit for bit. ``ATTRIBUTION.md``
is maintained by hand.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import lzma
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

DATA_DIR = Path(__file__).resolve().parent / "data"
SIGNALS_FILE = "ptbxl_sample_500hz.npy.xz"
TABLE_FILE = "ptbxl_sample.csv"
STATEMENTS_FILE = "ptbxl_scp_statements.csv"
INFO_FILE = "ptbxl_sample.json"
GAIN = 1000.0


def delta_encode(counts: np.ndarray) -> np.ndarray:
    """First sample as is, then differences along the last axis (int16, wrapping)."""
    counts = np.asarray(counts, dtype=np.int16)
    out = counts.copy()
    out[..., 1:] = np.diff(counts, axis=-1)  # int16 arithmetic wraps, cumsum undoes it exactly
    return out


def delta_decode(deltas: np.ndarray) -> np.ndarray:
    """Inverse of :func:`delta_encode`."""
    return np.cumsum(deltas, axis=-1, dtype=np.int16)


def read_counts(root: Path, filenames) -> tuple[np.ndarray, tuple[str, ...]]:
    """Read the int16 counts of PTB-XL records, checking gain, baseline and leads."""
    import wfdb

    from ..leads import canonical_lead_names

    arrays, leads = [], None
    for name in filenames:
        rec = wfdb.rdrecord(str(root / name), physical=False)
        if set(rec.adc_gain) != {GAIN} or set(rec.baseline) != {0} or rec.fs != 500:
            raise ValueError(f"{name}: expected 500 Hz, gain {GAIN:g}/mV and baseline 0")
        names = canonical_lead_names(rec.sig_name)
        if leads is None:
            leads = names
        elif names != leads:
            raise ValueError(f"{name}: leads {names} differ from {leads}")
        arrays.append(np.asarray(rec.d_signal.T, dtype=np.int16))
    return np.stack(arrays), leads


def build(root, n: int = 200, out_dir: Path = DATA_DIR) -> dict:
    """Write the sample files for ecg_id 1..n of ``root``; return the info dict."""
    root = Path(root)
    table = pd.read_csv(root / "ptbxl_database.csv", index_col="ecg_id")
    ids = list(range(1, n + 1))
    missing = sorted(set(ids) - set(table.index))
    if missing:
        raise ValueError(f"{root}: ecg_ids {missing[:10]} are not in ptbxl_database.csv")
    table = table.loc[ids]
    counts, leads = read_counts(root, table["filename_hr"])

    buffer = io.BytesIO()
    np.save(buffer, delta_encode(counts), allow_pickle=False)
    packed = lzma.compress(buffer.getvalue(), preset=9 | lzma.PRESET_EXTREME)
    restored = delta_decode(np.load(io.BytesIO(lzma.decompress(packed))))
    if not np.array_equal(restored, counts):
        raise RuntimeError("delta decoding did not restore the counts exactly")

    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / SIGNALS_FILE).write_bytes(packed)
    table.drop(columns=["filename_lr", "filename_hr"]).to_csv(out_dir / TABLE_FILE)
    shutil.copyfile(root / "scp_statements.csv", out_dir / STATEMENTS_FILE)
    info = {
        "source": "PTB-XL v1.0.1, records500 (CC BY 4.0)",
        "ecg_ids": [ids[0], ids[-1]],
        "shape": list(counts.shape),
        "sfreq": 500.0,
        "leads": list(leads),
        "adc_gain_per_mv": GAIN,
        "baseline": 0,
        "encoding": "int16 delta along time (np.cumsum(dtype=int16) decodes), .npy, xz",
        "sha256_counts": hashlib.sha256(counts.tobytes()).hexdigest(),
    }
    (out_dir / INFO_FILE).write_text(json.dumps(info, indent=2) + "\n")
    return info


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("root", help="PTB-XL folder (official layout)")
    parser.add_argument("--n", type=int, default=200, help="number of records, ecg_id 1..n")
    parser.add_argument("--out", type=Path, default=DATA_DIR, help="output folder")
    args = parser.parse_args(argv)
    info = build(args.root, args.n, args.out)
    size = (args.out / SIGNALS_FILE).stat().st_size
    print(f"wrote {args.out / SIGNALS_FILE} ({size / 1e6:.2f} MB), shape {info['shape']}")


if __name__ == "__main__":
    main()
