"""HL7 aECG reader on real exports (fixtures in tests/data/vendor/hl7-aecg, see its README)."""

import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest

from ecgsk.io import convert, read_hl7_aecg, read_records
from ecgsk.labels import labels_from_text
from ecgsk.leads import STANDARD_12

VENDOR = Path(__file__).parent / "data" / "vendor"


def unpack(name: str, folder: Path) -> Path:
    """Copy a fixture into ``folder``, un-gzipped (the fixtures are stored gzipped)."""
    source = VENDOR / name
    dest = folder / source.name.removesuffix(".gz")
    if source.suffix == ".gz":
        with gzip.open(source, "rb") as f_in, open(dest, "wb") as f_out:
            shutil.copyfileobj(f_in, f_out)
    else:
        shutil.copyfile(source, dest)
    return dest


def test_example_aecg_rhythm_in_mv(tmp_path):
    path = unpack("hl7-aecg/Example aECG.xml.gz", tmp_path)
    X, sfreq, leads, meta = read_hl7_aecg(path)
    assert X.shape == (1, 12, 5000) and X.dtype == np.float32
    assert sfreq == 500.0 and leads == STANDARD_12
    # First digits of lead I in the file: origin 0 uV, scale 2.5 uV.
    text = path.read_text()
    start = text.index('<code code="MDC_ECG_LEAD_I" ')
    digits = text[text.index("<digits>", start) + 8:text.index("</digits>", start)].split()
    np.testing.assert_allclose(X[0, 0, :50], np.array(digits[:50], float) * 2.5e-3, atol=1e-6)
    # The file stores all 12 leads; Einthoven's law holds on the real recording.
    np.testing.assert_allclose(X[0, 2], X[0, 1] - X[0, 0], atol=2.5e-3 + 1e-6)
    row = meta.iloc[0]
    assert row["patient_id"] == "SBJ-123" and row["sex"] == "male"
    assert row["acquisition_date"] == "2002-11-22" and row["acquisition_time"] == "09:10:00"
    assert row["statements"] == [] and row["diagnosis"] is None


def test_statements_list_and_string(tmp_path):
    path = unpack("hl7-aecg/ad4d3d80-d165_1-04_converted.xml.gz", tmp_path)
    meta = read_hl7_aecg(path).meta
    assert meta.loc[0, "statements"] == [
        "(SB) SINUS BRADYCARDIA, V-rate<60",
        "(NPTA) NO PREVIOUS TRACING AVAILABLE FOR COMPARISON",
    ]
    assert meta.loc[0, "diagnosis"] == " ".join(meta.loc[0, "statements"])
    assert meta.loc[0, "sex"] == "female"


def test_statements_feed_labels_from_text(tmp_path):
    path = unpack("hl7-aecg/ad4d3d80-d165_1-04_converted.xml.gz", tmp_path)
    statements = read_hl7_aecg(path).meta.loc[0, "statements"]
    labels = labels_from_text([statements]).labels.iloc[0]
    assert sorted(labels[labels == 1].index) == ["Bradycardia", "Sinusal"]


def test_french_statements_at_100_hz(tmp_path):
    path = unpack("hl7-aecg/hl7aecg_example.xml.gz", tmp_path)
    rec = read_hl7_aecg(path)
    assert rec.sfreq == 100.0 and rec.signals.shape == (1, 12, 1000)
    assert rec.meta.loc[0, "statements"][0] == "Rythme sinusal avec ESA"
    assert "ECG limite" in rec.meta.loc[0, "statements"]  # the summary statement
    assert not any("non confirm" in s for s in rec.meta.loc[0, "statements"])  # a comment


def test_read_records_and_convert_sniff_aecg(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    unpack("hl7-aecg/Example aECG.xml.gz", folder)
    direct = read_hl7_aecg(folder / "Example aECG.xml")
    rec = read_records(folder)
    np.testing.assert_array_equal(rec.signals, direct.signals)
    assert rec.meta.loc[0, "record_id"] == "Example aECG"
    report = convert(folder, tmp_path / "out.zarr", progress=False)
    assert report.n_converted == 1 and report.n_failed == 0


def test_single_lead_file_is_a_clear_error(tmp_path):
    path = unpack("hl7-aecg/minimum_aecg.xml", tmp_path)
    with pytest.raises(ValueError, match=r"minimum_aecg\.xml: lead\(s\) \['I', 'V1'.*missing"):
        read_hl7_aecg(path)
    with pytest.raises(ValueError, match="minimum_aecg.xml"):
        read_records(path)


def _edited(tmp_path, old, new, count=1):
    path = unpack("hl7-aecg/Example aECG.xml.gz", tmp_path)
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, count))
    return path


def test_corrupt_files_name_file_and_problem(tmp_path):
    path = _edited(tmp_path, 'increment value="0.002" unit="s"', 'increment value="abc" unit="s"')
    with pytest.raises(ValueError, match=r"Example aECG\.xml: the time increment is not a number"):
        read_hl7_aecg(path)
    path = _edited(tmp_path, '<scale value="2.5" unit="uV"/>', '<scale value="2.5" unit="furlong"/>')
    with pytest.raises(ValueError, match="lead I: amplitude unit 'furlong'"):
        read_hl7_aecg(path)
    path = _edited(tmp_path, "<digits>", "<digits>12 x7 ")
    with pytest.raises(ValueError, match="lead I: <digits> holds a value that is not a number"):
        read_hl7_aecg(path)
    path = _edited(tmp_path, "</digits>", " 5 6</digits>")
    with pytest.raises(ValueError, match="leads have different numbers of samples"):
        read_hl7_aecg(path)
    path = unpack("hl7-aecg/Example aECG.xml.gz", tmp_path)
    path.write_bytes(path.read_bytes()[:200_000])
    with pytest.raises(ValueError, match=r"Example aECG\.xml is not well-formed XML"):
        read_records(path)


def test_entities_refused_and_unknown_xml_named(tmp_path):
    bomb = tmp_path / "bomb.xml"
    bomb.write_text('<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "xx">]>'
                    '<AnnotatedECG xmlns="urn:hl7-org:v3">&x;</AnnotatedECG>')
    with pytest.raises(ValueError, match="bomb.xml: XML entity declarations are not accepted"):
        read_records(bomb)
    other = tmp_path / "notes.xml"
    other.write_text("<notes>not an ECG</notes>")
    with pytest.raises(ValueError, match=r"notes\.xml is not a GE MUSE RestingECG file.*<notes>"):
        read_records(other)
    with pytest.raises(ValueError, match="notes.xml is not an HL7 aECG file"):
        read_hl7_aecg(other)


# ------------------------------------------------ the statements contract, also for GE MUSE


def test_muse_statements_confirmed_and_original_feed_labels():
    from ecgsk.io import read_muse_xml

    meta = read_muse_xml(Path(__file__).parent / "data" / "muse" / "muse_ecg_deidentified_1.xml").meta
    row = meta.iloc[0]
    assert row["statements"] == row["statements_confirmed"]
    assert row["statements_confirmed"][:2] == [
        "BASELINE ARTIFACT", "SINUS TACHYCARDIA WITH ONE VENTRICULAR PREMATURE BEAT",
    ]
    assert "CANNOT RULE OUT ANTERIOR INFARCT (CITED ON OR BEFORE 21-JAN-1999)" in row[
        "statements_original"]
    assert row["diagnosis"].startswith("BASELINE ARTIFACT SINUS TACHYCARDIA WITH ONE")  # unchanged
    confirmed = labels_from_text(["; ".join(row["statements_confirmed"])]).labels.iloc[0]
    assert {"Sinusal", "Left axis deviation", "Premature ventricular complex"} <= set(
        confirmed[confirmed == 1].index)
    original = labels_from_text(["; ".join(row["statements_original"])]).labels.iloc[0]
    assert original["Low voltage"] == 1 and confirmed["Low voltage"] == 0  # kept apart


def test_convert_writes_statement_lists_as_json(tmp_path):
    import json

    import pandas as pd

    folder = tmp_path / "in"
    folder.mkdir()
    unpack("hl7-aecg/ad4d3d80-d165_1-04_converted.xml.gz", folder)
    convert(folder, tmp_path / "out.zarr", progress=False)
    table = pd.read_csv(tmp_path / "out.zarr" / "records.csv")
    assert json.loads(table.loc[0, "statements"])[0] == "(SB) SINUS BRADYCARDIA, V-rate<60"


def test_slist_int_digits_read_like_slist_pq(tmp_path):
    path = unpack("hl7-aecg/hl7aecg_example.xml.gz", tmp_path)
    pq = read_hl7_aecg(path).signals
    path.write_text(path.read_text().replace('xsi:type="SLIST_PQ"', 'xsi:type="SLIST_INT"'))
    np.testing.assert_array_equal(read_hl7_aecg(path).signals, pq)
    path.write_text(path.read_text().replace('xsi:type="SLIST_INT"', 'xsi:type="SLIST_TS"', 1))
    with pytest.raises(ValueError, match="waveform type 'SLIST_TS' is not supported"):
        read_hl7_aecg(path)


def test_random_damage_gives_only_named_value_errors(tmp_path):
    rng = np.random.default_rng(0)
    data = unpack("hl7-aecg/hl7aecg_example.xml.gz", tmp_path).read_bytes()
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
