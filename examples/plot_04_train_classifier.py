"""
Train a deep ECG classifier
===========================

:class:`~ecgsk.estimators.ECGClassifier` is a deep network from the :mod:`ecgsk.nn` registry
behind the scikit-learn API: ``fit``, ``predict_proba``, ``predict``, ``transform``. This
example trains one on the bundled PTB-XL sample with PTB-XL's own split (folds 1-8 to train,
9-10 to test), evaluates it with confidence intervals, saves and reloads it, and shows the
77-label DeepECG set-up.

It uses ``"deepecg-sl-tiny"``, the DeepECG-SL architecture at test size, so that it runs in
seconds on a CPU. With 129 training ECGs the point is the workflow, not the accuracy: the
full-size ``"deepecg-sl"`` needs a real cohort (PTB-XL has about 21,800 ECGs) and a GPU.
"""

# %%
# Data and preprocessing
# ----------------------
import tempfile

import matplotlib.pyplot as plt
import numpy as np

from ecgsk.datasets import load_ptbxl_sample
from ecgsk.estimators import ECGClassifier
from ecgsk.labels import DEEPECG_LABELS
from ecgsk.metrics import classification_report
from ecgsk.plotting import plot_roc
from ecgsk.preprocessing import make_deepecg_preprocessing

sample = load_ptbxl_sample()
prep = make_deepecg_preprocessing(sample.sfreq, input_leads=sample.leads)
X = prep.fit_transform(sample.signals)  # (200, 12, 2500), 250 Hz
Y = sample.labels  # DataFrame: NORM, MI, STTC, CD, HYP
train = (sample.meta["strat_fold"] <= 8).to_numpy()
patients = sample.meta["patient_id"].to_numpy()
print(f"train {train.sum()} ECGs, test {(~train).sum()} ECGs")

# %%
# Training
# --------
# ``fit`` infers the task from ``Y`` (a DataFrame of 0/1 columns: multilabel, one sigmoid per
# label), the input shape from ``X``, and builds the network. It holds out 10% of the training
# ECGs for validation, keeping each patient on one side (``groups``), stops when the
# validation macro AUROC stops improving (restoring the best epoch), and chooses one decision
# threshold per label on the validation ECGs (Youden's index by default).
clf = ECGClassifier(
    "deepecg-sl-tiny", max_epochs=12, batch_size=32, lr=3e-3, random_state=0,
    progress_bar=False,
)
clf.fit(X[train], Y[train], groups=patients[train])
print("classes:", list(clf.classes_))
print("best epoch:", clf.best_epoch_, "thresholds:", clf.thresholds_.round(3))

# %%
# The training curves are in ``history_``.
history = clf.history_
fig, ax = plt.subplots(figsize=(7, 3.2))
ax.plot(history[:, "train_loss"], label="training loss")
ax.plot(history[:, "valid_loss"], label="validation loss")
ax2 = ax.twinx()
ax2.plot(history[:, "valid_auroc"], color="C2", label="validation macro AUROC")
ax.set(xlabel="epoch", ylabel="loss")
ax2.set_ylabel("macro AUROC")
fig.legend(loc="upper center", ncol=3, fontsize=8)
fig.tight_layout()

# %%
# Evaluation on the held-out folds
# --------------------------------
# ``predict_proba`` gives one probability per label; ``predict`` applies the thresholds.
proba = clf.predict_proba(X[~train])
print(proba.shape, clf.predict(X[~train]).shape)
report = classification_report(
    Y[~train], proba, labels=list(clf.classes_), categories=None,
    thresholds=clf.thresholds_, n_resamples=1000, random_state=0,
)
print(report[["positives", "auroc", "auroc_ci_low", "auroc_ci_high", "sensitivity",
              "specificity"]].round(3).to_string())
fig = plot_roc(Y[~train], proba, labels=list(clf.classes_), by="label", n_resamples=0,
               title="deepecg-sl-tiny, PTB-XL folds 9-10")

# %%
# On so few ECGs this small network does no better than the logistic regression on
# hand-made features of :ref:`sphx_glr_auto_examples_plot_03_evaluation_report.py`, and
# its intervals are wide: deep networks pay off with thousands of training ECGs, or with
# an encoder pretrained on unlabelled ones.

# %%
# Embeddings, saving and loading
# ------------------------------
# ``transform`` returns the network's embedding of each ECG, the input of its last layer,
# usable with any scikit-learn model. ``save`` writes the weights (safetensors) and a JSON
# card with the labels, thresholds, input shape, sampling rate and lead order; ``load``
# restores a model ready to predict.
embeddings = clf.transform(X[~train])
print("embeddings:", embeddings.shape)

folder = clf.save(tempfile.mkdtemp(), sfreq=250, leads=sample.leads, preprocessing=prep)
print(sorted(p.name for p in folder.iterdir()))
loaded = ECGClassifier.load(folder, device="cpu")
print("same predictions after loading:",
      np.allclose(loaded.predict_proba(X[~train]), proba, atol=1e-6))
print("card:", {k: loaded.card_["input"][k] for k in ("sfreq", "n_times")})

# %%
# The 77 DeepECG labels
# ---------------------
# DeepECG predicts 77 labels. ``load_ptbxl_sample(labels="deepecg")`` maps PTB-XL's
# statements onto them (:doc:`/user_guide/labels`); a target with 77 columns gets the
# DeepECG label names as ``classes_``. Only 22 of the 77 labels occur in these 200 ECGs, so a
# couple of epochs here only show the mechanics: the report skips the labels without
# positives in the test folds, and averages per DeepECG category over the others.
sample77 = load_ptbxl_sample(labels="deepecg")
Y77 = sample77.labels.to_numpy()
clf77 = ECGClassifier("deepecg-sl-tiny", max_epochs=2, batch_size=32, random_state=0,
                      progress_bar=False, verbose=0)
clf77.fit(X[train], Y77[train], groups=patients[train])
print(len(clf77.classes_), list(clf77.classes_) == list(DEEPECG_LABELS))
report77 = classification_report(Y77[~train], clf77.predict_proba(X[~train]),
                                 n_resamples=0)
print(report77.loc["macro", ["n_labels", "n_defined", "auroc"]].round(3).to_string())
plt.show()
