"""DeLong's test for two correlated AUROCs, with the fast algorithm of Sun & Xu (2014)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ._checks import align_rows, check_targets


@dataclass(frozen=True)
class DeLongResult:
    """DeLong comparison of two AUROCs on the same ECGs.

    Attributes
    ----------
    auc_a, auc_b : float
        AUROC of each score.
    difference : float
        ``auc_a - auc_b``.
    ci_low, ci_high : float
        Confidence interval of the difference (normal approximation).
    z : float
        ``difference / standard error``.
    p_value : float
        Two-sided p-value of ``auc_a == auc_b``.
    var_a, var_b, covariance : float
        DeLong variances of the two AUROCs and their covariance.
    n_pos, n_neg : int
        Positives and negatives.
    """

    auc_a: float
    auc_b: float
    difference: float
    ci_low: float
    ci_high: float
    z: float
    p_value: float
    var_a: float
    var_b: float
    covariance: float
    n_pos: int
    n_neg: int

    def to_dict(self) -> dict:
        """The fields as a dict.

        Examples
        --------
        >>> import numpy as np
        >>> y = np.array([1, 1, 0, 0]); a = np.array([.9, .6, .7, .2]); b = np.array([.8, .4, .3, .5])
        >>> sorted(delong_test(y, a, b).to_dict())[:3]
        ['auc_a', 'auc_b', 'ci_high']
        """
        return asdict(self)


def structural_components(y: np.ndarray, scores: np.ndarray):
    """AUROCs and DeLong structural components of several scores for one label.

    Uses midranks (Sun & Xu 2014): with ``m`` positives and ``n`` negatives,
    ranks over all samples ``tz``, within positives ``tx`` and within
    negatives ``ty``, ``V10 = (tz - tx) / n`` for positives and
    ``V01 = 1 - (tz - ty) / m`` for negatives.

    Parameters
    ----------
    y : ndarray of bool, shape (n_samples,)
    scores : ndarray of shape (n_scores, n_samples)

    Returns
    -------
    auc : ndarray (n_scores,)
    v10 : ndarray (n_scores, m)
    v01 : ndarray (n_scores, n)
    """
    pos, neg = scores[:, y], scores[:, ~y]
    m, n = pos.shape[1], neg.shape[1]
    tz = stats.rankdata(np.concatenate([pos, neg], axis=1), axis=1)
    tx = stats.rankdata(pos, axis=1)
    ty = stats.rankdata(neg, axis=1)
    auc = (tz[:, :m].sum(axis=1) - m * (m + 1) / 2.0) / (m * n)
    v10 = (tz[:, :m] - tx) / n
    v01 = 1.0 - (tz[:, m:] - ty) / m
    return auc, v10, v01


def _compare(y: np.ndarray, a: np.ndarray, b: np.ndarray, ci: float) -> DeLongResult:
    m = int(y.sum())
    n = int(y.size - m)
    if m < 2 or n < 2:
        # The covariance of the structural components needs two of each class.
        nan = float("nan")
        return DeLongResult(nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, m, n)
    auc, v10, v01 = structural_components(y, np.stack([a, b]))
    cov = np.cov(v10) / m + np.cov(v01) / n
    var_diff = cov[0, 0] + cov[1, 1] - 2.0 * cov[0, 1]
    diff = auc[0] - auc[1]
    quantile = stats.norm.ppf(0.5 + ci / 2.0)
    if var_diff <= 1e-15 * max(1.0, cov[0, 0] + cov[1, 1]):
        # Indistinguishable scores (for example identical rankings): no evidence of a difference.
        z = 0.0 if diff == 0 else float(np.sign(diff) * np.inf)
        p = 1.0 if diff == 0 else 0.0
        half = 0.0
    else:
        se = float(np.sqrt(var_diff))
        z = float(diff / se)
        p = float(2.0 * stats.norm.sf(abs(z)))
        half = quantile * se
    return DeLongResult(
        auc_a=float(auc[0]), auc_b=float(auc[1]), difference=float(diff),
        ci_low=float(diff - half), ci_high=float(diff + half), z=z, p_value=p,
        var_a=float(cov[0, 0]), var_b=float(cov[1, 1]), covariance=float(cov[0, 1]),
        n_pos=m, n_neg=n,
    )


def delong_test(y_true, score_a, score_b, ci: float = 0.95, labels=None):
    """Compare two correlated AUROCs (two models on the same ECGs) with DeLong's test.

    Implements the fast DeLong algorithm (Sun & Xu, IEEE Signal Processing
    Letters 2014): the structural components come from midranks, so the cost
    is that of a sort. Ties count one half, as in the AUROC itself.

    Parameters
    ----------
    y_true : array-like or DataFrame of shape (n_samples,) or (n_samples, n_labels)
        Binary ground truth.
    score_a, score_b : array-like or DataFrame of the same shape
        Scores of the two models (finite).
    ci : float, default=0.95
        Confidence level of the interval on the difference.
    labels : sequence of str, optional
        Label names (or the columns to use with DataFrames).

    Returns
    -------
    DeLongResult or DataFrame
        For 1-D input a :class:`DeLongResult`; for multilabel input a DataFrame
        with one row per label and the same fields as columns, plus
        ``defined`` (False for a label with fewer than two positives or two
        negatives: its row is NaN).

    Raises
    ------
    ValueError
        For mismatched shapes, NaN scores or non-binary ``y_true``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 500)
    >>> a = y + rng.normal(0, 1.0, 500)
    >>> b = y + rng.normal(0, 2.0, 500)
    >>> res = delong_test(y, a, b)
    >>> bool(res.auc_a > res.auc_b), bool(res.p_value < 0.05)
    (True, True)
    """
    if not 0.0 < ci < 1.0:
        raise ValueError(f"ci must be in (0, 1), got {ci!r}")
    # pandas rows are matched on the index (score_b on score_a's when y_true is an array)
    aligned = align_rows({"y_true": y_true, "score_a": score_a, "score_b": score_b})
    score_a, score_b = aligned["score_a"], aligned["score_b"]
    y, a, names, one_dim = check_targets(y_true, score_a, labels, y_score_name="score_a")
    _, b, _, _ = check_targets(y_true, score_b, labels, y_score_name="score_b")
    results = [_compare(y[:, j], a[:, j], b[:, j], ci) for j in range(y.shape[1])]
    if one_dim:
        return results[0]
    frame = pd.DataFrame([r.to_dict() for r in results], index=pd.Index(names, name="label"))
    frame["defined"] = frame["auc_a"].notna()
    return frame
