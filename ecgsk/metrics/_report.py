"""The per-label and per-category evaluation table of the DeepECG paper, with CIs."""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..labels import DEEPECG_CATEGORIES
from ._checks import check_targets
from ._counts import THRESHOLD_METRICS, confusion_counts, rates
from ._ranking import as_weights, micro_ranking_scores, ranking_scores
from ._resampling import check_resampling, percentile_interval, resample_counts
from ._thresholds import select_thresholds

METRICS = ("auroc", "auprc", *THRESHOLD_METRICS)
"""Metric columns of :func:`classification_report` (each with ``_ci_low``/``_ci_high``)."""

ALL_LABELS = "All labels"


def _resolve_thresholds(thresholds, names, y, s) -> np.ndarray:
    n_labels = len(names)
    if thresholds is None:
        return np.full(n_labels, 0.5)
    if isinstance(thresholds, (str, tuple)):
        return np.atleast_1d(select_thresholds(y, s, method=thresholds)).astype(float)
    if isinstance(thresholds, numbers.Real) and not isinstance(thresholds, bool):
        return np.full(n_labels, float(thresholds))
    if isinstance(thresholds, (Mapping, pd.Series)):
        missing = [n for n in names if n not in thresholds]
        if missing:
            raise ValueError(f"thresholds has no value for labels {missing[:5]}")
        out = np.array([float(thresholds[n]) for n in names])
    else:
        out = np.asarray(thresholds, dtype=float).ravel()
        if out.shape != (n_labels,):
            raise ValueError(f"thresholds has {out.size} values for {n_labels} labels")
    if not np.isfinite(out).all():
        raise ValueError("thresholds must be finite")
    return out


def _resolve_categories(categories, names) -> dict[str, list[int]]:
    if categories is None:
        return {}
    if not isinstance(categories, Mapping):
        raise TypeError("categories must be a mapping from category name to label names, or None")
    position = {name: j for j, name in enumerate(names)}
    out = {}
    for category, members in categories.items():
        if isinstance(members, str):
            raise TypeError(f"category {category!r} must list label names, got a single string")
        present = [position[m] for m in members if m in position]
        if present:
            out[str(category)] = present
    return out


def _nanmean_last(values: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices are meant to give NaN
        return np.nanmean(values, axis=-1)


def _macro_row(base, members, point, dist, prevalence, ci) -> dict:
    """Each metric averaged over the labels where it is defined on the full data."""
    row = dict(base, prevalence=float(np.mean(prevalence[members])))
    for m in METRICS:
        usable = members[np.isfinite(point[m][members])]
        row[m] = float(np.mean(point[m][usable])) if usable.size else np.nan
        low = high = np.nan
        if dist is not None and usable.size:
            low, high = percentile_interval(_nanmean_last(dist[m][:, usable]), ci)
        row[f"{m}_ci_low"], row[f"{m}_ci_high"] = float(low), float(high)
    return row


def _micro_values(y, s, pred, kept, weights, confusion_r, with_ranking):
    """Point values and resample distributions of the metrics over pooled (ECG, label) pairs."""
    if not kept.size:
        return {}, {}
    point = rates(*(np.sum(a) for a in confusion_counts(y[:, kept], pred[:, kept])))
    if with_ranking:
        point["auroc"], point["auprc"] = micro_ranking_scores(y[:, kept], s[:, kept])
    dist = {}
    if weights is not None:
        dist = rates(*(a[:, kept].sum(axis=1) for a in confusion_r))
        if with_ranking:
            dist["auroc"], dist["auprc"] = micro_ranking_scores(y[:, kept], s[:, kept], weights)
    return point, dist


def _micro_row(base, kept, values, n_pos, n, ci) -> dict:
    point, dist = values
    row = dict(base, prevalence=float(n_pos[kept].sum() / (n * max(kept.size, 1))))
    for m in METRICS:
        row[m] = float(point.get(m, np.nan))
        low = high = np.nan
        if m in dist:
            low, high = percentile_interval(dist[m], ci)
        row[f"{m}_ci_low"], row[f"{m}_ci_high"] = float(low), float(high)
    return row


def classification_report(
    y_true,
    y_score,
    labels=None,
    categories=DEEPECG_CATEGORIES,
    thresholds=None,
    ci: float = 0.95,
    n_resamples: int = 1000,
    method: str = "bootstrap",
    random_state=None,
    *,
    fraction: float = 0.7,
    micro: bool = True,
) -> pd.DataFrame:
    """Per-label and per-category metrics with confidence intervals.

    For every label: AUROC, AUPRC (average precision), and F1, sensitivity,
    specificity, PPV and NPV at the label's threshold (positive when
    ``score >= threshold``), each with a resampling interval, plus
    prevalence and the number of positives. For every category, and for all
    labels together: the macro average (mean over labels) and the micro
    average (all ECG-label pairs pooled) of the same metrics.

    A label whose ``y_true`` has no positives or no negatives is reported with
    NaN AUROC/AUPRC, ``defined=False`` and the reason in ``note``; it is left
    out of the macro AUROC/AUPRC and of every micro average (``n_defined``
    counts the labels that enter them) rather than averaged in. Macro
    averages of the threshold metrics use the labels where each is defined:
    a label without predicted positives has no PPV and is left out of the
    PPV macro average. All intervals come from the same resamples of the
    ECGs, shared by all labels, so averaged intervals account for the
    correlation between labels. Resamples in which a label has a single class
    do not count for that label (``n_valid`` in ``attrs``).

    Parameters
    ----------
    y_true : array-like or DataFrame of shape (n_ecgs, n_labels) or (n_ecgs,)
        Binary ground truth; DataFrame columns are the label names.
    y_score : array-like or DataFrame of the same shape
        Scores or probabilities, finite. When ``y_true`` and ``y_score`` are
        both pandas objects their rows are matched on the index (rows in
        another order are reordered; indexes naming other rows raise);
        arrays are matched by position.
    labels : sequence of str, optional
        Label names. With DataFrames: the columns to evaluate. With arrays:
        the names of the columns (default: the 77 DeepECG labels when there are
        77 columns, else ``label_0``, ...).
    categories : mapping of str to sequence of str, or None, default=DEEPECG_CATEGORIES
        Category name -> label names. Only labels present are used; categories
        with no label present are skipped; None gives no category rows.
    thresholds : None, float, sequence, mapping, or a method, default=None
        Decision thresholds: None means 0.5 for every label; a float for all
        labels; one value per label (sequence, or mapping/Series by name); or
        a :func:`select_thresholds` method (``"youden"``, ``"f1"``,
        ``("sensitivity", 0.9)``...) chosen on this data, which is optimistic:
        prefer thresholds chosen on a validation set.
    ci : float, default=0.95
        Confidence level.
    n_resamples : int, default=1000
        Number of resamples; 0 skips the intervals.
    method : {"bootstrap", "subsample"}, default="bootstrap"
        See :func:`bootstrap_ci`; ``"subsample"`` is the paper's 70%
        subsampling without replacement.
    random_state : int, numpy Generator or None
        Seed of the resamples.
    fraction : float, default=0.7
        Subsample fraction for ``method="subsample"``.
    micro : bool, default=True
        Compute micro averages of AUROC and AUPRC (the costliest part).

    Returns
    -------
    DataFrame
        Indexed by ``(level, name)`` with ``level`` in ``"label"``, ``"macro"``
        and ``"micro"`` (``name`` a label, a category or ``"All labels"``).
        Columns: ``category``, ``n_labels``, ``n_defined``, ``positives``,
        ``prevalence``, ``threshold``, for each metric in ``auroc``, ``auprc``,
        ``f1``, ``sensitivity``, ``specificity``, ``ppv``, ``npv`` the value
        and ``<metric>_ci_low``/``<metric>_ci_high``, then ``defined`` and
        ``note``. ``attrs`` holds ``n_ecgs``, ``ci``, ``method``,
        ``n_resamples`` and ``n_valid`` (valid resamples per label for AUROC).

    Raises
    ------
    ValueError
        For mismatched shapes, pandas inputs whose indexes name different
        rows, NaN scores, non-binary targets, unknown label names or invalid
        thresholds.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = rng.random((400, 3)) < [0.3, 0.1, 0.5]
    >>> s = y + rng.normal(0, 0.8, y.shape)
    >>> report = classification_report(y, s, labels=["A", "B", "C"],
    ...                                categories={"AB": ["A", "B"]}, n_resamples=100,
    ...                                random_state=0)
    >>> report.index.tolist()[:4]
    [('label', 'A'), ('label', 'B'), ('label', 'C'), ('macro', 'AB')]
    >>> bool(report.loc[("label", "A"), "auroc_ci_low"] < report.loc[("label", "A"), "auroc"])
    True
    """
    if n_resamples != 0:
        check_resampling(n_resamples, method, fraction, ci)
    y, s, names, _ = check_targets(y_true, y_score, labels)
    n, n_labels = y.shape
    thr = _resolve_thresholds(thresholds, names, y, s)
    groups = _resolve_categories(categories, names)
    groups[ALL_LABELS] = list(range(n_labels))
    pred = s >= thr

    n_pos = y.sum(axis=0)
    defined = (n_pos > 0) & (n_pos < n)
    auc, ap = ranking_scores(y, s)
    point = {"auroc": auc, "auprc": ap, **rates(*confusion_counts(y, pred))}

    dist = weights = confusion_r = None
    if n_resamples:
        weights = as_weights(
            resample_counts(n, n_resamples, method, fraction, None, random_state), n)
        auc_r, ap_r = ranking_scores(y, s, weights)
        confusion_r = confusion_counts(y, pred, weights)
        dist = {"auroc": auc_r, "auprc": ap_r, **rates(*confusion_r)}

    member_of = {j: [] for j in range(n_labels)}
    for category, members in groups.items():
        if category != ALL_LABELS:
            for j in members:
                member_of[j].append(category)

    rows, index = [], []
    label_ci = {m: percentile_interval(dist[m], ci) for m in METRICS} if dist else {}
    for j, name in enumerate(names):
        row = {
            "category": "; ".join(member_of[j]),
            "n_labels": 1,
            "n_defined": int(defined[j]),
            "positives": int(n_pos[j]),
            "prevalence": n_pos[j] / n,
            "threshold": thr[j],
        }
        for m in METRICS:
            row[m] = point[m][j]
            row[f"{m}_ci_low"] = label_ci[m][0][j] if dist else np.nan
            row[f"{m}_ci_high"] = label_ci[m][1][j] if dist else np.nan
        row["defined"] = bool(defined[j])
        row["note"] = "" if defined[j] else ("no positives" if n_pos[j] == 0 else "no negatives")
        rows.append(row)
        index.append(("label", name))

    for category, members in groups.items():
        members = np.asarray(members)
        kept = members[defined[members]]
        base = {
            "category": category,
            "n_labels": members.size,
            "n_defined": kept.size,
            "positives": int(n_pos[members].sum()),
            "threshold": np.nan,
            "defined": kept.size > 0,
            "note": "" if kept.size == members.size else
            f"{members.size - kept.size} label(s) without both classes left out",
        }
        rows.append(_macro_row(base, members, point, dist, n_pos / n, ci))
        index.append(("macro", category))
        micro_values = _micro_values(y, s, pred, kept, weights, confusion_r, micro)
        rows.append(_micro_row(base, kept, micro_values, n_pos, n, ci))
        index.append(("micro", category))

    report = pd.DataFrame(rows, index=pd.MultiIndex.from_tuples(index, names=["level", "name"]))
    order = [("label", nm) for nm in names]
    order += [("macro", c) for c in groups] + [("micro", c) for c in groups]
    report = report.loc[order]
    report.attrs.update(
        n_ecgs=n,
        ci=ci,
        method=method,
        n_resamples=int(n_resamples),
        n_valid=dict(zip(names, np.isfinite(dist["auroc"]).sum(0).tolist(), strict=True))
        if dist else {},
    )
    return report
