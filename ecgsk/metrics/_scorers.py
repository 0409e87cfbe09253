"""scikit-learn scorers for multilabel ECG models that tolerate labels absent from a fold."""

from __future__ import annotations

import sys
import warnings

import numpy as np
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import make_scorer

# scikit-learn keeps its scorer registry and parameter constraints private; if a future version
# moves them, the scorer objects keep working and register_scorers() warns instead of failing.
try:
    from sklearn.metrics._scorer import _SCORERS
except ImportError:  # pragma: no cover - depends on the scikit-learn version
    _SCORERS = None
try:
    from sklearn.utils._param_validation import StrOptions
except ImportError:  # pragma: no cover
    StrOptions = None

from ._checks import check_targets
from ._ranking import ranking_scores


def _macro_over_defined(y_true, y_score, which: int, metric_name: str) -> float:
    y, s, names, _ = check_targets(y_true, y_score)
    values = ranking_scores(y, s)[which]
    skipped = [names[j] for j in np.flatnonzero(~np.isfinite(values))]
    if skipped:
        warnings.warn(
            f"{metric_name}: {len(skipped)} label(s) have a single class in this fold and are "
            f"left out of the macro average: {skipped[:5]}",
            UndefinedMetricWarning,
            stacklevel=3,
        )
    if len(skipped) == values.size:
        return float("nan")
    return float(np.nanmean(values))


def roc_auc_macro_score(y_true, y_score) -> float:
    """Mean AUROC over the labels that have both classes in ``y_true``.

    Labels with a single class (common in small cross-validation folds) are
    skipped with an ``UndefinedMetricWarning`` instead of raising; NaN if no
    label has both classes.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_labels)
        Binary ground truth.
    y_score : array-like of the same shape
        Scores.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([[0, 1], [1, 1], [0, 1], [1, 1]])
    >>> s = np.array([[0.1, 0.2], [0.8, 0.3], [0.4, 0.9], [0.6, 0.1]])
    >>> import warnings; warnings.simplefilter("ignore")
    >>> roc_auc_macro_score(y, s)
    1.0
    """
    return _macro_over_defined(y_true, y_score, 0, "roc_auc_macro")


def average_precision_macro_score(y_true, y_score) -> float:
    """Mean average precision over the labels that have both classes in ``y_true``.

    Skips single-class labels with an ``UndefinedMetricWarning``, like
    :func:`roc_auc_macro_score`.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_labels)
        Binary ground truth.
    y_score : array-like of the same shape
        Scores.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> average_precision_macro_score(np.array([[0, 1], [1, 0]]), np.array([[0.2, 0.9], [0.7, 0.1]]))
    1.0
    """
    return _macro_over_defined(y_true, y_score, 1, "average_precision_macro")


def _multilabel_response(estimator, X, n_labels: int) -> np.ndarray:
    """Scores of shape (n_samples, n_labels) from predict_proba or decision_function."""
    for method in ("predict_proba", "decision_function"):
        if hasattr(estimator, method):
            out = getattr(estimator, method)(X)
            break
    else:
        raise AttributeError(
            f"{type(estimator).__name__} has neither predict_proba nor decision_function"
        )
    if isinstance(out, list):
        # scikit-learn's multi-output classifiers give one (n_samples, 2) array per label.
        out = np.column_stack([np.asarray(o)[:, -1] for o in out])
    out = np.asarray(out.to_numpy() if hasattr(out, "to_numpy") else out, dtype=np.float64)
    if out.ndim != 2 or out.shape[1] != n_labels:
        raise ValueError(
            f"{type(estimator).__name__}.{method} returned shape {out.shape}; expected "
            f"(n_samples, {n_labels}) for {n_labels} labels"
        )
    return out


class _MultilabelScorer(type(make_scorer(roc_auc_macro_score))):
    """A make_scorer scorer whose response handles (n_samples, n_labels) probabilities.

    scikit-learn's response helper infers the task from ``classes_``; for a
    multilabel ECG model with two labels it would mistake the label names for
    binary classes and keep one column. Multilabel targets are routed here
    instead; binary targets keep scikit-learn's behaviour.
    """

    def _score(self, method_caller, estimator, X, y_true, **kwargs):
        y_arr = np.asarray(y_true.to_numpy() if hasattr(y_true, "to_numpy") else y_true)
        if y_arr.ndim == 2:
            y_score = _multilabel_response(estimator, X, y_arr.shape[1])
            return self._sign * self._score_func(y_arr, y_score, **{**self._kwargs, **kwargs})
        return super()._score(method_caller, estimator, X, y_true, **kwargs)


def _make(score_func) -> _MultilabelScorer:
    base = make_scorer(score_func, response_method=("predict_proba", "decision_function"))
    scorer = _MultilabelScorer(base._score_func, base._sign, base._kwargs, base._response_method)
    return scorer


roc_auc_macro = _make(roc_auc_macro_score)
"""Scorer object: macro AUROC over labels present in the fold (``"roc_auc_macro"``)."""

average_precision_macro = _make(average_precision_macro_score)
"""Scorer object: macro average precision over labels present in the fold."""

SCORERS = {"roc_auc_macro": roc_auc_macro, "average_precision_macro": average_precision_macro}
"""The scorers :func:`register_scorers` adds to scikit-learn, by name."""

# Names every scikit-learn version has: a StrOptions holding them all is a scorer-name constraint.
_BUILTIN_MARKERS = {"roc_auc", "accuracy", "neg_log_loss"}


def _patch_constraints(constraints, names) -> int:
    patched = 0
    if StrOptions is None or not isinstance(constraints, dict):
        return 0
    for options in constraints.values():
        if not isinstance(options, list):
            continue
        for constraint in options:
            if isinstance(constraint, StrOptions) and _BUILTIN_MARKERS <= constraint.options:
                if not set(names) <= constraint.options:
                    constraint.options.update(names)
                    patched += 1
    return patched


def register_scorers() -> list[str]:
    """Make ``"roc_auc_macro"`` and ``"average_precision_macro"`` usable by name.

    Adds the scorers to scikit-learn's registry (so ``get_scorer``,
    ``cross_val_score(..., scoring="roc_auc_macro")`` and ``GridSearchCV``
    accept the names) and to the parameter constraints that scikit-learn
    modules imported so far built from the registry at import time; modules
    imported later read the updated registry. Safe to call repeatedly.

    This writes into scikit-learn's private scorer registry, so ecgsk never calls it itself:
    it is an explicit opt-in. Without it, pass the scorer objects instead of names
    (``scoring=ecgsk.metrics.roc_auc_macro``), which needs nothing registered.

    Returns
    -------
    list of str
        The registered names.

    Examples
    --------
    >>> from sklearn.metrics import get_scorer
    >>> register_scorers()
    ['roc_auc_macro', 'average_precision_macro']
    >>> get_scorer("roc_auc_macro")
    make_scorer(roc_auc_macro_score, response_method=('predict_proba', 'decision_function'))
    """
    names = list(SCORERS)
    if _SCORERS is None:  # pragma: no cover - depends on the scikit-learn version
        warnings.warn(
            "this scikit-learn version has no scorer registry ecgsk knows; pass the scorer "
            "objects ecgsk.metrics.roc_auc_macro / average_precision_macro instead of names",
            RuntimeWarning,
            stacklevel=2,
        )
        return []
    _SCORERS.update(SCORERS)
    for module_name, module in list(sys.modules.items()):
        if module is None or not module_name.startswith("sklearn"):
            continue
        for obj in list(vars(module).values()):
            # Functions decorated with validate_params, and estimator classes.
            _patch_constraints(getattr(obj, "_skl_parameter_constraints", None), names)
            if isinstance(obj, type):
                _patch_constraints(obj.__dict__.get("_parameter_constraints"), names)
    return names
