"""The defaults under a time budget: the network chosen per device, epochs planned by the
budget, and a regressor that learns a real continuous target with them."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch
from sklearn.pipeline import make_pipeline

from ecgsk.datasets import load_ptbxl_sample
from ecgsk.estimators import ECGClassifier, ECGRegressor
from ecgsk.estimators._base import BUDGET_MAX_EPOCHS, DEFAULT_MAX_EPOCHS
from ecgsk.estimators._supervised import default_network
from ecgsk.nn import build_model
from ecgsk.preprocessing import make_deepecg_preprocessing

FAST = dict(progress_bar=False, verbose=0, batch_size=16)


@pytest.fixture(scope="module")
def sample():
    return load_ptbxl_sample(labels="superdiagnostic", sfreq=100)


def test_the_cpu_default_costs_a_fraction_of_the_published_networks():
    from torch.utils.flop_counter import FlopCounterMode

    def gflop(name):
        model = build_model(name).eval()
        with FlopCounterMode(display=False) as counter, torch.inference_mode():
            model(torch.zeros(1, 12, 2500))
        return counter.get_total_flops() / 1e9

    assert default_network("cpu") == "ecgsk-cnn" and default_network("cuda") == "deepecg-sl"
    cnn = gflop("ecgsk-cnn")
    assert cnn < 0.3
    assert cnn < 0.6 * gflop("xresnet1d50") and cnn < 0.25 * gflop("deepecg-sl")


def test_auto_network_is_visible_on_the_fitted_estimator(sample, capsys):
    X = sample.signals[:40, :, :500].astype(np.float32)
    y = sample.labels.iloc[:40]
    clf = ECGClassifier(max_epochs=1, validation=None, progress_bar=False, batch_size=16)
    clf.fit(X, y)
    assert clf.module == "auto" and clf.module_name_ == "ecgsk-cnn"
    assert "module='auto' on cpu builds 'ecgsk-cnn'" in capsys.readouterr().out


def test_max_epochs_auto_is_30_without_a_budget_and_the_budget_with_one(sample):
    X = sample.signals[:24, :, :250].astype(np.float32)
    y = sample.labels.iloc[:24]
    plain = ECGClassifier("ecgsk-cnn-tiny", lr_schedule=None, validation=None, **FAST)
    plain.fit(X, y)
    assert plain.max_epochs == "auto" and plain.max_epochs_ == DEFAULT_MAX_EPOCHS == 30
    assert plain.n_epochs_ == 30
    budget = ECGClassifier("ecgsk-cnn-tiny", max_time=2.0, validation=None, **FAST).fit(X, y)
    assert budget.max_epochs_ == BUDGET_MAX_EPOCHS
    assert budget.stop_reason_ == "max_time" and budget.n_epochs_ > 3
    set_by_user = ECGClassifier("ecgsk-cnn-tiny", max_epochs=2, max_time=60, validation=None,
                                **FAST).fit(X, y)
    assert set_by_user.max_epochs_ == 2 and set_by_user.n_epochs_ == 2


def test_the_planned_schedule_completes_inside_the_budget_on_a_slow_dataset(sample):
    X = sample.signals[:40, :, :250].astype(np.float32)
    y = sample.labels.iloc[:40]

    class SlowRecords(torch.utils.data.Dataset):  # 10 ms per ECG: about 0.4 s per epoch
        def __len__(self):
            return len(X)

        def __getitem__(self, i):
            time.sleep(0.01)
            return X[i]

    budget = 4.0
    start = time.perf_counter()
    clf = ECGClassifier("ecgsk-cnn-tiny", max_time=budget, lr=1e-2, validation=0.2, **FAST)
    clf.fit(SlowRecords(), y)
    elapsed = time.perf_counter() - start
    assert clf.stop_reason_ in ("max_time", "early_stopping") and clf.n_epochs_ >= 2
    assert sum(clf.history[:, "dur"]) <= budget + 0.5
    assert elapsed < budget + 10  # set-up and the final restore, not more epochs
    if clf.stop_reason_ == "max_time":
        # the cosine was planned over the budget, not over 10,000 epochs: it has decayed
        assert clf.optimizer_.param_groups[0]["lr"] < 0.35 * 1e-2


@pytest.mark.slow
def test_regressor_defaults_learn_age_on_held_out_real_records():
    """ECGRegressor() with only a short budget beats predicting the training mean."""
    data = load_ptbxl_sample(sfreq=500)
    age = data.meta["age"].to_numpy(dtype=np.float64)
    fold = data.meta["strat_fold"].to_numpy()
    known = np.isfinite(age) & (age < 120)  # PTB-XL codes ages over 89 as 300
    train, test = known & (fold <= 8), known & (fold > 8)
    model = make_pipeline(
        make_deepecg_preprocessing(500),
        ECGRegressor(max_time=20, random_state=0, progress_bar=False, verbose=0),
    )
    model.fit(data.signals[train], age[train])
    mae = np.abs(model.predict(data.signals[test]) - age[test]).mean()
    mean_mae = np.abs(age[train].mean() - age[test]).mean()
    assert model[-1].module_name_ == "ecgsk-cnn"
    assert mae < 0.85 * mean_mae, (mae, mean_mae)
