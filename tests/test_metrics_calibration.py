"""Calibration metrics against scikit-learn and hand computations."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss

from ecgsk.metrics import brier_score, expected_calibration_error, reliability_curve


def test_brier_equals_sklearn_per_label(rng):
    p = rng.random((200, 3))
    y = rng.random((200, 3)) < p
    got = brier_score(y, p)
    for j in range(3):
        assert got[j] == pytest.approx(brier_score_loss(y[:, j], p[:, j]))


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
def test_reliability_curve_equals_sklearn(rng, strategy):
    p = rng.random(500)
    y = rng.random(500) < p ** 1.5
    curve = reliability_curve(y, p, n_bins=8, strategy=strategy)
    frac, mean = calibration_curve(y, p, n_bins=8, strategy=strategy)
    np.testing.assert_allclose(curve["fraction_positive"], frac)
    np.testing.assert_allclose(curve["mean_predicted"], mean)
    assert curve["count"].sum() == 500


def test_ece_by_hand():
    # Two bins of width 0.5: {0.1, 0.2, 0.4} with 1 positive, {0.6, 0.9} with 2 positives.
    # ECE = 3/5 * |1/3 - 0.7/3| + 2/5 * |1 - 0.75| = 0.06 + 0.1 = 0.16
    y = np.array([0, 1, 0, 1, 1])
    p = np.array([0.1, 0.2, 0.4, 0.6, 0.9])
    assert expected_calibration_error(y, p, n_bins=2) == pytest.approx(0.16)
    # Perfectly calibrated bins give 0 (the bin's frequency equals its mean probability).
    assert expected_calibration_error(np.array([0, 1, 0, 1]), np.full(4, 0.5), n_bins=5) == 0.0


def test_ece_is_small_for_calibrated_and_large_for_overconfident(rng):
    p = rng.random((20000, 2))
    y = rng.random((20000, 2)) < p
    overconfident = np.clip((p - 0.5) * 3 + 0.5, 0, 1)
    ece = expected_calibration_error(y, np.c_[p[:, 0], overconfident[:, 1]])
    assert ece[0] < 0.02 and ece[1] > 0.1


def test_errors(rng):
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        brier_score(np.array([0, 1]), np.array([-0.1, 0.5]))
    with pytest.raises(ValueError, match="strategy"):
        reliability_curve(np.array([0, 1]), np.array([0.1, 0.5]), strategy="kmeans")
    with pytest.raises(ValueError, match="n_bins"):
        expected_calibration_error(np.array([0, 1]), np.array([0.1, 0.5]), n_bins=0)
    with pytest.raises(ValueError, match="NaN"):
        brier_score(np.array([0, 1]), np.array([np.nan, 0.5]))
