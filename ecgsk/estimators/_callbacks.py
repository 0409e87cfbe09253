"""skorch callbacks of the ECG estimators: validation scoring, early stopping that survives an
interruption, checkpoints and resume, a wall-clock budget and a step-wise learning-rate schedule.

Stopping works in two phases: early stopping and the time budget only *request* a stop
(``net.stop_reason_``) at the end of an epoch, so that every callback, the checkpoint included,
sees that epoch; :class:`TrainingControl` then ends training at the start of the next one.
Files are written only by :class:`TrainingCheckpoint`, which the estimators add only when the
user asks for checkpoints (``checkpoint_dir=``) or resumes a run (``resume=``).
"""

from __future__ import annotations

import json
import math
import os
import time
import warnings
from copy import deepcopy
from pathlib import Path

import numpy as np
import torch
from skorch.callbacks import Callback, Checkpoint, EarlyStopping, EpochScoring, LRScheduler
from skorch.history import History
from torch.optim.lr_scheduler import LambdaLR

SCHEDULES = ("cosine", "onecycle")
CHECKPOINT_FILE = "checkpoint.pt"
CHECKPOINT_FORMAT = 1


def bare_module(module):
    """``module`` without a distributed (DDP) wrapper."""
    if isinstance(module, torch.nn.parallel.DistributedDataParallel):
        return module.module
    return module


def _json_default(value):
    if isinstance(value, (np.generic, torch.Tensor)):
        return value.tolist() if getattr(value, "ndim", 0) else value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot store {type(value).__name__} in the training history")


def as_json(value):
    """``value`` as plain JSON types (numpy and torch scalars converted)."""
    return json.loads(json.dumps(value, default=_json_default))


# ---------------------------------------------------------------------------- validation score
def _validation_score(net, X, y):
    """EpochScoring function: ``net._validation_score(y, logits)`` on the validation logits.

    Under skorch's caching, ``net.forward`` returns the logits of the validation pass that
    just ran, so scoring costs no second forward pass.
    """
    logits = net.forward(X, device="cpu").float().numpy()
    y = net._dataset_targets(X)  # all of them, also when a distributed run shards the batches
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # labels with a single class in the validation split
        return float(net._validation_score(y, logits))


def validation_scoring(name, lower_is_better=False):
    """A skorch ``EpochScoring`` of the validation split, reusing the validation pass.

    Examples
    --------
    >>> validation_scoring("valid_auroc").use_caching
    True
    """
    return EpochScoring(
        _validation_score, lower_is_better=lower_is_better, on_train=False, name=name,
        use_caching=True,
    )


# ---------------------------------------------------------------------------- stopping
class TrainingDiverged(RuntimeError):
    """Training produced a non-finite loss or non-finite validation outputs."""


def _divergence_hint(net) -> str:
    return (
        f"try a lower lr (now {getattr(net, 'lr_', net.lr):g}), gradient clipping (grad_clip=1.0), amp=False, or "
        "inputs normalised the way the network expects (e.g. make_deepecg_preprocessing)"
    )


class TrainingControl(Callback):
    """First callback of every fit: reseeds each epoch, ends training when a stop is requested,
    and stops a diverged run with :class:`TrainingDiverged`.

    With an integer ``net.random_state``, torch and the training loader's generator are seeded
    from ``(random_state, epoch)`` at the start of every epoch, so that a resumed run draws the
    random numbers the uninterrupted run would have drawn.
    """

    def on_batch_end(self, net, batch=None, training=False, loss=None, y_pred=None, **kwargs):
        what = None
        if loss is not None and not bool(torch.isfinite(loss.detach()).all()):
            what = f"the {'training' if training else 'validation'} loss is {float(loss.detach()):g}"
        elif not training and isinstance(y_pred, torch.Tensor):
            bad = ~torch.isfinite(y_pred.detach()).reshape(len(y_pred), -1).all(dim=1)
            if bool(bad.any()):
                what = f"the network's outputs are NaN or infinite for {int(bad.sum())} " \
                       f"validation ECG(s) of a batch of {len(y_pred)}"
        if what is not None:
            batch_no = len(net.history[-1, "batches"])
            raise TrainingDiverged(
                f"training diverged in epoch {len(net.history)} (batch {batch_no}): {what}; "
                + _divergence_hint(net)
            )

    def on_epoch_begin(self, net, **kwargs):
        if net.stop_reason_ is not None:
            del net.history[-1]  # the row skorch opened for an epoch that will not run
            raise KeyboardInterrupt
        if net.random_state is not None:
            seed = int(np.random.SeedSequence([int(net.random_state), len(net.history)])
                       .generate_state(1)[0])
            torch.manual_seed(seed)
            net.loader_generator_.manual_seed(seed)


class ECGEarlyStopping(EarlyStopping):
    """skorch's ``EarlyStopping`` (best weights kept in memory) that can be continued.

    It requests a stop (``net.stop_reason_``) instead of raising, snapshots and restores the
    weights of the network without its distributed wrapper, and an interrupted fit keeps the
    last weights (``interrupted_weights_``) so that it can continue where it stopped.
    ``pending_state_`` (set before training) restores the counters of an earlier run.
    """

    pending_state_ = None
    interrupted_weights_ = None

    def on_train_begin(self, net, **kwargs):
        super().on_train_begin(net, **kwargs)
        if self.pending_state_ is not None:
            self.load_state(self.pending_state_, device=net.device_)
            self.pending_state_ = None
        self.interrupted_weights_ = None

    def on_epoch_end(self, net, **kwargs):
        try:
            super().on_epoch_end(net, **kwargs)
        except KeyboardInterrupt:
            net.stop_reason_ = "early_stopping"
        weights = self.best_model_weights_
        if weights is not None and net.module_ is not bare_module(net.module_):
            self.best_model_weights_ = {k.removeprefix("module."): v for k, v in weights.items()}

    def on_train_end(self, net, **kwargs):
        module = bare_module(net.module_)
        if net.stop_reason_ is None and len(net.history) < getattr(net, "final_epoch_", 0):
            self.interrupted_weights_ = deepcopy(module.state_dict())
        last_epoch = net.history[-1, "epoch"] if len(net.history) else self.best_epoch_
        if self.load_best and self.best_model_weights_ is not None and (
            self.best_epoch_ != last_epoch
        ):
            module.load_state_dict(self.best_model_weights_)
            if net.verbose:
                print(f"Restoring best model from epoch {self.best_epoch_}.")

    def state(self):
        """The counters and best weights as a dict of plain values and tensors."""
        return {
            "misses": int(self.misses_),
            "dynamic_threshold": float(self.dynamic_threshold_),
            "best_epoch": int(self.best_epoch_),
            "best_model_weights": self.best_model_weights_,
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


# ---------------------------------------------------------------------------- checkpoints
class TrainingCheckpoint(Checkpoint):
    """skorch ``Checkpoint`` writing the complete training state at the end of every epoch.

    One file, ``<dirname>/checkpoint.pt`` (written then renamed, so it is never half-written):
    network and optimiser state, history, early-stopping counters and best weights, the stop
    request, the validation split and what the data looked like. Only the main process of a
    distributed run writes.

    Parameters
    ----------
    dirname : str or path
        The run directory.
    """

    def __init__(self, dirname):
        super().__init__(
            monitor=None, f_params=None, f_optimizer=None, f_criterion=None, f_history=None,
            dirname=str(dirname), event_name=None,
        )

    @property
    def path(self) -> Path:
        return Path(self.dirname) / CHECKPOINT_FILE

    def save_model(self, net):
        accelerator = getattr(net, "accelerator", None)
        if accelerator is not None and not accelerator.is_main_process:
            return
        es = dict(net.callbacks_).get("early_stopping")
        split = net.split_ if isinstance(net.split_, tuple) else None
        state = {
            "format": CHECKPOINT_FORMAT,
            "estimator": type(net).__name__,
            "module": bare_module(net.module_).state_dict(),
            "optimizer": net.optimizer_.state_dict(),
            "history": json.dumps(list(net.history), default=_json_default),
            "early_stopping": None if es is None else es.state(),
            "stop_reason": net.stop_reason_,
            "schedule_offset": int(net.schedule_offset_),
            "split": None if split is None else [torch.as_tensor(s) for s in split],
            "meta": as_json(net.checkpoint_meta_),
        }
        tmp = self.path.with_suffix(".tmp")
        torch.save(state, tmp)
        os.replace(tmp, self.path)


def find_checkpoint(path) -> Path:
    """The checkpoint file named by ``resume=``: a file, a run directory or a checkpoint_dir."""
    path = Path(path)
    if path.is_dir():
        direct = path / CHECKPOINT_FILE
        if direct.exists():
            return direct
        runs = sorted(path.glob(f"*/{CHECKPOINT_FILE}"), key=lambda p: p.stat().st_mtime)
        if not runs:
            raise FileNotFoundError(f"resume: no {CHECKPOINT_FILE} found in {path}")
        return runs[-1]
    if not path.exists():
        raise FileNotFoundError(f"resume: checkpoint {path} does not exist")
    return path


def read_checkpoint(path, estimator: str) -> dict:
    """Load a :class:`TrainingCheckpoint` file (tensors and plain data only)."""
    path = find_checkpoint(path)
    state = torch.load(path, map_location="cpu", weights_only=True)
    if state.get("format") != CHECKPOINT_FORMAT or state.get("estimator") != estimator:
        raise ValueError(f"resume: {path} is not a {estimator} checkpoint")
    state["path"] = str(path)
    return state


class ResumeTraining(Callback):
    """Restore a checkpoint at the start of training (skorch's ``LoadInitState`` pattern).

    Placed before the other callbacks, it loads the network, optimiser, history and stop
    request of the checkpoint, and hands the early-stopping counters to that callback.

    Parameters
    ----------
    checkpoint : str or path
        A file written by :class:`TrainingCheckpoint`.
    """

    def __init__(self, checkpoint):
        self.checkpoint = checkpoint

    def on_train_begin(self, net, **kwargs):
        state = read_checkpoint(self.checkpoint, type(net).__name__)
        bare_module(net.module_).load_state_dict(state["module"])
        net.optimizer_.load_state_dict(state["optimizer"])
        net.history_ = History(json.loads(state["history"]))
        net.stop_reason_ = state.get("stop_reason")
        es = dict(net.callbacks_).get("early_stopping")
        if es is not None and state.get("early_stopping"):
            es.pending_state_ = state["early_stopping"]


# ---------------------------------------------------------------------------- LR schedule
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
    ``LambdaLR`` is created at that step, so a resumed run continues the same curve. With a
    time budget (``net.max_time``), the schedule advances by the larger of the steps done and
    the share of the budget spent, so that it completes by the deadline however many epochs fit.

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
        # what skorch passes to LambdaLR (after the optimizer)
        return {"lr_lambda": self.lr_factor, "last_epoch": self.batch_idx_ - 1}

    def on_train_begin(self, net, **kwargs):
        self.schedule_ = Schedule(
            self.kind,
            total_steps=net.max_epochs_ * net.steps_per_epoch_,
            offset=net.schedule_offset_,
        )
        budget = getattr(net, "max_time", None)
        self.budget_ = None if budget is None else (time.monotonic(), float(budget))
        for group in net.optimizer_.param_groups:
            group.setdefault("initial_lr", group["lr"])
        super().on_train_begin(net, **kwargs)

    def lr_factor(self, step):
        """Multiplier of the peak learning rate at optimisation step ``step``."""
        if self.budget_ is not None:
            start, budget = self.budget_
            spent = min((time.monotonic() - start) / budget, 1.0)
            step = max(step, self.schedule_.offset + spent * self.schedule_.total_steps)
        return self.schedule_(step)

    def on_train_end(self, net, **kwargs):
        # the torch scheduler holds the optimizer; dropping it keeps pickles device-free
        self.lr_scheduler_ = None
