"""
Evaluation report: confidence intervals, DeLong test and fairness
=================================================================

A model's AUROC on a test set is an estimate: :mod:`ecgsk.metrics` reports it with its
confidence interval, per label and averaged, compares two models on the same ECGs with
DeLong's test, and checks whether errors fall equally on women and men, young and old.

The predictions here come from a deliberately simple, real model: a logistic regression on a
few amplitude and slope features per lead, computed from the preprocessed PTB-XL sample,
evaluated with patient-level cross-validation. The same calls apply unchanged to the
predictions of a deep network.
"""

# %%
# Features from preprocessed ECGs
# -------------------------------
# The DeepECG preprocessing (without its amplitude normalisation, so that the features stay
# in millivolts) gives 12 clean leads at 250 Hz. Ten numbers per lead summarise them:
# standard deviation, range, 1st and 99th percentiles, mean absolute slope, and the share of
# the power in five frequency bands (wide QRS complexes, for instance, shift power to lower
# frequencies). The feature function works record by record, so it can sit inside a
# pipeline without leaking anything across folds.
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold, cross_val_predict, cross_val_score
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from ecgsk.datasets import load_ptbxl_sample
from ecgsk.leads import LIMB_LEADS, STANDARD_12
from ecgsk.metrics import (
    age_bins,
    classification_report,
    delong_test,
    expected_calibration_error,
    fairness_report,
    roc_auc_macro,
    select_thresholds,
)
from ecgsk.plotting import plot_calibration, plot_fairness, plot_roc
from ecgsk.preprocessing import make_deepecg_preprocessing

sample = load_ptbxl_sample()
prep = make_deepecg_preprocessing(sample.sfreq, input_leads=sample.leads, normalize=None)
X = prep.fit_transform(sample.signals)  # (200, 12, 2500), mV, 250 Hz


BANDS_HZ = ((0.5, 3), (3, 8), (8, 15), (15, 25), (25, 40))


def lead_features(signals, sfreq=250.0):
    """Ten features per lead: amplitude, slope and spectral shape, (n_ecgs, n_leads * 10)."""
    slope = np.abs(np.diff(signals, axis=-1)).mean(axis=-1) * sfreq  # mV/s
    low, high = np.percentile(signals, [1, 99], axis=-1)
    power = np.abs(np.fft.rfft(signals, axis=-1)) ** 2
    freqs = np.fft.rfftfreq(signals.shape[-1], 1 / sfreq)
    total = power[..., (freqs >= 0.5) & (freqs < 40)].sum(axis=-1)
    shares = [np.log(power[..., (freqs >= a) & (freqs < b)].sum(axis=-1) / total)
              for a, b in BANDS_HZ]
    features = [signals.std(axis=-1), np.ptp(signals, axis=-1), low, high, slope, *shares]
    return np.concatenate(features, axis=1)


# %%
# The task: normal or not
# -----------------------
# PTB-XL's diagnostic superclasses are NORM, MI (infarction), STTC (ST/T changes), CD
# (conduction disturbance) and HYP (hypertrophy). The 8 records without any superclass are
# left out. The folds keep all ECGs of a patient together (``groups``), as any evaluation on
# ECGs must: the same heart recorded twice is easy to recognise.
labels = sample.labels
keep = (labels.sum(axis=1) > 0).to_numpy()
X, labels, meta = X[keep], labels[keep], sample.meta[keep]
y = pd.DataFrame({"abnormal": 1 - labels["NORM"]}, index=labels.index)
patients = meta["patient_id"].to_numpy()
# The same five patient-level folds, stratified on normal/abnormal, serve every model below.
splitter = StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=0)
cv = list(splitter.split(X, y["abnormal"], groups=patients))
print(f"{len(X)} ECGs of {len(np.unique(patients))} patients, "
      f"{int(y['abnormal'].sum())} abnormal")


def model(leads):
    """Logistic regression on the features of some leads; balanced classes put 0.5 at a
    sensible operating point, so no threshold has to be tuned on the test folds."""
    columns = [STANDARD_12.index(name) for name in leads]
    return make_pipeline(
        FunctionTransformer(lambda s: lead_features(s[:, columns])),
        StandardScaler(),
        LogisticRegression(C=0.03, class_weight="balanced", max_iter=2000),
    )


def out_of_fold(estimator, target):
    """Probabilities for each ECG from the fold in which it was held out."""
    proba = cross_val_predict(estimator, X, target, cv=cv, method="predict_proba")
    return proba[:, 1] if proba.ndim == 2 and target.ndim == 1 else proba


score_12 = out_of_fold(model(STANDARD_12), y["abnormal"].to_numpy())
score_limb = out_of_fold(model(LIMB_LEADS), y["abnormal"].to_numpy())

# %%
# The report, with bootstrap confidence intervals
# -----------------------------------------------
# :func:`~ecgsk.metrics.classification_report` gives AUROC, AUPRC and the metrics at the
# decision threshold (here the default 0.5) with 95% bootstrap intervals (1000 resamples of
# the ECGs).
report = classification_report(
    y, pd.DataFrame({"abnormal": score_12}, index=y.index), categories=None,
    n_resamples=1000, random_state=0,
)
columns = ["auroc", "auroc_ci_low", "auroc_ci_high", "auprc", "sensitivity", "specificity"]
print(report.loc["label", columns].round(3).to_string())

# %%
# Comparing two models: DeLong's test
# -----------------------------------
# Do the precordial leads help? Both models are scored on the same ECGs, so their AUROCs are
# correlated, and DeLong's test accounts for that.
test = delong_test(y["abnormal"].to_numpy(), score_12, score_limb)
print(f"12 leads AUROC {test.auc_a:.3f}, limb leads only {test.auc_b:.3f}")
print(f"difference {test.difference:.3f} "
      f"(95% CI {test.ci_low:.3f} to {test.ci_high:.3f}), p = {test.p_value:.3g}")

# %%
# Five labels at once
# -------------------
# The same report for the five superclasses, one logistic regression per label. Per-label
# intervals and the macro average over labels come from the same resamples, so the macro
# interval accounts for the correlation between labels.
superclass = labels[["NORM", "MI", "STTC", "CD", "HYP"]]
ovr = OneVsRestClassifier(model(STANDARD_12))
proba = pd.DataFrame(out_of_fold(ovr, superclass.to_numpy()), index=superclass.index,
                     columns=superclass.columns)
report5 = classification_report(superclass, proba, categories=None, n_resamples=1000,
                                random_state=0)
print(report5.loc[:, ["positives", "auroc", "auroc_ci_low", "auroc_ci_high", "auprc"]]
      .round(3).to_string())

# %%
# ROC curves with their bootstrap bands; the legend repeats each AUROC and its interval.
fig = plot_roc(superclass, proba, by="label", n_resamples=200, random_state=0,
               title="Superclasses, 5-fold patient-level cross-validation")

# %%
# The scorer object :data:`ecgsk.metrics.roc_auc_macro` works as ``scoring=`` (nothing is
# registered in scikit-learn). Unlike ``"roc_auc"``, it skips a label that a small fold lacks
# (with a warning) instead of failing, and takes the multilabel probabilities as they are.
scores = cross_val_score(ovr, X, superclass.to_numpy(), cv=cv, scoring=roc_auc_macro)
print("macro AUROC per fold:", scores.round(3))

# %%
# Fairness across sex and age
# ---------------------------
# :func:`~ecgsk.metrics.fairness_report` computes the true- and false-positive rates of the
# binary decisions in each group and the gap between groups, with bootstrap intervals.
# :func:`~ecgsk.metrics.age_bins` forms the DeepECG paper's age groups. The one record
# without an age is left out.
known_age = meta["age"].notna().to_numpy()
groups = pd.DataFrame({
    "sex": meta["sex"].to_numpy()[known_age],
    "age": age_bins(meta["age"].to_numpy()[known_age]),
})
predicted = (score_12 >= 0.5).astype(int)[known_age]
fair = fairness_report(y["abnormal"].to_numpy()[known_age], predicted, groups,
                       labels=["abnormal"], n_resamples=1000, random_state=0)
print(fair.rates[["n", "positives", "tpr", "fpr"]].round(3).to_string())
print(fair.gaps[["tpr_gap", "tpr_gap_ci_low", "tpr_gap_ci_high", "fpr_gap"]].round(3)
      .to_string())

# %%
# The model detects abnormal ECGs as often in women as in men, but it flags the normal ECGs
# of men far more often (a false-positive rate gap near 0.3). Plausibly, the amplitude
# features read the larger QRS voltages of men as abnormal. Note that the interval of the
# zero true-positive rate gap does not contain zero: a gap is an absolute difference, so its
# resamples are never below zero. With 200 ECGs all intervals are wide, and the oldest group
# has 10 ECGs: the sample is for learning the tools, not for drawing conclusions.
fig = plot_fairness(fair, label="abnormal")

# %%
# Thresholds and calibration
# --------------------------
# A threshold chosen to meet a clinical target must be chosen on data the model was not
# evaluated on. :func:`~ecgsk.metrics.select_thresholds` picks, for instance, the threshold
# with the best specificity at 90% sensitivity; here on the out-of-fold scores of PTB-XL
# folds 1 to 8, to be applied to folds 9 and 10.
development = (meta["strat_fold"] <= 8).to_numpy()
threshold = select_thresholds(y["abnormal"].to_numpy()[development], score_12[development],
                              method=("sensitivity", 0.9))
test_fold = ~development
sensitivity = (score_12[test_fold][y["abnormal"].to_numpy()[test_fold] == 1] >= threshold).mean()
print(f"threshold {threshold:.3f}: sensitivity {sensitivity:.2f} on folds 9-10")

# %%
# Balanced class weights move the probabilities of a logistic regression away from the
# observed frequencies: the decisions are balanced, but the probabilities are not
# calibrated. The reliability diagram and the expected calibration error show it.
ece = expected_calibration_error(y["abnormal"].to_numpy(), score_12, n_bins=5)
print(f"expected calibration error: {ece:.3f}")
fig = plot_calibration(y["abnormal"].to_numpy(), score_12, labels=["abnormal"], n_bins=5)
plt.show()
