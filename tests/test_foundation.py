"""Tests for ecgsk.leads, ecgsk.labels and ecgsk._validation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import ecgsk
from ecgsk._validation import check_ecg, check_frequency, check_sfreq
from ecgsk.labels import (
    DEEPECG_CATEGORIES,
    DEEPECG_LABELS,
    PTBXL_SCP_STATEMENTS,
    SCP_TO_DEEPECG,
    UNMAPPED_SCP,
    label_categories,
    scp_to_deepecg,
)
from ecgsk.leads import canonical_lead_name, canonical_lead_names, derive_limb_leads


def test_version_is_exposed():
    assert isinstance(ecgsk.__version__, str) and ecgsk.__version__[0].isdigit()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("AVR", "aVR"), ("avl", "aVL"), ("aVF", "aVF"), ("v1", "V1"), ("MLII", "II"), (" I ", "I"), ("C6", "V6")],
)
def test_canonical_lead_names(raw, expected):
    assert canonical_lead_name(raw) == expected


def test_unknown_lead_names_pass_through_and_duplicates_fail():
    assert canonical_lead_name("V5R") == "V5R"
    with pytest.raises(ValueError, match="repeat"):
        canonical_lead_names(["II", "ii"])
    with pytest.raises(TypeError, match="strings"):
        canonical_lead_name(3)


def test_derived_limb_leads_follow_einthoven_and_goldberger(rng):
    lead_i, lead_ii = rng.normal(size=(2, 4, 1000)).astype(np.float32)
    d = derive_limb_leads(lead_i, lead_ii)
    np.testing.assert_array_equal(d["III"], lead_ii - lead_i)  # Einthoven: I + III = II
    np.testing.assert_allclose(d["aVR"] + d["aVL"] + d["aVF"], 0, atol=1e-6)  # Goldberger sum is zero
    assert all(v.dtype == np.float32 for v in d.values())
    with pytest.raises(ValueError, match="same shape"):
        derive_limb_leads(lead_i, lead_ii[:, :10])


def test_deepecg_labels_match_release():
    assert len(DEEPECG_LABELS) == 77 == len(set(DEEPECG_LABELS))
    assert DEEPECG_LABELS[:3] == ("Sinusal", "Regular", "Monomorph")
    assert DEEPECG_LABELS[-1] == "no_qrs"
    sizes = {k: len(v) for k, v in DEEPECG_CATEGORIES.items()}
    assert list(sizes.values()) == [17, 18, 5, 1, 14, 23]
    members = [label for group in DEEPECG_CATEGORIES.values() for label in group]
    assert len(members) == 78 and set(members) == set(DEEPECG_LABELS)
    assert label_categories("ST depression (anterior - V3-V4)") == ("Infarction or ischemia", "Other diagnoses")
    with pytest.raises(ValueError, match="not one of the 77"):
        label_categories("Normal")


def test_scp_mapping_is_consistent():
    assert len(PTBXL_SCP_STATEMENTS) == 71
    assert set(SCP_TO_DEEPECG) | set(UNMAPPED_SCP) == set(PTBXL_SCP_STATEMENTS)
    assert all(t in DEEPECG_LABELS for targets in SCP_TO_DEEPECG.values() for t in targets)
    for code, label in [("AFIB", "Afib"), ("CLBBB", "Left bundle branch block"),
                        ("1AVB", "1st degree AV block"), ("LVH", "Left ventricular hypertrophy")]:
        assert label in SCP_TO_DEEPECG[code]


def test_scp_to_deepecg_reports_unmapped(ptbxl_subset_dir):
    import ast

    db = pd.read_csv(ptbxl_subset_dir / "ptbxl_database.csv", index_col="ecg_id")
    codes = db["scp_codes"].map(ast.literal_eval)
    y, unmapped = scp_to_deepecg(codes, index=db.index)
    assert y.shape == (200, 77) and list(y.columns) == list(DEEPECG_LABELS)
    n_sinus = sum(any(c in ("SR", "SARRH", "STACH", "SBRAD") for c in d) for d in codes)
    assert y["Sinusal"].sum() == n_sinus
    assert unmapped["NORM"] == sum("NORM" in d for d in codes)
    assert set(unmapped) <= set(UNMAPPED_SCP)


def test_check_ecg_accepts_and_converts():
    out = check_ecg(np.zeros((2, 12, 50), dtype=np.int16))
    assert out.dtype == np.float32 and out.flags.c_contiguous


@pytest.mark.parametrize(
    ("bad", "kwargs", "error", "match"),
    [
        (np.zeros((12, 50)), {}, ValueError, "3-D"),
        (np.zeros((0, 12, 50)), {}, ValueError, "empty"),
        (np.zeros((1, 12, 50)), {"n_leads": 8}, ValueError, "12 leads, expected 8"),
        (np.zeros((1, 12, 50)), {"n_times": 60}, ValueError, "50 samples"),
        (np.zeros((1, 12, 5)), {"min_times": 10}, ValueError, "too short"),
        (np.full((1, 12, 5), np.nan), {}, ValueError, "NaN"),
        (np.full((1, 12, 5), np.inf), {}, ValueError, "inf"),
        (np.array([[["a"]]]), {}, TypeError, "real numbers"),
        (pd.DataFrame(np.zeros((2, 2))), {}, TypeError, "numeric array"),
    ],
)
def test_check_ecg_errors(bad, kwargs, error, match):
    with pytest.raises(error, match=match):
        check_ecg(bad, **kwargs)


def test_check_sfreq_and_frequency():
    assert check_sfreq(250) == 250.0
    for bad in (0, -1, float("nan")):
        with pytest.raises(ValueError, match="positive"):
            check_sfreq(bad)
    with pytest.raises(TypeError):
        check_sfreq("500")
    with pytest.raises(ValueError, match="Nyquist"):
        check_frequency(250, 500, "high")
    with pytest.raises(ValueError, match="positive"):
        check_frequency(0, 500, "low")
