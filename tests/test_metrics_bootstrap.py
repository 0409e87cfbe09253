"""bootstrap_ci: resample draws, agreement with a plain loop, and coverage in simulation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import roc_auc_score

from ecgsk.metrics import bootstrap_ci
from ecgsk.metrics._resampling import resample_counts


def test_bootstrap_counts_are_multinomial_draws():
    counts = resample_counts(500, 300, "bootstrap", random_state=0)
    assert counts.shape == (300, 500)
    assert (counts.sum(axis=1) == 500).all()
    # Each item appears Binomial(n, 1/n) times: mean 1, P(absent) ~ e^-1.
    assert counts.mean() == pytest.approx(1.0)
    assert (counts == 0).mean() == pytest.approx(np.exp(-1), abs=0.01)


def test_subsample_counts_are_70_percent_without_replacement():
    counts = resample_counts(1000, 50, "subsample", 0.7, random_state=0)
    assert set(np.unique(counts)) == {0, 1}
    assert (counts.sum(axis=1) == 700).all()
    assert not np.array_equal(counts[0], counts[1])


def test_stratified_resamples_keep_class_counts():
    y = np.zeros(200, dtype=bool)
    y[:13] = True
    strata = [np.flatnonzero(y), np.flatnonzero(~y)]
    for method, n_pos in (("bootstrap", 13), ("subsample", 9)):
        counts = resample_counts(200, 40, method, 0.7, strata, random_state=1)
        assert (counts[:, y].sum(axis=1) == n_pos).all()


def test_same_seed_same_result_and_generator_accepted(rng):
    y = rng.integers(0, 2, 200)
    s = y + rng.normal(0, 1, 200)
    a = bootstrap_ci("roc_auc", y, s, n_resamples=50, random_state=7)
    b = bootstrap_ci("roc_auc", y, s, n_resamples=50, random_state=7)
    np.testing.assert_array_equal(a.distribution, b.distribution)
    c = bootstrap_ci("roc_auc", y, s, n_resamples=50, random_state=np.random.default_rng(7))
    assert c.distribution.shape == (50,)


@pytest.mark.parametrize("method", ["bootstrap", "subsample"])
def test_vectorised_equals_callable_loop(rng, method):
    y = rng.random((150, 3)) < [0.4, 0.1, 0.3]
    s = np.round(y + rng.normal(0, 1, y.shape), 1)
    fast = bootstrap_ci("roc_auc", y, s, n_resamples=40, method=method, random_state=2)

    def per_label_auc(yt, st):
        return [roc_auc_score(yt[:, j], st[:, j]) if 0 < yt[:, j].sum() < len(yt) else np.nan
                for j in range(yt.shape[1])]

    slow = bootstrap_ci(per_label_auc, y, s, n_resamples=40, method=method, random_state=2)
    np.testing.assert_allclose(fast.distribution, slow.distribution, atol=1e-12)
    np.testing.assert_allclose(fast.estimate, slow.estimate, atol=1e-12)
    np.testing.assert_allclose(fast.ci_low, slow.ci_low, atol=1e-12)
    assert fast.labels == ["label_0", "label_1", "label_2"]


def test_macro_and_micro_variants(rng):
    y = rng.random((300, 3)) < [0.4, 0.1, 0.3]
    s = y + rng.normal(0, 1, y.shape)
    per_label = bootstrap_ci("average_precision", y, s, n_resamples=30, random_state=0)
    macro = bootstrap_ci("average_precision_macro", y, s, n_resamples=30, random_state=0)
    assert macro.estimate == pytest.approx(np.mean(per_label.estimate))
    np.testing.assert_allclose(macro.distribution, per_label.distribution.mean(axis=1))
    micro = bootstrap_ci("roc_auc_micro", y, s, n_resamples=30, random_state=0)
    assert micro.estimate == pytest.approx(roc_auc_score(y, s, average="micro"))
    assert micro.ci_low <= micro.estimate <= micro.ci_high


def test_label_without_positives_is_undefined_not_an_error(rng):
    y = rng.random((100, 2)) < 0.4
    y[:, 1] = False
    res = bootstrap_ci("roc_auc", y, rng.random((100, 2)), n_resamples=20, random_state=0)
    assert np.isnan(res.estimate[1]) and res.n_valid[1] == 0 and res.n_valid[0] == 20
    assert np.isnan(res.ci_low[1])
    frame = res.to_frame()
    assert list(frame.index) == ["label_0", "label_1"]


def test_bootstrap_intervals_cover_the_true_auroc_at_the_nominal_rate():
    # Binormal model: positives ~ N(d, 1), negatives ~ N(0, 1), true AUROC = Phi(d / sqrt 2).
    rng = np.random.default_rng(12345)
    d = 1.0
    true_auc = stats.norm.cdf(d / np.sqrt(2))
    n_sim, covered = 200, 0
    for _ in range(n_sim):
        y = np.r_[np.ones(60, dtype=bool), np.zeros(140, dtype=bool)]
        s = rng.normal(0, 1, 200) + d * y
        res = bootstrap_ci("roc_auc", y, s, n_resamples=300, ci=0.9, random_state=rng)
        covered += res.ci_low <= true_auc <= res.ci_high
    # 90% nominal; with 200 simulations the standard error of the rate is about 2%.
    assert 0.84 <= covered / n_sim <= 0.96


def test_subsample_spread_is_narrower_by_the_expected_factor(rng):
    y = rng.random(3000) < 0.3
    s = y + rng.normal(0, 1, 3000)
    boot = bootstrap_ci("roc_auc", y, s, n_resamples=400, random_state=0)
    sub = bootstrap_ci("roc_auc", y, s, n_resamples=400, method="subsample", random_state=0)
    assert sub.std_error / boot.std_error == pytest.approx(np.sqrt(0.3 / 0.7), rel=0.15)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"n_resamples": 0}, ValueError),
        ({"n_resamples": 2.5}, TypeError),
        ({"method": "jackknife"}, ValueError),
        ({"fraction": 1.0}, ValueError),
        ({"ci": 95}, ValueError),
        ({"metric": "accuracy"}, ValueError),
        ({"metric": 3}, TypeError),
    ],
)
def test_bad_parameters_raise(rng, kwargs, error):
    args = {"metric": "roc_auc", "y_true": np.array([0, 1, 0, 1]),
            "y_score": np.array([0.1, 0.9, 0.3, 0.6])}
    args.update(kwargs)
    with pytest.raises(error):
        bootstrap_ci(**args)


def test_mismatched_shapes_and_nan_raise():
    with pytest.raises(ValueError, match="mismatched"):
        bootstrap_ci("roc_auc", np.array([0, 1, 1]), np.array([0.1, 0.2]))
    with pytest.raises(ValueError, match="NaN"):
        bootstrap_ci("roc_auc", np.array([0, 1]), np.array([np.nan, 0.2]))
