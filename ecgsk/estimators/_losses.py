"""Training losses for ECG classification: BCE, focal and asymmetric, with class weighting.

All losses take raw logits. For binary and multilabel tasks the logits are ``(B, n_labels)`` and
the targets a float 0/1 matrix of the same shape; for multiclass tasks the logits are
``(B, n_classes)`` and the targets integer class indices ``(B,)``.
"""

from __future__ import annotations

import numbers

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

LOSSES = ("bce", "focal", "asymmetric")


class FocalLoss(nn.Module):
    """Focal loss (Lin et al. 2017) on logits, for multilabel or multiclass targets.

    Down-weights well-classified examples by ``(1 - p_t) ** gamma`` so that training focuses on
    the hard ones, which helps with the rare labels of a 77-label ECG vocabulary.

    Parameters
    ----------
    gamma : float, default=2.0
        Focusing parameter; ``gamma=0`` gives back (weighted) cross-entropy.
    pos_weight : torch.Tensor of shape (n_labels,), optional
        Multilabel: weight of the positive term of each label (as in ``BCEWithLogitsLoss``).
    weight : torch.Tensor of shape (n_classes,), optional
        Multiclass: weight of each class (as in ``CrossEntropyLoss``).
    multiclass : bool, default=False
        Softmax over the classes (targets are indices) instead of one sigmoid per label.

    Examples
    --------
    >>> import torch
    >>> loss = FocalLoss(gamma=2.0)
    >>> float(loss(torch.tensor([[8.0, -8.0]]), torch.tensor([[1.0, 0.0]]))) < 1e-6
    True
    """

    def __init__(self, gamma=2.0, pos_weight=None, weight=None, multiclass=False):
        super().__init__()
        self.gamma = float(gamma)
        self.multiclass = bool(multiclass)
        self.register_buffer("pos_weight", pos_weight)
        self.register_buffer("weight", weight)

    def forward(self, logits, target):
        if self.multiclass:
            log_p = F.log_softmax(logits.float(), dim=1)
            log_pt = log_p.gather(1, target.long().unsqueeze(1)).squeeze(1)
            loss = -((1.0 - log_pt.exp()) ** self.gamma) * log_pt
            if self.weight is not None:
                w = self.weight[target.long()]
                return (loss * w).sum() / w.sum()
            return loss.mean()
        logits = logits.float()
        target = target.float()
        log_p = F.logsigmoid(logits)
        log_q = F.logsigmoid(-logits)
        pos = target * log_p * (1.0 - log_p.exp()) ** self.gamma
        neg = (1.0 - target) * log_q * (1.0 - log_q.exp()) ** self.gamma
        if self.pos_weight is not None:
            pos = pos * self.pos_weight
        return -(pos + neg).mean()


class AsymmetricLoss(nn.Module):
    """Asymmetric loss (Ridnik et al. 2021) for multilabel targets, on logits.

    Negatives are focused harder than positives (``gamma_neg > gamma_pos``) and easy negatives
    with a probability below ``clip`` are discarded, which counters the positive/negative
    imbalance of multilabel ECG statements.

    Parameters
    ----------
    gamma_neg : float, default=4.0
        Focusing parameter of the negative term.
    gamma_pos : float, default=0.0
        Focusing parameter of the positive term.
    clip : float, default=0.05
        Probability margin shifted off the negatives (0 disables it).
    pos_weight : torch.Tensor of shape (n_labels,), optional
        Weight of the positive term of each label.

    Examples
    --------
    >>> import torch
    >>> loss = AsymmetricLoss()
    >>> float(loss(torch.tensor([[8.0, -8.0]]), torch.tensor([[1.0, 0.0]]))) < 1e-3
    True
    """

    def __init__(self, gamma_neg=4.0, gamma_pos=0.0, clip=0.05, pos_weight=None):
        super().__init__()
        self.gamma_neg = float(gamma_neg)
        self.gamma_pos = float(gamma_pos)
        self.clip = float(clip)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, logits, target):
        target = target.float()
        p = torch.sigmoid(logits.float())
        p_neg = (p - self.clip).clamp(min=0.0) if self.clip > 0 else p
        eps = 1e-8
        pos = target * torch.log(p.clamp(min=eps)) * (1.0 - p) ** self.gamma_pos
        neg = (1.0 - target) * torch.log((1.0 - p_neg).clamp(min=eps)) * p_neg**self.gamma_neg
        if self.pos_weight is not None:
            pos = pos * self.pos_weight
        return -(pos + neg).mean()


def balanced_pos_weight(y: np.ndarray) -> np.ndarray:
    """Per-label ``n_negative / n_positive`` for a 0/1 matrix (1 where a label has no positive).

    Examples
    --------
    >>> import numpy as np
    >>> balanced_pos_weight(np.array([[1, 0], [0, 0], [0, 1], [0, 1]]))
    array([3., 1.], dtype=float32)
    """
    y = np.asarray(y, dtype=np.float64)
    n_pos = y.sum(axis=0)
    n_neg = y.shape[0] - n_pos
    with np.errstate(divide="ignore", invalid="ignore"):
        weight = np.where(n_pos > 0, n_neg / np.maximum(n_pos, 1), 1.0)
    return np.maximum(weight, 1e-3).astype(np.float32)


def balanced_class_weight(y_idx: np.ndarray, n_classes: int) -> np.ndarray:
    """``n / (n_classes * count)`` per class (sklearn's "balanced"), for class indices.

    Examples
    --------
    >>> import numpy as np
    >>> balanced_class_weight(np.array([0, 0, 0, 1]), 2)
    array([0.6666667, 2.       ], dtype=float32)
    """
    counts = np.bincount(np.asarray(y_idx, dtype=np.int64), minlength=n_classes).astype(np.float64)
    weight = len(y_idx) / (n_classes * np.maximum(counts, 1.0))
    return weight.astype(np.float32)


def resolve_pos_weight(pos_weight, y_enc: np.ndarray, task: str, n_outputs: int):
    """Turn the ``pos_weight`` parameter into a float32 array (or None) for the given task.

    Parameters
    ----------
    pos_weight : None, "balanced", float or array-like
        The estimator parameter.
    y_enc : ndarray
        Encoded training targets: a 0/1 matrix (binary, multilabel) or class indices.
    task : {"binary", "multiclass", "multilabel"}
    n_outputs : int
        Number of logits.

    Returns
    -------
    ndarray of shape (n_outputs,) or None

    Examples
    --------
    >>> import numpy as np
    >>> resolve_pos_weight("balanced", np.array([[1.0], [0.0], [0.0]]), "binary", 1)
    array([2.], dtype=float32)
    """
    if pos_weight is None:
        return None
    if isinstance(pos_weight, str):
        if pos_weight != "balanced":
            raise ValueError(f'pos_weight must be None, "balanced" or an array, got {pos_weight!r}')
        if task == "multiclass":
            return balanced_class_weight(y_enc, n_outputs)
        return balanced_pos_weight(y_enc)
    if isinstance(pos_weight, numbers.Real) and not isinstance(pos_weight, bool):
        weight = np.full(n_outputs, float(pos_weight), dtype=np.float32)
    else:
        weight = np.asarray(pos_weight, dtype=np.float32).reshape(-1)
    if weight.shape != (n_outputs,):
        raise ValueError(
            f"pos_weight has {weight.size} values, expected one per label/class ({n_outputs})"
        )
    if not np.all(np.isfinite(weight)) or np.any(weight <= 0):
        raise ValueError("pos_weight must hold positive finite numbers")
    return weight


def build_loss(loss, task: str, pos_weight: np.ndarray | None) -> nn.Module:
    """Build the criterion module for ``loss`` and the task.

    Parameters
    ----------
    loss : {"bce", "focal", "asymmetric"} or torch.nn.Module
        ``"bce"`` is binary cross-entropy for binary/multilabel tasks and categorical
        cross-entropy for multiclass ones. A module is used as it is.
    task : {"binary", "multiclass", "multilabel"}
    pos_weight : ndarray or None
        Output of :func:`resolve_pos_weight`.

    Returns
    -------
    torch.nn.Module

    Examples
    --------
    >>> build_loss("focal", "multilabel", None)
    FocalLoss()
    """
    if isinstance(loss, nn.Module):
        return loss
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES} or a torch.nn.Module, got {loss!r}")
    weight = None if pos_weight is None else torch.as_tensor(pos_weight, dtype=torch.float32)
    if task == "multiclass":
        if loss == "bce":
            return nn.CrossEntropyLoss(weight=weight)
        if loss == "focal":
            return FocalLoss(weight=weight, multiclass=True)
        raise ValueError(
            'loss="asymmetric" is defined for binary and multilabel targets; '
            'use "bce" or "focal" for multiclass targets'
        )
    if loss == "bce":
        return nn.BCEWithLogitsLoss(pos_weight=weight)
    if loss == "focal":
        return FocalLoss(pos_weight=weight)
    return AsymmetricLoss(pos_weight=weight)
