"""Label-efficiency, fairness and calibration plots."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..metrics._calibration import expected_calibration_error, reliability_curve
from ..metrics._fairness import FairnessReport


def plot_label_efficiency(table, x="fraction", y="auroc", hue="model", ax=None, logx=True,
                          title=None):
    """Performance against the amount of labelled training data, one line per model.

    The DeepECG paper's label-efficiency figure: how AUROC (or any metric)
    grows with the fraction (or number) of labelled ECGs used for
    fine-tuning, for example SSL against SL. Interval bands are drawn when the
    table has ``<y>_ci_low`` and ``<y>_ci_high`` columns (as produced by
    :func:`ecgsk.metrics.classification_report`).

    Parameters
    ----------
    table : DataFrame
        One row per (model, amount): columns ``x``, ``y``, ``hue`` and
        optionally ``<y>_ci_low``/``<y>_ci_high``.
    x : str, default="fraction"
        Column with the amount of labelled data.
    y : str, default="auroc"
        Column with the metric.
    hue : str or None, default="model"
        Column naming the model of each row; None for a single line.
    ax : matplotlib Axes, optional
        Axes to draw into.
    logx : bool, default=True
        Logarithmic x axis (fractions such as 1%, 10%, 100%).
    title : str, optional
        Axes title.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> table = pd.DataFrame({"model": ["SSL"] * 3 + ["SL"] * 3,
    ...                       "fraction": [0.01, 0.1, 1.0] * 2,
    ...                       "auroc": [0.80, 0.88, 0.92, 0.70, 0.84, 0.91]})
    >>> fig = plot_label_efficiency(table)
    >>> [ln.get_label() for ln in fig.axes[0].lines]
    ['SSL', 'SL']
    """
    import matplotlib.pyplot as plt

    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"table must be a pandas DataFrame, got {type(table).__name__}")
    needed = [c for c in (x, y) + ((hue,) if hue is not None else ()) if c not in table]
    if needed:
        raise ValueError(f"table lacks the columns {needed}; it has {list(table.columns)}")
    if table.empty:
        raise ValueError("table is empty")
    if logx and (table[x] <= 0).any():
        raise ValueError(f"column {x!r} must be positive for a logarithmic axis (logx=True)")
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.0, 4.0))
    else:
        fig = ax.figure
    groups = table.groupby(hue, sort=False) if hue is not None else [(y, table)]
    low, high = f"{y}_ci_low", f"{y}_ci_high"
    for name, part in groups:
        part = part.sort_values(x)
        (line,) = ax.plot(part[x].to_numpy(), part[y].to_numpy(), marker="o", label=str(name))
        if low in part and high in part:
            ax.fill_between(part[x].to_numpy(dtype=float), part[low].to_numpy(dtype=float),
                            part[high].to_numpy(dtype=float), color=line.get_color(),
                            alpha=0.2, linewidth=0)
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel(x.replace("_", " "))
    ax.set_ylabel(y.upper() if y in ("auroc", "auprc") else y.replace("_", " "))
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title if title is not None else "Label efficiency", fontsize=10)
    return fig


def plot_fairness(report: FairnessReport, label=None, title=None):
    """True- and false-positive rates per group, or the gaps, with intervals.

    With one label (or ``label`` given), one panel per attribute shows TPR
    and FPR in each group with their bootstrap intervals and the gap in the
    panel title. With several labels and no ``label``, a single panel shows
    the mean TPR and FPR gaps over labels for each attribute.

    Parameters
    ----------
    report : FairnessReport
        From :func:`ecgsk.metrics.fairness_report`.
    label : str, optional
        The label to show per group.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from ecgsk.metrics import fairness_report
    >>> y = np.array([1, 1, 0, 0, 1, 1, 0, 0])
    >>> pred = np.array([1, 0, 0, 1, 1, 1, 0, 0])
    >>> rep = fairness_report(y, pred, np.array(["F"] * 4 + ["M"] * 4), n_resamples=0)
    >>> fig = plot_fairness(rep)
    >>> len(fig.axes[0].patches)
    4
    """
    import matplotlib.pyplot as plt

    if not isinstance(report, FairnessReport):
        raise TypeError("report must be a FairnessReport from ecgsk.metrics.fairness_report")
    rates = report.rates
    labels = list(dict.fromkeys(rates.index.get_level_values("label")))
    attributes = list(dict.fromkeys(rates.index.get_level_values("attribute")))
    if label is None and len(labels) == 1:
        label = labels[0]

    if label is None:
        gaps = report.gaps.xs("All labels", level="label")
        fig, ax = plt.subplots(figsize=(1.5 + 1.6 * len(attributes), 3.5))
        xpos = np.arange(len(attributes))
        for k, key in enumerate(("tpr_gap", "fpr_gap")):
            values = gaps[key].to_numpy(dtype=float)
            err = _error_bars(values, gaps[f"{key}_ci_low"], gaps[f"{key}_ci_high"])
            ax.bar(xpos + (k - 0.5) * 0.38, values, width=0.38, yerr=err, capsize=3,
                   label=key.replace("_", " ").upper().replace(" GAP", " gap"))
        ax.set_xticks(xpos, attributes)
        ax.set_ylabel("Mean absolute pairwise difference")
        ax.legend(fontsize=8)
        fig.suptitle(title if title is not None else
                     f"Fairness gaps, mean over {len(labels)} labels", fontsize=10)
        fig.tight_layout()
        return fig

    if label not in labels:
        raise ValueError(f"label {label!r} is not in the report; it has {labels[:5]}...")
    fig, axes = plt.subplots(1, len(attributes), figsize=(1.0 + 3.0 * len(attributes), 3.5),
                             squeeze=False)
    for ax, attribute in zip(axes[0], attributes, strict=True):
        part = rates.xs((attribute, label), level=("attribute", "label"))
        xpos = np.arange(len(part))
        for k, key in enumerate(("tpr", "fpr")):
            values = part[key].to_numpy(dtype=float)
            err = _error_bars(values, part[f"{key}_ci_low"], part[f"{key}_ci_high"])
            ax.bar(xpos + (k - 0.5) * 0.38, values, width=0.38, yerr=err, capsize=3,
                   label=key.upper())
        ax.set_xticks(xpos, [str(g) for g in part.index])
        ax.set_ylim(0.0, 1.05)
        gap = report.gaps.loc[(attribute, label)]
        ax.set_title(f"{attribute}: TPR gap {gap['tpr_gap']:.3f}, FPR gap {gap['fpr_gap']:.3f}",
                     fontsize=9)
        ax.legend(fontsize=8)
    axes[0][0].set_ylabel("Rate")
    fig.suptitle(title if title is not None else str(label), fontsize=10)
    fig.tight_layout()
    return fig


def _error_bars(values, low, high):
    low = np.asarray(low, dtype=float)
    high = np.asarray(high, dtype=float)
    if not np.isfinite(low).any():
        return None
    return np.vstack([np.clip(values - low, 0, None), np.clip(high - values, 0, None)])


def plot_calibration(y_true, y_prob, labels=None, n_bins=10, strategy="uniform", ax=None,
                     max_labels=10, title=None):
    """Reliability diagram: observed frequency against predicted probability, per label.

    Parameters
    ----------
    y_true : array-like or DataFrame of shape (n_ecgs,) or (n_ecgs, n_labels)
        Binary ground truth.
    y_prob : array-like or DataFrame of the same shape
        Predicted probabilities in [0, 1].
    labels : sequence of str, optional
        Label names or DataFrame columns to use.
    n_bins : int, default=10
        Number of bins.
    strategy : {"uniform", "quantile"}, default="uniform"
        Binning strategy.
    ax : matplotlib Axes, optional
        Axes to draw into.
    max_labels : int or None, default=10
        Draw at most this many labels (the first ones).
    title : str, optional
        Axes title.

    Returns
    -------
    matplotlib.figure.Figure
        Legend entries give each label's expected calibration error.

    Examples
    --------
    >>> import numpy as np
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> rng = np.random.default_rng(0)
    >>> p = rng.random((500, 2)); y = rng.random((500, 2)) < p
    >>> fig = plot_calibration(y, p, labels=["A", "B"])
    >>> [ln.get_label()[:1] for ln in fig.axes[0].lines if not ln.get_label().startswith("_")]
    ['A', 'B']
    """
    import matplotlib.pyplot as plt

    curve = reliability_curve(y_true, y_prob, n_bins=n_bins, strategy=strategy, labels=labels)
    ece = expected_calibration_error(y_true, y_prob, n_bins=n_bins, strategy=strategy,
                                     labels=labels)
    names = list(dict.fromkeys(curve["label"]))
    ece = dict(zip(names, np.atleast_1d(ece), strict=True))
    if max_labels is not None:
        names = names[:max_labels]
    if ax is None:
        fig, ax = plt.subplots(figsize=(5.5, 5.5))
    else:
        fig = ax.figure
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=0.8, label="_perfect")
    for name in names:
        part = curve[curve["label"] == name]
        ax.plot(part["mean_predicted"], part["fraction_positive"], marker="o", markersize=3,
                label=f"{name} (ECE {ece[name]:.3f})")
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(0.0, 1.0)
    ax.set_aspect("equal")
    ax.set_xlabel("Mean predicted probability")
    ax.set_ylabel("Observed frequency")
    ax.legend(fontsize=7, loc="upper left")
    ax.set_title(title if title is not None else "Calibration", fontsize=10)
    return fig
