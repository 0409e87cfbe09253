"""Frequency-domain correctness and lead handling of ecgsk.preprocessing."""

from __future__ import annotations

import numpy as np
import pytest

from ecgsk.leads import STANDARD_12
from ecgsk.preprocessing import (
    BandpassFilter,
    BaselineRemoval,
    CropOrPad,
    NormalizeLeads,
    NotchFilter,
    ReorderLeads,
    Resample,
    SpectralNotch,
    spectral_magnitude,
)

FS = 500.0
T = np.arange(5000) / FS  # 10 s at 500 Hz


def tone(freq, fs=FS, n=5000, phase=0.0, amplitude=1.0):
    t = np.arange(n) / fs
    return amplitude * np.sin(2 * np.pi * freq * t + phase)


def batch(*signals, n_leads=12):
    """Stack 1-D signals into a (n, n_leads, n_times) float32 batch (same signal in every lead)."""
    return np.stack([np.tile(s, (n_leads, 1)) for s in signals]).astype(np.float32)


def component(y, freq, fs):
    """Complex amplitude of the ``freq`` Hz sinusoid in ``y`` (last axis)."""
    n = y.shape[-1]
    t = np.arange(n) / fs
    return (y * np.exp(-2j * np.pi * freq * t)).sum(axis=-1) * 2 / n


# --- filters --------------------------------------------------------------------


def test_notch_removes_50hz_by_40db_and_keeps_10hz():
    x = batch(tone(10) + tone(50, phase=0.3))
    y = NotchFilter(FS, freq=50.0).fit_transform(x)
    attenuation = 20 * np.log10(np.abs(component(y, 50, FS)) / np.abs(component(x, 50, FS)))
    assert attenuation.max() <= -40
    ratio = np.abs(component(y, 10, FS)) / np.abs(component(x, 10, FS))
    np.testing.assert_allclose(ratio, 1.0, atol=0.01)
    # Away from the edges (the notch rings for ~0.5 s there) the tone is gone.
    interior = (y - tone(10))[..., 500:-500]
    assert np.abs(interior).max() < 5e-3


def test_notch_harmonics_and_60hz():
    x = batch(tone(8) + tone(60) + 0.5 * tone(120) + 0.3 * tone(180))
    notch = NotchFilter(FS, freq=60.0).fit(x)
    assert notch.centers_ == (60.0, 120.0, 180.0, 240.0)
    y = notch.transform(x)
    inner = slice(500, -500)  # each notch rings for ~0.5 s at the edges
    for f in (60, 120, 180):
        removed = np.abs(component(y[..., inner], f, FS)).max()
        assert removed < 0.01 * np.abs(component(x[..., inner], f, FS)).max()
    only_fundamental = NotchFilter(FS, freq=60.0, harmonics=1).fit_transform(x)
    np.testing.assert_allclose(
        np.abs(component(only_fundamental, 120, FS)), np.abs(component(x, 120, FS)), rtol=0.01
    )


def test_bandpass_passes_10hz_and_removes_drift():
    drift = tone(0.05, phase=0.5)  # 1 mV, half a cycle in 10 s
    x = batch(tone(10) + drift)
    y = BandpassFilter(FS, low=0.5, high=40.0).fit_transform(x)
    ratio = np.abs(component(y, 10, FS)) / np.abs(component(x, 10, FS))
    np.testing.assert_allclose(ratio, 1.0, atol=0.01)
    # The 1 mV drift is gone, away from the edges (a 0.5 Hz high-pass needs
    # about a second of context on each side, as with filtfilt).
    residual = (y - tone(10))[..., 1000:-1000]
    assert np.abs(residual).max() < 0.02


def test_bandpass_removes_content_above_high():
    x = batch(tone(5) + tone(90))
    y = BandpassFilter(FS, low=None, high=40.0).fit_transform(x)
    assert np.abs(component(y, 90, FS)).max() < 1e-3
    np.testing.assert_allclose(np.abs(component(y, 5, FS)), 1.0, atol=0.01)


def test_resample_keeps_5hz_and_does_not_alias_200hz():
    x = batch(tone(5, phase=0.4) + tone(200))
    y = Resample(500, 250).fit_transform(x)
    assert y.shape == (1, 12, 2500) and y.dtype == np.float32
    c = component(y, 5, 250.0)
    # A sine with phase p has complex amplitude -1j * exp(1j p).
    np.testing.assert_allclose(np.abs(c), 1.0, atol=0.01)
    np.testing.assert_allclose(np.angle(c * 1j), 0.4, atol=0.01)
    # 200 Hz would fold onto 50 Hz after plain decimation.
    assert np.abs(component(y, 50, 250.0)).max() < 1e-3
    # Sample by sample too, away from the edges where the cut-off 200 Hz tone rings.
    expected = tone(5, fs=250, n=2500, phase=0.4)
    np.testing.assert_allclose(y[0, 0, 50:-50], expected[50:-50], atol=1e-3)


@pytest.mark.parametrize(("fs_in", "n_in"), [(360, 3600), (257, 2570), (1000, 10000), (100, 1000)])
def test_resample_non_integer_and_up_ratios(fs_in, n_in):
    x = batch(tone(5, fs=fs_in, n=n_in) + 0.3)
    y = Resample(fs_in, 250).fit_transform(x)
    assert y.shape == (1, 12, 2500)
    # Compare where the output times lie within the input's span (when
    # upsampling, the last output samples fall after the last input sample).
    inside = np.arange(2500) / 250 <= (n_in - 1) / fs_in
    np.testing.assert_allclose(y[0, 0, inside], (tone(5, fs=250, n=2500) + 0.3)[inside], atol=2e-3)


def test_resample_output_length_rounds_up():
    x = np.zeros((2, 3, 1001), dtype=np.float32)
    assert Resample(500, 250).fit_transform(x).shape == (2, 3, 501)
    assert Resample(360, 250).fit_transform(x[..., :361]).shape == (2, 3, 251)


def test_resample_same_rate_is_identity():
    x = batch(tone(3))
    np.testing.assert_array_equal(Resample(500, 500).fit_transform(x), x)


def test_baseline_removal_methods():
    drift = 0.8 * tone(0.1) + 0.3
    x = batch(tone(8) * 0.5 + drift)
    for method in ("highpass", "median"):
        y = BaselineRemoval(FS, method=method).fit_transform(x)
        assert y.shape == x.shape and y.dtype == np.float32
        interior = (y - 0.5 * tone(8))[..., 500:-500]
        assert np.abs(np.median(interior)) < 0.05, method
        assert np.abs(interior).max() < 0.3, method


def test_spectral_notch_removes_injected_interference_from_real_ecg(ptbxl_subset_dir):
    wfdb = pytest.importorskip("wfdb")
    sig, _ = wfdb.rdsamp(str(ptbxl_subset_dir / "records500" / "00000" / "00009_hr"))
    clean = BandpassFilter(FS, 0.5, 40.0).fit_transform(sig.T[None].astype(np.float32))
    # A hum (not a whole number of cycles in 10 s) at a frequency no fixed
    # notch would target, with its second harmonic.
    hum = 0.2 * tone(70.03) + 0.1 * tone(140.06)
    noisy = clean + hum.astype(np.float32)
    out = SpectralNotch(FS).fit_transform(noisy)
    for f in (70.03, 140.06):
        assert np.abs(component(out, f, FS)).max() < 0.1 * np.abs(component(noisy, f, FS)).min()
    # The ECG itself is kept: what is left is a small fraction of the hum,
    # most of it at the record edges, where the hum's phase is cut off.
    hum_rms = np.sqrt(np.mean(hum**2))
    assert np.sqrt(np.mean((out - clean) ** 2)) < 0.2 * hum_rms
    assert np.sqrt(np.mean((out - clean)[..., 250:-250] ** 2)) < 0.1 * hum_rms
    # A clean record (no narrow peaks above 20 Hz) is left untouched.
    untouched = SpectralNotch(FS).fit_transform(clean)
    np.testing.assert_allclose(untouched, clean, atol=1e-4)


# --- leads ------------------------------------------------------------------------


def test_derived_limb_leads_satisfy_einthoven_exactly(rng):
    names = ["I", "II", "V1", "V2", "V3", "V4", "V5", "V6"]
    x = rng.normal(size=(3, 8, 50)).astype(np.float32)
    reorder = ReorderLeads(input_leads=names).fit(x)
    y = reorder.transform(x)
    assert reorder.derived_leads_ == ("III", "aVR", "aVL", "aVF")
    lead = {name: y[:, i] for i, name in enumerate(STANDARD_12)}
    np.testing.assert_array_equal(lead["I"], x[:, 0])
    np.testing.assert_array_equal(lead["II"], x[:, 1])
    np.testing.assert_array_equal(lead["III"], lead["II"] - lead["I"])  # Einthoven
    np.testing.assert_allclose(lead["aVR"] + lead["aVL"] + lead["aVF"], 0, atol=1e-6)  # Goldberger
    np.testing.assert_array_equal(y[:, 6:], x[:, 2:])


def test_reorder_any_order_and_case(rng):
    shuffled = [STANDARD_12[i] for i in rng.permutation(12)]
    messy = [name.upper() if k % 2 else name.lower() for k, name in enumerate(shuffled)]
    x = rng.normal(size=(2, 12, 20)).astype(np.float32)
    y = ReorderLeads(input_leads=messy).fit_transform(x)
    for i, name in enumerate(STANDARD_12):
        np.testing.assert_array_equal(y[:, i], x[:, shuffled.index(name)])


def test_reorder_identity_returns_input_and_negated_avr(rng):
    x = rng.normal(size=(2, 12, 20)).astype(np.float32)
    assert ReorderLeads().fit_transform(x) is x
    names = list(STANDARD_12)
    names[3] = "-aVR"
    y = ReorderLeads(input_leads=names).fit_transform(x)
    np.testing.assert_array_equal(y[:, 3], -x[:, 3])


def test_reorder_missing_and_fill(rng):
    x = rng.normal(size=(1, 11, 20)).astype(np.float32)
    names = [n for n in STANDARD_12 if n != "V4"]
    with pytest.raises(ValueError, match=r"\['V4'\] are missing"):
        ReorderLeads(input_leads=names).fit(x)
    reorder = ReorderLeads(input_leads=names, fill_missing="zeros").fit(x)
    assert reorder.filled_leads_ == ("V4",)
    y = reorder.transform(x)
    assert np.all(y[:, STANDARD_12.index("V4")] == 0)
    no_ii = [n for n in STANDARD_12 if n not in ("II", "III")]
    with pytest.raises(ValueError, match="derived from I and II"):
        ReorderLeads(input_leads=no_ii).fit(x[:, :10])


def test_reorder_drops_extra_leads(rng):
    names = list(STANDARD_12) + ["vx", "vy", "vz"]
    x = rng.normal(size=(1, 15, 20)).astype(np.float32)
    y = ReorderLeads(input_leads=names).fit_transform(x)
    np.testing.assert_array_equal(y, x[:, :12])


# --- crop, normalisation ---------------------------------------------------------------


def test_crop_or_pad_modes():
    x = np.arange(10, dtype=np.float32).reshape(1, 1, 10).repeat(3, axis=0)
    assert CropOrPad(4).fit_transform(x)[0, 0].tolist() == [3, 4, 5, 6]
    assert CropOrPad(4, mode="start").fit_transform(x)[0, 0].tolist() == [0, 1, 2, 3]
    padded = CropOrPad(14).fit_transform(x)[0, 0].tolist()
    assert padded == [0, 0] + list(range(10)) + [0, 0]
    random_crop = CropOrPad(4, mode="random", random_state=0)
    a = random_crop.fit_transform(x)
    np.testing.assert_array_equal(a, random_crop.transform(x))  # an int seed repeats
    for row in a[:, 0]:
        assert row.tolist() == list(range(int(row[0]), int(row[0]) + 4))
    big = np.tile(x, (40, 1, 1))
    starts = CropOrPad(4, mode="random", random_state=1).fit_transform(big)[:, 0, 0]
    assert len(set(starts.tolist())) > 1  # each ECG gets its own offset
    random_pad = CropOrPad(15, mode="random", random_state=2).fit_transform(big)
    assert np.all(random_pad.sum(axis=-1) == 45)


def test_normalize_methods_per_lead_and_flat_leads(rng):
    x = rng.normal(2.0, 3.0, size=(3, 12, 2000)).astype(np.float32)
    x[0, 4] = 0.25  # flat lead
    x[1, 7, :10] = 500.0  # artefact
    z = NormalizeLeads("zscore").fit_transform(x)
    assert np.isfinite(z).all()
    assert np.all(z[0, 4] == 0)
    np.testing.assert_allclose(z[2].mean(axis=-1), 0, atol=1e-4)
    np.testing.assert_allclose(z[2].std(axis=-1), 1, atol=1e-4)
    r = NormalizeLeads("robust").fit_transform(x)
    assert np.isfinite(r).all() and np.all(r[0, 4] == 0)
    np.testing.assert_allclose(np.median(r[1, 7]), 0, atol=1e-3)
    iqr = np.subtract(*np.percentile(r[1, 7], [75, 25]))
    np.testing.assert_allclose(iqr, 1.349, rtol=1e-3)


def test_normalize_deepecg_matches_target_and_keeps_lead_ratios(rng):
    x = rng.normal(size=(4, 12, 2500)).astype(np.float32) * np.arange(1, 13, dtype=np.float32)[:, None]
    x[3, 0] = 0.0  # flat reference lead: the record is left as it is
    y = NormalizeLeads("deepecg", target=2.0).fit_transform(x)
    np.testing.assert_allclose(spectral_magnitude(y[:3, 0]), 2.0, rtol=1e-4)
    ratio = y[:3] / x[:3]
    np.testing.assert_allclose(ratio, ratio[:, :1, :1] * np.ones_like(ratio), rtol=1e-4)
    np.testing.assert_array_equal(y[3], x[3])
    assert np.isfinite(y).all()


def test_spectral_magnitude_equals_full_dft_mean(rng):
    x = rng.normal(size=(3, 1001)) + 4.0
    expected = np.abs(np.fft.fft(x, axis=-1))[:, 1:].sum(axis=-1) / x.shape[-1]
    np.testing.assert_allclose(spectral_magnitude(x), expected, rtol=1e-10)
