"""Confidence intervals by bootstrap or by the paper's subsampling, vectorised over resamples."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._checks import check_targets
from ._ranking import as_weights, micro_ranking_scores, ranking_scores
from ._resampling import check_resampling, percentile_interval, resample_counts

_VECTORISED = {
    "roc_auc": ("auc", "label"),
    "average_precision": ("ap", "label"),
    "roc_auc_macro": ("auc", "macro"),
    "average_precision_macro": ("ap", "macro"),
    "roc_auc_micro": ("auc", "micro"),
    "average_precision_micro": ("ap", "micro"),
}


@dataclass
class BootstrapResult:
    """Point estimate and resampling interval of a metric.

    Attributes
    ----------
    estimate : float or ndarray of shape (n_labels,)
        The metric on the full data.
    ci_low, ci_high : float or ndarray
        Percentile interval bounds over the resamples where the metric is defined.
    std_error : float or ndarray
        Standard deviation of the metric over those resamples.
    n_valid : int or ndarray
        Number of resamples where the metric is defined (for example a
        resample without positives has no AUROC).
    distribution : ndarray of shape (n_resamples,) or (n_resamples, n_labels)
        The metric on every resample (NaN where undefined).
    labels : list of str or None
        Label names for per-label results.
    ci : float
        Confidence level.
    method : str
        ``"bootstrap"`` or ``"subsample"``.
    """

    estimate: float | np.ndarray
    ci_low: float | np.ndarray
    ci_high: float | np.ndarray
    std_error: float | np.ndarray
    n_valid: int | np.ndarray
    distribution: np.ndarray = field(repr=False)
    labels: list | None = None
    ci: float = 0.95
    method: str = "bootstrap"

    def to_frame(self) -> pd.DataFrame:
        """The result as a DataFrame, one row per label (or a single row).

        Examples
        --------
        >>> import numpy as np
        >>> y = np.array([0, 1] * 20); s = np.linspace(0, 1, 40) + 0.3 * y
        >>> bootstrap_ci("roc_auc", y, s, n_resamples=50, random_state=0).to_frame().shape
        (1, 5)
        """
        index = self.labels if self.labels is not None else ["value"]
        return pd.DataFrame(
            {
                "estimate": np.atleast_1d(self.estimate),
                "ci_low": np.atleast_1d(self.ci_low),
                "ci_high": np.atleast_1d(self.ci_high),
                "std_error": np.atleast_1d(self.std_error),
                "n_valid": np.atleast_1d(self.n_valid),
            },
            index=pd.Index(index, name="label"),
        )


def _summarise(estimate, distribution, ci, method, labels, scalar) -> BootstrapResult:
    low, high = percentile_interval(distribution, ci)
    n_valid = np.isfinite(distribution).sum(axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns give NaN, as wanted
        std = np.nanstd(distribution, axis=0, ddof=1) if distribution.shape[0] > 1 else (
            np.full(distribution.shape[1:], np.nan)
        )
    if scalar:
        return BootstrapResult(float(np.ravel(estimate)[0]), float(np.ravel(low)[0]),
                               float(np.ravel(high)[0]), float(np.ravel(std)[0]),
                               int(np.ravel(n_valid)[0]), distribution.ravel(), None, ci, method)
    return BootstrapResult(np.asarray(estimate, dtype=float), low, high, std, n_valid,
                           distribution, labels, ci, method)


def _macro(values: np.ndarray, defined: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(values[..., defined], axis=-1) if defined.any() else (
            np.full(values.shape[:-1], np.nan)
        )


def _call_metric(metric, y_true, y_score) -> np.ndarray:
    try:
        value = metric(y_true, y_score)
    except ValueError:  # e.g. a resample with a single class
        return np.array(np.nan)
    return np.asarray(value, dtype=float)


def bootstrap_ci(
    metric,
    y_true,
    y_score,
    n_resamples: int = 1000,
    method: str = "bootstrap",
    fraction: float = 0.7,
    stratified: bool = True,
    ci: float = 0.95,
    random_state=None,
) -> BootstrapResult:
    """Confidence interval of a metric by bootstrap or by subsampling.

    AUROC and average precision (per label, macro or micro) are computed for
    all resamples at once: each label is ranked once and every resample is a
    row of a count matrix, so no Python loop runs over resamples. Any other
    metric is given as a callable and evaluated resample by resample.

    Parameters
    ----------
    metric : str or callable
        ``"roc_auc"``, ``"average_precision"`` (per label), their ``"_macro"``
        (mean over labels with both classes) or ``"_micro"`` (all
        sample-label pairs pooled) variants, or a callable
        ``metric(y_true, y_score) -> float or ndarray``. A callable that
        raises ``ValueError`` on a resample (say, a single class) counts that
        resample as undefined.
    y_true : array-like or DataFrame of shape (n_samples,) or (n_samples, n_labels)
        Binary ground truth.
    y_score : array-like or DataFrame of the same shape
        Scores, finite.
    n_resamples : int, default=1000
        Number of resamples.
    method : {"bootstrap", "subsample"}, default="bootstrap"
        ``"bootstrap"`` draws ``n_samples`` with replacement (percentile
        interval). ``"subsample"`` draws ``fraction * n_samples`` without
        replacement, as the DeepECG paper does (1000 x 70%). Note that the
        spread of subsample estimates is narrower than the sampling spread
        of the full-data estimate (by about ``sqrt((1 - f) / f)``, 0.65 for
        f = 0.7), so its percentile interval is narrower than a bootstrap
        one; use it to reproduce the paper's numbers.
    fraction : float, default=0.7
        Subsample size for ``method="subsample"``.
    stratified : bool, default=True
        Resample positives and negatives separately so that every resample
        keeps the class counts of the data. Applies to a single label
        (1-D ``y_true``); with several labels the resamples are shared by all
        labels (so that per-label and averaged intervals come from the same
        resamples) and drawn without stratification.
    ci : float, default=0.95
        Confidence level.
    random_state : int, numpy Generator or None
        Seed for reproducible resamples.

    Returns
    -------
    BootstrapResult
        ``estimate``, ``ci_low``, ``ci_high``, ``std_error``, ``n_valid`` and
        the whole ``distribution``; per label for per-label metrics.

    Raises
    ------
    ValueError
        For mismatched shapes, NaN scores, non-binary ``y_true`` or invalid
        resampling parameters.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 300)
    >>> s = y + rng.normal(0, 1, 300)
    >>> res = bootstrap_ci("roc_auc", y, s, n_resamples=200, random_state=0)
    >>> bool(res.ci_low < res.estimate < res.ci_high)
    True
    >>> res.distribution.shape
    (200,)
    """
    check_resampling(n_resamples, method, fraction, ci)
    y, s, names, one_dim = check_targets(y_true, y_score)
    n = y.shape[0]
    strata = None
    if stratified and one_dim:
        strata = [np.flatnonzero(y[:, 0]), np.flatnonzero(~y[:, 0])]
    counts = resample_counts(n, n_resamples, method, fraction, strata, random_state)
    weights = as_weights(counts, n)

    if isinstance(metric, str):
        if metric not in _VECTORISED:
            raise ValueError(
                f"unknown metric {metric!r}; use one of {sorted(_VECTORISED)} or a callable"
            )
        kind, average = _VECTORISED[metric]
        pick = 0 if kind == "auc" else 1
        if average == "micro":
            estimate = np.atleast_1d(micro_ranking_scores(y, s)[pick])
            distribution = micro_ranking_scores(y, s, weights)[pick][:, None]
            return _summarise(estimate, distribution, ci, method, None, scalar=True)
        estimate = ranking_scores(y, s)[pick]
        distribution = ranking_scores(y, s, weights)[pick]
        if average == "macro":
            defined = np.isfinite(estimate)
            return _summarise(np.atleast_1d(_macro(estimate, defined)),
                              _macro(distribution, defined)[:, None], ci, method, None,
                              scalar=True)
        return _summarise(estimate, distribution, ci, method, names, scalar=one_dim)

    if not callable(metric):
        raise TypeError(f"metric must be a string or a callable, got {type(metric).__name__}")
    y_in = y[:, 0].astype(int) if one_dim else y.astype(int)
    s_in = s[:, 0] if one_dim else s
    estimate = _call_metric(metric, y_in, s_in)
    rows = []
    for r in range(n_resamples):  # a generic callable cannot be vectorised
        take = np.repeat(np.arange(n), counts[r])
        value = _call_metric(metric, y_in[take], s_in[take])
        rows.append(np.broadcast_to(value, estimate.shape))
    distribution = np.stack(rows).reshape(n_resamples, -1)
    scalar = estimate.ndim == 0
    labels = names if (not scalar and estimate.size == len(names)) else None
    return _summarise(estimate.reshape(-1) if not scalar else estimate, distribution, ci, method,
                      labels, scalar=scalar)
