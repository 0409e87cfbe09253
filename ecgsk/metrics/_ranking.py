"""AUROC and average precision for many labels and many resamples at once.

A resample of the data is a column of a weight matrix ``weights`` of shape
``(n_samples, n_resamples)``: how often each sample appears in it (0/1 for a
subsample, multinomial counts for a bootstrap, all ones for the data itself).

For one label, the distinct scores of the positives split the score axis
into bins: negatives below the lowest positive score, negatives tied with
it, negatives between it and the next one, ..., and one bin per distinct
positive score for the positives themselves. Every sample falls into one bin,
so the weight of each bin in every resample is a single sparse one-hot
matrix product ``bins @ weights``. The Mann-Whitney statistic (AUROC, ties
counted one half, as in scikit-learn) and the average precision (the
step-wise area under the precision-recall curve, as in scikit-learn) are then
cumulative sums over the few bins. The work per label is one pass over the
weight matrix; no Python loop runs over resamples.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from ._checks import check_targets

# Bins x resamples handled at once: bounds the temporary arrays to about 100 MB.
_CHUNK_ELEMENTS = 12_000_000


class _BinnedLabel:
    """One label's scores reduced to bins, reusable for any number of resamples."""

    def __init__(self, y: np.ndarray, s: np.ndarray, columns: np.ndarray | None = None,
                 n_columns: int | None = None):
        # columns[i] is the sample (row of the weight matrix) that item i belongs to;
        # micro-averages pool (sample, label) pairs into the items of one pseudo-label.
        columns = np.arange(y.shape[0]) if columns is None else columns
        n_columns = y.shape[0] if n_columns is None else n_columns
        self.n_pos = int(np.count_nonzero(y))
        self.n_neg = int(y.shape[0] - self.n_pos)
        if self.n_pos == 0 or self.n_neg == 0:
            return  # undefined: scores() answers NaN without needing the bins
        values = np.unique(s[y])
        k = self.k = values.size
        lo = np.searchsorted(values, s, side="left")
        tie = (lo < k) & (values[np.minimum(lo, k - 1)] == s)
        # Negative codes: 2q = strictly between values[q-1] and values[q], 2q + 1 = tied with
        # values[q]. Only codes that occur get a bin (ties and gaps are often empty).
        neg_code = (2 * lo + tie)[~y]
        codes, neg_bin = np.unique(neg_code, return_inverse=True)
        self.n_neg_bins = codes.size
        q = np.arange(k)
        # Last negative bin strictly below values[q] (-1: none), and the bin tied with it.
        self.below_idx = np.searchsorted(codes, 2 * q, side="right") - 1
        tie_pos = np.searchsorted(codes, 2 * q + 1)
        has_tie = (tie_pos < codes.size) & (codes[np.minimum(tie_pos, codes.size - 1)] == 2 * q + 1)
        self.tie_q = q[has_tie]
        self.tie_idx = tie_pos[has_tie]
        bins = np.empty(y.shape[0], dtype=np.int64)
        bins[~y] = neg_bin
        bins[y] = self.n_neg_bins + lo[y]
        self.design = sparse.csr_matrix(
            (np.ones(bins.size, dtype=np.float32), (bins, columns)),
            shape=(self.n_neg_bins + k, n_columns),
        )

    def scores(self, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """AUROC and average precision for each column of ``weights`` (NaN where undefined)."""
        n_res = weights.shape[1]
        auc = np.full(n_res, np.nan)
        ap = np.full(n_res, np.nan)
        if self.n_pos == 0 or self.n_neg == 0:
            return auc, ap
        n_bins = self.design.shape[0]
        step = max(1, _CHUNK_ELEMENTS // n_bins)
        for start in range(0, n_res, step):
            block = weights if step >= n_res else np.ascontiguousarray(
                weights[:, start : start + step])
            stop = start + block.shape[1]
            # Bin weights are sums of integer counts, exact in float32; products in float64.
            per_bin = self.design @ block
            neg_cum = np.zeros((self.n_neg_bins + 1, block.shape[1]))
            np.cumsum(per_bin[: self.n_neg_bins], axis=0, dtype=np.float64, out=neg_cum[1:])
            pos = per_bin[self.n_neg_bins :].astype(np.float64)
            below = neg_cum[self.below_idx + 1]  # negatives strictly below each positive score
            n_neg = neg_cum[-1]
            n_pos = pos.sum(axis=0)
            u = np.einsum("ij,ij->j", pos, below)
            if self.tie_q.size:
                tied = per_bin[self.tie_idx].astype(np.float64)
                u += 0.5 * np.einsum("ij,ij->j", pos[self.tie_q], tied)
            # Average precision: precision at each positive score times its positive weight;
            # an item tied with a positive counts as predicted positive, as in scikit-learn.
            # Positives at or above values[q]: all of them minus those strictly below.
            tp = np.empty_like(pos)
            tp[0] = 0.0
            np.cumsum(pos[:-1], axis=0, out=tp[1:])
            np.subtract(n_pos, tp, out=tp)
            denom = n_neg - below
            denom += tp
            np.maximum(denom, 1.0, out=denom)
            np.divide(tp, denom, out=denom)
            with np.errstate(invalid="ignore", divide="ignore"):
                auc[start:stop] = u / (n_pos * n_neg)
                ap[start:stop] = np.einsum("ij,ij->j", pos, denom) / n_pos
        undefined = ~np.isfinite(auc)
        auc[undefined] = np.nan
        ap[undefined | ~np.isfinite(ap)] = np.nan
        return auc, ap


def as_weights(counts: np.ndarray | None, n_samples: int) -> np.ndarray:
    """The (n_samples, n_resamples) float32 weight matrix of resample counts (ones if None)."""
    if counts is None:
        return np.ones((n_samples, 1), dtype=np.float32)
    return np.ascontiguousarray(counts.T, dtype=np.float32)


def ranking_scores(y, s, weights=None) -> tuple[np.ndarray, np.ndarray]:
    """AUROC and AP of each column of validated ``y`` (bool) and ``s`` (float), 2-D.

    Returns arrays of shape (n_labels,) without ``weights`` and
    (n_resamples, n_labels) with a (n_samples, n_resamples) weight matrix.
    """
    squeeze = weights is None
    weights = as_weights(None, y.shape[0]) if squeeze else weights
    n_labels = y.shape[1]
    auc = np.empty((weights.shape[1], n_labels))
    ap = np.empty((weights.shape[1], n_labels))
    for j in range(n_labels):
        auc[:, j], ap[:, j] = _BinnedLabel(y[:, j], s[:, j]).scores(weights)
    return (auc[0], ap[0]) if squeeze else (auc, ap)


def micro_ranking_scores(y, s, weights=None):
    """Micro-averaged AUROC and AP: all (sample, label) pairs pooled into one label.

    Floats without ``weights``, arrays of shape (n_resamples,) with them.
    """
    n, n_labels = y.shape
    binned = _BinnedLabel(y.ravel(), s.ravel(), np.repeat(np.arange(n), n_labels), n)
    if weights is None:
        auc, ap = binned.scores(as_weights(None, n))
        return float(auc[0]), float(ap[0])
    return binned.scores(weights)


def roc_auc_per_label(y_true, y_score, labels=None) -> np.ndarray:
    """AUROC of every label, NaN for a label with only one class.

    Equal to ``sklearn.metrics.roc_auc_score`` column by column (ties count
    one half), but ranks each column once and never raises on a label that
    has no positives or no negatives.

    Parameters
    ----------
    y_true : array-like or DataFrame of shape (n_samples,) or (n_samples, n_labels)
        Binary ground truth.
    y_score : array-like or DataFrame of the same shape
        Scores (probabilities or logits), finite.
    labels : sequence of str, optional
        Columns to evaluate when the inputs are DataFrames.

    Returns
    -------
    ndarray of shape (n_labels,), or a float for 1-D input.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([[0, 1], [1, 1], [0, 1], [1, 1]])
    >>> s = np.array([[0.1, 0.2], [0.8, 0.3], [0.4, 0.9], [0.4, 0.1]])
    >>> roc_auc_per_label(y, s)
    array([0.875,   nan])
    """
    y, s, _, one_dim = check_targets(y_true, y_score, labels)
    auc, _ = ranking_scores(y, s)
    return float(auc[0]) if one_dim else auc


def average_precision_per_label(y_true, y_score, labels=None) -> np.ndarray:
    """Average precision (area under the PR curve) of every label.

    Equal to ``sklearn.metrics.average_precision_score`` column by column;
    NaN for a label with no positives or no negatives.

    Parameters
    ----------
    y_true : array-like or DataFrame of shape (n_samples,) or (n_samples, n_labels)
        Binary ground truth.
    y_score : array-like or DataFrame of the same shape
        Scores, finite.
    labels : sequence of str, optional
        Columns to evaluate when the inputs are DataFrames.

    Returns
    -------
    ndarray of shape (n_labels,), or a float for 1-D input.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([0, 1, 1, 0])
    >>> s = np.array([0.1, 0.8, 0.4, 0.5])
    >>> round(average_precision_per_label(y, s), 4)
    0.8333
    """
    y, s, _, one_dim = check_targets(y_true, y_score, labels)
    _, ap = ranking_scores(y, s)
    return float(ap[0]) if one_dim else ap
