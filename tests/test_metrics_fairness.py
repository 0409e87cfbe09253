"""fairness_report and age_bins against hand computations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ecgsk.metrics import FairnessReport, age_bins, fairness_report

# A small table worked by hand. Three age groups, one label.
#   group <=55 : y = 1 1 1 1 0 0 0 0, pred = 1 1 1 0 1 0 0 0 -> TPR 3/4, FPR 1/4
#   group 55-75: y = 1 1 0 0 0 0,     pred = 1 0 0 0 0 0     -> TPR 1/2, FPR 0
#   group >75  : y = 1 1 1 0 0,       pred = 1 1 1 1 1       -> TPR 1,   FPR 1
# TPR gap = mean(|3/4-1/2|, |3/4-1|, |1/2-1|) = (1/4 + 1/4 + 1/2)/3 = 1/3
# FPR gap = mean(|1/4-0|, |1/4-1|, |0-1|) = (1/4 + 3/4 + 1)/3 = 2/3
Y = np.array([1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 1, 1, 1, 0, 0])
PRED = np.array([1, 1, 1, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1])
AGES = np.array([30] * 8 + [60] * 6 + [80] * 5)


def test_age_bins_edges():
    assert age_bins([0, 55, 55.5, 75, 75.01, 101]).tolist() == [
        "<=55", "<=55", "55-75", "55-75", ">75", ">75"]
    assert age_bins(pd.Series([20, 80]), edges=(50,), labels=("young", "old")).tolist() == [
        "young", "old"]
    with pytest.raises(ValueError, match="NaN"):
        age_bins([40, np.nan])
    with pytest.raises(ValueError, match="labels"):
        age_bins([40], edges=(50,))
    with pytest.raises(ValueError, match="non-negative"):
        age_bins([-1])


def test_hand_worked_three_groups():
    rep = fairness_report(Y, PRED, pd.Series(age_bins(AGES), name="age"), n_resamples=0)
    assert isinstance(rep, FairnessReport)
    rates = rep.rates.xs("label_0", level="label").loc["age"]
    assert rates.loc["<=55", ["tpr", "fpr"]].tolist() == [0.75, 0.25]
    assert rates.loc["55-75", ["tpr", "fpr"]].tolist() == [0.5, 0.0]
    assert rates.loc[">75", ["tpr", "fpr"]].tolist() == [1.0, 1.0]
    assert rates.index.tolist() == ["<=55", "55-75", ">75"]  # the bins' own order
    assert rates["n"].tolist() == [8, 6, 5]
    gap = rep.gaps.loc[("age", "label_0")]
    assert gap["tpr_gap"] == pytest.approx(1 / 3)
    assert gap["fpr_gap"] == pytest.approx(2 / 3)
    assert gap["n_groups"] == 3


def test_scores_are_thresholded_and_attributes_from_a_frame(rng):
    scores = np.where(PRED == 1, 0.7, 0.2)
    groups = pd.DataFrame({"sex": np.where(np.arange(19) % 2 == 0, "F", "M"),
                           "age": age_bins(AGES)})
    rep = fairness_report(Y, scores, groups, thresholds=0.5, n_resamples=0)
    assert rep.gaps.loc[("age", "label_0"), "tpr_gap"] == pytest.approx(1 / 3)
    f = (np.arange(19) % 2 == 0)
    tpr_f = PRED[f & (Y == 1)].mean()
    tpr_m = PRED[~f & (Y == 1)].mean()
    assert rep.gaps.loc[("sex", "label_0"), "tpr_gap"] == pytest.approx(abs(tpr_f - tpr_m))
    # A stricter threshold predicts nothing: every rate is 0, so every gap is 0.
    strict = fairness_report(Y, scores, groups, thresholds=0.9, n_resamples=0)
    assert (strict.gaps["tpr_gap"] == 0).all()


def test_multilabel_gaps_average_over_labels_and_have_intervals(rng):
    n = 600
    y = rng.random((n, 3)) < [0.3, 0.2, 0.4]
    sex = rng.choice(["F", "M"], n)
    # Label 0 is predicted worse for women: a real TPR gap.
    s = y + rng.normal(0, 0.5, y.shape)
    s[(sex == "F"), 0] -= 0.8
    rep = fairness_report(y, s, pd.Series(sex, name="sex"), n_resamples=200, random_state=0,
                          labels=None)
    gaps = rep.gaps.loc["sex"]
    assert gaps.loc["label_0", "tpr_gap"] > gaps.loc["label_1", "tpr_gap"]
    assert gaps.loc["All labels", "tpr_gap"] == pytest.approx(
        gaps.loc[["label_0", "label_1", "label_2"], "tpr_gap"].mean())
    assert (gaps["tpr_gap_ci_low"] <= gaps["tpr_gap"] + 1e-12).all()
    assert (gaps["tpr_gap_ci_high"] >= gaps["tpr_gap"] - 1e-12).all()
    assert gaps.loc["label_0", "tpr_gap_ci_low"] > 0.1  # the real gap is clearly resolved
    r = rep.rates.loc[("sex", "F", "label_0")]
    assert r["tpr_ci_low"] <= r["tpr"] <= r["tpr_ci_high"]


def test_group_without_positives_is_left_out_of_the_gap():
    y = np.array([1, 1, 0, 0, 0, 0, 1, 0])
    pred = np.array([1, 0, 0, 1, 0, 0, 1, 0])
    groups = np.array(["a", "a", "a", "a", "b", "b", "c", "c"])
    rep = fairness_report(y, pred, groups, n_resamples=0)
    assert np.isnan(rep.rates.loc[("group", "b", "label_0"), "tpr"])
    # TPR: a = 1/2, c = 1 -> only the (a, c) pair is defined.
    assert rep.gaps.loc[("group", "label_0"), "tpr_gap"] == pytest.approx(0.5)


def test_errors():
    with pytest.raises(ValueError, match="single group"):
        fairness_report(Y, PRED, np.array(["F"] * 19), n_resamples=0)
    groups = np.array(["F", "M"] * 9 + [None], dtype=object)
    with pytest.raises(ValueError, match="missing"):
        fairness_report(Y, PRED, groups, n_resamples=0)
    with pytest.raises(ValueError, match="shape"):
        fairness_report(Y, PRED, np.array(["F", "M"] * 3), n_resamples=0)
    with pytest.raises(ValueError, match="mismatched"):
        fairness_report(Y, PRED[:-1], np.array(["F", "M"] * 9 + ["F"]), n_resamples=0)
    with pytest.raises(ValueError, match="NaN"):
        fairness_report(Y, np.r_[np.nan, PRED[1:] * 0.5], np.array(["F", "M"] * 9 + ["F"]),
                        n_resamples=0)


def test_pandas_rows_are_matched_on_the_index(rng):
    """Issue 13: shuffled predictions and groups give the same rates, not noise."""
    n = 300
    ids = pd.Index([f"p{i}" for i in range(n)])
    y = pd.Series(rng.integers(0, 2, n), index=ids, name="AF")
    score = pd.Series(np.clip(y + rng.normal(0, 0.3, n), 0, 1), index=ids, name="AF")
    sex = pd.Series(np.where(rng.random(n) < 0.5, "F", "M"), index=ids, name="sex")
    base = fairness_report(y, score, sex, n_resamples=0)
    shuffled = fairness_report(y, score.sample(frac=1, random_state=0),
                               sex.sample(frac=1, random_state=1), n_resamples=0)
    pd.testing.assert_frame_equal(shuffled.rates, base.rates)
    pd.testing.assert_frame_equal(shuffled.gaps, base.gaps)
    frame = pd.DataFrame({"sex": sex}).sample(frac=1, random_state=2)
    pd.testing.assert_frame_equal(fairness_report(y, score, frame, n_resamples=0).rates,
                                  base.rates)
    with pytest.raises(ValueError, match=r"y_true and groups .*indexes name different rows"):
        fairness_report(y, score, sex.reset_index(drop=True), n_resamples=0)
    # arrays are positional
    arrays = fairness_report(y.to_numpy(), score.to_numpy(), sex.to_numpy(), n_resamples=0)
    np.testing.assert_allclose(arrays.rates["tpr"], base.rates["tpr"])
