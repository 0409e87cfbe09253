"""AUROC/AUPRC kernels against scikit-learn, on the data and on explicit resamples."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from ecgsk.metrics import average_precision_per_label, roc_auc_per_label
from ecgsk.metrics._ranking import as_weights, micro_ranking_scores, ranking_scores
from ecgsk.metrics._resampling import resample_counts


def _data(rng, n=400, prevalences=(0.5, 0.2, 0.03, 0.3), decimals=None):
    y = rng.random((n, len(prevalences))) < np.asarray(prevalences)
    s = y + rng.normal(0, 1.0, y.shape)
    if decimals is not None:  # coarse scores: many ties, within and across classes
        s = np.round(s, decimals)
    return y, s


@pytest.mark.parametrize("decimals", [None, 1, 0])
def test_point_estimates_equal_sklearn(rng, decimals):
    y, s = _data(rng, decimals=decimals)
    auc = roc_auc_per_label(y, s)
    ap = average_precision_per_label(y, s)
    for j in range(y.shape[1]):
        assert auc[j] == pytest.approx(roc_auc_score(y[:, j], s[:, j]), abs=1e-12)
        assert ap[j] == pytest.approx(average_precision_score(y[:, j], s[:, j]), abs=1e-12)


@pytest.mark.parametrize("method", ["bootstrap", "subsample"])
def test_resampled_scores_equal_sklearn_on_expanded_resamples(rng, method):
    y, s = _data(rng, n=300, decimals=1)
    counts = resample_counts(300, 25, method, 0.7, None, random_state=3)
    auc, ap = ranking_scores(y, s, as_weights(counts, 300))
    assert auc.shape == ap.shape == (25, y.shape[1])
    for r in range(25):
        take = np.repeat(np.arange(300), counts[r])
        for j in range(y.shape[1]):
            yt, st = y[take, j], s[take, j]
            if yt.all() or not yt.any():
                assert np.isnan(auc[r, j]) and np.isnan(ap[r, j])
                continue
            assert auc[r, j] == pytest.approx(roc_auc_score(yt, st), abs=1e-12)
            assert ap[r, j] == pytest.approx(average_precision_score(yt, st), abs=1e-12)


def test_micro_average_equals_sklearn(rng):
    y, s = _data(rng, decimals=1)
    auc, ap = micro_ranking_scores(y, s)
    assert auc == pytest.approx(roc_auc_score(y, s, average="micro"), abs=1e-12)
    assert ap == pytest.approx(average_precision_score(y, s, average="micro"), abs=1e-12)
    counts = resample_counts(y.shape[0], 5, "bootstrap", random_state=0)
    auc_r, _ = micro_ranking_scores(y, s, as_weights(counts, y.shape[0]))
    take = np.repeat(np.arange(y.shape[0]), counts[2])
    assert auc_r[2] == pytest.approx(roc_auc_score(y[take], s[take], average="micro"), abs=1e-12)


def test_single_class_labels_are_nan_not_errors(rng):
    y, s = _data(rng, n=50)
    y[:, 1] = False
    y[:, 2] = True
    auc = roc_auc_per_label(y, s)
    assert np.isnan(auc[1]) and np.isnan(auc[2]) and np.isfinite(auc[[0, 3]]).all()
    assert np.isnan(average_precision_per_label(y, s)[1])


def test_all_ties_give_one_half():
    y = np.array([0, 1, 0, 1, 1])
    s = np.full(5, 0.3)
    assert roc_auc_per_label(y, s) == 0.5
    assert average_precision_per_label(y, s) == pytest.approx(average_precision_score(y, s))


def test_dataframes_are_aligned_by_column_name(rng):
    y, s = _data(rng)
    cols = ["a", "b", "c", "d"]
    y_df = pd.DataFrame(y, columns=cols)
    s_df = pd.DataFrame(s, columns=cols)[["d", "c", "b", "a"]]
    np.testing.assert_allclose(roc_auc_per_label(y_df, s_df), roc_auc_per_label(y, s))
    np.testing.assert_allclose(roc_auc_per_label(y_df, s_df, labels=["c", "a"]),
                               roc_auc_per_label(y[:, [2, 0]], s[:, [2, 0]]))


@pytest.mark.parametrize(
    ("y", "s", "error", "message"),
    [
        (np.array([0, 1, 1]), np.array([0.1, np.nan, 0.3]), ValueError, "NaN"),
        (np.array([0, 1, 1]), np.array([0.1, np.inf, 0.3]), ValueError, "inf"),
        (np.array([0, 1, 1]), np.array([0.1, 0.2]), ValueError, "mismatched shapes"),
        (np.array([0, 2, 1]), np.array([0.1, 0.2, 0.3]), ValueError, "binary"),
        (np.array([0, np.nan, 1]), np.array([0.1, 0.2, 0.3]), ValueError, "NaN"),
        (np.array(["a", "b"]), np.array([0.1, 0.2]), TypeError, "numbers"),
        (np.zeros((0, 2)), np.zeros((0, 2)), ValueError, "non-empty"),
    ],
)
def test_bad_input_raises(y, s, error, message):
    with pytest.raises(error, match=message):
        roc_auc_per_label(y, s)


try:
    from hypothesis import given, settings
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover - hypothesis is a dev dependency
    given = None

if given is not None:

    @settings(max_examples=60, deadline=None)
    @given(
        st.lists(st.tuples(st.booleans(), st.integers(0, 6), st.integers(0, 3)),
                 min_size=2, max_size=40)
    )
    def test_property_any_small_input_with_weights_matches_sklearn(rows):
        # Integer scores force many ties; integer weights stand for repeated samples.
        y = np.array([r[0] for r in rows])
        s = np.array([float(r[1]) for r in rows])
        w = np.array([r[2] for r in rows])
        auc, ap = ranking_scores(y[:, None], s[:, None], w[:, None].astype(np.float32))
        take = np.repeat(np.arange(len(rows)), w)
        yt, st_ = y[take], s[take]
        if yt.size == 0 or yt.all() or not yt.any():
            assert np.isnan(auc[0, 0]) and np.isnan(ap[0, 0])
        else:
            assert auc[0, 0] == pytest.approx(roc_auc_score(yt, st_), abs=1e-12)
            assert ap[0, 0] == pytest.approx(average_precision_score(yt, st_), abs=1e-12)
