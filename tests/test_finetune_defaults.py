"""Fine-tuning a DeepECG-SSL encoder follows the release's recipe unless the user overrides it.

The recipe (HeartWise-AI/DeepECG-SSL-finetune, examples/w2v_cmsc/config/finetuning/
ecg_transformer/diagnosis*.yaml): Adam (0.9, 0.98), lr 5e-5, ``lr_scheduler: fixed`` without
warm-up, ``feature_grad_mult: 0.0`` (conv feature encoder frozen), dropout 0, attention dropout
0, activation dropout 0.1 (input and final dropout 0: the fine-tuning config defaults), no
weight decay (the configs set none; fairseq's Adam defaults to 0).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from skorch.callbacks import Callback

from ecgsk import ECGClassifier, ECGPretrainer, ECGRegressor
from ecgsk.datasets import load_ptbxl_sample

QUIET = {"progress_bar": False, "verbose": 0}
FIT = {"max_epochs": 2, "batch_size": 16, "validation": None, "threshold": 0.5, "random_state": 0}
# the release's fine-tuning values, written out here (not read from ecgsk)
RELEASE_LR = 5e-5
RELEASE_BETAS = (0.9, 0.98)
RELEASE_DROPOUT, RELEASE_ATTENTION, RELEASE_ACTIVATION = 0.0, 0.0, 0.1
RELEASE_WEIGHT_DECAY = 0.0


class RecordLR(Callback):
    """Learning rate of every parameter group after every training step."""

    def initialize(self):
        self.lrs_ = []
        return self

    def on_batch_end(self, net, training=False, **kwargs):
        if training:
            self.lrs_.append([g["lr"] for g in net.optimizer_.param_groups])


@pytest.fixture(scope="module")
def sample():
    """40 bundled real PTB-XL records at 100 Hz, 10 s (12 x 1000), and their NORM label."""
    bunch = load_ptbxl_sample(sfreq=100, labels="superdiagnostic")
    X = np.ascontiguousarray(bunch.signals[:40, :, :1000], dtype=np.float32)
    y = bunch.labels["NORM"].to_numpy()[:40]
    assert 0 < y.sum() < len(y)
    return X, y, bunch.meta["age"].to_numpy(dtype=float)[:40]


@pytest.fixture(scope="module")
def pretrained(sample):
    pre = ECGPretrainer("deepecg-ssl-tiny", sfreq=100, max_epochs=1, batch_size=16, validation=None,
                        random_state=0, pretext_options={"n_entries": 16, "n_negatives": 10}, **QUIET)
    return pre.fit(sample[0])


def _dropouts(model):
    """(dropout, attention, activation, input, stack input, head) probabilities of a transformer."""
    layers = list(model.layers)
    drop = {layer.dropout.p for layer in layers}
    attn = {layer.attn.dropout for layer in layers}
    act = {layer.activation_dropout.p for layer in layers}
    assert len(drop) == len(attn) == len(act) == 1, "every layer has the same dropouts"
    return (drop.pop(), attn.pop(), act.pop(), model.input_dropout.p, model.encoder_dropout.p,
            model.head.dropout.p)


def test_ssl_encoder_defaults_are_the_release_recipe(pretrained, sample):
    X, y, _ = sample
    encoder = pretrained.encoder_
    before = {k: v.clone() for k, v in encoder.state_dict().items()}
    grads_before = {n: p.requires_grad for n, p in encoder.named_parameters()}
    dropouts_before = _dropouts(encoder)
    assert dropouts_before[:3] == (0.1, 0.1, 0.0)  # the pretraining dropouts

    record = RecordLR()
    clf = ECGClassifier(encoder=encoder, callbacks=[("record", record)], **FIT, **QUIET).fit(X, y)

    # the optimiser: Adam betas (0.9, 0.98), lr 5e-5, fixed over every step
    groups = clf.optimizer_.param_groups
    assert [g["lr"] for g in groups] == [RELEASE_LR] and groups[0]["betas"] == RELEASE_BETAS
    assert groups[0]["weight_decay"] == RELEASE_WEIGHT_DECAY
    assert len(record.lrs_) >= 4
    assert all(step == [RELEASE_LR] for step in record.lrs_)
    assert "lr_schedule" not in dict(clf.callbacks_)
    # the conv feature encoder frozen (feature_grad_mult 0), everything else trained
    grads = {n: p.requires_grad for n, p in clf.module_.named_parameters()}
    conv = [n for n in grads if n.startswith("feature_encoder.")]
    assert conv and not any(grads[n] for n in conv)
    assert all(grads[n] for n in grads if n not in conv)
    optimised = {id(p) for g in groups for p in g["params"]}
    assert not any(id(p) in optimised for p in clf.module_.feature_encoder.parameters())
    # the fine-tuning dropouts on the copy
    assert _dropouts(clf.module_) == (RELEASE_DROPOUT, RELEASE_ATTENTION, RELEASE_ACTIVATION,
                                      0.0, RELEASE_DROPOUT, 0.0)
    # the fitted attributes say what was used; the parameters stay "auto"
    assert (clf.lr_, clf.lr_schedule_, clf.weight_decay_, clf.finetune_, clf.recipe_) == (
        RELEASE_LR, None, RELEASE_WEIGHT_DECAY, "partial", "deepecg-ssl")
    params = clf.get_params()
    for name in ("lr", "lr_schedule", "weight_decay", "finetune", "encoder_dropout"):
        assert params[name] == "auto", name
    # the user's encoder object is untouched: weights, dropouts, trainable flags
    assert _dropouts(encoder) == dropouts_before
    assert {n: p.requires_grad for n, p in encoder.named_parameters()} == grads_before
    for key, value in encoder.state_dict().items():
        torch.testing.assert_close(value, before[key])
    # and the copy did train
    state = clf.module_.state_dict()
    assert not torch.equal(state["layers.0.fc1.weight"], before["layers.0.fc1.weight"])
    torch.testing.assert_close(state["feature_encoder.layers.0.0.weight"],
                               before["feature_encoder.layers.0.0.weight"])


def test_explicit_values_win_over_the_recipe(pretrained, sample):
    X, y, _ = sample
    record = RecordLR()
    clf = ECGClassifier(encoder=pretrained, lr=1e-3, finetune="full", lr_schedule="cosine",
                        encoder_dropout={"activation_dropout": 0.2}, optimizer__betas=(0.8, 0.99),
                        weight_decay=0.05, callbacks=[("record", record)], **FIT, **QUIET).fit(X, y)
    assert (clf.lr_, clf.lr_schedule_, clf.weight_decay_, clf.finetune_) == (
        1e-3, "cosine", 0.05, "full")
    group = clf.optimizer_.param_groups[0]
    assert group["initial_lr"] == 1e-3 and group["betas"] == (0.8, 0.99)
    assert group["weight_decay"] == 0.05
    lrs = [step[0] for step in record.lrs_]
    assert lrs[-1] < lrs[0] <= 1e-3  # cosine decay from the user's peak
    assert all(p.requires_grad for p in clf.module_.parameters())
    # the user's key wins, the other dropouts are the recipe's
    assert _dropouts(clf.module_)[:3] == (RELEASE_DROPOUT, RELEASE_ATTENTION, 0.2)
    # None keeps the encoder's own (pretraining) dropouts
    keep = ECGClassifier(encoder=pretrained, encoder_dropout=None, max_epochs=1, batch_size=16,
                         validation=None, threshold=0.5, **QUIET).fit(X, y)
    assert _dropouts(keep.module_)[:3] == (0.1, 0.1, 0.0)
    assert keep.lr_ == RELEASE_LR and keep.finetune_ == "partial"


def test_without_an_ssl_encoder_the_ecgsk_defaults_hold(pretrained, sample):
    X, y, _ = sample
    record = RecordLR()
    # the same transformer trained from scratch is not a fine-tune: lr 1e-3, cosine, AdamW betas
    scratch = ECGClassifier("deepecg-ssl-tiny", callbacks=[("record", record)], **FIT, **QUIET)
    scratch.fit(X, y)
    assert (scratch.lr_, scratch.lr_schedule_, scratch.finetune_, scratch.recipe_) == (
        1e-3, "cosine", "full", "ecgsk")
    group = scratch.optimizer_.param_groups[0]
    assert group["initial_lr"] == 1e-3 and group["betas"] == (0.9, 0.999)
    assert scratch.weight_decay_ == group["weight_decay"] == 0.01  # ecgsk's AdamW default
    assert "lr_schedule" in dict(scratch.callbacks_)
    lrs = [step[0] for step in record.lrs_]
    assert lrs[0] <= 1e-3 and lrs[-1] < lrs[0]
    assert _dropouts(scratch.module_)[:3] == (0.1, 0.1, 0.0)  # the network's own dropouts
    assert all(p.requires_grad for p in scratch.module_.parameters())
    # an encoder that is not a DeepECG-SSL transformer: ecgsk's defaults as well
    cnn = ECGClassifier("xresnet1d50-tiny", max_epochs=1, batch_size=16, validation=None,
                        threshold=0.5, **QUIET).fit(X, y)
    tuned = ECGClassifier(encoder=cnn, max_epochs=1, batch_size=16, validation=None,
                          threshold=0.5, **QUIET).fit(X, y)
    assert (tuned.lr_, tuned.lr_schedule_, tuned.finetune_, tuned.recipe_) == (
        1e-3, "cosine", "full", "ecgsk")
    assert tuned.optimizer_.param_groups[0]["initial_lr"] == 1e-3
    with pytest.raises(ValueError, match="ECGTransformer"):
        ECGClassifier(encoder=cnn, encoder_dropout={"dropout": 0.0}, max_epochs=1,
                      validation=None, **QUIET).fit(X, y)


def test_pretrainer_keeps_its_own_learning_rate(pretrained):
    from ecgsk.estimators._pretrainer import release_lr_for_width

    # lr="auto": the release's 5e-5 at width 768, scaled by 768 / width for this small encoder
    width = pretrained.module_.encoder.n_features
    assert release_lr_for_width(768) == RELEASE_LR
    assert pretrained.lr == "auto" and pretrained.lr_schedule is None
    assert pretrained.lr_ == pytest.approx(RELEASE_LR * 768 / width)
    assert pretrained.lr_schedule_ is None
    assert [g["lr"] for g in pretrained.optimizer_.param_groups] == [pretrained.lr_]
    # the pretraining config's weight decay (w2v_cmsc_rlm.yaml: 0.01), not the fine-tuning 0
    assert pretrained.weight_decay_ == pretrained.optimizer_.param_groups[0]["weight_decay"] == 0.01
    assert "lr_schedule" not in dict(pretrained.callbacks_)


def test_regressor_follows_the_recipe_too(pretrained, sample):
    X, _, age = sample
    reg = ECGRegressor(encoder=pretrained, max_epochs=1, batch_size=16, validation=None, **QUIET)
    reg.fit(X, age)
    assert (reg.lr_, reg.lr_schedule_, reg.finetune_) == (RELEASE_LR, None, "partial")
    assert not any(p.requires_grad for p in reg.module_.feature_encoder.parameters())
    assert _dropouts(reg.module_)[:3] == (RELEASE_DROPOUT, RELEASE_ATTENTION, RELEASE_ACTIVATION)


def test_clone_and_grid_search_keep_auto(pretrained, sample):
    X, y, _ = sample
    clf = ECGClassifier(encoder=pretrained.encoder_, max_epochs=1, batch_size=16, validation=None,
                        threshold=0.5, random_state=0, **QUIET)
    unfitted = clf.get_params(deep=False)
    clf.fit(X, y)
    fitted = clf.get_params(deep=False)
    for name in ("lr", "lr_schedule", "finetune", "encoder_dropout"):
        assert unfitted[name] == fitted[name] == "auto"
    copy = clone(clf)
    assert copy.lr == "auto" and not hasattr(copy, "lr_")
    assert copy.fit(X, y).lr_ == RELEASE_LR
    grid = GridSearchCV(clf, {"lr": ["auto", 1e-3]}, cv=2, scoring="roc_auc", error_score="raise")
    grid.fit(X, y)
    assert [p["lr"] for p in grid.cv_results_["params"]] == ["auto", 1e-3]
    best = grid.best_estimator_
    assert best.lr_ == (RELEASE_LR if best.lr == "auto" else 1e-3)
    # set_params on a fitted net: "auto" is resolved again by the next fit, never put in the optimizer
    clf.set_params(lr=1e-4)
    assert clf.lr_ == 1e-4 and clf.optimizer_.param_groups[0]["lr"] == 1e-4
    clf.set_params(lr="auto")
    assert clf.lr == "auto" and clf.optimizer_.param_groups[0]["lr"] == 1e-4
    assert clf.fit(X, y).optimizer_.param_groups[0]["lr"] == RELEASE_LR


def test_verbose_prints_the_resolved_recipe(pretrained, sample, capsys):
    X, y, _ = sample
    ECGClassifier(encoder=pretrained, lr=1e-4, max_epochs=1, batch_size=16, validation=None,
                  threshold=0.5, progress_bar=False, verbose=1).fit(X, y)
    out = capsys.readouterr().out
    line = next(row for row in out.splitlines() if "fine-tuning the encoder" in row)
    assert "DeepECG-SSL release" in line
    assert "lr=0.0001 (set)" in line and "lr_schedule=fixed (release)" in line
    assert "finetune=partial (release)" in line and "activation_dropout=0.1" in line


@pytest.mark.parametrize(
    ("params", "error", "match"),
    [
        ({"finetune": "half"}, ValueError, "finetune"),
        ({"lr": "fast"}, ValueError, "lr must"),
        ({"lr": 0.0}, ValueError, "lr must"),
        ({"lr_schedule": "linear"}, ValueError, "lr_schedule"),
        ({"encoder_dropout": 0.1}, TypeError, "encoder_dropout"),
        ({"encoder_dropout": {"layerdrop": 0.1}}, ValueError, "unknown keys"),
        ({"encoder_dropout": {"dropout": 1.0}}, ValueError, r"\[0, 1\)"),
    ],
)
def test_bad_recipe_parameters_are_refused(sample, params, error, match):
    X, y, _ = sample
    with pytest.raises(error, match=match):
        ECGClassifier("xresnet1d50-tiny", max_epochs=1, validation=None, **params, **QUIET).fit(X, y)


@pytest.mark.parametrize("bad", [-0.1, "big", True])
def test_weight_decay_is_checked(bad, sample):
    X, y, _ = sample
    with pytest.raises(ValueError, match="weight_decay"):
        ECGClassifier("ecgsk-cnn-tiny", weight_decay=bad, **FIT, **QUIET).fit(X, y)
