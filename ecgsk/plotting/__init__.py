"""Plots for ECGs and for their evaluation (matplotlib, imported lazily).

Examples
--------
>>> import numpy as np
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> from ecgsk.plotting import plot_ecg
>>> fig = plot_ecg(np.zeros((12, 2500)), sfreq=250)
>>> bool(fig.axes[0].get_xlim()[1] >= 250.0)
True
"""

from __future__ import annotations

from ._curves import plot_pr, plot_roc
from ._ecg import GAIN_MM_PER_MV, LAYOUT_3X4, PAPER_SPEED_MM_PER_S, plot_ecg
from ._evaluation import plot_calibration, plot_fairness, plot_label_efficiency

__all__ = [
    "GAIN_MM_PER_MV",
    "LAYOUT_3X4",
    "PAPER_SPEED_MM_PER_S",
    "plot_calibration",
    "plot_ecg",
    "plot_fairness",
    "plot_label_efficiency",
    "plot_pr",
    "plot_roc",
]
