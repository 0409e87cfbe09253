"""The ``ecgsk`` command end to end on a folder of real PTB-XL records with two bad files."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.metrics import f1_score, roc_auc_score

from ecgsk import ECGClassifier, ECGRegressor
from ecgsk.cli import main
from ecgsk.datasets import load_ptbxl_sample
from ecgsk.estimators import save_encoder
from ecgsk.io import read_records
from ecgsk.nn import build_model
from ecgsk.preprocessing import make_deepecg_preprocessing

QUIET = {"progress_bar": False, "verbose": 0}
GOOD = [f"{k:05d}_hr" for k in range(1, 11)]  # PTB-XL ecg_id 1-10, 500 Hz, 10 s
COMMANDS = ("preprocess", "predict", "embed", "evaluate")


BAD = {  # record id -> what the failure reason says
    "00000_corrupt": "checksum mismatch",  # sorts first: the dataset's first record is bad
    "00005_corrupt": "checksum mismatch",  # only found when its samples are read
    "00011_hr": "truncated",
    "notes": "not a GE MUSE",
}


def _corrupt_copy(source, folder, name):
    """A record whose .dat has the right size but damaged samples (its checksums fail)."""
    data = bytearray((source / "00012_hr.dat").read_bytes())
    data[2000:2400] = bytes(range(200)) * 2
    (folder / f"{name}.dat").write_bytes(bytes(data))
    header = (source / "00012_hr.hea").read_text().replace("00012_hr", name)
    (folder / f"{name}.hea").write_text(header)


@pytest.fixture(scope="module")
def cohort(tmp_path_factory, ptbxl_subset_dir):
    """10 real WFDB records, two with corrupt samples, one whose .dat is truncated, and a
    file that is no ECG."""
    folder = tmp_path_factory.mktemp("cohort")
    source = ptbxl_subset_dir / "records500" / "00000"
    for record in GOOD:
        for suffix in (".hea", ".dat"):
            shutil.copy(source / f"{record}{suffix}", folder)
    shutil.copy(source / "00011_hr.hea", folder)
    (folder / "00011_hr.dat").write_bytes((source / "00011_hr.dat").read_bytes()[:40000])
    _corrupt_copy(source, folder, "00000_corrupt")
    _corrupt_copy(source, folder, "00005_corrupt")
    (folder / "notes.xml").write_text("<notes>ward round at 9, not an ECG</notes>")
    return folder


@pytest.fixture(scope="module")
def network_input(cohort):
    """What the model sees for the 10 good records, computed without the CLI."""
    rec = read_records([cohort / f"{r}.hea" for r in GOOD])
    assert list(rec.meta["record_id"]) == GOOD
    # the amplitude gain is the one learned on the models' training records (see `classifier`)
    pipe = make_deepecg_preprocessing(rec.sfreq, input_leads=rec.leads)
    return pipe.fit(load_ptbxl_sample().signals[:64]).transform(rec.signals)


@pytest.fixture(scope="module")
def folder_input(cohort):
    """The network input that --deepecg makes: the gain learned on the folder's own records."""
    rec = read_records([cohort / f"{r}.hea" for r in GOOD])
    return make_deepecg_preprocessing(rec.sfreq, input_leads=rec.leads).fit_transform(rec.signals)


@pytest.fixture(scope="module")
def sample():
    return load_ptbxl_sample()


@pytest.fixture(scope="module")
def classifier(sample, tmp_path_factory):
    """A tiny classifier trained on the bundled sample, saved with its preprocessing."""
    pipe = make_deepecg_preprocessing(sample.sfreq)
    X = pipe.fit_transform(sample.signals[:64])
    est = ECGClassifier("xresnet1d50-tiny", max_epochs=1, batch_size=32, random_state=0,
                        **QUIET).fit(X, sample.labels.iloc[:64])
    folder = est.save(tmp_path_factory.mktemp("models") / "clf", sfreq=250, leads=sample.leads,
                      preprocessing=pipe)
    return est, folder


@pytest.fixture(scope="module")
def encoder(tmp_path_factory):
    """A (randomly initialised) encoder saved as ECGPretrainer.save does, and its folder."""
    torch.manual_seed(0)
    module = build_model("deepecg-ssl-tiny", n_times=1250, n_outputs=1).eval()
    folder = save_encoder(module, tmp_path_factory.mktemp("enc") / "enc",
                          spec={"name": "deepecg-ssl-tiny", "kwargs": {}}, n_leads=12,
                          n_times=1250, sfreq=250)
    return module, folder


@pytest.fixture(scope="module")
def predictions(classifier, cohort, tmp_path_factory):
    """``ecgsk predict`` over the folder; returns (exit code, preds path)."""
    out = tmp_path_factory.mktemp("preds") / "preds.csv"
    code = main(["predict", str(classifier[1]), str(cohort), "--out", str(out), "--quiet",
                 "--batch-size", "4"])
    return code, out


def _read(path):
    return pd.read_csv(path, dtype={"record_id": str})


def test_every_command_has_help_with_an_example(capsys):
    assert main(["--help"]) == 0
    text = capsys.readouterr().out
    assert all(name in text for name in COMMANDS)
    for name in COMMANDS:
        assert main([name, "--help"]) == 0
        text = capsys.readouterr().out
        assert f"usage: ecgsk {name}" in text
        assert f"ecgsk {name} " in text.split("examples:")[1]


def test_python_m_ecgsk_help():
    done = subprocess.run([sys.executable, "-m", "ecgsk", "--help"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "usage: ecgsk" in done.stdout and "evaluate" in done.stdout


def test_predict_equals_predict_proba_and_reports_bad_files(classifier, network_input,
                                                           predictions):
    est, _ = classifier
    code, out = predictions
    assert code == 1  # finished, but four files failed
    preds = _read(out)
    assert list(preds["record_id"]) == GOOD
    names = list(est.classes_)
    assert list(preds.columns) == ["record_id", *[f"p_{n}" for n in names],
                                   *[f"y_{n}" for n in names]]
    expected = est.predict_proba(network_input)
    np.testing.assert_allclose(preds[[f"p_{n}" for n in names]].to_numpy(), expected, atol=1e-6)
    np.testing.assert_array_equal(preds[[f"y_{n}" for n in names]].to_numpy(),
                                  est.predict(network_input))

    failures = _read(out.with_name("preds.failures.csv"))
    assert sorted(failures["record_id"]) == sorted(BAD)
    for record_id, reason in zip(failures["record_id"], failures["reason"], strict=True):
        assert BAD[record_id] in reason


def test_reader_workers_and_failures_on_stderr(classifier, cohort, predictions, tmp_path,
                                              capsys):
    out = tmp_path / "p.csv"
    argv = ["predict", str(classifier[1]), str(cohort), "--out", str(out), "--jobs", "2"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "4 record(s) failed" in err and "00011_hr" in err and "notes.xml" in err
    assert "00005_corrupt" in err and "10 of 14 record(s)" in err
    in_workers, in_process = _read(out), _read(predictions[1])
    assert list(in_workers["record_id"]) == GOOD
    np.testing.assert_allclose(in_workers.filter(like="p_").to_numpy(),
                               in_process.filter(like="p_").to_numpy(), atol=1e-6)


def test_preprocess_store_then_predict_embed_and_resume(classifier, encoder, cohort,
                                                        folder_input, tmp_path, capsys):
    store = tmp_path / "cohort.zarr"
    assert main(["preprocess", str(cohort), str(store), "--deepecg", "--quiet"]) == 1
    captured = capsys.readouterr()
    assert "converted 10, failed 4, skipped 0" in captured.out
    assert str(store / "failures.csv") in captured.out
    assert len(pd.read_csv(store / "failures.csv")) == len(BAD)

    out = tmp_path / "preds.csv"
    assert main(["predict", str(classifier[1]), str(store), "--out", str(out), "--quiet"]) == 0
    from_store = _read(out)
    assert list(from_store["record_id"]) == GOOD
    # --deepecg learned its amplitude gain on the folder (not the model's training records)
    np.testing.assert_allclose(from_store.filter(like="p_").to_numpy(),
                               classifier[0].predict_proba(folder_input), atol=1e-6)
    assert not out.with_name("preds.failures.csv").exists()

    # the store is not preprocessed a second time, for an encoder with --deepecg either
    emb_store, emb_folder = tmp_path / "store.npy", tmp_path / "folder.npy"
    for source, target in ((store, emb_store), (cohort, emb_folder)):
        main(["embed", str(encoder[1]), str(source), "--out", str(target), "--deepecg", "--quiet"])
    np.testing.assert_allclose(np.load(emb_store), np.load(emb_folder), atol=1e-5)

    # the same command again resumes: everything is already converted
    assert main(["preprocess", str(cohort), str(store), "--deepecg", "--quiet"]) == 1
    assert "converted 0, failed 4, skipped 10" in capsys.readouterr().out


def test_store_converted_in_python_is_not_preprocessed_again(classifier, cohort, predictions,
                                                            sample, tmp_path, capsys):
    from ecgsk.io import convert

    store = tmp_path / "python.zarr"
    pipe = make_deepecg_preprocessing(500).fit(sample.signals[:64])  # the model's gain
    report = convert([cohort / f"{r}.hea" for r in GOOD], store, preprocessing=pipe,
                     progress=False)
    assert report.n_converted == len(GOOD)
    out = tmp_path / "preds.csv"
    assert main(["predict", str(classifier[1]), str(store), "--out", str(out)]) == 0
    assert "was preprocessed when it was converted" in capsys.readouterr().err
    from_store, from_folder = _read(out), _read(predictions[1])
    assert list(from_store["record_id"]) == GOOD
    np.testing.assert_allclose(from_store.filter(like="p_").to_numpy(),
                               from_folder.filter(like="p_").to_numpy(), atol=1e-6)


def test_embed_with_encoder_folder_and_saved_model(classifier, encoder, cohort, network_input,
                                                   folder_input, tmp_path):
    encoder, enc_dir = encoder
    out = tmp_path / "emb.npy"
    assert main(["embed", str(enc_dir), str(cohort), "--out", str(out), "--deepecg",
                 "--quiet"]) == 1
    emb = np.load(out)
    with torch.inference_mode():
        expected = encoder.forward_features(torch.from_numpy(folder_input)).numpy()
    np.testing.assert_allclose(emb, expected, atol=1e-5)
    assert list(_read(tmp_path / "emb.ids.csv")["record_id"]) == GOOD
    assert sorted(_read(tmp_path / "emb.failures.csv")["record_id"]) == sorted(BAD)

    est, folder = classifier
    out_csv = tmp_path / "emb.csv"
    assert main(["embed", str(folder), str(cohort), "--out", str(out_csv), "--quiet"]) == 1
    table = _read(out_csv)
    assert list(table["record_id"]) == GOOD
    np.testing.assert_allclose(table.drop(columns="record_id").to_numpy(),
                               est.transform(network_input), atol=1e-5)


def test_embed_refuses_raw_input_for_an_encoder_without_preprocessing(encoder, cohort, tmp_path,
                                                                     capsys):
    code = main(["embed", str(encoder[1]), str(cohort), "--out", str(tmp_path / "e.npy")])
    assert code == 2
    err = capsys.readouterr().err
    assert "sampling rate 500 Hz instead of 250 Hz" in err and "--deepecg" in err
    assert "Traceback" not in err


def test_evaluate_by_sex_and_age(sample, predictions, tmp_path, capsys):
    labels = sample.labels.copy()
    labels.insert(0, "record_id", [f"{k:05d}_hr" for k in labels.index])
    labels["sex"] = sample.meta["sex"].to_numpy()
    labels["age"] = sample.meta["age"].to_numpy()
    labels_csv = tmp_path / "labels.csv"
    labels.iloc[:30].to_csv(labels_csv, index=False)  # more rows than predictions: inner join
    report_csv = tmp_path / "report.csv"
    code = main(["evaluate", str(predictions[1]), str(labels_csv), "--by", "sex,age",
                 "--out", str(report_csv), "--n-resamples", "200"])
    assert code == 0
    text = capsys.readouterr().out
    assert "10 record(s), 5 label(s)" in text and "Fairness" in text and "AUROC" in text

    report = pd.read_csv(report_csv).set_index(["level", "name"])
    preds = _read(predictions[1]).merge(labels, on="record_id")
    y, p, hit = preds["NORM"], preds["p_NORM"], preds["y_NORM"]
    assert report.loc[("label", "NORM"), "auroc"] == pytest.approx(roc_auc_score(y, p))
    assert report.loc[("label", "NORM"), "f1"] == pytest.approx(f1_score(y, hit))
    ci = report.loc[("label", "NORM"), ["auroc_ci_low", "auroc_ci_high"]]
    assert ci.iloc[0] <= report.loc[("label", "NORM"), "auroc"] <= ci.iloc[1]

    gaps = pd.read_csv(tmp_path / "report.fairness.csv")
    assert set(gaps["attribute"]) == {"sex", "age"}
    rates = pd.read_csv(tmp_path / "report.fairness_rates.csv")
    assert set(rates.loc[rates["attribute"] == "age", "group"]) <= {"<=55", "55-75", ">75"}
    by_sex = rates[(rates["attribute"] == "sex") & (rates["label"] == "NORM")]
    assert by_sex["n"].sum() == 10

    # labels that match no prediction column, or a --by column that is absent: exit 2
    labels.rename(columns={"NORM": "normal", "MI": "mi", "STTC": "sttc", "CD": "cd",
                           "HYP": "hyp"}).to_csv(labels_csv, index=False)
    assert main(["evaluate", str(predictions[1]), str(labels_csv)]) == 2
    assert "no LABELS column matches a p_<label> column" in capsys.readouterr().err
    labels.to_csv(labels_csv, index=False)
    assert main(["evaluate", str(predictions[1]), str(labels_csv), "--by", "site_name"]) == 2
    assert "LABELS has no column 'site_name'" in capsys.readouterr().err


def test_regressor_predictions(sample, cohort, network_input, tmp_path):
    pipe = make_deepecg_preprocessing(sample.sfreq).fit(sample.signals[:64])
    X = pipe.transform(sample.signals[:48])
    est = ECGRegressor("xresnet1d50-tiny", max_epochs=1, batch_size=16, random_state=0,
                       **QUIET).fit(X, sample.meta["age"].to_numpy()[:48])
    folder = est.save(tmp_path / "reg", sfreq=250, preprocessing=pipe)
    out = tmp_path / "age.csv"
    assert main(["predict", str(folder), str(cohort), "--out", str(out), "--quiet"]) == 1
    preds = _read(out)
    assert list(preds.columns) == ["record_id", "prediction"]
    np.testing.assert_allclose(preds["prediction"], est.predict(network_input), rtol=1e-6)


def test_npy_input_is_resampled_to_the_card_rate(classifier, sample, tmp_path, capsys):
    est, folder = classifier
    low = load_ptbxl_sample(sfreq=100).signals[:4]
    path = tmp_path / "ecgs.npy"
    np.save(path, low)
    out = tmp_path / "p.csv"
    assert main(["predict", str(folder), str(path), "--sfreq", "100", "--out", str(out)]) == 0
    assert "resampled from 100 Hz to 500 Hz" in capsys.readouterr().err
    assert list(_read(out)["record_id"]) == ["0", "1", "2", "3"]
    assert main(["predict", str(folder), str(path), "--out", str(out)]) == 2
    assert "give its sampling rate with --sfreq" in capsys.readouterr().err


def test_missing_model_or_input_is_a_usage_error(classifier, cohort, tmp_path, capsys):
    out = str(tmp_path / "p.csv")
    cases = [
        (["predict", str(tmp_path / "no_model"), str(cohort), "--out", out], "MODEL"),
        (["predict", str(classifier[1]), str(tmp_path / "no_input"), "--out", out], "INPUT"),
        (["embed", str(tmp_path / "no_model"), str(cohort), "--out", out], "MODEL"),
        (["preprocess", str(tmp_path / "no_input"), str(tmp_path / "s.zarr")], "INPUT"),
        (["evaluate", str(tmp_path / "no_preds.csv"), out], "PREDS"),
    ]
    for argv, name in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert f"error: {name} {tmp_path}" in err and "does not exist" in err, err
        assert "Traceback" not in err
    assert main(["predict", str(classifier[1])]) == 2  # argparse: INPUT and --out missing
    assert "required" in capsys.readouterr().err
    assert not (tmp_path / "p.csv").exists()


def test_input_that_does_not_match_a_model_without_preprocessing(classifier, cohort, tmp_path,
                                                                  capsys):
    est, _ = classifier
    bare = est.save(tmp_path / "bare", sfreq=250)  # no preprocessing in the card
    code = main(["predict", str(bare), str(cohort), "--out", str(tmp_path / "p.csv")])
    assert code == 2
    err = capsys.readouterr().err
    assert "sampling rate 500 Hz instead of 250 Hz" in err
    assert "5000 samples per lead instead of 2500" in err
    assert "records no preprocessing" in err


def test_interrupt_and_unexpected_errors_give_their_exit_codes(classifier, cohort, tmp_path,
                                                               monkeypatch, capsys):
    from ecgsk._cli import _predict

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(_predict, "run_over_input", interrupted)
    out = tmp_path / "p.csv"
    assert main(["predict", str(classifier[1]), str(cohort), "--out", str(out)]) == 130
    assert "interrupted" in capsys.readouterr().err
    assert not out.exists() and not (tmp_path / "p.csv.partial").exists()

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(_predict, "run_over_input", broken)
    assert main(["predict", str(classifier[1]), str(cohort), "--out", str(out)]) == 3
    assert "RuntimeError: boom" in capsys.readouterr().err


def test_card_preprocessing_is_rebuilt_without_running_code():
    from ecgsk.estimators._cards import preprocessing_from_data, preprocessing_to_data

    original = make_deepecg_preprocessing(
        500, input_leads=["I", "II", "V1", "V2", "V3", "V4", "V5", "V6"], bandpass=(0.5, 40),
        powerline=60, crop="start")
    for stored in (preprocessing_to_data(original), repr(original)):  # current, version-1 text
        rebuilt = preprocessing_from_data(stored)
        assert repr(rebuilt) == repr(original)
        X = load_ptbxl_sample().signals[:2][:, [0, 1, 6, 7, 8, 9, 10, 11]]
        np.testing.assert_array_equal(rebuilt.fit_transform(X), original.fit_transform(X))
    for text, match in [("__import__('os').system('true')", "only ecgsk.preprocessing"),
                        ("ECGPipeline(steps=[('a', ...)])", "truncated"),
                        ("CropOrPad(n_times=open('x'))", "only ecgsk.preprocessing"),
                        ("CropOrPad(n_times=2500).fit", "literal")]:
        with pytest.raises(ValueError, match=match):
            preprocessing_from_data(text)


# ----------------------------------------------------------------------------- issue 13, CLI
def _write_wfdb(folder, name, signal, leads, fs=500):
    import wfdb

    wfdb.wrsamp(name, fs=fs, units=["mV"] * len(leads), sig_name=list(leads),
                p_signal=np.ascontiguousarray(signal.T, dtype=np.float64), fmt=["16"] * len(leads),
                adc_gain=[1000.0] * len(leads), baseline=[0] * len(leads), write_dir=str(folder))


@pytest.fixture(scope="module")
def good_only(cohort, tmp_path_factory):
    folder = tmp_path_factory.mktemp("good")
    for record in GOOD:
        for suffix in (".hea", ".dat"):
            shutil.copy(cohort / f"{record}{suffix}", folder)
    return folder


@pytest.mark.parametrize("argv", [["--help"], ["--version"], ["predict", "--help"],
                                  ["embed", "--help"]])
def test_help_and_version_answer_without_importing_torch(argv):
    code = (f"import sys\nfrom ecgsk.cli import main\ntry:\n    main({argv!r})\n"
            "except SystemExit:\n    pass\nprint('torch' in sys.modules, 'skorch' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "False False"


def test_a_short_record_sorting_first_does_not_fail_the_others(classifier, good_only, sample,
                                                               predictions, tmp_path):
    # the card's preprocessing crops to 10 s: each record's length is judged on its own
    folder = tmp_path / "mixed"
    shutil.copytree(good_only, folder)
    _write_wfdb(folder, "00000_short", sample.signals[0][:, :1500], sample.leads)  # 3 s
    out = tmp_path / "p.csv"
    assert main(["predict", str(classifier[1]), str(folder), "--out", str(out), "--quiet"]) == 0
    preds = _read(out)
    assert list(preds["record_id"]) == ["00000_short", *GOOD]
    np.testing.assert_allclose(preds.iloc[1:].filter(like="p_").to_numpy(),
                               _read(predictions[1]).filter(like="p_").to_numpy(), atol=1e-6)


def test_records_that_do_not_reach_the_network_length_fail_one_by_one(classifier, good_only,
                                                                     sample, tmp_path):
    est, _ = classifier
    # a card preprocessing without a crop: lengths are checked after it, record by record
    from ecgsk.preprocessing import ECGPipeline, Resample

    no_crop = est.save(tmp_path / "nocrop", sfreq=250, preprocessing=ECGPipeline(
        [("resample", Resample(500, 250))]))
    folder = tmp_path / "mixed"
    shutil.copytree(good_only, folder)
    _write_wfdb(folder, "00000_short", sample.signals[0][:, :1500], sample.leads)
    out = tmp_path / "p.csv"
    assert main(["predict", str(no_crop), str(folder), "--out", str(out), "--quiet"]) == 1
    assert list(_read(out)["record_id"]) == GOOD
    failure = _read(tmp_path / "p.failures.csv")
    assert list(failure["record_id"]) == ["00000_short"]
    assert "750 samples after preprocessing" in failure["reason"][0]
    assert "--n-times" in failure["reason"][0]


def test_predict_resumes_after_an_interruption(classifier, cohort, predictions, tmp_path,
                                               monkeypatch, capsys):
    from ecgsk._cli import _loop

    real = _loop.iter_batches

    def interrupted(*args, **kwargs):
        for k, batch in enumerate(real(*args, **kwargs)):
            if k == 2:
                raise KeyboardInterrupt
            yield batch

    out = tmp_path / "preds.csv"
    argv = ["predict", str(classifier[1]), str(cohort), "--out", str(out), "--quiet",
            "--batch-size", "4"]
    monkeypatch.setattr(_loop, "iter_batches", interrupted)
    assert main(argv) == 130
    assert not out.exists() and (tmp_path / "preds.csv.partial").exists()
    progress = json.loads((tmp_path / "preds.csv.progress.json").read_text())
    assert progress["covered"] == 8
    monkeypatch.setattr(_loop, "iter_batches", real)
    capsys.readouterr()
    assert main(argv) == 1
    assert "resuming after 8 of" in capsys.readouterr().err
    resumed, whole = _read(out), _read(predictions[1])
    pd.testing.assert_frame_equal(resumed, whole, atol=1e-7)
    failures = _read(tmp_path / "preds.failures.csv")
    assert sorted(failures["record_id"]) == sorted(BAD)
    assert not (tmp_path / "preds.csv.partial").exists()
    assert not (tmp_path / "preds.csv.progress.json").exists()


def test_resuming_with_other_options_asks_for_restart(classifier, cohort, tmp_path, monkeypatch,
                                                      capsys):
    from ecgsk._cli import _loop

    real = _loop.iter_batches

    def interrupted(*args, **kwargs):
        yield next(real(*args, **kwargs))
        raise KeyboardInterrupt

    out = tmp_path / "preds.csv"
    argv = ["predict", str(classifier[1]), str(cohort), "--out", str(out), "--quiet",
            "--batch-size", "4"]
    monkeypatch.setattr(_loop, "iter_batches", interrupted)
    assert main(argv) == 130
    monkeypatch.setattr(_loop, "iter_batches", real)
    capsys.readouterr()
    assert main([*argv, "--threshold", "0.3"]) == 2
    err = capsys.readouterr().err
    assert "interrupted run with another model, input or options" in err and "--restart" in err
    assert main([*argv, "--threshold", "0.3", "--restart"]) == 1
    assert len(_read(out)) == len(GOOD)


def test_hints_name_flags_that_exist(classifier, cohort, tmp_path, capsys):
    out = tmp_path / "p.csv"
    assert main(["predict", str(classifier[1]), str(cohort), "--out", str(out), "--quiet"]) == 1
    reasons = " ".join(_read(tmp_path / "p.failures.csv")["reason"])
    assert "--no-checksum" in reasons and "verify_checksum" not in reasons
    # the flag exists and does what the hint says: the corrupt records are read
    assert main(["predict", str(classifier[1]), str(cohort), "--out", str(out), "--quiet",
                 "--no-checksum"]) == 1
    assert {"00000_corrupt", "00005_corrupt"} <= set(_read(out)["record_id"])
    assert "checksum" not in " ".join(_read(tmp_path / "p.failures.csv")["reason"])


def test_a_two_lead_record_is_scored_with_fill_missing(classifier, sample, tmp_path, capsys):
    folder = tmp_path / "holter"
    folder.mkdir()
    _write_wfdb(folder, "r100", sample.signals[0][:2], ["I", "II"])
    out = tmp_path / "p.csv"
    assert main(["predict", str(classifier[1]), str(folder), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "--fill-missing zeros" in err and "fill_missing" not in err and "Traceback" not in err
    assert main(["predict", str(classifier[1]), str(folder), "--out", str(out), "--quiet",
                 "--fill-missing", "zeros"]) == 0
    assert list(_read(out)["record_id"]) == ["r100"]


@pytest.mark.parametrize("command", ["preprocess", "embed", "predict"])
def test_an_empty_folder_is_a_usage_error(command, classifier, encoder, tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    argv = {"preprocess": ["preprocess", str(empty), str(tmp_path / "s.zarr"), "--deepecg"],
            "embed": ["embed", str(encoder[1]), str(empty), "--out", str(tmp_path / "e.npy"),
                      "--deepecg"],
            "predict": ["predict", str(classifier[1]), str(empty), "--out",
                        str(tmp_path / "p.csv")]}[command]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "holds no supported ECG file" in err and "Traceback" not in err


def test_a_yes_no_labels_column_is_a_usage_error(predictions, tmp_path, capsys):
    preds = _read(predictions[1])
    labels = pd.DataFrame({"record_id": preds["record_id"],
                           "NORM": ["yes", "no"] * (len(preds) // 2)})
    path = tmp_path / "labels.csv"
    labels.to_csv(path, index=False)
    assert main(["evaluate", str(predictions[1]), str(path)]) == 2
    err = capsys.readouterr().err
    assert "LABELS column 'NORM' must hold 0/1" in err and "Traceback" not in err


def test_predict_with_nan_weights_fails_every_record_with_exit_1(classifier, cohort, tmp_path,
                                                                 capsys):
    from safetensors.torch import load_file, save_file

    folder = tmp_path / "broken"
    shutil.copytree(classifier[1], folder)
    weights = load_file(folder / "weights.safetensors")
    first = next(k for k, v in weights.items() if v.is_floating_point())
    weights[first] = torch.full_like(weights[first], float("nan"))
    save_file(weights, folder / "weights.safetensors")
    out = tmp_path / "preds.csv"
    assert main(["predict", str(folder), str(cohort), "--out", str(out), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "NaN or infinite" in err and "Traceback" not in err
    assert len(_read(out)) == 0
    failures = _read(out.with_name("preds.failures.csv"))
    assert sorted(failures["record_id"]) == sorted(GOOD + list(BAD))
