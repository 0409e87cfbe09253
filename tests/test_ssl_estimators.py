"""ECGPretrainer, fine-tuning from a pretrained encoder, and ECGEmbedder, on real ECGs."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from ecgsk import ECGClassifier, ECGEmbedder, ECGPretrainer, ECGRegressor
from ecgsk.datasets import load_ptbxl_sample
from ecgsk.estimators import load_encoder
from ecgsk.nn import build_model
from ecgsk.preprocessing import make_deepecg_preprocessing

QUIET = {"progress_bar": False, "verbose": 0}
SMALL_PRETEXT = {"n_entries": 32, "n_negatives": 20}


@pytest.fixture(scope="module")
def sample():
    """The bundled real PTB-XL sample as DeepECG input (200 x 12 x 2500, 250 Hz)."""
    bunch = load_ptbxl_sample(labels="superdiagnostic")
    X = make_deepecg_preprocessing(bunch.sfreq, input_leads=bunch.leads).fit_transform(bunch.signals)
    return X, bunch.labels, bunch.meta


@pytest.fixture(scope="module")
def pretrained(sample):
    X, _, meta = sample
    pre = ECGPretrainer(
        "deepecg-ssl-tiny", max_epochs=3, batch_size=32, lr=1e-3, lr_schedule=None, validation=0.2,
        random_state=0, pretext_options=SMALL_PRETEXT, **QUIET,
    )
    return pre.fit(X[:64], groups=meta["patient_id"].to_numpy()[:64])


def test_ssl_losses_go_down_on_real_ecgs(pretrained):
    history = pretrained.history_
    assert len(history) == 3
    for key in ("train_loss", "train_wav2vec2", "train_cmsc", "train_diversity", "valid_loss"):
        values = history[:, key]
        assert all(np.isfinite(values)), key
    assert history[-1, "train_loss"] < history[0, "train_loss"]
    assert history[-1, "train_cmsc"] < history[0, "train_cmsc"]


def test_pretrainer_transform_and_temperature_annealing(pretrained, sample):
    X = sample[0][:8]
    Z = pretrained.transform(X)
    assert Z.shape == (8, 64) and Z.dtype == np.float32
    np.testing.assert_allclose(Z, pretrained.transform(X), rtol=1e-5)  # no masking at transform
    assert pretrained.module_.quantizer.temperature < 2.0  # annealed once per update
    assert not hasattr(pretrained, "predict")
    with pytest.raises(ValueError, match="2500"):
        pretrained.transform(X[:, :, :2000])


def test_pretrainer_is_deterministic(sample):
    X = sample[0][:24]
    kwargs = dict(max_epochs=1, batch_size=8, validation=None, random_state=3,
                  pretext_options=SMALL_PRETEXT, **QUIET)
    a = ECGPretrainer("deepecg-ssl-tiny", **kwargs).fit(X)
    b = ECGPretrainer("deepecg-ssl-tiny", **kwargs).fit(X)
    assert a.history_[-1, "train_loss"] == b.history_[-1, "train_loss"]
    np.testing.assert_array_equal(a.transform(X), b.transform(X))


@pytest.mark.parametrize(
    ("kwargs", "fit_kwargs", "match"),
    [
        ({}, {"y": np.zeros(24)}, "without labels"),
        ({"segment_seconds": 6.0}, {}, "too short to cut into two segments"),
        ({}, {"groups": np.arange(5)}, "groups"),
        ({"objectives": ("mae",)}, {}, "objectives"),
        ({"lead_mask_prob": 1.0}, {}, "lead_mask_prob"),
        ({"sfreq": 0}, {}, "sfreq"),
    ],
)
def test_pretrainer_bad_input(sample, kwargs, fit_kwargs, match):
    pre = ECGPretrainer("deepecg-ssl-tiny", max_epochs=1, validation=None, **QUIET, **kwargs)
    with pytest.raises(ValueError, match=match):
        pre.fit(sample[0][:24], **fit_kwargs)


def test_pretrainer_rejects_nan_and_non_ssl_models(sample):
    X = sample[0][:8].copy()
    X[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        ECGPretrainer("deepecg-ssl-tiny", validation=None, **QUIET).fit(X)
    with pytest.raises(TypeError, match="deepecg-ssl"):
        ECGPretrainer("deepecg-sl-tiny", max_epochs=1, validation=None, **QUIET).fit(sample[0][:8])


def test_save_and_load_encoder(pretrained, sample, tmp_path):
    folder = pretrained.save(tmp_path / "enc", leads=["I"] * 12)
    encoder, spec = load_encoder(folder)
    assert spec == {"name": "deepecg-ssl-tiny", "kwargs": {}}
    assert encoder.card_["pretraining"]["objectives"] == ["wav2vec2", "cmsc"]
    x = torch.from_numpy(sample[0][:4])
    with torch.no_grad():
        torch.testing.assert_close(encoder.eval().forward_features(x), pretrained.encoder_.eval().forward_features(x))
    with pytest.raises(FileNotFoundError):
        load_encoder(tmp_path / "nowhere")


@pytest.mark.parametrize(
    ("mode", "trainable"),
    [("full", "all"), ("partial", "all but feature_encoder"), ("linear", "head only")],
)
def test_finetune_modes_freeze_what_they_say(pretrained, sample, mode, trainable):
    X, labels, _ = sample
    y = labels["NORM"].to_numpy()[:48]
    before = {k: v.clone() for k, v in pretrained.encoder_.state_dict().items()}
    clf = ECGClassifier(encoder=pretrained, finetune=mode, max_epochs=1, batch_size=16, validation=None,
                        threshold=0.5, random_state=0, **QUIET).fit(X[:48], y)
    grads = {name: p.requires_grad for name, p in clf.module_.named_parameters()}
    heads = [n for n in grads if n.startswith("head.")]
    assert heads and all(grads[n] for n in heads)
    body = [n for n in grads if not n.startswith("head.")]
    conv = [n for n in body if n.startswith("feature_encoder.")]
    if mode == "full":
        assert all(grads[n] for n in body)
    elif mode == "partial":
        assert conv and not any(grads[n] for n in conv)
        assert all(grads[n] for n in body if n not in conv)
        assert not clf.module_.feature_encoder.training or not clf.module_.training
    else:
        assert not any(grads[n] for n in body)
    # fine-tuning never changes the pretrainer's encoder
    for key, value in pretrained.encoder_.state_dict().items():
        torch.testing.assert_close(value, before[key])
    assert clf.predict_proba(X[:5]).shape == (5, 2)


def test_linear_probe_keeps_encoder_weights(pretrained, sample):
    X, labels, _ = sample
    clf = ECGClassifier(encoder=pretrained.encoder_, finetune="linear", max_epochs=2, batch_size=16,
                        validation=None, threshold=0.5, random_state=0, **QUIET)
    clf.fit(X[:48], labels["NORM"].to_numpy()[:48])
    state = clf.module_.state_dict()
    for key, value in pretrained.encoder_.state_dict().items():
        if not key.startswith("head."):
            torch.testing.assert_close(state[key], value)


def test_discriminative_learning_rates(pretrained, sample):
    X, labels, _ = sample
    clf = ECGClassifier(encoder=pretrained, encoder_lr_scale=0.1, lr=1e-3, lr_schedule=None, max_epochs=1,
                        batch_size=16, validation=None, threshold=0.5, **QUIET)
    clf.fit(X[:32], labels["NORM"].to_numpy()[:32])
    lrs = sorted(group["lr"] for group in clf.optimizer_.param_groups)
    assert lrs == pytest.approx([1e-4, 1e-3])


def test_regressor_finetunes_and_saves(pretrained, sample, tmp_path):
    X, _, meta = sample
    age = meta["age"].to_numpy(dtype=float)[:40]
    reg = ECGRegressor(encoder=pretrained, finetune="partial", max_epochs=1, batch_size=16, validation=None, **QUIET)
    reg.fit(X[:40], age)
    folder = reg.save(tmp_path / "reg")
    loaded = ECGRegressor.load(folder, device="cpu")
    np.testing.assert_allclose(loaded.predict(X[:6]), reg.predict(X[:6]), rtol=1e-5)


def test_unfitted_pretrainer_as_encoder_gives_a_clear_error(pretrained, sample):
    X, labels, _ = sample
    cloned = clone(ECGClassifier(encoder=pretrained, max_epochs=1, validation=None, **QUIET))
    with pytest.raises(ValueError, match="encoder_"):
        cloned.fit(X[:16], labels["NORM"].to_numpy()[:16])
    with pytest.raises(ValueError, match="leads"):
        ECGClassifier(encoder=pretrained, max_epochs=1, validation=None, **QUIET).fit(
            X[:16, :8], labels["NORM"].to_numpy()[:16])


def test_embedder_in_gridsearch_with_cache(pretrained, sample, tmp_path, monkeypatch):
    X, labels, _ = sample
    X, y = X[:120], labels["NORM"].to_numpy()[:120]
    pipe = make_pipeline(ECGEmbedder(pretrained.encoder_, cache=tmp_path), LogisticRegression(max_iter=500))
    grid = GridSearchCV(pipe, {"logisticregression__C": [0.1, 1.0]}, cv=3, scoring="roc_auc")
    grid.fit(X, y)
    files = list(tmp_path.glob("embeddings-*.npz"))
    assert len(files) == 1 and len(np.load(files[0])["keys"]) == 120
    direct = ECGEmbedder(pretrained.encoder_).fit_transform(X)
    np.testing.assert_allclose(grid.best_estimator_[0].transform(X), direct, rtol=1e-5, atol=1e-6)
    # a second search is served from the cache: the encoder runs on no ECG at all
    calls = []
    hook = type(pretrained.encoder_).forward_features

    def counting(self, x):
        calls.append(len(x))
        return hook(self, x)

    monkeypatch.setattr(type(pretrained.encoder_), "forward_features", counting)
    clone(grid).fit(X, y)
    assert calls == []
    ECGEmbedder(pretrained.encoder_, cache=tmp_path / "fresh").fit(X[:10]).transform(X[:10])
    assert sum(calls) == 10  # the counter does see uncached embedding passes
    monkeypatch.undo()
    emb = ECGEmbedder(pretrained.encoder_).fit(X)
    assert list(emb.get_feature_names_out()[:2]) == ["embedding0", "embedding1"]
    restored = pickle.loads(pickle.dumps(emb))
    np.testing.assert_allclose(restored.transform(X[:3]), direct[:3], rtol=1e-5, atol=1e-6)


def test_embedder_cache_in_memory_is_keyed_by_weights(sample):
    X = sample[0][:6]
    torch.manual_seed(0)
    a = build_model("deepecg-ssl-tiny", n_times=1250, n_outputs=1)
    torch.manual_seed(1)
    b = build_model("deepecg-ssl-tiny", n_times=1250, n_outputs=1)
    za = ECGEmbedder(a, cache=True).fit_transform(X)
    zb = ECGEmbedder(b, cache=True).fit_transform(X)
    assert not np.allclose(za, zb)
    np.testing.assert_array_equal(ECGEmbedder(a, cache=True).fit_transform(X), za)


def test_embedder_bad_input(sample):
    X = sample[0][:4]
    enc = build_model("deepecg-ssl-tiny", n_times=1250, n_outputs=1)
    with pytest.raises(ValueError, match="needs an encoder"):
        ECGEmbedder().fit(X)
    emb = ECGEmbedder(enc).fit(X)
    with pytest.raises(ValueError, match="leads"):
        emb.transform(X[:, :6])
    with pytest.raises(ValueError, match="NaN"):
        bad = X.copy()
        bad[1, 2, 3] = np.nan
        emb.transform(bad)
    with pytest.raises(TypeError):
        ECGEmbedder(encoder=3).fit(X)


def test_embedder_reads_a_dataset_lazily_and_once(pretrained, sample, tmp_path):
    X = sample[0][:40]
    reads = []

    class Records(torch.utils.data.Dataset):  # e.g. ECGs read from disk one at a time
        def __len__(self):
            return len(X)

        def __getitem__(self, i):
            reads.append(i)
            return X[i]

    embedder = ECGEmbedder(pretrained.encoder_, batch_size=16, device="cpu").fit(Records())
    assert reads == [0]  # fit checks the first ECG only
    reads.clear()
    np.testing.assert_allclose(embedder.transform(Records()), embedder.transform(X), rtol=1e-6)
    assert sorted(reads) == list(range(len(X)))  # each ECG read once
    cached = ECGEmbedder(pretrained.encoder_, batch_size=16, device="cpu", cache=tmp_path)
    first = cached.fit(Records()).transform(Records())
    np.testing.assert_allclose(cached.transform(X), first, rtol=1e-6)
    with pytest.raises(ValueError, match="empty"):
        embedder.transform(torch.utils.data.Subset(Records(), []))
