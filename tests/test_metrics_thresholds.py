"""select_thresholds against a brute-force search over every observed score."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.exceptions import UndefinedMetricWarning

from ecgsk.metrics import select_thresholds


def _rates(y, s, t):
    pred = s >= t
    tp = np.sum(pred & y)
    fp = np.sum(pred & ~y)
    return tp / y.sum(), 1 - fp / (~y).sum(), 2 * tp / (pred.sum() + y.sum())


def _brute(y, s, method):
    candidates = np.unique(s)[::-1]  # highest first: ties go to the highest threshold
    rows = np.array([_rates(y, s, t) for t in candidates])
    sens, spec, f1 = rows.T
    if method == "youden":
        value = sens + spec - 1
        return candidates[np.flatnonzero(value >= value.max() - 1e-12)[0]]
    if method == "f1":
        return candidates[np.flatnonzero(f1 >= f1.max() - 1e-12)[0]]
    kind, target = method
    if kind == "sensitivity":
        return candidates[np.flatnonzero(sens >= target)[0]]
    return candidates[np.flatnonzero(spec >= target)[-1]]


@pytest.mark.parametrize("method", ["youden", "f1", ("sensitivity", 0.9), ("specificity", 0.8),
                                    ("sensitivity", 1.0)])
@pytest.mark.parametrize("decimals", [None, 1])
def test_matches_brute_force(rng, method, decimals):
    y = rng.random((300, 3)) < [0.5, 0.1, 0.3]
    s = y * 0.8 + rng.normal(0, 1, y.shape)
    if decimals is not None:
        s = np.round(s, decimals)
    got = select_thresholds(y, s, method=method)
    assert got.shape == (3,)
    for j in range(3):
        assert got[j] == _brute(y[:, j], s[:, j], method)
    if isinstance(method, tuple):
        kind, target = method
        for j in range(3):
            sens, spec, _ = _rates(y[:, j], s[:, j], got[j])
            assert (sens if kind == "sensitivity" else spec) >= target


def test_one_dim_returns_float_and_predictions_reproduce_optimum():
    y = np.array([0, 0, 1, 1, 0, 1], dtype=bool)
    s = np.array([0.1, 0.3, 0.35, 0.8, 0.4, 0.7])
    t = select_thresholds(y, s, method=("sensitivity", 1.0))
    assert isinstance(t, float) and t == 0.35
    assert np.all((s >= t)[y])


def test_single_class_label_gets_half_and_warns(rng):
    y = rng.random((50, 2)) < 0.5
    y[:, 1] = False
    with pytest.warns(UndefinedMetricWarning, match="single class"):
        t = select_thresholds(y, rng.random((50, 2)))
    assert t[1] == 0.5 and t[0] != 0.5


def test_unreachable_specificity_gives_threshold_above_every_score():
    y = np.array([1, 0, 1, 0])
    s = np.array([0.9, 0.9, 0.2, 0.1])  # the top score is shared by a negative
    t = select_thresholds(y, s, method=("specificity", 1.0))
    assert t > s.max()
    assert np.sum((s >= t) & (y == 0)) == 0


@pytest.mark.parametrize("method", ["best", ("sensitivity", 1.5), ("ppv", 0.9), ("specificity",)])
def test_bad_method_raises(method):
    with pytest.raises(ValueError, match="method|target"):
        select_thresholds(np.array([0, 1]), np.array([0.2, 0.8]), method=method)


def test_nan_scores_raise():
    with pytest.raises(ValueError, match="NaN"):
        select_thresholds(np.array([0, 1]), np.array([0.2, np.nan]))
