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

import torch
from skorch.hf import AccelerateMixin

from ._classifier import ECGClassifier
from ._pretrainer import ECGPretrainer
from ._regressor import ECGRegressor


class _ECGAccelerateMixin(AccelerateMixin):
    """Composes skorch's ``AccelerateMixin`` with the ECG estimators.

    The mixin's own initialisation, training step (accumulation, autocast, backward),
    loaders (sharded by the accelerator) and gathered evaluation are used as they are; this
    class adds what the ECG estimators need on top: the device comes from the accelerator,
    validation predictions and losses are gathered across processes (so early stopping and
    the choice of the best epoch agree everywhere), embeddings are gathered like predictions,
    and ``verbose=0`` stays silent.
    """

    # ------------------------------------------------------------------ set-up
    def _check_params(self):
        super()._check_params()
        if self.device is not None:
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

    def _resolve_device(self) -> str:
        return str(self.accelerator.device)

    def _skorch_device(self):
        return None  # skorch moves nothing: the accelerator places modules and batches

    def initialize_callbacks(self):
        if not self.verbose and self.callbacks__print_log__sink == getattr(
            self.accelerator, "print", None
        ):
            # the accelerator's print ignores verbose=0
            self.callbacks__print_log__sink = print
        return super().initialize_callbacks()

    def _amp_enabled(self) -> bool:
        return False  # the accelerator's own mixed_precision setting applies instead

    def _steps_per_epoch(self, n_train: int) -> int:
        return max(math.ceil(super()._steps_per_epoch(n_train) / self.accelerator.num_processes), 1)

    # ------------------------------------------------------------------ gathering
    def validation_step(self, batch, **fit_params):
        step = super().validation_step(batch, **fit_params)
        losses = self.accelerator.gather(step["loss"].detach().reshape(1))
        y_pred = step["y_pred"]
        if isinstance(y_pred, torch.Tensor):
            y_pred = self.accelerator.gather_for_metrics(y_pred)
        return {"loss": losses.mean(), "y_pred": y_pred}

    def _gather(self, out):
        return self.accelerator.gather_for_metrics(out)


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
    Training and prediction batches are sharded across the processes and predictions are
    gathered, so every process ends with the same network and the same outputs.
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
        est.accelerator.wait_for_everyone()
        est.accelerator.end_training()  # without it a process can abort at exit

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
