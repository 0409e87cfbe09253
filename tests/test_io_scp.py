"""SCP-ECG reader on real files (tests/data/vendor/scp-ecg, see its README)."""

import gzip
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest

from ecgsk.io import convert, read_hl7_aecg, read_records, read_scp_ecg
from ecgsk.io._scp import _crc_ccitt, huffman_default, undo_differences
from ecgsk.labels import labels_from_text
from ecgsk.leads import STANDARD_12, derive_limb_leads

VENDOR = Path(__file__).parent / "data" / "vendor"
WELCH = "scp-ecg/ECG_20070321_110542_191010101010.SCP.gz"  # Welch Allyn, Swedish statements
WELCH_EN = "scp-ecg/ECG_20081029_105642_191010101010.SCP.gz"  # same device, English


def unpack(name: str, folder: Path) -> Path:
    dest = folder / Path(name).name.removesuffix(".gz")
    with gzip.open(VENDOR / name, "rb") as f_in, open(dest, "wb") as f_out:
        shutil.copyfileobj(f_in, f_out)
    return dest


def test_same_ecg_as_scp_and_hl7_aecg(tmp_path):
    """ECG Toolkit's SCP-ECG conversion (default Huffman, second differences) of the HL7 example."""
    scp = read_scp_ecg(unpack("scp-ecg/Example.scp.gz", tmp_path))
    aecg = read_hl7_aecg(unpack("hl7-aecg/Example aECG.xml.gz", tmp_path))
    assert scp.signals.shape == (1, 12, 5000) and scp.sfreq == 500.0 and scp.leads == STANDARD_12
    np.testing.assert_allclose(scp.signals, aecg.signals, atol=1e-6)
    row = scp.meta.iloc[0]
    assert (row["patient_id"], row["sex"], row["acquisition_date"], row["acquisition_time"]) == (
        "SBJ-123", "male", "2002-11-22", "09:10:00")


def test_eight_lead_device_file_first_differences_600_hz(tmp_path):
    path = unpack(WELCH, tmp_path)
    X, sfreq, leads, meta = read_scp_ecg(path)
    assert X.shape == (1, 12, 6000) and sfreq == 600.0  # 1667 us stands for 600 Hz
    derived = derive_limb_leads(X[0, 0], X[0, 1])  # the device stores I, II, V1-V6
    np.testing.assert_allclose(X[0, 2], derived["III"], atol=1e-6)
    assert 0.5 < np.ptp(X[0, 1]) < 10  # mV: the 3.75 uV multiplier was applied
    row = meta.iloc[0]
    assert row["age"] == 39.0 and row["sex"] == "male" and row["acquisition_date"] == "2007-03-21"
    assert row["statements"][:2] == ["sinusrytm", "VK-hypertrofi"]
    assert row["interpretation_status"] == "original" and row["statements_confirmed"] is None


def test_statements_feed_labels_from_text(tmp_path):
    meta = read_scp_ecg(unpack(WELCH_EN, tmp_path)).meta
    assert meta.loc[0, "statements"] == [
        "Warning: artifact in (part of) recording - use interpretation with caution",
        "sinus rhythm", "Normal ECG"]
    found = labels_from_text(["; ".join(meta.loc[0, "statements"])])
    labels = found.labels.iloc[0]
    assert list(labels[labels == 1].index) == ["Sinusal"]
    swedish = read_scp_ecg(unpack(WELCH, tmp_path)).meta.loc[0, "statements"]
    found = labels_from_text([swedish])
    assert found.language[0] == "sv" and found.labels.loc[0, "Sinusal"] == 1


def test_folder_and_convert(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    unpack(WELCH, folder)
    unpack(WELCH_EN, folder)
    rec = read_records(folder)
    assert rec.signals.shape == (2, 12, 6000) and rec.sfreq == 600.0
    assert list(rec.meta["record_id"]) == [
        "ECG_20070321_110542_191010101010", "ECG_20081029_105642_191010101010"]
    report = convert(folder, tmp_path / "out.zarr", progress=False)
    assert report.n_converted == 2 and report.n_failed == 0


def test_corruption_is_named(tmp_path):
    path = unpack(WELCH, tmp_path)
    data = bytearray(path.read_bytes())
    bad = tmp_path / "flipped.scp"
    data[5000] ^= 0xFF
    bad.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"flipped\.scp: the file CRC does not match"):
        read_records(bad)
    assert read_scp_ecg(bad, verify_crc=False).signals.shape == (1, 12, 6000)
    cut = tmp_path / "cut.scp"
    cut.write_bytes(path.read_bytes()[:10_000])
    with pytest.raises(ValueError, match=r"cut\.scp: the SCP-ECG header says 25666 bytes"):
        read_scp_ecg(cut)


def test_non_standard_healforce_like_header(tmp_path):
    # A file whose section 3 defines no leads (as Healforce's non-standard exports do).
    path = unpack(WELCH, tmp_path)
    data = bytearray(path.read_bytes())
    start = 349 - 1 + 16  # section 3 of this file (section 0 points there)
    data[start] = 0
    data[:2] = struct.pack("<H", _crc_ccitt(bytes(data[2:])))
    odd = tmp_path / "odd.scp"
    odd.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"odd\.scp: section 3 defines no leads"):
        read_scp_ecg(odd)


def test_default_huffman_table_and_differences():
    codes = ["0", "100", "101", "1111111101", "1111111110" + "10000000",
             "1111111111" + format(1234, "016b")]
    bits = "".join(codes)
    bits += "0" * (-len(bits) % 8)
    data = int(bits, 2).to_bytes(len(bits) // 8, "big")
    assert huffman_default(data, 6, "x").tolist() == [0, 1, -1, -8, -128, 1234]
    # 61 bits and 3 padding zeros (three more 0 values), then the data ends.
    with pytest.raises(ValueError, match="x: the Huffman data ends after 9 of 40 samples"):
        huffman_default(data, 40, "x")
    d = np.array([3, 5, 1, -2, 0])
    x = undo_differences(d, 2)  # x[i] = d[i] + 2 x[i-1] - x[i-2]
    assert x.tolist() == [3, 5, 8, 9, 10]
    assert undo_differences(d, 1).tolist() == np.cumsum(d).tolist()


def test_random_damage_gives_only_named_value_errors(tmp_path):
    rng = np.random.default_rng(2)
    data = unpack("scp-ecg/Example.scp.gz", tmp_path).read_bytes()
    for trial in range(40):
        damaged = bytearray(data)
        if trial % 2:
            damaged = damaged[:int(rng.integers(len(damaged)))]
        else:
            for at in rng.integers(len(damaged), size=int(rng.integers(1, 30))):
                damaged[at] = int(rng.integers(256))
        path = tmp_path / "damaged.scp"
        path.write_bytes(bytes(damaged))
        try:
            read_records(path, verify=False, check_amplitude=False)  # past the CRC check
        except ValueError as exc:
            assert "damaged.scp" in str(exc)
