"""ROC and precision-recall curves per label or per category, with bootstrap bands."""

from __future__ import annotations

import numpy as np

from ..labels import DEEPECG_CATEGORIES
from ..metrics._checks import check_targets
from ..metrics._ranking import as_weights, ranking_scores
from ..metrics._report import _resolve_categories
from ..metrics._resampling import check_resampling, percentile_interval, resample_counts

GRID = np.linspace(0.0, 1.0, 101)
"""False-positive rates (ROC) and recalls (PR) at which curves are averaged and banded."""


def _curves_one_label(y: np.ndarray, s: np.ndarray, weights: np.ndarray, kind: str):
    """TPR at GRID false-positive rates (ROC) or interpolated precision at GRID recalls (PR).

    Returns an array (n_resamples, len(GRID)); NaN rows where the label has a single class.
    """
    order = np.argsort(-s, kind="stable")
    s_sorted = s[order]
    last = np.r_[np.flatnonzero(np.diff(s_sorted) != 0), s_sorted.size - 1]
    w = weights[order].astype(np.float64)
    y_sorted = y[order]
    tp = np.cumsum(w * y_sorted[:, None], axis=0)[last]  # (n_thresholds, R)
    fp = np.cumsum(w * ~y_sorted[:, None], axis=0)[last]
    n_pos, n_neg = tp[-1], fp[-1]
    out = np.full((weights.shape[1], GRID.size), np.nan)
    for r in range(weights.shape[1]):  # np.interp is 1-D; the rows are cheap
        if n_pos[r] == 0 or n_neg[r] == 0:
            continue
        tpr = np.r_[0.0, tp[:, r] / n_pos[r]]
        fpr = np.r_[0.0, fp[:, r] / n_neg[r]]
        if kind == "roc":
            out[r] = np.interp(GRID, fpr, tpr)
        else:
            with np.errstate(invalid="ignore", divide="ignore"):
                precision = tp[:, r] / (tp[:, r] + fp[:, r])
            recall = tpr[1:]
            # Interpolated precision: the best precision at this recall or beyond.
            best = np.maximum.accumulate(np.nan_to_num(precision[::-1]))[::-1]
            idx = np.searchsorted(recall, GRID, side="left")
            out[r] = np.where(idx < recall.size, best[np.minimum(idx, recall.size - 1)], 0.0)
    return out


def _plot_curves(kind, y_true, y_score, labels, categories, by, ci, n_resamples,
                 random_state, ax, title, max_curves):
    import matplotlib.pyplot as plt

    if by not in ("category", "label"):
        raise ValueError(f"by must be 'category' or 'label', got {by!r}")
    if n_resamples:
        check_resampling(n_resamples, "bootstrap", 0.5, ci)
    y, s, names, _ = check_targets(y_true, y_score, labels)
    n = y.shape[0]
    if by == "category":
        groups = _resolve_categories(categories, names)
        if not groups:
            raise ValueError(
                "no category has a label among the given labels; pass categories=... or by='label'"
            )
    else:
        groups = {name: [j] for j, name in enumerate(names)}
    if max_curves is not None and len(groups) > max_curves:
        groups = dict(list(groups.items())[:max_curves])
    used = sorted({j for members in groups.values() for j in members})

    weights_all = np.ones((n, 1), dtype=np.float32)
    if n_resamples:
        counts = resample_counts(n, n_resamples, "bootstrap", 0.5, None, random_state)
        weights_all = np.concatenate([weights_all, as_weights(counts, n)], axis=1)
    curves = {j: _curves_one_label(y[:, j], s[:, j], weights_all, kind) for j in used}
    which = 0 if kind == "roc" else 1
    summary = ranking_scores(y[:, used], s[:, used], weights_all)[which]  # (1 + R, n_used)
    column = {j: c for c, j in enumerate(used)}

    if ax is None:
        fig, ax = plt.subplots(figsize=(6.0, 6.0))
    else:
        fig = ax.figure
    metric_name = "AUROC" if kind == "roc" else "AUPRC"
    for name, members in groups.items():
        members = [j for j in members if np.isfinite(summary[0, column[j]])]
        if not members:
            continue
        stacked = np.stack([curves[j] for j in members])  # (labels, 1 + R, grid)
        with np.errstate(invalid="ignore"):
            mean_curve = np.nanmean(stacked, axis=0)
        value = np.nanmean(summary[:, [column[j] for j in members]], axis=1)
        label = f"{name} ({metric_name} {value[0]:.3f}"
        if n_resamples:
            lo, hi = percentile_interval(value[1:, None], ci)
            label += f" [{lo[0]:.3f}-{hi[0]:.3f}]"
        (line,) = ax.plot(GRID, mean_curve[0], label=label + ")", linewidth=1.5)
        if n_resamples:
            band_lo, band_hi = percentile_interval(mean_curve[1:], ci)
            ax.fill_between(GRID, band_lo, band_hi, color=line.get_color(), alpha=0.2,
                            linewidth=0)
    if kind == "roc":
        ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=0.8, label="_chance")
        ax.set_xlabel("False-positive rate (1 - specificity)")
        ax.set_ylabel("True-positive rate (sensitivity)")
    else:
        ax.set_xlabel("Recall (sensitivity)")
        ax.set_ylabel("Precision (PPV)")
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(0.0, 1.02)
    ax.set_aspect("equal")
    ax.legend(loc="lower right" if kind == "roc" else "lower left", fontsize=7)
    band = f", {ci:.0%} bootstrap band" if n_resamples else ""
    ax.set_title(title if title is not None else
                 f"{'ROC' if kind == 'roc' else 'Precision-recall'} by {by}{band}", fontsize=10)
    return fig


def plot_roc(y_true, y_score, labels=None, categories=DEEPECG_CATEGORIES, by="category",
             ci=0.95, n_resamples=200, random_state=None, ax=None, title=None,
             max_curves=None):
    """ROC curves per category (macro average of its labels) or per label, with CI bands.

    Each curve is the true-positive rate at 101 false-positive rates
    (linear interpolation between operating points); a category's curve is
    the mean over its labels that have both classes. Bands are pointwise
    percentile intervals over bootstrap resamples of the ECGs; the legend
    gives the (macro) AUROC and its interval, matching
    :func:`ecgsk.metrics.classification_report`.

    Parameters
    ----------
    y_true : array-like or DataFrame of shape (n_ecgs, n_labels)
        Binary ground truth.
    y_score : array-like or DataFrame of the same shape
        Scores.
    labels : sequence of str, optional
        Label names (see :func:`ecgsk.metrics.classification_report`).
    categories : mapping, default=DEEPECG_CATEGORIES
        Category name -> label names, for ``by="category"``.
    by : {"category", "label"}, default="category"
        One curve per category or per label.
    ci : float, default=0.95
        Level of the bands.
    n_resamples : int, default=200
        Bootstrap resamples for the bands; 0 for no bands.
    random_state : int, numpy Generator or None
        Seed.
    ax : matplotlib Axes, optional
        Axes to draw into.
    title : str, optional
        Axes title.
    max_curves : int, optional
        Draw at most this many curves (the first ones).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> rng = np.random.default_rng(0)
    >>> y = rng.random((300, 2)) < 0.3
    >>> fig = plot_roc(y, y + rng.normal(0, 1, y.shape), labels=["A", "B"], by="label",
    ...                n_resamples=20, random_state=0)
    >>> len([ln for ln in fig.axes[0].lines if not ln.get_label().startswith("_")])
    2
    """
    return _plot_curves("roc", y_true, y_score, labels, categories, by, ci, n_resamples,
                        random_state, ax, title, max_curves)


def plot_pr(y_true, y_score, labels=None, categories=DEEPECG_CATEGORIES, by="category",
            ci=0.95, n_resamples=200, random_state=None, ax=None, title=None, max_curves=None):
    """Precision-recall curves per category or per label, with CI bands.

    Precision is interpolated (the best precision at a recall or beyond) at
    101 recalls; otherwise as :func:`plot_roc`, with AUPRC (average
    precision) in the legend.

    Parameters
    ----------
    y_true : array-like or DataFrame of shape (n_ecgs, n_labels)
        Binary ground truth.
    y_score : array-like or DataFrame of the same shape
        Scores.
    labels : sequence of str, optional
        Label names.
    categories : mapping, default=DEEPECG_CATEGORIES
        Category name -> label names, for ``by="category"``.
    by : {"category", "label"}, default="category"
        One curve per category or per label.
    ci : float, default=0.95
        Level of the bands.
    n_resamples : int, default=200
        Bootstrap resamples for the bands; 0 for no bands.
    random_state : int, numpy Generator or None
        Seed.
    ax : matplotlib Axes, optional
        Axes to draw into.
    title : str, optional
        Axes title.
    max_curves : int, optional
        Draw at most this many curves.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> rng = np.random.default_rng(0)
    >>> y = rng.random((300, 2)) < 0.3
    >>> fig = plot_pr(y, y + rng.normal(0, 1, y.shape), labels=["A", "B"],
    ...               categories={"AB": ["A", "B"]}, n_resamples=0)
    >>> fig.axes[0].get_legend().get_texts()[0].get_text()[:10]
    'AB (AUPRC '
    """
    return _plot_curves("pr", y_true, y_score, labels, categories, by, ci, n_resamples,
                        random_state, ax, title, max_curves)
