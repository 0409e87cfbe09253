"""ecgsk.io on real records: WFDB (.dat, .mat), GE MUSE XML, folders, and broken files."""

from __future__ import annotations

import base64
import re
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
import wfdb
from conftest import shared_data_dir

from ecgsk.io import ECGRecords, read_muse_xml, read_records, read_wfdb, write_muse_xml
from ecgsk.leads import STANDARD_12, derive_limb_leads

INDEPENDENT = ["I", "II", "V1", "V2", "V3", "V4", "V5", "V6"]
HALF_BIT_MV = 4.88 / 2 / 1000  # MUSE quantisation: half of 4.88 uV per bit


@pytest.fixture(scope="module")
def ptbxl_records(ptbxl_subset_dir) -> Path:
    return ptbxl_subset_dir / "records500" / "00000"


@pytest.fixture
def record_copy(ptbxl_records, tmp_path) -> Path:
    """A writable copy of PTB-XL record 1 (500 Hz) in a temporary folder."""
    for ext in (".hea", ".dat"):
        shutil.copyfile(ptbxl_records / f"00001_hr{ext}", tmp_path / f"00001_hr{ext}")
        (tmp_path / f"00001_hr{ext}").chmod(0o644)
    return tmp_path / "00001_hr"


def _real_ecg(ptbxl_records, record="00002_hr"):
    return read_wfdb(ptbxl_records / record)


# ----------------------------------------------------------------------------- WFDB


def test_read_wfdb_ptbxl_physical_millivolts(ptbxl_records):
    rec = read_wfdb(ptbxl_records / "00001_hr")
    assert isinstance(rec, ECGRecords)
    X, sfreq, leads, meta = rec
    assert X.shape == (1, 12, 5000) and X.dtype == np.float32
    assert sfreq == 500.0
    assert leads == STANDARD_12  # the header spells AVR, AVL, AVF
    assert meta.loc[0, "record_id"] == "00001_hr"
    reference = wfdb.rdrecord(str(ptbxl_records / "00001_hr"))  # wfdb's own physical values
    np.testing.assert_allclose(X[0], reference.p_signal.T, rtol=0, atol=1e-6)
    digital = wfdb.rdrecord(str(ptbxl_records / "00001_hr"), physical=False).d_signal.T
    np.testing.assert_array_equal(X[0], (digital / 1000.0).astype(np.float32))


def test_read_wfdb_path_forms_and_order(ptbxl_records):
    base = ptbxl_records / "00003_hr"
    forms = [base, str(base), base.with_name("00003_hr.hea"), base.with_name("00003_hr.dat")]
    first = read_wfdb(forms[0]).signals
    for form in forms[1:]:
        np.testing.assert_array_equal(read_wfdb(form).signals, first)
    names = ["00005_hr", "00001_hr", "00003_hr"]
    many = read_wfdb([ptbxl_records / n for n in names])
    assert many.signals.shape == (3, 12, 5000)
    assert list(many.meta["record_id"]) == names
    np.testing.assert_array_equal(many.signals[2], first[0])


def test_read_wfdb_cinc2021_mat_records(cinc2021_dir):
    import scipy.io

    names = ["E07500", "JS20000", "HR06000"]
    rec = read_wfdb([cinc2021_dir / f"{n}.mat" for n in names])
    assert rec.signals.shape == (3, 12, 5000)
    assert rec.sfreq == 500.0 and rec.leads == STANDARD_12
    meta = rec.meta.set_index("record_id")
    assert meta.loc["E07500", "age"] == 78.0 and meta.loc["E07500", "sex"] == "male"
    assert meta.loc["JS20000", "age"] == 84.0 and meta.loc["JS20000", "sex"] == "female"
    assert meta.loc["E07500", "dx"] == ("67741000119109", "426177001")
    assert meta.loc["JS20000", "dx"] == ("284470004", "427084000", "698252002", "55930002")
    assert meta["age"].dtype == np.float64
    val = scipy.io.loadmat(cinc2021_dir / "E07500.mat")["val"]  # int16, gain 1000 / mV
    np.testing.assert_array_equal(rec.signals[0], (val / 1000.0).astype(np.float32))


def test_read_wfdb_cinc_unknown_age_and_sex(cinc2021_dir, tmp_path):
    shutil.copyfile(cinc2021_dir / "E07501.mat", tmp_path / "E07501.mat")
    header = (cinc2021_dir / "E07501.hea").read_text()
    header = re.sub(r"# Age: .*", "# Age: NaN", header)
    header = re.sub(r"# Sex: .*", "# Sex: Unknown", header)
    (tmp_path / "E07501.hea").write_text(header)
    meta = read_wfdb(tmp_path / "E07501").meta
    assert np.isnan(meta.loc[0, "age"]) and not isinstance(meta.loc[0, "sex"], str)


def test_read_wfdb_mitdb_two_leads_format_212():
    record = shared_data_dir("mitdb_sample") / "100"
    rec = read_wfdb(record)
    assert rec.signals.shape == (1, 2, 650000)
    assert rec.sfreq == 360.0
    assert rec.leads == ("II", "V5")  # MLII is lead II; no reordering, no 12-lead padding
    reference = wfdb.rdrecord(str(record))  # format 212, gain 200, baseline 1024
    np.testing.assert_allclose(rec.signals[0], reference.p_signal.T, rtol=0, atol=1e-6)
    assert rec.meta.loc[0, "age"] == 69.0 and rec.meta.loc[0, "sex"] == "male"


def test_read_wfdb_keeps_file_lead_order(record_copy, tmp_path):
    original = read_wfdb(record_copy)
    order = [11, 0, 5, 1, 2, 3, 4, 6, 7, 8, 9, 10]
    digital = wfdb.rdrecord(str(record_copy), physical=False).d_signal
    names = [STANDARD_12[i] for i in order]
    wfdb.wrsamp("shuffled", fs=500, units=["mV"] * 12, sig_name=names, d_signal=digital[:, order],
                fmt=["16"] * 12, adc_gain=[1000.0] * 12, baseline=[0] * 12, write_dir=str(tmp_path))
    shuffled = read_wfdb(tmp_path / "shuffled")
    assert shuffled.leads == tuple(names)  # reported as read: ReorderLeads fixes the order
    np.testing.assert_array_equal(shuffled.signals[0], original.signals[0][order])
    both = read_wfdb([record_copy, tmp_path / "shuffled"])  # aligned to the first record's order
    assert both.leads == STANDARD_12
    np.testing.assert_array_equal(both.signals[1], original.signals[0])


# ------------------------------------------------------------------ broken WFDB files


def test_truncated_dat_names_the_file(record_copy):
    dat = record_copy.with_name("00001_hr.dat")
    dat.write_bytes(dat.read_bytes()[: dat.stat().st_size // 2])
    with pytest.raises(ValueError, match=r"00001_hr\.dat.*truncated or corrupt"):
        read_wfdb(record_copy)


def test_text_file_named_hea(tmp_path):
    (tmp_path / "notes.hea").write_text("these are my notes about the patient\nnothing else\n")
    with pytest.raises(ValueError, match=r"notes\.hea is not a valid WFDB header"):
        read_wfdb(tmp_path / "notes.hea")


def test_missing_dat_names_the_file(record_copy):
    record_copy.with_name("00001_hr.dat").unlink()
    with pytest.raises(ValueError, match=r"00001_hr\.dat is missing"):
        read_wfdb(record_copy)


def test_corrupt_bytes_fail_the_checksum(record_copy):
    dat = record_copy.with_name("00001_hr.dat")
    data = bytearray(dat.read_bytes())
    data[5000:5010] = bytes(10)  # same size, ten bytes zeroed
    dat.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"checksum mismatch .*00001_hr\.dat"):
        read_wfdb(record_copy)
    assert read_wfdb(record_copy, verify_checksum=False).signals.shape == (1, 12, 5000)


def test_missing_record_and_bad_options(tmp_path, ptbxl_records):
    with pytest.raises(FileNotFoundError, match="nothing_here"):
        read_wfdb(tmp_path / "nothing_here")
    with pytest.raises(ValueError, match="empty"):
        read_wfdb([])
    with pytest.raises(TypeError):
        read_wfdb([1, 2])
    with pytest.raises(ValueError, match="errors must be"):
        read_wfdb(ptbxl_records / "00001_hr", errors="ignore")
    with pytest.raises(ValueError, match="n_times"):
        read_wfdb(ptbxl_records / "00001_hr", n_times=0)
    with pytest.raises(ValueError, match="sfreq"):
        read_wfdb(ptbxl_records / "00001_hr", sfreq=-5)


def test_errors_skip_reads_the_rest_and_warns(record_copy, ptbxl_records, tmp_path):
    record_copy.with_name("00001_hr.dat").unlink()
    with pytest.warns(UserWarning, match=r"(?s)skipped 1 of 3 .*00001_hr"):
        rec = read_wfdb([ptbxl_records / "00002_hr", record_copy, ptbxl_records / "00003_hr"], errors="skip")
    assert list(rec.meta["record_id"]) == ["00002_hr", "00003_hr"]
    with pytest.raises(ValueError, match="none of the 1"), pytest.warns(UserWarning):
        read_wfdb([record_copy], errors="skip")


# ------------------------------------------------------- mixed rates, lengths, leads


def test_mixed_rates_error_then_resample(ptbxl_subset_dir):
    low = ptbxl_subset_dir / "records100" / "00000" / "00001_lr"
    high = ptbxl_subset_dir / "records500" / "00000" / "00001_hr"
    with pytest.raises(ValueError, match=r"different sampling rates.*sfreq 100.*00001_lr.*sfreq 500"):
        read_wfdb([low, high])
    rec = read_wfdb([low, high], sfreq=100)
    assert rec.sfreq == 100.0 and rec.signals.shape == (2, 12, 1000)
    own = read_wfdb(low).signals[0]
    np.testing.assert_array_equal(rec.signals[0], own)  # already at the rate: untouched
    # PTB-XL's 100 Hz release is a downsampled copy of the 500 Hz one: both must agree.
    for lead in range(12):
        r = np.corrcoef(rec.signals[0, lead], rec.signals[1, lead])[0, 1]
        assert r > 0.95, (STANDARD_12[lead], r)


def test_different_lead_sets_cannot_stack(ptbxl_records):
    with pytest.raises(ValueError, match=r"different leads.*100"):
        read_wfdb([ptbxl_records / "00001_hr", shared_data_dir("mitdb_sample") / "100"])


def _shortened_copy(record_copy, tmp_path, n):
    digital = wfdb.rdrecord(str(record_copy), physical=False).d_signal[:n]
    wfdb.wrsamp("short", fs=500, units=["mV"] * 12, sig_name=list(STANDARD_12), d_signal=digital,
                fmt=["16"] * 12, adc_gain=[1000.0] * 12, baseline=[0] * 12, write_dir=str(tmp_path))
    return tmp_path / "short"


def test_mixed_lengths_error(record_copy, tmp_path):
    short = _shortened_copy(record_copy, tmp_path, 4000)
    with pytest.raises(ValueError, match=r"different lengths.*n_times 5000.*n_times 4000.*short"):
        read_wfdb([record_copy, short])


def test_mixed_lengths_crop_or_pad(record_copy, tmp_path):
    preprocessing = pytest.importorskip("ecgsk.preprocessing")
    if not hasattr(preprocessing, "CropOrPad"):
        pytest.skip("ecgsk.preprocessing.CropOrPad is not written yet")
    short = _shortened_copy(record_copy, tmp_path, 4000)
    rec = read_wfdb([record_copy, short], n_times=4500)
    assert rec.signals.shape == (2, 12, 4500)
    full = read_wfdb(record_copy).signals
    expected = preprocessing.CropOrPad(4500).fit_transform(full)
    np.testing.assert_array_equal(rec.signals[0], expected[0])


# ------------------------------------------------------------------------ MUSE XML


def test_muse_round_trip_from_real_ptbxl_signal(ptbxl_records, tmp_path):
    rec = _real_ecg(ptbxl_records)
    path = tmp_path / "ptbxl2.xml"
    write_muse_xml(path, rec.signals[0], rec.sfreq, rec.leads, store_derived=False,
                   patient_id="13243", age=19, sex="male",
                   acquisition_date="11-14-1984", acquisition_time="12:55:37")
    assert path.read_text(encoding="iso-8859-1").count("<LeadData>") == 8  # as MUSE stores it
    back = read_muse_xml(path)
    assert back.signals.shape == (1, 12, 5000) and back.signals.dtype == np.float32
    assert back.sfreq == 500.0 and back.leads == STANDARD_12
    original = rec.signals[0]
    independent = [STANDARD_12.index(n) for n in INDEPENDENT]
    error = np.abs(back.signals[0, independent] - original[independent]).max()
    assert error <= HALF_BIT_MV + 1e-6
    derived = derive_limb_leads(original[0].astype(np.float64), original[1].astype(np.float64))
    # Worst case of the two half-bit errors of I and II through each formula.
    for name, weight in (("III", 2.0), ("aVR", 1.0), ("aVL", 1.5), ("aVF", 1.5)):
        got = back.signals[0, STANDARD_12.index(name)]
        assert np.abs(got - derived[name]).max() <= weight * HALF_BIT_MV + 1e-6, name
        # PTB-XL stores these leads too, consistent with I and II to 1.5 uV.
        assert np.abs(got - original[STANDARD_12.index(name)]).max() <= weight * HALF_BIT_MV + 0.0016
    meta = back.meta.iloc[0]
    assert meta["record_id"] == "ptbxl2" and meta["patient_id"] == "13243"
    assert meta["age"] == 19.0 and meta["sex"] == "male"
    assert meta["acquisition_date"] == "11-14-1984" and meta["acquisition_time"] == "12:55:37"
    assert meta["waveform_type"] == "Rhythm"


def test_muse_twelve_leads_median_and_rhythm(ptbxl_records, tmp_path):
    rec = _real_ecg(ptbxl_records, "00004_hr")
    median = rec.signals[0, :, 1000:1300]
    path = tmp_path / "both.xml"
    write_muse_xml(path, rec.signals, 500, rec.leads, median_mv=median)
    text = path.read_text(encoding="iso-8859-1")
    assert text.index("<WaveformType>Median") < text.index("<WaveformType>Rhythm")
    assert text.count("<LeadData>") == 24
    rhythm = read_muse_xml(path)
    assert np.abs(rhythm.signals[0] - rec.signals[0]).max() <= HALF_BIT_MV + 1e-6
    beat = read_muse_xml(path, waveform="median")
    assert beat.signals.shape == (1, 12, 300) and beat.meta.loc[0, "waveform_type"] == "Median"
    assert np.abs(beat.signals[0] - median).max() <= HALF_BIT_MV + 1e-6


def test_muse_median_only_warns(tmp_path, ptbxl_records):
    rec = _real_ecg(ptbxl_records)
    path = tmp_path / "median_only.xml"
    write_muse_xml(path, rec.signals[0, :, :600], 500, rec.leads)
    text = path.read_text(encoding="iso-8859-1").replace("<WaveformType>Rhythm", "<WaveformType>Median")
    path.write_text(text, encoding="iso-8859-1")
    with pytest.warns(UserWarning, match="no Rhythm waveform"):
        assert read_muse_xml(path).signals.shape == (1, 12, 600)
    with pytest.raises(ValueError, match="no Rhythm"):
        read_muse_xml(path, waveform="rhythm")


def test_muse_fractional_rate_and_millivolt_units(tmp_path, ptbxl_records):
    rec = _real_ecg(ptbxl_records)
    path = tmp_path / "odd.xml"
    write_muse_xml(path, rec.signals[0], 257.5, rec.leads)
    assert read_muse_xml(path).sfreq == 257.5
    text = path.read_text(encoding="iso-8859-1")
    assert "<SampleBase>2575</SampleBase>" in text and "<SampleExponent>-1</SampleExponent>" in text
    text = text.replace("<LeadAmplitudeUnitsPerBit>4.88<", "<LeadAmplitudeUnitsPerBit>0,00488<")
    text = text.replace(">MICROVOLTS<", ">MILLIVOLTS<")
    path.write_text(text, encoding="iso-8859-1")
    assert np.abs(read_muse_xml(path).signals[0] - rec.signals[0]).max() <= HALF_BIT_MV + 1e-6


@pytest.fixture
def muse_file(ptbxl_records, tmp_path) -> Path:
    rec = _real_ecg(ptbxl_records)
    path = tmp_path / "ecg.xml"
    write_muse_xml(path, rec.signals[0], rec.sfreq, rec.leads, store_derived=False)
    return path


def _edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="iso-8859-1")
    assert old in text
    path.write_text(text.replace(old, new, count), encoding="iso-8859-1")


def _lead_block(text: str, lead: str) -> str:
    blocks = re.findall(r"<LeadData>.*?</LeadData>", text, flags=re.S)
    return next(b for b in blocks if f"<LeadID>{lead}</LeadID>" in b)


def test_muse_bad_base64(muse_file):
    _edit(muse_file, "<WaveFormData>", "<WaveFormData>@@not*base64@@")
    with pytest.raises(ValueError, match=r"ecg\.xml, lead I: WaveFormData is not valid base64"):
        read_muse_xml(muse_file)


def test_muse_truncated_file(muse_file):
    data = muse_file.read_bytes()
    muse_file.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"ecg\.xml is not well-formed XML \(truncated"):
        read_muse_xml(muse_file)


def test_muse_missing_lead_ii(muse_file):
    text = muse_file.read_text(encoding="iso-8859-1")
    _edit(muse_file, _lead_block(text, "II"), "")
    with pytest.raises(ValueError, match=r"ecg\.xml: lead\(s\) \['II'\] missing \(leads I and II are needed to derive"):
        read_muse_xml(muse_file)


def test_muse_missing_precordial_lead(muse_file):
    text = muse_file.read_text(encoding="iso-8859-1")
    _edit(muse_file, _lead_block(text, "V4"), "")
    with pytest.raises(ValueError, match=r"lead\(s\) \['V4'\] missing"):
        read_muse_xml(muse_file)


def test_muse_corrupt_samples_fail_crc(muse_file):
    text = muse_file.read_text(encoding="iso-8859-1")
    block = _lead_block(text, "V2")
    payload = re.search(r"<WaveFormData>(.*?)</WaveFormData>", block).group(1)
    raw = bytearray(base64.b64decode(payload))
    raw[100] ^= 0xFF
    _edit(muse_file, payload, base64.b64encode(bytes(raw)).decode())
    with pytest.raises(ValueError, match="lead V2: CRC32"):
        read_muse_xml(muse_file)
    assert read_muse_xml(muse_file, verify_crc=False).signals.shape == (1, 12, 5000)


def test_muse_sample_count_mismatch(muse_file):
    _edit(muse_file, "<LeadSampleCountTotal>5000<", "<LeadSampleCountTotal>5200<")
    with pytest.raises(ValueError, match="says 5200 samples but WaveFormData holds 5000"):
        read_muse_xml(muse_file)


def test_muse_non_numeric_field(muse_file):
    _edit(muse_file, "<LeadSampleSize>2<", "<LeadSampleSize>two<")
    with pytest.raises(ValueError, match=r"lead I: <LeadSampleSize> is not an integer: 'two'"):
        read_muse_xml(muse_file)


def test_muse_rejects_entities_and_other_xml(tmp_path, muse_file):
    _edit(muse_file, "<RestingECG>", '<!DOCTYPE x [<!ENTITY a "aaaa">]><RestingECG>')
    with pytest.raises(ValueError, match="entity"):
        read_muse_xml(muse_file)
    other = tmp_path / "other.xml"
    other.write_text("<?xml version='1.0'?><CardiologyXML></CardiologyXML>")
    with pytest.raises(ValueError, match="not a GE MUSE RestingECG file"):
        read_muse_xml(other)
    with pytest.raises(FileNotFoundError):
        read_muse_xml(tmp_path / "absent.xml")
    with pytest.raises(ValueError, match="waveform must be"):
        read_muse_xml(other, waveform="beat")


def test_write_muse_xml_rejects_bad_input(tmp_path):
    ok = np.zeros((8, 100), np.float32)
    path = tmp_path / "x.xml"
    with pytest.raises(ValueError, match="NaN"):
        write_muse_xml(path, np.where(np.arange(100) == 5, np.nan, ok), 500, INDEPENDENT)
    with pytest.raises(ValueError, match="beyond the 16-bit range"):
        write_muse_xml(path, ok + 200.0, 500, INDEPENDENT)
    with pytest.raises(ValueError, match=r"lacks lead\(s\) \['V1'\]"):
        write_muse_xml(path, ok[:7], 500, ["I", "II", "V2", "V3", "V4", "V5", "V6"])
    with pytest.raises(ValueError, match="one ECG"):
        write_muse_xml(path, np.zeros((2, 8, 100)), 500, INDEPENDENT)
    with pytest.raises(ValueError, match="lead names"):
        write_muse_xml(path, ok, 500, INDEPENDENT[:7])
    with pytest.raises(ValueError, match="sfreq"):
        write_muse_xml(path, ok, 0, INDEPENDENT)
    assert not path.exists()


# --------------------------------------------------------------------- read_records


@pytest.fixture
def mixed_folder(ptbxl_records, cinc2021_dir, tmp_path) -> Path:
    folder = tmp_path / "ecgs"
    (folder / "ptbxl").mkdir(parents=True)
    (folder / "cinc" / "deeper").mkdir(parents=True)
    for name in ("00001_hr", "00002_hr"):
        for ext in (".hea", ".dat"):
            shutil.copyfile(ptbxl_records / f"{name}{ext}", folder / "ptbxl" / f"{name}{ext}")
    for ext in (".hea", ".mat"):
        shutil.copyfile(cinc2021_dir / f"E07500{ext}", folder / "cinc" / "deeper" / f"E07500{ext}")
    rec = _real_ecg(ptbxl_records, "00003_hr")
    write_muse_xml(folder / "muse3.xml", rec.signals[0], 500, rec.leads, store_derived=False)
    (folder / "notes.txt").write_text("not an ECG")
    return folder


def test_read_records_mixed_formats(mixed_folder, ptbxl_records):
    rec = read_records(mixed_folder)
    assert rec.signals.shape == (4, 12, 5000) and rec.sfreq == 500.0 and rec.leads == STANDARD_12
    assert list(rec.meta["record_id"]) == ["E07500", "muse3", "00001_hr", "00002_hr"]
    assert rec.meta.set_index("record_id").loc["E07500", "age"] == 78.0
    np.testing.assert_array_equal(rec.signals[2], read_wfdb(ptbxl_records / "00001_hr").signals[0])
    listed = read_records([mixed_folder / "muse3.xml", mixed_folder / "ptbxl" / "00002_hr"])
    assert list(listed.meta["record_id"]) == ["muse3", "00002_hr"]


def test_read_records_bad_file_is_named(mixed_folder):
    bad = mixed_folder / "ptbxl" / "00002_hr.dat"
    bad.write_bytes(bad.read_bytes()[:1000])
    with pytest.raises(ValueError, match=r"00002_hr\.dat"):
        read_records(mixed_folder)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rec = read_records(mixed_folder, errors="skip")
    assert rec.signals.shape[0] == 3 and "00002_hr" not in set(rec.meta["record_id"])
    assert any("00002_hr" in str(w.message) for w in caught)


def test_read_records_bad_sources(tmp_path):
    with pytest.raises(ValueError, match="holds no supported ECG file"):
        read_records(tmp_path)
    with pytest.raises(FileNotFoundError):
        read_records(tmp_path / "absent")
    (tmp_path / "signal.csv").write_text("1,2,3\n")
    with pytest.raises(ValueError, match="unsupported file type '.csv'"):
        read_records(tmp_path / "signal.csv")


# ------------------------------------------------- sampling rates are never guessed (issue 13)


def _set_record_line(record_copy: Path, line: str) -> None:
    hea = record_copy.with_name("00001_hr.hea")
    lines = hea.read_text().splitlines()
    lines[0] = line
    hea.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("rate", [
    "abc",     # wfdb read it as its default 250 Hz
    "-500",    # 250 Hz
    "nan",     # 250 Hz
    "inf",     # 250 Hz
    "0",
    "5e9",     # 5 Hz
    "5e2",     # 5 Hz, although it means 500
    "1",       # no ECG is sampled at 1 Hz
    "500/abc",  # junk counter frequency
])
def test_wfdb_bad_sampling_rate_names_file_and_field(record_copy, rate):
    from ecgsk.io._items import scan_header

    _set_record_line(record_copy, f"00001_hr 12 {rate} 5000")
    with pytest.raises(ValueError, match=r"00001_hr\.hea.*(sampling rate|counter frequency)"):
        read_wfdb(record_copy)
    with pytest.raises(ValueError, match=r"00001_hr\.hea.*(sampling rate|counter frequency)"):
        read_records(record_copy.parent)
    with pytest.raises(ValueError, match=r"00001_hr\.hea.*(sampling rate|counter frequency)"):
        scan_header(record_copy.with_suffix(".hea"))  # the lazy datasets' and convert's path


def test_wfdb_missing_rate_needs_explicit_default(record_copy):
    from ecgsk.io._items import scan_header

    reference = read_wfdb(record_copy).signals
    _set_record_line(record_copy, "00001_hr 12")
    with pytest.raises(ValueError, match=r"00001_hr\.hea.*no sampling-rate field.*default_sfreq=250"):
        read_wfdb(record_copy)
    with pytest.raises(ValueError, match=r"no sampling-rate field.*add the rate"):
        scan_header(record_copy.with_suffix(".hea"))
    rec = read_wfdb(record_copy, default_sfreq=250)
    assert rec.sfreq == 250.0
    np.testing.assert_array_equal(rec.signals, reference)
    assert read_records(record_copy.parent, default_sfreq=500).sfreq == 500.0
    with pytest.raises(ValueError, match="default_sfreq"):
        read_wfdb(record_copy, default_sfreq=-3)
    with pytest.raises(TypeError, match="default_sfreq"):
        read_wfdb(record_copy, default_sfreq="250")


def test_wfdb_default_never_replaces_a_stated_rate(record_copy):
    assert read_wfdb(record_copy, default_sfreq=250).sfreq == 500.0


@pytest.mark.parametrize("old, new, field", [
    ("1000.0(0)/mV", "abc/mV", "ADC gain"),  # wfdb: gain 200 and a lead named 'abc/mV 16 ...'
    (" 16 0 ", " 16 abc ", "ADC zero"),
    ("00001_hr.dat 16 ", "00001_hr.dat 1x6 ", "storage format"),  # wfdb: KeyError "1"
    ("00001_hr.dat 16 ", "00001_hr.dat 16abc ", "storage format"),
])
def test_wfdb_junk_signal_fields_name_the_field(record_copy, old, new, field):
    hea = record_copy.with_name("00001_hr.hea")
    text = hea.read_text()
    assert old in text
    hea.write_text(text.replace(old, new, 1))
    with pytest.raises(ValueError, match=rf"00001_hr\.hea.*signal line 1: {field}"):
        read_wfdb(record_copy)


def test_wfdb_junk_length_field(record_copy):
    _set_record_line(record_copy, "00001_hr 12 500 5x00")
    with pytest.raises(ValueError, match=r"00001_hr\.hea.*number-of-samples field '5x00'"):
        read_wfdb(record_copy)


@pytest.mark.parametrize("base, exponent, why", [
    ("abc", "0", "not numbers"),
    ("500", "abc", "not numbers"),
    ("0", "0", "invalid sample rate"),
    ("-500", "0", "invalid sample rate"),
    ("5000000000", "0", "outside the plausible range"),
    ("500", "400", "invalid sample rate"),  # 10.0 ** 400 raised a bare OverflowError
    ("5", "0", "outside the plausible range"),
])
def test_muse_bad_sample_rate_names_the_file(muse_file, base, exponent, why):
    _edit(muse_file, "<SampleBase>500</SampleBase>", f"<SampleBase>{base}</SampleBase>")
    _edit(muse_file, "<SampleExponent>0</SampleExponent>",
          f"<SampleExponent>{exponent}</SampleExponent>")
    with pytest.raises(ValueError, match=rf"ecg\.xml: .*{why}"):
        read_muse_xml(muse_file)
    with pytest.raises(ValueError, match=rf"ecg\.xml: .*{why}"):
        read_records(muse_file)


def test_muse_missing_sample_rate(muse_file):
    _edit(muse_file, "<SampleBase>500</SampleBase>", "")
    with pytest.raises(ValueError, match=r"ecg\.xml: the waveform has no sample rate"):
        read_muse_xml(muse_file)


# ------------------------------------------------------- amplitude plausibility (issue 13)


def _amplitude_warnings(read, *args, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rec = read(*args, **kwargs)
    return rec, [str(w.message) for w in caught if "implausible amplitude" in str(w.message)]


def test_wfdb_wrong_gain_warns_naming_the_record(record_copy, tmp_path):
    rec, messages = _amplitude_warnings(read_wfdb, record_copy)
    assert messages == []
    hea = record_copy.with_name("00001_hr.hea")
    good = hea.read_text()
    # gain 1.27 counts/mV instead of 1000: the record reads at hundreds of mV
    hea.write_text(good.replace("1000.0(0)/mV", "1.27(0)/mV"))
    wrong, messages = _amplitude_warnings(read_wfdb, record_copy)
    assert len(messages) == 1 and "00001_hr" in messages[0] and "above 50 mV" in messages[0]
    assert np.nanmedian(np.ptp(wrong.signals[0], axis=1)) > 50
    _, messages = _amplitude_warnings(read_wfdb, record_copy, check_amplitude=False)
    assert messages == []
    # millivolt samples labelled microvolts: a thousand times too small
    hea.write_text(good.replace("/mV", "/uV"))
    _, messages = _amplitude_warnings(read_records, record_copy.parent)
    assert len(messages) == 1 and "00001_hr" in messages[0] and "below 0.01 mV" in messages[0]


def test_muse_microvolts_as_millivolts_warns(muse_file):
    _edit(muse_file, "<LeadAmplitudeUnits>MICROVOLTS</LeadAmplitudeUnits>",
          "<LeadAmplitudeUnits>MILLIVOLTS</LeadAmplitudeUnits>", count=8)
    _, messages = _amplitude_warnings(read_muse_xml, muse_file)
    assert len(messages) == 1 and "ecg.xml" in messages[0]
    _, messages = _amplitude_warnings(read_muse_xml, muse_file, check_amplitude=False)
    assert messages == []


# ---------------------------------------------- header damage found by tests/test_reader_fuzz.py


def _edit_header(record_copy: Path, old: str, new: str) -> None:
    hea = record_copy.with_name("00001_hr.hea")
    text = hea.read_bytes()
    assert old.encode("latin-1") in text
    hea.write_bytes(text.replace(old.encode("latin-1"), new.encode("latin-1"), 1))


def test_truncated_header_with_missing_signal_lines(record_copy):
    from ecgsk.io._items import scan_header

    hea = record_copy.with_name("00001_hr.hea")
    hea.write_bytes(hea.read_bytes()[:300])  # 12 signals declared, 5 and a half described
    # before: TypeError "lead names must be strings" without the file, or 5 leads read
    with pytest.raises(ValueError, match=r"00001_hr\.hea.*declares 12 signal\(s\) but it describes 6"):
        read_wfdb(record_copy)
    with pytest.raises(ValueError, match=r"00001_hr\.hea.*declares 12"):
        scan_header(hea)


def test_non_ascii_byte_in_a_field_is_refused(record_copy):
    # the wfdb package drops the byte: a gain of 1\x86000 read as 1000 -> here 100, 10x amplitude
    _edit_header(record_copy, "00001_hr.dat 16 1000.0(0)/mV", "00001_hr.dat 16 1\x8600.0(0)/mV")
    with pytest.raises(ValueError, match=r"00001_hr\.hea.*line 2 holds non-ASCII bytes"):
        read_wfdb(record_copy)


def test_non_ascii_comment_is_fine(record_copy):
    hea = record_copy.with_name("00001_hr.hea")
    hea.write_bytes(hea.read_bytes() + "# Note: r\u00e9sum\u00e9\n".encode("latin-1"))
    assert read_wfdb(record_copy).signals.shape == (1, 12, 5000)


def test_zero_gain_is_refused(record_copy):
    # WFDB reads gain 0 as "uncalibrated" and the wfdb package substitutes 200 (5x amplitude)
    _edit_header(record_copy, "16 1000.0(0)/mV", "16 -0")
    with pytest.raises(ValueError, match=r"00001_hr\.hea.*signal line 1: ADC gain '-0' is zero"):
        read_wfdb(record_copy)


@pytest.mark.parametrize("old, new", [
    (" 16 0 -115 13047 0 I", " 16 0 -115 99999999999999999999 0 I"),  # was a bare OverflowError
    ("1000.0(0)/mV", "1000.0(99999999999999999999)/mV"),
    ("00001_hr 12 500 5000", "00001_hr 12 500 99999999999999999999"),
])
def test_out_of_range_integers_are_refused(record_copy, old, new):
    _edit_header(record_copy, old, new)
    with pytest.raises(ValueError, match=r"00001_hr\.hea.*out of range"):
        read_wfdb(record_copy)


def test_unexpected_errors_become_value_errors_naming_the_file(tmp_path):
    from ecgsk.io._common import naming_errors

    with pytest.raises(ValueError, match=r"rec\.dat could not be read.*IndexError: boom"):
        with naming_errors(tmp_path / "rec.dat"):
            raise IndexError("boom")
    with pytest.raises(ValueError, match=r"^.*rec\.dat: 'ascii' codec"):
        with naming_errors(tmp_path / "rec.dat"):
            b"\xff".decode("ascii")
    with pytest.raises(FileNotFoundError):
        with naming_errors(tmp_path / "rec.dat"):
            raise FileNotFoundError("absent")


def test_checksum_hints_name_each_readers_keyword(record_copy, muse_file):
    """read_records' keyword is verify=, not verify_checksum= (issue 13, item 6)."""
    dat = record_copy.with_name("00001_hr.dat")
    data = bytearray(dat.read_bytes())
    data[5000:5010] = bytes(10)
    dat.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"verify=False to read_records") as info:
        read_records(record_copy)
    assert "verify_checksum=False to read_wfdb" in str(info.value)
    assert read_records(record_copy, verify=False).signals.shape == (1, 12, 5000)
    block = _lead_block(muse_file.read_text(encoding="iso-8859-1"), "V3")
    crc = re.search(r"<LeadDataCRC32>(\d+)</LeadDataCRC32>", block).group(1)
    _edit(muse_file, f"<LeadDataCRC32>{crc}</LeadDataCRC32>",
          f"<LeadDataCRC32>{(int(crc) + 1) % 2**32}</LeadDataCRC32>")
    with pytest.raises(ValueError, match=r"verify_crc=False to read_muse_xml, or verify=False"):
        read_records(muse_file)
    assert read_records(muse_file, verify=False).signals.shape == (1, 12, 5000)


def test_convert_warns_about_implausible_amplitudes(ptbxl_records, tmp_path):
    from ecgsk.datasets import ECGDataset
    from ecgsk.io import convert

    folder = tmp_path / "in"
    folder.mkdir()
    rec = _real_ecg(ptbxl_records)
    for name in ("good", "wrong_units"):
        write_muse_xml(folder / f"{name}.xml", rec.signals[0], rec.sfreq, rec.leads,
                       store_derived=False)
    _edit(folder / "wrong_units.xml", "<LeadAmplitudeUnits>MICROVOLTS</LeadAmplitudeUnits>",
          "<LeadAmplitudeUnits>MILLIVOLTS</LeadAmplitudeUnits>", count=8)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report = convert(folder, tmp_path / "a.zarr", progress=False)
    messages = [str(w.message) for w in caught if "implausible amplitude" in str(w.message)]
    assert report.n_converted == 2 and len(messages) == 1
    assert "wrong_units.xml" in messages[0] and "good.xml" not in messages[0]
    assert caught[0].filename == __file__
    assert not any(c.startswith("_") for c in ECGDataset(report.path).meta.columns)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        convert(folder, tmp_path / "b.zarr", progress=False, check_amplitude=False)
    assert not [w for w in caught if "implausible amplitude" in str(w.message)]


def test_reader_amplitude_warning_points_at_the_caller(record_copy):
    hea = record_copy.with_name("00001_hr.hea")
    hea.write_text(hea.read_text().replace("1000.0(0)/mV", "1.27(0)/mV"))
    for read in (read_wfdb, read_records):
        with pytest.warns(UserWarning, match="implausible amplitude") as caught:
            read(record_copy)
        assert caught[0].filename == __file__
