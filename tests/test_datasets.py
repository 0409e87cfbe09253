"""ecgsk.datasets: PTB-XL loader, the bundled real sample, synthetic ECGs."""

from __future__ import annotations

import hashlib
import json
import lzma
import shutil

import numpy as np
import pandas as pd
import pytest
from scipy.signal import find_peaks

from ecgsk.datasets import (
    _build_sample,
    _sample,
    load_ptbxl,
    load_ptbxl_sample,
    make_synthetic_ecgs,
)
from ecgsk.io import read_wfdb
from ecgsk.labels import DEEPECG_LABELS, PTBXL_SCP_STATEMENTS
from ecgsk.leads import STANDARD_12, derive_limb_leads

SUPERCLASS_COUNTS = {"NORM": 126, "MI": 23, "STTC": 29, "CD": 23, "HYP": 12}  # subset README
FOLD_COUNTS = {1: 15, 2: 18, 3: 17, 4: 20, 5: 16, 6: 14, 7: 14, 8: 15, 9: 42, 10: 29}
BUNCH_KEYS = {"signals", "sfreq", "leads", "labels", "meta", "unmapped", "description"}


@pytest.fixture(scope="module")
def sample():
    return load_ptbxl_sample()


@pytest.fixture(scope="module")
def subset_500(ptbxl_subset_dir):
    return load_ptbxl(ptbxl_subset_dir, sfreq=500)


# ------------------------------------------------------------------ bundled sample


def test_sample_shape_labels_and_meta(sample):
    assert set(sample) == BUNCH_KEYS
    assert sample.signals.shape == (200, 12, 5000) and sample.signals.dtype == np.float32
    assert sample.sfreq == 500.0 and sample.leads == STANDARD_12
    assert np.isfinite(sample.signals).all()
    labels = sample.labels
    assert list(labels.columns) == ["NORM", "MI", "STTC", "CD", "HYP"]
    assert list(labels.index) == list(range(1, 201)) and labels.index.name == "ecg_id"
    assert labels.sum().to_dict() == SUPERCLASS_COUNTS
    assert (labels.sum(axis=1) == 0).sum() == 8  # no diagnostic statement
    assert labels.loc[1].to_dict() == {"NORM": 1, "MI": 0, "STTC": 0, "CD": 0, "HYP": 0}
    meta = sample.meta
    assert meta.loc[1, "age"] == 56.0 and meta.loc[1, "sex"] == "female" and meta.loc[1, "sex_code"] == 1
    assert meta.loc[2, "sex"] == "male" and meta.loc[2, "patient_id"] == 13243
    assert meta["strat_fold"].value_counts().to_dict() == FOLD_COUNTS
    assert meta.loc[1, "scp_codes"] == {"NORM": 100.0, "LVOLT": 0.0, "SR": 0.0}
    assert meta.loc[1, "recording_date"] == pd.Timestamp("1984-11-09 09:17:34")
    assert meta.loc[1, "report"] == "sinusrhythmus periphere niederspannung"
    for column in ("site", "device", "patient_id"):
        assert column in meta
    assert sample.unmapped == {}
    assert "Wagner" in sample.description and "CC BY 4.0" in sample.description
    # Real ECGs in mV: lead II of a normal record peaks around 1 mV, not 1000 or 0.001.
    assert 0.3 < np.abs(sample.signals[0, 1]).max() < 5.0


def test_sample_is_lossless(sample):
    counts, info = _sample._counts()
    assert hashlib.sha256(counts.tobytes()).hexdigest() == info["sha256_counts"]
    np.testing.assert_array_equal(sample.signals, (counts / 1000.0).astype(np.float32))


def test_sample_equals_load_ptbxl_on_the_subset(sample, subset_500):
    np.testing.assert_array_equal(sample.signals, subset_500.signals)
    pd.testing.assert_frame_equal(sample.labels, subset_500.labels)
    pd.testing.assert_frame_equal(sample.meta, subset_500.meta)
    assert sample.leads == subset_500.leads and sample.sfreq == subset_500.sfreq


def test_sample_returns_fresh_copies():
    first = load_ptbxl_sample()
    first.signals[:] = 0
    first.labels.iloc[:, :] = 0
    again = load_ptbxl_sample()
    assert np.abs(again.signals).max() > 0 and again.labels.values.sum() > 0


def test_sample_other_label_sets(sample):
    scp = load_ptbxl_sample(labels="scp")
    assert list(scp.labels.columns) == list(PTBXL_SCP_STATEMENTS)
    # Likelihood 0 still counts: record 1 is {'NORM': 100, 'LVOLT': 0, 'SR': 0}.
    assert set(scp.labels.columns[scp.labels.loc[1] == 1]) == {"NORM", "LVOLT", "SR"}
    np.testing.assert_array_equal(scp.signals, sample.signals)
    deep = load_ptbxl_sample(labels="deepecg")
    assert list(deep.labels.columns) == list(DEEPECG_LABELS)
    assert deep.labels.loc[1, "Sinusal"] == 1
    assert deep.unmapped["NORM"] == 126
    assert "unmapped" in deep.description


def test_sample_resampled_to_250(sample):
    from ecgsk.preprocessing import Resample

    data = load_ptbxl_sample(sfreq=250)
    assert data.sfreq == 250.0 and data.signals.shape == (200, 12, 2500)
    expected = Resample(500, 250).fit_transform(sample.signals[:3])
    np.testing.assert_allclose(data.signals[:3], expected, atol=1e-6)


def test_sample_bad_arguments():
    with pytest.raises(ValueError, match="labels must be one of"):
        load_ptbxl_sample(labels="diagnostic")
    with pytest.raises(ValueError, match="sfreq"):
        load_ptbxl_sample(sfreq=0)


def test_bundled_files_and_attribution():
    data_dir = _build_sample.DATA_DIR
    info = json.loads((data_dir / _build_sample.INFO_FILE).read_text())
    assert info["shape"] == [200, 12, 5000]
    size_mb = (data_dir / _build_sample.SIGNALS_FILE).stat().st_size / 1e6
    assert size_mb < 6.0
    attribution = (data_dir / "ATTRIBUTION.md").read_text()
    for fact in ("CC BY 4.0", "10.13026/x4td-x982", "Scientific Data", "Circulation", "delta"):
        assert fact in attribution
    table = pd.read_csv(data_dir / _build_sample.TABLE_FILE)
    assert len(table) == 200 and "scp_codes" in table and "filename_hr" not in table


# ------------------------------------------------------------------------ build tool


def test_delta_codec_is_exact_at_int16_extremes(rng):
    counts = rng.integers(-32768, 32768, size=(3, 2, 500)).astype(np.int16)
    counts[0, 0, :4] = [-32768, 32767, -32768, 32767]  # differences overflow int16
    np.testing.assert_array_equal(_build_sample.delta_decode(_build_sample.delta_encode(counts)), counts)


def test_build_sample_round_trip(ptbxl_subset_dir, tmp_path):
    info = _build_sample.build(ptbxl_subset_dir, n=3, out_dir=tmp_path)
    assert info["shape"] == [3, 12, 5000]
    packed = (tmp_path / _build_sample.SIGNALS_FILE).read_bytes()
    import io

    counts = _build_sample.delta_decode(np.load(io.BytesIO(lzma.decompress(packed))))
    physical = read_wfdb([ptbxl_subset_dir / "records500" / "00000" / f"0000{i}_hr" for i in (1, 2, 3)])
    np.testing.assert_array_equal((counts / 1000.0).astype(np.float32), physical.signals)
    assert len(pd.read_csv(tmp_path / _build_sample.TABLE_FILE)) == 3


# --------------------------------------------------------------------- load_ptbxl


def test_load_ptbxl_100hz(ptbxl_subset_dir):
    data = load_ptbxl(ptbxl_subset_dir, sfreq=100, labels="superdiagnostic")
    assert set(data) == BUNCH_KEYS
    assert data.signals.shape == (200, 12, 1000) and data.sfreq == 100.0
    assert data.leads == STANDARD_12
    assert data.labels.sum().to_dict() == SUPERCLASS_COUNTS
    record = read_wfdb(ptbxl_subset_dir / "records100" / "00000" / "00007_lr")
    np.testing.assert_array_equal(data.signals[6], record.signals[0])
    assert data.meta["strat_fold"].value_counts().to_dict() == FOLD_COUNTS


def test_load_ptbxl_ecg_ids_and_labels(ptbxl_subset_dir, subset_500):
    some = load_ptbxl(ptbxl_subset_dir, sfreq=500, labels="scp", ecg_ids=[17, 3, 150])
    assert list(some.labels.index) == [17, 3, 150] and list(some.meta.index) == [17, 3, 150]
    positions = [16, 2, 149]
    np.testing.assert_array_equal(some.signals, subset_500.signals[positions])
    assert some.labels.shape == (3, 71)
    for ecg_id in (17, 3, 150):
        listed = set(some.meta.loc[ecg_id, "scp_codes"])
        assert set(some.labels.columns[some.labels.loc[ecg_id] == 1]) == listed


def test_load_ptbxl_bad_arguments(ptbxl_subset_dir, tmp_path):
    with pytest.raises(ValueError, match="sfreq must be 100 or 500"):
        load_ptbxl(ptbxl_subset_dir, sfreq=250)
    with pytest.raises(ValueError, match="labels must be one of"):
        load_ptbxl(ptbxl_subset_dir, labels="all")
    with pytest.raises(ValueError, match=r"ecg_ids not in ptbxl_database.csv: \[999\]"):
        load_ptbxl(ptbxl_subset_dir, ecg_ids=[1, 999])
    with pytest.raises(ValueError, match="empty"):
        load_ptbxl(ptbxl_subset_dir, ecg_ids=[])
    with pytest.raises(FileNotFoundError, match="ptbxl_database.csv"):
        load_ptbxl(tmp_path)


def test_load_ptbxl_names_a_broken_record(ptbxl_subset_dir, tmp_path):
    root = tmp_path / "ptbxl"
    (root / "records500" / "00000").mkdir(parents=True)
    for name in ("ptbxl_database.csv", "scp_statements.csv"):
        shutil.copyfile(ptbxl_subset_dir / name, root / name)
    for i in (1, 2):
        for ext in (".hea", ".dat"):
            src = ptbxl_subset_dir / "records500" / "00000" / f"0000{i}_hr{ext}"
            shutil.copyfile(src, root / "records500" / "00000" / src.name)
    dat = root / "records500" / "00000" / "00002_hr.dat"
    dat.write_bytes(dat.read_bytes()[:5000])
    assert load_ptbxl(root, ecg_ids=[1]).signals.shape == (1, 12, 5000)
    with pytest.raises(ValueError, match=r"00002_hr\.dat"):
        load_ptbxl(root, ecg_ids=[1, 2])


# --------------------------------------------------------------- synthetic ECGs


def test_synthetic_ecgs_shape_meta_and_physiology():
    X, sfreq, leads, meta = make_synthetic_ecgs(2, sfreq=250, duration=10, random_state=3, heart_rate=(60, 90))
    assert X.shape == (2, 12, 2500) and X.dtype == np.float32 and np.isfinite(X).all()
    assert sfreq == 250.0 and leads == STANDARD_12
    assert list(meta["record_id"]) == ["synthetic_0000", "synthetic_0001"]
    assert meta["heart_rate"].between(60, 90).all()
    derived = derive_limb_leads(X[:, 0], X[:, 1])
    for name in ("III", "aVR", "aVL", "aVF"):
        np.testing.assert_allclose(X[:, STANDARD_12.index(name)], derived[name], atol=1e-6)
    for i in range(2):
        lead_ii = X[i, 1]
        assert np.abs(np.median(lead_ii)) < 0.05  # isoelectric line near 0 mV
        peaks, _ = find_peaks(lead_ii, height=0.5 * lead_ii.max(), distance=int(0.3 * sfreq))
        expected = meta.loc[i, "heart_rate"] * 10 / 60
        assert abs(len(peaks) - expected) <= 2, (len(peaks), expected)


def test_synthetic_ecgs_reproducible():
    a = make_synthetic_ecgs(1, sfreq=100, duration=3, random_state=7)
    b = make_synthetic_ecgs(1, sfreq=100, duration=3, random_state=7)
    c = make_synthetic_ecgs(1, sfreq=100, duration=3, random_state=8)
    np.testing.assert_array_equal(a.signals, b.signals)
    assert not np.array_equal(a.signals, c.signals)
    fixed = make_synthetic_ecgs(1, sfreq=100, duration=3, heart_rate=72, random_state=0)
    assert fixed.meta.loc[0, "heart_rate"] == 72.0


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n": 0}, "n must be a positive integer"),
        ({"sfreq": -1}, "sfreq"),
        ({"sfreq": 250.5}, "whole number"),
        ({"duration": 0}, "duration"),
        ({"heart_rate": (90, 60)}, "heart_rate"),
        ({"heart_rate": "fast"}, "heart_rate"),
        ({"noise": -0.1}, "noise"),
    ],
)
def test_synthetic_ecgs_bad_arguments(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make_synthetic_ecgs(**{"n": 1, "duration": 2, **kwargs})
