"""Benchmark: the README pipeline with its defaults against a hand-written CNN, same budget.

Each cell trains, in the same run and for the same wall-clock budget, on the same real PTB-XL
training records (100 Hz, folds 1-8 of ``../shared/data/ptbxl_records100``):

- **ecgsk defaults**: exactly what the README shows a user writing::

      make_pipeline(make_deepecg_preprocessing(100), ECGClassifier(max_time=budget))

  (``ECGRegressor`` for the regression cell); nothing else is set.
- **plain CNN**: the 4-layer CNN of ``benchmarks/ptbxl.py`` and the loop a user would write in
  an afternoon (raw 100 Hz signals in mV, Adam 1e-3, BCE or MSE on the standardised target,
  evaluation every epoch, best epoch kept). It holds out the same share of its training
  records (10%) for choosing the epoch as the estimator does by default, and stops when the
  next epoch would overrun the budget.

Scores are on the fold-10 subset (980 records; superdiagnostic keeps the ones with a
superclass): macro AUROC with a 95% bootstrap interval for classification, MAE (years) for the
regression of age (from the PTB-XL metadata). One row per cell with both scores and their
difference (positive: ecgsk better).

Cells (about an hour in all on 2 cores; ``--quick`` runs only the first)::

    super-300-60      superdiagnostic, 300 training records, 60 s
    super-2000-240    superdiagnostic, 2,000 records, 240 s
    super-7831-600    superdiagnostic, all 7,831 records, 600 s
    all-7831-600      all statements (71 SCP codes), 7,831 records, 600 s
    age-2000-240      regression of age, 2,000 records, 240 s

Usage::

    python benchmarks/budget.py --quick
    python benchmarks/budget.py
    python benchmarks/budget.py --cells super-2000-240,age-2000-240 --threads 2

Run it alone on the machine (the budgets are wall-clock).
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bench import machine_line, print_table  # noqa: E402
from _ptbxl_data import SFREQ, default_data_dir, load_task, load_waveforms  # noqa: E402
from ptbxl import PlainCNN  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402

from ecgsk import ECGClassifier, ECGRegressor  # noqa: E402
from ecgsk.metrics import bootstrap_ci  # noqa: E402
from ecgsk.preprocessing import make_deepecg_preprocessing  # noqa: E402


@dataclass(frozen=True)
class Cell:
    name: str
    task: str  # "super", "all" or "age"
    n_train: int
    budget: float


CELLS = (
    Cell("super-300-60", "super", 300, 60.0),
    Cell("super-2000-240", "super", 2000, 240.0),
    Cell("super-7831-600", "super", 7831, 600.0),
    Cell("all-7831-600", "all", 7831, 600.0),
    Cell("age-2000-240", "age", 2000, 240.0),
)
TARGETS = {"super-7831-600": 0.92, "all-7831-600": 0.90}
CNN_BATCH = 64
VALID_SHARE = 0.1


# ---------------------------------------------------------------------------- data
def load_cell_data(cell: Cell, waveforms, data_dir, seed):
    """``(X_train, y_train, X_test, y_test)`` of a cell: mV signals at 100 Hz, targets."""
    if cell.task == "age":
        task = load_task("all", data_dir, waveforms=waveforms)
        age = _ages(data_dir)
        parts = []
        for part in (task.train, task.test):
            years = age.reindex(part.ecg_id).to_numpy(dtype=np.float64)
            keep = np.isfinite(years) & (years < 120)  # PTB-XL codes ages over 89 as 300
            parts.append((part.X[keep], pd.Series(years[keep], name="age")))
    else:
        task = load_task(cell.task, data_dir, waveforms=waveforms)
        parts = [(task.train.X, task.train.y), (task.test.X, task.test.y)]
    (X_tr, y_tr), (X_te, y_te) = parts
    # the 7,831-record cells take every training record the task has (superdiagnostic: the
    # 7,693 of them with a superclass); the row reports the count used
    idx = np.sort(np.random.default_rng(seed).permutation(len(X_tr))[: cell.n_train])
    y_tr = y_tr.iloc[idx].reset_index(drop=True)
    if cell.task != "age":
        # a label without positives in the subset cannot be learned by either model
        y_tr = y_tr.loc[:, (y_tr.sum() > 0) & (y_tr.sum() < len(y_tr))]
        y_te = y_te[y_tr.columns]
    return X_tr[idx], y_tr, X_te, y_te


def _ages(data_dir) -> pd.Series:
    folder = Path(data_dir or default_data_dir()) / "ptbxl_labels_all"
    frames = [pd.read_csv(folder / f"hubert_ptbxl_all_{p}.csv", usecols=["filename", "age"])
              for p in ("train", "val", "test")]
    table = pd.concat(frames, ignore_index=True)
    ids = table["filename"].str.extract(r"HR(\d+)", expand=False).astype(np.int64)
    return pd.Series(table["age"].to_numpy(dtype=np.float64), index=ids)


# ---------------------------------------------------------------------------- plain CNN
def train_plain_cnn(X, y, budget, regression, seed):
    """The hand-written loop, holding out 10% of its records to pick the best epoch."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    start = time.monotonic()
    order = rng.permutation(len(X))
    n_valid = max(1, int(round(VALID_SHARE * len(X))))
    valid, train = np.sort(order[:n_valid]), np.sort(order[n_valid:])
    target = y.to_numpy(dtype=np.float32).reshape(len(X), -1)
    mean, scale = (target[train].mean(0), target[train].std(0) + 1e-6) if regression else (0, 1)
    target = (target - mean) / scale
    model = PlainCNN(X.shape[1], target.shape[1])
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.MSELoss() if regression else nn.BCEWithLogitsLoss()
    best, best_state, epochs = -np.inf, copy.deepcopy(model.state_dict()), 0
    while True:
        t0 = time.monotonic()
        model.train()
        perm = rng.permutation(train)
        for i in range(0, len(perm) - 1, CNN_BATCH):
            idx = np.sort(perm[i:i + CNN_BATCH])
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(torch.from_numpy(X[idx])), torch.from_numpy(target[idx]))
            loss.backward()
            opt.step()
        epochs += 1
        out = _cnn_outputs(model, X[valid])
        if regression:
            score = -np.abs(out - target[valid]).mean()
        else:
            score = _macro_auroc(target[valid], out)
        if score > best:
            best, best_state = score, copy.deepcopy(model.state_dict())
        now = time.monotonic()
        if now - start + (now - t0) > budget:
            break
    model.load_state_dict(best_state)

    def predict(X_new):
        out = _cnn_outputs(model, X_new)
        return out[:, 0] * scale[0] + mean[0] if regression else 1 / (1 + np.exp(-out))

    return predict, epochs


def _cnn_outputs(model, X):
    model.eval()
    with torch.inference_mode():
        return torch.cat([model(torch.from_numpy(X[i:i + 256])) for i in range(0, len(X), 256)]
                         ).numpy()


def _macro_auroc(y, score):
    from sklearn.metrics import roc_auc_score

    cols = [k for k in range(y.shape[1]) if 0 < y[:, k].sum() < len(y)]
    return float(np.mean([roc_auc_score(y[:, k], score[:, k]) for k in cols])) if cols else 0.5


# ---------------------------------------------------------------------------- ecgsk
def train_defaults(X, y, budget, regression, module=None):
    """The README pipeline, nothing tuned: only the time budget is given.

    ``module`` replaces the default network (``--module``, for investigating a default).
    """
    kwargs = {"max_time": budget} if module is None else {"max_time": budget, "module": module}
    estimator = ECGRegressor(**kwargs) if regression else ECGClassifier(**kwargs)
    model = make_pipeline(make_deepecg_preprocessing(SFREQ), estimator)
    model.fit(X, y)
    net = model[-1]
    chosen = getattr(net, "module_name_", net.module)
    info = f"{chosen}, {getattr(net, 'n_epochs_', '?')} epochs"
    return (model.predict if regression else model.predict_proba), info


# ---------------------------------------------------------------------------- scoring
def score(cell: Cell, y_test, prediction, n_resamples, seed):
    """``(estimate, low, high)``: macro AUROC with a bootstrap CI, or MAE for regression."""
    if cell.task == "age":
        errors = np.abs(np.asarray(prediction, dtype=np.float64) - y_test.to_numpy())
        rng = np.random.default_rng(seed)
        boot = [errors[rng.integers(0, len(errors), len(errors))].mean()
                for _ in range(n_resamples)]
        return float(errors.mean()), *np.percentile(boot, [2.5, 97.5]).tolist()
    res = bootstrap_ci("roc_auc_macro", y_test.to_numpy(), prediction,
                       n_resamples=n_resamples, random_state=seed)
    return float(res.estimate), float(res.ci_low), float(res.ci_high)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only the 300-record cell")
    parser.add_argument("--cells", help="comma-separated cell names (default: all)")
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    parser.add_argument("--n-resamples", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--module", help="train this registry network instead of the default "
                        "(to investigate a default; the table then is not the defaults')")
    parser.add_argument("--skip-cnn", action="store_true", help="train only the ecgsk side")
    args = parser.parse_args(argv)
    by_name = {cell.name: cell for cell in CELLS}
    if args.quick:
        cells = [CELLS[0]]
    elif args.cells:
        unknown = sorted(set(args.cells.split(",")) - set(by_name))
        if unknown:
            parser.error(f"unknown cells {unknown}; choose from {sorted(by_name)}")
        cells = [by_name[name] for name in args.cells.split(",")]
    else:
        cells = list(CELLS)
    torch.set_num_threads(args.threads)
    header = machine_line(threads=args.threads, packages=("torch", "skorch"))
    print(f"budget benchmark: {header}", flush=True)
    waveforms = load_waveforms(args.data_dir)
    rows = []
    for cell in cells:
        X_tr, y_tr, X_te, y_te = load_cell_data(cell, waveforms, args.data_dir, args.seed)
        regression = cell.task == "age"
        t0 = time.monotonic()
        predict, info = train_defaults(X_tr, y_tr, cell.budget, regression, args.module)
        ours_wall = time.monotonic() - t0
        ours = score(cell, y_te, predict(X_te), args.n_resamples, args.seed)
        if args.skip_cnn:
            print(f"  {cell.name}: ecgsk {ours[0]:.4f} [{ours[1]:.4f}, {ours[2]:.4f}] ({info}; "
                  f"{ours_wall:.0f} s)", flush=True)
            continue
        t0 = time.monotonic()
        cnn_predict, cnn_epochs = train_plain_cnn(X_tr, y_tr, cell.budget, regression, args.seed)
        cnn_wall = time.monotonic() - t0
        cnn = score(cell, y_te, cnn_predict(X_te), args.n_resamples, args.seed)
        diff = cnn[0] - ours[0] if regression else ours[0] - cnn[0]
        metric = "MAE (years)" if regression else "macro AUROC"
        target = TARGETS.get(cell.name)
        verdict = "win" if (diff > 0 if regression else diff >= 0.01) else "LOSS"
        if target is not None and ours[0] < target:
            verdict += f", below {target}"
        row = (f"{cell.name} (n={len(X_tr)})", metric, f"{ours[0]:.3f} [{ours[1]:.3f}, {ours[2]:.3f}]",
               f"{cnn[0]:.3f} [{cnn[1]:.3f}, {cnn[2]:.3f}]", f"{diff:+.3f}", verdict,
               f"{info}; {ours_wall:.0f} s", f"{cnn_epochs} epochs; {cnn_wall:.0f} s")
        print("  " + " | ".join(row), flush=True)
        rows.append(row)
    print()
    print(f"`python benchmarks/budget.py {' '.join(argv or sys.argv[1:])}`: {header}; "
          f"fold-10 subset, {args.n_resamples} bootstrap resamples; difference > 0: ecgsk "
          "better (win: >= 0.01 AUROC, or a lower MAE).")
    print()
    print_table(["cell", "metric", "ecgsk defaults", "plain CNN", "difference", "verdict",
                 "ecgsk: network, epochs, wall", "CNN: epochs, wall"], rows)


if __name__ == "__main__":
    main()
