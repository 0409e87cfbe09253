"""Input checks shared by the metrics: one clear error for each kind of bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..labels import DEEPECG_LABELS


def _names_of(obj) -> list[str] | None:
    if isinstance(obj, pd.DataFrame):
        return [str(c) for c in obj.columns]
    if isinstance(obj, pd.Series) and obj.name is not None:
        return [str(obj.name)]
    return None


def _as_numeric(obj, name: str) -> np.ndarray:
    arr = obj.to_numpy() if isinstance(obj, (pd.DataFrame, pd.Series)) else np.asarray(obj)
    if arr.dtype == object:
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name} must hold numbers, got non-numeric values ({exc})") from exc
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{name} must hold numbers, got dtype {arr.dtype}")
    if np.iscomplexobj(arr):
        raise TypeError(f"{name} must hold real numbers, got complex values")
    return arr


def _is_pandas(obj) -> bool:
    return isinstance(obj, (pd.DataFrame, pd.Series))


def align_rows(named: dict):
    """Put every pandas argument in the row order of the first one, matching on the index.

    ``named`` maps argument names to values, the reference first (usually
    ``y_true``). Arrays and lists are positional and returned unchanged. A
    pandas argument whose index holds the same labels as the reference's in
    another order is reordered; one whose index holds other labels, or
    duplicates, raises ``ValueError``: matching such rows by position is how
    shuffled predictions silently score as chance.

    Examples
    --------
    >>> import pandas as pd
    >>> y = pd.Series([1, 0, 1], index=["a", "b", "c"])
    >>> s = pd.Series([0.2, 0.9, 0.8], index=["b", "c", "a"])
    >>> align_rows({"y_true": y, "y_score": s})["y_score"].tolist()
    [0.8, 0.2, 0.9]
    """
    out = dict(named)
    frames = [(name, obj) for name, obj in named.items() if _is_pandas(obj)]
    if len(frames) < 2:
        return out
    ref_name, ref = frames[0]
    ref_index = ref.index
    for name, obj in frames[1:]:
        index = obj.index
        if index.equals(ref_index):
            continue
        hint = (
            f"give both the same index (for example {name} = {name}.set_axis({ref_name}.index) "
            "when the rows are already in the same order), or pass arrays to match rows by "
            "position"
        )
        if len(index) != len(ref_index):
            raise ValueError(
                f"{name} has {len(index)} rows but {ref_name} has {len(ref_index)}"
            )
        if not (index.is_unique and ref_index.is_unique):
            dup_name = ref_name if not ref_index.is_unique else name
            raise ValueError(
                f"{ref_name} and {name} have different indexes and {dup_name}'s index has "
                f"duplicate labels, so their rows cannot be matched: {hint}"
            )
        missing = ref_index.difference(index, sort=False)
        if len(missing):
            extra = index.difference(ref_index, sort=False)
            raise ValueError(
                f"{ref_name} and {name} are pandas objects whose indexes name different rows "
                f"(in {ref_name} only: {list(missing[:3])}, in {name} only: "
                f"{list(extra[:3])}); rows are matched on the index, not by position: {hint}"
            )
        out[name] = obj.loc[ref_index]
    return out


def check_binary_targets(y_true, name: str = "y_true") -> np.ndarray:
    """Return ``y_true`` as a boolean array, or raise if it is not 0/1."""
    arr = _as_numeric(y_true, name)
    if arr.dtype == bool:
        return arr
    if np.isnan(arr.astype(np.float64, copy=False)).any():
        raise ValueError(f"{name} contains NaN; missing labels must be removed before evaluation")
    values = np.unique(arr)
    if not np.isin(values, (0, 1)).all():
        bad = values[~np.isin(values, (0, 1))][:5].tolist()
        raise ValueError(f"{name} must be binary (0/1 or bool) per label; found values {bad}")
    return arr.astype(bool)


def check_scores(y_score, name: str = "y_score") -> np.ndarray:
    """Return ``y_score`` as float64, or raise on NaN or inf."""
    arr = _as_numeric(y_score, name).astype(np.float64)
    if not np.isfinite(arr).all():
        kind = "NaN" if np.isnan(arr).any() else "inf"
        where = np.argwhere(~np.isfinite(arr))[0].tolist()
        raise ValueError(f"{name} contains {kind} (first at index {where}); scores must be finite")
    return arr


def check_targets(y_true, y_score, labels=None, *, y_score_name: str = "y_score"):
    """Validate a (multi)label ground truth and its scores.

    When both are pandas objects, rows are matched on the index
    (:func:`align_rows`); arrays are matched by position.

    Returns
    -------
    y : ndarray of bool, shape (n_samples, n_labels)
    s : ndarray of float64, shape (n_samples, n_labels)
    names : list of str
        Label names: the DataFrame columns, ``labels``, the 77 DeepECG labels
        for 77 unnamed columns, else ``"label_0"``, ``"label_1"``, ...
    one_dim : bool
        Whether the input was 1-D (a single binary label).
    """
    y_score = align_rows({"y_true": y_true, y_score_name: y_score})[y_score_name]
    true_names = _names_of(y_true)
    score_names = _names_of(y_score)
    if isinstance(y_true, pd.DataFrame) and isinstance(y_score, pd.DataFrame):
        missing = [c for c in true_names if c not in score_names]
        if missing or len(true_names) != len(score_names):
            raise ValueError(
                f"{y_score_name} and y_true have different label columns; "
                f"missing from {y_score_name}: {missing[:5]}"
            )
        y_score = y_score[list(y_true.columns)]
        score_names = true_names
    y = check_binary_targets(y_true)
    s = check_scores(y_score, y_score_name)
    if y.ndim not in (1, 2) or y.shape[0] == 0:
        raise ValueError(f"y_true must be 1-D or 2-D and non-empty, got shape {y.shape}")
    if y.shape != s.shape:
        raise ValueError(
            f"y_true and {y_score_name} have mismatched shapes {y.shape} and {s.shape}"
        )
    one_dim = y.ndim == 1
    if one_dim:
        y, s = y[:, None], s[:, None]
    if y.shape[1] == 0:
        raise ValueError("y_true has no label columns")
    names = true_names if true_names is not None and not one_dim else score_names
    if one_dim and names is None:
        names = true_names
    if labels is not None:
        labels = [str(label) for label in labels]
        if names is not None and not one_dim:
            unknown = [label for label in labels if label not in names]
            if unknown:
                raise ValueError(f"labels not found among the columns of y_true: {unknown[:5]}")
            cols = [names.index(label) for label in labels]
            y, s, names = y[:, cols], s[:, cols], labels
        elif len(labels) != y.shape[1]:
            raise ValueError(f"labels names {len(labels)} labels but y_true has {y.shape[1]} columns")
        else:
            names = labels
    if names is None:
        if y.shape[1] == len(DEEPECG_LABELS):
            names = list(DEEPECG_LABELS)
        else:
            names = [f"label_{j}" for j in range(y.shape[1])]
    if len(set(names)) != len(names):
        raise ValueError("label names must be unique")
    return np.ascontiguousarray(y), np.ascontiguousarray(s), list(names), one_dim
