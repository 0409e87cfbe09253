"""LOWESS smoothing with the defaults of ``statsmodels.nonparametric.lowess``.

DeepECG's spectral cleaning smooths a spectrum with statsmodels' LOWESS
(``frac=0.1``, ``it=3``, ``delta=0``). statsmodels is not a dependency of
ecgsk, so the same algorithm (Cleveland 1979, as statsmodels implements it)
is written here in numpy: for each point, a local linear regression over the
``k = int(frac * n)`` nearest points weighted by the tricube of the distance,
then ``it`` robustness passes that multiply the weights by the bisquare of the
residuals scaled by six times their median.
"""

from __future__ import annotations

import numpy as np


def lowess(y: np.ndarray, x: np.ndarray, frac: float = 2.0 / 3.0, it: int = 3) -> np.ndarray:
    """Fitted values of LOWESS of ``y`` on increasing, distinct ``x`` (``delta=0``).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(50, dtype=float)
    >>> bool(np.allclose(lowess(2 * x + 1, x, frac=0.3), 2 * x + 1))  # lines are kept
    True
    """
    y = np.asarray(y, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    n = x.size
    k = min(max(int(frac * n + 1e-10), 2), n)
    # The neighbourhood of each point: k consecutive points, slid right while
    # the point lies past the middle of the window's first point and the
    # first point after the window (statsmodels' update_neighborhood).
    left = np.empty(n, dtype=np.intp)
    lo = 0
    for i in range(n):
        while lo + k < n and x[i] > (x[lo] + x[lo + k]) / 2.0:
            lo += 1
        left[i] = lo
    idx = left[:, None] + np.arange(k)  # (n, k)
    xj = x[idx]
    radius = np.maximum(x - x[left], x[left + k - 1] - x)
    with np.errstate(divide="ignore", invalid="ignore"):
        dist = np.abs(xj - x[:, None]) / radius[:, None]
    tricube = (1.0 - dist ** 3) ** 3
    resid_weights = np.ones(n)
    fit = y.copy()
    for _ in range(it + 1):
        w = tricube * resid_weights[idx]
        ok = (w > 1e-12).sum(axis=1) >= 2
        w = w / w.sum(axis=1, keepdims=True)
        mean_x = (w * xj).sum(axis=1)
        var_x = np.maximum((w * (xj - mean_x[:, None]) ** 2).sum(axis=1), 1e-12)
        p = w * (1.0 + (x - mean_x)[:, None] * (xj - mean_x[:, None]) / var_x[:, None])
        fit = np.where(ok, (p * y[idx]).sum(axis=1), y)
        resid = np.abs(y - fit)
        median = np.median(resid)
        scaled = (resid > 0).astype(np.float64) if median == 0 else resid / (6.0 * median)
        resid_weights = (1.0 - np.minimum(scaled, 1.0) ** 2) ** 2
    return fit
