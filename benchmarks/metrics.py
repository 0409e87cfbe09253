"""Benchmark: classification_report with bootstrap CIs against a plain scikit-learn loop.

The loop a user would otherwise write draws each bootstrap resample and calls
``sklearn.metrics.roc_auc_score`` once per label per resample. Running it in
full (77,000 calls for 77 labels and 1,000 resamples) takes minutes, so it is
timed on a subset of resamples (all labels) and extrapolated per call; the
table says so. ``classification_report`` is timed in full, and so is
``bootstrap_ci("roc_auc")``, which computes exactly what the loop computes.

Usage::

    python benchmarks/metrics.py                # 20,000 ECGs x 77 labels, 1,000 resamples
    python benchmarks/metrics.py --n-ecgs 2000 --n-resamples 100 --loop-resamples 5
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import time

import numpy as np
from sklearn.metrics import roc_auc_score

from ecgsk.labels import DEEPECG_LABELS
from ecgsk.metrics import bootstrap_ci, classification_report


def make_data(n_ecgs: int, n_labels: int, seed: int):
    """Multilabel targets with realistic, mostly rare prevalences and informative scores."""
    rng = np.random.default_rng(seed)
    # Log-uniform prevalences between 0.05% and 40%: a few common labels, many rare ones.
    prevalence = np.exp(rng.uniform(np.log(5e-4), np.log(0.4), n_labels))
    y = rng.random((n_ecgs, n_labels)) < prevalence
    separation = rng.uniform(1.0, 3.0, n_labels)
    logits = rng.normal(0.0, 1.0, (n_ecgs, n_labels)) + separation * y - 3.0
    scores = (1.0 / (1.0 + np.exp(-logits))).astype(np.float32)
    return y, scores, prevalence


def time_sklearn_loop(y, s, n_resamples: int, seed: int) -> tuple[float, int]:
    """Seconds per roc_auc_score call in the straightforward bootstrap loop."""
    rng = np.random.default_rng(seed)
    n, n_labels = y.shape
    calls = 0
    start = time.perf_counter()
    for _ in range(n_resamples):
        idx = rng.integers(0, n, n)
        yr, sr = y[idx], s[idx]
        for j in range(n_labels):
            col = yr[:, j]
            if col.any() and not col.all():  # the loop must skip single-class resamples too
                roc_auc_score(col, sr[:, j])
            calls += 1
    return (time.perf_counter() - start) / calls, calls


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-ecgs", type=int, default=20_000)
    parser.add_argument("--n-labels", type=int, default=77)
    parser.add_argument("--n-resamples", type=int, default=1_000)
    parser.add_argument("--loop-resamples", type=int, default=20,
                        help="resamples of the sklearn loop actually timed (then extrapolated)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    y, s, prevalence = make_data(args.n_ecgs, args.n_labels, args.seed)
    labels = list(DEEPECG_LABELS) if args.n_labels == len(DEEPECG_LABELS) else None

    start = time.perf_counter()
    report = classification_report(y, s, labels=labels, n_resamples=args.n_resamples,
                                   random_state=args.seed)
    t_report = time.perf_counter() - start

    start = time.perf_counter()
    bootstrap_ci("roc_auc", y, s, n_resamples=args.n_resamples, random_state=args.seed)
    t_auc = time.perf_counter() - start

    per_call, calls = time_sklearn_loop(y, s, args.loop_resamples, args.seed)
    t_loop = per_call * args.n_labels * args.n_resamples

    n_defined = int(report.loc["label", "defined"].sum())
    rows = [
        ("sklearn loop: roc_auc_score per label per resample (AUROC only)",
         f"{t_loop:.1f} (extrapolated from {calls} calls, {per_call * 1e3:.2f} ms each)", "1.0x"),
        ("ecgsk bootstrap_ci('roc_auc'): same AUROC resamples",
         f"{t_auc:.2f}", f"{t_loop / t_auc:.0f}x"),
        ("ecgsk classification_report: AUROC, AUPRC, F1, Se, Sp, PPV, NPV; "
         "per label, macro and micro per category, all with CIs",
         f"{t_report:.2f}", f"{t_loop / t_report:.0f}x"),
    ]
    print(f"### classification_report benchmark ({dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC)")
    print()
    print(f"- data: {args.n_ecgs:,} ECGs x {args.n_labels} labels, {args.n_resamples:,} bootstrap "
          f"resamples; prevalences {prevalence.min():.2%} to {prevalence.max():.1%} "
          f"(median {np.median(prevalence):.2%}); {n_defined} labels with both classes")
    print(f"- machine: {platform.machine()}, {os.cpu_count()} CPUs visible, "
          f"Python {platform.python_version()}, numpy {np.__version__}, "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}")
    print()
    print("| method | wall time (s) | speed-up vs loop |")
    print("|---|---|---|")
    for name, seconds, ratio in rows:
        print(f"| {name} | {seconds} | {ratio} |")


if __name__ == "__main__":
    main()
