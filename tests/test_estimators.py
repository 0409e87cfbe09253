"""ECGClassifier / ECGRegressor: learning on real PTB-XL records, multilabel semantics,
reproducibility, resume after interruption, sklearn composition, persistence, bad input."""

from __future__ import annotations

import io
import pickle
import tempfile
import time
import warnings
from unittest import mock

import joblib
import numpy as np
import pandas as pd
import pytest
import scipy.sparse
import torch
from sklearn.base import clone
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from skorch.callbacks import Callback

from ecgsk.datasets import load_ptbxl_sample
from ecgsk.estimators import ECGAugment, ECGClassifier, ECGRegressor
from ecgsk.labels import DEEPECG_LABELS

FAST = dict(progress_bar=False, verbose=0, batch_size=16)
TINY = "xresnet1d50-tiny"


# ---------------------------------------------------------------------------- data
@pytest.fixture(scope="module")
def ptbxl100():
    """The 200 real PTB-XL records bundled with ecgsk at 100 Hz (12 x 1000, millivolts) and
    the set of SCP codes of each."""
    sample = load_ptbxl_sample(labels="scp", sfreq=100)
    names = sample.labels.columns.to_numpy()
    codes = [set(names[row > 0]) for row in sample.labels.to_numpy()]
    return sample.signals, codes, sample.meta["patient_id"].to_numpy()


def _scale(X):
    """Centre each lead and scale each record to unit variance (a stand-in for preprocessing)."""
    X = X - X.mean(-1, keepdims=True)
    return (X / (X.std(axis=(1, 2), keepdims=True) + 1e-6)).astype(np.float32)


@pytest.fixture(scope="module")
def small(ptbxl100):
    """60 real records cropped to 2.5 s at 100 Hz: enough for the fast behavioural tests."""
    X, codes, patients = ptbxl100
    Xs = np.ascontiguousarray(_scale(X[:60, :, :250]))
    norm = np.array([int("NORM" in c) for c in codes[:60]])
    labels = pd.DataFrame(
        {
            "NORM": norm,
            "abnormal": 1 - norm,
            "SR": [int("SR" in c) for c in codes[:60]],
            "LVOLT_or_LAFB": [int("LVOLT" in c or "LAFB" in c) for c in codes[:60]],
        }
    )
    return Xs, labels, patients[:60]


class TinyNet(torch.nn.Module):
    """Test double following the ecgsk.nn contract (forward, forward_features, reset_head)."""

    def __init__(self, n_leads=12, n_times=250, n_outputs=2, width=8):
        super().__init__()
        self.width = width
        self.body = torch.nn.Sequential(
            torch.nn.Conv1d(n_leads, width, 7, padding=3),
            torch.nn.BatchNorm1d(width),
            torch.nn.ReLU(),
            torch.nn.Dropout(0.2),
            torch.nn.AdaptiveAvgPool1d(1),
            torch.nn.Flatten(),
        )
        self.head = torch.nn.Linear(width, n_outputs)

    def forward_features(self, x):
        return self.body(x)

    def forward(self, x):
        return self.head(self.forward_features(x))

    def reset_head(self, n_outputs):
        self.head = torch.nn.Linear(self.width, n_outputs)


class InterruptAt(Callback):
    """Raise KeyboardInterrupt at the end of an epoch, as a user pressing Ctrl-C would."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == self.epoch:
            raise KeyboardInterrupt


class LrLog(Callback):
    """Record the learning rate used by every training batch."""

    def __init__(self):
        self.lrs = []

    def on_batch_begin(self, net, training=False, **kwargs):
        if training:
            self.lrs.append(net.optimizer_.param_groups[0]["lr"])


# ---------------------------------------------------------------------------- learning
def test_tiny_model_learns_norm_vs_abnormal_on_real_ptbxl(ptbxl100):
    X, codes, _ = ptbxl100
    X = _scale(X)
    y = np.array([int("NORM" in c) for c in codes])
    clf = ECGClassifier(
        TINY,
        lr=3e-3,
        max_epochs=30,
        patience=None,
        validation=0.15,
        random_state=1,
        progress_bar=False,
        verbose=0,
        batch_size=32,
    )
    clf.fit(X[:140], y[:140])
    auroc = roc_auc_score(y[140:], clf.predict_proba(X[140:])[:, 1])
    assert auroc > 0.7, auroc
    assert clf.task_ == "binary" and list(clf.classes_) == [0, 1]
    assert (clf.n_leads_, clf.n_times_, clf.n_outputs_) == (12, 1000, 1)
    assert set(clf.predict(X[140:])) <= {0, 1}
    assert clf.transform(X[:5]).shape[0] == 5


def test_multilabel_names_shapes_and_per_label_thresholds(small):
    X, labels, _ = small
    clf = ECGClassifier(TINY, max_epochs=3, random_state=0, validation=0.3, **FAST)
    clf.fit(X, labels)
    assert clf.task_ == "multilabel"
    assert list(clf.classes_) == list(labels.columns)
    proba = clf.predict_proba(X)
    assert proba.shape == (60, 4) and np.all((proba >= 0) & (proba <= 1))
    pred = clf.predict(X)
    assert pred.shape == (60, 4) and set(np.unique(pred)) <= {0, 1}
    assert clf.thresholds_.shape == (4,)
    # Youden thresholds are chosen per label, so they differ between labels
    assert len(np.unique(np.round(clf.thresholds_, 6))) > 1
    np.testing.assert_array_equal(pred, (proba >= clf.thresholds_).astype(int))
    assert np.isfinite(clf.history[-1, "valid_auroc"])
    fixed = clone(clf).set_params(threshold=0.3).fit(X, labels)
    np.testing.assert_array_equal(fixed.thresholds_, np.full(4, 0.3))


def test_77_columns_default_to_deepecg_labels_and_warn_on_single_class_labels(small):
    X, labels, _ = small
    y = np.zeros((60, 77), dtype=int)
    y[:, 0] = labels["NORM"]
    y[:, 1] = labels["SR"]
    clf = ECGClassifier(TINY, max_epochs=1, validation=0.3, random_state=0, **FAST)
    with pytest.warns(UserWarning, match="75 of 77 labels have a single class"):
        clf.fit(X, y)
    assert tuple(clf.classes_) == DEEPECG_LABELS
    assert clf.predict_proba(X[:3]).shape == (3, 77)
    assert np.all(clf.thresholds_[2:] == 0.5)


def test_multiclass_keeps_original_labels(small):
    X, labels, _ = small
    y = np.where(labels["NORM"] == 1, "normal", np.where(labels["SR"] == 1, "sinus", "other"))
    clf = ECGClassifier(TINY, max_epochs=2, loss="focal", pos_weight="balanced", **FAST)
    clf.fit(X, y)
    proba = clf.predict_proba(X)
    assert proba.shape == (60, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert set(clf.predict(X)) <= {"normal", "other", "sinus"}
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(1)])
    assert clf.thresholds_ is None


def test_module_class_and_instance_receive_inferred_shapes(small):
    X, labels, _ = small
    clf = ECGClassifier(TinyNet, module__width=5, max_epochs=1, **FAST).fit(X, labels)
    assert clf.module_.width == 5 and clf.module_.head.out_features == 4
    template = TinyNet(n_outputs=9)
    clf = ECGClassifier(template, max_epochs=1, **FAST).fit(X, labels["NORM"])
    assert clf.module_.head.out_features == 1 and clf.module_ is not template
    assert template.head.out_features == 9  # the parameter itself is never trained or changed
    assert clf.transform(X).shape == (60, 8)


def test_shapes_are_inferred_at_every_fit_and_never_written_to_params(small):
    X, labels, _ = small
    clf = ECGClassifier(TINY, max_epochs=1, **FAST)
    params = clf.get_params()
    clf.fit(X, labels)
    clf.fit(X[:, :8, :200], labels["NORM"])
    assert (clf.n_leads_, clf.n_times_, clf.n_outputs_) == (8, 200, 1)
    assert clf.get_params().keys() == params.keys()
    assert not any(k.startswith("module__") for k in clf.get_params())


# ---------------------------------------------------------------------------- reproducibility
def test_random_state_makes_cpu_runs_reproducible(small):
    X, labels, _ = small
    kwargs = dict(max_epochs=2, augment=True, validation=0.3, **FAST)
    a = ECGClassifier(TINY, random_state=3, **kwargs).fit(X, labels).predict_proba(X)
    b = ECGClassifier(TINY, random_state=3, **kwargs).fit(X, labels).predict_proba(X)
    c = ECGClassifier(TINY, random_state=4, **kwargs).fit(X, labels).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_resume_after_interrupt_equals_uninterrupted_run(small, tmp_path):
    X, labels, _ = small
    kwargs = dict(
        max_epochs=4,
        random_state=0,
        validation=0.3,
        augment=True,
        lr_schedule="onecycle",
        patience=3,
        **FAST,
    )
    full = ECGClassifier(TINY, **kwargs).fit(X, labels)

    killed = ECGClassifier(TINY, checkpoint_dir=tmp_path, callbacks=[InterruptAt(2)], **kwargs)
    killed.fit(X, labels)
    assert killed.interrupted_ and len(killed.history) == 2
    resumed = ECGClassifier(TINY, resume=tmp_path, **kwargs).fit(X, labels)
    assert len(resumed.history) == 4 and not resumed.interrupted_
    np.testing.assert_allclose(
        resumed.history[:, "valid_auroc"], full.history[:, "valid_auroc"], rtol=0, atol=1e-12
    )
    np.testing.assert_allclose(
        resumed.history[:, "train_loss"], full.history[:, "train_loss"], rtol=1e-6
    )
    np.testing.assert_allclose(
        resumed.predict_proba(X), full.predict_proba(X), rtol=1e-5, atol=1e-6
    )
    np.testing.assert_array_equal(resumed.thresholds_, full.thresholds_)
    # resuming a finished run trains no further and restores the same best weights
    again = ECGClassifier(TINY, resume=resumed.checkpoint_path_, **kwargs).fit(X, labels)
    assert len(again.history) == 4
    np.testing.assert_allclose(again.predict_proba(X), full.predict_proba(X), rtol=1e-5, atol=1e-6)


def test_warm_start_keeps_training_the_same_network(small):
    X, labels, _ = small
    lrs = LrLog()
    net = ECGClassifier(
        TINY, max_epochs=1, warm_start=True, random_state=0, callbacks=[lrs], **FAST
    )
    net.fit(X, labels)
    first_fit_steps = len(lrs.lrs)
    weights = {k: v.clone() for k, v in net.module_.state_dict().items()}
    module = net.module_
    net.fit(X, labels)
    assert net.module_ is module and len(net.history) == 2
    assert any(not torch.equal(weights[k], v) for k, v in net.module_.state_dict().items())
    # the second fit runs its own cosine schedule, from the peak learning rate down again
    assert lrs.lrs[0] == lrs.lrs[first_fit_steps] == pytest.approx(1e-3)
    assert len(lrs.lrs) == 2 * first_fit_steps
    with pytest.raises(ValueError, match="warm_start=True continues"):
        net.fit(X, labels.iloc[:, :2])


def test_warm_start_continues_an_interrupted_fit_in_memory_without_writing_files(
    small, tmp_path, monkeypatch
):
    X, labels, _ = small
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # any temporary file would land here
    saves = []
    real_save = torch.save
    monkeypatch.setattr(torch, "save", lambda *a, **k: saves.append(a[1]) or real_save(*a, **k))
    kwargs = dict(max_epochs=3, random_state=0, validation=0.3, lr_schedule="onecycle", **FAST)
    full = ECGClassifier(TINY, **kwargs).fit(X, labels)
    net = ECGClassifier(TINY, callbacks=[InterruptAt(1)], warm_start=True, **kwargs)
    with pytest.warns(UserWarning, match="interrupted after epoch 1"):
        net.fit(X, labels)
    assert net.interrupted_ and net.checkpoint_path_ is None
    net.set_params(callbacks=None)
    net.fit(X, labels)
    assert len(net.history) == 3 and not net.interrupted_
    np.testing.assert_allclose(
        net.history[:, "valid_auroc"], full.history[:, "valid_auroc"], rtol=0, atol=1e-12
    )
    np.testing.assert_allclose(net.predict_proba(X), full.predict_proba(X), rtol=1e-5, atol=1e-6)
    # no checkpoint was asked for, so nothing was written anywhere
    assert saves == [] and list(tmp_path.iterdir()) == []


def test_resume_refuses_different_data(small, tmp_path):
    X, labels, _ = small
    net = ECGClassifier(
        TINY, max_epochs=2, checkpoint_dir=tmp_path, callbacks=[InterruptAt(1)], **FAST
    )
    net.fit(X, labels)
    with pytest.raises(ValueError, match="differ from the checkpoint"):
        ECGClassifier(TINY, max_epochs=2, resume=net.checkpoint_path_, **FAST).fit(
            X[:50], labels[:50]
        )


# ---------------------------------------------------------------------------- training features
def test_early_stopping_restores_best_weights(small):
    X, labels, _ = small
    clf = ECGClassifier(
        TINY, max_epochs=8, patience=2, lr=3e-2, validation=0.3, random_state=0, **FAST
    )
    clf.fit(X, labels)
    scores = clf.history[:, "valid_auroc"]
    assert clf.best_epoch_ == int(np.nanargmax(scores)) + 1
    train_idx, valid_idx = clf.split_
    assert len(set(train_idx) & set(valid_idx)) == 0
    y_val = labels.to_numpy()[valid_idx]
    proba = clf.predict_proba(X[valid_idx])
    ok = [k for k in range(4) if 0 < y_val[:, k].sum() < len(y_val)]
    recomputed = np.mean([roc_auc_score(y_val[:, k], proba[:, k]) for k in ok])
    assert recomputed == pytest.approx(scores[clf.best_epoch_ - 1], abs=1e-6)
    if clf.stop_reason_ == "early_stopping":
        assert len(scores) == clf.best_epoch_ + 2


def test_max_time_stops_between_epochs_and_keeps_best_weights(small):
    X, labels, _ = small
    clf = ECGClassifier(TINY, max_epochs=200, max_time=1.5, patience=None, validation=0.3, **FAST)
    clf.fit(X, labels)
    assert clf.stop_reason_ == "max_time" and 1 <= clf.n_epochs_ < 200
    assert sum(clf.history[:, "dur"]) < 1.5 + 1.0
    assert not clf.interrupted_


def test_max_time_also_cuts_a_long_first_epoch(small):
    X, labels, _ = small

    class SlowRecords(torch.utils.data.Dataset):  # 20 ms per ECG: an epoch takes >= 1 s anywhere
        def __len__(self):
            return len(X)

        def __getitem__(self, i):
            time.sleep(0.02)
            return X[i]

    start = time.perf_counter()
    params = {**FAST, "batch_size": 4}
    clf = ECGClassifier(TINY, max_epochs=50, max_time=0.3, patience=None, validation=0.2, **params)
    clf.fit(SlowRecords(), labels)
    elapsed = time.perf_counter() - start
    assert clf.stop_reason_ == "max_time" and clf.n_epochs_ == 1
    n_batches = int(np.ceil(len(clf.split_[0]) / 4))
    assert clf.history[-1, "train_batch_count"] < n_batches  # the epoch ended early
    assert np.isfinite(clf.history[-1, "valid_loss"])  # ...and was still validated
    assert elapsed < 15
    assert clf.predict_proba(X[:3]).shape == (3, labels.shape[1])


def test_a_budget_that_outlasts_the_planned_epochs_is_not_a_stop_reason(small):
    X, labels, _ = small

    class SlowRecords(torch.utils.data.Dataset):  # 50 ms per ECG: an epoch takes about 3 s
        def __len__(self):
            return len(X)

        def __getitem__(self, i):
            time.sleep(0.05)
            return X[i]

    # two epochs end near 6 s, inside the 8.5 s budget; a third would not have fitted
    clf = ECGClassifier(TINY, max_epochs=2, max_time=8.5, patience=None, validation=0.2, **FAST)
    clf.fit(SlowRecords(), labels)
    assert clf.n_epochs_ == 2
    assert clf.stop_reason_ is None and not clf.interrupted_


def test_lr_schedule_follows_the_time_budget(small):
    X, labels, _ = small
    clf = ECGClassifier(TINY, lr=1e-2, lr_schedule="cosine", max_epochs=10_000, max_time=1.0,
                        patience=None, validation=0.2, **FAST).fit(X, labels)
    assert clf.stop_reason_ == "max_time"
    # 10,000 planned epochs would leave the cosine at ~1.0; the budget brings it to its end
    lr = clf.optimizer_.param_groups[0]["lr"]
    assert lr < 0.3 * 1e-2


def test_lr_schedules_and_gradient_clipping(small):
    X, labels, _ = small
    cos = ECGClassifier(TINY, lr=1e-2, max_epochs=2, patience=None, grad_clip=0.5, **FAST).fit(
        X, labels
    )
    assert cos.optimizer_.param_groups[0]["lr"] == pytest.approx(1e-2 * 0.01, rel=1e-6)
    assert dict(cos.callbacks_)["grad_clip"].gradient_clip_value == 0.5
    one = ECGClassifier(TINY, lr=1e-2, max_epochs=2, patience=None, lr_schedule="onecycle", **FAST)
    one.fit(X, labels)
    assert one.optimizer_.param_groups[0]["lr"] < 1e-2 * 1e-3
    flat = ECGClassifier(TINY, lr=1e-2, max_epochs=1, lr_schedule=None, **FAST).fit(X, labels)
    assert flat.optimizer_.param_groups[0]["lr"] == 1e-2


def test_augmentation_is_per_sample_and_never_applied_at_predict_time(small):
    X, labels, _ = small
    aug = ECGAugment(p_gaussian_noise=0.5, p_time_shift=0.5, p_lead_mask=0.5, sfreq=100)
    x = torch.from_numpy(X[:32])
    torch.manual_seed(0)
    out = aug.train()(x)
    changed = (out != x).flatten(1).any(dim=1)
    assert 0 < int(changed.sum()) < 32  # per-ECG coin flips
    assert torch.equal(aug.eval()(x), x)
    clf = ECGClassifier(
        TINY, max_epochs=1, augment={"p_gaussian_noise": 1.0, "noise_std": 5.0}, **FAST
    )
    clf.fit(X, labels)
    first = clf.predict_proba(X)
    np.testing.assert_array_equal(first, clf.predict_proba(X))
    clf.module_.eval()
    with torch.no_grad():
        direct = torch.sigmoid(clf.module_(torch.from_numpy(X))).numpy()
    np.testing.assert_allclose(first, direct, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="unknown option"):
        ECGClassifier(TINY, augment={"bogus": 1}, **FAST).fit(X, labels)


def test_mixed_precision_is_off_on_cpu_and_its_autocast_path_trains(small, monkeypatch):
    X, labels, _ = small
    clf = ECGClassifier(TINY, max_epochs=1, amp=True, device="cpu", **FAST).fit(X, labels)
    assert not clf._amp_enabled()  # mixed precision is a CUDA feature: a no-op on CPU
    # the bfloat16 autocast code path, exercised on CPU
    from ecgsk.estimators._base import _ECGNet

    monkeypatch.setattr(_ECGNet, "_amp_enabled", lambda self: True)
    amp = ECGClassifier(TINY, max_epochs=2, device="cpu", grad_clip=1.0, **FAST).fit(X, labels)
    assert np.isfinite(amp.history[:, "train_loss"]).all()
    assert np.isfinite(amp.predict_proba(X)).all()


def test_groups_give_a_patient_level_validation_split(small):
    X, labels, patients = small
    groups = np.repeat(np.arange(15), 4)
    clf = ECGClassifier(TINY, max_epochs=1, validation=0.3, random_state=0, **FAST)
    clf.fit(X, labels, groups=groups)
    train_idx, valid_idx = clf.split_
    assert set(groups[train_idx]).isdisjoint(groups[valid_idx])
    with pytest.raises(ValueError, match="groups has 10 entries"):
        clf.fit(X, labels, groups=groups[:10])


def test_predefined_validation_set(small):
    X, labels, _ = small
    clf = ECGClassifier(TINY, max_epochs=2, validation=(X[40:], labels[40:]), **FAST)
    clf.fit(X[:40], labels[:40])
    assert clf.split_ == "predefined" and np.isfinite(clf.history[-1, "valid_auroc"])
    with pytest.raises(ValueError, match="validation y must be a 0/1 matrix with 4"):
        clone(clf).set_params(validation=(X[40:], labels.iloc[40:, :2])).fit(X[:40], labels[:40])


def test_lazy_dataset_input_with_dataloader_workers(small):
    X, labels, _ = small

    class Records(torch.utils.data.Dataset):  # e.g. ECGs read from disk one at a time
        def __len__(self):
            return len(X)

        def __getitem__(self, i):
            return X[i], i

    eager = ECGClassifier(TINY, max_epochs=2, random_state=0, **FAST).fit(X, labels)
    lazy = ECGClassifier(TINY, max_epochs=2, random_state=0, num_workers=1, **FAST)
    lazy.fit(Records(), labels)
    np.testing.assert_allclose(lazy.predict_proba(Records()), eager.predict_proba(X), rtol=1e-5)
    np.testing.assert_allclose(lazy.predict_proba(X), eager.predict_proba(X), rtol=1e-5)


def test_progress_bar_is_on_by_default(small, capsys):
    X, labels, _ = small
    clf = ECGClassifier(TINY, max_epochs=1, batch_size=16)
    clf.fit(X, labels)
    names = [name for name, _ in clf.callbacks_]
    assert "progress_bar" in names and "print_log" in names
    out = capsys.readouterr()
    assert "valid_auroc" in out.out  # the per-epoch table
    silent = ECGClassifier(TINY, max_epochs=1, **FAST).fit(X, labels)
    assert "progress_bar" not in [name for name, _ in silent.callbacks_]


# ---------------------------------------------------------------------------- regression
def test_regressor_undoes_target_standardisation(small):
    X, labels, _ = small
    rng = np.random.default_rng(0)
    y = 55.0 + 8.0 * labels["NORM"].to_numpy() + rng.normal(0, 1, 60)
    reg = ECGRegressor(TINY, max_epochs=3, loss="huber", random_state=0, **FAST).fit(X, y)
    pred = reg.predict(X)
    assert pred.shape == (60,) and reg.y_mean_[0] == pytest.approx(y.mean())
    assert abs(pred.mean() - y.mean()) < 8.0  # raw network outputs are ~0; 55+ means undone
    Y = np.column_stack([y, -y])
    reg2 = ECGRegressor(TINY, max_epochs=1, **FAST).fit(X, Y)
    assert reg2.predict(X).shape == (60, 2) and "valid_r2" in reg2.history[-1]
    with pytest.raises(ValueError, match="NaN"):
        reg.fit(X, np.where(np.arange(60) == 3, np.nan, y))
    assert not hasattr(reg, "predict_proba") and not hasattr(reg, "partial_fit")


# ---------------------------------------------------------------------------- sklearn
def test_clone_get_params_set_params_round_trip():
    clf = ECGClassifier(TINY, module__width=4, loss="focal", threshold=("sensitivity", 0.9), **FAST)
    params = clf.get_params(deep=False)
    assert params["module__width"] == 4 and params["device"] == "auto"
    assert "criterion" not in params and "train_split" not in params
    twin = clone(clf)
    assert twin.get_params(deep=False) == params
    twin.set_params(module__width=6, lr=0.5, threshold="f1")
    assert twin.module__width == 6 and twin.lr == 0.5 and clf.module__width == 4
    assert twin.set_params(device="cpu").get_params()["device"] == "cpu"


# sklearn's own API checks that apply to 3-D-input estimators (parametrize_with_checks skips
# every check for them, since its checks generate 2-D data). Skipped here because skorch's
# NeuralNet does it by design: it sets history_/initialized_/virtual_params_ in __init__ and
# builds the callbacks inside set_params(callbacks=...).
SKLEARN_API_CHECKS = [
    "check_parameters_default_constructible",
    "check_get_params_invariance",
    "check_set_params",
    "check_estimator_cloneable",
    "check_estimator_repr",
    "check_estimator_tags_renamed",
    "check_valid_tag_types",
    "check_estimator_sparse_tag",
    "check_mixin_order",
]


@pytest.mark.parametrize("check_name", SKLEARN_API_CHECKS)
@pytest.mark.parametrize("cls", [ECGClassifier, ECGRegressor])
def test_sklearn_api_checks(cls, check_name):
    from sklearn.utils import estimator_checks

    check = getattr(estimator_checks, check_name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(cls.__name__, cls(TINY, max_epochs=1, progress_bar=False, verbose=0))


def test_cross_val_and_parallel_grid_search_over_module_params(small, tmp_path):
    X, labels, patients = small
    y = labels["NORM"].to_numpy()
    clf = ECGClassifier(TinyNet, max_epochs=1, checkpoint_dir=tmp_path, **FAST)
    scores = cross_val_score(
        clf, X, y, cv=GroupKFold(2), groups=np.arange(60) % 6, scoring="roc_auc"
    )
    assert scores.shape == (2,) and np.all((scores >= 0) & (scores <= 1))
    grid = GridSearchCV(clf, {"module__width": [4, 6]}, cv=2, n_jobs=2, scoring="roc_auc").fit(X, y)
    assert grid.best_estimator_.module_.width in (4, 6)
    runs = list(tmp_path.glob("run-*/checkpoint.pt"))
    assert len(runs) == 2 + 4 + 1  # every fit wrote its own checkpoint, no collision


def test_pipeline_with_deepecg_preprocessing_and_grid_search_over_its_params(ptbxl100):
    preprocessing = pytest.importorskip("ecgsk.preprocessing")
    X, codes, _ = ptbxl100
    X, y = X[:48], np.array([int("NORM" in c) for c in codes[:48]])
    pipe = make_pipeline(
        preprocessing.make_deepecg_preprocessing(100),
        ECGClassifier(TINY, max_epochs=1, random_state=0, **FAST),
    )
    scores = cross_val_score(pipe, X, y, cv=2, scoring="roc_auc")
    assert scores.shape == (2,) and np.all(np.isfinite(scores))
    grid = GridSearchCV(
        pipe,
        {"ecgpipeline__crop__n_times": [1000, 1250], "ecgclassifier__module__dropout": [0.1]},
        cv=2,
        scoring="roc_auc",
    ).fit(X, y)
    best = grid.best_estimator_[-1]
    assert best.n_times_ == grid.best_params_["ecgpipeline__crop__n_times"]
    assert "n_times" not in str(best.get_params())  # inferred shapes never become parameters
    assert grid.predict_proba(X).shape == (48, 2)
    with pytest.raises(ValueError, match="12 leads and 1000 samples|expected"):
        best.predict(np.zeros((2, 12, 777), dtype=np.float32))


def test_pickle_and_joblib_round_trip(small, tmp_path):
    X, labels, _ = small
    clf = ECGClassifier(TINY, max_epochs=1, **FAST).fit(X, labels)
    expected = clf.predict_proba(X)
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict_proba(X), expected)
    joblib.dump(clf, tmp_path / "clf.joblib")
    np.testing.assert_array_equal(joblib.load(tmp_path / "clf.joblib").predict(X), clf.predict(X))


def _pickle_as_if_on_cuda(net):
    """Pickle ``net`` with every tensor tagged 'cuda:0', byte for byte as a GPU machine would."""
    net.__dict__["device"] = "cuda"
    return _pickle_with_cuda_storages(net)


def test_model_pickled_on_cuda_loads_on_cpu_only_machine(small):
    X, labels, _ = small
    clf = ECGClassifier(TINY, max_epochs=1, device="cpu", **FAST).fit(X, labels)
    expected = clf.predict_proba(X)
    blob = _pickle_as_if_on_cuda(clf)
    with mock.patch("torch.cuda.is_available", return_value=False):
        with pytest.raises(RuntimeError, match="CUDA"):  # the pickle really holds CUDA storages
            torch.load(io.BytesIO(_cuda_tensor_bytes()), weights_only=True)
        with pytest.warns(Warning, match="no CUDA devices"):
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="Setting self.device")
                loaded = pickle.loads(blob)
        assert loaded.device == "cpu" and loaded.device_ == "cpu"
        np.testing.assert_allclose(loaded.predict_proba(X), expected, rtol=1e-6)
    auto = ECGClassifier(TINY, max_epochs=1, **FAST).fit(X, labels)
    blob = _pickle_with_cuda_storages(auto)
    with mock.patch("torch.cuda.is_available", return_value=False):
        loaded = pickle.loads(blob)
        assert loaded.device == "auto" and loaded.device_ == "cpu"
        np.testing.assert_allclose(loaded.predict_proba(X), auto.predict_proba(X), rtol=1e-6)


def _cuda_tensor_bytes():
    buf = io.BytesIO()
    with mock.patch("torch.serialization.location_tag", return_value="cuda:0"):
        torch.save(torch.ones(3), buf)
    return buf.getvalue()


def _pickle_with_cuda_storages(net):
    with mock.patch("torch.serialization.location_tag", return_value="cuda:0"):
        return pickle.dumps(net)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_real_cuda_training_then_cpu_loading(small):
    X, labels, _ = small
    clf = ECGClassifier(TINY, max_epochs=2, **FAST).fit(X, labels)
    assert clf.device_ == "cuda" and next(clf.module_.parameters()).is_cuda
    expected = clf.predict_proba(X)
    blob = pickle.dumps(clf)
    with mock.patch("torch.cuda.is_available", return_value=False):
        loaded = pickle.loads(blob)
        assert loaded.device_ == "cpu"
        np.testing.assert_allclose(loaded.predict_proba(X), expected, rtol=1e-3, atol=1e-4)


def test_save_load_card_and_identical_predictions(small, tmp_path):
    X, labels, _ = small
    clf = ECGClassifier(TINY, max_epochs=1, validation=0.3, random_state=0, **FAST).fit(X, labels)
    folder = clf.save(tmp_path / "model", sfreq=100, leads=[f"L{i}" for i in range(12)])
    loaded = ECGClassifier.load(folder, device="cpu")
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))
    assert list(loaded.classes_) == list(clf.classes_)
    card = loaded.card_
    assert card["input"] == {
        "n_leads": 12,
        "n_times": 250,
        "sfreq": 100.0,
        "leads": [f"L{i}" for i in range(12)],
    }
    np.testing.assert_array_equal(card["thresholds"], clf.thresholds_)
    assert card["module"] == {"registry": TINY} and "ecgsk_version" in card
    assert (tmp_path / "model" / "weights.safetensors").exists()
    with pytest.raises(ValueError, match="fitted on ECGs with 12 leads and 250 samples"):
        loaded.predict(X[:, :, :200])
    reg = ECGRegressor(TINY, max_epochs=1, **FAST).fit(X, np.arange(60.0))
    reg_loaded = ECGRegressor.load(reg.save(tmp_path / "reg"))
    np.testing.assert_allclose(reg_loaded.predict(X), reg.predict(X), rtol=1e-6)
    with pytest.raises(ValueError, match="holds a ECGRegressor"):
        ECGClassifier.load(tmp_path / "reg")
    instance = ECGClassifier(TinyNet(), max_epochs=1, **FAST).fit(X, labels)
    with pytest.raises(ValueError, match="module instance"):
        instance.save(tmp_path / "inst")


# ---------------------------------------------------------------------------- bad input
def test_bad_inputs_raise_clear_errors(small):
    X, labels, _ = small
    y = labels["NORM"].to_numpy()
    clf = ECGClassifier(TINY, max_epochs=1, **FAST)
    with pytest.raises(ValueError, match="y has 50 rows but X has 60 ECGs"):
        clf.fit(X, y[:50])
    with pytest.raises(ValueError, match="single class"):
        clf.fit(X, np.ones(60))
    bad = labels.astype(float).copy()
    bad.iloc[5, 2] = np.nan
    with pytest.raises(ValueError, match="NaN value.*'SR'"):
        clf.fit(X, bad)
    with pytest.raises(ValueError, match="only 0 and 1"):
        clf.fit(X, labels * 2)
    with pytest.raises(ValueError, match="missing value"):
        clf.fit(X, np.where(y == 1, "a", None))
    Xn = X.copy()
    Xn[2, 3, 4] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        clf.fit(Xn, y)
    with pytest.raises(ValueError, match="empty"):
        clf.fit(X[:0], y[:0])
    with pytest.raises(ValueError, match="3-D"):
        clf.fit(X[0], y)
    with pytest.raises(ValueError, match="max_epochs"):
        clone(clf).set_params(max_epochs=0).fit(X, y)
    with pytest.raises(ValueError, match="validation"):
        clone(clf).set_params(validation=1.5).fit(X, y)
    with pytest.raises(TypeError, match="sparse input is not supported"):
        clf.fit(scipy.sparse.csr_matrix(X[:, 0]), y)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA device is available"):
            clone(clf).set_params(device="cuda").fit(X, y)
    fixed_head = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12 * 250, 3))
    with pytest.raises(ValueError, match=r"returns outputs of shape \(2, 3\)"):
        ECGClassifier(fixed_head, max_epochs=1, **FAST).fit(X, y)
    with pytest.raises(ValueError, match="fails on ECGs of shape"):
        ECGClassifier(fixed_head, max_epochs=1, **FAST).fit(X[:, :, :200], y)
    with pytest.raises(ValueError, match="threshold must be"):
        clone(clf).set_params(threshold=("sensitivty", 0.9)).fit(X, y)
    with pytest.raises(ValueError, match="asymmetric"):
        clone(clf).set_params(loss="asymmetric").fit(X, np.arange(60) % 3)
    clf.fit(X, y)
    with pytest.raises(ValueError, match="X has 11 leads, expected 12"):
        clf.predict(X[:, :11])
    with pytest.raises(ValueError, match="X has 200 samples per lead, expected 250"):
        clf.predict_proba(X[:, :, :200])
    with pytest.raises(ValueError, match="NaN"):
        clf.predict(Xn)
    with pytest.raises(ValueError, match="empty"):
        clf.predict(X[:0])
    with pytest.raises(ValueError, match="labels not seen in training"):
        clone(clf).set_params(validation=(X[:10], np.full(10, 7))).fit(X, y)


def test_unfitted_estimator_refuses_to_predict(small):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        ECGClassifier(TINY).predict(small[0])


# ---------------------------------------------------------------------------- divergence, targets
class NaNLoss(torch.nn.Module):
    """A loss that has diverged."""

    def forward(self, y_pred, y_true):
        return (y_pred * float("nan")).mean()


class NaNWhenEval(TinyNet):
    """Finite while training, NaN outputs at validation."""

    def forward(self, x):
        out = super().forward(x)
        return out if self.training else out * float("nan")


def test_non_finite_outputs_raise_in_predict(small):
    X, labels, _ = small
    clf = ECGClassifier(TINY, max_epochs=1, random_state=0, **FAST).fit(X, labels)
    with torch.no_grad():
        next(clf.module_.head.parameters()).view(-1)[0] = float("nan")  # corrupt weights
    with pytest.raises(ValueError, match="NaN or infinite for 60 of 60 ECGs"):
        clf.predict_proba(X)
    with pytest.raises(ValueError, match="NaN or infinite"):
        clf.predict(X)


def test_non_finite_training_loss_stops_fit_with_advice(small):
    X, labels, _ = small
    clf = ECGClassifier(TINY, loss=NaNLoss(), max_epochs=3, **FAST)
    with pytest.raises(RuntimeError, match=r"training diverged in epoch 1 \(batch 1\): the "
                                           r"training loss is nan; try a lower lr"):
        clf.fit(X, labels)
    assert not clf.interrupted_  # a diverged run is not offered for continuation


def test_non_finite_validation_outputs_stop_fit(small):
    X, labels, _ = small
    clf = ECGClassifier(NaNWhenEval, max_epochs=3, validation=0.3, **FAST)
    with pytest.raises(RuntimeError, match="training diverged in epoch 1.*validation"):
        clf.fit(X, labels)


def test_continuous_target_to_a_classifier_is_refused(small):
    X, _, _ = small
    y = np.linspace(40.0, 70.0, 60)
    with pytest.raises(ValueError, match="continuous values.*use ECGRegressor"):
        ECGClassifier(TINY, max_epochs=1, **FAST).fit(X, y)
    ECGClassifier(TINY, max_epochs=1, **FAST).fit(X, np.tile([0.0, 1.0], 30))  # floats 0/1 ok


def test_duplicate_or_empty_label_names_are_refused(small):
    X, labels, _ = small
    dup = labels.copy()
    dup.columns = ["NORM", "SR", "SR", "X"]
    with pytest.raises(ValueError, match=r"duplicate label columns \['SR'\]"):
        ECGClassifier(TINY, max_epochs=1, **FAST).fit(X, dup)
    empty = labels.copy()
    empty.columns = ["NORM", "", "SR", "X"]
    with pytest.raises(ValueError, match=r"without a name \(positions \[1\]\)"):
        ECGClassifier(TINY, max_epochs=1, **FAST).fit(X, empty)


def test_all_constant_labels_are_refused(small):
    X, _, _ = small
    y = np.zeros((60, 3))
    y[:, 1] = 1
    with pytest.raises(ValueError, match="every one of the 3 labels of y has a single class"):
        ECGClassifier(TINY, max_epochs=1, **FAST).fit(X, y)


def test_threshold_fallback_names_the_labels(small):
    X, labels, _ = small
    y = labels.copy()
    y["rare"] = 0
    y.loc[0, "rare"] = 1  # one positive: the validation split cannot hold both classes
    clf = ECGClassifier(TINY, max_epochs=1, validation=(X[40:], y.iloc[40:]), **FAST)
    with pytest.warns(UserWarning, match=r"lacks a class of \d label\(s\) \(.*'rare'\).*0\.5"):
        clf.fit(X[:40], y.iloc[:40])
    assert clf.thresholds_[-1] == 0.5


def test_target_index_is_matched_to_dataset_ids(small):
    X, labels, _ = small
    y = labels["NORM"].to_numpy()

    class Records(torch.utils.data.Dataset):
        ids = [f"rec{i}" for i in range(60)]

        def __len__(self):
            return 60

        def __getitem__(self, i):
            return X[i]

    kwargs = dict(max_epochs=1, random_state=0, validation=None, threshold=0.5, **FAST)
    ordered = pd.Series(y, index=Records.ids)
    shuffled = ordered.iloc[np.random.default_rng(0).permutation(60)]
    a = ECGClassifier(TINY, **kwargs).fit(Records(), ordered).predict_proba(X)
    b = ECGClassifier(TINY, **kwargs).fit(Records(), shuffled).predict_proba(X)
    np.testing.assert_allclose(a, b, rtol=1e-6)  # aligned by id, not by position
    wrong = pd.Series(y, index=[f"other{i}" for i in range(60)])
    with pytest.raises(ValueError, match="does not match the dataset's record ids"):
        ECGClassifier(TINY, **kwargs).fit(Records(), wrong)


def test_a_user_epoch_scoring_reuses_the_validation_pass(small):
    from skorch.callbacks import EpochScoring

    X, labels, _ = small
    evals = []

    class Counting(TinyNet):
        def forward(self, x):
            if not self.training:
                evals.append(len(x))
            return super().forward(x)

    scoring = EpochScoring("roc_auc", lower_is_better=False, name="user_auc")
    clf = ECGClassifier(Counting, max_epochs=2, validation=0.3, threshold=0.5, random_state=0,
                        callbacks=[scoring], **FAST)
    clf.fit(X, labels["NORM"])
    n_valid = len(clf.split_[1])
    # one validation pass per epoch (plus the probe of the network's output shape): the
    # built-in valid_auroc and the user's roc_auc both scored the cached predictions
    assert sum(evals) == 2 + 2 * n_valid
    np.testing.assert_allclose(clf.history[:, "user_auc"], clf.history[:, "valid_auroc"])
