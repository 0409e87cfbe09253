"""Loading the released DeepECG weights: ECGClassifier.from_deepecg on checkpoints built here.

The files are made with the structure and key names of the public release: a TorchScript
archive for DeepECG-SL, and for DeepECG-SSL a fairseq-signals checkpoint dict (``model`` state
dict with ``encoder.*``/``proj.*`` keys, ``cfg``) of a small configuration. Expected outputs are
computed from the raw state dict / the TorchScript file alone, with the release's conventions.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.base import clone
from sklearn.pipeline import make_pipeline

from ecgsk import ECGClassifier
from ecgsk.datasets import load_ptbxl_sample
from ecgsk.labels import DEEPECG_LABELS
from ecgsk.preprocessing import make_deepecg_preprocessing
from ecgsk.released import (
    DEEPECG_SSL_OUTPUT_LABELS,
    ReleasedTorchScript,
    detect_release_kind,
    parse_conv_layers,
    read_fairseq_checkpoint,
    ssl_output_permutation,
)

# DeepECG_Docker (utils/constants.py): probabilities in label-list order are
# wcr_output[:, WCR_COLUMN_CONVERSION]; a fact about the release, checked against our order.
WCR_COLUMN_CONVERSION = [
    15, 23, 16, 1, 57, 63, 73, 41, 39, 36, 2, 29, 30, 65, 34, 12, 55, 56, 21, 8, 42, 71, 37, 50,
    13, 38, 46, 24, 49, 9, 66, 26, 40, 4, 22, 0, 11, 74, 64, 7, 76, 58, 33, 70, 17, 6, 28, 69,
    44, 61, 32, 72, 45, 25, 75, 18, 14, 5, 3, 31, 27, 67, 62, 10, 43, 51, 52, 47, 19, 68, 53,
    48, 60, 20, 59, 54, 35,
]
SMALL = {"dim": 64, "layers": 2, "heads": 4, "ffn": 128, "pos_kernel": 16, "pos_groups": 4}
CONV = ((256, 2, 2),) * 4
MHI_FACTOR = 1 / 0.0048
# the test builds TorchScript files itself, which torch >= 2.10 flags as deprecated
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.:DeprecationWarning")


# ----------------------------------------------------------------------------- SSL checkpoint
def _ssl_params(seed=0, n_outputs=77, cfg=SMALL):
    """Random weights under canonical (new fairseq-signals) names relative to ``encoder.``."""
    g = torch.Generator().manual_seed(seed)

    def rnd(*shape, scale=0.1):
        return torch.randn(*shape, generator=g) * scale

    d, f = cfg["dim"], cfg["ffn"]
    p = {}
    c_in = 12
    for i, (dim, k, _) in enumerate(CONV):
        p[f"feature_extractor.conv_layers.{i}.0.weight"] = rnd(dim, c_in, k, scale=0.3)
        c_in = dim
    p["feature_extractor.conv_layers.0.2.weight"] = 1 + rnd(256)
    p["feature_extractor.conv_layers.0.2.bias"] = rnd(256)
    p["layer_norm.weight"], p["layer_norm.bias"] = 1 + rnd(256), rnd(256)
    p["post_extract_proj.weight"], p["post_extract_proj.bias"] = rnd(d, 256), rnd(d)
    p["conv_pos.pos_conv.0.bias"] = rnd(d)
    p["conv_pos.pos_conv.0.parametrizations.weight.original0"] = 1 + rnd(1, 1, cfg["pos_kernel"])
    p["conv_pos.pos_conv.0.parametrizations.weight.original1"] = rnd(
        d, d // cfg["pos_groups"], cfg["pos_kernel"])
    for i in range(cfg["layers"]):
        q = f"encoder.layers.{i}."
        for n in ("q", "k", "v", "out"):
            p[q + f"self_attn.{n}_proj.weight"] = rnd(d, d)
            p[q + f"self_attn.{n}_proj.bias"] = rnd(d)
        p[q + "fc1.weight"], p[q + "fc1.bias"] = rnd(f, d), rnd(f)
        p[q + "fc2.weight"], p[q + "fc2.bias"] = rnd(d, f), rnd(d)
        for n in ("self_attn_layer_norm", "final_layer_norm"):
            p[q + n + ".weight"], p[q + n + ".bias"] = 1 + rnd(d), rnd(d)
    p["encoder.layer_norm.weight"], p["encoder.layer_norm.bias"] = 1 + rnd(d), rnd(d)
    p["head.weight"], p["head.bias"] = rnd(n_outputs, d), rnd(n_outputs)
    return p


LAYOUTS = {
    # HeartWise-AI/fairseq-signals (ecg_transformer_classifier): parametrized weight norm
    "fairseq-signals": ("encoder.", "proj.", {}),
    # older fairseq-signals: positional conv inside the transformer, weight_g / weight_v
    "fairseq-signals-old": ("encoder.", "proj.", {
        "conv_pos.pos_conv.0.bias": "encoder.pos_conv.0.bias",
        "conv_pos.pos_conv.0.parametrizations.weight.original0": "encoder.pos_conv.0.weight_g",
        "conv_pos.pos_conv.0.parametrizations.weight.original1": "encoder.pos_conv.0.weight_v",
    }),
    # fairseq's wav2vec 2.0 fine-tuning layout
    "w2v": ("w2v_encoder.w2v_model.", "w2v_encoder.proj.", {}),
}


def _ssl_checkpoint(params, layout="fairseq-signals", layer_norm_first=False, dtype=None,
                    extra_cfg=None):
    enc, head, renames = LAYOUTS[layout]
    model = {}
    for key, value in params.items():
        if key.startswith("head."):
            model[head + key[len("head."):]] = value
        else:
            model[enc + renames.get(key, key)] = value
    if dtype is not None:
        model = {k: v.to(dtype) for k, v in model.items()}
    model_cfg = {
        "_name": "ecg_transformer_classifier", "num_labels": params["head.weight"].shape[0],
        "encoder_attention_heads": SMALL["heads"], "encoder_embed_dim": SMALL["dim"],
        "encoder_ffn_embed_dim": SMALL["ffn"], "encoder_layers": SMALL["layers"],
        "layer_norm_first": layer_norm_first, "conv_feature_layers": "[(256, 2, 2)] * 4",
        "conv_pos": SMALL["pos_kernel"], "conv_pos_groups": SMALL["pos_groups"], "in_d": 12,
        "extractor_mode": "default", "conv_bias": False, "dropout": 0.0,
        **(extra_cfg or {}),
    }
    return {
        "args": None,
        "cfg": {"model": model_cfg, "task": {"_name": "ecg_classification", "normalize": False}},
        "model": model,
        "optimizer_history": [{"num_updates": 10}],
        "extra_state": {"epoch": 3},
        "last_optimizer_state": None,
    }


def _ln(x, p, name):
    return F.layer_norm(x, x.shape[-1:], p[name + ".weight"], p[name + ".bias"])


def _fairseq_forward(p, x, layer_norm_first=False, cfg=SMALL, conv=CONV):
    """The fine-tuned fairseq-signals classifier's logits, written from its definition.

    Without ``head.*`` in ``p`` (a pretrained encoder): the pooled transformer output.
    """
    h = x
    for i, (dim, _, stride) in enumerate(conv):
        h = F.conv1d(h, p[f"feature_extractor.conv_layers.{i}.0.weight"], stride=stride)
        if i == 0:
            h = F.group_norm(h, dim, p["feature_extractor.conv_layers.0.2.weight"],
                             p["feature_extractor.conv_layers.0.2.bias"])
        h = F.gelu(h)
    h = _ln(h.transpose(1, 2), p, "layer_norm")
    h = F.linear(h, p["post_extract_proj.weight"], p["post_extract_proj.bias"])
    g = p["conv_pos.pos_conv.0.parametrizations.weight.original0"]
    v = p["conv_pos.pos_conv.0.parametrizations.weight.original1"]
    w = g * v / v.norm(dim=(0, 1), keepdim=True)
    k = cfg["pos_kernel"]
    pos = F.conv1d(h.transpose(1, 2), w, p["conv_pos.pos_conv.0.bias"], padding=k // 2,
                   groups=cfg["pos_groups"])
    if k % 2 == 0:
        pos = pos[:, :, :-1]
    h = h + F.gelu(pos).transpose(1, 2)
    if not layer_norm_first:
        h = _ln(h, p, "encoder.layer_norm")
    b, t, d = h.shape
    nh = cfg["heads"]
    for i in range(cfg["layers"]):
        q = f"encoder.layers.{i}."

        def attn(z, q=q):
            proj = {n: F.linear(z, p[q + f"self_attn.{n}_proj.weight"],
                                p[q + f"self_attn.{n}_proj.bias"]).view(b, t, nh, d // nh)
                    .transpose(1, 2) for n in "qkv"}
            scores = (proj["q"] * (d // nh) ** -0.5) @ proj["k"].transpose(-1, -2)
            z = (scores.softmax(-1) @ proj["v"]).transpose(1, 2).reshape(b, t, d)
            return F.linear(z, p[q + "self_attn.out_proj.weight"], p[q + "self_attn.out_proj.bias"])

        def ffn(z, q=q):
            z = F.gelu(F.linear(z, p[q + "fc1.weight"], p[q + "fc1.bias"]))
            return F.linear(z, p[q + "fc2.weight"], p[q + "fc2.bias"])

        if layer_norm_first:
            h = h + attn(_ln(h, p, q + "self_attn_layer_norm"))
            h = h + ffn(_ln(h, p, q + "final_layer_norm"))
        else:
            h = _ln(h + attn(h), p, q + "self_attn_layer_norm")
            h = _ln(h + ffn(h), p, q + "final_layer_norm")
    if layer_norm_first:
        h = _ln(h, p, "encoder.layer_norm")
    pooled = h.sum(dim=1) / (h != 0).sum(dim=1)
    if "head.weight" not in p:
        return pooled
    return F.linear(pooled, p["head.weight"], p["head.bias"])


@pytest.fixture(scope="module")
def ecgs():
    """Real ECGs in ecgsk's DeepECG input convention (mV, 12 x 2500 at 250 Hz)."""
    data = load_ptbxl_sample()
    return data.signals[:6], make_deepecg_preprocessing(data.sfreq).fit_transform(data.signals[:6])


@pytest.fixture(scope="module")
def ssl_file(tmp_path_factory):
    params = _ssl_params()
    path = tmp_path_factory.mktemp("ssl") / "deepecg_ssl_77.pt"
    torch.save(_ssl_checkpoint(params), path)
    return path, params


@pytest.fixture(scope="module")
def ssl_clf(ssl_file):
    return ECGClassifier.from_deepecg(ssl_file[0], device="cpu")


class _SmallSL(torch.nn.Module):
    """Stands in for the released EfficientNetV2: (B, 12, 2500) -> (B, n_outputs) logits."""

    def __init__(self, n_outputs=77, squeeze=True):
        super().__init__()
        torch.manual_seed(0)
        self.conv = torch.nn.Conv1d(12, 16, 15, stride=5)
        self.head = torch.nn.Linear(16, n_outputs)
        self.squeeze = squeeze

    def forward(self, x):
        z = F.relu(self.conv(x)).mean(-1)
        out = self.head(torch.tanh(z * 0.01))
        return out if self.squeeze else out.unsqueeze(-1)


@pytest.fixture(scope="module")
def sl_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("sl") / "deepecg_sl_77.pt"
    torch.jit.save(torch.jit.script(_SmallSL()), str(path))
    return path


@pytest.fixture(scope="module")
def sl_clf(sl_file):
    return ECGClassifier.from_deepecg(sl_file, device="cpu")


def _expected(logits):
    return torch.sigmoid(logits.double()).numpy()


# ----------------------------------------------------------------------------- label order
def test_ssl_output_order_matches_the_release_conversion():
    assert sorted(DEEPECG_SSL_OUTPUT_LABELS) == sorted(DEEPECG_LABELS)
    assert ssl_output_permutation().tolist() == WCR_COLUMN_CONVERSION


def test_conv_layer_strings_are_parsed_safely():
    assert parse_conv_layers("[(256, 2, 2)] * 4") == CONV
    assert parse_conv_layers("[(512, 10, 5)] + [(512, 3, 2)] * 2") == (
        (512, 10, 5), (512, 3, 2), (512, 3, 2))
    with pytest.raises(ValueError, match="unsupported expression"):
        parse_conv_layers("__import__('os').getcwd()")


# ----------------------------------------------------------------------------- SSL
def test_ssl_predictions_equal_the_release_forward(ssl_file, ssl_clf, ecgs):
    _, X = ecgs
    path, params = ssl_file
    assert detect_release_kind(path) == "ssl"
    assert list(ssl_clf.classes_) == list(DEEPECG_LABELS)
    np.testing.assert_array_equal(ssl_clf.thresholds_, np.full(77, 0.5))
    assert ssl_clf.release_["kind"] == "ssl" and ssl_clf.release_["input_scale"] == 1.0
    assert ssl_clf.release_["file_output_order"] == "DEEPECG_SSL_OUTPUT_LABELS"
    assert ssl_clf.release_["output_order"] == "DEEPECG_LABELS"
    with torch.no_grad():
        raw = _fairseq_forward(params, torch.from_numpy(X))
    # the release's deployment code reorders the WCR outputs into the label list
    expected = _expected(raw)[:, WCR_COLUMN_CONVERSION]
    proba = ssl_clf.predict_proba(X)
    assert proba.shape == (len(X), 77)
    np.testing.assert_allclose(proba, expected, atol=2e-6)
    np.testing.assert_array_equal(ssl_clf.predict(X), (proba >= 0.5).astype(np.int64))
    # sizes came from the file, not from the 90 M default
    module = ssl_clf.module_
    assert module.n_features == 64 and len(module.layers) == 2
    assert ssl_clf.transform(X).shape == (len(X), 64)


@pytest.mark.parametrize("layout", ["fairseq-signals-old", "w2v"])
def test_ssl_other_layouts_pre_ln_and_half_precision(tmp_path, ecgs, layout):
    _, X = ecgs
    params = _ssl_params(seed=1)
    ckpt = _ssl_checkpoint(params, layout=layout, layer_norm_first=True, dtype=torch.float16)
    path = tmp_path / "ckpt.pt"
    torch.save(ckpt, path)
    clf = ECGClassifier.from_deepecg(path, kind="ssl", device="cpu")
    assert clf.module_.layer_norm_first
    half = {k: v.half().float() for k, v in params.items()}
    with torch.no_grad():
        raw = _fairseq_forward(half, torch.from_numpy(X), layer_norm_first=True)
    np.testing.assert_allclose(clf.predict_proba(X), _expected(raw)[:, WCR_COLUMN_CONVERSION],
                               atol=2e-6)


def test_ssl_pretraining_only_modules_are_ignored(tmp_path):
    ckpt = _ssl_checkpoint(_ssl_params())
    ckpt["model"]["encoder.quantizer.vars"] = torch.zeros(1, 640, 128)
    ckpt["model"]["encoder.project_q.weight"] = torch.zeros(256, 256)
    ckpt["model"]["encoder.final_proj.weight"] = torch.zeros(256, 64)
    ckpt["model"]["encoder.mask_emb"] = torch.full((64,), 0.25)
    torch.save(ckpt, tmp_path / "c.pt")
    clf = ECGClassifier.from_deepecg(tmp_path / "c.pt", device="cpu")
    assert torch.equal(clf.module_.mask_embedding.detach(), torch.full((64,), 0.25))


def _broken(tmp_path, edit):
    ckpt = _ssl_checkpoint(_ssl_params())
    edit(ckpt)
    path = tmp_path / "broken.pt"
    torch.save(ckpt, path)
    return path


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda c: c["model"].pop("encoder.encoder.layers.1.fc2.weight"),
         r"missing key\(s\): \['encoder\.encoder\.layers\.1\.fc2\.weight'\]"),
        (lambda c: c["model"].update({"encoder.encoder.layers.0.adapter.weight": torch.ones(2)}),
         r"unexpected key\(s\): \['encoder\.encoder\.layers\.0\.adapter\.weight'\]"),
        (lambda c: c["model"].update({"encoder.encoder.layers.1.fc1.weight": torch.ones(96, 64)}),
         r"shape mismatch.*encoder\.encoder\.layers\.1\.fc1\.weight \(96, 64\)"),
        (lambda c: c["model"].update({"encoder.feature_extractor.conv_layers.2.0.weight":
                                      torch.ones(256, 256, 3)}),
         r"conv layer 2 has weight shape \(256, 256, 3\)"),
        (lambda c: [c["model"].pop(k) for k in ("proj.weight", "proj.bias")],
         "pretrained encoder, not a fine-tuned"),
        (lambda c: c["cfg"]["model"].update({"extractor_mode": "layer_norm"}),
         "extractor_mode='layer_norm'"),
        (lambda c: c["cfg"]["model"].update({"encoder_attention_heads": 5}),
         "does not divide the width 64"),
        (lambda c: c.pop("cfg"), "no 'cfg'"),
    ],
    ids=["missing", "unexpected", "shape", "conv-cfg", "no-head", "extractor", "heads", "no-cfg"],
)
def test_ssl_bad_checkpoints_give_clear_errors(tmp_path, edit, message):
    with pytest.raises(ValueError, match=message):
        ECGClassifier.from_deepecg(_broken(tmp_path, edit), device="cpu")


def test_not_a_checkpoint(tmp_path, sl_file):
    text = tmp_path / "notes.pt"
    text.write_text("not weights")
    with pytest.raises(ValueError, match="not a DeepECG weights file"):
        ECGClassifier.from_deepecg(text)
    listing = tmp_path / "list.pt"
    torch.save([1, 2, 3], listing)
    with pytest.raises(ValueError, match="expected a dict with a 'model' state dict, got a list"):
        ECGClassifier.from_deepecg(listing)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        ECGClassifier.from_deepecg(tmp_path / "missing.pt")
    with pytest.raises(ValueError, match="kind='ssl' but .* is a TorchScript archive"):
        ECGClassifier.from_deepecg(sl_file, kind="ssl")
    with pytest.raises(ValueError, match="kind must be one of"):
        ECGClassifier.from_deepecg(sl_file, kind="efficientnet")
    with pytest.raises(ValueError, match="TorchScript archive"):
        read_fairseq_checkpoint(sl_file)


# ----------------------------------------------------------------------------- SL
def test_sl_predictions_equal_the_release_forward(sl_file, sl_clf, ecgs):
    _, X = ecgs
    assert detect_release_kind(sl_file) == "sl"
    assert list(sl_clf.classes_) == list(DEEPECG_LABELS)
    assert sl_clf.release_["input_scale"] == pytest.approx(MHI_FACTOR)
    assert sl_clf.release_["output_order"] == sl_clf.release_["file_output_order"] == (
        "DEEPECG_LABELS")
    released = torch.jit.load(str(sl_file))
    signal = torch.from_numpy(X)
    with torch.no_grad():
        expected = _expected(released(signal * MHI_FACTOR))
        unscaled = _expected(released(signal))
    proba = sl_clf.predict_proba(X)
    np.testing.assert_allclose(proba, expected, atol=1e-6)
    assert np.abs(proba - unscaled).max() > 1e-3  # the release's scaling is applied
    np.testing.assert_array_equal(sl_clf.predict(X), (proba >= 0.5).astype(np.int64))


def test_sl_wrong_output_shape_is_refused(tmp_path):
    path = tmp_path / "bad_sl.pt"
    torch.jit.save(torch.jit.script(_SmallSL(squeeze=False)), str(path))
    with pytest.raises(ValueError, match=r"maps \(2, 12, 2500\) to \(2, 77, 1\)"):
        ECGClassifier.from_deepecg(path, kind="sl")


def test_torchscript_wrapper_pickles_without_its_file(tmp_path, ecgs):
    _, X = ecgs
    path = tmp_path / "sl.pt"
    torch.jit.save(torch.jit.script(_SmallSL()), str(path))
    wrapper = ReleasedTorchScript(path)
    blob = pickle.dumps(wrapper)
    path.unlink()
    restored = pickle.loads(blob)
    x = torch.from_numpy(X)
    with torch.no_grad():
        torch.testing.assert_close(restored(x), wrapper(x))


# ----------------------------------------------------------------------------- estimator API
@pytest.mark.parametrize("which", ["sl", "ssl"])
def test_released_estimators_pickle_save_load_and_clone(request, tmp_path, ecgs, which):
    _, X = ecgs
    clf = request.getfixturevalue(f"{which}_clf")
    proba = clf.predict_proba(X)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_allclose(restored.predict_proba(X), proba, atol=1e-7)
    folder = clf.save(tmp_path / which, sfreq=250)
    loaded = ECGClassifier.load(folder, device="cpu")
    assert list(loaded.classes_) == list(DEEPECG_LABELS)
    np.testing.assert_allclose(loaded.predict_proba(X), proba, atol=1e-7)
    np.testing.assert_array_equal(loaded.thresholds_, clf.thresholds_)
    fresh = clone(clf)
    assert not hasattr(fresh, "classes_") and fresh.get_params()["module"] == clf.module


def test_released_classifier_in_a_pipeline_on_the_bundled_sample(ssl_clf, ecgs):
    raw, X = ecgs
    # the preprocessing is stateless (fit only checks shapes); fitting the pipeline would
    # retrain the released network, so its steps are fitted separately
    pipe = make_pipeline(make_deepecg_preprocessing(500).fit(raw), ssl_clf)
    np.testing.assert_allclose(pipe.predict_proba(raw), ssl_clf.predict_proba(X), atol=1e-7)
    assert pipe.predict(raw).shape == (len(raw), 77)
    with pytest.raises(ValueError, match="2500"):
        ssl_clf.predict_proba(raw)  # 500 Hz input without the preprocessing


@pytest.mark.parametrize("stored", ["weight-norm", "plain"])
@pytest.mark.parametrize("weight_norm", [False, True])
def test_load_fairseq_ssl_positional_conv_forms(tmp_path, ecgs, stored, weight_norm):
    from ecgsk.released import fold_weight_norm, load_fairseq_ssl

    _, X = ecgs
    params = _ssl_params(seed=2)
    ckpt = _ssl_checkpoint(params)
    if stored == "plain":
        pos = "encoder.conv_pos.pos_conv.0."
        g = ckpt["model"].pop(pos + "parametrizations.weight.original0")
        v = ckpt["model"].pop(pos + "parametrizations.weight.original1")
        ckpt["model"][pos + "weight"] = fold_weight_norm(g, v)
    model, config = load_fairseq_ssl(ckpt, weight_norm=weight_norm)
    assert config["pos_conv_weight_norm"] == (stored == "weight-norm")
    assert hasattr(model.pos_conv.conv, "parametrizations") == weight_norm
    x = torch.from_numpy(X[:2])
    with torch.no_grad():
        torch.testing.assert_close(model(x), _fairseq_forward(params, x), atol=2e-5,
                                   rtol=1e-4)


def test_old_style_args_namespace_and_nested_pretraining_config(tmp_path, ecgs):
    """Older files keep an argparse Namespace in 'args'; fine-tuned cfgs nest the encoder's."""
    import argparse

    _, X = ecgs
    params = _ssl_params(seed=3)
    ckpt = _ssl_checkpoint(params)
    model_cfg = ckpt.pop("cfg")["model"]
    ckpt["args"] = argparse.Namespace(**{**model_cfg, "layer_norm_first": True})
    # fairseq records validation losses as numpy scalars: plain data, loaded without trust
    ckpt["extra_state"] = {"val_loss": np.float64(0.25), "best": np.float32(0.2),
                           "history": np.arange(3)}
    torch.save(ckpt, tmp_path / "args.pt", _use_new_zipfile_serialization=False)
    # as numpy 1 wrote them (numpy.core, not numpy._core): protocol-2 GLOBALs are plain text
    data = (tmp_path / "args.pt").read_bytes()
    (tmp_path / "args.pt").write_bytes(data.replace(b"numpy._core.", b"numpy.core."))
    assert detect_release_kind(tmp_path / "args.pt") == "ssl"
    read = read_fairseq_checkpoint(tmp_path / "args.pt")
    assert isinstance(read["args"], argparse.Namespace)
    assert read["extra_state"]["val_loss"] == np.float64(0.25)
    clf = ECGClassifier.from_deepecg(tmp_path / "args.pt", device="cpu")
    assert clf.module_.layer_norm_first
    with torch.no_grad():
        raw = _fairseq_forward(params, torch.from_numpy(X), layer_norm_first=True)
    np.testing.assert_allclose(clf.predict_proba(X), _expected(raw)[:, WCR_COLUMN_CONVERSION],
                               atol=2e-6)
    # the encoder is built from the pretraining configuration recorded inside the model cfg
    ckpt = _ssl_checkpoint(params, extra_cfg={
        "encoder_attention_heads": 12, "args": {"model": {**model_cfg, "layer_norm_first": True}}})
    torch.save(ckpt, tmp_path / "nested.pt")
    clf = ECGClassifier.from_deepecg(tmp_path / "nested.pt", device="cpu")
    assert clf.module_.layer_norm_first and clf.module_.layers[0].attn.n_heads == 4


def test_sl_binary_release_and_failing_archive(tmp_path, ecgs):
    _, X = ecgs
    path = tmp_path / "lvef.pt"
    torch.jit.save(torch.jit.script(_SmallSL(n_outputs=1)), str(path))
    clf = ECGClassifier.from_deepecg(path, device="cpu")
    assert clf.task_ == "binary" and list(clf.classes_) == [0, 1]
    with torch.no_grad():
        p = _expected(torch.jit.load(str(path))(torch.from_numpy(X) * MHI_FACTOR))[:, 0]
    np.testing.assert_allclose(clf.predict_proba(X), np.column_stack([1 - p, p]), atol=1e-6)
    wrong = tmp_path / "eight_leads.pt"
    torch.jit.save(torch.jit.script(torch.nn.Conv1d(8, 2, 3)), str(wrong))
    with pytest.raises(ValueError, match=r"fails on a \(2, 12, 2500\) input"):
        ECGClassifier.from_deepecg(wrong)


def test_a_released_torchscript_model_is_not_re_exported(sl_clf, tmp_path):
    with pytest.raises(ValueError, match="deploy that .pt file itself"):
        sl_clf.to_onnx(tmp_path / "sl.onnx")


# ----------------------------------------------------------------------------- other heads
def test_files_with_other_output_counts_keep_their_output_index(tmp_path, ecgs):
    _, X = ecgs
    path = tmp_path / "three.pt"
    torch.jit.save(torch.jit.script(_SmallSL(n_outputs=3)), str(path))
    sl = ECGClassifier.from_deepecg(path, device="cpu")
    assert sl.task_ == "multilabel" and sl.classes_.tolist() == [0, 1, 2]
    assert sl.release_["output_order"] == sl.release_["file_output_order"] == "output index"
    with torch.no_grad():
        expected = _expected(torch.jit.load(str(path))(torch.from_numpy(X) * MHI_FACTOR))
    np.testing.assert_allclose(sl.predict_proba(X), expected, atol=1e-6)
    # an SSL head of 5 outputs is not the 77-label release: no reordering
    params = _ssl_params(seed=4, n_outputs=5)
    torch.save(_ssl_checkpoint(params), tmp_path / "five.pt")
    ssl = ECGClassifier.from_deepecg(tmp_path / "five.pt", device="cpu")
    assert ssl.classes_.tolist() == list(range(5)) and ssl.thresholds_.shape == (5,)
    assert ssl.release_["output_order"] == ssl.release_["file_output_order"] == "output index"
    with torch.no_grad():
        raw = _fairseq_forward(params, torch.from_numpy(X))
    np.testing.assert_allclose(ssl.predict_proba(X), _expected(raw), atol=2e-6)


# ----------------------------------------------------------------------------- unsafe pickles
#: Filled when a checkpoint's configuration object is unpickled: the trace a payload would leave.
UNPICKLED: list[str] = []


def _rebuild_config(model_cfg):
    UNPICKLED.append("config rebuilt")
    return {"model": model_cfg}


class _ConfigObject:
    """A configuration pickled as a custom object: rebuilding it calls ``_rebuild_config``."""

    def __init__(self, model_cfg):
        self.model_cfg = model_cfg

    def __reduce__(self):
        return _rebuild_config, (self.model_cfg,)


def test_checkpoints_with_python_objects_need_trust(tmp_path, ecgs):
    _, X = ecgs
    params = _ssl_params(seed=5)
    ckpt = _ssl_checkpoint(params)
    ckpt["cfg"] = _ConfigObject(ckpt["cfg"]["model"])
    path = tmp_path / "objects.pt"
    torch.save(ckpt, path)
    UNPICKLED.clear()
    refusal = r"refuses \(it references .*_rebuild_config\).*trust_checkpoint=True"
    with pytest.raises(ValueError, match=refusal):
        ECGClassifier.from_deepecg(path, device="cpu")
    with pytest.raises(ValueError, match=refusal):
        read_fairseq_checkpoint(path)
    assert UNPICKLED == []  # refused before anything in the file ran
    with pytest.raises(TypeError, match="trust_checkpoint must be True or False"):
        ECGClassifier.from_deepecg(path, trust_checkpoint="yes")
    clf = ECGClassifier.from_deepecg(path, device="cpu", trust_checkpoint=True)
    assert UNPICKLED == ["config rebuilt"]
    with torch.no_grad():
        raw = _fairseq_forward(params, torch.from_numpy(X))
    np.testing.assert_allclose(clf.predict_proba(X), _expected(raw)[:, WCR_COLUMN_CONVERSION],
                               atol=2e-6)
    UNPICKLED.clear()


# ----------------------------------------------------------------------------- thresholds
def test_thresholds_keyword_sets_the_fitted_thresholds(ssl_file, ssl_clf, ecgs, tmp_path):
    _, X = ecgs
    path = ssl_file[0]
    proba = ssl_clf.predict_proba(X)
    scalar = ECGClassifier.from_deepecg(path, device="cpu", thresholds=0.001)
    np.testing.assert_array_equal(scalar.thresholds_, np.full(77, 0.001))
    assert scalar.threshold == 0.001  # a later fine-tuning fit keeps it
    np.testing.assert_array_equal(scalar.predict(X), (proba >= 0.001).astype(np.int64))
    per_label = np.linspace(0.05, 0.95, 77)
    array = ECGClassifier.from_deepecg(path, device="cpu", thresholds=per_label)
    np.testing.assert_array_equal(array.thresholds_, per_label)
    np.testing.assert_array_equal(array.predict(X), (proba >= per_label).astype(np.int64))
    by_name = ECGClassifier.from_deepecg(
        path, device="cpu", thresholds={"Afib": 0.002, DEEPECG_LABELS[-1]: 0.9})
    expected = np.full(77, 0.5)
    expected[list(DEEPECG_LABELS).index("Afib")] = 0.002
    expected[-1] = 0.9
    np.testing.assert_array_equal(by_name.thresholds_, expected)
    assert by_name.threshold == 0.5
    folder = by_name.save(tmp_path / "thr", sfreq=250)
    np.testing.assert_array_equal(ECGClassifier.load(folder, device="cpu").thresholds_,
                                  expected)


@pytest.mark.parametrize(
    "thresholds, error, message",
    [
        (1.0, ValueError, r"thresholds must be a probability in \(0, 1\), got 1.0"),
        (float("nan"), ValueError, "must be a probability in"),
        (np.full(76, 0.5), ValueError, r"shape \(76,\); the model has 77 label"),
        (np.r_[np.full(76, 0.5), 0.0], ValueError, r"label\(s\) \[76\] have \[0.0\]"),
        ({"Atrial fib": 0.3}, ValueError, r"does not output: \['Atrial fib'\]"),
        ({"Afib": -0.1}, ValueError, r"thresholds\['Afib'\] must be a probability"),
        ({"Afib": "low"}, TypeError, r"thresholds\['Afib'\] must be a probability"),
        ("youden", TypeError, "dict by label name"),
        (True, TypeError, "dict by label name, got True"),
        ([0.5, "low"] + [0.5] * 75, TypeError, "thresholds must be numbers"),
    ],
    ids=["one", "nan", "shape", "zero", "unknown-label", "negative", "text-value", "text",
         "bool", "text-in-array"],
)
def test_bad_thresholds_are_refused(ssl_file, thresholds, error, message):
    with pytest.raises(error, match=message):
        ECGClassifier.from_deepecg(ssl_file[0], device="cpu", thresholds=thresholds)


def test_binary_release_threshold_by_positive_class(tmp_path, ecgs):
    _, X = ecgs
    path = tmp_path / "binary.pt"
    torch.jit.save(torch.jit.script(_SmallSL(n_outputs=1)), str(path))
    clf = ECGClassifier.from_deepecg(path, device="cpu", thresholds={1: 0.3})
    np.testing.assert_array_equal(clf.thresholds_, [0.3])
    proba = clf.predict_proba(X)[:, 1]
    np.testing.assert_array_equal(clf.predict(X), (proba >= 0.3).astype(np.int64))
    with pytest.raises(ValueError, match=r"shape \(2,\); the model has 1 label"):
        ECGClassifier.from_deepecg(path, thresholds=[0.3, 0.4])


# ----------------------------------------------------------------------------- pretrained SSL
# "deepecg-ssl-tiny" sizes; the quantizer is small (G groups of V entries of VAR_DIM floats)
TINY = {"dim": 64, "layers": 2, "heads": 4, "ffn": 128, "pos_kernel": 16, "pos_groups": 4}
TINY_CONV = ((32, 2, 2),) * 4
G, V, FINAL_DIM = 2, 8, 16
N_UPDATES = 4000


def _pretraining_params(seed=0, dtype=torch.float16):
    """A wav2vec2_cmsc state dict with the release's key names (fairseq_signals/models/
    wav2vec2/wav2vec2.py on ecg_transformer.py; positional conv under torch.nn.utils.weight_norm
    names weight_g / weight_v), stored in half precision as the release's files are."""
    g = torch.Generator().manual_seed(seed)

    def rnd(*shape, scale=0.1):
        return torch.randn(*shape, generator=g) * scale

    d, f, c = TINY["dim"], TINY["ffn"], TINY_CONV[-1][0]
    p = {}
    c_in = 12
    for i, (dim, k, _) in enumerate(TINY_CONV):
        p[f"feature_extractor.conv_layers.{i}.0.weight"] = rnd(dim, c_in, k, scale=0.3)
        c_in = dim
    p["feature_extractor.conv_layers.0.2.weight"] = 1 + rnd(c)
    p["feature_extractor.conv_layers.0.2.bias"] = rnd(c)
    p["layer_norm.weight"], p["layer_norm.bias"] = 1 + rnd(c), rnd(c)
    p["post_extract_proj.weight"], p["post_extract_proj.bias"] = rnd(d, c), rnd(d)
    p["mask_emb"] = torch.rand(d, generator=g)
    p["conv_pos.pos_conv.0.bias"] = rnd(d)
    p["conv_pos.pos_conv.0.weight_g"] = 1 + rnd(1, 1, TINY["pos_kernel"])
    p["conv_pos.pos_conv.0.weight_v"] = rnd(d, d // TINY["pos_groups"], TINY["pos_kernel"])
    for i in range(TINY["layers"]):
        q = f"encoder.layers.{i}."
        for n in ("q", "k", "v", "out"):
            p[q + f"self_attn.{n}_proj.weight"] = rnd(d, d)
            p[q + f"self_attn.{n}_proj.bias"] = rnd(d)
        p[q + "fc1.weight"], p[q + "fc1.bias"] = rnd(f, d), rnd(f)
        p[q + "fc2.weight"], p[q + "fc2.bias"] = rnd(d, f), rnd(d)
        for n in ("self_attn_layer_norm", "final_layer_norm"):
            p[q + n + ".weight"], p[q + n + ".bias"] = 1 + rnd(d), rnd(d)
    p["encoder.layer_norm.weight"], p["encoder.layer_norm.bias"] = 1 + rnd(d), rnd(d)
    # GumbelVectorQuantizer(dim=conv width, num_vars=V, groups=G, vq_dim=final_dim)
    p["quantizer.vars"] = torch.rand(1, G * V, FINAL_DIM // G, generator=g)
    p["quantizer.weight_proj.weight"] = rnd(G * V, c, scale=1.0)
    p["quantizer.weight_proj.bias"] = rnd(G * V)
    p["project_q.weight"], p["project_q.bias"] = rnd(FINAL_DIM, FINAL_DIM), rnd(FINAL_DIM)
    p["final_proj.weight"], p["final_proj.bias"] = rnd(FINAL_DIM, d), rnd(FINAL_DIM)
    return {k: v.to(dtype) for k, v in p.items()}


def _pretraining_checkpoint(state):
    model_cfg = {
        "_name": "wav2vec2_cmsc", "apply_mask": True, "mask_prob": 0.65,
        "quantize_targets": True, "final_dim": FINAL_DIM, "latent_vars": V, "latent_groups": G,
        "latent_temp": "(2.0, 0.5, 0.999995)", "encoder_embed_dim": TINY["dim"],
        "encoder_layers": TINY["layers"], "encoder_ffn_embed_dim": TINY["ffn"],
        "encoder_attention_heads": TINY["heads"], "conv_feature_layers": "[(32, 2, 2)] * 4",
        "conv_pos": TINY["pos_kernel"], "conv_pos_groups": TINY["pos_groups"], "in_d": 12,
        "extractor_mode": "default", "conv_bias": False, "layer_norm_first": False,
        "feature_grad_mult": 0.1, "dropout_input": 0.1, "dropout_features": 0.1,
    }
    return {"args": None, "model": dict(state),
            "cfg": {"model": model_cfg, "task": {"_name": "ecg_pretraining"}},
            "optimizer_history": [{"num_updates": N_UPDATES}], "extra_state": {"epoch": 7},
            "last_optimizer_state": None}


def _release_to_ecgsk(p):
    """ecgsk ``ECGTransformer`` key -> release tensor, from the definitions of both networks."""
    out = {}
    for i in range(len(TINY_CONV)):
        out[f"feature_encoder.layers.{i}.0.weight"] = p[f"feature_extractor.conv_layers.{i}.0.weight"]
    for n in ("weight", "bias"):
        out[f"feature_encoder.layers.0.1.{n}"] = p[f"feature_extractor.conv_layers.0.2.{n}"]
        out[f"feature_norm.{n}"] = p[f"layer_norm.{n}"]
        out[f"post_extract_proj.{n}"] = p[f"post_extract_proj.{n}"]
        out[f"encoder_norm.{n}"] = p[f"encoder.layer_norm.{n}"]
        for i in range(TINY["layers"]):
            src, dst = f"encoder.layers.{i}.", f"layers.{i}."
            out[dst + f"attn.qkv.{n}"] = torch.cat(
                [p[src + f"self_attn.{x}_proj.{n}"] for x in "qkv"])
            out[dst + f"attn.out.{n}"] = p[src + f"self_attn.out_proj.{n}"]
            out[dst + f"norm1.{n}"] = p[src + f"self_attn_layer_norm.{n}"]
            out[dst + f"norm2.{n}"] = p[src + f"final_layer_norm.{n}"]
            out[dst + f"fc1.{n}"] = p[src + f"fc1.{n}"]
            out[dst + f"fc2.{n}"] = p[src + f"fc2.{n}"]
    out["mask_embedding"] = p["mask_emb"]
    out["pos_conv.conv.bias"] = p["conv_pos.pos_conv.0.bias"]
    out["pos_conv.conv.parametrizations.weight.original0"] = p["conv_pos.pos_conv.0.weight_g"]
    out["pos_conv.conv.parametrizations.weight.original1"] = p["conv_pos.pos_conv.0.weight_v"]
    return out


@pytest.fixture(scope="module")
def pretrained_file(tmp_path_factory):
    state = _pretraining_params()
    path = tmp_path_factory.mktemp("pretrained") / "deepecg_ssl_pretrained.pt"
    torch.save(_pretraining_checkpoint(state), path)
    return path, state


@pytest.fixture(scope="module")
def labelled_ecgs():
    data = load_ptbxl_sample()
    X = make_deepecg_preprocessing(data.sfreq).fit_transform(data.signals[:24])
    return X, data.labels["NORM"].to_numpy()[:24].astype(np.int64)


def _release_embeddings(state, X):
    p = {k: v.float() for k, v in state.items()}
    p["conv_pos.pos_conv.0.parametrizations.weight.original0"] = p["conv_pos.pos_conv.0.weight_g"]
    p["conv_pos.pos_conv.0.parametrizations.weight.original1"] = p["conv_pos.pos_conv.0.weight_v"]
    with torch.no_grad():
        return _fairseq_forward(p, torch.from_numpy(X), cfg=TINY, conv=TINY_CONV).numpy()


def test_pretrained_encoder_loads_every_tensor_and_embeds_like_the_release(pretrained_file,
                                                                           ecgs):
    from ecgsk import ECGEmbedder
    from ecgsk.released import load_deepecg_ssl_encoder

    path, state = pretrained_file
    assert state["encoder.layers.0.fc1.weight"].dtype == torch.float16
    encoder = load_deepecg_ssl_encoder(path)
    assert not encoder.training and encoder.n_features == 64 and len(encoder.layers) == 2
    ours = encoder.state_dict()
    expected = _release_to_ecgsk(state)
    for key, value in expected.items():
        assert ours[key].dtype == torch.float32, key
        torch.testing.assert_close(ours[key], value.float(), rtol=0, atol=0, msg=key)
    # every tensor of the network came from the file, except the placeholder head
    assert set(ours) - set(expected) == {"head.linear.weight", "head.linear.bias"}
    _, X = ecgs
    emb = ECGEmbedder(encoder, device="cpu").fit_transform(X)
    assert emb.shape == (len(X), 64) and np.isfinite(emb).all()
    with torch.no_grad():
        direct = encoder.forward_features(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(emb, direct, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(emb, _release_embeddings(state, X), rtol=1e-4, atol=1e-4)


def test_pretrained_encoder_fine_tunes_in_a_classifier(pretrained_file, labelled_ecgs):
    from ecgsk.released import load_deepecg_ssl_encoder

    encoder = load_deepecg_ssl_encoder(pretrained_file[0])
    before = {k: v.clone() for k, v in encoder.state_dict().items()}
    X, y = labelled_ecgs
    clf = ECGClassifier(encoder=encoder, max_epochs=1, batch_size=8, validation=None,
                        threshold=0.5, device="cpu", progress_bar=False, verbose=0, random_state=0).fit(X, y)
    assert clf.n_epochs_ == 1 and len(clf.history_) == 1
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 2) and np.isfinite(proba).all()
    assert clf.module_spec_["name"] == "deepecg-ssl"
    # fine-tuning trained a copy: the loaded encoder is unchanged
    for key, value in encoder.state_dict().items():
        assert torch.equal(value, before[key]), key
    changed = clf.module_.state_dict()["layers.0.fc1.weight"]
    assert not torch.equal(changed, before["layers.0.fc1.weight"])


def test_pretrainer_from_deepecg_keeps_the_objective_and_continues(pretrained_file, ecgs):
    from ecgsk import ECGEmbedder, ECGPretrainer
    from ecgsk.released import load_deepecg_ssl_encoder

    path, state = pretrained_file
    pre = ECGPretrainer.from_deepecg(path, device="cpu", max_epochs=1, batch_size=4,
                                     validation=None, progress_bar=False, verbose=0,
                                     random_state=0)
    assert pre.release_["kind"] == "ssl-pretrained" and pre.release_["num_updates"] == N_UPDATES
    module = pre.module_
    f = {k: v.float() for k, v in state.items()}
    # the quantizer: fairseq's vars (1, G*V, d) hold entry v of group g at row g*V + v
    codebooks = module.quantizer.codebooks.detach().clone()
    for gi in range(G):
        for vi in range(V):
            assert torch.equal(codebooks[gi, vi], f["quantizer.vars"][0, gi * V + vi])
    assert torch.equal(module.quantizer.to_logits.weight, f["quantizer.weight_proj.weight"])
    assert torch.equal(module.quantizer.to_logits.bias, f["quantizer.weight_proj.bias"])
    assert torch.equal(module.target_proj.weight, f["project_q.weight"])
    assert torch.equal(module.target_proj.bias, f["project_q.bias"])
    assert torch.equal(module.context_proj.weight, f["final_proj.weight"])
    assert torch.equal(module.context_proj.bias, f["final_proj.bias"])
    # fairseq's temperature after N_UPDATES updates: max(2 * 0.999995 ** n, 0.5)
    assert module.quantizer.temperature == pytest.approx(max(2 * 0.999995**N_UPDATES, 0.5))
    encoder = pre.encoder_
    direct = load_deepecg_ssl_encoder(path).state_dict()
    for key, value in encoder.state_dict().items():
        if not key.startswith("head."):
            assert torch.equal(value, direct[key]), key
    _, X = ecgs
    emb = pre.transform(X)
    np.testing.assert_allclose(emb, ECGEmbedder(encoder, device="cpu").fit_transform(X),
                               rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(emb, _release_embeddings(state, X), rtol=1e-4, atol=1e-4)
    # fit continues pretraining from the file's weights (warm_start defaults to True)
    assert pre.warm_start
    pre.fit(np.concatenate([X, X[::-1]]))
    assert len(pre.history_) == 1 and np.isfinite(pre.history_[-1, "train_loss"])
    after = pre.module_.quantizer.codebooks.detach()
    assert not torch.equal(after, codebooks)
    # a step of lr 5e-5 away, not re-initialised (uniform [0, 1) entries differ by ~0.3)
    assert (after - codebooks).abs().max() < 1e-2


def test_pretrained_loaders_tell_wrong_files_apart(tmp_path, pretrained_file, ssl_file,
                                                   sl_file):
    from ecgsk import ECGPretrainer
    from ecgsk.released import load_deepecg_ssl_encoder

    pretrained, state = pretrained_file
    fine_tuned, _ = ssl_file
    for load in (load_deepecg_ssl_encoder, ECGPretrainer.from_deepecg):
        with pytest.raises(ValueError, match=r"fine-tuned DeepECG-SSL classifier checkpoint.*"
                                             r"ECGClassifier\.from_deepecg"):
            load(fine_tuned)
        with pytest.raises(ValueError, match="TorchScript archive"):
            load(sl_file)
    with pytest.raises(ValueError, match=r"pretraining checkpoint.*load_deepecg_ssl_encoder"):
        ECGClassifier.from_deepecg(pretrained, device="cpu")

    def saved(model, name, cfg=None):
        path = tmp_path / name
        torch.save({"model": model, "cfg": cfg or {"model": {}}}, path)
        return path

    other = saved({"conv1.weight": torch.zeros(2, 2), "fc.bias": torch.zeros(2)}, "other.pt")
    with pytest.raises(ValueError, match=r"look like no DeepECG-SSL checkpoint.*top-level "
                                         r"feature_extractor\.\*, encoder\.layers\.\*"):
        load_deepecg_ssl_encoder(other)
    from ecgsk.nn import build_model

    ours = saved(build_model("deepecg-ssl-tiny", n_outputs=1).state_dict(), "ecgsk.pt")
    with pytest.raises(ValueError, match="ecgsk ECGTransformer state dict"):
        ECGPretrainer.from_deepecg(ours)
    cfg = _pretraining_checkpoint(state)["cfg"]
    missing = {k: v for k, v in state.items() if k != "encoder.layers.1.fc2.weight"}
    with pytest.raises(ValueError, match=r"missing key\(s\): \['encoder\.layers\.1\.fc2\.weight"):
        load_deepecg_ssl_encoder(saved(missing, "missing.pt", cfg))
    glu = {**state, "target_glu.0.weight": torch.zeros(2 * FINAL_DIM, FINAL_DIM).half()}
    path = saved(glu, "glu.pt", cfg)
    assert load_deepecg_ssl_encoder(path).n_features == 64  # the encoder alone loads
    with pytest.raises(ValueError, match=r"\['target_glu'\].*does not have"):
        ECGPretrainer.from_deepecg(path)
    latent = {**state, "quantizer.vars": torch.zeros(1, G * V, 4).half(),
              "project_q.weight": torch.zeros(FINAL_DIM, 8).half()}
    with pytest.raises(ValueError, match="latent_dim=8"):
        ECGPretrainer.from_deepecg(saved(latent, "latent.pt", cfg))
    with pytest.raises(ValueError, match=r"pretext_options \{'n_entries': 320\} differ"):
        ECGPretrainer.from_deepecg(pretrained, pretext_options={"n_entries": 320})


def test_pretrained_variants_cmsc_only_headless_file_and_save(tmp_path, pretrained_file,
                                                              ssl_file, ecgs):
    from ecgsk import ECGEmbedder, ECGPretrainer
    from ecgsk.released import load_deepecg_ssl_encoder

    path, state = pretrained_file
    _, X = ecgs
    # CMSC alone has no wav2vec 2.0 modules: the encoder is loaded, the quantizer left aside
    pre = ECGPretrainer.from_deepecg(path, objectives=("cmsc",), device="cpu")
    assert not hasattr(pre.module_, "quantizer")
    np.testing.assert_allclose(pre.transform(X), _release_embeddings(state, X),
                               rtol=1e-4, atol=1e-4)
    # the saved encoder folder is an encoder= like any other
    folder = pre.save(tmp_path / "enc")
    np.testing.assert_allclose(ECGEmbedder(str(folder), device="cpu").fit_transform(X),
                               pre.transform(X), rtol=1e-5, atol=1e-5)
    # a fine-tuned file whose head was removed is an encoder, but no pretraining checkpoint
    ckpt = torch.load(ssl_file[0], weights_only=True)
    for key in ("proj.weight", "proj.bias"):
        del ckpt["model"][key]
    torch.save(ckpt, tmp_path / "headless.pt")
    params = {k: v for k, v in ssl_file[1].items() if not k.startswith("head.")}
    encoder = load_deepecg_ssl_encoder(tmp_path / "headless.pt")
    with torch.no_grad():
        expected = _fairseq_forward(params, torch.from_numpy(X)).numpy()
        got = encoder.forward_features(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="no pretraining checkpoint"):
        ECGPretrainer.from_deepecg(tmp_path / "headless.pt")


def test_pretrained_encoder_with_the_positional_conv_inside_the_transformer(tmp_path,
                                                                           pretrained_file):
    """Older files (fairseq's wav2vec 2.0) keep the positional conv at encoder.pos_conv.0."""
    from ecgsk.released import load_deepecg_ssl_encoder

    _, state = pretrained_file
    moved = {k.replace("conv_pos.pos_conv.0.", "encoder.pos_conv.0."): v.float()
             for k, v in state.items()}
    assert "encoder.pos_conv.0.weight_g" in moved
    torch.save(_pretraining_checkpoint(moved), tmp_path / "old.pt")
    ours = load_deepecg_ssl_encoder(tmp_path / "old.pt").state_dict()
    for key, value in _release_to_ecgsk(state).items():
        torch.testing.assert_close(ours[key], value.float(), rtol=0, atol=0, msg=key)
