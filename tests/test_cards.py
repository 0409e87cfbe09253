"""Cards (model, encoder, export): loading names only allow-listed code, every field is checked."""

from __future__ import annotations

import json
import os
import shutil
import zipfile

import numpy as np
import pandas as pd
import pytest

import ecgsk._version
from ecgsk.cli import main
from ecgsk.datasets import load_ptbxl_sample
from ecgsk.estimators import ECGClassifier, ECGEmbedder, ECGRegressor, save_encoder
from ecgsk.estimators._cards import (
    preprocessing_from_data,
    preprocessing_to_data,
    read_card,
    upgrade_card,
)
from ecgsk.estimators._encoder import load_encoder
from ecgsk.estimators._export import read_export_card
from ecgsk.nn import build_model
from ecgsk.preprocessing import CropOrPad, ECGPipeline, Resample, make_deepecg_preprocessing

FAST = {"max_epochs": 1, "random_state": 0, "progress_bar": False, "verbose": 0,
        "device": "cpu"}
TINY = "xresnet1d50-tiny"


@pytest.fixture(scope="module")
def data():
    rec = load_ptbxl_sample()
    X = np.ascontiguousarray(rec.signals[:24, :, :500:2])  # 24 real records, 250 samples
    rng = np.random.default_rng(0)
    labels = pd.DataFrame(rng.integers(0, 2, size=(24, 3)), columns=["A", "B", "C"])
    labels.iloc[:2] = [[0, 0, 0], [1, 1, 1]]  # both classes in every label
    return X, labels


@pytest.fixture(scope="module")
def saved(data, tmp_path_factory):
    X, labels = data
    clf = ECGClassifier(TINY, validation=None, **FAST).fit(X, labels)
    folder = tmp_path_factory.mktemp("cards") / "model"
    clf.save(folder, sfreq=250, preprocessing=make_deepecg_preprocessing(500))
    return clf, folder


def _edited(saved, tmp_path, edit):
    folder = tmp_path / "edited"
    shutil.copytree(saved[1], folder)
    card = json.loads((folder / "card.json").read_text())
    edit(card)
    (folder / "card.json").write_text(json.dumps(card))
    return folder


def test_a_card_naming_popen_runs_nothing(saved, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    pwned = tmp_path / "PWNED"

    def attack(card):
        card["module"] = {"class": "subprocess:Popen"}
        card["module_kwargs"] = {"args": ["touch", str(pwned)]}

    folder = _edited(saved, tmp_path, attack)
    with pytest.raises(ValueError, match=r"module\.class names 'subprocess:Popen'"):
        ECGClassifier.load(folder)
    assert main(["predict", str(folder), str(tmp_path), "--out", str(tmp_path / "p.csv")]) == 2
    assert not pwned.exists()


@pytest.mark.parametrize("field, value, match", [
    ("optimizer", "subprocess:Popen", r"optimizer names 'subprocess:Popen'"),
    ("optimizer", "os:system", r"optimizer names 'os:system'"),
    ("module", {"class": "ecgsk.io:read_wfdb"}, r"module\.class names 'ecgsk\.io:read_wfdb'"),
    ("module", {"registry": "no-such-net"}, r"module\.registry names 'no-such-net'"),
    ("module", {"registry": "a", "class": "b"}, r"module must hold exactly one"),
])
def test_code_outside_the_allow_lists_is_refused(saved, tmp_path, field, value, match):
    folder = _edited(saved, tmp_path, lambda card: card.__setitem__(field, value))
    with pytest.raises(ValueError, match=match):
        ECGClassifier.load(folder)


def _set(path, value):
    def edit(card):
        *parents, last = path.split(".")
        node = card
        for key in parents:
            node = node[key]
        if value is KeyError:
            del node[last]
        else:
            node[last] = value
    return edit


@pytest.mark.parametrize("path, value, match", [
    ("fitted.task_", "banana", r"fitted\.task_ must be one of \['binary', 'multiclass'"),
    ("fitted.task_", "multiclass", r"thresholds must be null for a multiclass model"),
    ("fitted.task_", "regression", r"task_ is 'regression', which an ECGClassifier"),
    ("classes", ["A", "B"], r"classes lists 2 classes but the multilabel network has 3"),
    ("classes", ["A", "A", "B"], r"classes holds duplicates"),
    ("thresholds", [0.5, 0.5], r"thresholds lists 2 values but the network has 3"),
    ("thresholds", [0.5, 0.5, 7.0], r"thresholds\[2\] must be a probability"),
    ("thresholds", "0.5", r"thresholds must be a list"),
    ("input", KeyError, r"card\.json\.input is missing"),
    ("fitted", KeyError, r"card\.json\.fitted is missing"),
    ("fitted.n_outputs_", KeyError, r"fitted\.n_outputs_ is missing"),
    ("fitted.n_leads_", 0, r"fitted\.n_leads_ must be >= 1"),
    ("fitted.n_times_", True, r"fitted\.n_times_ must be an integer"),
    ("input.n_times", 300, r"input\.n_times is 300 but .*fitted\.n_times_ is 250"),
    ("input.sfreq", -250, r"input\.sfreq must be positive"),
    ("input.leads", ["I"], r"input\.leads names 1 leads"),
    ("params.callbacks", [], r"params\.callbacks is not a parameter a card may set"),
    ("fitted.module_", 1, r"fitted\.module_ is not a fitted attribute"),
    ("format_version", 99, r"written by a newer ecgsk"),
    ("format", "something", r"is not an ecgsk-model card"),
    ("preprocessing.step.class", "Popen", r"preprocessing\.step\.class is 'Popen'"),
    ("preprocessing.version", 5, r"preprocessing\.version is 5: written by a newer ecgsk"),
    ("preprocessing.step.params.memory", "/tmp/cache", r"memory must be null"),
    ("preprocessing.step.params.evil", 1, r"params\.evil is not a parameter of ECGPipeline"),
])
def test_every_field_is_validated_with_an_error_naming_it(saved, tmp_path, path, value, match):
    folder = _edited(saved, tmp_path, _set(path, value))
    with pytest.raises(ValueError, match=match):
        ECGClassifier.load(folder)
    assert main(["predict", str(folder), str(tmp_path), "--out", str(tmp_path / "p.csv")]) == 2


def test_unreadable_card_is_a_value_error_naming_the_file(saved, tmp_path):
    folder = _edited(saved, tmp_path, lambda card: None)
    (folder / "card.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"card\.json is not valid JSON"):
        ECGClassifier.load(folder)


def test_preprocessing_is_stored_as_data_and_rebuilt(saved, data):
    clf, folder = saved
    card = json.loads((folder / "card.json").read_text())
    pre = card["preprocessing"]
    assert card["format_version"] == 2 and pre["version"] == 1
    assert pre["step"]["class"] == "ECGPipeline"
    steps = pre["step"]["params"]["steps"]
    assert steps[0]["tuple"][0] == "leads"
    assert steps[0]["tuple"][1]["step"]["class"] == "ReorderLeads"
    rebuilt = preprocessing_from_data(pre)
    original = make_deepecg_preprocessing(500)
    assert repr(rebuilt) == repr(original)
    X = load_ptbxl_sample().signals[:2]
    np.testing.assert_array_equal(rebuilt.fit_transform(X), original.fit_transform(X))
    assert card["ecgsk_version"] == ecgsk._version.__version__


def test_nested_tuples_non_finite_and_arrays_round_trip():
    inner = ECGPipeline([("resample", Resample(500, 250)), ("skip", "passthrough")])
    pipe = ECGPipeline([("inner", inner), ("crop", CropOrPad(2500, mode="start"))])
    pipe.set_params(inner__resample__transition=0.25)
    data = json.loads(json.dumps(preprocessing_to_data(pipe)))
    assert repr(preprocessing_from_data(data)) == repr(pipe)
    from ecgsk.estimators._cards import _decode, _encode

    for value in (float("inf"), -float("inf"), (1, (2.5, "x")), {"a": [1, None]},
                  np.arange(3, dtype=np.float32)):
        back = _decode(json.loads(json.dumps(_encode(value, "v"))), "v")
        if isinstance(value, np.ndarray):
            assert back.dtype == value.dtype and np.array_equal(back, value)
        else:
            assert back == value and type(back) is type(value)


def test_a_step_that_is_not_ecgsk_cannot_be_saved(saved, tmp_path):
    from sklearn.preprocessing import FunctionTransformer

    with pytest.raises(ValueError, match="FunctionTransformer, which a card cannot record"):
        saved[0].save(tmp_path / "x", preprocessing=FunctionTransformer(np.abs))


def test_a_version_1_card_still_loads_and_upgrades(saved, data, tmp_path):
    clf, _ = saved
    X, _ = data

    def to_v1(card):  # what ecgsk 0.1 wrote: the repr, and import paths
        card["format_version"] = 1
        card["preprocessing"] = card["preprocessing"]["repr"]
        card["optimizer"] = "torch.optim.adamw:AdamW"

    folder = _edited(saved, tmp_path, to_v1)
    loaded = ECGClassifier.load(folder)
    assert loaded.card_["preprocessing"]["step"]["class"] == "ECGPipeline"
    assert loaded.card_["upgraded_from"] == 1
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    upgrade_card(folder)
    card = read_card(folder / "card.json", "ecgsk-model")
    assert card["format_version"] == 2 and (folder / "card.v1.json").is_file()
    assert repr(preprocessing_from_data(card["preprocessing"])) == repr(
        make_deepecg_preprocessing(500))


def test_own_network_class_needs_module_given_to_load(data, tmp_path):
    from ecgsk.nn import XResNet1d

    class MyNet(XResNet1d):
        pass

    X, labels = data
    clf = ECGClassifier(MyNet, module__layers=(1, 1), module__widths=(8, 8),
                        module__stem_widths=(8, 8, 8), module__head_hidden=(8,),
                        validation=None, **FAST).fit(X, labels)
    folder = clf.save(tmp_path / "own")
    card = json.loads((folder / "card.json").read_text())
    assert card["module"]["class"].endswith(":test_own_network_class_needs_module_given_to_load"
                                            ".<locals>.MyNet")
    with pytest.raises(ValueError, match=r"load\(path, module=YourClass\)"):
        ECGClassifier.load(folder)
    loaded = ECGClassifier.load(folder, module=MyNet)
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


def test_regressor_card_targets_are_checked(data, tmp_path):
    X, _ = data
    reg = ECGRegressor(TINY, validation=None, **FAST).fit(X, np.arange(24.0))
    folder = reg.save(tmp_path / "reg")
    card = json.loads((folder / "card.json").read_text())
    card["target_scale"] = [0.0]
    (folder / "card.json").write_text(json.dumps(card))
    with pytest.raises(ValueError, match="target_scale must hold positive numbers"):
        ECGRegressor.load(folder)


def test_encoder_card_is_validated(tmp_path):
    enc = build_model("deepecg-ssl-tiny", n_times=500, n_outputs=1)
    folder = save_encoder(enc, tmp_path / "enc", spec={"name": "deepecg-ssl-tiny", "kwargs": {}},
                          n_leads=12, n_times=500, sfreq=250)
    load_encoder(folder)
    path = folder / "encoder.json"
    good = json.loads(path.read_text())
    for edit, match in [
        (lambda c: c["model"].__setitem__("name", "os:system"), r"model\.name is 'os:system'"),
        (lambda c: c.__setitem__("format_version", 2), "written by a newer ecgsk"),
        (lambda c: c["input"].pop("n_leads"), r"input\.n_leads is missing"),
        (lambda c: c.pop("model"), r"encoder\.json\.model is missing"),
        (lambda c: c["model"]["kwargs"].__setitem__("1x", 0), "not a parameter name"),
    ]:
        card = json.loads(json.dumps(good))
        edit(card)
        path.write_text(json.dumps(card))
        with pytest.raises(ValueError, match=match):
            load_encoder(folder)
        assert main(["embed", str(folder), str(tmp_path), "--out", str(tmp_path / "e.npy")]) == 2


def test_export_card_is_read_without_loading_code_and_validated(tmp_path):
    X = np.zeros((2, 12, 500), dtype="float32")
    embedder = ECGEmbedder(build_model("deepecg-ssl-tiny", n_times=500, n_outputs=1)).fit(X)
    path = embedder.to_torchscript(tmp_path / "emb.pt")
    assert read_export_card(path)["output"] == "transform"
    with zipfile.ZipFile(path) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    (name,) = [n for n in entries if n.endswith("extra/ecgsk_card.json")]
    card = json.loads(entries[name])
    card["task"] = "banana"
    entries[name] = json.dumps(card).encode()
    for n in list(entries):
        if n.endswith(".pkl") or "/code/" in n:
            entries[n] = b"not loadable"  # the card is read without unpickling or running these
    bad = tmp_path / "bad.pt"
    with zipfile.ZipFile(bad, "w") as archive:
        for n, blob in entries.items():
            archive.writestr(n, blob)
    with pytest.raises(ValueError, match=r"task must be one of"):
        read_export_card(bad)
    assert not os.path.exists(tmp_path / "PWNED")


def test_encoder_saved_before_weight_norm_default_still_loads(tmp_path):
    """A folder from before the weight-normed positional conv stores its folded weight."""
    import torch
    from safetensors.torch import load_file, save_file

    from ecgsk.estimators._encoder import load_encoder, save_encoder
    from ecgsk.nn import build_model

    torch.manual_seed(0)
    module = build_model("deepecg-ssl-tiny", n_times=250, n_outputs=1).eval()
    folder = save_encoder(module, tmp_path / "enc", spec={"name": "deepecg-ssl-tiny", "kwargs": {}},
                          n_leads=12, n_times=250, sfreq=250)
    path = folder / "encoder.safetensors"
    state = load_file(str(path))
    g = state.pop("pos_conv.conv.parametrizations.weight.original0")
    v = state.pop("pos_conv.conv.parametrizations.weight.original1")
    state["pos_conv.conv.weight"] = (g * v / v.norm(p=2, dim=(0, 1), keepdim=True)).contiguous()
    save_file(state, str(path))
    loaded, _ = load_encoder(folder)
    x = torch.randn(2, 12, 250)
    with torch.inference_mode():
        torch.testing.assert_close(loaded.eval().forward_features(x), module.forward_features(x),
                                   atol=1e-5, rtol=1e-5)
