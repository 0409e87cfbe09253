"""``_ECGNet``: the skorch ``NeuralNet`` holding the logic shared by the ECG estimators.

The public estimators (:class:`~ecgsk.ECGClassifier`, :class:`~ecgsk.ECGRegressor`) only add
what is specific to their targets: how ``y`` is encoded, which loss is built, how validation
predictions are scored and how logits become predictions.

Design notes
------------
- ``__init__`` only stores parameters. Everything inferred from the data (``n_leads_``,
  ``n_times_``, ``n_outputs_``, classes, the validation split) is a fitted attribute set anew by
  every ``fit``; nothing is written back into the parameters, so ``clone`` and
  ``GridSearchCV`` over a preprocessing step stay correct.
- The model comes from the ``ecgsk.nn`` registry (``module="deepecg-sl"``), from a class called
  with ``n_leads, n_times, n_outputs`` and the ``module__*`` parameters, or from an instance
  (deep-copied, so the parameter itself is never trained).
- ``device="auto"`` stays ``"auto"`` as a parameter; the resolved device is ``device_``.
- With an integer ``random_state`` every epoch reseeds torch and the DataLoader from
  ``(random_state, epoch)``, so a run resumed from a checkpoint draws exactly the random
  numbers the uninterrupted run would have drawn.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import json
import numbers
import os
import shutil
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
from skorch.history import History
from skorch.utils import TeeGenerator, to_tensor
from torch.utils.data import Dataset, Subset

from .._validation import check_ecg
from ._augment import build_augment
from ._callbacks import (
    SCHEDULES,
    EpochCheckpoint,
    ResumableEarlyStopping,
    StepLRSchedule,
    TimeBudget,
    ValidationScore,
)
from ._data import (
    ArrayDataset,
    DeadlineLoader,
    LazyDataset,
    batch_already_collated,
    first_ecg_shape,
    is_array_backed,
    is_internal_dataset,
)
from ._export import ExportMixin

CHECKPOINT_FILE = "checkpoint.pt"
_UNSET = object()
FINETUNE_MODES = ("full", "partial", "linear")
_CHECKPOINT_FORMAT = 1

# NeuralNet arguments that the ECG estimators set themselves (from ``loss`` and
# ``validation``); they are not parameters of the ECG estimators.
_FIXED_NEURALNET_ARGS = frozenset(
    {"criterion", "train_split", "predict_nonlinearity", "use_caching", "dataset"}
)


def resolve_device(device) -> str:
    """``"auto"`` -> ``"cuda"`` when a GPU is visible, else ``"cpu"``; other values unchanged.

    Examples
    --------
    >>> resolve_device("cpu")
    'cpu'
    """
    if device is None or (isinstance(device, str) and device == "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    return str(device)


def _epoch_seed(random_state: int, epoch: int) -> int:
    return int(np.random.SeedSequence([int(random_state), int(epoch)]).generate_state(1)[0])


def _drops_last(n: int, batch_size: int) -> bool:
    """Whether training drops the last batch: BatchNorm cannot train on a batch of one ECG."""
    return n % batch_size == 1


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, torch.Tensor):
        return value.tolist()
    raise TypeError(f"cannot store {type(value).__name__} in the training history")


class _ECGNet(ExportMixin, NeuralNet):
    """Shared machinery of the ECG estimators (private; see the public subclasses).

    Subclasses implement ``_encode_targets_fit``, ``_encode_targets``, ``_build_criterion``,
    ``_validation_score`` and ``_target_meta``, and set ``_score_name`` and
    ``_score_lower_is_better``.
    """

    _score_name = "valid_score"
    _score_lower_is_better = False

    def __init__(
        self,
        module="deepecg-sl",
        *,
        loss,
        lr=1e-3,
        batch_size=64,
        max_epochs=30,
        optimizer=torch.optim.AdamW,
        weight_decay=1e-2,
        device="auto",
        random_state=None,
        validation=0.1,
        patience=10,
        lr_schedule="cosine",
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
        encoder=None,
        finetune="full",
        encoder_lr_scale=1.0,
        **kwargs,
    ):
        # set before NeuralNet.__init__: skorch refuses torch modules (a loss or an
        # augmenter instance) assigned to a net after its construction
        self.loss = loss
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
        self.encoder = encoder
        self.finetune = finetune
        self.encoder_lr_scale = encoder_lr_scale
        fixed = sorted(_FIXED_NEURALNET_ARGS.intersection(kwargs))
        if fixed:
            raise TypeError(
                f"{type(self).__name__} sets {', '.join(fixed)} itself (use loss= for the "
                "criterion and validation= for the split)"
            )
        super().__init__(
            module,
            criterion=torch.nn.Identity,
            optimizer=optimizer,
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            train_split=None,
            callbacks=callbacks,
            predict_nonlinearity=None,
            warm_start=warm_start,
            verbose=verbose,
            device=device,
            **kwargs,
        )

    def __setattr__(self, name, attr):
        if name in ("loss", "augment", "encoder"):
            # plain parameters that may hold a torch module; not components of the net
            object.__setattr__(self, name, attr)
            return
        super().__setattr__(name, attr)

    # ------------------------------------------------------------------ parameters
    def _get_param_names(self):
        names = super()._get_param_names()
        # private state (skorch's "_params_to_validate", Accelerate's "_wrapped_with_accelerator")
        # is not a parameter
        return [n for n in names if n not in _FIXED_NEURALNET_ARGS and not n.startswith("_")]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.input_tags.two_d_array = False
        tags.non_deterministic = True
        return tags

    def _check_params(self):
        if not isinstance(self.max_epochs, numbers.Integral) or self.max_epochs < 1:
            raise ValueError(f"max_epochs must be a positive integer, got {self.max_epochs!r}")
        if not isinstance(self.batch_size, numbers.Integral) or self.batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {self.batch_size!r}")
        if not (isinstance(self.lr, numbers.Real) and self.lr > 0):
            raise ValueError(f"lr must be a positive number, got {self.lr!r}")
        if self.lr_schedule is not None and self.lr_schedule not in SCHEDULES:
            raise ValueError(
                f"lr_schedule must be None or one of {SCHEDULES}, got {self.lr_schedule!r}"
            )
        if self.patience is not None and (
            not isinstance(self.patience, numbers.Integral) or self.patience < 1
        ):
            raise ValueError(f"patience must be None or a positive integer, got {self.patience!r}")
        if self.max_time is not None and not (
            isinstance(self.max_time, numbers.Real) and self.max_time > 0
        ):
            raise ValueError(
                f"max_time must be None or a positive number of seconds, got {self.max_time!r}"
            )
        if self.grad_clip is not None and not (
            isinstance(self.grad_clip, numbers.Real) and self.grad_clip > 0
        ):
            raise ValueError(f"grad_clip must be None or a positive number, got {self.grad_clip!r}")
        if self.amp not in ("auto", True, False):
            raise ValueError(f'amp must be "auto", True or False, got {self.amp!r}')
        if not isinstance(self.num_workers, numbers.Integral) or self.num_workers < 0:
            raise ValueError(
                f"num_workers must be a non-negative integer, got {self.num_workers!r}"
            )
        if self.finetune not in FINETUNE_MODES:
            raise ValueError(f"finetune must be one of {FINETUNE_MODES}, got {self.finetune!r}")
        if not (isinstance(self.encoder_lr_scale, numbers.Real) and self.encoder_lr_scale > 0):
            raise ValueError(
                f"encoder_lr_scale must be a positive number, got {self.encoder_lr_scale!r}"
            )
        if self.random_state is not None and (
            isinstance(self.random_state, bool)
            or not isinstance(self.random_state, numbers.Integral)
        ):
            raise ValueError(f"random_state must be None or an integer, got {self.random_state!r}")

    # ------------------------------------------------------------------ device
    @contextlib.contextmanager
    def _resolved_device(self):
        """Let skorch internals that read ``self.device`` see the resolved device."""
        param = self.__dict__.get("device")
        resolved = resolve_device(param)
        self.__dict__["device"] = resolved
        try:
            yield resolved
        finally:
            self.__dict__["device"] = param

    def initialize(self):
        with self._resolved_device() as device:
            if torch.device(device).type == "cuda" and not torch.cuda.is_available():
                raise ValueError(
                    f"device={self.device!r} but no CUDA device is available; use "
                    'device="auto" (CUDA when present, else CPU) or device="cpu"'
                )
            self.device_ = device
            super().initialize()
        return self

    def set_params(self, **kwargs):
        device = kwargs.pop("device", _UNSET)
        with self._resolved_device():
            super().set_params(**kwargs)
        if device is not _UNSET:
            # outside the context, which would otherwise restore the previous value
            super().set_params(device=device)
        return self

    def __setstate__(self, state):
        param = state.get("device")
        if param is None or param == "auto":
            state["device"] = resolve_device(param)
        super().__setstate__(state)
        if param is None or param == "auto":
            self.__dict__["device"] = param
        else:
            # skorch replaced an unavailable CUDA device by the CPU (with a DeviceWarning)
            param = self.__dict__["device"]
            if isinstance(param, torch.device):
                param = str(param)
                self.__dict__["device"] = param
        if getattr(self, "initialized_", False):
            self.device_ = resolve_device(param)

    def _amp_enabled(self) -> bool:
        on_cuda = torch.device(self.device_).type == "cuda"
        return on_cuda and self.amp in ("auto", True)

    def _autocast(self):
        """Mixed-precision context of the forward passes (bf16/fp16 autocast on CUDA)."""
        return torch.autocast(torch.device(self.device_).type, enabled=self._amp_enabled())

    def _backward(self, loss):
        """Back-propagate ``loss`` (through the gradient scaler under mixed precision)."""
        if self.grad_scaler_ is not None:
            self.grad_scaler_.scale(loss).backward()
        else:
            loss.backward()

    def _bare_module(self):
        """``module_`` without a distributed (DDP) wrapper, for attribute and state access."""
        module = self.module_
        if isinstance(module, torch.nn.parallel.DistributedDataParallel):
            return module.module
        return module

    # ------------------------------------------------------------------ components
    def initialize_module(self):
        if not hasattr(self, "n_outputs_"):
            raise RuntimeError(
                f"{type(self).__name__} infers the network's input shape from the data: call fit"
            )
        kwargs = self.get_params_for("module")
        module = self._build_module(self.module, kwargs)
        self._check_module_output(module)
        self.module_ = module
        self.augmenter_ = build_augment(self.augment) or torch.nn.Identity()
        return self

    def _check_module_output(self, module):
        """One forward pass on two blank ECGs: the network must return (2, n_outputs_)."""
        param = next(module.parameters(), None)
        device = param.device if param is not None else "cpu"
        probe = torch.zeros(2, self.n_leads_, self.n_times_, device=device)
        was_training = module.training
        module.eval()
        try:
            with torch.no_grad():
                out = module(probe)
        except Exception as exc:
            raise ValueError(
                f"the module {type(module).__name__} fails on ECGs of shape "
                f"({self.n_leads_}, {self.n_times_}): {exc}"
            ) from exc
        finally:
            module.train(was_training)
        shape = tuple(getattr(out, "shape", ()))
        if shape != (2, self.n_outputs_):
            raise ValueError(
                f"the module {type(module).__name__} returns outputs of shape {shape} for a batch "
                f"of 2 ECGs; the targets need (2, {self.n_outputs_}) logits (pass n_outputs "
                "through the module's constructor or give it a reset_head(n_outputs) method)"
            )

    def _build_module(self, module, kwargs):
        if self.encoder is not None:
            if kwargs:
                raise ValueError(
                    "module__* parameters cannot be combined with encoder=: the network is the "
                    "pretrained encoder"
                )
            return self._build_from_encoder()
        self.module_spec_ = (
            {"name": module, "kwargs": dict(kwargs)} if isinstance(module, str) else None
        )
        shape = {"n_leads": self.n_leads_, "n_times": self.n_times_, "n_outputs": self.n_outputs_}
        if isinstance(module, str):
            from .. import nn as ecg_nn

            return ecg_nn.build_model(module, **shape, **kwargs)
        if isinstance(module, torch.nn.Module):
            if kwargs:
                raise ValueError(
                    "module is an instance, so module__* parameters cannot be applied; pass the "
                    "class (or a registry name) instead"
                )
            instance = copy.deepcopy(module)
            head = getattr(instance, "head", None)
            out = getattr(head, "out_features", None)
            if out is not None and out != self.n_outputs_ and hasattr(instance, "reset_head"):
                instance.reset_head(self.n_outputs_)
            return instance
        if callable(module):
            try:
                accepted = inspect.signature(module).parameters
            except (TypeError, ValueError):
                accepted = {}
            takes_all = any(p.kind is p.VAR_KEYWORD for p in accepted.values())
            extra = {k: v for k, v in shape.items() if takes_all or k in accepted}
            extra.update(kwargs)
            return module(**extra)
        raise TypeError(
            "module must be a registry name (see ecgsk.nn.list_models()), a torch.nn.Module "
            f"class or instance; got {type(module).__name__}"
        )

    def _build_from_encoder(self):
        """A copy of the pretrained encoder with a new head, frozen as ``finetune`` says."""
        from ._encoder import load_encoder

        encoder, spec = load_encoder(self.encoder)
        n_leads = getattr(encoder, "n_leads", self.n_leads_)
        if n_leads != self.n_leads_:
            raise ValueError(
                f"the encoder was pretrained on {n_leads} leads but X has {self.n_leads_}; apply "
                "the same preprocessing as in pretraining"
            )
        min_times = getattr(encoder, "min_times", 1)
        if self.n_times_ < min_times:
            raise ValueError(
                f"X has {self.n_times_} samples per lead; the encoder needs at least {min_times}"
            )
        if not hasattr(encoder, "reset_head"):
            raise TypeError(f"the encoder {type(encoder).__name__} has no reset_head(n_outputs)")
        encoder.reset_head(self.n_outputs_)
        for param in encoder.parameters():
            param.requires_grad_(True)
        frozen = self._frozen_part(encoder)
        if frozen is not None:
            for param in frozen.parameters():
                param.requires_grad_(False)
        self.module_spec_ = spec
        return encoder

    def _frozen_part(self, module):
        """The submodule that ``finetune`` keeps fixed (None for a full fine-tune)."""
        if self.encoder is None or self.finetune == "full":
            return None
        if self.finetune == "partial":
            part = getattr(module, "feature_encoder", None)
            if part is None:
                raise ValueError(
                    f'finetune="partial" freezes the convolutional feature encoder, which '
                    f"{type(module).__name__} does not have; use 'full' or 'linear'"
                )
            return part
        # "linear": everything but the head; a frozen view of the same parameters
        return _AllButHead(module)

    def _set_training(self, training=True):
        super()._set_training(training)
        if training and getattr(self, "module_", None) is not None:
            frozen = self._frozen_part(self._bare_module())
            if frozen is not None:
                # frozen layers keep their dropout off and their normalisation statistics fixed
                frozen.eval()

    def get_all_learnable_params(self):
        for name, param in super().get_all_learnable_params():
            if param.requires_grad:
                yield name, param

    def initialize_criterion(self):
        self.criterion_ = self._build_criterion()
        return self

    def initialize_optimizer(self, triggered_directly=None):
        named = list(self.get_all_learnable_params())
        args, kwargs = self.get_params_for_optimizer("optimizer", named)
        if self.encoder is not None and self.encoder_lr_scale != 1.0:
            # discriminative learning rates: the pretrained body learns slower than the new head
            body = [p for n, p in named if not n.startswith("head.")]
            head = [p for n, p in named if n.startswith("head.")]
            args = ([{"params": body, "lr": self.lr * self.encoder_lr_scale}, {"params": head}],)
        if self.weight_decay is not None and "weight_decay" not in kwargs:
            accepted = inspect.signature(self.optimizer).parameters
            if "weight_decay" in accepted:
                kwargs["weight_decay"] = self.weight_decay
        self.optimizer_ = self.optimizer(*args, **kwargs)
        return self

    @property
    def _default_callbacks(self):
        callbacks = [
            ("epoch_timer", EpochTimer()),
            ("train_loss", PassthroughScoring(name="train_loss", on_train=True)),
            ("valid_loss", PassthroughScoring(name="valid_loss")),
        ]
        has_valid = self.validation is not None
        if has_valid:
            callbacks.append(
                (self._score_name, ValidationScore(self._score_name, self._score_lower_is_better))
            )
        if self.lr_schedule is not None:
            callbacks.append(("lr_schedule", StepLRSchedule(self.lr_schedule)))
        if self.grad_clip is not None:
            callbacks.append(("grad_clip", GradientNormClipping(self.grad_clip)))
        if has_valid and self.patience is not None:
            monitor = getattr(self, "monitor_", self._score_name)
            lower = monitor == "valid_loss" or self._score_lower_is_better
            callbacks.append(
                (
                    "early_stopping",
                    ResumableEarlyStopping(
                        monitor=monitor,
                        patience=self.patience,
                        lower_is_better=lower,
                        threshold=1e-4,
                        load_best=True,
                    ),
                )
            )
        if self.max_time is not None:
            callbacks.append(("time_budget", TimeBudget(self.max_time)))
        callbacks.append(("checkpoint", EpochCheckpoint()))
        if self.progress_bar:
            callbacks.append(("progress_bar", ProgressBar()))
        callbacks.append(("print_log", PrintLog()))
        return callbacks

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
            kwargs = {}
            if fitted:
                kwargs = {"n_leads": self.n_leads_, "n_times": self.n_times_}
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

    def get_dataset(self, X, y=None):
        if is_internal_dataset(X):
            return X
        return self._make_dataset(X, y)

    def get_split_datasets(self, X, y=None, **fit_params):
        return self.fit_datasets_

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
        iterator = self.iterator_train if training else self.iterator_valid
        loader = iterator(dataset, **kwargs)
        if training:
            loader = self._distribute_loader(loader)
        deadline = getattr(self, "train_deadline_", None)
        if training and deadline is not None:
            return DeadlineLoader(loader, deadline)
        return loader

    def _distribute_loader(self, loader):
        """The training loader as this process iterates it (all of it without distribution)."""
        return loader

    def _steps_per_epoch(self, n_train: int) -> int:
        """Optimiser steps per epoch of this process (what the LR schedule counts)."""
        if _drops_last(n_train, self.batch_size):
            return max(n_train // self.batch_size, 1)
        return max(int(np.ceil(n_train / self.batch_size)), 1)

    def _split_indices(self, y_enc, groups, n):
        """Train/validation indices for a fractional ``validation`` (groups-aware)."""
        from sklearn.model_selection import GroupShuffleSplit, ShuffleSplit, StratifiedShuffleSplit

        frac = float(self.validation)
        n_valid = int(np.ceil(frac * n))
        if n_valid < 1 or n - n_valid < 2:
            raise ValueError(
                f"validation={self.validation} leaves {n - n_valid} ECGs for training and "
                f"{n_valid} for validation out of {n}; use more data, another fraction or "
                "validation=None"
            )
        index = np.zeros(n)
        if groups is not None:
            groups = np.asarray(groups)
            if groups.shape[0] != n:
                raise ValueError(f"groups has {groups.shape[0]} entries but X has {n} ECGs")
            if len(np.unique(groups)) < 2:
                raise ValueError("groups holds a single group: a patient-level split needs two")
            splitter = GroupShuffleSplit(n_splits=1, test_size=frac, random_state=self.random_state)
            return next(splitter.split(index, groups=groups))
        strata = self._strata(y_enc)
        if strata is not None:
            _, counts = np.unique(strata, return_counts=True)
            if counts.min() >= 2 and n_valid >= len(counts) and n - n_valid >= len(counts):
                splitter = StratifiedShuffleSplit(
                    n_splits=1, test_size=n_valid, random_state=self.random_state
                )
                return next(splitter.split(index, strata))
        splitter = ShuffleSplit(n_splits=1, test_size=n_valid, random_state=self.random_state)
        return next(splitter.split(index))

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
        y = dataset.y
        return y if indices is None else y[indices]

    def _prepare_validation(self, data, y_enc, groups, n):
        """Build ``(train_dataset, valid_dataset or None)`` and remember the split."""
        full = self._make_dataset(data, y_enc)
        val = self.validation
        if val is None:
            self.split_ = None
            return full, None
        if isinstance(val, tuple) and len(val) == 2:
            X_val, y_val = val
            val_data, n_val, shape = self._check_X(X_val, fitted=True)
            y_val_enc = self._encode_targets(y_val, n_val, name="validation y")
            self.split_ = "predefined"
            return full, self._make_dataset(val_data, y_val_enc)
        if isinstance(val, numbers.Real) and not isinstance(val, bool) and 0 < val < 1:
            state = getattr(self, "resume_state_", None)
            if state is not None and state.get("split") is not None:
                train_idx, valid_idx = (np.asarray(s, dtype=np.int64) for s in state["split"])
            else:
                train_idx, valid_idx = self._split_indices(y_enc, groups, n)
            self.split_ = (np.asarray(train_idx), np.asarray(valid_idx))
            return Subset(full, train_idx.tolist()), Subset(full, valid_idx.tolist())
        raise ValueError(
            f"validation must be a fraction in (0, 1), a tuple (X_val, y_val) or None; got {val!r}"
        )

    # ------------------------------------------------------------------ training
    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        if self.stop_reason_ is not None:
            raise KeyboardInterrupt
        if self.random_state is not None:
            seed = _epoch_seed(self.random_state, len(self.history) + 1)
            torch.manual_seed(seed)
            self.loader_generator_.manual_seed(seed)
        super().on_epoch_begin(net, dataset_train=dataset_train, dataset_valid=dataset_valid)

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        device_type = torch.device(self.device_).type
        self.grad_scaler_ = torch.amp.GradScaler(device_type) if self._amp_enabled() else None
        state = getattr(self, "resume_state_", None)
        if state and state.get("grad_scaler") and self.grad_scaler_ is not None:
            self.grad_scaler_.load_state_dict(state["grad_scaler"])

    def infer(self, x, **fit_params):
        x = to_tensor(x, device=self.device_)
        if self.module_.training:
            x = self.augmenter_(x)
        with self._autocast():
            return self.module_(x, **fit_params)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        y_true = to_tensor(y_true, device=self.device_)
        return self.criterion_(y_pred.float(), y_true)

    def train_step_single(self, batch, **fit_params):
        self._set_training(True)
        Xi, yi = batch
        y_pred = self.infer(Xi, **fit_params)
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        self._backward(loss)
        return {"loss": loss, "y_pred": y_pred}

    def train_step(self, batch, **fit_params):
        self._zero_grad_optimizer(set_to_none=True)
        step = self.train_step_single(batch, **fit_params)
        if self.grad_scaler_ is not None:
            self.grad_scaler_.unscale_(self.optimizer_)
        # gradient clipping (GradientNormClipping) runs here, on unscaled gradients
        self.notify(
            "on_grad_computed",
            named_parameters=TeeGenerator(self.get_all_learnable_params()),
            batch=batch,
            training=True,
        )
        if self.grad_scaler_ is not None:
            self.grad_scaler_.step(self.optimizer_)
            self.grad_scaler_.update()
        else:
            self.optimizer_.step()
        return step

    def validation_step(self, batch, **fit_params):
        self._set_training(False)
        Xi, yi = batch
        with torch.no_grad():
            y_pred = self.infer(Xi, **fit_params)
            loss = self.get_loss(y_pred, yi, X=Xi, training=False)
        return {"loss": loss, "y_pred": y_pred}

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
        resume_state = self._load_resume_state()
        continuing = (
            resume_state is None
            and self.warm_start
            and getattr(self, "initialized_", False)
            and hasattr(self, "n_outputs_")
        )
        previous = (
            (self.n_leads_, self.n_times_, self.n_outputs_, self._target_meta())
            if continuing
            else None
        )
        y_enc = self._encode_targets_fit(y, n)
        self.n_leads_, self.n_times_ = int(n_leads), int(n_times)
        if continuing and previous != (
            self.n_leads_,
            self.n_times_,
            self.n_outputs_,
            self._target_meta(),
        ):
            raise ValueError(
                "warm_start=True continues training the same network, but the input shape or "
                "the targets' labels differ from the previous fit; set warm_start=False"
            )
        if resume_state is not None:
            self._check_resume_compatible(resume_state, n)
        self.resume_state_ = resume_state
        self.interrupted_ = False
        opened = False
        try:
            self.fit_datasets_ = self._prepare_validation(data, y_enc, groups, n)
            self.steps_per_epoch_ = self._steps_per_epoch(len(self.fit_datasets_[0]))
            self.monitor_ = self._choose_monitor()
            self.pos_weight_ = self._resolve_class_weight(y_enc)
            if self.random_state is not None:
                torch.manual_seed(int(self.random_state))
                self.loader_generator_ = torch.Generator().manual_seed(int(self.random_state))
            else:
                self.loader_generator_ = None
            if continuing:
                with self._resolved_device():
                    self._initialize_callbacks()
                    self._initialize_criterion()
            else:
                self.initialize()
            self.stop_reason_ = None
            if resume_state is not None:
                self._restore_training_state(resume_state)
            epochs_before = len(self.history)
            epochs = self.max_epochs
            if resume_state is not None:
                epochs = max(self.max_epochs - epochs_before, 0)
                self.schedule_offset_ = int(resume_state.get("schedule_offset", 0))
            else:
                # a warm-started fit runs its own schedule after the batches already done
                self.schedule_offset_ = int(
                    sum(row.get("train_batch_count", 0) for row in self.history)
                )
            self.final_epoch_ = epochs_before + epochs  # history length when fit is done
            self._open_checkpoint_dir(resume_state)
            opened = True
            try:
                # also with 0 epochs left: on_train_end restores the best weights of a resumed run
                super().partial_fit(data, y_enc, _routing_method="fit", epochs=epochs, **fit_params)
            except BaseException:
                self.interrupted_ = True  # a crash leaves a resumable checkpoint, like a kill
                raise
            self.interrupted_ = (
                self.stop_reason_ is None and len(self.history) < epochs_before + epochs
            )
            self.n_epochs_ = len(self.history)
            self.best_epoch_ = self._best_epoch()
            self._after_fit(self.fit_datasets_[1])
        finally:
            for name in ("fit_datasets_", "resume_state_", "grad_scaler_", "loader_generator_",
                         "final_epoch_"):
                self.__dict__.pop(name, None)
            if opened:
                self._close_checkpoint_dir()
        return self

    @property
    def partial_fit(self):
        # skorch's partial_fit would bypass the target encoding and shape checks of fit
        raise AttributeError(
            f"{type(self).__name__} has no partial_fit; to continue training call fit with "
            "warm_start=True"
        )

    def _choose_monitor(self):
        return self._score_name

    def _resolve_class_weight(self, y_enc):
        return None

    def _best_epoch(self):
        es = dict(self.callbacks_).get("early_stopping")
        best = getattr(es, "best_epoch_", 0) if es is not None else 0
        return int(best) if best else len(self.history)

    def _after_fit(self, valid_dataset):
        pass

    # ------------------------------------------------------------------ checkpoints
    def _load_resume_state(self):
        path = self.resume
        if path is None and self.warm_start and getattr(self, "interrupted_", False):
            path = getattr(self, "checkpoint_path_", None)
            if path is None or not Path(path).exists():
                path = None
        if path is None:
            return None
        path = Path(path)
        if path.is_dir():
            direct = path / CHECKPOINT_FILE
            if direct.exists():
                path = direct
            else:
                runs = sorted(path.glob(f"*/{CHECKPOINT_FILE}"), key=lambda p: p.stat().st_mtime)
                if not runs:
                    raise FileNotFoundError(f"resume: no {CHECKPOINT_FILE} found in {path}")
                path = runs[-1]
        if not path.exists():
            raise FileNotFoundError(f"resume: checkpoint {path} does not exist")
        state = torch.load(path, map_location="cpu", weights_only=True)
        if (
            state.get("format") != _CHECKPOINT_FORMAT
            or state.get("estimator") != type(self).__name__
        ):
            raise ValueError(f"resume: {path} is not a {type(self).__name__} checkpoint")
        state["path"] = str(path)
        return state

    def _check_resume_compatible(self, state, n):
        meta = state["meta"]
        here = {
            "n_samples": int(n),
            "n_leads": self.n_leads_,
            "n_times": self.n_times_,
            "n_outputs": self.n_outputs_,
            "target": self._target_meta(),
        }
        for key, value in here.items():
            if json.loads(json.dumps(value, default=_json_default)) != meta.get(key):
                raise ValueError(
                    f"resume: the data differ from the checkpoint {state['path']} ({key}: "
                    f"{value!r} now, {meta.get(key)!r} in the checkpoint); resume with the same "
                    "X and y"
                )

    def _restore_training_state(self, state):
        self._bare_module().load_state_dict(state["module"])
        self.optimizer_.load_state_dict(state["optimizer"])
        self.history_ = History(json.loads(state["history"]))
        self.stop_reason_ = state.get("stop_reason")

    def _open_checkpoint_dir(self, resume_state):
        if resume_state is not None:
            path = Path(resume_state["path"])
            self.checkpoint_owned_ = self.resume is None and getattr(
                self, "checkpoint_owned_", False
            )
        elif self.checkpoint_dir is None:
            path = Path(tempfile.mkdtemp(prefix="ecgsk-fit-")) / CHECKPOINT_FILE
            self.checkpoint_owned_ = True
        else:
            root = Path(self.checkpoint_dir)
            root.mkdir(parents=True, exist_ok=True)
            stamp = time.strftime("%Y%m%d-%H%M%S")
            # mkdtemp makes the run directory unique even for parallel fits (GridSearchCV n_jobs)
            path = Path(tempfile.mkdtemp(prefix=f"run-{stamp}-", dir=root)) / CHECKPOINT_FILE
            self.checkpoint_owned_ = False
        self.checkpoint_path_ = str(path)

    def _close_checkpoint_dir(self):
        path = getattr(self, "checkpoint_path_", None)
        if path is None or not getattr(self, "checkpoint_owned_", False):
            return
        if getattr(self, "interrupted_", False):
            warnings.warn(
                f"training was interrupted after epoch {len(self.history)}; call fit again with "
                f"warm_start=True, or with resume={path!r}, to continue from there",
                UserWarning,
                stacklevel=3,
            )
            return
        shutil.rmtree(Path(path).parent, ignore_errors=True)
        self.checkpoint_path_ = None

    def _write_checkpoint(self):
        es = dict(self.callbacks_).get("early_stopping")
        scaler = getattr(self, "grad_scaler_", None)
        split = self.split_ if isinstance(self.split_, tuple) else None
        state = {
            "format": _CHECKPOINT_FORMAT,
            "estimator": type(self).__name__,
            "module": self._bare_module().state_dict(),
            "optimizer": self.optimizer_.state_dict(),
            "history": json.dumps(list(self.history), default=_json_default),
            "early_stopping": None if es is None else es.state(),
            "grad_scaler": None if scaler is None else scaler.state_dict(),
            "stop_reason": self.stop_reason_,
            "schedule_offset": int(self.schedule_offset_),
            "split": None if split is None else [torch.as_tensor(s) for s in split],
            "meta": json.loads(
                json.dumps(
                    {
                        "n_samples": int(len(self.fit_datasets_[0]))
                        + (int(len(self.fit_datasets_[1])) if isinstance(split, tuple) else 0),
                        "n_leads": self.n_leads_,
                        "n_times": self.n_times_,
                        "n_outputs": self.n_outputs_,
                        "target": self._target_meta(),
                    },
                    default=_json_default,
                )
            ),
        }
        path = Path(self.checkpoint_path_)
        tmp = path.with_suffix(".tmp")
        torch.save(state, tmp)
        os.replace(tmp, path)

    # ------------------------------------------------------------------ inference
    def _iterate_outputs(self, X, features=False):
        """Yield per-batch float32 numpy outputs (logits or embeddings) in eval mode."""
        self.check_is_fitted()
        if is_internal_dataset(X):
            dataset = X
        else:
            data, _, _ = self._check_X(X, fitted=True)
            dataset = self._make_dataset(data)
        self._set_training(False)
        module = self.module_
        if features and not hasattr(module, "forward_features"):
            raise AttributeError(
                f"the module {type(module).__name__} has no forward_features(x) method, so "
                "transform cannot return embeddings"
            )
        forward = module.forward_features if features else module
        amp = torch.autocast(torch.device(self.device_).type, enabled=self._amp_enabled())
        with torch.inference_mode(), amp:
            for Xi, _ in self.get_iterator(dataset, training=False):
                out = forward(to_tensor(Xi, device=self.device_))
                yield out.float().cpu().numpy()

    def _logits(self, X) -> np.ndarray:
        return np.concatenate(list(self._iterate_outputs(X)), axis=0)

    def transform(self, X):
        """Embeddings from the network's ``forward_features``.

        Parameters
        ----------
        X : array-like of shape (n_ecgs, n_leads, n_times) or torch Dataset

        Returns
        -------
        ndarray of shape (n_ecgs, n_features)
        """
        return np.concatenate(list(self._iterate_outputs(X, features=True)), axis=0)

    def forward(self, X, training=False, device="cpu"):
        """Raw network outputs (logits) as a torch tensor on ``device``, after input checks.

        Parameters
        ----------
        X : array-like of shape (n_ecgs, n_leads, n_times) or torch Dataset
        training : bool, default=False
            Run the network in training mode (dropout active; augmentation stays off).
        device : str, default="cpu"
            Where the returned tensor lives.

        Returns
        -------
        torch.Tensor of shape (n_ecgs, n_outputs_)
        """
        if not training:
            return torch.from_numpy(self._logits(X)).to(device)
        data, _, _ = self._check_X(X, fitted=True)
        self.module_.train()
        try:
            outputs = []
            for Xi, _ in self.get_iterator(self._make_dataset(data), training=False):
                with torch.no_grad():
                    outputs.append(self.module_(to_tensor(Xi, device=self.device_)).float())
            return torch.cat(outputs).to(device)
        finally:
            self._set_training(False)

    def __sklearn_is_fitted__(self):
        return bool(getattr(self, "initialized_", False)) and hasattr(self, "n_outputs_")


class _AllButHead(torch.nn.Module):
    """A view of every direct child of a network except its ``head`` (no copies)."""

    def __init__(self, module):
        super().__init__()
        for name, child in module.named_children():
            if name != "head":
                self.add_module(name, child)
        # parameters registered directly on the network (e.g. a mask embedding)
        for name, param in module.named_parameters(recurse=False):
            self.register_parameter(name, param)
