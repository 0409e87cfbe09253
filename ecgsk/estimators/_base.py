"""``_ECGNet``: the skorch ``NeuralNet`` holding the logic shared by the ECG estimators.

It extends skorch through its documented points only: the data (``get_dataset`` receives the
estimators' own datasets, ``get_iterator`` batches them), the split (an
:class:`~ecgsk.estimators._split.ECGValidSplit` as ``train_split``), the steps (``infer``;
skorch's ``train_step``, ``validation_step``, ``evaluation_step`` and ``forward_iter`` are
used as they are), the callbacks (``EpochScoring`` for the validation score, ``EarlyStopping``,
``Checkpoint``, ``LRScheduler``) and the ``initialize_*`` hooks.

Design notes
------------
- ``__init__`` only stores parameters. Everything inferred from the data (``n_leads_``,
  ``n_times_``, ``n_outputs_``, classes, the validation split) is a fitted attribute set anew by
  every ``fit``; nothing is written back into the parameters, so ``clone`` and
  ``GridSearchCV`` over a preprocessing step stay correct.
- ``device="auto"`` stays ``"auto"`` as a parameter; the resolved device is ``device_``
  (see :mod:`._device`). Likewise ``lr="auto"`` and ``lr_schedule="auto"`` are resolved by
  every ``initialize`` (so by every ``fit``) into ``lr_`` and ``lr_schedule_``: the
  estimator's recipe (``_training_recipe``; a fine-tuned DeepECG-SSL encoder follows the
  release's) or else ``DEFAULT_LR`` and ``DEFAULT_LR_SCHEDULE``.
- With an integer ``random_state`` every epoch reseeds torch and the DataLoader from
  ``(random_state, epoch)``, so a resumed run draws the random numbers the uninterrupted run
  would have drawn.
- Nothing is written to disk unless ``checkpoint_dir`` or ``resume`` asks for it; an
  interrupted fit keeps what it needs to continue (``warm_start=True``) in memory.
"""

from __future__ import annotations

import json
import numbers
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse
import torch
from skorch import NeuralNet
from skorch.callbacks import (
    EpochTimer,
    GradientNormClipping,
    PassthroughScoring,
    PrintLog,
    ProgressBar,
)
from skorch.utils import to_tensor
from torch.utils.data import Dataset, Subset

from .._validation import check_ecg, check_positive_int
from ._callbacks import (
    SCHEDULES,
    ECGEarlyStopping,
    ResumeTraining,
    StepLRSchedule,
    TimeBudget,
    TrainingCheckpoint,
    TrainingControl,
    TrainingDiverged,
    as_json,
    bare_module,
    read_checkpoint,
    validation_scoring,
)
from ._data import (
    ArrayDataset,
    LazyDataset,
    align_to_ids,
    batch_already_collated,
    first_ecg_shape,
    is_array_backed,
    is_internal_dataset,
    training_batches,
)
from ._device import (
    check_device_available,
    device_context,
    resolve_device,
    unpickled_device,
)
from ._export import ExportMixin
from ._links import Embeddings, apply_link
from ._split import ECGValidSplit, check_validation

_UNSET = object()

#: The sentinel of parameters resolved at fit time (``lr``, ``lr_schedule``, ...).
AUTO = "auto"
#: What ``lr="auto"`` and ``lr_schedule="auto"`` become when no recipe applies.
DEFAULT_LR = 1e-3
DEFAULT_LR_SCHEDULE = "cosine"
#: ``max_epochs="auto"`` without ``max_time``
DEFAULT_MAX_EPOCHS = 30
#: ``max_epochs="auto"`` with ``max_time``: a bound never reached in practice, so the budget
#: ends training (the learning-rate schedule follows the share of the budget spent)
BUDGET_MAX_EPOCHS = 10_000

# NeuralNet arguments that the ECG estimators set themselves; not parameters of theirs
_FIXED_NEURALNET_ARGS = frozenset(
    {"criterion", "train_split", "predict_nonlinearity", "use_caching", "dataset"}
)
# parameters that may hold a torch module without being components of the net
_PLAIN_PARAMS = ("loss", "augment", "encoder")

__all__ = ["_ECGNet", "resolve_device"]


def is_auto(value) -> bool:
    """Whether a parameter holds the ``"auto"`` sentinel (and not, say, an array)."""
    return isinstance(value, str) and value == AUTO


def _drops_last(n: int, batch_size: int) -> bool:
    """Whether training drops the last batch: BatchNorm cannot train on a batch of one ECG."""
    return n % batch_size == 1


class NonFiniteOutputs(ValueError):
    """The network gave NaN or infinite outputs; ``rows`` are the affected ECGs (positions)."""

    def __init__(self, message: str, rows: list[int]):
        super().__init__(message)
        self.rows = rows


class _ECGNet(ExportMixin, NeuralNet):
    """Shared machinery of the ECG estimators (private; see the public subclasses).

    Subclasses implement ``_encode_targets_fit``, ``_encode_targets``, ``initialize_criterion``,
    ``validation_score``, ``_target_meta`` and ``_inference_graph``, and set ``_score_name``
    and ``_score_lower_is_better``.
    """

    _score_name = "valid_score"
    _score_lower_is_better = False
    # what lr="auto" / lr_schedule="auto" become without a recipe of the subclass's own
    _default_lr = DEFAULT_LR
    _default_lr_schedule = DEFAULT_LR_SCHEDULE
    _default_weight_decay = 1e-2
    _default_max_epochs = DEFAULT_MAX_EPOCHS

    def __init__(
        self,
        module="deepecg-sl",
        *,
        lr=AUTO,
        batch_size=64,
        max_epochs=AUTO,
        optimizer=torch.optim.AdamW,
        weight_decay="auto",
        device="auto",
        random_state=None,
        validation=0.1,
        patience=10,
        lr_schedule=AUTO,
        grad_clip=None,
        max_time=None,
        augment=None,
        amp="auto",
        num_workers=0,
        checkpoint_dir=None,
        resume=None,
        callbacks=None,
        progress_bar=True,
        verbose=1,
        warm_start=False,
        **kwargs,
    ):
        # set before NeuralNet.__init__: skorch refuses torch modules (an augmenter instance)
        # assigned to a net after its construction
        self.weight_decay = weight_decay
        self.random_state = random_state
        self.validation = validation
        self.patience = patience
        self.lr_schedule = lr_schedule
        self.grad_clip = grad_clip
        self.max_time = max_time
        self.augment = augment
        self.amp = amp
        self.num_workers = num_workers
        self.checkpoint_dir = checkpoint_dir
        self.resume = resume
        self.progress_bar = progress_bar
        fixed = sorted(_FIXED_NEURALNET_ARGS.intersection(kwargs))
        if fixed:
            raise TypeError(
                f"{type(self).__name__} sets {', '.join(fixed)} itself (use loss= for the "
                "criterion and validation= for the split)"
            )
        super().__init__(
            module, criterion=torch.nn.Identity, optimizer=optimizer, lr=lr,
            max_epochs=max_epochs, batch_size=batch_size, train_split=None, callbacks=callbacks,
            predict_nonlinearity=None, warm_start=warm_start, verbose=verbose, device=device,
            **kwargs,
        )

    def __setattr__(self, name, attr):
        if name in _PLAIN_PARAMS:
            object.__setattr__(self, name, attr)
            return
        super().__setattr__(name, attr)

    # ------------------------------------------------------------------ parameters
    def get_params(self, deep=True, **kwargs):
        params = super().get_params(deep=deep, **kwargs)
        # skorch's fixed arguments and private state (e.g. Accelerate's) are not parameters
        return {k: v for k, v in params.items()
                if k not in _FIXED_NEURALNET_ARGS and not k.startswith("_")}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.input_tags.two_d_array = False
        tags.non_deterministic = True
        if tags.transformer_tags is None:  # every trained estimator embeds ECGs (transform)
            from sklearn.utils import TransformerTags

            tags.transformer_tags = TransformerTags()
        return tags

    def _check_params(self):
        if not is_auto(self.max_epochs):
            check_positive_int(self.max_epochs, "max_epochs")
        check_positive_int(self.batch_size, "batch_size")
        if not (is_auto(self.lr) or (isinstance(self.lr, numbers.Real)
                                     and not isinstance(self.lr, bool) and self.lr > 0)):
            raise ValueError(f'lr must be "auto" or a positive number, got {self.lr!r}')
        if not (self.lr_schedule is None or is_auto(self.lr_schedule)
                or (isinstance(self.lr_schedule, str) and self.lr_schedule in SCHEDULES)):
            raise ValueError(
                f'lr_schedule must be "auto", None or one of {SCHEDULES}, got '
                f"{self.lr_schedule!r}"
            )
        if not (self.weight_decay is None or is_auto(self.weight_decay)
                or (isinstance(self.weight_decay, numbers.Real)
                    and not isinstance(self.weight_decay, bool) and self.weight_decay >= 0)):
            raise ValueError(
                f'weight_decay must be "auto", None or a non-negative number, got '
                f"{self.weight_decay!r}"
            )
        if self.patience is not None:
            check_positive_int(self.patience, "patience")
        for name in ("max_time", "grad_clip"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, numbers.Real) and value > 0):
                raise ValueError(f"{name} must be None or a positive number, got {value!r}")
        if self.amp not in ("auto", True, False):
            raise ValueError(f'amp must be "auto", True or False, got {self.amp!r}')
        if (isinstance(self.num_workers, bool) or not isinstance(self.num_workers, numbers.Integral)
                or self.num_workers < 0):
            raise ValueError(
                f"num_workers must be a non-negative integer, got {self.num_workers!r}"
            )
        if self.random_state is not None and (
            isinstance(self.random_state, bool)
            or not isinstance(self.random_state, numbers.Integral)
        ):
            raise ValueError(f"random_state must be None or an integer, got {self.random_state!r}")
        check_validation(self.validation)

    # ------------------------------------------------------------------ device
    def _resolve_device(self) -> str:
        device = resolve_device(self.device)
        check_device_available(device)
        return device

    def _skorch_device(self):
        """What skorch's own code reads as ``net.device`` (where it moves modules and batches)."""
        return getattr(self, "device_", None)

    def initialize(self):
        self.device_ = self._resolve_device()
        self._resolve_training_defaults()
        with device_context(self, self._skorch_device()):
            return super().initialize()

    # ------------------------------------------------------------------ "auto" parameters
    def _training_recipe(self) -> dict:
        """Hook: the values that ``"auto"`` parameters take in this fit (``lr``, ...)."""
        return {"lr": self._default_lr, "lr_schedule": self._default_lr_schedule,
                "weight_decay": self._default_weight_decay}

    def _resolve_training_defaults(self):
        """Resolve ``lr``, ``lr_schedule`` and ``weight_decay`` into ``lr_``, ``lr_schedule_``
        and ``weight_decay_`` (fitted).

        The parameters keep ``"auto"`` (sklearn rule: ``clone`` and ``GridSearchCV`` stay
        correct); an explicit value always wins over the recipe.
        """
        recipe = self._training_recipe()
        self.lr_ = float(recipe["lr"]) if is_auto(self.lr) else self.lr
        self.lr_schedule_ = recipe["lr_schedule"] if is_auto(self.lr_schedule) else self.lr_schedule
        self.weight_decay_ = (float(recipe["weight_decay"]) if is_auto(self.weight_decay)
                              else self.weight_decay)
        return recipe

    def _auto_max_epochs(self) -> int:
        """``max_epochs="auto"``: a time budget decides when training ends, else 30 epochs."""
        return BUDGET_MAX_EPOCHS if self.max_time is not None else self._default_max_epochs

    def _resolved(self, name):
        """``name``'s value in use: the fitted ``name_``, else the parameter (``"auto"``: the
        estimator's plain default, since a recipe is only known at fit)."""
        value = getattr(self, name + "_", _UNSET)
        if value is not _UNSET:
            return value
        value = getattr(self, name)
        return getattr(self, f"_default_{name}") if is_auto(value) else value

    def set_params(self, **kwargs):
        lr = kwargs.get("lr", _UNSET)
        if is_auto(lr) and getattr(self, "initialized_", False):
            # skorch would write "auto" into the optimizer: the next fit resolves it instead
            self.__dict__["lr"] = kwargs.pop("lr")
        device = kwargs.pop("device", _UNSET)
        # an initialized net may rebuild its module, which skorch moves to net.device
        with device_context(self, self._skorch_device()):
            super().set_params(**kwargs)
        if device is not _UNSET:
            super().set_params(device=device)
        if lr is not _UNSET and not is_auto(lr) and getattr(self, "initialized_", False):
            self.lr_ = lr  # skorch set the optimizer's learning rate to it
        return self

    def __setstate__(self, state):
        param, restore = unpickled_device(state)
        super().__setstate__(state)
        if restore:
            self.__dict__["device"] = param
        elif isinstance(self.__dict__.get("device"), torch.device):
            self.__dict__["device"] = str(self.__dict__["device"])
        if getattr(self, "initialized_", False):
            self.device_ = resolve_device(self.__dict__["device"])

    def _amp_enabled(self) -> bool:
        """bfloat16 autocast: CUDA with bf16 support (``amp="auto"``/True); never on CPU."""
        if self.amp is False or torch.device(self.device_).type != "cuda":
            return False
        return torch.cuda.is_bf16_supported()

    def _autocast(self):
        """Mixed-precision context of the forward passes."""
        device_type = torch.device(self.device_).type
        return torch.autocast(device_type, dtype=torch.bfloat16, enabled=self._amp_enabled())

    def _bare_module(self):
        """``module_`` without a distributed (DDP) wrapper, for attribute and state access."""
        return bare_module(self.module_)

    # ------------------------------------------------------------------ components
    def _optimizer_kwargs(self, named):
        """``(args, kwargs)`` of the optimizer: skorch's, plus ``weight_decay`` if it takes it."""
        import inspect

        args, kwargs = self.get_params_for_optimizer("optimizer", named)
        if "lr" not in self.get_params_for("optimizer"):  # optimizer__lr wins, as in skorch
            kwargs["lr"] = self._resolved("lr")
        weight_decay = self._resolved("weight_decay")
        if weight_decay is not None and "weight_decay" not in kwargs:
            if "weight_decay" in inspect.signature(self.optimizer).parameters:
                kwargs["weight_decay"] = weight_decay
        return args, kwargs

    @property
    def _default_callbacks(self):
        # the property skorch's own NeuralNetClassifier overrides; get_params reads it too
        callbacks = [
            ("training_control", TrainingControl()),
            ("epoch_timer", EpochTimer()),
            ("train_loss", PassthroughScoring(name="train_loss", on_train=True)),
            ("valid_loss", PassthroughScoring(name="valid_loss")),
        ]
        if self.resume is not None:
            callbacks.insert(1, ("resume", ResumeTraining(self.resume)))
        has_valid = self.validation is not None
        score = self._score_name
        if has_valid and score is not None:
            callbacks.append((score, validation_scoring(score, self._score_lower_is_better)))
        callbacks += self._extra_callbacks()
        schedule = self._resolved("lr_schedule")
        if schedule is not None:
            callbacks.append(("lr_schedule", StepLRSchedule(schedule)))
        if self.grad_clip is not None:
            callbacks.append(("grad_clip", GradientNormClipping(self.grad_clip)))
        if has_valid and self.patience is not None:
            monitor = getattr(self, "monitor_", score)
            lower = monitor == "valid_loss" or self._score_lower_is_better
            callbacks.append(("early_stopping", ECGEarlyStopping(
                monitor=monitor, patience=self.patience, lower_is_better=lower, threshold=1e-4,
                load_best=True,
            )))
        if self.max_time is not None:
            callbacks.append(("time_budget", TimeBudget(self.max_time)))
        if self.checkpoint_dir is not None or self.resume is not None:
            path = getattr(self, "checkpoint_path_", None)
            callbacks.append(("checkpoint", TrainingCheckpoint(Path(path).parent if path else "")))
        if self.progress_bar:
            callbacks.append(("progress_bar", ProgressBar()))
        callbacks.append(("print_log", PrintLog()))
        return callbacks

    def _extra_callbacks(self):
        """Callbacks a subclass adds after the validation score."""
        return []

    # ------------------------------------------------------------------ data
    def _check_X(self, X, *, fitted: bool):
        """Validate ``X``; return ``(data, n_samples, (n_leads, n_times))``."""
        if scipy.sparse.issparse(X):
            raise TypeError(
                "sparse input is not supported: X must be a dense array of ECGs "
                "(n_ecgs, n_leads, n_times)"
            )
        if isinstance(X, Dataset):
            n_leads, n_times = first_ecg_shape(X)
            data = X
        else:
            kwargs = {"n_leads": self.n_leads_, "n_times": self.n_times_} if fitted else {}
            try:
                data = check_ecg(X, **kwargs)
            except ValueError as exc:
                if fitted and "expected" in str(exc):
                    raise ValueError(
                        f"{exc}: this {type(self).__name__} was fitted on ECGs with "
                        f"{self.n_leads_} leads and {self.n_times_} samples; apply the same "
                        "preprocessing as in training"
                    ) from None
                raise
            n_leads, n_times = data.shape[1:]
        if fitted and (n_leads, n_times) != (self.n_leads_, self.n_times_):
            raise ValueError(
                f"X holds ECGs with {n_leads} leads and {n_times} samples, but this "
                f"{type(self).__name__} was fitted on {self.n_leads_} leads and {self.n_times_} "
                "samples; apply the same preprocessing as in training"
            )
        return data, len(data), (n_leads, n_times)

    def _make_dataset(self, data, y=None):
        if isinstance(data, Dataset):
            return LazyDataset(data, y)
        return ArrayDataset(data, y)

    def _inference_dataset(self, X):
        """A checked internal dataset for prediction (validation datasets pass through)."""
        self.check_is_fitted()
        if is_internal_dataset(X):
            return X
        data, _, _ = self._check_X(X, fitted=True)
        return self._make_dataset(data)

    def get_iterator(self, dataset, training=False):
        kwargs = self.get_params_for("iterator_train" if training else "iterator_valid")
        kwargs.setdefault("batch_size", self.batch_size)
        if kwargs["batch_size"] == -1:
            kwargs["batch_size"] = len(dataset)
        kwargs.setdefault("num_workers", self.num_workers)
        if torch.device(self.device_).type == "cuda":
            kwargs.setdefault("pin_memory", True)
        if training:
            kwargs.setdefault("shuffle", True)
            kwargs.setdefault("drop_last", _drops_last(len(dataset), kwargs["batch_size"]))
            generator = getattr(self, "loader_generator_", None)
            if generator is not None:
                kwargs.setdefault("generator", generator)
        if is_array_backed(dataset):
            kwargs.setdefault("collate_fn", batch_already_collated)
        deadline = getattr(self, "train_deadline_", None)
        if training and deadline is not None:
            kwargs["batch_sampler"] = training_batches(
                dataset, batch_size=kwargs.pop("batch_size"), shuffle=kwargs.pop("shuffle"),
                drop_last=kwargs.pop("drop_last"), generator=kwargs.pop("generator", None),
                deadline=deadline,
            )
        return (self.iterator_train if training else self.iterator_valid)(dataset, **kwargs)

    def _steps_per_epoch(self, n_train: int) -> int:
        """Optimiser steps per epoch of this process (what the LR schedule counts)."""
        if _drops_last(n_train, self.batch_size):
            return max(n_train // self.batch_size, 1)
        return max(int(np.ceil(n_train / self.batch_size)), 1)

    def _strata(self, y_enc):
        return None

    @staticmethod
    def _dataset_targets(dataset):
        """The encoded targets of one of the fit datasets (through ``Subset`` layers)."""
        indices = None
        while isinstance(dataset, Subset):
            idx = np.asarray(dataset.indices, dtype=np.int64)
            indices = idx if indices is None else idx[indices]
            dataset = dataset.dataset
        return dataset.y if indices is None else dataset.y[indices]

    def _make_split(self, y_enc, groups, n, indices):
        """The ``train_split`` of this fit and the train/validation targets it gives."""
        val = self.validation
        if val is None:
            self.split_ = None
            return None, y_enc, None
        if isinstance(val, tuple):
            X_val, y_val = val
            val_data, n_val, _ = self._check_X(X_val, fitted=True)
            y_val_enc = self._encode_targets(y_val, n_val, name="validation y")
            self.split_ = "predefined"
            return ECGValidSplit(self._make_dataset(val_data, y_val_enc)), y_enc, y_val_enc
        split = ECGValidSplit(val, random_state=self.random_state, groups=groups,
                              strata=self._strata(y_enc), indices=indices)
        self.split_ = split.indices(n)
        train_idx, valid_idx = self.split_
        return split, y_enc[train_idx], y_enc[valid_idx]

    # ------------------------------------------------------------------ training
    def infer(self, x, **fit_params):
        module = self.module_
        if module.training:
            self._keep_frozen_in_eval()
        if isinstance(x, dict):
            x = {k: to_tensor(v, device=self.device_) for k, v in x.items()}
            with self._autocast():
                return module(**x, **fit_params)
        x = to_tensor(x, device=self.device_)
        if module.training:
            x = self.augmenter_(x)
        with self._autocast():
            return module(x, **fit_params).float()

    def _keep_frozen_in_eval(self):
        """Hook: layers a fine-tune keeps frozen stay in evaluation mode while training."""

    def fit(self, X, y, groups=None, **fit_params):
        """Train the network on ECGs ``X`` and targets ``y``.

        Parameters
        ----------
        X : array-like of shape (n_ecgs, n_leads, n_times) or torch Dataset
            ECG signals (float, no NaN), or a dataset whose items are ECGs ``(n_leads,
            n_times)`` (optionally the first element of a tuple).
        y : array-like or DataFrame
            Targets aligned with ``X`` (see the class documentation).
        groups : array-like of shape (n_ecgs,), optional
            Patient ids: the validation split then keeps each patient on one side.
        **fit_params
            Passed to the module's ``forward``.

        Returns
        -------
        self
        """
        self._check_params()
        data, n, (n_leads, n_times) = self._check_X(X, fitted=False)
        state = None if self.resume is None else read_checkpoint(self.resume, type(self).__name__)
        initialized = getattr(self, "initialized_", False) and hasattr(self, "n_outputs_")
        continuing = state is None and self.warm_start and initialized
        unfinished = continuing and getattr(self, "interrupted_", False)
        previous = (self.n_leads_, self.n_times_, self.n_outputs_, self._target_meta()) \
            if continuing else None
        y_enc = self._encode_targets_fit(align_to_ids(X, y), n, groups)
        self.n_leads_, self.n_times_ = int(n_leads), int(n_times)
        if continuing and previous != (self.n_leads_, self.n_times_, self.n_outputs_,
                                       self._target_meta()):
            raise ValueError(
                "warm_start=True continues training the same network, but the input shape or "
                "the targets' labels differ from the previous fit; set warm_start=False"
            )
        self.checkpoint_meta_ = {
            "n_samples": int(n), "n_leads": self.n_leads_, "n_times": self.n_times_,
            "n_outputs": self.n_outputs_, "target": self._target_meta(),
        }
        if state is not None:
            self._check_resume_compatible(state)
        indices = None
        if state is not None and state.get("split") is not None:
            indices = [s.numpy() for s in state["split"]]
        elif unfinished and isinstance(self.split_, tuple):
            indices = self.split_
        self.train_split, y_train, y_valid = self._make_split(y_enc, groups, n, indices)
        self.steps_per_epoch_ = self._steps_per_epoch(len(y_train) if y_train is not None else n)
        self.monitor_ = self._choose_monitor(y_valid)
        self.pos_weight_ = self._resolve_class_weight(y_train)
        self.device_ = self._resolve_device()
        with device_context(self, self._skorch_device()):
            return self._fit(self._make_dataset(data, y_enc), state, continuing, unfinished,
                             fit_params)

    def _fit(self, dataset, state, continuing, unfinished, fit_params):
        self.max_epochs_ = self._auto_max_epochs() if is_auto(self.max_epochs) else self.max_epochs
        if self.random_state is not None:
            torch.manual_seed(int(self.random_state))
            self.loader_generator_ = torch.Generator().manual_seed(int(self.random_state))
        else:
            self.loader_generator_ = None
        if state is not None:
            done = len(json.loads(state["history"]))
            final = max(self.max_epochs_, done)
        elif continuing:
            done = len(self.history)
            final = self.final_epoch_ if unfinished else done + self.max_epochs_
        else:
            done, final = 0, self.max_epochs_
        self.checkpoint_path_ = self._checkpoint_file(state)
        if continuing:
            self.initialize_callbacks()
            self.initialize_criterion()
            if unfinished:
                self._continue_in_memory()
            else:
                self.schedule_offset_ = int(sum(r.get("train_batch_count", 0)
                                                for r in self.history))
        else:
            self.initialize()
            self.schedule_offset_ = 0 if state is None else int(state.get("schedule_offset", 0))
        self.stop_reason_ = None
        self.final_epoch_ = final
        self.interrupted_ = False
        try:
            # also with 0 epochs left: on_train_end restores the best weights of a resumed run
            super().partial_fit(dataset, None, _routing_method="fit",
                                epochs=max(final - done, 0), **fit_params)
        except TrainingDiverged:
            raise  # nothing worth continuing
        except BaseException:
            self.interrupted_ = True  # a crash can be continued like a kill (warm_start=True)
            raise
        finally:
            self.__dict__.pop("loader_generator_", None)
        self.interrupted_ = self.stop_reason_ is None and len(self.history) < final
        self.n_epochs_ = len(self.history)
        es = dict(self.callbacks_).get("early_stopping")
        best = getattr(es, "best_epoch_", 0) if es is not None else 0
        self.best_epoch_ = int(best) if best else len(self.history)
        self.__dict__.pop("unfinished_", None)
        if self.interrupted_:
            # what continuing in memory needs (warm_start=True), whatever happens to callbacks_
            self.unfinished_ = {
                "early_stopping": None if es is None else es.state(),
                "weights": None if es is None else es.interrupted_weights_,
            }
            where = "" if self.checkpoint_path_ is None else f", or resume={self.checkpoint_path_!r},"
            warnings.warn(
                f"training was interrupted after epoch {len(self.history)}; call fit again with "
                f"warm_start=True{where} to continue from there",
                UserWarning, stacklevel=3,
            )
        split = self.train_split
        self._after_fit(None if split is None else split(dataset)[1])
        return self

    def _continue_in_memory(self):
        """Pick up an interrupted fit where it stopped (last weights, early-stopping state)."""
        unfinished = self.__dict__.pop("unfinished_", None) or {}
        es = dict(self.callbacks_).get("early_stopping")
        if es is not None and unfinished.get("early_stopping") is not None:
            es.pending_state_ = unfinished["early_stopping"]
        if unfinished.get("weights") is not None:
            self._bare_module().load_state_dict(unfinished["weights"])

    def _checkpoint_file(self, state):
        """Where this fit writes its checkpoint: None unless checkpoints were asked for."""
        if state is not None:
            return state["path"]
        if self.checkpoint_dir is None:
            return None
        root = Path(self.checkpoint_dir)
        root.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        # mkdtemp makes the run directory unique even for parallel fits (GridSearchCV n_jobs)
        return str(Path(tempfile.mkdtemp(prefix=f"run-{stamp}-", dir=root)) / "checkpoint.pt")

    def _check_resume_compatible(self, state):
        meta = state["meta"]
        for key, value in as_json(self.checkpoint_meta_).items():
            if value != meta.get(key):
                raise ValueError(
                    f"resume: the data differ from the checkpoint {state['path']} ({key}: "
                    f"{value!r} now, {meta.get(key)!r} in the checkpoint); resume with the same "
                    "X and y"
                )

    @property
    def partial_fit(self):
        # skorch's partial_fit would bypass the target encoding and shape checks of fit
        raise AttributeError(
            f"{type(self).__name__} has no partial_fit; to continue training call fit with "
            "warm_start=True"
        )

    def _choose_monitor(self, y_valid):
        return self._score_name

    def _resolve_class_weight(self, y_train):
        return None

    def _after_fit(self, valid_dataset):
        pass

    # ------------------------------------------------------------------ inference
    def _logits_tensor(self, X) -> torch.Tensor:
        """Network outputs on CPU through skorch's ``forward_iter`` (cached during scoring)."""
        dataset = self._inference_dataset(X)
        logits = torch.cat(list(self.forward_iter(dataset, training=False, device="cpu")))
        bad = ~torch.isfinite(logits).reshape(len(logits), -1).all(dim=1)
        if bool(bad.any()):
            rows = bad.nonzero().flatten().tolist()
            raise NonFiniteOutputs(
                f"the network's outputs are NaN or infinite for {len(rows)} of "
                f"{len(logits)} ECGs (first rows {rows[:5]}): its weights diverged or are "
                "corrupt, or those inputs hold extreme values; no prediction is returned",
                rows,
            )
        return logits

    def _logits(self, X) -> np.ndarray:
        return self._logits_tensor(X).float().numpy()

    def _predict_with(self, output, X) -> np.ndarray:
        """``output``'s link function (the one the export uses) applied to the logits of ``X``."""
        logits = self._logits_tensor(X)
        return apply_link(self._inference_graph(torch.nn.Identity(), output)[0], logits)

    def transform(self, X):
        """Embeddings from the network's ``forward_features``.

        Parameters
        ----------
        X : array-like of shape (n_ecgs, n_leads, n_times) or torch Dataset

        Returns
        -------
        ndarray of shape (n_ecgs, n_features)
        """
        dataset = self._inference_dataset(X)
        module = self._bare_module()
        if not hasattr(module, "forward_features"):
            raise AttributeError(
                f"the module {type(module).__name__} has no forward_features(x) method, so "
                "transform cannot return embeddings"
            )
        embed = Embeddings(module).eval()
        outputs = []
        with torch.inference_mode(), self._autocast():
            for Xi, _ in self.get_iterator(dataset, training=False):
                out = embed(to_tensor(Xi, device=self.device_)).float()
                outputs.append(self._gather(out).cpu().numpy())
        return np.concatenate(outputs, axis=0)

    def _gather(self, out):
        """Hook: outputs of this process's batches -> outputs of all (distributed inference)."""
        return out

    # ------------------------------------------------------------------ export
    def _export_network(self):
        """The network an export copies (without a distributed wrapper)."""
        return self._bare_module()

    def _export_input(self, net, n_times):
        """``(n_leads, n_times, sfreq, leads known from a card)`` of the exported input."""
        if n_times is not None and n_times != int(self.n_times_):
            raise ValueError(
                f"this {type(self).__name__} takes ECGs of {self.n_times_} samples; "
                f"n_times={n_times} cannot be exported"
            )
        known = (getattr(self, "card_", None) or {}).get("input", {})
        return int(self.n_leads_), int(self.n_times_), known.get("sfreq"), known.get("leads")
