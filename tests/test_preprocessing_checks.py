"""Amplitude scaling learned on a cohort, input plausibility checks, the deprecated base name."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.pipeline import Pipeline

import ecgsk.preprocessing as prep
from ecgsk.datasets import load_ptbxl_sample
from ecgsk.preprocessing import (
    DEEPECG_POWER_RATIO,
    AmplitudeScaler,
    AmplitudeWarning,
    BandpassFilter,
    BaseECGStep,
    CropOrPad,
    ECGPipeline,
    PaddingWarning,
    Resample,
    check_amplitude,
    make_deepecg_preprocessing,
)


def mean_abs_dft_lead0(X):
    """The release's statistic, written out: mean over bins of |fft(lead I)|, DC included."""
    return np.array([np.abs(np.fft.fft(x[0].astype(np.float64))).mean() for x in X])


batches = st.tuples(st.integers(2, 5), st.integers(1, 4), st.integers(64, 400), st.integers(0, 2**16))


def make_batch(n, leads, times, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, leads, times))
    X *= rng.uniform(0.05, 5.0, size=(n, 1, 1))  # records of very different voltages
    return X.astype(np.float32)


# --- AmplitudeScaler ---------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(batch=batches, k=st.integers(0, 10))
def test_one_record_never_depends_on_its_batch(batch, k):
    X = make_batch(*batch)
    scaler = AmplitudeScaler().fit(X)
    k = k % len(X)
    alone = scaler.transform(X[k:k + 1])
    others = make_batch(3, X.shape[1], X.shape[2], batch[3] + 1) * 40
    mixed = scaler.transform(np.concatenate([others, X[k:k + 1]]))[-1:]
    np.testing.assert_array_equal(alone, mixed)
    np.testing.assert_array_equal(alone, scaler.transform(X)[k:k + 1])


@settings(max_examples=30, deadline=None)
@given(batch=batches)
def test_ratio_of_two_records_amplitudes_is_kept(batch):
    X = make_batch(*batch)
    Y = AmplitudeScaler().fit(X).transform(X)
    before = np.abs(X).max(axis=(1, 2))
    after = np.abs(Y).max(axis=(1, 2))
    np.testing.assert_allclose(after[1:] / after[0], before[1:] / before[0], rtol=1e-5)


@settings(max_examples=30, deadline=None)
@given(batch=batches, target=st.floats(0.1, 10.0))
def test_fit_then_transform_applies_the_learned_constant_gain(batch, target):
    X = make_batch(*batch)
    scaler = AmplitudeScaler(target=target).fit(X)
    expected_gain = target / mean_abs_dft_lead0(X).mean()
    assert scaler.gain_ == pytest.approx(expected_gain, rel=1e-5)
    np.testing.assert_allclose(scaler.transform(X), X * expected_gain, rtol=1e-5, atol=1e-7)
    # fit_transform on the cohort is the same thing.
    np.testing.assert_allclose(clone(scaler).fit_transform(X), scaler.transform(X), rtol=1e-6)
    # The cohort then has the target statistic on average (the release's convention).
    assert mean_abs_dft_lead0(scaler.transform(X)).mean() == pytest.approx(target, rel=1e-4)


def test_fixed_gain_and_per_record_modes():
    X = make_batch(4, 12, 500, 0)
    fixed = AmplitudeScaler(gain=2.5)
    assert not fixed._learns_from_data()
    np.testing.assert_allclose(fixed.fit_transform(X), 2.5 * X, rtol=1e-6)
    per_record = AmplitudeScaler(per_record=True).fit_transform(X)
    np.testing.assert_allclose(mean_abs_dft_lead0(per_record), DEEPECG_POWER_RATIO, rtol=1e-4)
    with pytest.raises(ValueError, match="exclude each other"):
        AmplitudeScaler(gain=2.0, per_record=True).fit(X)
    with pytest.raises(ValueError, match="lead 0 is flat in every training record"):
        AmplitudeScaler().fit(np.zeros((2, 12, 500), dtype=np.float32))
    with pytest.raises(ValueError, match="reference_lead=3 but X has only 2 leads"):
        AmplitudeScaler(reference_lead=3).fit(X[:, :2])


def test_pipeline_fits_the_scaler_on_the_output_of_the_steps_before_it():
    sample = load_ptbxl_sample()
    X = sample.signals[:30]
    pipe = make_deepecg_preprocessing(500, input_leads=sample.leads)
    Y = pipe.fit_transform(X)
    upstream = clone(pipe).set_params(normalize="passthrough").fit_transform(X)
    gain = DEEPECG_POWER_RATIO / mean_abs_dft_lead0(upstream).mean()
    assert pipe.named_steps["normalize"].gain_ == pytest.approx(gain, rel=1e-5)
    np.testing.assert_allclose(Y, upstream * gain, rtol=1e-5, atol=1e-6)
    # fit alone learns the same gain, and the plain sklearn Pipeline path agrees.
    fitted = clone(pipe).fit(X)
    assert fitted.named_steps["normalize"].gain_ == pytest.approx(gain, rel=1e-6)
    plain = Pipeline([(name, clone(step)) for name, step in pipe.steps]).fit(X)
    assert plain.named_steps["normalize"].gain_ == pytest.approx(gain, rel=2e-2)
    # A record transformed alone after fitting gives the same output as in the batch.
    np.testing.assert_allclose(pipe.transform(X[5:6]), Y[5:6], atol=1e-6)


def test_default_keeps_voltage_differences_between_records():
    # LVH-like records (large QRS) stay large, low-voltage ones stay small.
    sample = load_ptbxl_sample()
    X = sample.signals[:40]
    scaled = np.concatenate([X[:20] * 2.0, X[20:] * 0.5])
    Y = make_deepecg_preprocessing(500).fit_transform(scaled)
    raw = make_deepecg_preprocessing(500, normalize=None).fit_transform(scaled)
    ratio = np.ptp(Y, axis=-1) / np.ptp(raw, axis=-1)
    np.testing.assert_allclose(ratio, ratio.flat[0], rtol=1e-4)  # one gain for all
    per_record = make_deepecg_preprocessing(500, normalize="record").fit_transform(scaled)
    # The per-record mode erases the 4x difference that the default keeps.
    assert np.median(np.ptp(Y[:20], axis=-1)) > 3 * np.median(np.ptp(Y[20:], axis=-1))
    spread = np.median(np.ptp(per_record[:20], axis=-1)) / np.median(np.ptp(per_record[20:], -1))
    assert spread < 1.5


# --- amplitude plausibility --------------------------------------------------------------


def test_check_amplitude_flags_gain_errors_and_flat_records():
    sample = load_ptbxl_sample()
    X = sample.signals[:6].copy()
    X[1] *= 1000.0  # microvolts given as millivolts
    X[3] /= 1000.0  # volts given as millivolts
    X[4] = 0.0  # flat
    with pytest.warns(AmplitudeWarning) as record:
        large, small = check_amplitude(X, names=[f"rec{i}" for i in range(6)])
    assert large.tolist() == [1] and small.tolist() == [3, 4]
    message = str(record[0].message)
    assert "['rec1']" in message and "['rec3', 'rec4']" in message
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        large, small = check_amplitude(X, warn=False)
        assert large.tolist() == [1]
        assert check_amplitude(sample.signals)[0].size == 0  # real records pass
    counts = np.zeros((2, 12, 100), dtype=np.int16)
    counts[1, :, :2] = (-32768, 32767)  # ADC counts: a range that overflows int16
    with pytest.warns(AmplitudeWarning, match="6.55e\\+04 mV"):
        assert check_amplitude(counts)[0].tolist() == [1]
    with pytest.raises(ValueError, match="names has 2 entries"):
        check_amplitude(X, names=["a", "b"])
    with pytest.raises(ValueError, match="max_ptp must be a positive number"):
        check_amplitude(X, max_ptp=-1)


def test_pipeline_warns_about_implausible_amplitudes_with_opt_out():
    sample = load_ptbxl_sample()
    X = sample.signals[:4].copy()
    X[2] *= 787.0 / np.median(np.ptp(X[2], axis=-1))  # median lead 787 mV: a wrong gain
    with pytest.warns(AmplitudeWarning, match=r"records \[2\].*787"):
        pipe = make_deepecg_preprocessing(500).fit(X)
    with pytest.warns(AmplitudeWarning, match=r"records \[0\]"):
        pipe.transform(X[2:3])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        make_deepecg_preprocessing(500, check_amplitude=False).fit_transform(X)


# --- sampling rate and length -------------------------------------------------------------


def test_pipeline_fitted_at_500hz_refuses_100hz_records():
    sample = load_ptbxl_sample()
    pipe = make_deepecg_preprocessing(500).fit(sample.signals[:10])
    at_100hz = sample.signals[:3, :, ::5]  # the same 10 s at 100 Hz: 1000 samples
    with pytest.raises(ValueError, match=r"1000 samples per lead but this pipeline was fitted "
                                         r"on 5000.*2 s instead of 10 s.*100 Hz"):
        pipe.transform(at_100hz)
    with pytest.warns(PaddingWarning, match="80% of the output is zero padding"):
        out = clone(pipe).set_params(check_length=False).fit(sample.signals[:10]).transform(
            at_100hz)
    assert out.shape == (3, 12, 2500)
    # Longer records are cropped, not refused; built for the right rate, no complaint.
    assert pipe.transform(np.concatenate([sample.signals[:2]] * 2, axis=-1)).shape[-1] == 2500
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        make_deepecg_preprocessing(100).fit_transform(at_100hz)


def test_padding_warning_names_share_and_has_opt_out():
    X = np.random.default_rng(0).normal(size=(3, 12, 1200)).astype(np.float32)
    with pytest.warns(PaddingWarning, match=r"all 3 records \(indices 0-2\) from 1200 to 2500"):
        CropOrPad(2500).fit_transform(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        CropOrPad(2500, max_pad=None).fit_transform(X)
        CropOrPad(2000).fit_transform(X)  # 40% padding: fine
    pipe = ECGPipeline([("bp", BandpassFilter(500, 0.5, 40)), ("rs", Resample(500, 250))])
    pipe.fit(np.zeros((1, 12, 5000), dtype=np.float32) + np.linspace(0, 1, 5000, dtype="f4"))
    half = np.random.default_rng(1).normal(size=(2, 12, 2500)).astype(np.float32)
    assert pipe.transform(half).shape[-1] == 1250  # half as long: accepted


# --- the base class's names --------------------------------------------------------------


def test_old_base_class_name_is_a_deprecated_alias():
    with pytest.warns(DeprecationWarning, match="use ecgsk.preprocessing.BaseECGStep"):
        old = prep.ECGTransformer
    assert old is BaseECGStep
    with pytest.warns(DeprecationWarning):
        from ecgsk.preprocessing import ECGTransformer  # noqa: F401
    with pytest.warns(DeprecationWarning):

        class Custom(prep.ECGTransformer):
            pass

    assert issubclass(Custom, BaseECGStep)
    assert "ECGTransformer" not in prep.__all__
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        prep.Nope  # noqa: B018
    import ecgsk.nn

    assert ecgsk.nn.ECGTransformer.__module__ == "ecgsk.nn.transformer"
