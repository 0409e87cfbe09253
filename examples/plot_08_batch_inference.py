"""
Batch inference with the ``ecgsk`` command
==========================================

A trained model is scored on new ECGs from the shell: ``ecgsk predict`` runs a saved model
over a folder of records and writes a CSV, ``ecgsk preprocess`` converts the folder into a
chunked store first when it will be read many times, and ``ecgsk evaluate`` compares the
predictions with labels. A file that cannot be read is reported and skipped, and the exit
code says so: nothing is dropped silently and a batch job can check ``$?``.

This example trains a small classifier, saves it, writes 71 real PTB-XL ECGs of the bundled
sample as a folder of WFDB and GE MUSE XML files together with two bad files, and runs the
command on it through :mod:`subprocess`, exactly as a shell would. The network is a
test-size one trained for a few epochs on 129 ECGs: the scores show the output format,
not what a real model achieves. :doc:`/user_guide/cohorts` documents every option.
"""

# %%
# A model saved with its preprocessing
# ------------------------------------
# ``save`` writes the weights and a card holding the labels, thresholds, input shape and
# the preprocessing. The command reads the card and applies that preprocessing to every
# record, so raw 500 Hz files go in, and the network sees 12 leads at 250 Hz.
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import wfdb

from ecgsk.datasets import load_ptbxl_sample
from ecgsk.estimators import ECGClassifier
from ecgsk.io import write_muse_xml
from ecgsk.preprocessing import make_deepecg_preprocessing

sample = load_ptbxl_sample()
prep = make_deepecg_preprocessing(sample.sfreq, input_leads=sample.leads)
X = prep.fit_transform(sample.signals)  # (200, 12, 2500): 10 s at 250 Hz
train = (sample.meta["strat_fold"] <= 8).to_numpy()
clf = ECGClassifier("deepecg-sl-tiny", max_epochs=5, batch_size=32, lr=3e-3, random_state=0,
                    progress_bar=False, verbose=0)
clf.fit(X[train], sample.labels[train], groups=sample.meta["patient_id"].to_numpy()[train])

work = Path(tempfile.mkdtemp())
clf.save(work / "model", sfreq=250, leads=sample.leads, preprocessing=prep)
print(sorted(p.name for p in (work / "model").iterdir()))

# %%
# A folder of records, two of them bad
# ------------------------------------
# The ECGs of PTB-XL folds 9 and 10 (which the model has not seen) become WFDB records
# (``.hea`` + ``.dat``, 16-bit, 1 µV per unit) and, one in ten, GE MUSE XML files. Two files
# cannot be used: a WFDB record whose data file was cut in half, and an XML file that is not
# an ECG.
folder = work / "ecgs"
folder.mkdir()
test = np.flatnonzero(~train)
record_ids = [f"ptbxl{ecg_id:05d}" for ecg_id in sample.meta.index[test]]
for k, (i, name) in enumerate(zip(test, record_ids, strict=True)):
    if k % 10 == 9:
        write_muse_xml(folder / f"{name}.xml", sample.signals[i], sample.sfreq, sample.leads)
    else:
        wfdb.wrsamp(name, fs=sample.sfreq, units=["mV"] * 12, sig_name=list(sample.leads),
                    p_signal=sample.signals[i].T.astype(float), fmt=["16"] * 12,
                    adc_gain=[1000.0] * 12, baseline=[0] * 12, write_dir=str(folder))

header = (folder / f"{record_ids[0]}.hea").read_text()
(folder / "truncated.hea").write_text(header.replace(record_ids[0], "truncated"))
data = (folder / f"{record_ids[0]}.dat").read_bytes()
(folder / "truncated.dat").write_bytes(data[: len(data) // 2])
(folder / "notes.xml").write_text("<notes>call the patient back on Monday</notes>")
print(len(list(folder.iterdir())), "files in", folder.name)

# %%
# The command runs here as ``python -m ecgsk``; installed with pip, it is simply ``ecgsk``.
# Paths are relative to the working folder, as in a shell session.


def ecgsk(*args):
    """Run ``ecgsk ARGS`` in the working folder; print what a terminal would show."""
    run = subprocess.run([sys.executable, "-m", "ecgsk", *args], cwd=work,
                         capture_output=True, text=True)
    print("$ ecgsk", " ".join(args))
    print(run.stdout + run.stderr, end="")
    print(f"exit code: {run.returncode}")
    return run.returncode


# %%
# Predictions
# -----------
# ``ecgsk predict MODEL INPUT --out preds.csv`` reads the records one batch at a time (a
# folder of a million files never has to fit in memory), applies the card's preprocessing,
# and writes one row per record. The two bad files are listed with their reason on stderr
# and in ``preds.failures.csv``; the exit code is 1 ("finished, but some records failed")
# instead of 0. ``--quiet`` hides the progress bar.
code = ecgsk("predict", "model", "ecgs", "--out", "preds.csv", "--quiet")

# %%
# The CSV has the record id (the file name), one probability per label (``p_<label>``) and
# the decision at the card's per-label thresholds (``y_<label>``). The failure log has the
# id, path and reason of every skipped file.
preds = pd.read_csv(work / "preds.csv")
print(preds.head().round(3).to_string(index=False))
print(pd.read_csv(work / "preds.failures.csv")[["record_id", "reason"]].to_string(index=False))

# %%
# The command computes what ``predict_proba`` computes on the same ECGs in memory (up to
# float32 rounding: the command preprocesses batch by batch).
in_memory = clf.predict_proba(X[test])
same_rows = [record_ids.index(name) for name in preds["record_id"]]
difference = np.abs(preds[[f"p_{c}" for c in clf.classes_]].to_numpy() - in_memory[same_rows])
print(f"{len(preds)} records; largest difference from predict_proba: {difference.max():.1e}")

# %%
# A converted store
# -----------------
# A cohort scored many times (several models, embeddings, repeated evaluations) is better
# converted once: ``ecgsk preprocess ... --deepecg`` applies the DeepECG preprocessing and
# writes a chunked zarr store, in parallel (``--jobs``) and resumably (run the same command
# again after an interruption and it continues). Its failures go to ``failures.csv`` inside
# the store. ``--no-preprocessing`` then tells ``predict`` that the store already holds the
# network input.
ecgsk("preprocess", "ecgs", "cohort.zarr", "--deepecg", "--quiet")
ecgsk("predict", "model", "cohort.zarr", "--no-preprocessing", "--out", "preds_store.csv",
      "--quiet")
from_store = pd.read_csv(work / "preds_store.csv")
print("same predictions from the store:",
      np.allclose(from_store.filter(like="p_"), preds.filter(like="p_"), atol=1e-5))

# %%
# Evaluation
# ----------
# ``ecgsk evaluate PREDS LABELS`` joins the predictions with a labels file on
# ``record_id`` and prints the report of :func:`ecgsk.metrics.classification_report` with
# bootstrap confidence intervals; ``--by sex,age`` adds the fairness gaps between groups
# (age in bins). Here the labels file comes from PTB-XL's annotations.
labels = sample.labels.iloc[test].reset_index(drop=True)
labels.insert(0, "record_id", record_ids)
labels["sex"] = sample.meta["sex"].to_numpy()[test]
labels["age"] = sample.meta["age"].to_numpy()[test]
labels.to_csv(work / "labels.csv", index=False)
ecgsk("evaluate", "preds.csv", "labels.csv", "--by", "sex,age", "--n-resamples", "200",
      "--out", "report.csv")

# %%
# With 4 to 31 positive ECGs per label, the intervals are wide, and the gaps between the
# sexes or age groups are measured on a handful of ECGs each: a real evaluation needs a
# real test cohort. ``report.csv`` (and ``report.fairness.csv``) hold the same numbers for
# further analysis.
#
# Finally, the distribution of the predicted probability of a normal ECG, for the ECGs that
# PTB-XL's cardiologists labelled normal and for the others, with the model's threshold.
threshold = clf.thresholds_[list(clf.classes_).index("NORM")]
merged = preds.merge(labels, on="record_id")
fig, ax = plt.subplots(figsize=(6, 3))
bins = np.linspace(merged["p_NORM"].min(), merged["p_NORM"].max(), 16)
for value, name, color in ((1, "labelled NORM", "C0"), (0, "other labels", "C3")):
    ax.hist(merged.loc[merged["NORM"] == value, "p_NORM"], bins=bins, alpha=0.6, color=color,
            label=name)
ax.axvline(threshold, color="k", ls="--", lw=1, label="threshold (card)")
ax.set(xlabel="p_NORM from ecgsk predict", ylabel="ECGs")
ax.legend(fontsize=8)
fig.tight_layout()

# %%
# The probabilities crowd together because a test-size network trained for five epochs on
# 129 ECGs is barely calibrated; the ranking (AUROC) still carries some signal. The
# commands, the files and the exit codes are what a real deployment uses unchanged.
shutil.rmtree(work)
plt.show()
