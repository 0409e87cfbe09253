"""Clinical evaluation of ECG classifiers.

Per-label and per-category AUROC, AUPRC, F1, sensitivity, specificity,
PPV and NPV with bootstrap confidence intervals, the DeLong test for two
correlated AUROCs, fairness gaps across patient groups, threshold selection,
calibration, and scikit-learn scorers that tolerate labels absent from a fold.
This package never imports torch.

- :func:`classification_report`: the paper's table, per label and per
  category (macro and micro), with bootstrap or 70% subsampling intervals.
- :func:`bootstrap_ci`: intervals for AUROC/AUPRC (vectorised over resamples)
  or any metric.
- :func:`delong_test`: two correlated AUROCs (fast DeLong, Sun & Xu 2014).
- :func:`fairness_report` and :func:`age_bins`: TPR/FPR gaps across groups.
- :func:`select_thresholds`: Youden, F1, or a sensitivity/specificity target.
- :func:`expected_calibration_error`, :func:`brier_score`,
  :func:`reliability_curve`: calibration.
- :data:`roc_auc_macro`, :data:`average_precision_macro` and
  :func:`register_scorers`: scikit-learn scorer objects (``scoring=roc_auc_macro``), and an
  explicit opt-in that makes their names known to scikit-learn.

Examples
--------
>>> import numpy as np
>>> from ecgsk.metrics import select_thresholds
>>> select_thresholds(np.array([0, 1, 1, 0]), np.array([0.2, 0.9, 0.6, 0.5]))
0.6
"""

from __future__ import annotations

from ._bootstrap import BootstrapResult, bootstrap_ci
from ._calibration import brier_score, expected_calibration_error, reliability_curve
from ._delong import DeLongResult, delong_test
from ._fairness import FairnessReport, age_bins, fairness_report
from ._ranking import average_precision_per_label, roc_auc_per_label
from ._report import classification_report
from ._scorers import (
    average_precision_macro,
    average_precision_macro_score,
    register_scorers,
    roc_auc_macro,
    roc_auc_macro_score,
)
from ._thresholds import select_thresholds

__all__ = [
    "age_bins",
    "average_precision_macro",
    "average_precision_macro_score",
    "average_precision_per_label",
    "bootstrap_ci",
    "BootstrapResult",
    "brier_score",
    "classification_report",
    "delong_test",
    "DeLongResult",
    "expected_calibration_error",
    "fairness_report",
    "FairnessReport",
    "register_scorers",
    "reliability_curve",
    "roc_auc_macro",
    "roc_auc_macro_score",
    "roc_auc_per_label",
    "select_thresholds",
]
