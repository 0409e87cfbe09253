"""ONNX and TorchScript export of fitted estimators: parity with torch, metadata, dynamic batch,
every task, files usable without ecgsk, clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.exceptions import NotFittedError

from ecgsk import __version__
from ecgsk.datasets import load_ptbxl_sample
from ecgsk.estimators import ECGClassifier, ECGEmbedder, ECGPretrainer, ECGRegressor, _export
from ecgsk.estimators._export import read_export_card
from ecgsk.leads import STANDARD_12

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")
pytest.importorskip("onnxscript")

FAST = dict(max_epochs=1, batch_size=32, random_state=0, progress_bar=False, verbose=0)
MODELS = ("deepecg-sl-tiny", "deepecg-ssl-tiny", "xresnet1d50-tiny")
SFREQ = 50.0
TOL = 1e-4
# the tests load TorchScript files the way a deployment does; torch 2.9+ flags torch.jit
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")


# ---------------------------------------------------------------------------- data and models
@pytest.fixture(scope="module")
def sample():
    """The bundled real PTB-XL sample at 50 Hz, first 5 s: (200, 12, 250) mV."""
    data = load_ptbxl_sample(sfreq=SFREQ)
    X = np.ascontiguousarray(data.signals[:, :, :250])
    return X, data.labels, data.meta


@pytest.fixture(scope="module")
def multilabel(sample):
    """One multilabel classifier (5 superclasses) per model, trained for one epoch."""
    X, labels, _ = sample
    return {
        name: ECGClassifier(name, validation=0.25, **FAST).fit(X, labels) for name in MODELS
    }


@pytest.fixture(scope="module")
def exported(multilabel, tmp_path_factory):
    """Each multilabel classifier as ONNX and TorchScript files (with sfreq and leads)."""
    folder = tmp_path_factory.mktemp("export")
    files = {}
    for name, clf in multilabel.items():
        files[name] = (
            clf.to_onnx(folder / f"{name}.onnx", sfreq=SFREQ, leads=STANDARD_12),
            clf.to_torchscript(folder / f"{name}.pt", sfreq=SFREQ, leads=STANDARD_12),
        )
    return files


def _session(path):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _run_onnx(path, X):
    return _session(path).run(None, {"ecg": np.ascontiguousarray(X, dtype=np.float32)})[0]


def _run_script(path, X):
    module = torch.jit.load(str(path))
    with torch.inference_mode():
        return module(torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))).numpy()


# ---------------------------------------------------------------------------- parity
@pytest.mark.parametrize("name", MODELS)
def test_onnx_matches_predict_proba(name, sample, multilabel, exported):
    X, _, _ = sample
    clf = multilabel[name]
    onnx_path, _ = exported[name]
    session = _session(onnx_path)
    (inp,), (out,) = session.get_inputs(), session.get_outputs()
    assert (inp.name, inp.type, inp.shape) == ("ecg", "tensor(float)", ["batch", 12, 250])
    assert out.name == "proba" and out.shape[1] == 5
    for batch in (1, 7):
        rows = X[10 : 10 + batch]
        got = session.run(None, {"ecg": rows})[0]
        assert got.shape == (batch, 5)
        np.testing.assert_allclose(got, clf.predict_proba(rows), rtol=0, atol=TOL)
    assert read_export_card(onnx_path)["exporter"] == "torch.onnx.export(dynamo=True)"


@pytest.mark.parametrize("name", MODELS)
def test_torchscript_matches_predict_proba(name, sample, multilabel, exported):
    X, _, _ = sample
    clf = multilabel[name]
    _, script_path = exported[name]
    for batch in (1, 7):
        rows = X[20 : 20 + batch]
        np.testing.assert_allclose(
            _run_script(script_path, rows), clf.predict_proba(rows), rtol=0, atol=TOL
        )
    card = read_export_card(script_path)
    assert card["exporter"] == "torch.jit.script" and card["model"] == name


def test_export_leaves_estimator_untouched(sample, multilabel, tmp_path):
    X, _, _ = sample
    clf = multilabel["deepecg-sl-tiny"]
    before = clf.predict_proba(X[:8])
    state = {k: v.clone() for k, v in clf.module_.state_dict().items()}
    grads = [p.requires_grad for p in clf.module_.parameters()]
    clf.to_onnx(tmp_path / "a.onnx")
    for key, value in clf.module_.state_dict().items():
        assert torch.equal(value, state[key]), key
    assert [p.requires_grad for p in clf.module_.parameters()] == grads
    np.testing.assert_array_equal(clf.predict_proba(X[:8]), before)


# ---------------------------------------------------------------------------- metadata
def test_metadata_round_trip(sample, multilabel, exported):
    clf = multilabel["xresnet1d50-tiny"]
    onnx_path, script_path = exported["xresnet1d50-tiny"]
    # what a deployment without ecgsk reads: onnxruntime's custom metadata map
    meta = _session(onnx_path).get_modelmeta().custom_metadata_map
    assert json.loads(meta["classes"]) == ["NORM", "MI", "STTC", "CD", "HYP"]
    np.testing.assert_allclose(json.loads(meta["thresholds"]), clf.thresholds_)
    assert 0.0 < min(clf.thresholds_) and len(set(clf.thresholds_)) > 1  # tuned per label
    assert json.loads(meta["n_leads"]) == 12 and json.loads(meta["n_times"]) == 250
    assert json.loads(meta["sfreq"]) == SFREQ and json.loads(meta["leads"]) == list(STANDARD_12)
    assert json.loads(meta["ecgsk_version"]) == __version__
    assert json.loads(meta["estimator"]) == "ECGClassifier"
    assert json.loads(meta["task"]) == "multilabel"
    onnx_card = read_export_card(onnx_path)
    assert onnx_card == json.loads(meta["ecgsk_card"])
    assert onnx_card["input"] == {
        "name": "ecg",
        "shape": ["batch", 12, 250],
        "dtype": "float32",
        "n_leads": 12,
        "n_times": 250,
        "sfreq": SFREQ,
        "leads": list(STANDARD_12),
    }
    assert onnx_card["output"] == "predict_proba" and onnx_card["dynamic_batch"] is True
    # the TorchScript archive carries the same card, as a plain extra file
    extra = {"ecgsk_card.json": ""}
    torch.jit.load(str(script_path), _extra_files=extra)
    script_card = json.loads(extra["ecgsk_card.json"])
    assert script_card == read_export_card(script_path)
    differs = {"created", "exporter"}
    strip = {k: v for k, v in onnx_card.items() if k not in differs | {"opset"}}
    assert {k: v for k, v in script_card.items() if k not in differs} == strip


def test_loaded_estimator_exports_its_card_input(sample, multilabel, tmp_path):
    X, _, _ = sample
    folder = multilabel["deepecg-ssl-tiny"].save(tmp_path / "model", sfreq=SFREQ,
                                                  leads=STANDARD_12)
    loaded = ECGClassifier.load(folder, device="cpu")
    path = loaded.to_torchscript(tmp_path / "loaded.pt")
    card = read_export_card(path)
    assert card["sfreq"] == SFREQ and card["leads"] == list(STANDARD_12)
    assert card["model"] == "deepecg-ssl-tiny"
    np.testing.assert_allclose(_run_script(path, X[:7]), loaded.predict_proba(X[:7]), atol=TOL)


def test_files_work_without_ecgsk(sample, multilabel, exported, tmp_path):
    X, _, _ = sample
    onnx_path, script_path = exported["deepecg-ssl-tiny"]
    np.save(tmp_path / "x.npy", X[:4])
    script = textwrap.dedent(
        f"""
        import json, sys
        sys.modules["ecgsk"] = None  # any import of ecgsk now fails
        import numpy as np, onnxruntime, torch
        x = np.load({str(tmp_path / "x.npy")!r})
        session = onnxruntime.InferenceSession({str(onnx_path)!r},
                                               providers=["CPUExecutionProvider"])
        meta = session.get_modelmeta().custom_metadata_map
        extra = {{"ecgsk_card.json": ""}}
        module = torch.jit.load({str(script_path)!r}, _extra_files=extra)
        np.save({str(tmp_path / "onnx.npy")!r}, session.run(None, {{"ecg": x}})[0])
        np.save({str(tmp_path / "script.npy")!r}, module(torch.from_numpy(x)).detach().numpy())
        print(json.dumps([json.loads(meta["classes"]),
                          json.loads(extra["ecgsk_card.json"])["classes"]]))
        """
    )
    env = {"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    superclasses = ["NORM", "MI", "STTC", "CD", "HYP"]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [superclasses, superclasses]
    expected = multilabel["deepecg-ssl-tiny"].predict_proba(X[:4])
    np.testing.assert_allclose(np.load(tmp_path / "onnx.npy"), expected, atol=TOL)
    np.testing.assert_allclose(np.load(tmp_path / "script.npy"), expected, atol=TOL)


# ---------------------------------------------------------------------------- batch axis
def test_fixed_batch(sample, multilabel, tmp_path, monkeypatch):
    X, _, _ = sample

    def no_session(path):
        raise AssertionError("verify=False must not reload the file")

    monkeypatch.setattr(_export, "_onnx_session", no_session)
    path = multilabel["xresnet1d50-tiny"].to_onnx(
        tmp_path / "fixed.onnx", dynamic_batch=False, verify=False
    )
    monkeypatch.undo()
    session = _session(path)
    assert session.get_inputs()[0].shape == [2, 12, 250]
    assert read_export_card(path)["dynamic_batch"] is False
    np.testing.assert_allclose(
        session.run(None, {"ecg": X[:2]})[0],
        multilabel["xresnet1d50-tiny"].predict_proba(X[:2]),
        atol=TOL,
    )
    with pytest.raises(Exception, match="dimensions"):
        session.run(None, {"ecg": X[:3]})


# ---------------------------------------------------------------------------- other tasks
def test_binary_and_multiclass(sample, tmp_path):
    X, _, meta = sample
    sex = meta["sex"].to_numpy()
    binary = ECGClassifier("xresnet1d50-tiny", **FAST).fit(X, sex)
    path = binary.to_onnx(tmp_path / "binary.onnx")
    proba = _run_onnx(path, X[:7])
    assert proba.shape == (7, 2)
    np.testing.assert_allclose(proba, binary.predict_proba(X[:7]), atol=TOL)
    card = read_export_card(path)
    assert card["classes"] == ["female", "male"] and len(card["thresholds"]) == 1
    logits_path = binary.to_torchscript(tmp_path / "logits.pt", output="decision_function")
    logits = _run_script(logits_path, X[:7])
    assert logits.shape == (7,)
    np.testing.assert_allclose(logits, binary.decision_function(X[:7]), rtol=TOL, atol=TOL)

    band = pd.cut(meta["age"].fillna(45), [0, 30, 55, 120], labels=["<30", "30-55", ">55"])
    multiclass = ECGClassifier("xresnet1d50-tiny", **FAST).fit(X, band.astype(str).to_numpy())
    path = multiclass.to_torchscript(tmp_path / "multiclass.pt")
    proba = _run_script(path, X[:7])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(proba, multiclass.predict_proba(X[:7]), atol=TOL)
    card = read_export_card(path)
    assert card["task"] == "multiclass" and card["thresholds"] is None
    assert card["columns"] == list(multiclass.classes_)


def test_regressor_in_original_units(sample, tmp_path):
    X, _, meta = sample
    keep = meta["age"].notna().to_numpy()
    X, age = X[keep], meta["age"].to_numpy()[keep]
    reg = ECGRegressor("deepecg-sl-tiny", **FAST).fit(X, age)
    assert reg.y_mean_[0] > 30  # the standardisation is undone inside the graph
    for path in (reg.to_onnx(tmp_path / "age.onnx"), reg.to_torchscript(tmp_path / "age.pt")):
        run = _run_onnx if path.suffix == ".onnx" else _run_script
        for batch in (1, 7):
            got = run(path, X[:batch])
            assert got.shape == (batch,)
            np.testing.assert_allclose(got, reg.predict(X[:batch]), rtol=1e-5, atol=TOL)
        card = read_export_card(path)
        assert card["task"] == "regression" and card["output"] == "predict"
        np.testing.assert_allclose(card["target_mean"], reg.y_mean_)
    emb_path = reg.to_torchscript(tmp_path / "emb.pt", output="transform")
    np.testing.assert_allclose(_run_script(emb_path, X[:7]), reg.transform(X[:7]), atol=TOL)
    two = ECGRegressor("xresnet1d50-tiny", **FAST).fit(X, np.column_stack([age, 2 * age]))
    got = _run_onnx(two.to_onnx(tmp_path / "two.onnx"), X[:7])
    np.testing.assert_allclose(got, two.predict(X[:7]), rtol=1e-5, atol=TOL)


def test_pretrainer_and_embedder(sample, tmp_path):
    X, _, _ = sample
    # weight-normalised positional conv: the parametrization is folded for export
    pre = ECGPretrainer(
        "deepecg-ssl-tiny",
        sfreq=SFREQ,
        segment_seconds=2.5,
        validation=None,
        pretext_options={"n_entries": 16, "n_negatives": 10},
        module__pos_conv_weight_norm=True,
        **FAST,
    ).fit(X[:64])
    path = pre.to_onnx(tmp_path / "pre.onnx")
    for batch in (1, 7):
        np.testing.assert_allclose(_run_onnx(path, X[:batch]), pre.transform(X[:batch]), atol=TOL)
    card = read_export_card(path)
    assert card["output"] == "transform" and card["sfreq"] == SFREQ
    assert card["columns"] == [f"embedding{i}" for i in range(64)]
    script = _run_script(pre.to_torchscript(tmp_path / "pre.pt"), X[:7])
    np.testing.assert_allclose(script, pre.transform(X[:7]), atol=TOL)
    # the pretrainer's own network keeps its weight norm (g and v, the release's parameters)
    names = set(dict(pre.encoder_.pos_conv.named_parameters()))
    assert {"conv.parametrizations.weight.original0",
            "conv.parametrizations.weight.original1"} <= names

    embedder = ECGEmbedder(pre.encoder_, device="cpu").fit(X[:8])
    path = embedder.to_onnx(tmp_path / "embedder.onnx")  # the length fit saw: 250
    assert read_export_card(path)["input"]["shape"] == ["batch", 12, 250]
    for batch in (1, 7):
        got = _run_onnx(path, X[:batch])
        np.testing.assert_allclose(got, embedder.transform(X[:batch]), atol=TOL)
    # an explicit length; and without a fit length, the one the encoder was built for (one
    # 2.5 s segment)
    short = read_export_card(embedder.to_torchscript(tmp_path / "short.pt", n_times=125))
    assert short["n_times"] == 125
    del embedder.n_times_  # an embedder fitted by an older ecgsk
    default = read_export_card(embedder.to_torchscript(tmp_path / "embedder.pt"))
    assert default["n_times"] == pre.segment_length_ == 125


# ---------------------------------------------------------------------------- exporters
def test_torchscript_based_onnx_exporter(sample, multilabel, tmp_path, monkeypatch):
    X, _, _ = sample
    clf = multilabel["xresnet1d50-tiny"]
    path = clf.to_onnx(tmp_path / "legacy.onnx", exporter="torchscript")
    assert read_export_card(path)["exporter"] == "torch.onnx.export(dynamo=False)"
    np.testing.assert_allclose(_run_onnx(path, X[:7]), clf.predict_proba(X[:7]), atol=TOL)

    def broken(*args, **kwargs):
        raise RuntimeError("unsupported operator")

    monkeypatch.setattr(_export, "_export_dynamo", broken)
    with pytest.warns(UserWarning, match="dynamo=True\\) failed.*unsupported operator"):
        path = clf.to_onnx(tmp_path / "fallback.onnx")
    assert read_export_card(path)["exporter"] == "torch.onnx.export(dynamo=False)"
    assert _session(path).get_modelmeta().custom_metadata_map["task"] == '"multilabel"'
    with pytest.raises(RuntimeError, match="unsupported operator"):
        clf.to_onnx(tmp_path / "strict.onnx", exporter="dynamo")


def test_verification_catches_a_wrong_file(multilabel, tmp_path, monkeypatch):
    clf = multilabel["xresnet1d50-tiny"]

    class ShiftedSession:
        def __init__(self, session):
            self.session = session

        def run(self, names, feeds):
            return [out + 1e-3 for out in self.session.run(names, feeds)]

    real = _export._onnx_session
    monkeypatch.setattr(_export, "_onnx_session", lambda path: ShiftedSession(real(path)))
    with pytest.raises(RuntimeError, match="differs from torch by up to 0.001"):
        clf.to_onnx(tmp_path / "checked.onnx")


# ---------------------------------------------------------------------------- errors
def test_unfitted_estimators_raise_not_fitted(tmp_path):
    from ecgsk.nn import build_model

    encoder = build_model("deepecg-ssl-tiny", n_times=250, n_outputs=1)
    for est in (ECGClassifier("xresnet1d50-tiny"), ECGRegressor(), ECGPretrainer(),
                ECGEmbedder(encoder)):
        with pytest.raises(NotFittedError):
            est.to_onnx(tmp_path / "x.onnx")
        with pytest.raises(NotFittedError):
            est.to_torchscript(tmp_path / "x.pt")
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("missing", ["onnx", "onnxscript", "onnxruntime"])
def test_missing_onnx_packages_name_the_extra(multilabel, tmp_path, monkeypatch, missing):
    monkeypatch.setitem(sys.modules, missing, None)
    with pytest.raises(ImportError, match=rf"{missing}.*pip install 'ecgsk\[export\]'"):
        multilabel["xresnet1d50-tiny"].to_onnx(tmp_path / "x.onnx")


def test_bad_arguments(multilabel, tmp_path):
    clf = multilabel["xresnet1d50-tiny"]
    with pytest.raises(ValueError, match="exports one of"):
        clf.to_onnx(tmp_path / "x.onnx", output="predict")
    with pytest.raises(ValueError, match="exporter must be"):
        clf.to_onnx(tmp_path / "x.onnx", exporter="tf")
    with pytest.raises(ValueError, match="opset"):
        clf.to_onnx(tmp_path / "x.onnx", opset="18")
    with pytest.raises(ValueError, match="leads names 11 leads"):
        clf.to_onnx(tmp_path / "x.onnx", leads=STANDARD_12[:11])
    with pytest.raises(ValueError, match="sfreq must be a positive"):
        clf.to_torchscript(tmp_path / "x.pt", sfreq=-1)
    with pytest.raises(ValueError, match="takes ECGs of 250 samples"):
        clf.to_torchscript(tmp_path / "x.pt", n_times=500)
    with pytest.raises(TypeError, match="n_times must be a positive integer"):
        clf.to_torchscript(tmp_path / "x.pt", n_times=250.0)
    with pytest.raises(ValueError, match="method must be"):
        clf.to_torchscript(tmp_path / "x.pt", method="compile")
    with pytest.raises(TypeError, match="ECGClassifier, ECGRegressor"):
        _export.export_onnx(object(), tmp_path / "x.onnx")
    not_ours = tmp_path / "plain.pt"
    torch.jit.save(torch.jit.script(torch.nn.ReLU()), str(not_ours))
    with pytest.raises(ValueError, match="without an ecgsk card"):
        read_export_card(not_ours)
    (tmp_path / "junk.onnx").write_bytes(b"\x00not a model")
    with pytest.raises(ValueError, match="neither an ONNX file"):
        read_export_card(tmp_path / "junk.onnx")
    assert not (tmp_path / "x.onnx").exists() and not (tmp_path / "x.pt").exists()


def test_lead_names_are_checked_and_canonicalised(multilabel, tmp_path):
    clf = multilabel["xresnet1d50-tiny"]
    std = ["i", "ii", "iii", "AVR", "AVL", "AVF", "v1", "v2", "v3", "v4", "v5", "v6"]
    card = read_export_card(clf.to_torchscript(tmp_path / "a.pt", leads=std, verify=False))
    assert card["leads"][3:6] == ["aVR", "aVL", "aVF"] and card["leads"][0] == "I"
    with pytest.raises(TypeError, match="not the string"):
        clf.to_torchscript(tmp_path / "b.pt", leads="I,II")
    with pytest.raises(ValueError, match="repeat"):
        clf.to_torchscript(tmp_path / "c.pt", leads=["I"] * 12)
