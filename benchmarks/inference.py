"""Benchmark: ECGClassifier inference and training throughput against a raw torch loop.

For each model ("deepecg-sl", "xresnet1d50", "xresnet1d101") at input (12, 2500):

- **inference**: ``ECGClassifier.predict_proba`` against the loop a user would write around
  the same trained module (``torch.inference_mode``, the same batch size, a sigmoid, results
  gathered as numpy). The two are timed alternately (the order flips every repeat) after a
  warm-up, and the ratio is the median of the per-repeat ratios (target >= 0.9).
- **training**: ECGs/s of one epoch of ``ECGClassifier.fit`` (a few batches; the epoch
  duration recorded in ``history_``, and the whole ``fit`` call including set-up) against a
  raw training loop (AdamW, BCE, the same batches) on a fresh copy of the same network.

The ECGs are real PTB-XL records (100 Hz, ``../shared/data/ptbxl_records100``) brought to
(12, 2500) by ``make_deepecg_preprocessing(100)`` (250 Hz, 10 s), the DeepECG input. On CUDA
mixed precision is turned off (``amp=False``) so that both sides do the same fp32 work.

Usage::

    python benchmarks/inference.py                     # CPU, all three models
    python benchmarks/inference.py --device cuda --n-ecgs 4096 --batch-size 256
    python benchmarks/inference.py --models deepecg-sl --repeats 3 --train-batches 2
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bench import interleaved, machine_line, print_table, time_pair  # noqa: E402
from _ptbxl_data import SFREQ, load_task  # noqa: E402

from ecgsk.estimators import ECGClassifier  # noqa: E402
from ecgsk.preprocessing import make_deepecg_preprocessing  # noqa: E402

MODELS = ("deepecg-sl", "xresnet1d50", "xresnet1d101")


def _sync(device):
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def raw_predict(module, X, batch_size, device):
    """What a user would write: eval mode, inference_mode, batches, sigmoid, numpy out."""
    module.eval()
    out = []
    with torch.inference_mode():
        for i in range(0, len(X), batch_size):
            xb = torch.from_numpy(X[i:i + batch_size]).to(device)
            out.append(torch.sigmoid(module(xb)).cpu())
    return torch.cat(out).numpy()


def raw_train_epoch(module, X, y, batch_size, device, seed):
    """One epoch of a plain training loop (AdamW, BCE, shuffled batches)."""
    module.train()
    opt = torch.optim.AdamW(module.parameters(), lr=1e-3, weight_decay=1e-2)
    loss_fn = nn.BCEWithLogitsLoss()
    order = np.random.default_rng(seed).permutation(len(X))
    for i in range(0, len(X), batch_size):
        idx = np.sort(order[i:i + batch_size])
        xb = torch.from_numpy(X[idx]).to(device)
        yb = torch.from_numpy(y[idx]).to(device)
        opt.zero_grad(set_to_none=True)
        loss_fn(module(xb), yb).backward()
        opt.step()
    _sync(device)


def make_classifier(name, batch_size, device, max_epochs=1):
    return ECGClassifier(
        name, batch_size=batch_size, max_epochs=max_epochs, validation=None, threshold=0.5,
        device=device, amp=False, random_state=0, progress_bar=False, verbose=0,
    )


def bench_inference(clf, X, batch_size, device, repeats):
    """Median ECGs/s of predict_proba and of the raw loop, and the median per-pair ratio."""
    module = clf.module_
    p_ecgsk = clf.predict_proba(X[:batch_size])  # warm-up of both paths
    p_raw = raw_predict(module, X[:batch_size], batch_size, device)
    np.testing.assert_allclose(p_ecgsk, p_raw, rtol=1e-4, atol=1e-5)
    t_ecgsk, t_raw = time_pair(lambda: clf.predict_proba(X),
                               lambda: raw_predict(module, X, batch_size, device), repeats,
                               sync=lambda: _sync(device))
    n = len(X)
    return n / np.median(t_ecgsk), n / np.median(t_raw), float(np.median(t_raw / t_ecgsk))


def bench_training(name, X, y, batch_size, device, repeats):
    """ECGs/s of one fit epoch (history dur and whole fit call) and of the raw loop."""
    n = len(X)
    epoch_ecgsk, fit_ecgsk, epoch_raw = [], [], []
    clf = make_classifier(name, batch_size, device)
    clf.fit(X[:2 * batch_size], y[:2 * batch_size])  # warm-up (allocator, kernels)
    torch.manual_seed(0)
    reference = copy.deepcopy(clf.module_)
    raw_train_epoch(copy.deepcopy(reference), X[:batch_size], y[:batch_size], batch_size,
                    device, 0)
    for r, which in interleaved("ecgsk", "raw", repeats):
        # building the classifier or copying the network is not timed
        if which == "ecgsk":
            clf = make_classifier(name, batch_size, device)
            _sync(device)
            t0 = time.perf_counter()
            clf.fit(X, y)
            _sync(device)
            fit_ecgsk.append(time.perf_counter() - t0)
            epoch_ecgsk.append(float(clf.history_[-1, "dur"]))
        else:
            module = copy.deepcopy(reference)
            _sync(device)
            t0 = time.perf_counter()
            raw_train_epoch(module, X, y, batch_size, device, r)
            epoch_raw.append(time.perf_counter() - t0)
    return (n / np.median(epoch_ecgsk), n / np.median(fit_ecgsk), n / np.median(epoch_raw),
            float(np.median(np.array(epoch_raw) / np.array(epoch_ecgsk))))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    parser.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--n-ecgs", type=int, default=256, help="ECGs per inference timing")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5, help="timed pairs per model")
    parser.add_argument("--train-batches", type=int, default=3,
                        help="batches in one timed training epoch")
    parser.add_argument("--train-repeats", type=int, default=2)
    parser.add_argument("--skip-training", action="store_true")
    parser.add_argument("--data-dir", type=Path)
    args = parser.parse_args(argv)
    # the short fits see few ECGs, so a rare superclass may have no positive: irrelevant here
    warnings.filterwarnings("ignore", message=".*single class in the training targets")

    device = args.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if torch.device(device).type == "cuda" and not torch.cuda.is_available():
        parser.exit(2, "--device cuda: no CUDA device is available here\n")
    torch.set_num_threads(args.threads)
    models = [m.strip() for m in args.models.split(",") if m.strip()]

    data = load_task("super", args.data_dir)
    n_train = args.train_batches * args.batch_size
    n_needed = max(args.n_ecgs, n_train)
    X = make_deepecg_preprocessing(SFREQ).fit_transform(data.train.X[:n_needed])
    y = data.train.y.to_numpy()[:n_needed].astype(np.float32)
    X_inf = np.ascontiguousarray(X[:args.n_ecgs])
    gpu = torch.cuda.get_device_name(0) if torch.device(device).type == "cuda" else None
    header = machine_line(gpu=gpu, threads=args.threads)
    print(f"inference/training throughput: {header}", flush=True)

    inf_rows, train_rows = [], []
    for name in models:
        clf = make_classifier(name, args.batch_size, device).fit(X[:args.batch_size],
                                                                y[:args.batch_size])
        ecgsk_s, raw_s, ratio = bench_inference(clf, X_inf, args.batch_size, device,
                                                args.repeats)
        inf_rows.append((name, ecgsk_s, raw_s, ratio))
        print(f"  {name}: predict_proba {ecgsk_s:.1f} ECGs/s, raw loop {raw_s:.1f} ECGs/s, "
              f"ratio {ratio:.3f}", flush=True)
        if not args.skip_training:
            row = bench_training(name, X[:n_train], y[:n_train], args.batch_size, device,
                                 args.train_repeats)
            train_rows.append((name, *row))
            print(f"  {name}: fit epoch {row[0]:.1f} ECGs/s (whole fit {row[1]:.1f}), raw "
                  f"loop {row[2]:.1f} ECGs/s, ratio {row[3]:.3f}", flush=True)

    print()
    print(f"`python benchmarks/inference.py --device {device} --threads {args.threads} "
          f"--n-ecgs {args.n_ecgs} --batch-size {args.batch_size} --repeats {args.repeats} "
          f"--train-batches {args.train_batches} --train-repeats {args.train_repeats}`")
    print(header + "; real PTB-XL ECGs at (12, 2500), 5 outputs.")
    print()
    print_table(["model", "predict_proba (ECGs/s)", "raw inference_mode loop (ECGs/s)",
                 "ratio ecgsk / raw (median of pairs)"],
                [(name, f"{ecgsk_s:.1f}", f"{raw_s:.1f}", f"{ratio:.3f}")
                 for name, ecgsk_s, raw_s, ratio in inf_rows])
    if train_rows:
        print()
        print(f"Training, one epoch of {n_train} ECGs ({args.train_batches} batches of "
              f"{args.batch_size}), median of {args.train_repeats} interleaved runs:")
        print()
        print_table(["model", "fit epoch (ECGs/s)", "whole fit call (ECGs/s)",
                     "raw training loop (ECGs/s)", "ratio fit epoch / raw"],
                    [(name, f"{epoch_s:.1f}", f"{fit_s:.1f}", f"{raw_s:.1f}", f"{ratio:.3f}")
                     for name, epoch_s, fit_s, raw_s, ratio in train_rows])
    worst = min(r[3] for r in inf_rows)
    print(f"\nTarget (inference ratio >= 0.9): {'met' if worst >= 0.9 else 'NOT met'} "
          f"(lowest {worst:.3f}).")


if __name__ == "__main__":
    main()
