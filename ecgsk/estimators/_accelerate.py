"""Multi-GPU and multi-node training through Hugging Face Accelerate (skorch's ``AccelerateMixin``).

``AcceleratedECGClassifier``, ``AcceleratedECGRegressor`` and ``AcceleratedECGPretrainer`` are the
ECG estimators with an ``accelerator`` parameter. Started by ``accelerate launch`` (or
``torchrun``), every process builds the same estimator; Accelerate wraps the network in
``DistributedDataParallel`` and gives each process its share of every training epoch, and the
gradients are averaged across processes at each step. Validation runs on the whole validation
set in every process, so that early stopping and the choice of the best epoch agree everywhere.
"""

from __future__ import annotations

import math

from skorch.hf import AccelerateMixin

from ._classifier import ECGClassifier
from ._pretrainer import ECGPretrainer
from ._regressor import ECGRegressor


class _ECGAccelerateMixin(AccelerateMixin):
    """Adapts skorch's ``AccelerateMixin`` to the ECG estimators' own training step.

    The ECG estimators already run their forward pass under autocast and their backward pass
    through a hook, sample their own batches and resolve their own device; this adapter routes
    those through the accelerator instead of replacing the steps, so resumable checkpoints,
    time budgets, LR schedules and the pretrainer's multi-objective step keep working.
    """

    # ------------------------------------------------------------------ set-up
    def _check_params(self):
        super()._check_params()
        if self.device not in (None, "auto"):
            raise ValueError(
                f"device={self.device!r}: with an accelerator, the accelerator places the "
                "network (one device per process); leave device=None"
            )
        if self.accelerator.num_processes > 1:
            if self.max_time is not None:
                raise ValueError(
                    "max_time cannot be used with several processes: each process would stop "
                    "at its own time and the others would wait for it forever; use max_epochs"
                )
            if self.random_state is None:
                raise ValueError(
                    "random_state must be an integer with several processes, so that every "
                    "process draws the same validation split and the same initial weights"
                )

    def _initialize_callbacks(self):
        if self.callbacks__print_log__sink == "auto" and not self.verbose:
            # the mixin would print through accelerator.print, which ignores verbose=0
            self.callbacks__print_log__sink = print
        return super()._initialize_callbacks()

    def _validate_params(self):
        # skip the mixin's device check: our device is resolved to the accelerator's below
        super(AccelerateMixin, self)._validate_params()

    def _resolved_device(self):
        return _DeviceOf(self)

    def initialize(self):
        super(AccelerateMixin, self).initialize()
        self._initialize_accelerator()
        return self

    def _initialize_accelerator(self):
        if self._wrapped_with_accelerator:
            return self
        # only the network and its optimiser: the ECG losses hold no parameters, and DDP
        # refuses to wrap a module without any
        self.module_ = self.accelerator.prepare(self.module_)
        self.optimizer_ = self.accelerator.prepare(self.optimizer_)
        self._wrapped_with_accelerator = True
        return self

    def _amp_enabled(self) -> bool:
        return False  # the accelerator's own mixed_precision setting applies instead

    def _autocast(self):
        return self.accelerator.autocast()

    def _backward(self, loss):
        self.accelerator.backward(loss)

    # ------------------------------------------------------------------ data
    def get_iterator(self, dataset, training=False):
        # the ECG estimators' loaders; only training loaders are sharded (_distribute_loader)
        return super(AccelerateMixin, self).get_iterator(dataset, training=training)

    def _distribute_loader(self, loader):
        return self.accelerator.prepare_data_loader(loader)

    def _steps_per_epoch(self, n_train: int) -> int:
        return max(math.ceil(super()._steps_per_epoch(n_train) / self.accelerator.num_processes), 1)

    # ------------------------------------------------------------------ steps
    def train_step_single(self, batch, **fit_params):
        return super(AccelerateMixin, self).train_step_single(batch, **fit_params)

    def evaluation_step(self, batch, training=False):
        # inference after training runs on the whole input in each process: nothing to gather
        return super(AccelerateMixin, self).evaluation_step(batch, training=training)

    def _write_checkpoint(self):
        if self.accelerator.is_main_process:
            super()._write_checkpoint()


class _DeviceOf:
    """Context manager: ``net.device`` reads as the accelerator's device while it is open."""

    def __init__(self, net):
        self.net = net

    def __enter__(self):
        self.param = self.net.__dict__.get("device")
        device = str(self.net.accelerator.device)
        self.net.__dict__["device"] = device
        return device

    def __exit__(self, *exc):
        self.net.__dict__["device"] = self.param
        return False


_DOC = """{base} trained on several processes through Hugging Face Accelerate.

    The same parameters as :class:`~ecgsk.estimators.{base}`, plus ``accelerator``. Start the
    script with ``accelerate launch`` (or ``torchrun``); each process builds the estimator
    with ``Accelerator()`` and calls ``fit`` on the same data.

    Parameters
    ----------
    accelerator : accelerate.Accelerator
        Decides the processes, the device of each and the mixed precision
        (``Accelerator(mixed_precision="bf16")``); ``amp`` is then ignored.
    device : None
        Left to the accelerator.
    unwrap_after_train : bool, default=True
        Remove the distributed wrapper after ``fit`` (needed to pickle or ``save``).
    *args, **kwargs
        Those of :class:`~ecgsk.estimators.{base}`.

    Notes
    -----
    ``batch_size`` is per process: the effective batch is ``batch_size * num_processes``.
    ``max_time`` needs a single process, and several processes need an integer
    ``random_state``. Only the main process writes checkpoints.

    Examples
    --------
    A script ``train.py``::

        from accelerate import Accelerator
        from ecgsk.estimators import {cls}

        est = {cls}({example}, accelerator=Accelerator(), max_epochs=20)
        est.fit(X{y})
        if est.accelerator.is_main_process:
            est.save("model")

    run on 4 GPUs with ``accelerate launch --num_processes 4 train.py``; to try it on 2 CPU
    processes, build ``Accelerator(cpu=True)`` and run ``torchrun --nproc_per_node 2 train.py``.
    """


class AcceleratedECGClassifier(_ECGAccelerateMixin, ECGClassifier):
    __doc__ = _DOC.format(
        base="ECGClassifier", cls="AcceleratedECGClassifier", example='"deepecg-sl"', y=", y"
    )
    _saved_as = "ECGClassifier"


class AcceleratedECGRegressor(_ECGAccelerateMixin, ECGRegressor):
    __doc__ = _DOC.format(
        base="ECGRegressor", cls="AcceleratedECGRegressor", example='"deepecg-sl"', y=", y"
    )
    _saved_as = "ECGRegressor"


class AcceleratedECGPretrainer(_ECGAccelerateMixin, ECGPretrainer):
    __doc__ = _DOC.format(
        base="ECGPretrainer", cls="AcceleratedECGPretrainer", example='"deepecg-ssl"', y=""
    )
    _saved_as = "ECGPretrainer"
