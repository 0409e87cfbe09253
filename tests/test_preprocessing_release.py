"""``make_deepecg_preprocessing(..., release=True)`` against the DeepECG release, re-derived here.

The reference below follows, step by step, HeartWise-AI/DeepECG_Docker at 2a9680e:
``utils/files_handler.py`` (``NPYProcessor``: transpose to (T, 12), ``x[::T // 2500]``;
``XMLProcessor``: leads put in the standard order by name), ``utils/analysis_pipeline.py``
(``scale_ecg_signals`` with ``PTBXL_POWER_RATIO = 3.003154``, then
``clean_and_process_ecg_leads``) and ``utils/ecg_signal_processor.py``. It works on lists of
(T, 12) records with loops over windows, points and records, as the release does, and
shares no code with ecgsk: LOWESS is transcribed from statsmodels' ``_smoothers_lowess.pyx``
(the smoother the release imports).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.interpolate import interp1d
from scipy.signal import medfilt

from ecgsk.datasets import load_ptbxl_sample
from ecgsk.leads import STANDARD_12
from ecgsk.preprocessing import (
    AmplitudeScaler,
    Decimate,
    DeepECGSpectralCleaning,
    make_deepecg_preprocessing,
    mean_dft_magnitude,
)

FS = 250
PTBXL_POWER_RATIO = 3.003154


# --- the release, re-derived -------------------------------------------------------------


def ref_load(record_12t: np.ndarray) -> np.ndarray | None:
    """NPYProcessor.process_single_file: (12, T) -> (T, 12), then x[::T // 2500]."""
    a = record_12t
    if a.shape[0] == 12:
        a = a.transpose(1, 0)
    if a.shape[0] != 2500:
        if a.shape[0] < 2500:
            return None
        a = a[:: a.shape[0] // 2500, :]
    return a


def ref_mean_spectrum(signals):
    spectra = [np.abs(np.fft.fft(s)) for s in signals.astype(np.float32)]
    return np.fft.fftfreq(signals.shape[1], 1 / FS), np.mean(spectra, axis=0)


def ref_scale(records):
    """scale_ecg_signals: one factor for the batch, applied through an FFT round trip."""
    _, mean_spec = ref_mean_spectrum(np.array(records)[:, :, 0])
    factor = PTBXL_POWER_RATIO / np.mean(mean_spec)
    return [np.real(np.fft.ifft(np.fft.fft(x) * factor)) for x in records], factor


def ref_detect_peaks(signals, window_size=5, std_threshold=5, min_freq=20, merge_threshold=1):
    fft_freq, spec = ref_mean_spectrum(signals)
    valid = fft_freq >= min_freq
    freqs, mags = fft_freq[valid], spec[valid]
    points = int(window_size / (fft_freq[1] - fft_freq[0]))
    peaks, harmonics = [], []
    for i in range(len(mags) - points + 1):
        window = mags[i:i + points]
        mean, std = np.mean(window), np.std(window)
        for j in range(points):
            f = freqs[i + j]
            if window[j] > mean + std_threshold * std:
                is_peak = True  # a peak whatever its harmonic status
            elif window[j] > mean + std_threshold * 0.65 * std:
                multiples = np.array([h * r for h in harmonics for r in (2, 3, 4)])
                is_peak = bool(multiples.size) and bool(np.isclose(f, multiples, rtol=0.05).any())
            else:
                is_peak = False
            if is_peak:
                peaks.append(i + j)
                harmonics.append(f)
    if not peaks:
        return []
    peak_freqs = freqs[peaks]
    regions, current = [], [peaks[0]]
    for k in range(1, len(peaks)):
        if peak_freqs[k] - peak_freqs[k - 1] <= merge_threshold:
            current.append(peaks[k])
        else:
            regions.append(current)
            current = [peaks[k]]
    regions.append(current)
    return [(freqs[r[0]], freqs[r[-1]]) for r in regions]


def ref_lowess(y, x, frac):
    """statsmodels lowess(y, x, frac, it=3, delta=0), point by point."""
    n = len(x)
    k = min(max(int(frac * n + 1e-10), 2), n)
    resid_weights = np.ones(n)
    y_fit = np.zeros(n)
    for _ in range(4):
        left, right = 0, k
        y_fit = np.zeros(n)
        for i in range(n):
            xval = x[i]
            while right < n and xval > (x[left] + x[right]) / 2.0:
                left += 1
                right += 1
            radius = max(xval - x[left], x[right - 1] - xval)
            xj = x[left:right]
            w = (1 - (np.abs(xj - xval) / radius) ** 3) ** 3 * resid_weights[left:right]
            if np.sum(w > 1e-12) < 2:
                y_fit[i] = y[i]
                continue
            w = w / np.sum(w)
            mx = np.sum(w * xj)
            var = max(np.sum(w * (xj - mx) ** 2), 1e-12)
            y_fit[i] = np.sum(w * (1.0 + (xval - mx) * (xj - mx) / var) * y[left:right])
        resid = np.abs(y - y_fit)
        med = np.median(resid)
        r = (resid > 0).astype(float) if med == 0 else resid / (6.0 * med)
        resid_weights = (1 - np.minimum(r, 1.0) ** 2) ** 2
    return y_fit


def ref_crossings(signals, peak_ranges, frac=0.1, kernel_size=5):
    fft_freq, spec = ref_mean_spectrum(signals)
    valid = fft_freq >= 30
    freqs, mags = fft_freq[valid], spec[valid]
    smooth = ref_lowess(medfilt(mags, kernel_size=kernel_size).astype(float), freqs, frac)
    out = []
    for start, end in peak_ranges:
        mid = np.argmin(np.abs(freqs - (start + end) / 2))
        up = down = None
        for i in range(mid, 0, -1):
            if (mags[i - 1] > smooth[i - 1] and mags[i] < smooth[i]) or \
               (mags[i - 1] < smooth[i - 1] and mags[i] > smooth[i]):
                up = freqs[i]
                break
        for i in range(mid, len(freqs) - 1):
            if (mags[i] > smooth[i] and mags[i + 1] < smooth[i + 1]) or \
               (mags[i] < smooth[i] and mags[i + 1] > smooth[i + 1]):
                down = freqs[i]
                break
        out.append((start if up is None else up, end if down is None else down))
    return out


def ref_flatten(signal, ranges):
    fft_result = np.fft.fft(signal)
    freqs = np.fft.fftfreq(len(signal), 1 / FS)
    n = len(signal) // 2
    phase, mag = np.angle(fft_result), np.abs(fft_result)
    for lo, hi in set(ranges):
        if lo >= hi:
            continue
        s = max(np.searchsorted(freqs[:n], lo, side="left"), 0)
        e = min(np.searchsorted(freqs[:n], hi, side="right") - 1, n - 1)
        if s != e:
            line = interp1d([freqs[s], freqs[e]], [mag[s], mag[e]], kind="linear",
                            fill_value="extrapolate")
            idx = np.arange(s, e + 1)
            values = line(freqs[idx])
            fft_result[idx] = values * np.exp(1j * phase[idx])
            if s > 0:
                fft_result[-idx] = values * np.exp(1j * phase[-idx])
    return np.fft.ifft(fft_result).real


def ref_clean(records):
    data = np.array(records)
    peak_ranges = ref_detect_peaks(data[:, :, 0], window_size=5, std_threshold=5)
    if not peak_ranges:
        return data.astype(np.float32), peak_ranges
    leads = []
    for lead in range(12):
        widened = [(a - 1, b + 1) for a, b in ref_crossings(data[:, :, lead], peak_ranges)]
        signals = data[:, :, lead].astype(np.float32)
        leads.append(np.array([ref_flatten(s, widened) for s in signals]).astype(np.float32))
    return np.stack(leads, axis=-1), peak_ranges  # (n, T, 12)


def ref_release(signals_12t, leads):
    """The release's model input, (n, 12, 2500) float32, from (n, 12, T) records."""
    order = [[name.upper() for name in leads].index(name.upper()) for name in STANDARD_12]
    records = [ref_load(rec[order]) for rec in signals_12t]
    scaled, factor = ref_scale(records)
    cleaned, peak_ranges = ref_clean(scaled)
    return cleaned.transpose(0, 2, 1), factor, peak_ranges


# --- the tests ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample():
    return load_ptbxl_sample()


@pytest.fixture(scope="module")
def reference(sample):
    return ref_release(sample.signals, sample.leads)


def test_release_mode_reproduces_the_release_on_ptbxl(sample, reference):
    expected, factor, peak_ranges = reference
    pipe = make_deepecg_preprocessing(sample.sfreq, input_leads=sample.leads, release=True)
    got = pipe.fit_transform(sample.signals)
    assert got.shape == expected.shape == (200, 12, 2500) and got.dtype == np.float32
    np.testing.assert_allclose(pipe.named_steps["normalize"].gain_, factor, rtol=1e-5)
    found = pipe.named_steps["spectral_cleaning"].peak_ranges_
    np.testing.assert_allclose(found, peak_ranges)
    assert len(peak_ranges) > 0  # the cleaning is exercised, not skipped
    diff = np.abs(got - expected)
    scale = np.abs(expected).max()
    # float32 FFT round trips: about 1e-6 of the signal's range.
    assert diff.max() < 1e-5 * scale, (diff.max(), scale)
    # The cleaning changed the signal (so the match above is not the identity).
    scaled_only = AmplitudeScaler().fit_transform(
        Decimate(500).fit_transform(pipe.named_steps["leads"].transform(sample.signals)))
    assert np.abs(scaled_only - expected).max() > 100 * diff.max()


def test_release_mode_is_per_record_once_fitted(sample, reference):
    expected = reference[0]
    pipe = make_deepecg_preprocessing(500, input_leads=sample.leads, release=True)
    pipe.fit(sample.signals)
    alone = np.concatenate([pipe.transform(sample.signals[i:i + 1]) for i in range(0, 200, 40)])
    np.testing.assert_allclose(alone, expected[::40], atol=1e-4)
    # A record's output after fitting on the cohort does not depend on its batch.
    np.testing.assert_array_equal(pipe.transform(sample.signals[:3])[1],
                                  pipe.transform(sample.signals[1:2])[0])


def test_release_per_record_scaling_option(sample):
    pipe = make_deepecg_preprocessing(500, input_leads=sample.leads, release=True,
                                      normalize="record", spectral_notch=False)
    Y = pipe.fit_transform(sample.signals[:20])
    # Each record alone gets the release's target, DC included.
    np.testing.assert_allclose(mean_dft_magnitude(Y[:, 0]), PTBXL_POWER_RATIO, rtol=1e-4)


def test_release_step_names_and_bad_settings():
    pipe = make_deepecg_preprocessing(500, release=True)
    assert [name for name, _ in pipe.steps] == ["leads", "decimate", "normalize",
                                                 "spectral_cleaning"]
    X = np.random.default_rng(0).normal(size=(2, 12, 3600)).astype(np.float32)
    with pytest.raises(ValueError, match="no resampling for 360 Hz"):
        make_deepecg_preprocessing(360, release=True).fit(X)
    with pytest.raises(ValueError, match="only for records of 5000 samples.*slices a "
                                         "6000-sample record by 2"):
        make_deepecg_preprocessing(500, release=True).fit(
            np.random.default_rng(0).normal(size=(2, 12, 6000)).astype(np.float32))
    with pytest.raises(ValueError, match="refuses records under 2500"):
        make_deepecg_preprocessing(500, release=True).fit(X[..., :2000])
    with pytest.raises(ValueError, match="bandpass=None has no counterpart"):
        make_deepecg_preprocessing(500, release=True, bandpass=None)
    with pytest.raises(ValueError, match="normalize must be one of"):
        make_deepecg_preprocessing(500, release=True, normalize="zscore")


def test_decimation_is_slicing_without_filter():
    t = np.arange(5000) / 500
    tone = np.sin(2 * np.pi * 200 * t).astype(np.float32)[None, None]  # 200 Hz
    out = Decimate(500).fit_transform(tone)
    np.testing.assert_array_equal(out[0, 0], tone[0, 0, ::2])
    # 200 Hz folds to 50 Hz at 250 Hz: the release's aliasing, kept on purpose.
    spectrum = np.abs(np.fft.rfft(out[0, 0]))
    assert np.argmax(spectrum) * 250 / 2500 == pytest.approx(50.0)


def test_cleaning_without_peaks_is_identity():
    X = np.random.default_rng(0).normal(size=(6, 12, 2500)).astype(np.float32)
    clean = DeepECGSpectralCleaning().fit(X)
    assert clean.peak_ranges_ == [] and all(r == [] for r in clean.ranges_)
    np.testing.assert_array_equal(clean.transform(X), X)


def test_lowess_matches_statsmodels():
    sm = pytest.importorskip("statsmodels.nonparametric.smoothers_lowess")
    from ecgsk.preprocessing._lowess import lowess

    rng = np.random.default_rng(0)
    x = np.fft.fftfreq(2500, 1 / 250)
    x = x[x >= 30]
    y = medfilt((np.abs(rng.standard_cauchy(x.size)) + np.exp(-x / 30)).astype(np.float32), 5)
    expected = sm.lowess(y, x, frac=0.1, return_sorted=False)
    np.testing.assert_allclose(lowess(y, x, frac=0.1), expected, atol=1e-10)
    np.testing.assert_allclose(ref_lowess(y.astype(float), x, 0.1), expected, atol=1e-10)


def test_frozen_release_pipeline_needs_no_training_records(sample):
    from sklearn.base import clone

    from ecgsk.preprocessing import freeze_learned

    pipe = make_deepecg_preprocessing(500, input_leads=sample.leads, release=True)
    expected = pipe.fit_transform(sample.signals)
    frozen = freeze_learned(pipe)
    cleaning = frozen.named_steps["spectral_cleaning"]
    assert cleaning.ranges == pipe.named_steps["spectral_cleaning"].ranges_
    assert not any(step._learns_from_data() for _, step in frozen.steps)
    # Rebuilt from its parameters alone and fitted on one record: the same transform.
    rebuilt = clone(frozen).fit(sample.signals[:1])
    np.testing.assert_array_equal(rebuilt.transform(sample.signals[:50]), expected[:50])
    with pytest.raises(ValueError, match="ranges has 2 entries"):
        DeepECGSpectralCleaning(ranges=[[], []]).fit(sample.signals[:1, :, :2500])
    with pytest.raises(ValueError, match="ranges must be a list"):
        DeepECGSpectralCleaning(ranges=[[1.0]] * 12).fit(sample.signals[:1, :, :2500])


def test_default_chain_has_the_release_scale(sample, reference):
    # The default gain is the release's formula on the (band-passed) cohort: a typical
    # record has the amplitude of the release's model input; the former per-record
    # default ("deepecg") did not (0.80 at the median on these records).
    expected = reference[0]
    default = make_deepecg_preprocessing(500, input_leads=sample.leads).fit_transform(
        sample.signals)
    ratio = np.ptp(default[:, 1], axis=-1) / np.ptp(expected[:, 1], axis=-1)
    assert 0.95 < np.median(ratio) < 1.08, np.median(ratio)
    per_record = make_deepecg_preprocessing(500, input_leads=sample.leads,
                                            normalize="deepecg").fit_transform(sample.signals)
    old = np.ptp(per_record[:, 1], axis=-1) / np.ptp(expected[:, 1], axis=-1)
    assert np.median(old) < 0.9
    # Voltage differences between records are the release's up to the band-pass.
    assert np.corrcoef(np.log(np.ptp(default[:, 1], -1)), np.log(np.ptp(expected[:, 1], -1)))[
        0, 1] > 0.9
