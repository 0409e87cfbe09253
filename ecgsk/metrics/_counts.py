"""Confusion counts and the rates derived from them, for many labels and resamples at once."""

from __future__ import annotations

import numpy as np

THRESHOLD_METRICS = ("f1", "sensitivity", "specificity", "ppv", "npv")


def confusion_counts(y: np.ndarray, pred: np.ndarray, weights: np.ndarray | None = None):
    """TP, FP, FN, TN per label (shape (n_labels,)) or per resample and label.

    ``weights`` (n_samples, n_resamples) weights every sample by how often it
    is drawn in each resample; the sums are one matrix product.
    """
    y_f = y.astype(np.float32)
    both = (y & pred).astype(np.float32)
    pred_f = pred.astype(np.float32)
    if weights is None:
        pos, tp, pp = y_f.sum(0), both.sum(0), pred_f.sum(0)
        total = np.float64(y.shape[0])
    else:
        # One product for the three sums; float32 is exact for integer counts below 2**24.
        stacked = (np.concatenate([y_f, both, pred_f], axis=1).T @ weights).T
        n_labels = y.shape[1]
        pos, tp, pp = (stacked[:, k * n_labels : (k + 1) * n_labels] for k in range(3))
        total = weights.sum(axis=0, dtype=np.float64)[:, None]
    pos, tp, pp = (np.asarray(a, dtype=np.float64) for a in (pos, tp, pp))
    fp = pp - tp
    fn = pos - tp
    tn = total - pos - fp
    return tp, fp, fn, tn


def rates(tp, fp, fn, tn) -> dict[str, np.ndarray]:
    """F1, sensitivity, specificity, PPV and NPV; NaN where the denominator is 0.

    F1 is NaN where there are no positives (it would only measure false alarms).
    """
    def ratio(num, den):
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)

    f1 = ratio(2 * tp, 2 * tp + fp + fn)
    f1 = np.where(tp + fn > 0, f1, np.nan)
    return {
        "f1": f1,
        "sensitivity": ratio(tp, tp + fn),
        "specificity": ratio(tn, tn + fp),
        "ppv": ratio(tp, tp + fp),
        "npv": ratio(tn, tn + fn),
    }
