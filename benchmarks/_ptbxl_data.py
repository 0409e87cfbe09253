"""Loading the PTB-XL benchmark data: 9,800 records at 100 Hz joined with their labels.

Waveforms come from ``../shared/data/ptbxl_records100/ptbxl100.npz`` (int16 ADC counts, 1000
per mV, leads I..V6, ``strat_fold`` inside); labels are joined on ``ecg_id`` from
``../shared/data/ptbxl_labels_all/``:

- ``"super"``: the 5 diagnostic superclasses (NORM, MI, STTC, CD, HYP) of
  ``superclass_ptbxl_*.csv``. As in Strodthoff et al. (2021), records without any superclass
  are left out of every split.
- ``"all"``: the 71 SCP statements of ``hubert_ptbxl_all_*.csv`` (``HR%05d`` = ecg_id). That
  table is CC BY-NC: it is read here for evaluation only and never copied into the repository.

The 12 ids that PTB-XL v1.0.3 removed as duplicates have no labels and drop out in the join.
Folds follow the benchmark protocol: strat_fold 1-8 train, 9 validation, 10 test. Every fold
here is a random 45% of the official one, hence "fold-10 subset".
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

SUPERCLASSES = ("NORM", "MI", "STTC", "CD", "HYP")
TASKS = ("super", "all")
TRAIN_FOLDS = (1, 2, 3, 4, 5, 6, 7, 8)
VALID_FOLD = 9
TEST_FOLD = 10
SFREQ = 100.0


def default_data_dir() -> Path:
    """``shared/data`` next to the repository (``<repo>/../shared/data``)."""
    return Path(__file__).resolve().parents[2] / "shared" / "data"


@dataclass
class PTBXLSplit:
    """Signals (mV, float32, ``(n, 12, 1000)``), multi-hot targets and ids of one split."""

    X: np.ndarray
    y: pd.DataFrame
    ecg_id: np.ndarray


@dataclass
class PTBXLTask:
    """The three splits of one task and the names of its labels."""

    task: str
    labels: list[str]
    train: PTBXLSplit
    valid: PTBXLSplit
    test: PTBXLSplit
    dropped_labels: list[str]


def load_waveforms(data_dir: Path | None = None):
    """``(ecg_id, X_mv, strat_fold)`` of the 9,800 records (X float32 in mV, ``(n, 12, 1000)``)."""
    data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
    path = data_dir / "ptbxl_records100" / "ptbxl100.npz"
    if not path.exists():
        raise FileNotFoundError(
            f"{path} not found: the PTB-XL benchmark needs the shared data folder "
            "(pass --data-dir)"
        )
    with np.load(path) as z:
        leads = [str(v).upper() for v in z["lead_names"]]
        expected = ["I", "II", "III", "AVR", "AVL", "AVF", "V1", "V2", "V3", "V4", "V5", "V6"]
        if leads != expected:
            raise ValueError(f"unexpected lead order in {path}: {leads}")
        gain = float(z["adc_gain"])
        X = z["signal"].astype(np.float32)
        X /= np.float32(gain)
        return z["ecg_id"].astype(np.int64), X, z["strat_fold"].astype(np.int64)


def load_labels(task: str, data_dir: Path | None = None) -> pd.DataFrame:
    """Multi-hot label table of all 21,799 PTB-XL records, indexed by ecg_id."""
    data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
    folder = data_dir / "ptbxl_labels_all"
    parts = ("train", "val", "test")
    if task == "super":
        frames = [pd.read_csv(folder / f"superclass_ptbxl_{p}.csv") for p in parts]
        table = pd.concat(frames, ignore_index=True).set_index("ecg_id")
        return table[list(SUPERCLASSES)].astype(np.int8)
    if task == "all":
        frames = [pd.read_csv(folder / f"hubert_ptbxl_all_{p}.csv") for p in parts]
        table = pd.concat(frames, ignore_index=True)
        ids = table.pop("filename").str.extract(r"HR(\d+)", expand=False).astype(np.int64)
        table.index = pd.Index(ids, name="ecg_id")
        return table.drop(columns=["age", "sex", "strat_fold"]).astype(np.int8)
    raise ValueError(f"task must be one of {TASKS}, got {task!r}")


def load_task(task: str, data_dir: Path | None = None, waveforms=None) -> PTBXLTask:
    """Join waveforms and labels and cut the benchmark folds.

    Labels with no positive record in the training folds are dropped (a classifier cannot
    learn them and the estimators refuse single-class labels); they are listed in
    ``dropped_labels``.
    """
    ecg_id, X, fold = waveforms if waveforms is not None else load_waveforms(data_dir)
    labels = load_labels(task, data_dir)
    keep = np.isin(ecg_id, labels.index.to_numpy())
    y_all = labels.loc[ecg_id[keep]]
    ids, Xk, fk = ecg_id[keep], X[keep], fold[keep]
    if task == "super":
        has_label = y_all.to_numpy().sum(axis=1) > 0
        y_all, ids, Xk, fk = y_all[has_label], ids[has_label], Xk[has_label], fk[has_label]

    def split(mask):
        return PTBXLSplit(Xk[mask], y_all[mask].reset_index(drop=True), ids[mask])

    train = split(np.isin(fk, TRAIN_FOLDS))
    valid = split(fk == VALID_FOLD)
    test = split(fk == TEST_FOLD)
    positives = train.y.sum(axis=0)
    dropped = [c for c in train.y.columns if positives[c] == 0 or positives[c] == len(train.y)]
    kept = [c for c in train.y.columns if c not in dropped]
    for part in (train, valid, test):
        part.y = part.y[kept]
    return PTBXLTask(task, kept, train, valid, test, dropped)
