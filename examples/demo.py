"""End-to-end demo of ecgsk on the bundled real PTB-XL sample.

Run with ``make demo`` (creates the virtual environment on first use).
Writes its figures to ``demo_output/``.

Steps
-----
1. Load 200 real PTB-XL ECGs (500 Hz, 10 s, 12 leads) bundled with ecgsk.
2. Turn them into the DeepECG model input with ``make_deepecg_preprocessing(500)``:
   12 standard leads, 250 Hz, 2500 samples, filtered and normalised per record.
3. Print a per-lead summary and save a 12-lead plot of one record on ECG paper.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from ecgsk.datasets import load_ptbxl_sample
from ecgsk.plotting import plot_ecg
from ecgsk.preprocessing import make_deepecg_preprocessing

OUTPUT = Path("demo_output")


def main() -> None:
    OUTPUT.mkdir(exist_ok=True)
    sample = load_ptbxl_sample(labels="superdiagnostic")
    X, sfreq, leads = sample.signals, sample.sfreq, sample.leads
    print(f"Loaded {X.shape[0]} real PTB-XL ECGs: {X.shape[1]} leads x {X.shape[2]} samples at {sfreq:g} Hz")
    print("Superdiagnostic label counts:", sample.labels.sum().to_dict())

    preprocessing = make_deepecg_preprocessing(sfreq, input_leads=leads)
    start = time.perf_counter()
    X_model = preprocessing.fit_transform(X)
    elapsed = time.perf_counter() - start
    print(f"\nmake_deepecg_preprocessing({sfreq:g}): {X.shape} -> {X_model.shape} {X_model.dtype} "
          f"in {elapsed * 1000:.0f} ms ({X.shape[0] / elapsed:,.0f} ECGs/s)")
    print("Steps:", " -> ".join(name for name, _ in preprocessing.steps))

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

    record = 0
    ecg_id = sample.meta.index[record]
    fig = plot_ecg(X[record], sfreq, leads=leads, title=f"PTB-XL ecg_id {ecg_id} (raw, 500 Hz)")
    path = OUTPUT / f"ptbxl_{ecg_id}_12lead.png"
    fig.savefig(path, dpi=100)
    print(f"\nSaved a 12-lead plot of ecg_id {ecg_id} to {path}")


if __name__ == "__main__":
    main()
