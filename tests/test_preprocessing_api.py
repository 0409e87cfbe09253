"""sklearn conventions, property tests, bad input, pipeline and real data for ecgsk.preprocessing."""

from __future__ import annotations

import pickle
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from ecgsk.leads import STANDARD_12
from ecgsk.preprocessing import (
    DEEPECG_POWER_RATIO,
    DEEPECG_TARGET_MAGNITUDE,
    AmplitudeScaler,
    AmplitudeWarning,
    BandpassFilter,
    BaselineRemoval,
    CropOrPad,
    Decimate,
    DeepECGSpectralCleaning,
    ECGPipeline,
    NormalizeLeads,
    NotchFilter,
    ReorderLeads,
    Resample,
    SpectralNotch,
    make_deepecg_preprocessing,
    spectral_magnitude,
)


def all_transformers():
    return [
        ReorderLeads(),
        Resample(500, 250),
        BandpassFilter(500, 0.5, 40.0),
        NotchFilter(500, freq=(50.0, 60.0)),
        SpectralNotch(500),
        BaselineRemoval(500),
        BaselineRemoval(500, method="median"),
        CropOrPad(1500, mode="random", random_state=0),
        NormalizeLeads("zscore"),
        NormalizeLeads("robust"),
        NormalizeLeads("deepecg"),
        AmplitudeScaler(),
        AmplitudeScaler(per_record=True),
        AmplitudeScaler(gain=2.0),
        Decimate(500, 250, n_times=None),
        DeepECGSpectralCleaning(500),
    ]


def ids(est):
    return type(est).__name__ + "-" + "-".join(
        str(v) for k, v in est.get_params().items()
        if k in ("method", "mode", "per_record", "gain")
    )


@pytest.fixture(scope="module")
def ecgs():
    rng = np.random.default_rng(1)
    t = np.arange(2000) / 500
    base = np.sin(2 * np.pi * 1.2 * t) + 0.3 * np.sin(2 * np.pi * 17 * t)
    return (base + 0.2 * rng.normal(size=(6, 12, 2000))).astype(np.float32)


# --- sklearn conventions ------------------------------------------------------------------


@pytest.mark.parametrize("est", all_transformers(), ids=ids)
def test_sklearn_conventions(est, ecgs):
    params = est.get_params()
    cloned = clone(est)
    assert cloned.get_params() == params
    with pytest.raises(NotFittedError):
        est.transform(ecgs)  # even stateless steps need fit
    y = est.fit(ecgs).transform(ecgs)
    assert y.dtype == np.float32 and y.ndim == 3 and np.isfinite(y).all()
    assert est.n_leads_in_ == 12 and est.n_times_in_ == 2000
    assert not hasattr(clone(est), "n_leads_in_")
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(restored.transform(ecgs), y)
    np.testing.assert_array_equal(clone(est).fit_transform(ecgs), y)
    # Integer and float64 input are accepted and give float32.
    assert est.transform(ecgs.astype(np.float64)).dtype == np.float32


def test_set_params_changes_behaviour(ecgs):
    notch = NotchFilter(500, freq=50.0).fit(ecgs)
    assert notch.set_params(freq=60.0) is notch
    assert notch.fit(ecgs).centers_ == (60.0, 120.0, 180.0, 240.0)
    pipe = make_deepecg_preprocessing(500, normalize="zscore")
    pipe.set_params(notch__freq=60.0, crop__mode="start")
    assert pipe.named_steps["notch"].freq == 60.0
    assert pipe.named_steps["crop"].mode == "start"


def test_init_only_stores_parameters():
    # Invalid values are accepted by __init__ and rejected by fit.
    est = BandpassFilter(-5, low="x", high=None)
    assert est.get_params()["sfreq"] == -5
    with pytest.raises(ValueError, match="sfreq"):
        est.fit(np.zeros((1, 1, 100), dtype=np.float32))


def test_cross_val_score_with_logistic_regression(rng):
    n = 40
    y = np.arange(n) % 2
    # Class 1 has a larger 8 Hz component in lead II.
    X = 0.3 * rng.normal(size=(n, 12, 5000)).astype(np.float32)
    X[:, 1] += (0.2 + 0.8 * y[:, None]) * np.sin(2 * np.pi * 8 * np.arange(5000) / 500)
    model = Pipeline(
        [
            ("prep", make_deepecg_preprocessing(500, normalize="deepecg")),
            ("crop", CropOrPad(500)),
            ("flatten", FunctionTransformer(lambda a: a.reshape(len(a), -1))),
            ("clf", LogisticRegression(max_iter=200)),
        ]
    )
    scores = cross_val_score(model, X, y, cv=3)
    assert scores.shape == (3,) and scores.mean() > 0.8


def test_fused_pipeline_matches_step_by_step(rng):
    t = np.arange(5000) / 500
    X = (np.sin(2 * np.pi * 1.1 * t) + 0.2 * rng.normal(size=(3, 12, 5000))).astype(np.float32)
    steps = [
        ("bp", BandpassFilter(500, 0.5, 100.0)),
        ("notch", NotchFilter(500, freq=50.0)),
        ("rs", Resample(500, 250)),
        ("crop", CropOrPad(2000)),
        ("norm", NormalizeLeads("zscore")),
    ]
    fused = ECGPipeline(steps).fit_transform(X)
    plain = Pipeline([(name, clone(step)) for name, step in steps]).fit_transform(X)
    assert fused.shape == plain.shape == (3, 12, 2000)
    # Standalone steps each pad the record on their own: the results differ
    # only near the edges, by little.
    inner = slice(250, -250)
    np.testing.assert_allclose(fused[..., inner], plain[..., inner], atol=0.03)
    assert np.sqrt(np.mean((fused - plain) ** 2)) < 0.01


def test_pipeline_records_independent_of_batch(ecgs):
    pipe = make_deepecg_preprocessing(500).fit(ecgs)
    together = pipe.transform(ecgs)
    alone = np.concatenate([pipe.transform(ecgs[i:i + 1]) for i in range(len(ecgs))])
    np.testing.assert_allclose(together, alone, atol=1e-6)


def test_pipeline_rate_mismatch_is_reported(ecgs):
    pipe = ECGPipeline([("rs", Resample(500, 250)), ("bp", BandpassFilter(500, 0.5, 40))])
    with pytest.raises(ValueError, match="sampling rates of the steps disagree"):
        pipe.fit_transform(ecgs)


def test_make_deepecg_preprocessing_low_rate_and_leads(rng):
    # 100 Hz input: the 100 Hz low-pass and the 50/60 Hz notches do not apply.
    pipe = make_deepecg_preprocessing(100)
    assert pipe.named_steps["bandpass"].high is None
    assert pipe.named_steps["notch"] == "passthrough"
    X = rng.normal(size=(2, 12, 1000)).astype(np.float32)
    assert pipe.fit_transform(X).shape == (2, 12, 2500)
    names = ["V1", "V2", "V3", "V4", "V5", "V6", "I", "II"]
    out = make_deepecg_preprocessing(500, input_leads=names, normalize=None).fit_transform(
        rng.normal(size=(2, 8, 5000)).astype(np.float32)
    )
    np.testing.assert_allclose(out[:, 2], out[:, 1] - out[:, 0], atol=1e-5)


def test_transform_memory_is_bounded():
    n = 300
    X = np.random.default_rng(0).normal(size=(n, 12, 5000)).astype(np.float32)
    pipe = make_deepecg_preprocessing(500).fit(X[:2])
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    Y = pipe.transform(X)
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    # Output (half the input) plus the chunk work buffers, never a full copy.
    assert peak < 0.5 * X.nbytes + 40 * 2**20
    assert peak < 1.1 * X.nbytes
    assert Y.shape == (n, 12, 2500)


# --- property tests ---------------------------------------------------------------------

signal_shapes = st.tuples(st.integers(1, 3), st.integers(1, 4), st.integers(600, 1200))


def random_batch(shape, seed):
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


@settings(max_examples=15, deadline=None)
@given(shape=signal_shapes, seed=st.integers(0, 2**16))
def test_shapes_and_dtype_preserved(shape, seed):
    X = random_batch(shape, seed)
    for est in (
        BandpassFilter(250, 0.5, 40),
        NotchFilter(250, 50.0),
        SpectralNotch(250),
        BaselineRemoval(250),
        NormalizeLeads("robust"),
    ):
        Y = est.fit_transform(X)
        assert Y.shape == X.shape and Y.dtype == np.float32 and np.isfinite(Y).all()
    Y = Resample(250, 100).fit_transform(X)
    assert Y.shape == (*shape[:2], -(-shape[2] * 2 // 5)) and Y.dtype == np.float32
    Y = CropOrPad(700).fit_transform(X)
    assert Y.shape == (*shape[:2], 700) and Y.dtype == np.float32


@settings(max_examples=15, deadline=None)
@given(
    shape=signal_shapes,
    seed=st.integers(0, 2**16),
    a=st.floats(-3, 3, allow_nan=False),
    b=st.floats(-3, 3, allow_nan=False),
)
def test_linear_filters_are_linear(shape, seed, a, b):
    X = random_batch(shape, seed)
    Y = random_batch(shape, seed + 1)
    combo = (a * X + b * Y).astype(np.float32)
    for est in (
        BandpassFilter(250, 0.5, 40),
        NotchFilter(250, 50.0),
        Resample(250, 100),
        Resample(250, 360),
        BaselineRemoval(250),
        ECGPipeline([("bp", BandpassFilter(250, 1, 60)), ("rs", Resample(250, 200))]),
    ):
        est.fit(X)
        lhs = est.transform(combo)
        rhs = a * est.transform(X) + b * est.transform(Y)
        scale = 1 + abs(a) + abs(b)
        np.testing.assert_allclose(lhs, rhs, atol=2e-5 * scale * 10)


@settings(max_examples=25, deadline=None)
@given(perm=st.permutations(list(range(12))), upper=st.lists(st.booleans(), min_size=12, max_size=12))
def test_reorder_leads_idempotent(perm, upper):
    names = [STANDARD_12[i].upper() if up else STANDARD_12[i] for i, up in zip(perm, upper, strict=True)]
    X = random_batch((2, 12, 30), sum(perm))
    once = ReorderLeads(input_leads=names).fit_transform(X)
    twice = ReorderLeads(input_leads=STANDARD_12).fit_transform(once)
    np.testing.assert_array_equal(once, twice)
    np.testing.assert_array_equal(ReorderLeads().fit_transform(once), once)


# --- bad input --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("X", "match"),
    [
        (np.full((2, 12, 1000), np.nan, dtype=np.float32), "NaN"),
        (np.full((2, 12, 1000), np.inf, dtype=np.float32), "inf"),
        (np.zeros((12, 1000), dtype=np.float32), "3-D"),
        (np.zeros((0, 12, 1000), dtype=np.float32), "empty"),
        (np.zeros((2, 8, 1000), dtype=np.float32), "8 leads, expected 12"),
    ],
    ids=["nan", "inf", "2d", "empty", "leads"],
)
def test_bad_input_at_transform(X, match):
    est = BandpassFilter(500, 0.5, 40).fit(np.zeros((1, 12, 1000), dtype=np.float32))
    with pytest.raises(ValueError, match=match):
        est.transform(X)


def test_bad_input_in_pipeline(ecgs):
    pipe = make_deepecg_preprocessing(500).fit(ecgs)
    with pytest.raises(ValueError, match="8 leads, expected 12"):
        pipe.transform(ecgs[:, :8])
    bad = ecgs.copy()
    bad[1, 3, 7] = np.nan
    with pytest.raises(ValueError, match="NaN .*ECG 1, lead 3, sample 7"):
        pipe.transform(bad)


@pytest.mark.parametrize(
    ("est", "match"),
    [
        (BandpassFilter(0, 0.5, 40), "sfreq must be a positive"),
        (BandpassFilter(-250, 0.5, 40), "sfreq must be a positive"),
        (BandpassFilter(500, 0.5, 250), "high=250 Hz is at or above the Nyquist"),
        (BandpassFilter(500, 0.5, 300), "high=300"),
        (BandpassFilter(500, 40, 10), "low=40 Hz must be below high=10"),
        (BandpassFilter(500, None, None), "at least one of low and high"),
        (NotchFilter(100, freq=50.0), "freq=50.0 Hz is at or above the Nyquist"),
        (NotchFilter(500, quality=0), "quality"),
        (Resample(500, 0), "sfreq_out must be a positive"),
        (Resample(-1, 250), "sfreq_in must be a positive"),
        (SpectralNotch(500, min_freq=300), "min_freq=300"),
        (BaselineRemoval(500, cutoff=260), "cutoff=260"),
        (CropOrPad(0), "n_times must be >= 1"),
        (CropOrPad(10, mode="middle"), "mode must be one of"),
        (NormalizeLeads("minmax"), "method must be one of"),
        (ReorderLeads(output_leads=["I", "II", "V7x"]), r"unknown lead names in output_leads: \['V7x'\]"),
        (ReorderLeads(input_leads=["I", "I"] + list(STANDARD_12[2:])), "repeat"),
        (ReorderLeads(fill_missing="mean"), "fill_missing"),
    ],
    ids=lambda v: v if isinstance(v, str) else type(v).__name__,
)
def test_bad_parameters_fail_in_fit(est, match, ecgs):
    with pytest.raises((ValueError, TypeError), match=match):
        est.fit(ecgs[:, :, :1000])


def test_unknown_input_lead_names_are_reported(ecgs):
    names = list(STANDARD_12)
    names[7] = "Vx2"
    with pytest.raises(ValueError, match=r"\['V2'\] are missing.*not recognised: \['Vx2'\]"):
        ReorderLeads(input_leads=names).fit(ecgs)
    with pytest.raises(ValueError, match="X has 12 leads but input_leads names 3"):
        ReorderLeads(input_leads=["I", "II", "V1"]).fit(ecgs)


@pytest.mark.parametrize(
    ("est", "n_times", "match"),
    [
        (BandpassFilter(500, 0.5, 40), 900, "BandpassFilter: 900 samples .* at least 1000 .*0.5 Hz"),
        (NotchFilter(500, 50.0), 250, "NotchFilter: 250 samples"),
        (SpectralNotch(500), 900, "SpectralNotch: 900 samples"),
        (BaselineRemoval(500, method="median"), 200, "BaselineRemoval: 200 samples"),
    ],
)
def test_signal_shorter_than_the_filter_needs(est, n_times, match):
    X = np.zeros((1, 12, n_times), dtype=np.float32)
    with pytest.raises(ValueError, match=match):
        est.fit(X)
    long = np.zeros((1, 12, 5000), dtype=np.float32)
    est.fit(long)
    with pytest.raises(ValueError, match=match):
        est.transform(X)


def test_too_short_after_crop_inside_pipeline():
    pipe = ECGPipeline([("crop", CropOrPad(200)), ("bp", BandpassFilter(500, 0.5, 40))])
    with pytest.raises(ValueError, match="too short for BandpassFilter"):
        pipe.fit(np.zeros((1, 12, 5000), dtype=np.float32))


# --- real data --------------------------------------------------------------------------


def read_ptbxl(root, folder, ids):
    wfdb = pytest.importorskip("wfdb")
    signals = []
    for ecg_id in ids:
        path = root / folder / "00000" / (f"{ecg_id:05d}_hr" if folder == "records500" else f"{ecg_id:05d}_lr")
        sig, fields = wfdb.rdsamp(str(path))
        assert [n.upper() for n in fields["sig_name"]] == [n.upper() for n in STANDARD_12]
        signals.append(sig.T)
    return np.stack(signals).astype(np.float32), fields


def test_real_ptbxl_through_deepecg_preprocessing(ptbxl_subset_dir):
    X, fields = read_ptbxl(ptbxl_subset_dir, "records500", range(1, 41))
    assert fields["fs"] == 500
    pipe = make_deepecg_preprocessing(500, input_leads=fields["sig_name"])
    Y = pipe.fit_transform(X)
    assert Y.shape == (40, 12, 2500) and Y.dtype == np.float32 and np.isfinite(Y).all()
    # The default (normalize="cohort"): the cohort's mean DFT magnitude of lead I is the
    # release's target, every record scaled by the same gain, and no offset left.
    np.testing.assert_allclose(spectral_magnitude(Y[:, 0]).mean(), DEEPECG_POWER_RATIO,
                               rtol=1e-3)
    raw = make_deepecg_preprocessing(500, normalize=None).fit_transform(X)
    np.testing.assert_allclose(Y, raw * pipe.named_steps["normalize"].gain_, rtol=1e-5,
                               atol=1e-5)
    assert np.abs(Y.mean(axis=-1)).max() < 0.05
    # normalize="deepecg" (per record): every record at the PTB-XL median.
    per_record = make_deepecg_preprocessing(500, normalize="deepecg").fit_transform(X)
    np.testing.assert_allclose(spectral_magnitude(per_record[:, 0]), DEEPECG_TARGET_MAGNITUDE,
                               rtol=1e-3)
    np.testing.assert_allclose(np.median(spectral_magnitude(raw[:, 0])), DEEPECG_TARGET_MAGNITUDE,
                               rtol=0.15)
    z = make_deepecg_preprocessing(500, normalize="zscore").fit_transform(X)
    np.testing.assert_allclose(z.mean(axis=-1), 0, atol=1e-4)
    np.testing.assert_allclose(z.std(axis=-1), 1, atol=1e-3)


def test_real_ptbxl_100hz_and_500hz_versions_agree(ptbxl_subset_dir):
    # PTB-XL ships each ECG at 500 Hz and downsampled to 100 Hz: both must
    # give the same 250 Hz signal below 40 Hz.
    ids = range(1, 11)
    X500, _ = read_ptbxl(ptbxl_subset_dir, "records500", ids)
    X100, _ = read_ptbxl(ptbxl_subset_dir, "records100", ids)
    opts = dict(bandpass=(0.5, 40.0), normalize=None, spectral_notch=False)
    a = make_deepecg_preprocessing(500, **opts).fit_transform(X500)
    b = make_deepecg_preprocessing(100, **opts).fit_transform(X100)
    inner = slice(125, -125)
    corr = [np.corrcoef(a[i, j, inner], b[i, j, inner])[0, 1] for i in range(10) for j in range(12)]
    assert np.median(corr) > 0.99 and np.min(corr) > 0.9


@pytest.mark.parametrize("normalize", ["cohort", "record", "deepecg", "zscore", "robust"])
def test_flat_records_and_leads_never_give_nan(normalize):
    X = np.zeros((3, 12, 5000), dtype=np.float32)
    X[1] = 0.4  # every lead constant
    X[2, :6] = np.sin(np.arange(5000) / 40.0)  # limb leads alive, chest leads flat
    with pytest.warns(AmplitudeWarning, match=r"2 record\(s\) below 0.01 mV.*records \[0, 1\]"):
        Y = make_deepecg_preprocessing(500, normalize=normalize).fit_transform(X)
    assert np.isfinite(Y).all()
    np.testing.assert_allclose(Y[:2], 0, atol=1e-6)
    if normalize != "deepecg":
        assert np.all(Y[2, 6:] == 0)
