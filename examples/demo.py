"""End-to-end demo of ecgsk on the bundled real PTB-XL sample.

Run with ``make demo`` (creates the virtual environment on first use); a few minutes on 2 CPU
cores. Figures go to ``demo_output/``. ``python examples/demo.py --quick`` runs a shorter version.

Steps
-----
1. Load 200 real PTB-XL ECGs (500 Hz, 10 s, 12 leads) bundled with ecgsk.
2. Turn them into the DeepECG model input with ``make_deepecg_preprocessing(500)``:
   12 standard leads, 250 Hz, 2500 samples, filtered and normalised per record.
3. Print a per-lead summary and save a 12-lead plot of one record on ECG paper.
4. Train a supervised classifier (PTB-XL superdiagnostic labels) on strat_fold 1-8 and report
   per-label and macro AUROC with 95% bootstrap CIs on the held-out folds 9-10.
5. Label efficiency: pretrain a small DeepECG-SSL encoder on all 200 ECGs without labels, then
   fine-tune it and train the same architecture from scratch with 25% and 100% of the training
   labels; compare held-out macro AUROC, with a DeLong test.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ecgsk import ECGClassifier, ECGPretrainer
from ecgsk.datasets import load_ptbxl_sample
from ecgsk.metrics import classification_report, delong_test
from ecgsk.plotting import plot_ecg, plot_label_efficiency
from ecgsk.preprocessing import make_deepecg_preprocessing

OUTPUT = Path("demo_output")
SEED = 0


def section(title: str) -> None:
    print(f"\n{'=' * 8} {title} {'=' * (80 - len(title))}")


def load_and_preprocess():
    section("1-3. Real ECGs and the DeepECG input")
    sample = load_ptbxl_sample(labels="superdiagnostic")
    X, sfreq, leads = sample.signals, sample.sfreq, sample.leads
    print(f"Loaded {X.shape[0]} real PTB-XL ECGs: {X.shape[1]} leads x {X.shape[2]} samples at {sfreq:g} Hz")
    print("Superdiagnostic label counts:", sample.labels.sum().to_dict())

    preprocessing = make_deepecg_preprocessing(sfreq, input_leads=leads)
    start = time.perf_counter()
    X_model = preprocessing.fit_transform(X)
    elapsed = time.perf_counter() - start
    print(f"make_deepecg_preprocessing({sfreq:g}): {X.shape} -> {X_model.shape} {X_model.dtype} "
          f"in {elapsed * 1000:.0f} ms ({X.shape[0] / elapsed:,.0f} ECGs/s)")
    print("Steps:", " -> ".join(name for name, step in preprocessing.steps if step != "passthrough"))

    summary = pd.DataFrame(
        {
            "raw mean (mV)": X.mean(axis=(0, 2)),
            "raw std (mV)": X.std(axis=(0, 2)),
            "raw peak-to-peak (mV)": np.median(np.ptp(X, axis=2), axis=0),
            "model-input mean": X_model.mean(axis=(0, 2)),
            "model-input std": X_model.std(axis=(0, 2)),
        },
        index=list(leads),
    ).round(3)
    print("\nPer-lead summary over the sample (peak-to-peak is the median over ECGs):")
    print(summary.to_string())

    ecg_id = sample.meta.index[0]
    fig = plot_ecg(X[0], sfreq, leads=leads, title=f"PTB-XL ecg_id {ecg_id} (raw, 500 Hz)")
    path = OUTPUT / f"ptbxl_{ecg_id}_12lead.png"
    fig.savefig(path, dpi=100)
    print(f"\nSaved a 12-lead plot of ecg_id {ecg_id} to {path}")
    return X_model, sample


def train_supervised(X, sample, epochs):
    section("4. Supervised classifier (xresnet1d50), held-out folds 9-10")
    labels, meta = sample.labels, sample.meta
    train = (meta["strat_fold"] <= 8).to_numpy()
    clf = ECGClassifier(
        "xresnet1d50", max_epochs=epochs, batch_size=32, lr=3e-3, lr_schedule="onecycle",
        validation=0.2, patience=8, max_time=120, random_state=SEED,
    )
    clf.fit(X[train], labels[train], groups=meta["patient_id"].to_numpy()[train])
    scores = clf.predict_proba(X[~train])
    report = classification_report(
        labels[~train], scores, categories=None, thresholds=clf.thresholds_, n_resamples=500,
        random_state=SEED,
    )
    columns = ["positives", "auroc", "auroc_ci_low", "auroc_ci_high", "f1"]
    print(f"\nHeld-out ECGs: {int((~train).sum())}; best epoch {clf.best_epoch_} of {clf.n_epochs_}")
    print(report[columns].round(3).to_string())
    return clf


def label_efficiency(X, sample, pretrain_epochs, finetune_epochs):
    section("5. Label efficiency: SSL pretraining vs training from scratch")
    labels, meta = sample.labels, sample.meta
    groups = meta["patient_id"].to_numpy()
    start = time.perf_counter()
    pretrainer = ECGPretrainer(
        "deepecg-ssl-tiny", max_epochs=pretrain_epochs, batch_size=32, lr=1e-3, lr_schedule=None,
        validation=None, random_state=SEED, pretext_options={"n_entries": 64, "n_negatives": 50},
        progress_bar=False,
    )
    pretrainer.fit(X, groups=groups)  # all 200 ECGs, labels unused
    print(f"Pretrained deepecg-ssl-tiny (wav2vec 2.0 + CMSC + random lead masking) for "
          f"{pretrain_epochs} epochs in {time.perf_counter() - start:.0f} s; train loss "
          f"{pretrainer.history_[0, 'train_loss']:.3f} -> {pretrainer.history_[-1, 'train_loss']:.3f}")

    train_idx = np.flatnonzero((meta["strat_fold"] <= 8).to_numpy())
    test = (meta["strat_fold"] > 8).to_numpy()
    rng = np.random.default_rng(SEED)
    rows, scores = [], {}
    for fraction in (0.25, 1.0):
        chosen = np.sort(rng.choice(train_idx, int(round(fraction * len(train_idx))), replace=False))
        for name, extra in (
            ("SSL fine-tuned", {"encoder": pretrainer.encoder_, "finetune": "partial"}),
            ("from scratch", {"module": "deepecg-ssl-tiny"}),
        ):
            clf = ECGClassifier(
                **extra, max_epochs=finetune_epochs, batch_size=16, lr=1e-3, validation=None,
                threshold=0.5, lr_schedule="cosine", random_state=SEED, progress_bar=False, verbose=0,
            )
            clf.fit(X[chosen], labels.iloc[chosen])
            proba = clf.predict_proba(X[test])
            report = classification_report(labels[test], proba, categories=None, n_resamples=300, random_state=SEED)
            macro = report.loc[("macro", "All labels")]
            scores[(fraction, name)] = proba
            rows.append({
                "fraction": fraction, "n_labelled": len(chosen), "model": name,
                "auroc": macro["auroc"], "auroc_ci_low": macro["auroc_ci_low"],
                "auroc_ci_high": macro["auroc_ci_high"],
            })
    table = pd.DataFrame(rows)
    print(table.round(3).to_string(index=False))
    for fraction in (0.25, 1.0):
        test_result = delong_test(labels[test], scores[(fraction, "SSL fine-tuned")], scores[(fraction, "from scratch")])
        defined = test_result[test_result["defined"]]
        print(f"DeLong SSL vs scratch at {fraction:.0%} labels, per label p-values: "
              + ", ".join(f"{label} {p:.2f}" for label, p in defined["p_value"].items()))
    fig = plot_label_efficiency(table, title="Held-out macro AUROC (superdiagnostic)")
    fig.savefig(OUTPUT / "label_efficiency.png", dpi=100)
    print(f"Saved {OUTPUT / 'label_efficiency.png'}")
    print("(200 ECGs is a demonstration, not evidence: see benchmarks/label_efficiency.py for the real comparison.)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer epochs (a smoke run)")
    args = parser.parse_args()
    OUTPUT.mkdir(exist_ok=True)
    X, sample = load_and_preprocess()
    train_supervised(X, sample, epochs=3 if args.quick else 20)
    label_efficiency(X, sample, pretrain_epochs=2 if args.quick else 8, finetune_epochs=2 if args.quick else 10)


if __name__ == "__main__":
    main()
