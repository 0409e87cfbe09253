"""True- and false-positive rate gaps across patient groups (sex, age), as in the paper."""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._checks import align_rows, check_targets
from ._counts import confusion_counts
from ._ranking import as_weights
from ._report import _resolve_thresholds
from ._resampling import check_resampling, percentile_interval, resample_counts

AGE_BIN_LABELS = ("<=55", "55-75", ">75")


def age_bins(ages, edges=(55, 75), labels=AGE_BIN_LABELS) -> pd.Categorical:
    """Group ages as the DeepECG paper does: <= 55, 55-75 and > 75 years.

    Bins are closed on the right: 55 falls in ``"<=55"``, 75 in ``"55-75"``.

    Parameters
    ----------
    ages : array-like of shape (n_samples,)
        Ages in years, finite and non-negative.
    edges : sequence of float, default=(55, 75)
        Inner bin edges, increasing.
    labels : sequence of str, default=("<=55", "55-75", ">75")
        One name per bin (``len(edges) + 1``).

    Returns
    -------
    pandas.Categorical of shape (n_samples,)
        Ordered categories ``labels`` (so reports and plots list the groups
        from youngest to oldest).

    Examples
    --------
    >>> age_bins([30, 55, 56, 75, 90]).tolist()
    ['<=55', '<=55', '55-75', '55-75', '>75']
    """
    arr = np.asarray(ages.to_numpy() if hasattr(ages, "to_numpy") else ages, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"ages must be 1-D, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError("ages contain NaN or inf; drop or impute missing ages first")
    if (arr < 0).any():
        raise ValueError("ages must be non-negative")
    edges = np.asarray(edges, dtype=np.float64)
    if edges.ndim != 1 or np.any(np.diff(edges) <= 0):
        raise ValueError(f"edges must be increasing, got {edges.tolist()}")
    if len(labels) != edges.size + 1:
        raise ValueError(f"{edges.size + 1} labels are needed for {edges.size} edges")
    codes = np.searchsorted(edges, arr, side="left")
    return pd.Categorical.from_codes(codes, categories=list(labels), ordered=True)


@dataclass
class FairnessReport:
    """Per-group rates and between-group gaps.

    Attributes
    ----------
    rates : DataFrame
        Indexed by ``(attribute, group, label)``: ``n``, ``positives``,
        ``negatives``, ``tpr``, ``fpr`` and their ``_ci_low``/``_ci_high``.
    gaps : DataFrame
        Indexed by ``(attribute, label)`` (plus ``label="All labels"``, the mean
        over labels): ``tpr_gap`` and ``fpr_gap`` (mean absolute pairwise
        difference between groups) with their intervals, and ``n_groups``.
    """

    rates: pd.DataFrame
    gaps: pd.DataFrame

    def __repr__(self) -> str:
        return f"FairnessReport(gaps=\n{self.gaps!r})"


def _mean_abs_pairwise(values: np.ndarray) -> np.ndarray:
    """Mean |v_i - v_j| over pairs of groups (axis 0), NaN pairs left out."""
    pairs = list(itertools.combinations(range(values.shape[0]), 2))
    diffs = np.stack([np.abs(values[i] - values[j]) for i, j in pairs])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(diffs, axis=0)


def _as_prediction(y_pred_or_score, y_true, thresholds, names, labels):
    raw = np.asarray(
        y_pred_or_score.to_numpy() if hasattr(y_pred_or_score, "to_numpy") else y_pred_or_score
    )
    is_binary = raw.dtype == bool or (
        np.issubdtype(raw.dtype, np.number) and np.isin(np.unique(raw), (0, 1)).all()
    )
    y, s, names, one_dim = check_targets(y_true, y_pred_or_score, labels,
                                         y_score_name="y_pred_or_score")
    if is_binary and thresholds is None:
        return y, s.astype(bool), names, one_dim
    return y, s >= _resolve_thresholds(thresholds, names, y, s), names, one_dim


def fairness_report(
    y_true,
    y_pred_or_score,
    groups,
    thresholds=None,
    n_resamples: int = 1000,
    random_state=None,
    *,
    ci: float = 0.95,
    labels=None,
) -> FairnessReport:
    """True- and false-positive rates per group and their gaps, with bootstrap CIs.

    For each protected attribute (for example sex, or age groups from
    :func:`age_bins`) and each label, the true-positive rate (sensitivity)
    and false-positive rate (1 - specificity) are computed in every group;
    the gap is the mean absolute difference over all pairs of groups (for two
    groups simply ``|rate_1 - rate_2|``), as reported in the DeepECG paper.
    Intervals come from bootstrap resamples of the ECGs, shared by all groups
    and labels.

    Parameters
    ----------
    y_true : array-like or DataFrame of shape (n_samples,) or (n_samples, n_labels)
        Binary ground truth.
    y_pred_or_score : array-like or DataFrame of the same shape
        Binary predictions (0/1 or bool), or scores thresholded at
        ``thresholds`` (predicted positive when ``score >= threshold``).
    groups : array-like of shape (n_samples,), Series, or DataFrame
        Group of each ECG; a DataFrame gives one attribute per column (for
        example ``sex`` and ``age_group``). Missing values are an error.
        Pandas arguments are matched on their index (rows in another order
        are reordered, other row labels raise); arrays by position.
    thresholds : None, float, sequence, mapping or method, default=None
        As in :func:`classification_report`; None means 0.5 for scores and
        the values themselves for binary predictions.
    n_resamples : int, default=1000
        Bootstrap resamples; 0 skips the intervals.
    random_state : int, numpy Generator or None
        Seed.
    ci : float, default=0.95
        Confidence level. Note that a gap is an absolute difference: near
        zero its resampling distribution is pushed upwards, so the interval
        says more about how large a gap could be than about whether it is 0.
    labels : sequence of str, optional
        Label names or DataFrame columns to use.

    Returns
    -------
    FairnessReport
        ``rates`` per (attribute, group, label) and ``gaps`` per
        (attribute, label); a rate is NaN in a group without positives (TPR)
        or without negatives (FPR), and such groups are left out of the gap.

    Raises
    ------
    ValueError
        For fewer than two groups in an attribute, missing group values,
        mismatched lengths, pandas arguments whose indexes name different
        rows, NaN scores or non-binary ``y_true``.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([1, 1, 0, 0, 1, 1, 0, 0])
    >>> pred = np.array([1, 0, 0, 1, 1, 1, 0, 0])
    >>> sex = np.array(["F"] * 4 + ["M"] * 4)
    >>> rep = fairness_report(y, pred, sex, n_resamples=0)
    >>> rep.rates["tpr"].tolist(), rep.rates["fpr"].tolist()
    ([0.5, 1.0], [0.5, 0.0])
    >>> rep.gaps.loc[("group", "label_0"), ["tpr_gap", "fpr_gap"]].tolist()
    [0.5, 0.5]
    """
    if n_resamples != 0:
        check_resampling(n_resamples, "bootstrap", 0.5, ci)
    aligned = align_rows({"y_true": y_true, "y_pred_or_score": y_pred_or_score, "groups": groups})
    y_pred_or_score, groups = aligned["y_pred_or_score"], aligned["groups"]
    y, pred, names, _ = _as_prediction(y_pred_or_score, y_true, thresholds, names=None,
                                       labels=labels)
    n = y.shape[0]
    if isinstance(groups, pd.DataFrame):
        attributes = {str(c): groups[c] for c in groups.columns}
    else:
        attributes = {str(getattr(groups, "name", None) or "group"): groups}
    weights = None
    if n_resamples:
        weights = as_weights(resample_counts(n, n_resamples, "bootstrap", 0.5, None,
                                             random_state), n)
    rate_rows, rate_index, gap_rows, gap_index = [], [], [], []
    for attribute, raw in attributes.items():
        values = np.asarray(raw.to_numpy() if hasattr(raw, "to_numpy") else raw)
        if values.ndim != 1 or values.shape[0] != n:
            raise ValueError(
                f"groups {attribute!r} has shape {values.shape}, expected ({n},) like y_true"
            )
        if pd.isna(values).any():
            raise ValueError(f"groups {attribute!r} has missing values; drop or label them")
        levels = list(pd.unique(values))
        if len(levels) < 2:
            raise ValueError(
                f"groups {attribute!r} has a single group ({levels!r}); a fairness gap needs "
                "at least two"
            )
        categories = getattr(getattr(raw, "cat", raw), "categories", None)
        if categories is not None:  # categorical groups keep their own order (e.g. age bins)
            levels = [c for c in categories if c in set(levels)]
        else:
            try:
                levels = sorted(levels)
            except TypeError:
                pass
        tpr, fpr = [], []
        tpr_r, fpr_r = [], []
        for level in levels:
            mask = values == level
            tp, fp, fn, tn = confusion_counts(y[mask], pred[mask])
            with np.errstate(invalid="ignore", divide="ignore"):
                tpr.append(np.where(tp + fn > 0, tp / (tp + fn), np.nan))
                fpr.append(np.where(fp + tn > 0, fp / (fp + tn), np.nan))
            if weights is not None:
                tp_r, fp_r, fn_r, tn_r = confusion_counts(y[mask], pred[mask], weights[mask])
                with np.errstate(invalid="ignore", divide="ignore"):
                    tpr_r.append(np.where(tp_r + fn_r > 0, tp_r / (tp_r + fn_r), np.nan))
                    fpr_r.append(np.where(fp_r + tn_r > 0, fp_r / (fp_r + tn_r), np.nan))
            n_pos = y[mask].sum(axis=0)
            for j, label in enumerate(names):
                row = {"n": int(mask.sum()), "positives": int(n_pos[j]),
                       "negatives": int(mask.sum() - n_pos[j]),
                       "tpr": float(tpr[-1][j]), "fpr": float(fpr[-1][j])}
                rate_rows.append(row)
                rate_index.append((attribute, str(level), label))
            if weights is not None:
                lo_t, hi_t = percentile_interval(tpr_r[-1], ci)
                lo_f, hi_f = percentile_interval(fpr_r[-1], ci)
                for j in range(len(names)):
                    rate_rows[-len(names) + j].update(
                        tpr_ci_low=lo_t[j], tpr_ci_high=hi_t[j],
                        fpr_ci_low=lo_f[j], fpr_ci_high=hi_f[j])
        tpr_gap = _mean_abs_pairwise(np.stack(tpr))
        fpr_gap = _mean_abs_pairwise(np.stack(fpr))
        dists = {}
        if weights is not None:
            dists["tpr_gap"] = _mean_abs_pairwise(np.stack(tpr_r))  # (R, L)
            dists["fpr_gap"] = _mean_abs_pairwise(np.stack(fpr_r))
        per_label = {"tpr_gap": tpr_gap, "fpr_gap": fpr_gap}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            overall = {k: float(np.nanmean(v)) for k, v in per_label.items()}
            overall_dist = {k: np.nanmean(v, axis=1) for k, v in dists.items()}
        for j, label in enumerate([*names, "All labels"]):
            row = {"n_groups": len(levels)}
            for key in ("tpr_gap", "fpr_gap"):
                row[key] = overall[key] if j == len(names) else float(per_label[key][j])
                if dists:
                    dist = overall_dist[key] if j == len(names) else dists[key][:, j]
                    low, high = percentile_interval(dist, ci)
                    row[f"{key}_ci_low"], row[f"{key}_ci_high"] = float(low), float(high)
            gap_rows.append(row)
            gap_index.append((attribute, label))
    rates = pd.DataFrame(rate_rows, index=pd.MultiIndex.from_tuples(
        rate_index, names=["attribute", "group", "label"]))
    gaps = pd.DataFrame(gap_rows, index=pd.MultiIndex.from_tuples(
        gap_index, names=["attribute", "label"]))
    for frame, keys in ((rates, ("tpr", "fpr")), (gaps, ("tpr_gap", "fpr_gap"))):
        for key in keys:
            for side in ("ci_low", "ci_high"):
                if f"{key}_{side}" not in frame:
                    frame[f"{key}_{side}"] = np.nan
    return FairnessReport(rates=rates, gaps=gaps)
