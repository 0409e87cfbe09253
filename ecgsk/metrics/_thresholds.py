"""Choosing a decision threshold per label from validation scores."""

from __future__ import annotations

import numbers
import warnings

import numpy as np
from sklearn.exceptions import UndefinedMetricWarning

from ._checks import check_targets

_METHODS = ("youden", "f1", "sensitivity", "specificity")


def _parse_method(method) -> tuple[str, float | None]:
    if isinstance(method, str):
        if method not in ("youden", "f1"):
            raise ValueError(
                f"method must be 'youden', 'f1', ('sensitivity', target) or "
                f"('specificity', target); got {method!r}"
            )
        return method, None
    if (
        isinstance(method, (tuple, list))
        and len(method) == 2
        and method[0] in ("sensitivity", "specificity")
        and isinstance(method[1], numbers.Real)
        and not isinstance(method[1], bool)
    ):
        target = float(method[1])
        if not 0.0 < target <= 1.0:
            raise ValueError(f"the {method[0]} target must be in (0, 1], got {method[1]}")
        return method[0], target
    raise ValueError(
        f"method must be 'youden', 'f1', ('sensitivity', target) or ('specificity', target); "
        f"got {method!r}"
    )


def _operating_points(y: np.ndarray, s: np.ndarray):
    """Distinct thresholds (descending) and the TP/FP counts of ``s >= threshold``."""
    order = np.argsort(-s, kind="stable")
    s_sorted = s[order]
    y_sorted = y[order]
    # The last index of each run of tied scores: predictions change only there.
    last = np.r_[np.flatnonzero(np.diff(s_sorted) != 0), s_sorted.size - 1]
    tp = np.cumsum(y_sorted)[last].astype(np.float64)
    fp = (last + 1) - tp
    return s_sorted[last], tp, fp


def _first_max(values: np.ndarray) -> int:
    # Rounding must not break exact ties (2/3 - 0 vs 1 - 1/3): the highest threshold wins.
    return int(np.flatnonzero(values >= values.max() - 1e-12)[0])


def _select_one(y: np.ndarray, s: np.ndarray, method: str, target: float | None) -> float:
    thresholds, tp, fp = _operating_points(y, s)
    n_pos, n_neg = float(y.sum()), float(y.size - y.sum())
    tpr, fpr = tp / n_pos, fp / n_neg
    if method == "youden":
        return float(thresholds[_first_max(tpr - fpr)])
    if method == "f1":
        return float(thresholds[_first_max(2 * tp / (tp + n_pos + fp))])
    if method == "sensitivity":
        # The highest threshold (best specificity) whose sensitivity reaches the target.
        ok = np.flatnonzero(tpr >= target - 1e-12)
        return float(thresholds[ok[0]])
    # specificity: the lowest threshold (best sensitivity) whose specificity reaches the target.
    ok = np.flatnonzero(1.0 - fpr >= target - 1e-12)
    if ok.size == 0:  # only "predict nothing positive" reaches it
        return float(np.nextafter(thresholds[0], np.inf))
    return float(thresholds[ok[-1]])


def select_thresholds(y_true, y_score, method="youden", labels=None):
    """Choose a decision threshold per label (predict positive when ``score >= threshold``).

    Thresholds are taken among the observed scores, so that predicting with
    them reproduces the chosen operating point on the data used here (use a
    validation split, never the test set).

    Parameters
    ----------
    y_true : array-like or DataFrame of shape (n_samples,) or (n_samples, n_labels)
        Binary ground truth.
    y_score : array-like or DataFrame of the same shape
        Scores or probabilities, finite.
    method : {"youden", "f1"} or ("sensitivity", target) or ("specificity", target)
        ``"youden"`` maximises sensitivity + specificity - 1; ``"f1"``
        maximises F1; ``("sensitivity", 0.9)`` gives the highest threshold
        whose sensitivity is at least 0.9 (the best specificity under that
        constraint); ``("specificity", 0.9)`` the lowest threshold whose
        specificity is at least 0.9. Ties among optima go to the highest
        threshold.
    labels : sequence of str, optional
        Columns to use when the inputs are DataFrames.

    Returns
    -------
    ndarray of shape (n_labels,), or float for 1-D input
        Labels with a single class in ``y_true`` get 0.5 and an
        ``UndefinedMetricWarning``.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([0, 0, 1, 1, 0, 1])
    >>> s = np.array([0.1, 0.3, 0.35, 0.8, 0.4, 0.7])
    >>> select_thresholds(y, s)
    0.7
    >>> select_thresholds(y, s, method=("specificity", 1.0))
    0.7
    >>> select_thresholds(np.c_[y, y], np.c_[s, 1 - s], method="f1")
    array([0.35, 0.2 ])
    """
    name, target = _parse_method(method)
    y, s, names, one_dim = check_targets(y_true, y_score, labels)
    out = np.full(y.shape[1], 0.5)
    n_pos = y.sum(axis=0)
    single = [names[j] for j in range(y.shape[1]) if n_pos[j] in (0, y.shape[0])]
    if single:
        warnings.warn(
            f"{len(single)} label(s) have a single class in y_true, their threshold is set "
            f"to 0.5: {single[:5]}",
            UndefinedMetricWarning,
            stacklevel=2,
        )
    for j in range(y.shape[1]):
        if 0 < n_pos[j] < y.shape[0]:
            out[j] = _select_one(y[:, j], s[:, j], name, target)
    return float(out[0]) if one_dim else out
