"""Scorers: usable by name in cross_val_score/GridSearchCV, tolerant of absent labels."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import get_scorer, roc_auc_score
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.neighbors import KNeighborsClassifier

from ecgsk.metrics import (
    average_precision_macro,
    average_precision_macro_score,
    register_scorers,
    roc_auc_macro,
    roc_auc_macro_score,
)


class _LinearMultilabel(ClassifierMixin, BaseEstimator):
    """predict_proba returns (n_samples, n_labels), like ecgsk's ECGClassifier."""

    def __init__(self, alpha=1.0):
        self.alpha = alpha

    def fit(self, X, y):
        y = np.asarray(y, dtype=float)
        self.classes_ = np.array([f"label{j}" for j in range(y.shape[1])])
        gram = X.T @ X + self.alpha * np.eye(X.shape[1])
        self.coef_ = np.linalg.solve(gram, X.T @ (2 * y - 1))
        return self

    def predict_proba(self, X):
        return 1 / (1 + np.exp(-X @ self.coef_))

    def predict(self, X):
        return (self.predict_proba(X) >= 0.5).astype(int)


def _data(rng, n=90, n_labels=2):
    X = rng.normal(size=(n, 5))
    Y = (X[:, :n_labels] + rng.normal(0, 0.7, (n, n_labels)) > 0).astype(int)
    return X, Y


def test_registered_names_work_in_cross_val_score(rng):
    register_scorers()
    X, Y = _data(rng)
    est = _LinearMultilabel()
    cv = KFold(3)
    scores = cross_val_score(est, X, Y, cv=cv, scoring="roc_auc_macro")
    manual = []
    for train, test in cv.split(X):
        proba = est.fit(X[train], Y[train]).predict_proba(X[test])
        manual.append(np.mean([roc_auc_score(Y[test, j], proba[:, j]) for j in range(2)]))
    # Two labels named like binary classes must not be mistaken for a binary problem.
    np.testing.assert_allclose(scores, manual)
    ap = cross_val_score(est, X, Y, cv=cv, scoring="average_precision_macro")
    assert ap.shape == (3,) and np.all((ap > 0.5) & (ap <= 1))


def test_grid_search_by_name_and_list_of_arrays_response(rng):
    register_scorers()
    X, Y = _data(rng, n_labels=3)
    search = GridSearchCV(KNeighborsClassifier(), {"n_neighbors": [1, 9]},
                          scoring="roc_auc_macro", cv=3).fit(X, Y)
    assert search.best_params_ == {"n_neighbors": 9}  # 1-NN gives hard 0/1 scores
    knn = KNeighborsClassifier(9).fit(X, Y)  # predict_proba: a list of (n, 2) arrays
    proba = np.column_stack([p[:, 1] for p in knn.predict_proba(X)])
    assert roc_auc_macro(knn, X, Y) == pytest.approx(roc_auc_macro_score(Y, proba))


def test_label_absent_from_a_fold_warns_instead_of_failing(rng):
    X, Y = _data(rng, n=60, n_labels=2)
    Y = np.c_[Y, np.zeros(60, dtype=int)]
    Y[0, 2] = 1  # one positive: every other fold lacks it
    with pytest.warns(UndefinedMetricWarning, match="single class"):
        scores = cross_val_score(_LinearMultilabel(), X, Y, cv=KFold(3), scoring=roc_auc_macro)
    assert np.isfinite(scores).all()
    with pytest.warns(UndefinedMetricWarning):
        assert np.isnan(roc_auc_macro_score(np.zeros((4, 2)), rng.random((4, 2))))


def test_binary_targets_keep_sklearn_behaviour(rng):
    X = rng.normal(size=(80, 3))
    y = (X[:, 0] + rng.normal(0, 0.5, 80) > 0).astype(int)
    clf = LogisticRegression().fit(X, y)
    assert roc_auc_macro(clf, X, y) == pytest.approx(roc_auc_score(y, clf.predict_proba(X)[:, 1]))
    assert average_precision_macro(clf, X, y) == pytest.approx(
        average_precision_macro_score(y, clf.decision_function(X)))


def test_register_is_idempotent_and_get_scorer_returns_copies():
    assert register_scorers() == register_scorers() == ["roc_auc_macro", "average_precision_macro"]
    a, b = get_scorer("roc_auc_macro"), get_scorer("roc_auc_macro")
    assert a is not b and repr(a) == repr(roc_auc_macro)


def test_wrong_response_shape_is_a_clear_error(rng):
    X, Y = _data(rng)
    est = _LinearMultilabel().fit(X, Y)
    with pytest.raises(ValueError, match=r"expected \(n_samples, 3\)"):
        roc_auc_macro(est, X, np.c_[Y, Y[:, :1]])


@pytest.mark.parametrize("order", ["sklearn_first", "register_first"])
def test_registration_in_a_fresh_interpreter(order):
    imports = {
        "sklearn_first": "from sklearn.model_selection import cross_val_score, GridSearchCV\n"
                         "from ecgsk.metrics import register_scorers\nregister_scorers()\n",
        "register_first": "from ecgsk.metrics import register_scorers\nregister_scorers()\n"
                          "from sklearn.model_selection import cross_val_score, GridSearchCV\n",
    }[order]
    code = imports + textwrap.dedent("""
        import numpy as np
        from sklearn.linear_model import LogisticRegression
        rng = np.random.default_rng(0)
        X = rng.normal(size=(60, 3)); y = (X[:, 0] > 0).astype(int)
        print(cross_val_score(LogisticRegression(), X, y, cv=3, scoring="roc_auc_macro").min())
        GridSearchCV(LogisticRegression(), {"C": [1.0]}, scoring="average_precision_macro",
                     cv=3).fit(X, y)
    """)
    with warnings.catch_warnings():
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             timeout=120)
    assert out.returncode == 0, out.stderr
    assert float(out.stdout.strip()) > 0.8
