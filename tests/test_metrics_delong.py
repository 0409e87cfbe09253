"""DeLong test: a slow reference from the definition, a hand-worked example, edge cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ecgsk.metrics import DeLongResult, bootstrap_ci, delong_test


def _slow_delong(y, a, b):
    """DeLong et al. (1988) from the definition: psi kernel and structural components."""
    def psi(x, z):
        return 1.0 if x > z else (0.5 if x == z else 0.0)

    pos, neg = np.flatnonzero(y), np.flatnonzero(~y)
    m, n = len(pos), len(neg)
    v10 = np.zeros((2, m))
    v01 = np.zeros((2, n))
    for k, s in enumerate((a, b)):
        for i, p in enumerate(pos):
            v10[k, i] = sum(psi(s[p], s[q]) for q in neg) / n
        for j, q in enumerate(neg):
            v01[k, j] = sum(psi(s[p], s[q]) for p in pos) / m
    auc = v10.mean(axis=1)
    s10 = np.zeros((2, 2))
    s01 = np.zeros((2, 2))
    for k in range(2):
        for q in range(2):
            s10[k, q] = np.sum((v10[k] - auc[k]) * (v10[q] - auc[q])) / (m - 1)
            s01[k, q] = np.sum((v01[k] - auc[k]) * (v01[q] - auc[q])) / (n - 1)
    cov = s10 / m + s01 / n
    var = cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]
    z = (auc[0] - auc[1]) / np.sqrt(var)
    return auc, cov, z, 2 * stats.norm.sf(abs(z))


@pytest.mark.parametrize("decimals", [None, 1])
def test_matches_slow_reference_to_1e8(rng, decimals):
    y = rng.random(70) < 0.4
    a = y * 1.0 + rng.normal(0, 1, 70)
    b = y * 0.5 + rng.normal(0, 1, 70) + 0.3 * a
    if decimals is not None:
        a, b = np.round(a, decimals), np.round(b, decimals)
    res = delong_test(y, a, b)
    auc, cov, z, p = _slow_delong(y, a, b)
    assert isinstance(res, DeLongResult)
    assert res.auc_a == pytest.approx(auc[0], abs=1e-8)
    assert res.auc_b == pytest.approx(auc[1], abs=1e-8)
    assert res.var_a == pytest.approx(cov[0, 0], abs=1e-8)
    assert res.var_b == pytest.approx(cov[1, 1], abs=1e-8)
    assert res.covariance == pytest.approx(cov[0, 1], abs=1e-8)
    assert res.z == pytest.approx(z, abs=1e-8)
    assert res.p_value == pytest.approx(p, abs=1e-8)


def test_hand_worked_example():
    # Positives score a = (0.9, 0.8, 0.4), b = (0.6, 0.3, 0.5);
    # negatives score a = (0.7, 0.3, 0.2), b = (0.4, 0.1, 0.5).
    # V10_a = (1, 1, 2/3), V01_a = (2/3, 1, 1): AUC_a = 8/9.
    # V10_b = (1, 1/3, 5/6), V01_b = (2/3, 1, 1/2) (the 0.5 tie counts 1/2): AUC_b = 13/18.
    # S10 = [[1/27, -1/54], [-1/54, 13/108]], S01 = [[1/27, 1/108], [1/108, 7/108]];
    # var_a = 2/81, var_b = 5/81, cov = -1/324, var(diff) = 5/54, diff = 1/6,
    # so z = (1/6) / sqrt(5/54) = sqrt(0.3) exactly.
    y = np.array([1, 1, 1, 0, 0, 0])
    a = np.array([0.9, 0.8, 0.4, 0.7, 0.3, 0.2])
    b = np.array([0.6, 0.3, 0.5, 0.4, 0.1, 0.5])
    res = delong_test(y, a, b, ci=0.95)
    assert res.auc_a == pytest.approx(8 / 9)
    assert res.auc_b == pytest.approx(13 / 18)
    assert res.var_a == pytest.approx(2 / 81)
    assert res.var_b == pytest.approx(5 / 81)
    assert res.covariance == pytest.approx(-1 / 324)
    assert res.difference == pytest.approx(1 / 6)
    assert res.z == pytest.approx(np.sqrt(0.3))
    assert res.p_value == pytest.approx(2 * stats.norm.sf(np.sqrt(0.3)))
    half = stats.norm.ppf(0.975) * np.sqrt(5 / 54)
    assert (res.ci_low, res.ci_high) == pytest.approx((1 / 6 - half, 1 / 6 + half))
    assert (res.n_pos, res.n_neg) == (3, 3)


def test_variance_agrees_with_bootstrap(rng):
    y = rng.random(2000) < 0.3
    a = y + rng.normal(0, 1, 2000)
    res = delong_test(y, a, a + rng.normal(0, 1, 2000))
    boot = bootstrap_ci("roc_auc", y, a, n_resamples=500, random_state=0)
    assert np.sqrt(res.var_a) == pytest.approx(boot.std_error, rel=0.15)


def test_detects_a_real_difference_and_not_a_null_one(rng):
    y = rng.random(600) < 0.5
    good = y + rng.normal(0, 0.8, 600)
    bad = y + rng.normal(0, 2.5, 600)
    assert delong_test(y, good, bad).p_value < 1e-4
    same = delong_test(y, good, good)
    assert same.difference == 0 and same.p_value == 1.0 and same.z == 0.0
    # A monotone transform leaves every rank, hence the AUROC, unchanged.
    assert delong_test(y, good, np.exp(good)).p_value == 1.0


def test_multilabel_gives_a_frame_with_undefined_labels(rng):
    y = rng.random((200, 3)) < [0.3, 0.5, 0.0]
    a = y + rng.normal(0, 1, y.shape)
    b = y + rng.normal(0, 1.5, y.shape)
    frame = delong_test(pd.DataFrame(y, columns=["x", "y", "z"]),
                        pd.DataFrame(a, columns=["x", "y", "z"]),
                        pd.DataFrame(b, columns=["x", "y", "z"]))
    assert list(frame.index) == ["x", "y", "z"]
    assert frame["defined"].tolist() == [True, True, False]
    assert np.isnan(frame.loc["z", "p_value"])
    single = delong_test(y[:, 1], a[:, 1], b[:, 1])
    assert frame.loc["y", "p_value"] == pytest.approx(single.p_value)


def test_errors():
    y = np.array([0, 1, 0, 1])
    with pytest.raises(ValueError, match="mismatched"):
        delong_test(y, np.array([0.1, 0.2, 0.3, 0.4]), np.array([0.1, 0.2, 0.3]))
    with pytest.raises(ValueError, match="NaN"):
        delong_test(y, np.array([0.1, 0.2, 0.3, 0.4]), np.array([0.1, np.nan, 0.3, 0.4]))
    with pytest.raises(ValueError, match="ci"):
        delong_test(y, y * 1.0, y * 1.0, ci=1.5)
