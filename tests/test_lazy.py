"""Lazy cohorts (ECGDataset over .npy memmaps, zarr stores, folders of records) and
ecgsk.io.convert (parallel, resumable, failures logged), on real PTB-XL records."""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ecgsk.datasets import ECGDataset, load_ptbxl_sample
from ecgsk.io import convert, read_records, write_muse_xml
from ecgsk.preprocessing import (
    CropOrPad,
    ECGPipeline,
    NormalizeLeads,
    ReorderLeads,
    Resample,
    make_deepecg_preprocessing,
)

wfdb = pytest.importorskip("wfdb")

N_WFDB, N_XML = 30, 2
N_GOOD = N_WFDB + N_XML
BAD = {  # file -> words its failure reason must contain
    "junk.hea": "not a valid WFDB header",
    "notes.xml": "not a GE MUSE RestingECG file",
    "short.hea": "expected 5000",
    "truncated.hea": "truncated",
    "two_leads.hea": "lead set",
}
FAST = dict(progress_bar=False, verbose=0, batch_size=8, random_state=0)


def _write_wfdb(folder: Path, name: str, mv: np.ndarray, leads, sfreq=500) -> None:
    n = len(leads)
    wfdb.wrsamp(name, fs=sfreq, units=["mV"] * n, sig_name=list(leads), p_signal=mv.T.astype(float),
                fmt=["16"] * n, adc_gain=[1000.0] * n, baseline=[0] * n, write_dir=str(folder))


@pytest.fixture(scope="module")
def sample():
    return load_ptbxl_sample()


@pytest.fixture(scope="module")
def folder(tmp_path_factory, sample):
    """30 real PTB-XL records as WFDB, 2 as GE MUSE XML, and 5 files that cannot be used."""
    root = tmp_path_factory.mktemp("records")
    X, leads = sample.signals, sample.leads
    for k in range(N_WFDB):
        _write_wfdb(root, f"ecg{k:02d}", X[k], leads)
    for k in range(N_WFDB, N_GOOD):
        write_muse_xml(root / f"ecg{k:02d}.xml", X[k], 500, leads)
    _write_wfdb(root, "truncated", X[40], leads)
    data = (root / "truncated.dat").read_bytes()
    (root / "truncated.dat").write_bytes(data[: len(data) // 3])
    (root / "junk.hea").write_text("this is not a WFDB header\n\x00\x01")
    (root / "notes.xml").write_text("<notes><note>not an ECG</note></notes>")
    _write_wfdb(root, "short", X[41][:, :4000], leads)
    _write_wfdb(root, "two_leads", X[42][:2], leads[:2])
    (root / "README.txt").write_text("ignored: not a record file")
    return root


@pytest.fixture(scope="module")
def good_files(folder):
    return [folder / f"ecg{k:02d}.{'hea' if k < N_WFDB else 'xml'}" for k in range(N_GOOD)]


@pytest.fixture(scope="module")
def store(folder, tmp_path_factory):
    """The folder converted with one worker, no preprocessing."""
    dest = tmp_path_factory.mktemp("stores") / "plain.zarr"
    report = convert(folder, dest, chunk_size=8, progress=False)
    return dest, report


def _reasons_by_name(failures: pd.DataFrame) -> dict[str, str]:
    rows = failures[["path", "reason"]].itertuples(index=False)
    return {Path(path).name: reason for path, reason in rows}


def _store_content(dest: Path):
    ds = ECGDataset(dest)
    signals = np.stack([ds[i] for i in range(len(ds))])
    records = pd.read_csv(dest / "records.csv", dtype={"id": str})
    failures = pd.read_csv(dest / "failures.csv")
    return signals, records, failures, (ds.sfreq, ds.leads)


def _assert_same_store(a: Path, b: Path):
    sa, ra, fa, attrs_a = _store_content(a)
    sb, rb, fb, attrs_b = _store_content(b)
    np.testing.assert_array_equal(sa, sb)
    pd.testing.assert_frame_equal(ra, rb)
    pd.testing.assert_frame_equal(fa, fb)
    assert attrs_a == attrs_b


# ---------------------------------------------------------------------------- folders
def test_folder_dataset_items_equal_read_records(folder, good_files):
    with pytest.raises(ValueError, match="junk.hea"):  # the first bad file in sorted order
        ECGDataset(folder)
    with pytest.warns(UserWarning, match="skipped 5 of 37"):
        ds = ECGDataset(folder, errors="skip")
    assert len(ds) == N_GOOD and ds.shape == (N_GOOD, 12, 5000) and ds.sfreq == 500.0
    assert ds.ids == [f"ecg{k:02d}" for k in range(N_GOOD)]
    assert list(ds.meta["id"]) == ds.ids
    assert ds.meta["path"].tolist() == [str(p) for p in good_files]
    failures = _reasons_by_name(ds.failures)
    assert set(failures) == set(BAD)
    for name, words in BAD.items():
        assert words in failures[name] and name.split(".")[0] in failures[name]
    rec = read_records(good_files)
    assert ds.leads == rec.leads
    for i in range(len(ds)):
        item = ds[i]
        assert item.dtype == np.float32 and item.shape == (12, 5000)
        np.testing.assert_array_equal(item, rec.signals[i])
    # resampling and cropping on the fly, as read_records does for the whole batch
    small = ECGDataset(good_files[:4], sfreq=250, n_times=2000)
    ref = read_records(good_files[:4], sfreq=250, n_times=2000).signals
    assert small.shape == (4, 12, 2000) and small.sfreq == 250.0
    np.testing.assert_allclose(np.stack([small[i] for i in range(4)]), ref, atol=1e-6)
    assert small[-1].shape == (12, 2000)


def test_folder_fault_seen_only_in_samples_raises_naming_the_file(tmp_path, sample):
    for k in range(3):
        _write_wfdb(tmp_path, f"r{k}", sample.signals[k], sample.leads)
    ds = ECGDataset(tmp_path)
    data = bytearray((tmp_path / "r1.dat").read_bytes())
    data[1000:1010] = b"\x7f" * 10  # same size, corrupt samples: the checksum catches it
    (tmp_path / "r1.dat").write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"r1.*checksum"):
        ds[1]
    # the first item is read when the dataset is built: with errors="skip" a bad one is left out
    files = [tmp_path / "r1.hea", tmp_path / "r0.hea"]
    with pytest.raises(ValueError, match=r"r1.*checksum"):
        ECGDataset(files)
    with pytest.warns(UserWarning, match=r"skipped 1 of 2 file\(s\)[^\n]*\n.*r1.*checksum"):
        skipping = ECGDataset(files, errors="skip")
    assert skipping.ids == ["r0"] and list(skipping.meta["id"]) == ["r0"]
    assert skipping.failures["path"].tolist() == [str(files[0])]
    counts = np.round(sample.signals[3].T * 1000).astype(np.int16)
    counts[100:110, 4] = -32768  # the format-16 "no data" code
    wfdb.wrsamp("r2", fs=500, units=["mV"] * 12, sig_name=list(sample.leads), d_signal=counts,
                fmt=["16"] * 12, adc_gain=[1000.0] * 12, baseline=[0] * 12, write_dir=str(tmp_path))
    with pytest.raises(ValueError, match=r"r2.* 10 NaN"):
        ds[2]
    np.testing.assert_array_equal(ds[0], read_records(tmp_path / "r0.hea").signals[0])


# ---------------------------------------------------------------------------- preprocessing
def test_preprocessing_on_the_fly_equals_the_batch_and_is_fitted_once(tmp_path, sample,
                                                                     monkeypatch):
    X = sample.signals[:6]
    np.save(tmp_path / "x.npy", X)
    # a stateless pipeline (the per-record scale learns nothing) is fitted once, on one ECG
    pipe = make_deepecg_preprocessing(500, normalize="record")
    expected = make_deepecg_preprocessing(500, normalize="record").fit_transform(X)
    fits = []
    original_fit = ECGPipeline.fit
    monkeypatch.setattr(ECGPipeline, "fit", lambda self, *a, **k: fits.append(1) or
                        original_fit(self, *a, **k))
    ds = ECGDataset(tmp_path / "x.npy", sfreq=500, preprocessing=pipe)
    items = np.stack([ds[i] for i in range(len(ds))])
    assert len(fits) == 1  # once, at construction, not per item
    assert not hasattr(pipe.steps[0][1], "n_leads_in_")  # the user's pipeline is left unfitted
    assert ds.shape == (6, 12, 2500) and ds.sfreq == 250.0 and ds.leads == sample.leads
    np.testing.assert_allclose(items, expected, atol=1e-5)
    fitted = make_deepecg_preprocessing(500).fit(X)  # the default learns a cohort gain
    ds2 = ECGDataset(tmp_path / "x.npy", sfreq=500, preprocessing=fitted)
    assert ds2.preprocessing_ is fitted
    np.testing.assert_allclose(ds2[3], fitted.transform(X)[3], atol=1e-5)
    with pytest.raises(ValueError, match="not fitted and has steps that learn from the data"):
        ECGDataset(tmp_path / "x.npy", sfreq=500, preprocessing=make_deepecg_preprocessing(500))
    with pytest.raises(ValueError, match="expects 500 Hz input but the ECGs reach it at 100 Hz"):
        ECGDataset(tmp_path / "x.npy", sfreq=100, preprocessing=make_deepecg_preprocessing(500))
    shuffled = ReorderLeads(input_leads=list(sample.leads[::-1]))
    with pytest.raises(ValueError, match="ReorderLeads expects leads"):
        ECGDataset(tmp_path / "x.npy", sfreq=500, preprocessing=shuffled)


# ---------------------------------------------------------------------------- estimators
def test_memmap_and_zarr_fit_predict_equal_in_memory(tmp_path, folder, good_files, sample):
    from ecgsk import ECGClassifier

    pipe = ECGPipeline([("resample", Resample(500, 100)), ("crop", CropOrPad(250)),
                        ("normalize", NormalizeLeads("zscore"))])
    X = pipe.fit_transform(read_records(good_files).signals)
    y = sample.labels[["NORM", "MI"]].iloc[:N_GOOD].reset_index(drop=True)
    np.save(tmp_path / "x.npy", X)
    report = convert(good_files, tmp_path / "x.zarr", preprocessing=pipe, progress=False)
    assert report.n_converted == N_GOOD and report.n_failed == 0
    memmap = ECGDataset(tmp_path / "x.npy", sfreq=100)
    store = ECGDataset(tmp_path / "x.zarr")
    assert store.ids == [p.stem for p in good_files] and store.sfreq == 100.0
    np.testing.assert_array_equal(np.stack([store[i] for i in range(N_GOOD)]), X)

    def make(**kw):
        return ECGClassifier("xresnet1d50-tiny", max_epochs=2, **FAST, **kw)

    eager = make().fit(X, y)
    expected = eager.predict_proba(X)
    for ds in (memmap, store):
        lazy = make(num_workers=2).fit(ds, y)
        np.testing.assert_allclose(lazy.predict_proba(ds), expected, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(eager.predict_proba(ds), expected, rtol=1e-5, atol=1e-6)
        assert eager.transform(ds).shape[0] == N_GOOD


def test_datasets_pickle_without_their_data_and_reopen(tmp_path, sample, store):
    np.save(tmp_path / "big.npy", sample.signals[:60])  # 14 MB
    for ds in (ECGDataset(tmp_path / "big.npy", sfreq=500), ECGDataset(store[0])):
        ds[0]  # the array is open
        blob = pickle.dumps(ds)
        assert len(blob) < 50_000
        back = pickle.loads(blob)
        assert back._array is None and back.ids == ds.ids
        np.testing.assert_array_equal(back[len(ds) - 1], ds[len(ds) - 1])
    np.save(tmp_path / "fortran.npy", np.asfortranarray(sample.signals[:5]))
    fortran = ECGDataset(tmp_path / "fortran.npy", sfreq=500)  # read through the memory map
    np.testing.assert_array_equal(fortran[4], sample.signals[4])


# ---------------------------------------------------------------------------- convert
def test_convert_logs_every_failure_with_its_reason(folder, store):
    dest, report = store
    assert (report.n_converted, report.n_failed, report.n_skipped) == (N_GOOD, 5, 0)
    assert report.path == dest
    logged = pd.read_csv(dest / "failures.csv")
    assert list(logged.columns) == ["path", "reason"]
    pd.testing.assert_frame_equal(logged, report.failures.reset_index(drop=True))
    reasons = _reasons_by_name(logged)
    assert set(reasons) == set(BAD)
    for name, words in BAD.items():
        assert words in reasons[name], (name, reasons[name])
    with pytest.warns(UserWarning):
        lazy = ECGDataset(folder, errors="skip")
    ds = ECGDataset(dest)
    assert ds.ids == lazy.ids and ds.shape == lazy.shape and ds.leads == lazy.leads
    for i in (0, 7, N_WFDB, N_GOOD - 1):
        np.testing.assert_array_equal(ds[i], lazy[i])
    assert {"id", "path", "source_sfreq", "source_n_times"} <= set(ds.meta.columns)
    again = convert(folder, dest, chunk_size=8, progress=False)  # everything is already done
    assert (again.n_converted, again.n_skipped, again.n_failed) == (0, N_GOOD, 5)


def test_convert_resumes_after_interruptions_to_the_same_store(folder, store, tmp_path,
                                                              monkeypatch):
    import ecgsk.io._convert as convert_module
    import ecgsk.io._items as items_module

    dest = tmp_path / "resumed.zarr"
    reader = items_module.read_record
    calls = []

    def interrupted_reader(path):
        calls.append(path)
        if len(calls) == 2 * 8 + 3:  # Ctrl-C in the middle of the third chunk
            raise KeyboardInterrupt
        return reader(path)

    monkeypatch.setattr(items_module, "read_record", interrupted_reader)
    with pytest.raises(KeyboardInterrupt):
        convert(folder, dest, chunk_size=8, progress=False)
    manifest = json.loads((dest / "manifest.json").read_text())
    assert len(manifest["chunks"]) == 2 and not manifest["complete"]
    with pytest.raises(ValueError, match="unfinished conversion"):
        ECGDataset(dest)
    monkeypatch.setattr(items_module, "read_record", reader)

    # a second interruption after the third chunk's rows are written, before it is committed
    write_csv = convert_module._write_csv

    def interrupted_write(path, frame):
        if Path(path).name == "records-000002.csv":
            raise KeyboardInterrupt
        write_csv(path, frame)

    monkeypatch.setattr(convert_module, "_write_csv", interrupted_write)
    with pytest.raises(KeyboardInterrupt):
        convert(folder, dest, chunk_size=8, progress=False)
    monkeypatch.setattr(convert_module, "_write_csv", write_csv)

    report = convert(folder, dest, chunk_size=8, progress=False)
    assert report.n_skipped == 16 and report.n_converted == N_GOOD - 16 and report.n_failed == 5
    _assert_same_store(dest, store[0])
    with pytest.raises(ValueError, match="other settings"):
        convert(folder, dest, chunk_size=4, progress=False)
    fresh = convert(folder, dest, chunk_size=4, resume=False, progress=False)
    assert fresh.n_converted == N_GOOD and fresh.n_skipped == 0


def test_convert_with_two_workers_equals_one_and_the_lazy_folder(folder, tmp_path):
    pipe = make_deepecg_preprocessing(500, normalize="record")
    one = convert(folder, tmp_path / "one.zarr", preprocessing=pipe, chunk_size=16, progress=False)
    two = convert(folder, tmp_path / "two.zarr", preprocessing=pipe, chunk_size=16, n_jobs=2,
                  progress=False)
    assert (one.n_converted, one.n_failed) == (two.n_converted, two.n_failed) == (N_GOOD, 5)
    _assert_same_store(tmp_path / "one.zarr", tmp_path / "two.zarr")
    ds = ECGDataset(tmp_path / "two.zarr")
    assert ds.shape == (N_GOOD, 12, 2500) and ds.sfreq == 250.0
    with pytest.warns(UserWarning):
        lazy = ECGDataset(folder, preprocessing=pipe, errors="skip")
    for i in (0, N_GOOD - 1):
        np.testing.assert_allclose(ds[i], lazy[i], atol=1e-6)


# ---------------------------------------------------------------------------- bad input
def test_bad_input_gives_clear_errors(tmp_path, sample, folder, store):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        ECGDataset(tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        convert(tmp_path / "missing", tmp_path / "out.zarr", progress=False)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="holds no supported ECG file"):
        ECGDataset(tmp_path / "empty")
    with pytest.raises(ValueError, match="holds no supported ECG file"):
        convert(tmp_path / "empty", tmp_path / "out.zarr", progress=False)
    np.save(tmp_path / "flat.npy", np.zeros((12, 500), np.float32))
    with pytest.raises(ValueError, match="got a 2-D array"):
        ECGDataset(tmp_path / "flat.npy", sfreq=500)
    np.save(tmp_path / "text.npy", np.full((2, 12, 5), "a"))
    with pytest.raises(TypeError, match="real numbers"):
        ECGDataset(tmp_path / "text.npy", sfreq=500)
    X = sample.signals[:3].copy()
    X[2, 4, 17] = np.nan
    np.save(tmp_path / "nan.npy", X)
    with pytest.raises(ValueError, match="sfreq is required"):
        ECGDataset(tmp_path / "nan.npy")
    ds = ECGDataset(tmp_path / "nan.npy", sfreq=500)
    with pytest.raises(ValueError, match=r"ECG 2 of .*nan.npy contains 1 NaN"):
        ds[2]
    with pytest.raises(IndexError):
        ds[3]
    with pytest.raises(TypeError, match="integers"):
        ds["0"]
    np.save(tmp_path / "eight.npy", X[:, :8])
    with pytest.raises(ValueError, match="pass leads="):
        ECGDataset(tmp_path / "eight.npy", sfreq=500)
    eight = ECGDataset(tmp_path / "eight.npy", sfreq=500, leads=sample.leads[:8])
    assert eight.shape == (3, 8, 5000) and eight.leads == sample.leads[:8]
    with pytest.raises(ValueError, match="errors must be"):
        ECGDataset(tmp_path / "nan.npy", sfreq=500, errors="ignore")
    with pytest.raises(TypeError, match="in-memory array"):
        ECGDataset(X)
    src = store[0]
    for bad in (dict(chunk_size=0), dict(n_jobs=0), dict(n_times=-5), dict(sfreq=-1.0)):
        with pytest.raises(ValueError):
            convert(folder, tmp_path / "bad.zarr", progress=False, **bad)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "thesis.tex").write_text("precious")
    with pytest.raises(ValueError, match="not an ecgsk store"):
        convert(folder, tmp_path / "busy", progress=False)
    assert (tmp_path / "busy" / "thesis.tex").exists()
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "a.xml").write_text("<html></html>")
    (tmp_path / "junk" / "b.hea").write_text("garbage")
    for _ in range(2):  # the second call resumes the same (empty) conversion
        with pytest.raises(ValueError, match="none of the 2 file"):
            convert(tmp_path / "junk", tmp_path / "junk.zarr", progress=False)
    assert len(pd.read_csv(tmp_path / "junk.zarr" / "failures.csv")) == 2
    with pytest.raises(ValueError, match="none of the 2 file"):
        ECGDataset(tmp_path / "junk", errors="skip")
    shutil.copytree(src, tmp_path / "copy.zarr")
    (tmp_path / "copy.zarr" / "records.csv").write_text("id,path\nonly-one,x\n")
    with pytest.raises(ValueError, match="lists 1 records"):
        ECGDataset(tmp_path / "copy.zarr")


def test_a_subset_of_a_user_dataset_is_accepted(tmp_path):
    from torch.utils.data import Subset

    from ecgsk import ECGClassifier

    rng = np.random.default_rng(0)
    X = rng.standard_normal((24, 12, 250)).astype(np.float32)
    y = np.tile([0, 1], 12)
    np.save(tmp_path / "x.npy", X)
    ds = ECGDataset(tmp_path / "x.npy", sfreq=125)
    clf = ECGClassifier("xresnet1d50-tiny", max_epochs=1, batch_size=8, random_state=0,
                        progress_bar=False, verbose=0, validation=None, threshold=0.5)
    idx = np.arange(12)
    clf.fit(Subset(ds, idx.tolist()), y[idx])
    np.testing.assert_allclose(
        clf.predict_proba(Subset(ds, [1, 3, 5])), clf.predict_proba(X[[1, 3, 5]]), rtol=1e-6
    )


def test_regressor_pretrainer_and_embedder_accept_an_ecg_dataset(tmp_path):
    from ecgsk import ECGEmbedder, ECGPretrainer, ECGRegressor

    sample = load_ptbxl_sample()
    X = np.ascontiguousarray(sample.signals[:48, :, ::4][:, :, :500])  # 4 s at 125 Hz, in mV
    np.save(tmp_path / "x.npy", X)
    ds = ECGDataset(tmp_path / "x.npy", sfreq=125)
    age = sample.meta["age"].to_numpy()[:48].astype(float)
    quiet = dict(progress_bar=False, verbose=0, random_state=0, batch_size=16)

    def reg():
        return ECGRegressor("xresnet1d50-tiny", max_epochs=1, validation=None, **quiet)

    np.testing.assert_allclose(
        reg().fit(ds, age).predict(ds), reg().fit(X, age).predict(X), rtol=1e-5, atol=1e-6
    )

    def pre():
        return ECGPretrainer("deepecg-ssl-tiny", sfreq=125, segment_seconds=2, max_epochs=1,
                             validation=None, pretext_options={"n_entries": 16, "n_negatives": 8},
                             **quiet)

    lazy_pre, eager_pre = pre().fit(ds), pre().fit(X)
    np.testing.assert_allclose(lazy_pre.transform(ds), eager_pre.transform(X), rtol=1e-5,
                               atol=1e-6)
    embedder = ECGEmbedder(eager_pre.encoder_, device="cpu").fit(ds)
    np.testing.assert_allclose(embedder.transform(ds), embedder.transform(X), rtol=1e-6)


# ---------------------------------------------------------------------------- regressions
EIGHT = ["I", "II", "V1", "V2", "V3", "V4", "V5", "V6"]


def _xml_folder(folder: Path, n: int) -> list[Path]:
    rng = np.random.default_rng(0)
    paths = [folder / f"ecg{k:02d}.xml" for k in range(n)]
    for path in paths:
        write_muse_xml(path, rng.standard_normal((8, 1000)) * 0.3, 500, EIGHT)
    return paths


def test_resume_drops_the_tables_of_a_chunk_that_was_never_committed(tmp_path, monkeypatch):
    import ecgsk.io._convert as convert_module

    (tmp_path / "src").mkdir()
    paths = _xml_folder(tmp_path / "src", 9)
    dest = tmp_path / "c.zarr"
    write_json = convert_module._write_json

    def stop_before_third_commit(path, obj):
        if Path(path).name == "manifest.json" and len(obj["chunks"]) == 3:
            raise KeyboardInterrupt  # chunk 2's rows and tables are written, not committed
        write_json(path, obj)

    monkeypatch.setattr(convert_module, "_write_json", stop_before_third_commit)
    with pytest.raises(KeyboardInterrupt):
        convert(tmp_path / "src", dest, chunk_size=3, progress=False)
    monkeypatch.setattr(convert_module, "_write_json", write_json)
    assert (dest / "parts" / "records-000002.csv").is_file()
    for path in paths[6:]:  # the same files of that chunk cannot be read any more
        path.write_text("<notes/>")
    report = convert(tmp_path / "src", dest, chunk_size=3, progress=False)
    assert (report.n_converted, report.n_failed, report.n_skipped) == (0, 3, 6)
    assert not (dest / "parts" / "records-000002.csv").exists()
    ds = ECGDataset(dest)  # used to fail: records.csv listed 9 records, signals held 6
    assert ds.shape == (6, 12, 1000) and ds.ids == [p.stem for p in paths[:6]]
    assert sorted(Path(p).name for p in report.failures["path"]) == [p.name for p in paths[6:]]
    assert len(pd.read_csv(dest / "failures.csv")) == 3


def test_convert_records_its_preprocessing_in_the_store(tmp_path, good_files):
    pipe = make_deepecg_preprocessing(500, normalize="record")
    convert(good_files[:3], tmp_path / "pre.zarr", preprocessing=pipe, progress=False)
    convert(good_files[:3], tmp_path / "raw.zarr", progress=False)
    pre, raw = ECGDataset(tmp_path / "pre.zarr"), ECGDataset(tmp_path / "raw.zarr")
    full = pipe.__repr__(N_CHAR_MAX=1_000_000)
    assert pre.store_preprocessing == full and "..." not in full
    assert json.loads((tmp_path / "pre.zarr" / "zarr.json").read_text())["attributes"][
        "preprocessing"] == full
    assert raw.store_preprocessing is None
    np.save(tmp_path / "x.npy", raw[0][None])
    assert ECGDataset(tmp_path / "x.npy", sfreq=500, leads=raw.leads).store_preprocessing is None


def test_a_corrupt_first_record_does_not_set_the_rate_of_the_others(tmp_path, sample):
    # sorts first, has a readable header at another rate, but corrupt samples
    _write_wfdb(tmp_path, "a_bad", sample.signals[5], sample.leads, sfreq=250)
    data = bytearray((tmp_path / "a_bad.dat").read_bytes())
    data[1000:1010] = b"\x7f" * 10
    (tmp_path / "a_bad.dat").write_bytes(bytes(data))
    for k in range(3):
        _write_wfdb(tmp_path, f"r{k}", sample.signals[k], sample.leads)
    with pytest.warns(UserWarning, match="skipped 1 of 4"):
        ds = ECGDataset(tmp_path, errors="skip")
    assert ds.ids == ["r0", "r1", "r2"] and ds.sfreq == 500.0 and ds.shape == (3, 12, 5000)
    assert ds.failures["path"].tolist() == [str(tmp_path / "a_bad.hea")]
    assert "checksum" in ds.failures["reason"][0]
    np.testing.assert_array_equal(ds[2], read_records(tmp_path / "r2.hea").signals[0])
    with pytest.raises(ValueError, match=r"a_bad.*checksum"):
        ECGDataset(tmp_path)
    report = convert(tmp_path, tmp_path / "out.zarr", progress=False)  # the same reference
    assert (report.n_converted, report.n_failed) == (3, 1)
    assert ECGDataset(tmp_path / "out.zarr").ids == ds.ids


class _MeanStd(TransformerMixin, BaseEstimator):
    """A transformer that learns from the data."""

    def fit(self, X, y=None):
        self.mean_, self.std_ = float(np.mean(X)), float(np.std(X))
        return self

    def transform(self, X):
        check_is_fitted(self)
        return ((np.asarray(X) - self.mean_) / self.std_).astype(np.float32)


def test_an_unfitted_data_dependent_preprocessing_is_refused(tmp_path, sample, good_files):
    X = sample.signals[:4]
    np.save(tmp_path / "x.npy", X)
    unfitted = (_MeanStd(), ECGPipeline([("resample", Resample(500, 250)),
                                         ("scale", _MeanStd())]))
    for pipe in unfitted:
        with pytest.raises(ValueError, match="not fitted.*fit it on your training ECGs"):
            ECGDataset(tmp_path / "x.npy", sfreq=500, preprocessing=pipe)
        with pytest.raises(ValueError, match="not fitted"):
            convert(good_files[:2], tmp_path / "never.zarr", preprocessing=pipe, progress=False)
        assert not (tmp_path / "never.zarr").exists()
    fitted = _MeanStd().fit(X)
    ds = ECGDataset(tmp_path / "x.npy", sfreq=500, preprocessing=fitted)
    assert ds.preprocessing_ is fitted
    np.testing.assert_allclose(ds[3], (X[3] - fitted.mean_) / fitted.std_, rtol=1e-5, atol=1e-6)
    # ecgsk steps learn nothing from the data: still fitted on the first item
    ds = ECGDataset(tmp_path / "x.npy", sfreq=500, preprocessing=NormalizeLeads("zscore"))
    assert ds.preprocessing_ is not None and ds[0].shape == (12, 5000)


def test_npy_items_leave_no_file_open(tmp_path, sample):
    import gc
    import warnings

    np.save(tmp_path / "x.npy", sample.signals[:4])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = ECGDataset(tmp_path / "x.npy", sfreq=500)
        items = [ds[i] for i in range(4)]  # positioned reads of the file
        del ds
        gc.collect()
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]
    np.testing.assert_array_equal(np.stack(items), sample.signals[:4])


def test_a_preprocessing_that_is_no_transformer_is_a_type_error(tmp_path, sample, good_files):
    np.save(tmp_path / "x.npy", sample.signals[:2])
    for bad in ("zscore", np.mean, 3, NormalizeLeads):
        with pytest.raises(TypeError, match="preprocessing must be an sklearn-style transformer"):
            ECGDataset(tmp_path / "x.npy", sfreq=500, preprocessing=bad)
        with pytest.raises(TypeError, match="preprocessing must be an sklearn-style transformer"):
            convert(good_files[:2], tmp_path / "out.zarr", preprocessing=bad, progress=False)
    # a preprocessing built for another rate is refused before dest is created...
    with pytest.raises(ValueError, match="expects 250 Hz input"):
        convert(good_files[:2], tmp_path / "out.zarr", preprocessing=make_deepecg_preprocessing(250),
                progress=False)
    assert not (tmp_path / "out.zarr").exists()
    # ...so the corrected call is not taken for another conversion
    report = convert(good_files[:2], tmp_path / "out.zarr",
                     preprocessing=make_deepecg_preprocessing(500, normalize="record"),
                     progress=False)
    assert report.n_converted == 2 and ECGDataset(tmp_path / "out.zarr").shape == (2, 12, 2500)
