"""Calibration of predicted probabilities: reliability curve, ECE and Brier score per label."""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

from ._checks import check_targets


def _check_probabilities(y_true, y_prob, labels):
    y, p, names, one_dim = check_targets(y_true, y_prob, labels, y_score_name="y_prob")
    if p.min() < 0.0 or p.max() > 1.0:
        raise ValueError(
            f"y_prob must hold probabilities in [0, 1]; found values in [{p.min():.4g}, "
            f"{p.max():.4g}] (apply a sigmoid to logits first)"
        )
    return y, p, names, one_dim


def _bin_ids(p: np.ndarray, n_bins: int, strategy: str) -> tuple[np.ndarray, np.ndarray]:
    """Bin index of every probability (per column) and the bin edges of each column."""
    if isinstance(n_bins, bool) or not isinstance(n_bins, numbers.Integral) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer, got {n_bins!r}")
    if strategy == "uniform":
        edges = np.tile(np.linspace(0.0, 1.0, n_bins + 1), (p.shape[1], 1))
    elif strategy == "quantile":
        edges = np.quantile(p, np.linspace(0.0, 1.0, n_bins + 1), axis=0).T
    else:
        raise ValueError(f"strategy must be 'uniform' or 'quantile', got {strategy!r}")
    ids = np.empty(p.shape, dtype=np.int64)
    for j in range(p.shape[1]):
        # Inner edges only, so that 0 and 1 fall into the first and last bins.
        ids[:, j] = np.searchsorted(edges[j, 1:-1], p[:, j], side="right")
    return ids, edges


def reliability_curve(y_true, y_prob, n_bins: int = 10, strategy: str = "uniform",
                      labels=None) -> pd.DataFrame:
    """Observed frequency against mean predicted probability, per bin and label.

    Parameters
    ----------
    y_true : array-like or DataFrame of shape (n_samples,) or (n_samples, n_labels)
        Binary ground truth.
    y_prob : array-like or DataFrame of the same shape
        Predicted probabilities in [0, 1].
    n_bins : int, default=10
        Number of bins.
    strategy : {"uniform", "quantile"}, default="uniform"
        Equal-width bins on [0, 1], or bins holding equal numbers of samples.
    labels : sequence of str, optional
        Label names or DataFrame columns to use.

    Returns
    -------
    DataFrame
        One row per non-empty bin and label: ``label``, ``bin``,
        ``mean_predicted``, ``fraction_positive`` and ``count``.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([0, 0, 1, 1]); p = np.array([0.1, 0.2, 0.7, 0.9])
    >>> reliability_curve(y, p, n_bins=2)[["mean_predicted", "fraction_positive", "count"]].values
    array([[0.15, 0.  , 2.  ],
           [0.8 , 1.  , 2.  ]])
    """
    y, p, names, _ = _check_probabilities(y_true, y_prob, labels)
    ids, _ = _bin_ids(p, n_bins, strategy)
    rows = []
    for j, name in enumerate(names):
        count = np.bincount(ids[:, j], minlength=n_bins)
        sum_p = np.bincount(ids[:, j], weights=p[:, j], minlength=n_bins)
        sum_y = np.bincount(ids[:, j], weights=y[:, j].astype(float), minlength=n_bins)
        for b in np.flatnonzero(count):
            rows.append({"label": name, "bin": int(b), "mean_predicted": sum_p[b] / count[b],
                         "fraction_positive": sum_y[b] / count[b], "count": int(count[b])})
    return pd.DataFrame(rows, columns=["label", "bin", "mean_predicted", "fraction_positive",
                                       "count"])


def expected_calibration_error(y_true, y_prob, n_bins: int = 10, strategy: str = "uniform",
                               labels=None):
    """Expected calibration error per label.

    ``ECE = sum_b (n_b / n) * |fraction_positive_b - mean_predicted_b|`` over
    the bins of :func:`reliability_curve`.

    Parameters
    ----------
    y_true : array-like or DataFrame of shape (n_samples,) or (n_samples, n_labels)
        Binary ground truth.
    y_prob : array-like or DataFrame of the same shape
        Predicted probabilities in [0, 1].
    n_bins : int, default=10
        Number of bins.
    strategy : {"uniform", "quantile"}, default="uniform"
        Binning strategy.
    labels : sequence of str, optional
        Label names or DataFrame columns to use.

    Returns
    -------
    ndarray of shape (n_labels,), or float for 1-D input

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([0, 0, 1, 1]); p = np.array([0.1, 0.2, 0.7, 0.9])
    >>> round(expected_calibration_error(y, p, n_bins=2), 4)
    0.175
    """
    y, p, _, one_dim = _check_probabilities(y_true, y_prob, labels)
    ids, _ = _bin_ids(p, n_bins, strategy)
    n = y.shape[0]
    out = np.empty(y.shape[1])
    for j in range(y.shape[1]):
        sum_p = np.bincount(ids[:, j], weights=p[:, j], minlength=n_bins)
        sum_y = np.bincount(ids[:, j], weights=y[:, j].astype(float), minlength=n_bins)
        # sum_b n_b/n * |sum_y/n_b - sum_p/n_b| = sum_b |sum_y - sum_p| / n
        out[j] = np.abs(sum_y - sum_p).sum() / n
    return float(out[0]) if one_dim else out


def brier_score(y_true, y_prob, labels=None):
    """Brier score (mean squared error of the probabilities) per label.

    Parameters
    ----------
    y_true : array-like or DataFrame of shape (n_samples,) or (n_samples, n_labels)
        Binary ground truth.
    y_prob : array-like or DataFrame of the same shape
        Predicted probabilities in [0, 1].
    labels : sequence of str, optional
        Label names or DataFrame columns to use.

    Returns
    -------
    ndarray of shape (n_labels,), or float for 1-D input

    Examples
    --------
    >>> import numpy as np
    >>> round(brier_score(np.array([0, 1]), np.array([0.2, 0.6])), 4)
    0.1
    """
    y, p, _, one_dim = _check_probabilities(y_true, y_prob, labels)
    out = np.mean((p - y) ** 2, axis=0)
    return float(out[0]) if one_dim else out
