"""Resamples as count matrices: how often each sample appears in each resample."""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.utils import check_random_state

# Rows drawn together: keeps the bincount output cache-sized (much faster than one big call).
_ROWS_PER_DRAW = 16


def check_resampling(n_resamples, method, fraction, ci) -> None:
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, numbers.Integral):
        raise TypeError(f"n_resamples must be an integer, got {n_resamples!r}")
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be >= 1, got {n_resamples}")
    if method not in ("bootstrap", "subsample"):
        raise ValueError(f"method must be 'bootstrap' or 'subsample', got {method!r}")
    if not isinstance(fraction, numbers.Real) or not 0.0 < fraction < 1.0:
        raise ValueError(f"fraction must be in (0, 1), got {fraction!r}")
    if not isinstance(ci, numbers.Real) or not 0.0 < ci < 1.0:
        raise ValueError(f"ci must be in (0, 1), got {ci!r}")


def resample_counts(
    n_samples: int,
    n_resamples: int,
    method: str = "bootstrap",
    fraction: float = 0.7,
    strata=None,
    random_state=None,
) -> np.ndarray:
    """Draw resamples of ``n_samples`` items as a count matrix.

    Parameters
    ----------
    n_samples : int
        Size of the data.
    n_resamples : int
        Number of resamples (rows).
    method : {"bootstrap", "subsample"}
        ``"bootstrap"``: ``n`` draws with replacement (multinomial counts);
        ``"subsample"``: ``round(fraction * n)`` distinct items (0/1 counts).
    fraction : float
        Subsample size as a fraction of the data.
    strata : list of int arrays, optional
        Disjoint groups of sample indices resampled separately, each keeping
        its size (bootstrap) or ``round(fraction * size)`` (subsample).
    random_state : int, Generator, RandomState or None
        Seed.

    Returns
    -------
    ndarray of shape (n_resamples, n_samples), unsigned integers
    """
    rng = _generator(random_state)
    strata = [np.arange(n_samples)] if strata is None else [np.asarray(g) for g in strata]
    # A bootstrap count can reach n in principle; pick the smallest dtype that cannot overflow.
    largest = max(g.size for g in strata)
    dtype = np.uint8 if largest < 256 or method == "subsample" else np.uint16
    if method == "bootstrap" and largest >= 65536:
        dtype = np.uint32
    counts = np.zeros((n_resamples, n_samples), dtype=dtype)
    for group in strata:
        k = group.size
        if k == 0:
            continue
        if method == "bootstrap":
            block = np.empty((n_resamples, k), dtype=dtype)
            for start in range(0, n_resamples, _ROWS_PER_DRAW):
                rows = min(_ROWS_PER_DRAW, n_resamples - start)
                idx = rng.integers(0, k, size=(rows, k), dtype=np.int64)
                idx += (np.arange(rows, dtype=np.int64) * k)[:, None]
                block[start : start + rows] = np.bincount(idx.ravel(), minlength=rows * k).reshape(
                    rows, k
                )
        else:
            m = int(round(fraction * k))
            if m == 0 and k > 0:
                m = 1
            base = np.zeros(k, dtype=dtype)
            base[:m] = 1
            block = rng.permuted(np.broadcast_to(base, (n_resamples, k)), axis=1)
        if group.size == n_samples and np.array_equal(group, np.arange(n_samples)):
            counts = block
        else:
            counts[:, group] = block
    return counts


def _generator(random_state) -> np.random.Generator:
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None or isinstance(random_state, (numbers.Integral, np.integer)):
        return np.random.default_rng(random_state)
    # A legacy RandomState: derive a Generator from it so that results stay reproducible.
    legacy = check_random_state(random_state)
    return np.random.default_rng(legacy.randint(0, 2**31 - 1))


def percentile_interval(distribution: np.ndarray, ci: float) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval over axis 0, ignoring NaN (undefined) resamples."""
    alpha = (1.0 - ci) / 2.0
    shape = distribution.shape[1:]
    flat = distribution.reshape(distribution.shape[0], -1)
    low = np.full(flat.shape[1], np.nan)
    high = np.full(flat.shape[1], np.nan)
    has = np.isfinite(flat).any(axis=0)
    if has.any():
        q = np.nanpercentile(flat[:, has], [100 * alpha, 100 * (1 - alpha)], axis=0)
        low[has], high[has] = q[0], q[1]
    return low.reshape(shape), high.reshape(shape)
