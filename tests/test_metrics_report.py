"""classification_report against scikit-learn and hand computations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import (
    average_precision_score,
    confusion_matrix,
    f1_score,
    roc_auc_score,
)

from ecgsk.labels import DEEPECG_CATEGORIES, DEEPECG_LABELS
from ecgsk.metrics import classification_report

NAMES = ["A", "B", "C", "D", "E"]
CATS = {"AB": ["A", "B"], "CDE": ["C", "D", "E"], "BD": ["B", "D", "Z"]}


def _data(rng, n=500):
    y = rng.random((n, 5)) < [0.3, 0.1, 0.05, 0.4, 0.2]
    s = 1 / (1 + np.exp(-(2 * y - 1 + rng.normal(0, 1.2, y.shape))))
    return y, s


def test_label_rows_equal_sklearn(rng):
    y, s = _data(rng)
    rep = classification_report(y, s, labels=NAMES, categories=CATS, n_resamples=0)
    labels = rep.loc["label"]
    assert list(labels.index) == NAMES
    for j, name in enumerate(NAMES):
        row = labels.loc[name]
        pred = s[:, j] >= 0.5
        tn, fp, fn, tp = confusion_matrix(y[:, j], pred).ravel()
        assert row["auroc"] == pytest.approx(roc_auc_score(y[:, j], s[:, j]), abs=1e-12)
        assert row["auprc"] == pytest.approx(average_precision_score(y[:, j], s[:, j]), abs=1e-12)
        assert row["f1"] == pytest.approx(f1_score(y[:, j], pred), abs=1e-12)
        assert row["sensitivity"] == pytest.approx(tp / (tp + fn))
        assert row["specificity"] == pytest.approx(tn / (tn + fp))
        assert row["ppv"] == pytest.approx(tp / (tp + fp))
        assert row["npv"] == pytest.approx(tn / (tn + fn))
        assert row["positives"] == y[:, j].sum()
        assert row["prevalence"] == pytest.approx(y[:, j].mean())
        assert row["threshold"] == 0.5 and row["defined"]
    assert labels.loc["B", "category"] == "AB; BD"


def test_category_rows_are_macro_and_micro_averages(rng):
    y, s = _data(rng)
    rep = classification_report(y, s, labels=NAMES, categories=CATS, n_resamples=0)
    cols = [0, 1]
    assert rep.loc[("macro", "AB"), "auroc"] == pytest.approx(
        np.mean([roc_auc_score(y[:, j], s[:, j]) for j in cols]))
    assert rep.loc[("micro", "AB"), "auroc"] == pytest.approx(
        roc_auc_score(y[:, cols], s[:, cols], average="micro"))
    assert rep.loc[("micro", "AB"), "auprc"] == pytest.approx(
        average_precision_score(y[:, cols], s[:, cols], average="micro"))
    assert rep.loc[("micro", "AB"), "f1"] == pytest.approx(
        f1_score(y[:, cols], s[:, cols] >= 0.5, average="micro"))
    assert rep.loc[("macro", "CDE"), "f1"] == pytest.approx(
        f1_score(y[:, 2:], s[:, 2:] >= 0.5, average="macro"))
    # "Z" is not among the labels: the category keeps only its present labels.
    assert rep.loc[("macro", "BD"), "n_labels"] == 2
    assert rep.loc[("macro", "All labels"), "n_labels"] == 5
    assert rep.loc[("micro", "All labels"), "auroc"] == pytest.approx(
        roc_auc_score(y, s, average="micro"))


def test_label_without_positives_is_flagged_and_left_out_of_averages(rng):
    y, s = _data(rng)
    y[:, 1] = False
    rep = classification_report(y, s, labels=NAMES, categories=CATS, n_resamples=30,
                                random_state=0)
    row = rep.loc[("label", "B")]
    assert not row["defined"] and row["note"] == "no positives"
    assert np.isnan(row["auroc"]) and np.isnan(row["auprc"]) and np.isnan(row["auroc_ci_low"])
    assert np.isnan(row["sensitivity"]) and np.isnan(row["f1"])
    assert row["specificity"] == pytest.approx(np.mean(s[:, 1] < 0.5))
    ab = rep.loc[("macro", "AB")]
    assert ab["n_defined"] == 1 and ab["auroc"] == pytest.approx(roc_auc_score(y[:, 0], s[:, 0]))
    assert "left out" in ab["note"]
    assert rep.loc[("micro", "AB"), "auroc"] == pytest.approx(roc_auc_score(y[:, 0], s[:, 0]))
    y[:, 3] = True
    rep = classification_report(y, s, labels=NAMES, categories=None, n_resamples=0)
    assert rep.loc[("label", "D"), "note"] == "no negatives"
    assert rep.loc[("macro", "All labels"), "n_defined"] == 3


def test_intervals_bracket_estimates_and_match_bootstrap_ci(rng):
    from ecgsk.metrics import bootstrap_ci

    y, s = _data(rng)
    rep = classification_report(y, s, labels=NAMES, categories=CATS, n_resamples=200,
                                random_state=3)
    for level in ("label", "macro", "micro"):
        part = rep.loc[level]
        for m in ("auroc", "auprc", "f1", "sensitivity", "specificity", "ppv", "npv"):
            ok = part[m].notna()
            assert (part.loc[ok, f"{m}_ci_low"] <= part.loc[ok, m] + 1e-12).all(), (level, m)
            assert (part.loc[ok, f"{m}_ci_high"] >= part.loc[ok, m] - 1e-12).all(), (level, m)
    # Unstratified multilabel resamples with the same seed: the same intervals.
    ref = bootstrap_ci("roc_auc", y, s, n_resamples=200, random_state=3)
    np.testing.assert_allclose(rep.loc["label", "auroc_ci_low"], ref.ci_low)
    macro = bootstrap_ci("roc_auc_macro", y, s, n_resamples=200, random_state=3)
    assert rep.loc[("macro", "All labels"), "auroc_ci_high"] == pytest.approx(macro.ci_high)
    assert rep.attrs["n_resamples"] == 200 and rep.attrs["n_ecgs"] == 500


def test_subsample_method_and_seed_reproducibility(rng):
    y, s = _data(rng)
    a = classification_report(y, s, labels=NAMES, categories=None, n_resamples=50,
                              method="subsample", random_state=1)
    b = classification_report(y, s, labels=NAMES, categories=None, n_resamples=50,
                              method="subsample", random_state=1)
    pd.testing.assert_frame_equal(a, b)
    assert a.attrs["method"] == "subsample"


def test_thresholds_forms(rng):
    y, s = _data(rng)
    kw = {"labels": NAMES, "categories": None, "n_resamples": 0}
    base = classification_report(y, s, thresholds=0.3, **kw)
    assert (base.loc["label", "threshold"] == 0.3).all()
    per = [0.1, 0.2, 0.3, 0.4, 0.5]
    rep = classification_report(y, s, thresholds=per, **kw)
    assert rep.loc[("label", "C"), "sensitivity"] == pytest.approx(
        np.mean(s[y[:, 2], 2] >= 0.3))
    by_name = classification_report(y, s, thresholds=dict(zip(NAMES, per, strict=True)), **kw)
    pd.testing.assert_frame_equal(rep, by_name)
    youden = classification_report(y, s, thresholds="youden", **kw)
    from ecgsk.metrics import select_thresholds
    np.testing.assert_allclose(youden.loc["label", "threshold"], select_thresholds(y, s))
    with pytest.raises(ValueError, match="5 labels"):
        classification_report(y, s, thresholds=[0.5, 0.5], **kw)
    with pytest.raises(ValueError, match="no value"):
        classification_report(y, s, thresholds={"A": 0.5}, **kw)


def test_dataframes_and_deepecg_defaults(rng):
    y = rng.random((300, 77)) < 0.2
    s = y + rng.normal(0, 1, y.shape)
    rep = classification_report(y, s, n_resamples=0)
    assert list(rep.loc["label"].index) == list(DEEPECG_LABELS)
    assert set(rep.loc["macro"].index) == {*DEEPECG_CATEGORIES, "All labels"}
    # DataFrames with a subset of labels: categories keep only the labels present.
    cols = ["Afib", "Atrial flutter", "Left bundle branch block"]
    y_df = pd.DataFrame(y[:, :3], columns=cols)
    s_df = pd.DataFrame(s[:, :3], columns=cols)
    rep = classification_report(y_df, s_df, n_resamples=0)
    assert rep.loc[("macro", "Rhythm Disorders"), "n_labels"] == 2
    assert rep.loc[("macro", "Conduction Disorder"), "n_labels"] == 1
    assert ("macro", "Pericarditis") not in rep.index


def test_bad_inputs(rng):
    y, s = _data(rng, n=50)
    s_nan = s.copy()
    s_nan[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        classification_report(y, s_nan, n_resamples=0)
    with pytest.raises(ValueError, match="mismatched"):
        classification_report(y, s[:, :4], n_resamples=0)
    with pytest.raises(ValueError, match="labels"):
        classification_report(y, s, labels=["A", "B"], n_resamples=0)
    with pytest.raises(ValueError, match="method"):
        classification_report(y, s, n_resamples=10, method="jackknife")
    with pytest.raises(TypeError, match="categories"):
        classification_report(y, s, categories=["A"], n_resamples=0)


# ------------------------------------------------- rows matched on the index (issue 13)


def _indexed(rng, n=400):
    """Ground truth and scores of one model as DataFrames indexed by ECG id."""
    ids = pd.Index([f"ecg{i:04d}" for i in range(n)], name="ecg_id")
    y = rng.random((n, 3)) < [0.3, 0.2, 0.5]
    s = 1 / (1 + np.exp(-(2 * y - 1 + rng.normal(0, 1.0, y.shape))))  # AUROC about 0.92
    return (pd.DataFrame(y.astype(int), index=ids, columns=["A", "B", "C"]),
            pd.DataFrame(s, index=ids, columns=["A", "B", "C"]))


def test_shuffled_dataframe_rows_give_the_same_report(rng):
    y, s = _indexed(rng)
    shuffled = s.sample(frac=1.0, random_state=0)  # same predictions, rows in another order
    base = classification_report(y, s, categories=None, n_resamples=50, random_state=0)
    assert base.loc[("label", "A"), "auroc"] > 0.85
    # matched by position (as before), the shuffled rows looked like chance
    positional = classification_report(y.to_numpy(), shuffled.to_numpy(), labels=list("ABC"),
                                       categories=None, n_resamples=0)
    assert abs(positional.loc[("label", "A"), "auroc"] - 0.5) < 0.1
    again = classification_report(y, shuffled, categories=None, n_resamples=50, random_state=0)
    pd.testing.assert_frame_equal(again, base)
    # a Series ground truth against a Series of scores in another order
    one = classification_report(y["A"], shuffled["A"], categories=None, n_resamples=0)
    assert one.loc[("label", "A"), "auroc"] == pytest.approx(base.loc[("label", "A"), "auroc"])


def test_differing_indexes_are_refused(rng):
    y, s = _indexed(rng)
    renumbered = s.reset_index(drop=True)  # e.g. pd.DataFrame(clf.predict_proba(X), columns=...)
    with pytest.raises(ValueError, match=r"indexes name different rows.*ecg0000.*set_axis"):
        classification_report(y, renumbered, categories=None, n_resamples=0)
    with pytest.raises(ValueError, match="400 rows but y_true has 399"):
        classification_report(y.iloc[:399], s, categories=None, n_resamples=0)
    doubled = s.set_axis(["x"] * len(s))
    with pytest.raises(ValueError, match="duplicate labels"):
        classification_report(y.set_axis(["x"] * len(y)), doubled.iloc[::-1].set_axis(
            ["x"] * (len(s) - 1) + ["y"]), categories=None, n_resamples=0)
    # arrays stay positional: one side an array, the other a DataFrame
    rep = classification_report(y, renumbered.to_numpy(), categories=None, n_resamples=0)
    assert rep.loc[("label", "A"), "auroc"] > 0.85


def test_other_metrics_match_rows_on_the_index(rng):
    from ecgsk.metrics import bootstrap_ci, delong_test, select_thresholds
    from ecgsk.metrics._ranking import roc_auc_per_label

    y, s = _indexed(rng)
    shuffled = s.sample(frac=1.0, random_state=1)
    kw = {"n_resamples": 100, "random_state": 0}
    res = bootstrap_ci("roc_auc_macro", y, shuffled, **kw)
    assert res.estimate == pytest.approx(bootstrap_ci("roc_auc_macro", y, s, **kw).estimate)
    np.testing.assert_allclose(roc_auc_per_label(y, shuffled), roc_auc_per_label(y, s))
    np.testing.assert_allclose(select_thresholds(y, shuffled), select_thresholds(y, s))
    worse = s + rng.normal(0, 0.3, s.shape)
    frame = delong_test(y, shuffled, worse.sample(frac=1.0, random_state=2))
    expected = delong_test(y.to_numpy(), s.to_numpy(), worse.to_numpy(), labels=list("ABC"))
    np.testing.assert_allclose(frame["auc_a"], expected["auc_a"])
    np.testing.assert_allclose(frame["p_value"], expected["p_value"])
    # y_true an array: score_b is matched to score_a's index
    frame = delong_test(y.to_numpy(), s, worse.sample(frac=1.0, random_state=2),
                        labels=list("ABC"))
    np.testing.assert_allclose(frame["auc_b"], expected["auc_b"])
