"""skorch callbacks of the ECG estimators: validation scoring, resumable early stopping,
per-epoch checkpoints, a wall-clock budget and a step-wise learning-rate schedule.

Stopping works in two phases: the early-stopping and time-budget callbacks only *request* a
stop (``net.stop_reason_``) at the end of an epoch, the checkpoint callback then records the
complete state of that epoch (including the request), and the net raises ``KeyboardInterrupt``
at the start of the next epoch. Every callback therefore sees every epoch, and a checkpoint
always describes a consistent point from which training can be resumed.
"""

from __future__ import annotations

import math
import time
from copy import deepcopy

import numpy as np
import torch
from skorch.callbacks import Callback, EarlyStopping, LRScheduler
from torch.optim.lr_scheduler import LambdaLR

SCHEDULES = ("cosine", "onecycle")


class ValidationScore(Callback):
    """Score the validation predictions of every epoch and record them in the history.

    The predictions are gathered during skorch's validation pass (no second forward pass);
    the score itself comes from ``net._validation_score(y_true, y_pred)``.

    Parameters
    ----------
    name : str
        History key, e.g. ``"valid_auroc"``.
    lower_is_better : bool, default=False
        Direction of the score; used to flag the best epoch (``<name>_best``).
    """

    def __init__(self, name, lower_is_better=False):
        self.name = name
        self.lower_is_better = lower_is_better

    def initialize(self):
        self.y_true_ = []
        self.y_pred_ = []
        self.best_ = None
        return self

    def on_train_begin(self, net, **kwargs):
        previous = [row.get(self.name) for row in net.history]
        previous = [v for v in previous if v is not None and np.isfinite(v)]
        if previous:
            self.best_ = min(previous) if self.lower_is_better else max(previous)

    def on_epoch_begin(self, net, **kwargs):
        self.y_true_ = []
        self.y_pred_ = []

    def on_batch_end(self, net, batch=None, training=False, y_pred=None, **kwargs):
        if training or y_pred is None:
            return
        self.y_pred_.append(y_pred.detach().float().cpu())
        self.y_true_.append(torch.as_tensor(batch[1]).cpu())

    def on_epoch_end(self, net, **kwargs):
        if not self.y_pred_:
            return
        y_pred = torch.cat(self.y_pred_).numpy()
        y_true = torch.cat(self.y_true_).numpy()
        score = float(net._validation_score(y_true, y_pred))
        net.history.record(self.name, score)
        is_best = False
        if np.isfinite(score):
            better = self.best_ is None or (
                score < self.best_ if self.lower_is_better else score > self.best_
            )
            if better:
                self.best_ = score
                is_best = True
        net.history.record(self.name + "_best", is_best)
        self.y_true_ = []
        self.y_pred_ = []


class ResumableEarlyStopping(EarlyStopping):
    """skorch's ``EarlyStopping`` (best weights restored) that survives an interruption.

    Instead of raising at once it sets ``net.stop_reason_`` so that the epoch's checkpoint is
    written first, and its counters and best weights are part of that checkpoint.
    """

    def on_train_begin(self, net, **kwargs):
        super().on_train_begin(net, **kwargs)
        state = (getattr(net, "resume_state_", None) or {}).get("early_stopping")
        if state:
            self.load_state(state, device=net.device_)

    def on_epoch_end(self, net, **kwargs):
        try:
            super().on_epoch_end(net, **kwargs)
        except KeyboardInterrupt:
            net.stop_reason_ = "early_stopping"
        finally:
            weights = self.best_model_weights_
            if weights is not None and net.module_ is not net._bare_module():
                # skorch snapshots net.module_: under a distributed (DDP) wrapper its keys carry
                # a "module." prefix that the bare network does not have
                self.best_model_weights_ = {
                    k.removeprefix("module."): v for k, v in weights.items()
                }

    def on_train_end(self, net, **kwargs):
        last_epoch = net.history[-1, "epoch"] if len(net.history) else self.best_epoch_
        if self.load_best and self.best_model_weights_ is not None and (
            self.best_epoch_ != last_epoch
        ):
            net._bare_module().load_state_dict(self.best_model_weights_)
            self._sink(f"Restoring best model from epoch {self.best_epoch_}.", verbose=net.verbose)

    def state(self):
        """The counters and best weights as a dict of plain values and tensors."""
        weights = self.best_model_weights_
        return {
            "misses": int(self.misses_),
            "dynamic_threshold": float(self.dynamic_threshold_),
            "best_epoch": int(self.best_epoch_),
            "best_model_weights": None if weights is None else {k: v for k, v in weights.items()},
        }

    def load_state(self, state, device="cpu"):
        """Restore what :meth:`state` returned."""
        self.misses_ = int(state["misses"])
        self.dynamic_threshold_ = float(state["dynamic_threshold"])
        self.best_epoch_ = int(state["best_epoch"])
        weights = state["best_model_weights"]
        self.best_model_weights_ = (
            None if weights is None else {k: v.to(device) for k, v in deepcopy(weights).items()}
        )


class TimeBudget(Callback):
    """Keep training within ``max_time`` seconds.

    Two checks: the training batches of an epoch stop being drawn once the budget is spent
    (the net's training iterator honours ``net.train_deadline_``), so even a long first epoch
    ends on time and is still validated and checkpointed; and after each epoch a stop is
    requested when the next epoch would end after the budget.

    Parameters
    ----------
    max_time : float
        Wall-clock budget in seconds for one call to ``fit``.
    """

    def __init__(self, max_time):
        self.max_time = max_time

    def on_train_begin(self, net, **kwargs):
        self.start_ = time.monotonic()
        self.epoch_start_ = self.start_
        net.train_deadline_ = self.start_ + self.max_time

    def on_train_end(self, net, **kwargs):
        net.__dict__.pop("train_deadline_", None)

    def on_epoch_begin(self, net, **kwargs):
        self.epoch_start_ = time.monotonic()

    def on_epoch_end(self, net, **kwargs):
        if net.stop_reason_ is not None:
            return
        now = time.monotonic()
        spent = now - self.start_
        last = now - self.epoch_start_
        final = len(net.history) >= getattr(net, "final_epoch_", math.inf)
        # the last planned epoch ends the run anyway: only a spent budget is a reason to report
        if spent >= self.max_time or (not final and spent + last > self.max_time):
            net.stop_reason_ = "max_time"


class EpochCheckpoint(Callback):
    """Write the complete training state at the end of every epoch (``net._write_checkpoint``)."""

    def on_epoch_end(self, net, **kwargs):
        net._write_checkpoint()


class Schedule:
    """Learning-rate multiplier as a pure function of the optimisation step.

    Being stateless, it gives the same learning rate at a given step whether training ran
    uninterrupted or was resumed from a checkpoint.

    Parameters
    ----------
    kind : {"cosine", "onecycle"}
        ``"cosine"``: cosine decay from 1 to ``final``; ``"onecycle"``: cosine warm-up from
        ``1 / div`` to 1 over the first ``pct_start`` of the steps, then cosine decay to
        ``1 / (div * final_div)``.
    total_steps : int, optional
        Number of optimisation steps of the whole run (set at the start of training).
    pct_start : float, default=0.3
        Warm-up fraction of the one-cycle schedule.
    final : float, default=0.01
        Final multiplier of the cosine schedule.
    div, final_div : float, default=25 and 1000
        Start (``1 / div``) and end (``1 / (div * final_div)``) multipliers of one-cycle.
    offset : int, default=0
        Step at which the schedule starts (the steps of earlier ``fit`` calls of a
        ``warm_start`` estimator).

    Examples
    --------
    >>> s = Schedule("cosine", total_steps=10)
    >>> round(s(0), 3), round(s(10), 3)
    (1.0, 0.01)
    """

    def __init__(
        self, kind, total_steps=None, pct_start=0.3, final=0.01, div=25.0, final_div=1e3, offset=0
    ):
        self.kind = kind
        self.total_steps = total_steps
        self.pct_start = pct_start
        self.final = final
        self.div = div
        self.final_div = final_div
        self.offset = offset

    def __call__(self, step):
        total = max(int(self.total_steps or 1), 1)
        step = min(max(step - self.offset, 0), total)
        if self.kind == "cosine":
            return self.final + (1.0 - self.final) * 0.5 * (1.0 + math.cos(math.pi * step / total))
        warm = max(int(round(self.pct_start * total)), 1)
        start, end = 1.0 / self.div, 1.0 / (self.div * self.final_div)
        if step < warm:
            return start + (1.0 - start) * 0.5 * (1.0 - math.cos(math.pi * step / warm))
        frac = (step - warm) / max(total - warm, 1)
        return end + (1.0 - end) * 0.5 * (1.0 + math.cos(math.pi * frac))


class StepLRSchedule(LRScheduler):
    """skorch ``LRScheduler`` stepping a :class:`Schedule` every batch, resumable.

    skorch counts the batches already done from the history (``batch_idx_``); the torch
    scheduler is created at that step, so a resumed run continues the same curve. With a time
    budget (``net.max_time``), the schedule advances by the larger of the steps done and the
    share of the budget spent, so that it completes by the deadline however many epochs fit.

    Parameters
    ----------
    kind : {"cosine", "onecycle"}
        See :class:`Schedule`.
    """

    def __init__(self, kind="cosine"):
        super().__init__(policy=LambdaLR, step_every="batch", event_name=None)
        self.kind = kind

    @property
    def kwargs(self):
        return {}

    def on_train_begin(self, net, **kwargs):
        self.schedule_ = Schedule(
            self.kind,
            total_steps=net.max_epochs * net.steps_per_epoch_,
            offset=net.schedule_offset_,
        )
        budget = getattr(net, "max_time", None)
        self.budget_ = None if budget is None else (time.monotonic(), float(budget))
        for group in net.optimizer_.param_groups:
            group.setdefault("initial_lr", group["lr"])
        super().on_train_begin(net, **kwargs)

    def _lr_factor(self, step):
        if self.budget_ is not None:
            start, budget = self.budget_
            spent = min((time.monotonic() - start) / budget, 1.0)
            step = max(step, self.schedule_.offset + spent * self.schedule_.total_steps)
        return self.schedule_(step)

    def _get_scheduler(self, net, policy, **scheduler_kwargs):
        return LambdaLR(net.optimizer_, self._lr_factor, last_epoch=self.batch_idx_ - 1)

    def on_train_end(self, net, **kwargs):
        # the torch scheduler holds the optimizer; dropping it keeps pickles device-free
        self.lr_scheduler_ = None
