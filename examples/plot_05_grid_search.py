"""
Cross-validate a downstream task with GridSearchCV
==================================================

Preprocessing steps and deep estimators are ordinary scikit-learn objects, so one
:class:`~sklearn.pipeline.Pipeline` holds both, and
:class:`~sklearn.model_selection.GridSearchCV` tunes them together: here the amplitude
normalisation of the preprocessing and the learning rate of the network, for a binary task
(normal ECG or not) on the bundled PTB-XL sample, with patient-level folds.

The network is a test-size xresnet (``"xresnet1d50-tiny"``), the signals are downsampled to
100 Hz and each fit runs 4 epochs, so that the 9 fits take about a minute on two idle CPU
cores.
"""

# %%
# A pipeline from raw millivolts to probabilities
# -----------------------------------------------
# The preprocessing works on the raw 500 Hz signals inside each fold. Every step is
# computed per record, so nothing leaks from the validation fold into training.
import matplotlib.pyplot as plt
import pandas as pd
from sklearn.model_selection import GridSearchCV, StratifiedGroupKFold
from sklearn.pipeline import Pipeline

from ecgsk.datasets import load_ptbxl_sample
from ecgsk.estimators import ECGClassifier
from ecgsk.preprocessing import BandpassFilter, NormalizeLeads, Resample

sample = load_ptbxl_sample()
keep = (sample.labels.sum(axis=1) > 0).to_numpy()  # 8 records have no superclass
X = sample.signals[keep]
y = 1 - sample.labels["NORM"].to_numpy()[keep]  # 1 = abnormal
patients = sample.meta["patient_id"].to_numpy()[keep]

pipe = Pipeline([
    ("bandpass", BandpassFilter(sample.sfreq, low=0.5, high=40.0)),
    ("resample", Resample(sample.sfreq, 100)),
    ("normalize", NormalizeLeads()),
    ("clf", ECGClassifier("xresnet1d50-tiny", max_epochs=4, batch_size=32,
                          random_state=0, progress_bar=False, verbose=0)),
])

# %%
# The grid search
# ---------------
# Parameters of any step are addressed as ``step__parameter``. The estimator infers its
# input shape at every fit, so the grid could as well change the sampling rate or the
# length. ``"roc_auc"`` scores each fold; ``groups`` keeps every patient in one fold.
grid = GridSearchCV(
    pipe,
    param_grid={
        "normalize__method": ["zscore", "deepecg"],
        "clf__lr": [3e-3, 1e-2],
    },
    cv=StratifiedGroupKFold(n_splits=2, shuffle=True, random_state=0),
    scoring="roc_auc",
)
grid.fit(X, y, groups=patients)

results = pd.DataFrame(grid.cv_results_)
print(results[["param_normalize__method", "param_clf__lr", "mean_test_score",
               "std_test_score", "mean_fit_time"]].round(3).to_string(index=False))
print("best:", grid.best_params_, f"AUROC {grid.best_score_:.3f}")

fig, ax = plt.subplots(figsize=(6, 3))
names = [f"{m}, lr={lr:g}" for m, lr in zip(results["param_normalize__method"],
                                             results["param_clf__lr"], strict=True)]
ax.barh(names, results["mean_test_score"], xerr=results["std_test_score"], color="C0")
ax.axvline(0.5, color="0.5", ls=":", lw=1)  # chance
ax.set(xlabel="AUROC, mean and std over 2 patient-level folds", xlim=(0.3, 1.0))
fig.tight_layout()

# %%
# Two folds of 96 ECGs give noisy scores: compare the differences between configurations
# with their standard deviations over folds before trusting a "best" one. The refitted best
# pipeline (``grid.best_estimator_``) is trained on all the ECGs, with the input shape it
# found; evaluate it on ECGs it has never seen, for instance PTB-XL folds 9 and 10 when the
# search used folds 1 to 8 (as in :ref:`sphx_glr_auto_examples_plot_04_train_classifier.py`).
best = grid.best_estimator_
print(best.named_steps["clf"].n_times_, "samples per lead at",
      best.named_steps["resample"].sfreq_out, "Hz")
plt.show()
