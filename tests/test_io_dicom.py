"""DICOM waveform ECG reader (optional pydicom) on real files."""

import gzip
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from ecgsk.io import convert, read_dicom_ecg, read_hl7_aecg, read_records
from ecgsk.labels import labels_from_text
from ecgsk.leads import STANDARD_12

pydicom = pytest.importorskip("pydicom")

VENDOR = Path(__file__).parent / "data" / "vendor"


def unpack(name: str, folder: Path) -> Path:
    dest = folder / Path(name).name.removesuffix(".gz")
    with gzip.open(VENDOR / name, "rb") as f_in, open(dest, "wb") as f_out:
        shutil.copyfileobj(f_in, f_out)
    return dest


@pytest.fixture
def example(tmp_path):
    return unpack("dicom-ecg/Example.dcm.gz", tmp_path)


@pytest.fixture
def galliera():
    """pydicom's own anonymised 12-lead ECG (Mortara ELI 250, 1000 Hz, 1.25 uV per count)."""
    from pydicom.data import get_testdata_file

    return Path(get_testdata_file("waveform_ecg.dcm"))


def test_same_ecg_as_dicom_and_hl7_aecg(tmp_path, example):
    """ECG Toolkit converted the HL7 example ECG into DICOM: the mV signals agree exactly."""
    dicom = read_dicom_ecg(example)
    aecg = read_hl7_aecg(unpack("hl7-aecg/Example aECG.xml.gz", tmp_path))
    assert dicom.signals.shape == (1, 12, 5000) and dicom.sfreq == 500.0
    assert dicom.leads == STANDARD_12
    np.testing.assert_allclose(dicom.signals, aecg.signals, atol=1e-6)
    assert np.abs(dicom.signals).max() > 1.0
    row = dicom.meta.iloc[0]
    assert row["patient_id"] == "SBJ-123" and row["sex"] == "male"
    assert row["acquisition_date"] == "2002-11-22" and row["acquisition_time"] == "09:10:00"


def test_scaling_follows_channel_sensitivity(galliera):
    X, sfreq, leads, meta = read_dicom_ecg(galliera)
    assert X.shape == (1, 12, 10000) and sfreq == 1000.0
    from pydicom.waveforms import multiplex_array

    ds = pydicom.dcmread(galliera)
    raw = multiplex_array(ds, 0, as_raw=True)
    assert float(ds.WaveformSequence[0].ChannelDefinitionSequence[0].ChannelSensitivity) == 1.25
    np.testing.assert_allclose(X[0, 0], raw[:, 0] * 1.25e-3, atol=1e-6)
    assert meta.loc[0, "age"] == 42.0 and meta.loc[0, "sex"] == "female"


def test_statements_list_feeds_labels(galliera):
    meta = read_dicom_ecg(galliera).meta
    assert meta.loc[0, "statements"] == ["RITMO SINUSALE", "ECG NORMALE"]
    assert meta.loc[0, "diagnosis"] == "RITMO SINUSALE ECG NORMALE"
    labels = labels_from_text(["; ".join(meta.loc[0, "statements"])]).labels
    assert labels.shape == (1, 77)


def test_median_beat_group(example):
    rec = read_dicom_ecg(example, waveform="median", check_amplitude=False)
    assert rec.signals.shape == (1, 12, 600)
    assert rec.meta.loc[0, "waveform_type"] == "Median Beat"
    with pytest.raises(ValueError, match="waveform must be one of"):
        read_dicom_ecg(example, waveform="beats")


def test_read_records_folder_and_convert(tmp_path, example):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(example, folder / "Example.dcm")
    rec = read_records(folder)
    np.testing.assert_array_equal(rec.signals, read_dicom_ecg(example).signals)
    report = convert(folder, tmp_path / "out.zarr", progress=False)
    assert report.n_converted == 1 and report.n_failed == 0


def test_not_dicom_and_truncated(tmp_path, example):
    bad = tmp_path / "notes.dcm"
    bad.write_text("hello")
    with pytest.raises(ValueError, match=r"notes\.dcm"):
        read_records(bad)
    cut = tmp_path / "cut.dcm"
    cut.write_bytes(example.read_bytes()[:60_000])
    with pytest.raises(ValueError, match=r"cut\.dcm"):
        read_dicom_ecg(cut)
    with pytest.warns(UserWarning, match="skipped 1 of 2"):
        assert read_records([example, bad], errors="skip").signals.shape[0] == 1


def test_no_waveform_is_a_clear_error(tmp_path, example):
    ds = pydicom.dcmread(example)
    del ds.WaveformSequence
    path = tmp_path / "image.dcm"
    ds.save_as(path)
    with pytest.raises(ValueError, match=r"image\.dcm: the DICOM file holds no WaveformSequence"):
        read_dicom_ecg(path)
    ds = pydicom.dcmread(example)
    ds.WaveformSequence[0].ChannelDefinitionSequence[0].ChannelSensitivityUnitsSequence[
        0].CodeValue = "mmHg"
    ds.save_as(path)
    with pytest.raises(ValueError, match=r"image\.dcm, lead I: amplitude unit 'mmHg'"):
        read_dicom_ecg(path)


def test_missing_pydicom_says_how_to_install(monkeypatch, example):
    monkeypatch.setitem(sys.modules, "pydicom", None)
    with pytest.raises(ImportError, match=r'pip install "ecgsk\[dicom\]"'):
        read_dicom_ecg(example)
    with pytest.raises(ImportError, match="ecgsk"):
        read_records(example)


@pytest.mark.filterwarnings("ignore::UserWarning")  # pydicom warns about damaged elements
def test_random_damage_gives_only_named_value_errors(tmp_path, example):
    rng = np.random.default_rng(3)
    data = example.read_bytes()
    for trial in range(20):
        damaged = bytearray(data)
        if trial % 2:
            damaged = damaged[:int(rng.integers(len(damaged)))]
        else:
            for at in rng.integers(len(damaged), size=int(rng.integers(1, 30))):
                damaged[at] = int(rng.integers(256))
        path = tmp_path / "damaged.dcm"
        path.write_bytes(bytes(damaged))
        try:
            read_records(path, check_amplitude=False)
        except ValueError as exc:
            assert "damaged.dcm" in str(exc)
