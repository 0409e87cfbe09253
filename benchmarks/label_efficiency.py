"""Benchmark: label efficiency of DeepECG-SSL pretraining on real PTB-XL records.

Protocol (the DeepECG paper's label-efficiency experiment, on the 9,800 PTB-XL records at 100 Hz
of ``../shared/data/ptbxl_records100``, a random 45% of each official strat_fold):

1. every record goes through :func:`ecgsk.preprocessing.make_deepecg_preprocessing` (100 Hz ->
   250 Hz, 12 x 2500);
2. an :class:`ecgsk.ECGPretrainer` (wav2vec 2.0 + CMSC + random lead masking) is pretrained on
   all 9,800 records, labels unused. The label files carry no patient ids, so ``groups`` is the
   ecg_id: CMSC positives are the two segments of the same ECG only;
3. with 1%, 10%, 50% and 100% of the labelled training records (strat_fold 1-8; nested random
   subsets drawn once, the same for every model) four models are trained:

   - ``ssl-finetune``: the pretrained encoder fine-tuned with ``finetune="partial"`` (conv
     feature encoder frozen, transformer and head trained, as in the paper);
   - ``ssl-linear``: linear probe, :class:`ecgsk.ECGEmbedder` embeddings + one logistic
     regression per label;
   - ``ssl-scratch``: the same transformer trained from random initialisation;
   - ``random-linear``: the linear probe on the embeddings of the same transformer at its random
     initialisation (what pretraining must beat for ``ssl-linear`` to mean anything);
   - ``sl-scratch``: DeepECG-SL (EfficientNetV2) trained from random initialisation;

   Each network learns one multilabel head over the 5 PTB-XL superclasses and the DeepECG labels
   that have a PTB-XL counterpart (:func:`ecgsk.labels.scp_to_deepecg`), and keeps its best epoch
   on a validation subset of strat_fold 9 (the same fraction, at least ``--min-valid`` ECGs);
4. macro AUROC on the fold-10 subset, separately for the superdiagnostic labels and for the
   DeepECG-mapped labels (mean over labels with positives in the test fold), with a 95%
   bootstrap interval (:func:`ecgsk.metrics.bootstrap_ci`) and per-label DeLong tests of
   ssl-finetune against sl-scratch (:func:`ecgsk.metrics.delong_test`).

5. per target, pretrained against random encoder: for each of the 5 superclasses, one logistic
   regression on the pretrained embeddings and one on the random-initialisation embeddings,
   fitted on the same training subset, AUROC on the fold-10 subset and DeLong's test of the
   difference (the check of ``tests/test_ssl_pretraining_learns.py``, on the whole cohort).

The pretrainer uses ECGPretrainer's defaults (the release's ``w2v_cmsc_rlm`` objective: fairseq
span masks, 100 negatives with replacement, CMSC on the pooled output, feature gradient x 0.1,
feature dropout, weight-normed positional conv, Adam eps 1e-6, fixed learning rate) except for
the training length (batch size, epochs, time budget). Its ``lr="auto"`` is the release's 5e-5
for the 768-wide ``deepecg-ssl`` (``gpu``) and ``5e-5 * 768 / width`` for a narrower encoder
(``deepecg-ssl-tiny``, ``cpu``: 6e-4). The fine-tunes set their own learning rate (``cpu``: 1e-3
with ``encoder_lr_scale=0.3``; ``gpu``: 1e-4) instead of the release's fixed 5e-5, which is
meant for a fully pretrained full-size encoder and leaves a tiny one nearly where it started
within a 60 s budget.

A label with no positive ECG in a training subset cannot be learnt; every model then scores it
with a constant (AUROC 0.5), so that all models are compared on the same label set.

Records without any superclass (as in Strodthoff et al. 2021) and the 12 ids PTB-XL v1.0.3
removed are left out of fine-tuning and evaluation (not of pretraining). The 71-statement table
(``hubert_ptbxl_all_*.csv``) is CC BY-NC: it is read at run time only.

Also reported: pretraining and embedding throughput (ECGs/s) and, on CUDA, the share of the
device's bf16 peak that the transformer reaches in a training step (FLOPs counted from the model
configuration; skipped on CPU).

Configurations (``--config``):

- ``cpu``: deepecg-ssl-tiny / deepecg-sl-tiny, one torch thread (two threads on a shared 2-core
  machine ran 9x slower), one pretraining epoch over the 9,800 ECGs (about 7 min at 24 ECGs/s:
  ``max_time`` is only checked between epochs, so a time budget below one epoch cannot be
  honoured) and at most 60 s per fine-tune (the first epoch always completes); about 20-25 min
  on 2 cores;
- ``gpu``: deepecg-ssl (90 M parameters) / deepecg-sl, 2 h of pretraining and at most 20 min per
  fine-tune; refused without CUDA unless ``--force``.

Usage::

    python benchmarks/label_efficiency.py --config cpu
    python benchmarks/label_efficiency.py --config cpu --fractions 0.1,1 --finetune-time 30
    python benchmarks/label_efficiency.py --config gpu
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import math
import os
import platform
import sys
import time
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _ptbxl_data import SFREQ, load_labels, load_task, load_waveforms  # noqa: E402

from ecgsk.estimators import ECGClassifier, ECGEmbedder, ECGPretrainer  # noqa: E402
from ecgsk.labels import scp_to_deepecg  # noqa: E402
from ecgsk.metrics import bootstrap_ci, delong_test  # noqa: E402
from ecgsk.nn import build_model  # noqa: E402
from ecgsk.preprocessing import make_deepecg_preprocessing  # noqa: E402

OUTPUT_DIR = Path(__file__).resolve().parent / "output"
FRACTIONS = (0.01, 0.1, 0.5, 1.0)
MODELS = ("ssl-finetune", "ssl-linear", "random-linear", "ssl-scratch", "sl-scratch")
TASK_NAMES = {"super": "superdiagnostic", "deepecg": "DeepECG-mapped"}

#: Dense bf16 tensor-core peaks (TFLOP/s) by CUDA device name fragment, most specific first.
BF16_PEAK_TFLOPS = (
    ("H200", 989.0),
    ("H100 PCIe", 756.0),
    ("H100", 989.0),
    ("A100", 312.0),
    ("L40S", 362.0),
    ("A10", 125.0),
)


@dataclass(frozen=True)
class Config:
    name: str
    ssl_module: str
    sl_module: str
    device: str
    pretrain_time: float  # seconds of pretraining at most (checked between epochs)
    pretrain_epochs: int
    pretrain_lr: float | str  # fixed (lr_schedule=None, as the release); "auto": the default
    pretrain_batch: int
    finetune_time: float  # seconds per fine-tune (max_time)
    finetune_epochs: int
    finetune_lr: float
    encoder_lr_scale: float
    batch_size: int
    patience: int
    threads: int | None
    n_resamples: int


CONFIGS = {
    "cpu": Config(
        name="cpu", ssl_module="deepecg-ssl-tiny", sl_module="deepecg-sl-tiny", device="cpu",
        pretrain_time=900.0, pretrain_epochs=1, pretrain_lr="auto", pretrain_batch=64,
        finetune_time=60.0, finetune_epochs=40, finetune_lr=1e-3, encoder_lr_scale=0.3,
        batch_size=64, patience=8, threads=1, n_resamples=1000,
    ),
    "gpu": Config(
        name="gpu", ssl_module="deepecg-ssl", sl_module="deepecg-sl", device="cuda",
        pretrain_time=7200.0, pretrain_epochs=200, pretrain_lr="auto", pretrain_batch=64,
        finetune_time=1200.0, finetune_epochs=100, finetune_lr=1e-4, encoder_lr_scale=1.0,
        batch_size=64, patience=10, threads=None, n_resamples=1000,
    ),
}


# ---------------------------------------------------------------------------- data
@dataclass
class Data:
    X_all: np.ndarray  # all 9,800 records, preprocessed (pretraining)
    ids_all: np.ndarray
    X: dict  # split -> preprocessed signals of the labelled records
    Y: dict  # split -> DataFrame of the labels (superclasses then DeepECG labels)
    columns: dict  # task -> label names
    prep_seconds: float


def deepecg_targets(ids: np.ndarray, scp_table: pd.DataFrame) -> pd.DataFrame:
    """DeepECG multi-hot labels of the given ecg ids from the 71-statement table."""
    rows = scp_table.loc[ids]
    codes = [list(rows.columns[np.flatnonzero(r)]) for r in rows.to_numpy()]
    frame, _ = scp_to_deepecg(codes, index=ids)
    return frame


def load_data(data_dir: Path | None) -> Data:
    waveforms = load_waveforms(data_dir)
    ids_all, X_mv, _ = waveforms
    task = load_task("super", data_dir, waveforms=waveforms)
    scp = load_labels("all", data_dir)
    start = time.perf_counter()
    X_all = make_deepecg_preprocessing(SFREQ).fit_transform(X_mv)
    prep_seconds = time.perf_counter() - start
    position = {int(i): k for k, i in enumerate(ids_all)}
    X, Y = {}, {}
    for name, part in (("train", task.train), ("valid", task.valid), ("test", task.test)):
        X[name] = X_all[[position[int(i)] for i in part.ecg_id]]
        Y[name] = pd.concat(
            [part.y.reset_index(drop=True),
             deepecg_targets(part.ecg_id, scp).reset_index(drop=True)], axis=1
        )
    # a DeepECG label is kept when the whole training set has both classes for it
    deepecg = [c for c in Y["train"].columns[len(task.labels):]
               if 0 < Y["train"][c].sum() < len(Y["train"])]
    columns = {"super": list(task.labels), "deepecg": deepecg}
    for name in Y:
        Y[name] = Y[name][columns["super"] + deepecg].astype(np.int8)
    return Data(X_all, ids_all, X, Y, columns, prep_seconds)


def nested_subsets(n: int, fractions, seed: int, minimum: int = 1) -> dict:
    """Indices of nested random subsets (the 1% set lies inside the 10% set, ...)."""
    order = np.random.default_rng(seed).permutation(n)
    return {f: np.sort(order[: min(n, max(minimum, math.ceil(f * n)))]) for f in fractions}


# ---------------------------------------------------------------------------- models
def _fit_columns(y: pd.DataFrame) -> list[str]:
    return [c for c in y.columns if 0 < y[c].sum() < len(y)]


def _full_scores(proba: np.ndarray, fitted: list[str], y_train: pd.DataFrame, n: int):
    """Scores for every label: the model's for the fitted ones, the prevalence for the rest."""
    out = pd.DataFrame(np.tile(y_train.mean().to_numpy(float), (n, 1)), columns=y_train.columns)
    out[fitted] = proba
    return out


def fit_network(kind: str, cfg: Config, pretrainer, X_tr, y_tr, X_va, y_va, seed: int):
    columns = _fit_columns(y_tr)
    common = dict(
        lr=cfg.finetune_lr, batch_size=cfg.batch_size, max_epochs=cfg.finetune_epochs,
        max_time=cfg.finetune_time, validation=(X_va, y_va[columns].to_numpy()),
        patience=cfg.patience, random_state=seed, device=cfg.device, progress_bar=False,
        verbose=0,
    )
    if kind == "ssl-finetune":
        clf = ECGClassifier(encoder=pretrainer.encoder_, finetune="partial",
                            encoder_lr_scale=cfg.encoder_lr_scale, **common)
    elif kind == "ssl-scratch":
        clf = ECGClassifier(module=cfg.ssl_module, **common)
    elif kind == "sl-scratch":
        clf = ECGClassifier(module=cfg.sl_module, **common)
    else:
        raise ValueError(f"unknown model {kind!r}")
    start = time.perf_counter()
    with warnings.catch_warnings():
        # a validation subset may miss a rare label; its AUROC is skipped there, as intended
        warnings.simplefilter("ignore", UserWarning)
        clf.fit(X_tr, y_tr[columns].to_numpy())
    seconds = time.perf_counter() - start
    return clf, columns, seconds, len(clf.history_)


def fit_linear_probe(E_tr, y_tr: pd.DataFrame, E_te, seed: int):
    columns = _fit_columns(y_tr)
    scaler = StandardScaler().fit(E_tr)
    A, B = scaler.transform(E_tr), scaler.transform(E_te)
    start = time.perf_counter()
    proba = np.column_stack([
        LogisticRegression(C=0.1, max_iter=2000, random_state=seed)
        .fit(A, y_tr[c].to_numpy()).predict_proba(B)[:, 1]
        for c in columns
    ])
    return columns, proba, time.perf_counter() - start


def probe_per_target(E: dict, E_random: dict, y_train: pd.DataFrame, y_test: pd.DataFrame,
                     targets, subsets: dict, seed: int) -> pd.DataFrame:
    """Pretrained vs random encoder, one binary linear probe per target and training subset."""
    rows = []
    for frac, tr in subsets.items():
        for target in targets:
            y_tr = y_train[target].to_numpy()[tr]
            if not 0 < y_tr.sum() < len(y_tr):
                continue
            y_te = y_test[target].to_numpy()
            scores = {}
            for name, emb in (("pretrained", E), ("random", E_random)):
                scaler = StandardScaler().fit(emb["train"][tr])
                probe = LogisticRegression(C=0.1, max_iter=2000, random_state=seed)
                probe.fit(scaler.transform(emb["train"][tr]), y_tr)
                scores[name] = probe.predict_proba(scaler.transform(emb["test"]))[:, 1]
            test = delong_test(y_te, scores["pretrained"], scores["random"])
            rows.append({"target": target, "fraction": frac, "n_train": len(tr),
                         "auroc_pretrained": float(test.auc_a), "auroc_random": float(test.auc_b),
                         "difference": float(test.difference), "p_value": float(test.p_value)})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------- throughput
def transformer_flops_per_step(encoder, batch: int, tokens: int) -> float:
    """FLOPs of one training step (forward + backward = 3 x forward) of the transformer layers.

    Per layer and token: QKV and output projections ``8 d^2``, feed-forward ``4 d f``, and the
    attention products ``4 T d`` (multiply-adds count 2).
    """
    d = encoder.n_features
    total = 0.0
    for layer in encoder.layers:
        f = layer.fc1.out_features
        total += batch * tokens * (8 * d * d + 4 * d * f + 4 * tokens * d)
    return 3.0 * total


def bf16_peak_tflops(device_name: str) -> float | None:
    for fragment, peak in BF16_PEAK_TFLOPS:
        if fragment.lower() in device_name.lower():
            return peak
    return None


def transformer_mfu(encoder, n_times: int, batch: int, peak_override: float | None) -> dict:
    """Achieved TFLOP/s of the transformer layers in bf16 training steps and share of peak."""
    device = torch.device("cuda")
    enc = copy.deepcopy(encoder).to(device).train()  # leave the pretrained encoder untouched
    tokens = enc.feature_length(n_times)
    x = torch.randn(batch, tokens, enc.n_features, device=device, requires_grad=True)

    def step():
        with torch.autocast("cuda", dtype=torch.bfloat16):
            out = enc.encode(x)
        out.float().square().mean().backward()

    for _ in range(3):
        step()
    torch.cuda.synchronize()
    n_steps = 10
    start = time.perf_counter()
    for _ in range(n_steps):
        step()
    torch.cuda.synchronize()
    seconds = (time.perf_counter() - start) / n_steps
    achieved = transformer_flops_per_step(enc, batch, tokens) / seconds / 1e12
    name = torch.cuda.get_device_name(device)
    peak = peak_override if peak_override is not None else bf16_peak_tflops(name)
    return {"device": name, "batch": batch, "tokens": tokens, "tflops": achieved,
            "peak": peak, "share": achieved / peak if peak else float("nan")}


# ---------------------------------------------------------------------------- evaluation
def auroc_with_ci(y: pd.DataFrame, scores: pd.DataFrame, n_resamples: int, seed: int):
    res = bootstrap_ci("roc_auc_macro", y.to_numpy(), scores.to_numpy(),
                       n_resamples=n_resamples, random_state=seed)
    return float(res.estimate), float(res.ci_low), float(res.ci_high)


def delong_summary(y: pd.DataFrame, a: pd.DataFrame, b: pd.DataFrame) -> dict:
    frame = delong_test(y, a, b)
    frame = frame[frame["defined"]]
    significant = frame["p_value"] < 0.05
    return {
        "n_labels": len(frame),
        "median_p": float(frame["p_value"].median()),
        "ssl_better": int((significant & (frame["difference"] > 0)).sum()),
        "sl_better": int((significant & (frame["difference"] < 0)).sum()),
    }


# ---------------------------------------------------------------------------- run
def run(cfg: Config, fractions, models, data_dir, seed: int, min_valid: int, peak_override):
    started = time.perf_counter()
    data = load_data(data_dir)
    print(f"[{time.perf_counter() - started:6.0f}s] preprocessed {len(data.X_all)} ECGs "
          f"in {data.prep_seconds:.1f}s", flush=True)

    pretrainer = None
    info: dict = {"n_pretrain": len(data.X_all), "prep_seconds": data.prep_seconds}
    needs_ssl = any(m.startswith("ssl-") and m != "ssl-scratch" for m in models)
    if needs_ssl:
        pretrainer = ECGPretrainer(
            cfg.ssl_module, sfreq=250.0, lr=cfg.pretrain_lr, batch_size=cfg.pretrain_batch,
            max_epochs=cfg.pretrain_epochs, max_time=cfg.pretrain_time, validation=None,
            random_state=seed, device=cfg.device, progress_bar=False, verbose=0,
        )
        pretrainer.fit(data.X_all, groups=data.ids_all)
        hist = pretrainer.history_
        epochs = len(hist)
        train_seconds = float(sum(row["dur"] for row in hist))
        # mean loss of the first and last 10 batches: shows learning within a single epoch
        batch_losses = [b["train_loss"] for row in hist for b in row["batches"]]
        info.update(
            pretrain_epochs=epochs, pretrain_seconds=train_seconds,
            pretrain_rate=epochs * len(data.X_all) / train_seconds,
            pretrain_loss_first=float(np.mean(batch_losses[:10])),
            pretrain_loss_last=float(np.mean(batch_losses[-10:])),
        )
        print(f"[{time.perf_counter() - started:6.0f}s] pretrained {epochs} epochs, loss "
              f"{info['pretrain_loss_first']:.3f} -> {info['pretrain_loss_last']:.3f}", flush=True)
        embedder = ECGEmbedder(pretrainer.encoder_, device=cfg.device).fit(data.X["train"][:2])
        start = time.perf_counter()
        E = {name: embedder.transform(X) for name, X in data.X.items()}
        n_embedded = sum(len(X) for X in data.X.values())
        info["embed_rate"] = n_embedded / (time.perf_counter() - start)
        if cfg.device == "cuda":
            info["mfu"] = transformer_mfu(pretrainer.encoder_, data.X_all.shape[-1],
                                          cfg.batch_size, peak_override)

    if "random-linear" in models:
        torch.manual_seed(seed)
        random_encoder = build_model(cfg.ssl_module, n_times=data.X_all.shape[-1], n_outputs=1)
        embedder = ECGEmbedder(random_encoder, device=cfg.device).fit(data.X["train"][:2])
        E_random = {name: embedder.transform(X) for name, X in data.X.items()}

    train_sets = nested_subsets(len(data.Y["train"]), fractions, seed)
    valid_sets = nested_subsets(len(data.Y["valid"]), fractions, seed + 1, minimum=min_valid)
    y_test = data.Y["test"]
    rows, scores = [], {}
    for frac in fractions:
        tr, va = train_sets[frac], valid_sets[frac]
        y_tr, y_va = data.Y["train"].iloc[tr], data.Y["valid"].iloc[va]
        for model in models:
            if model in ("ssl-linear", "random-linear"):
                emb = E if model == "ssl-linear" else E_random
                columns, proba, seconds = fit_linear_probe(emb["train"][tr], y_tr, emb["test"], seed)
                epochs = float("nan")
            else:
                clf, columns, seconds, epochs = fit_network(
                    model, cfg, pretrainer, data.X["train"][tr], y_tr, data.X["valid"][va],
                    y_va, seed,
                )
                proba = clf.predict_proba(data.X["test"])
            full = _full_scores(proba, columns, y_tr, len(y_test))
            scores[(model, frac)] = full
            row = {"model": model, "fraction": frac, "n_train": len(tr), "n_valid": len(va),
                   "labels_fitted": len(columns), "epochs": epochs, "fit_s": seconds}
            for task, cols in data.columns.items():
                est, low, high = auroc_with_ci(y_test[cols], full[cols], cfg.n_resamples, seed)
                row.update({f"auroc_{task}": est, f"auroc_{task}_ci_low": low,
                            f"auroc_{task}_ci_high": high})
            rows.append(row)
            print(f"[{time.perf_counter() - started:6.0f}s] {model:12s} {frac:>5.0%} "
                  f"super {row['auroc_super']:.3f} deepecg {row['auroc_deepecg']:.3f} "
                  f"({seconds:.0f}s)", flush=True)

    per_target = pd.DataFrame()
    if "ssl-linear" in models and "random-linear" in models:
        per_target = probe_per_target(E, E_random, data.Y["train"], y_test, data.columns["super"],
                                      train_sets, seed)
        info["per_target"] = per_target
        for _, r in per_target.iterrows():
            print(f"[{time.perf_counter() - started:6.0f}s] probe {r['target']:5s} "
                  f"{r['fraction']:>5.0%} pretrained {r['auroc_pretrained']:.3f} random "
                  f"{r['auroc_random']:.3f} (p {r['p_value']:.2g})", flush=True)

    delong = []
    if "ssl-finetune" in models and "sl-scratch" in models:
        for frac in fractions:
            for task, cols in data.columns.items():
                summary = delong_summary(y_test[cols], scores[("ssl-finetune", frac)][cols],
                                         scores[("sl-scratch", frac)][cols])
                delong.append({"fraction": frac, "task": task, **summary})
    info["total_seconds"] = time.perf_counter() - started
    info["n_test"] = len(y_test)
    info["n_labels"] = {task: len(cols) for task, cols in data.columns.items()}
    info["test_labels"] = {task: int((y_test[cols].sum() > 0).sum())
                           for task, cols in data.columns.items()}
    return pd.DataFrame(rows), pd.DataFrame(delong), info


# ---------------------------------------------------------------------------- report
def _fmt_ci(row, task):
    return (f"{row[f'auroc_{task}']:.3f} [{row[f'auroc_{task}_ci_low']:.3f}, "
            f"{row[f'auroc_{task}_ci_high']:.3f}]")


def markdown(table: pd.DataFrame, delong: pd.DataFrame, info: dict, cfg: Config, header: str):
    lines = [header, ""]
    lines.append("| model | labels | n train | n valid | epochs | fit s | superdiagnostic AUROC "
                 "[95% CI] | DeepECG-mapped AUROC [95% CI] |")
    lines.append("|---|---:|---:|---:|---:|---:|---|---|")
    for _, r in table.iterrows():
        epochs = "-" if pd.isna(r["epochs"]) else f"{int(r['epochs'])}"
        lines.append(f"| {r['model']} | {r['fraction']:.0%} | {r['n_train']} | {r['n_valid']} | "
                     f"{epochs} | {r['fit_s']:.0f} | {_fmt_ci(r, 'super')} | "
                     f"{_fmt_ci(r, 'deepecg')} |")
    if not delong.empty:
        lines += ["", "DeLong, ssl-finetune vs sl-scratch, per label on the fold-10 subset "
                  "(p < 0.05 counts by direction):", "",
                  "| labels | task | labels tested | median p | SSL better | SL better |",
                  "|---:|---|---:|---:|---:|---:|"]
        for _, r in delong.iterrows():
            lines.append(f"| {r['fraction']:.0%} | {TASK_NAMES[r['task']]} | {r['n_labels']} | "
                         f"{r['median_p']:.3g} | {r['ssl_better']} | {r['sl_better']} |")
    per_target = info.get("per_target")
    if per_target is not None and not per_target.empty:
        lines += ["", "Linear probe per superclass (one-vs-rest), pretrained vs random encoder "
                  "(same architecture and seed), DeLong p of the difference:", "",
                  "| target | labels | n train | pretrained AUROC | random AUROC | difference "
                  "| p |", "|---|---:|---:|---:|---:|---:|---:|"]
        for _, r in per_target.iterrows():
            lines.append(f"| {r['target']} | {r['fraction']:.0%} | {r['n_train']} | "
                         f"{r['auroc_pretrained']:.3f} | {r['auroc_random']:.3f} | "
                         f"{r['difference']:+.3f} | {r['p_value']:.2g} |")
        wins = int((per_target["difference"] > 0).sum())
        lines.append(f"\nPretrained ahead in {wins} of {len(per_target)} target x fraction "
                     "cells.")
    lines.append("")
    if "pretrain_rate" in info:
        lines.append(f"Pretraining: {info['pretrain_epochs']} epochs over {info['n_pretrain']} "
                     f"ECGs in {info['pretrain_seconds']:.0f} s, "
                     f"{info['pretrain_rate']:.1f} ECGs/s; loss (mean of 10 batches) "
                     f"{info['pretrain_loss_first']:.3f} first -> "
                     f"{info['pretrain_loss_last']:.3f} last.")
        lines.append(f"Embedding throughput ({cfg.ssl_module}): {info['embed_rate']:.1f} ECGs/s.")
    mfu = info.get("mfu")
    if mfu:
        peak = f"{mfu['peak']:.0f}" if mfu["peak"] else "unknown (pass --peak-tflops)"
        lines.append(f"Transformer training step, bf16 autocast on {mfu['device']} (batch "
                     f"{mfu['batch']}, {mfu['tokens']} tokens): {mfu['tflops']:.1f} TFLOP/s, "
                     f"{mfu['share']:.1%} of the {peak} TFLOP/s dense bf16 peak.")
    else:
        lines.append("Share of bf16 peak: not measured (CPU run; measured only on CUDA).")
    lines.append(f"Preprocessing of {info['n_pretrain']} ECGs (100 Hz -> 250 Hz): "
                 f"{info['prep_seconds']:.1f} s. Total run: {info['total_seconds']:.0f} s.")
    return "\n".join(lines)


def save_plot(table: pd.DataFrame, path: Path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ecgsk.plotting import plot_label_efficiency

    fig, axes = plt.subplots(1, 2, figsize=(11.0, 4.0))
    for ax, (task, title) in zip(axes, TASK_NAMES.items(), strict=True):
        part = table.rename(columns={f"auroc_{task}": "auroc",
                                     f"auroc_{task}_ci_low": "auroc_ci_low",
                                     f"auroc_{task}_ci_high": "auroc_ci_high"})
        plot_label_efficiency(part, x="fraction", y="auroc", hue="model", ax=ax,
                              title=f"{title}, fold-10 subset")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def parse_list(text: str, kind=float):
    return tuple(kind(v) for v in text.split(",") if v.strip())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", choices=sorted(CONFIGS), default="cpu")
    parser.add_argument("--fractions", default=",".join(str(f) for f in FRACTIONS))
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--pretrain-time", type=float,
                        help="seconds of pretraining at most (checked between epochs)")
    parser.add_argument("--pretrain-epochs", type=int, help="pretraining epochs (cpu config: 1)")
    parser.add_argument("--finetune-time", type=float, help="seconds per fine-tune at most")
    parser.add_argument("--finetune-epochs", type=int)
    parser.add_argument("--n-resamples", type=int)
    parser.add_argument("--threads", type=int, help="torch threads (cpu config: 1)")
    parser.add_argument("--min-valid", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--peak-tflops", type=float, help="bf16 peak of an unlisted GPU")
    parser.add_argument("--force", action="store_true", help="run the gpu config without CUDA")
    args = parser.parse_args(argv)

    cfg = CONFIGS[args.config]
    overrides = {k: v for k, v in {
        "pretrain_time": args.pretrain_time, "pretrain_epochs": args.pretrain_epochs,
        "finetune_time": args.finetune_time,
        "finetune_epochs": args.finetune_epochs, "n_resamples": args.n_resamples,
        "threads": args.threads,
    }.items() if v is not None}
    cfg = replace(cfg, **overrides)
    if cfg.device == "cuda" and not torch.cuda.is_available():
        if not args.force:
            parser.error("--config gpu needs CUDA (this machine has none); add --force to run "
                         "it on the CPU anyway")
        cfg = replace(cfg, device="cpu")
    fractions = parse_list(args.fractions)
    if not fractions or any(not 0 < f <= 1 for f in fractions):
        parser.error(f"--fractions must lie in (0, 1], got {args.fractions!r}")
    models = parse_list(args.models, str)
    unknown = sorted(set(models) - set(MODELS))
    if unknown:
        parser.error(f"unknown models {unknown}; choose from {MODELS}")
    if cfg.threads:
        torch.set_num_threads(cfg.threads)

    load = os.getloadavg()
    when = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    table, delong, info = run(cfg, fractions, models, args.data_dir, args.seed, args.min_valid,
                              args.peak_tflops)
    load_end = os.getloadavg()
    machine = (f"{platform.node()} ({platform.machine()}, {os.cpu_count()} cores, "
               f"torch {torch.__version__}, {torch.get_num_threads()} torch threads, "
               f"device {cfg.device})")
    header = (
        f"### Label efficiency, PTB-XL fold-10 subset ({info['n_test']} ECGs), "
        f"config `{cfg.name}`\n\n"
        f"{when}; {machine}; load average at start {load[0]:.2f} / end {load_end[0]:.2f} "
        f"(1 min).\n"
        f"Command: `{' '.join([Path(sys.argv[0]).name] + (argv or sys.argv[1:]))}`. "
        f"Models: {cfg.ssl_module} (SSL), {cfg.sl_module} (SL); pretraining "
        f"{cfg.pretrain_epochs} epoch(s) (max {cfg.pretrain_time:.0f} s), fine-tune budget {cfg.finetune_time:.0f} s "
        f"(max {cfg.finetune_epochs} epochs), {cfg.n_resamples} bootstrap resamples.\n"
        f"Labels: {info['n_labels']['super']} superclasses; {info['n_labels']['deepecg']} "
        f"DeepECG labels with positives in strat_fold 1-8, {info['test_labels']['deepecg']} of "
        f"them with positives in the test fold (macro AUROC over those). No patient ids in "
        f"the label files: CMSC groups are ecg_ids."
    )
    text = markdown(table, delong, info, cfg, header)
    print()
    print(text)
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    stem = f"label_efficiency_{cfg.name}"
    table.to_csv(OUTPUT_DIR / f"{stem}.csv", index=False)
    if "per_target" in info:
        info["per_target"].to_csv(OUTPUT_DIR / f"{stem}_per_target.csv", index=False)
    (OUTPUT_DIR / f"{stem}.md").write_text(text + "\n")
    save_plot(table, OUTPUT_DIR / f"{stem}.png")
    print(f"\nsaved {OUTPUT_DIR / (stem + '.png')} and the table (.csv, .md)")


if __name__ == "__main__":
    main()
