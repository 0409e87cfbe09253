"""Philips SierraECG XML reader on real exports (tests/data/vendor/philips-sierra-xml)."""

import base64
import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest

from ecgsk.io import read_hl7_aecg, read_philips_xml, read_records
from ecgsk.io._xli import lzw_decode, undo_deltas
from ecgsk.labels import labels_from_text
from ecgsk.leads import STANDARD_12

VENDOR = Path(__file__).parent / "data" / "vendor"


def unpack(name: str, folder: Path) -> Path:
    """Copy a gzipped fixture into ``folder``, un-gzipped."""
    dest = folder / Path(name).name.removesuffix(".gz")
    with gzip.open(VENDOR / name, "rb") as f_in, open(dest, "wb") as f_out:
        shutil.copyfileobj(f_in, f_out)
    return dest


@pytest.fixture
def utf16(tmp_path):
    return unpack("philips-sierra-xml/ad4d3d80-d165_1-04_orig.xml.gz", tmp_path)


def test_sierra_103_xli(tmp_path):
    path = unpack("philips-sierra-xml/129DYPRG.XML.gz", tmp_path)
    X, sfreq, leads, meta = read_philips_xml(path)
    assert X.shape == (1, 12, 5500) and sfreq == 500.0 and leads == STANDARD_12
    row = meta.iloc[0]
    assert row["document_version"] == "SierraECG 1.03"
    assert row["age"] == 50.0 and row["sex"] == "male"
    assert row["statements"][0] == "Sinus bradycardia rate< 50"
    assert row["statements"][-1] == ">>> Acute MI <<<"
    assert row["severity"] == "ABNORMAL ECG" and row["statements_confirmed"] is None
    # The restored limb leads obey Einthoven and Goldberger to the device's rounding (two 5 uV
    # steps), except in the 1 mV calibration pulse every lead carries in its last 0.3 s.
    x = X[0, :, :5350].astype(np.float64)
    np.testing.assert_allclose(x[2], x[1] - x[0], atol=0.01 + 1e-6)
    np.testing.assert_allclose(x[3], -(x[0] + x[1]) / 2, atol=0.01 + 1e-6)
    np.testing.assert_allclose(x[5], (x[1] + x[2]) / 2, atol=0.01 + 1e-6)
    pulse = X[0, :, 5400:5440]
    np.testing.assert_allclose(pulse, 1.0, atol=1e-6)


def test_utf16_file_matches_its_hl7_rendering(tmp_path, utf16):
    """The same PageWriter ECG exported as Philips XML (XLI, UTF-16LE) and as HL7 aECG."""
    philips = read_philips_xml(utf16)
    aecg = read_hl7_aecg(unpack("hl7-aecg/ad4d3d80-d165_1-04_converted.xml.gz", tmp_path))
    assert philips.signals.shape == aecg.signals.shape == (1, 12, 5500)
    diff = np.abs(philips.signals - aecg.signals)
    assert diff.max() <= 0.02 + 1e-6  # a few 5 uV steps at most, on all 12 leads
    assert diff.mean() < 0.005
    assert np.abs(philips.signals).max() > 1.0  # not a comparison of two flat lines


def test_utf16_big_endian_and_utf8_copies_read_the_same(tmp_path, utf16):
    text = utf16.read_bytes().decode("utf-16")
    big = tmp_path / "big.xml"
    big.write_bytes(b"\xfe\xff" + text.encode("utf-16-be"))
    small = tmp_path / "small.xml"
    small.write_bytes(text.replace('encoding="utf-16"', 'encoding="utf-8"').encode("utf-8"))
    a, b, c = (read_philips_xml(p).signals for p in (utf16, big, small))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)


def test_confirmed_and_original_statements(utf16):
    row = read_philips_xml(utf16).meta.iloc[0]
    assert row["status"] == "Confirmed"
    assert row["statements"] == ["SINUS BRADYCARDIA V-rate<60",
                                 "NO PREVIOUS TRACING AVAILABLE FOR COMPARISON"]
    assert row["statements_confirmed"] == row["statements"]
    assert row["statements_original"][0] == "SINUS BRADYCARDIA"
    assert row["diagnosis"] == " ".join(row["statements"])
    found = labels_from_text(["; ".join(row["statements"])]).labels.iloc[0]
    assert sorted(found[found == 1].index) == ["Bradycardia", "Sinusal"]


def test_1_04_01_declared_utf16_stored_as_ascii(tmp_path):
    path = unpack("philips-sierra-xml/Philips_TRIM3_0001_pyClear.xml.gz", tmp_path)
    assert path.read_bytes().startswith(b'<?xml version="1.0" encoding="utf-16"?>')
    rec = read_records(path)  # sniffed as Philips through read_records
    assert rec.signals.shape == (1, 12, 5500)
    assert rec.meta.loc[0, "document_version"] == "PhilipsECG 1.04.01"
    assert rec.meta.loc[0, "statements"] == []


def _edited(tmp_path, old: str, new: str) -> Path:
    path = unpack("philips-sierra-xml/129DYPRG.XML.gz", tmp_path)
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    return path


def test_invalid_document_type_and_version(tmp_path):
    # The two negative fixtures of the vendor set are these one-word edits of 129DYPRG.XML.
    path = _edited(tmp_path, "<documenttype>SierraECG<", "<documenttype>MortaraECG<")
    with pytest.raises(ValueError, match=r"129DYPRG\.XML: unsupported Philips XML document "
                                         r"MortaraECG 1\.03"):
        read_records(path)
    path = _edited(tmp_path, "<documentversion>1.03<", "<documentversion>1.05<")
    with pytest.raises(ValueError, match="unsupported Philips XML document SierraECG 1.05"):
        read_philips_xml(path)


def test_corrupt_waveforms_name_the_file(tmp_path):
    path = _edited(tmp_path, 'dataencoding="Base64" durationperchannel',
                   'dataencoding="Base64" durationperchannel="22000" x')
    with pytest.raises(ValueError, match=r"129DYPRG\.XML, lead I: 5500 samples decoded, 11000"):
        read_philips_xml(path)
    path = _edited(tmp_path, 'compressmethod="XLI"', 'compressmethod="ZIP"')
    with pytest.raises(ValueError, match="compression 'ZIP' is not supported"):
        read_philips_xml(path)
    path = unpack("philips-sierra-xml/129DYPRG.XML.gz", tmp_path)
    text = path.read_text()
    start = text.index('nbitspersample="16">') + len('nbitspersample="16">')
    path.write_text(text[:start] + "!!" + text[start + 2:])
    with pytest.raises(ValueError, match="parsedwaveforms is not valid base64"):
        read_philips_xml(path)
    end = text.index("</parsedwaveforms>")
    data = base64.b64decode("".join(text[start:end].split()))
    path.write_text(text[:start] + base64.b64encode(data[:3000]).decode() + text[end:])
    with pytest.raises(ValueError, match=r"129DYPRG\.XML.*(truncated|corrupt)"):
        read_philips_xml(path)


def test_lzw_and_delta_decoding_by_hand():
    # Codes 65 ('A'), 66 ('B'), 256 (= 'AB', defined after the first two), 1023 (end).
    codes = [65, 66, 256, 1023]
    bits = "".join(f"{c:010b}" for c in codes)
    data = int(bits, 2).to_bytes(len(bits) // 8, "big")
    assert lzw_decode(data) == b"ABAB"
    with pytest.raises(ValueError, match="LZW code 300 is not yet defined"):
        lzw_decode(int(f"{65:010b}{300:010b}0000", 2).to_bytes(3, "big"))
    # x = [10, 12] then x[i] = 2 x[i-1] - x[i-2] - d, d = seed, then value[i-1] - 64.
    out = undo_deltas(np.array([10, 12, 64 + 1, 64 - 2, 0]), seed=3)
    assert out.tolist() == [10, 12, 11, 9, 9]


def test_uncompressed_and_plain_copies_of_the_decoded_leads(tmp_path, utf16):
    """Re-store the decoded counts of a real file uncompressed (Base64, then Plain): same mV."""
    rec = read_philips_xml(utf16)
    counts = np.rint(rec.signals[0] / 0.005).astype("<i2")  # resolution 5 uV
    text = utf16.read_bytes().decode("utf-16")
    start = text.index(">", text.index("<parsedwaveforms")) + 1
    end = text.index("</parsedwaveforms>")
    head = text[:start].replace('compression="XLI"', 'compression="Uncompressed"')
    raw = tmp_path / "raw.xml"
    raw.write_text(head + base64.b64encode(counts.tobytes()).decode() + text[end:], "utf-16")
    np.testing.assert_allclose(read_philips_xml(raw).signals, rec.signals, atol=1e-6)
    plain = tmp_path / "plain.xml"
    plain.write_text(head.replace('dataencoding="Base64"', 'dataencoding="Plain"')
                     + " ".join(map(str, counts.ravel().tolist())) + text[end:], "utf-16")
    np.testing.assert_allclose(read_philips_xml(plain).signals, rec.signals, atol=1e-6)
    plain.write_text(head.replace('dataencoding="Base64"', 'dataencoding="Hex"') + text[end:],
                     "utf-16")
    with pytest.raises(ValueError, match=r"plain\.xml: waveform data encoding 'Hex'"):
        read_philips_xml(plain)


def test_random_damage_gives_only_named_value_errors(tmp_path):
    rng = np.random.default_rng(1)
    data = unpack("philips-sierra-xml/129DYPRG.XML.gz", tmp_path).read_bytes()
    for trial in range(30):
        damaged = bytearray(data)
        if trial % 2:
            damaged = damaged[:int(rng.integers(len(damaged)))]
        else:
            for at in rng.integers(len(damaged), size=int(rng.integers(1, 30))):
                damaged[at] = int(rng.integers(256))
        path = tmp_path / "damaged.xml"
        path.write_bytes(bytes(damaged))
        try:
            read_records(path, check_amplitude=False)
        except ValueError as exc:
            assert "damaged.xml" in str(exc)
