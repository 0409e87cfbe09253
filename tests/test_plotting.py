"""Tests for ecgsk.plotting: physical scale of the ECG paper, contents of each figure."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from ecgsk.leads import STANDARD_12  # noqa: E402
from ecgsk.plotting import LAYOUT_3X4, plot_ecg  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _save_png(fig, path):
    fig.savefig(path)
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    assert len(data) > 5_000  # a blank canvas compresses far below this
    return data


def _traces(fig):
    return [ln for ln in fig.axes[0].lines if not ln.get_label().startswith("_")]


def _ecg(sfreq=250, seconds=10.0, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(int(sfreq * seconds)) / sfreq
    # Each lead a distinct amplitude so that lead/row mix-ups show up in the data checks.
    amp = (np.arange(12) + 1)[:, None] * 0.1
    return (amp * np.sin(2 * np.pi * 1.1 * t) + 0.01 * rng.standard_normal((12, t.size))).astype(
        np.float32
    )


def test_plot_ecg_3x4_layout_scale_and_labels(tmp_path):
    ecg = _ecg()
    fig = plot_ecg(ecg, sfreq=250, title="Patient 1")
    _save_png(fig, tmp_path / "ecg.png")
    traces = _traces(fig)
    assert len(traces) == 13  # 12 column segments + the rhythm strip
    labels = [ln.get_label() for ln in traces]
    assert labels[:12] == [lead for column in LAYOUT_3X4 for lead in column]
    assert labels[12] == "II"
    texts = {t.get_text() for t in fig.axes[0].texts}
    assert set(STANDARD_12) <= texts
    assert fig._suptitle.get_text() == "Patient 1"

    by_name = {ln.get_label(): ln for ln in traces[:12]}
    # Column c shows seconds [2.5c, 2.5(c+1)): 62.5 mm per column at 25 mm/s.
    for c, column in enumerate(LAYOUT_3X4):
        for lead in column:
            x, y = by_name[lead].get_data()
            lo = int(round(c * 625))
            seg = ecg[STANDARD_12.index(lead), lo : lo + len(y)]
            np.testing.assert_allclose(np.diff(x), 25.0 / 250)
            assert x[-1] - x[0] == pytest.approx((len(x) - 1) * 0.1)
            # 10 mm per mV around the row's baseline.
            baseline = y[0] - 10.0 * seg[0]
            np.testing.assert_allclose(y - baseline, 10.0 * seg, atol=1e-4)
    # Columns start 62.5 mm apart and rows of a column share their x positions.
    starts = [by_name[col[0]].get_xdata()[0] for col in LAYOUT_3X4]
    np.testing.assert_allclose(np.diff(starts), 62.5)
    rhythm_x = traces[12].get_xdata()
    assert rhythm_x[-1] - rhythm_x[0] == pytest.approx(2499 * 0.1)


def test_plot_ecg_grid_is_1mm_and_5mm():
    fig = plot_ecg(_ecg(), sfreq=250)
    ax = fig.axes[0]
    grids = {c.get_gid(): c for c in ax.collections}
    minor = grids["ecg-grid-minor"].get_segments()
    major = grids["ecg-grid-major"].get_segments()
    minor_x = sorted({seg[0][0] for seg in minor if seg[0][0] == seg[1][0]})
    major_x = sorted({seg[0][0] for seg in major if seg[0][0] == seg[1][0]})
    np.testing.assert_allclose(np.diff(minor_x), 1.0)
    np.testing.assert_allclose(np.diff(major_x), 5.0)
    assert ax.get_aspect() == 1.0
    # True physical size: the axes width in inches equals the paper width in mm / 25.4.
    width_in = ax.get_position().width * fig.get_figwidth()
    assert width_in == pytest.approx(ax.get_xlim()[1] / 25.4)


def test_plot_ecg_calibration_pulse_is_one_millivolt():
    fig = plot_ecg(_ecg(), sfreq=250)
    pulses = [ln for ln in fig.axes[0].lines if ln.get_label() == "_calibration"]
    assert len(pulses) == 4
    for p in pulses:
        y = p.get_ydata()
        assert y.max() - y.min() == pytest.approx(10.0)
        assert np.ptp(p.get_xdata()[2:4]) == pytest.approx(5.0)  # 200 ms at 25 mm/s
    assert not any(ln.get_label() == "_calibration"
                   for ln in plot_ecg(_ecg(), 250, calibration=False).axes[0].lines)


def test_plot_ecg_12x1_and_batch_of_one(tmp_path):
    ecg = _ecg(sfreq=500, seconds=4.0)
    fig = plot_ecg(ecg[np.newaxis], sfreq=500, layout="12x1")
    _save_png(fig, tmp_path / "ecg12.png")
    traces = _traces(fig)
    assert [ln.get_label() for ln in traces] == list(STANDARD_12)
    baselines = [ln.get_ydata()[0] - 10.0 * ecg[i, 0] for i, ln in enumerate(traces)]
    np.testing.assert_allclose(np.diff(baselines), -20.0, atol=1e-4)
    assert traces[0].get_xdata()[-1] - traces[0].get_xdata()[0] == pytest.approx(1999 / 500 * 25)


def test_plot_ecg_reorders_by_lead_names_and_draws_into_given_axes():
    ecg = _ecg()
    order = list(reversed(STANDARD_12))
    fig, ax = plt.subplots()
    out = plot_ecg(ecg[::-1], sfreq=250, leads=[n.upper() for n in order], ax=ax,
                   rhythm_lead="v1")
    assert out is fig
    traces = [ln for ln in ax.lines if not ln.get_label().startswith("_")]
    v1 = [ln for ln in traces if ln.get_label() == "V1"]
    assert len(v1) == 2  # in its column and as the rhythm strip
    rhythm = v1[1].get_ydata()
    np.testing.assert_allclose(rhythm - rhythm[0], 10.0 * (ecg[6] - ecg[6, 0]), atol=1e-4)


def test_plot_ecg_window_and_no_rhythm():
    fig = plot_ecg(_ecg(seconds=20.0), sfreq=250, start=5.0, duration=8.0, rhythm_lead=None)
    traces = _traces(fig)
    assert len(traces) == 12
    total = sum(len(ln.get_xdata()) for ln in traces[::3])
    assert total == 2000 + 3  # 8 s at 250 Hz, columns overlap by one joining sample


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"signals_mv": np.zeros((2, 12, 100))}, "one ECG"),
        ({"signals_mv": np.zeros(100)}, "n_leads, n_times"),
        ({"signals_mv": np.zeros((11, 100))}, "rows"),
        ({"signals_mv": np.zeros((12, 100)), "layout": "6x2"}, "layout"),
        ({"signals_mv": np.zeros((12, 100)), "rhythm_lead": "V7"}, "rhythm_lead"),
        ({"signals_mv": np.zeros((12, 100)), "start": 50.0}, "outside"),
        ({"signals_mv": np.full((12, 100), np.inf)}, "inf"),
    ],
)
def test_plot_ecg_errors(kwargs, message):
    if kwargs["signals_mv"].shape[0] == 11:
        kwargs["leads"] = STANDARD_12
    with pytest.raises(ValueError, match=message):
        plot_ecg(sfreq=250, **kwargs)


def test_plot_ecg_3x4_needs_standard_leads_but_12x1_does_not():
    with pytest.raises(ValueError, match="missing"):
        plot_ecg(np.zeros((2, 500)), 250, leads=["I", "II"])
    fig = plot_ecg(np.zeros((2, 500)), 250, leads=["I", "II"], layout="12x1")
    assert len(_traces(fig)) == 2
    with pytest.raises(TypeError):
        plot_ecg(np.array([["a"] * 5] * 12), 250)
    with pytest.raises(ValueError):
        plot_ecg(np.zeros((12, 500)), sfreq=-1)


# --- evaluation plots ------------------------------------------------------------------------

from sklearn.metrics import roc_auc_score  # noqa: E402

from ecgsk.metrics import age_bins, classification_report, fairness_report  # noqa: E402
from ecgsk.plotting import (  # noqa: E402
    plot_calibration,
    plot_fairness,
    plot_label_efficiency,
    plot_pr,
    plot_roc,
)

NAMES = ["A", "B", "C", "D"]
CATS = {"AB": ["A", "B"], "CD": ["C", "D"]}


def _scores(seed=0, n=400):
    rng = np.random.default_rng(seed)
    y = rng.random((n, 4)) < [0.3, 0.1, 0.2, 0.4]
    s = 1 / (1 + np.exp(-(2 * y - 1 + rng.normal(0, 1.2, y.shape))))
    return y, s


def _curve_lines(fig):
    return [ln for ln in fig.axes[0].lines if not ln.get_label().startswith("_")]


def test_plot_roc_by_category_with_bands(tmp_path):
    y, s = _scores()
    fig = plot_roc(y, s, labels=NAMES, categories=CATS, n_resamples=50, random_state=0)
    _save_png(fig, tmp_path / "roc.png")
    ax = fig.axes[0]
    lines = _curve_lines(fig)
    assert len(lines) == 2 and len(ax.collections) == 2  # one band per curve
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[0].startswith("AB (AUROC ")
    # The legend's AUROC is the category's macro AUROC, as in classification_report.
    report = classification_report(y, s, labels=NAMES, categories=CATS, n_resamples=0)
    assert f"{report.loc[('macro', 'AB'), 'auroc']:.3f}" in legend[0]
    x, tpr = lines[0].get_data()
    assert x[0] == 0.0 and x[-1] == 1.0 and np.all(np.diff(tpr) >= 0)
    assert "False-positive" in ax.get_xlabel()


def test_plot_roc_by_label_curve_area_matches_auroc(tmp_path):
    y, s = _scores(n=3000)
    fig = plot_roc(y, s, labels=NAMES, by="label", n_resamples=0)
    for j, line in enumerate(_curve_lines(fig)):
        fpr, tpr = line.get_data()
        # The 101-point curve integrates to the AUROC up to the grid's resolution.
        area = np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2)
        assert area == pytest.approx(roc_auc_score(y[:, j], s[:, j]), abs=0.01)
    assert len(fig.axes[0].collections) == 0


def test_plot_pr_and_max_curves(tmp_path):
    y, s = _scores()
    fig = plot_pr(y, s, labels=NAMES, by="label", n_resamples=20, random_state=1, max_curves=3)
    _save_png(fig, tmp_path / "pr.png")
    lines = _curve_lines(fig)
    assert len(lines) == 3
    recall, precision = lines[0].get_data()
    assert np.all(np.diff(precision) <= 1e-12)  # interpolated precision never increases
    assert fig.axes[0].get_ylabel().startswith("Precision")


def test_curve_plot_errors():
    y, s = _scores()
    with pytest.raises(ValueError, match="by"):
        plot_roc(y, s, labels=NAMES, by="patient")
    with pytest.raises(ValueError, match="no category"):
        plot_roc(y, s, labels=NAMES, categories={"X": ["Z"]})
    with pytest.raises(ValueError, match="NaN"):
        plot_pr(y, np.full(y.shape, np.nan), labels=NAMES)


def test_plot_label_efficiency(tmp_path):
    table = pd.DataFrame({
        "model": ["SSL"] * 4 + ["SL"] * 4,
        "fraction": [0.01, 0.1, 0.5, 1.0] * 2,
        "auroc": [0.80, 0.88, 0.91, 0.92, 0.70, 0.84, 0.90, 0.91],
    })
    table["auroc_ci_low"] = table["auroc"] - 0.02
    table["auroc_ci_high"] = table["auroc"] + 0.02
    fig = plot_label_efficiency(table.sample(frac=1.0, random_state=0))
    _save_png(fig, tmp_path / "eff.png")
    ax = fig.axes[0]
    assert sorted(ln.get_label() for ln in ax.lines) == ["SL", "SSL"]
    for line in ax.lines:
        assert np.all(np.diff(line.get_xdata()) > 0)  # sorted by amount
    assert ax.get_xscale() == "log" and len(ax.collections) == 2
    with pytest.raises(ValueError, match="lacks"):
        plot_label_efficiency(table, y="f1")
    with pytest.raises(TypeError):
        plot_label_efficiency(table.to_dict())


def _fairness():
    rng = np.random.default_rng(0)
    n = 400
    y = rng.random((n, 2)) < 0.4
    s = y + rng.normal(0, 0.6, y.shape)
    groups = pd.DataFrame({"sex": rng.choice(["F", "M"], n),
                           "age": age_bins(rng.uniform(20, 95, n))})
    return fairness_report(y, s, groups, n_resamples=50, random_state=0, labels=["X", "Y"])


def test_plot_fairness_per_label_and_summary(tmp_path):
    report = _fairness()
    fig = plot_fairness(report, label="X")
    _save_png(fig, tmp_path / "fair.png")
    sex_ax, age_ax = fig.axes
    assert len(sex_ax.patches) == 4 and len(age_ax.patches) == 6  # TPR and FPR per group
    assert [t.get_text() for t in age_ax.get_xticklabels()] == ["<=55", "55-75", ">75"]
    tpr_bars = [p.get_height() for p in sex_ax.patches[:2]]
    np.testing.assert_allclose(tpr_bars, report.rates.xs(("sex", "X"),
                                                         level=("attribute", "label"))["tpr"])
    assert "TPR gap" in sex_ax.get_title()
    summary = plot_fairness(report)
    assert len(summary.axes) == 1 and len(summary.axes[0].patches) == 4
    with pytest.raises(ValueError, match="not in the report"):
        plot_fairness(report, label="nope")
    with pytest.raises(TypeError):
        plot_fairness(report.gaps)


def test_plot_calibration(tmp_path):
    rng = np.random.default_rng(0)
    p = rng.random((5000, 3))
    y = rng.random((5000, 3)) < p
    fig = plot_calibration(y, p, labels=["a", "b", "c"], max_labels=2)
    _save_png(fig, tmp_path / "cal.png")
    lines = _curve_lines(fig)
    assert [ln.get_label()[:1] for ln in lines] == ["a", "b"]
    assert "ECE" in lines[0].get_label()
    x, frac = lines[0].get_data()
    assert np.abs(np.asarray(frac) - np.asarray(x)).max() < 0.06  # calibrated by construction
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        plot_calibration(y, p * 2)


def test_plot_ecg_draws_nan_as_gaps():
    ecg = _ecg()
    ecg[1, 100:200] = np.nan
    fig = plot_ecg(ecg, sfreq=250, layout="12x1")
    y = _traces(fig)[1].get_ydata()
    assert np.isnan(y[100:200]).all() and np.isfinite(y[:100]).all()
