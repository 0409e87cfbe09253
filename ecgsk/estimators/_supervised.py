"""``_SupervisedECGNet``: what the classifier and the regressor add to ``_ECGNet``.

The loss, and the network's origin: a registry name, a class, an instance, or a pretrained
encoder (``encoder=``) fine-tuned fully, partially or as a linear probe. ``ECGPretrainer``
does not inherit any of it.

Fine-tuning a DeepECG-SSL encoder (an :class:`ecgsk.nn.ECGTransformer`) follows the release's
recipe (:data:`DEEPECG_SSL_FINETUNING`) for every parameter left at ``"auto"``; the recipe is
resolved by every fit into fitted attributes (``lr_``, ``lr_schedule_``, ``finetune_``,
``encoder_dropout_``, ``recipe_``), never into the parameters.
"""

from __future__ import annotations

import copy
import inspect
import numbers

import torch

from ._augment import Augmenter, build_augment
from ._base import AUTO, _ECGNet, is_auto

FINETUNE_MODES = ("full", "partial", "linear")

#: The dropouts of an :class:`ecgsk.nn.ECGTransformer` that ``encoder_dropout`` sets.
ENCODER_DROPOUTS = ("dropout", "attention_dropout", "activation_dropout", "input_dropout",
                    "head_dropout")

#: The DeepECG-SSL release's fine-tuning recipe (HeartWise-AI/DeepECG-SSL-finetune,
#: ``examples/w2v_cmsc/config/finetuning/ecg_transformer/diagnosis*.yaml`` and the
#: fine-tuning model configs of ``fairseq_signals/models``): Adam (0.9, 0.98) at a fixed
#: learning rate of 5e-5 (``lr_scheduler: fixed``, no warm-up), no weight decay (the configs
#: set none; fairseq's Adam defaults to 0); ``feature_grad_mult: 0.0``,
#: i.e. the conv feature encoder runs without gradient (``finetune="partial"``); dropout 0,
#: attention dropout 0, activation dropout 0.1, input dropout 0, final (head) dropout 0,
#: no layer drop and no masking. ``encoder_dropout`` maps these onto ECGTransformer's names.
DEEPECG_SSL_FINETUNING = {
    "lr": 5e-5,
    "lr_schedule": None,
    "weight_decay": 0.0,
    "finetune": "partial",
    "encoder_dropout": {
        "dropout": 0.0, "attention_dropout": 0.0, "activation_dropout": 0.1,
        "input_dropout": 0.0, "head_dropout": 0.0,
    },
    "betas": (0.9, 0.98),
}


class _Criterion:
    """The loss as a plain callable (not a torch module).

    A parameter-free loss must not be handed to Accelerate, which would wrap it in
    ``DistributedDataParallel``; the loss is built on the net's device.
    """

    def __init__(self, loss: torch.nn.Module):
        self.loss = loss

    def __call__(self, y_pred, y_true):
        return self.loss(y_pred, y_true)


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


#: The network ``module="auto"`` builds: DeepECG-SL as published where a GPU trains it fast,
#: and on a CPU a network whose cost lets a time budget train it for several epochs.
AUTO_NETWORKS = {"cuda": "deepecg-sl", "cpu": "ecgsk-cnn"}


def default_network(device) -> str:
    """The registry name that ``module="auto"`` resolves to on ``device``.

    Examples
    --------
    >>> default_network("cuda"), default_network("cpu")
    ('deepecg-sl', 'ecgsk-cnn')
    """
    kind = torch.device(device).type
    return AUTO_NETWORKS.get(kind, AUTO_NETWORKS["cpu"])


class _SupervisedECGNet(_ECGNet):
    """Shared machinery of ``ECGClassifier`` and ``ECGRegressor`` (private).

    Subclasses implement ``_build_criterion``.
    """

    def __init__(
        self, module="auto", *, loss, encoder=None, finetune=AUTO, encoder_lr_scale=1.0,
        encoder_dropout=AUTO, **kwargs,
    ):
        self.loss = loss
        self.encoder = encoder
        self.finetune = finetune
        self.encoder_lr_scale = encoder_lr_scale
        self.encoder_dropout = encoder_dropout
        super().__init__(module, **kwargs)

    def _check_params(self):
        super()._check_params()
        if not (is_auto(self.finetune)
                or (isinstance(self.finetune, str) and self.finetune in FINETUNE_MODES)):
            raise ValueError(
                f'finetune must be "auto" or one of {FINETUNE_MODES}, got {self.finetune!r}'
            )
        if not (isinstance(self.encoder_lr_scale, numbers.Real) and self.encoder_lr_scale > 0):
            raise ValueError(
                f"encoder_lr_scale must be a positive number, got {self.encoder_lr_scale!r}"
            )
        dropout = self.encoder_dropout
        if dropout is None or is_auto(dropout):
            return
        if not isinstance(dropout, dict):
            raise TypeError(
                'encoder_dropout must be "auto", None or a dict of dropout probabilities, got '
                f"{type(dropout).__name__}"
            )
        unknown = sorted(set(dropout) - set(ENCODER_DROPOUTS))
        if unknown:
            raise ValueError(
                f"encoder_dropout has unknown keys {unknown}; the keys are {ENCODER_DROPOUTS}"
            )
        for key, p in dropout.items():
            if isinstance(p, bool) or not (isinstance(p, numbers.Real) and 0 <= p < 1):
                raise ValueError(f"encoder_dropout[{key!r}] must lie in [0, 1), got {p!r}")

    # ------------------------------------------------------------------ "auto" parameters
    def _resolve_training_defaults(self):
        """Resolve the ``"auto"`` parameters of this fit, the encoder's recipe included.

        The encoder is loaded here (once per fit), since its kind decides the recipe; the
        network is built from that copy.
        """
        self.__dict__.pop("_pending_encoder_", None)
        if self.encoder is not None:
            from ._encoder import load_encoder

            self.__dict__["_pending_encoder_"] = load_encoder(self.encoder)
        recipe = super()._resolve_training_defaults()
        self.recipe_ = recipe["name"]
        self.finetune_ = recipe["finetune"] if is_auto(self.finetune) else self.finetune
        dropout = self.encoder_dropout
        if is_auto(dropout):
            dropout = recipe["encoder_dropout"]
        elif isinstance(dropout, dict) and recipe["encoder_dropout"] is not None:
            dropout = {**recipe["encoder_dropout"], **dropout}  # the user's keys win
        self.encoder_dropout_ = None if dropout is None else dict(dropout)
        self.optimizer_betas_ = recipe["betas"]
        if self.verbose and self.encoder is not None:
            print(self._recipe_line())
        return recipe

    def _training_recipe(self) -> dict:
        pending = self.__dict__.get("_pending_encoder_")
        if pending is not None and _is_ssl_transformer(pending[0]):
            return {"name": "deepecg-ssl", **copy.deepcopy(DEEPECG_SSL_FINETUNING)}
        return {**super()._training_recipe(), "name": "ecgsk", "finetune": "full",
                "encoder_dropout": None, "betas": None}

    def _recipe_line(self) -> str:
        """The resolved fine-tuning settings, each marked as the release's or the user's."""
        release = self.recipe_ == "deepecg-ssl"

        def origin(param):
            if not is_auto(getattr(self, param)):
                return "set"
            return "release" if release else "default"

        schedule = "fixed" if self.lr_schedule_ is None else self.lr_schedule_
        parts = [f"lr={self.lr_:g} ({origin('lr')})",
                 f"lr_schedule={schedule} ({origin('lr_schedule')})",
                 f"weight_decay={self.weight_decay_:g} ({origin('weight_decay')})"
                 if self.weight_decay_ is not None else "weight_decay=None (set)",
                 f"finetune={self.finetune_} ({origin('finetune')})"]
        if self.encoder_dropout_ is not None:
            mine = self.encoder_dropout if isinstance(self.encoder_dropout, dict) else {}
            values = ", ".join(
                f"{k}={v:g} ({'set' if k in mine or self.encoder_dropout is None else 'release'})"
                for k, v in self.encoder_dropout_.items()
            )
            parts.append(f"encoder_dropout: {values}")
        user_betas = self.get_params_for("optimizer").get("betas")
        if user_betas is not None:
            parts.append(f"betas={tuple(user_betas)} (set)")
        elif (self.optimizer_betas_ is not None
              and "betas" in inspect.signature(self.optimizer).parameters):
            parts.append(f"betas={tuple(self.optimizer_betas_)} (release)")
        what = ("the DeepECG-SSL release's fine-tuning recipe" if release
                else "ecgsk's defaults (not a DeepECG-SSL transformer encoder)")
        return f"{type(self).__name__}: fine-tuning the encoder with {what}: " + "; ".join(parts)

    # ------------------------------------------------------------------ network
    def initialize_module(self):
        if not hasattr(self, "n_outputs_"):
            raise RuntimeError(
                f"{type(self).__name__} infers the network's input shape from the data: call fit"
            )
        module = self._build_module(self.get_params_for("module"))
        self._check_module_output(module)
        self.module_ = module
        self.augmenter_ = Augmenter(build_augment(self.augment))
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

    def _build_module(self, kwargs):
        module = self.module
        if self.encoder is not None:
            if kwargs:
                raise ValueError(
                    "module__* parameters cannot be combined with encoder=: the network is the "
                    "pretrained encoder"
                )
            return self._build_from_encoder()
        if isinstance(module, str) and module == "auto":
            module = default_network(self.device_)
            if self.verbose:
                print(f"{type(self).__name__}: module='auto' on {self.device_} builds "
                      f"{module!r}")
        self.module_name_ = module if isinstance(module, str) else type(module).__name__
        self.module_spec_ = (
            {"name": module, "kwargs": dict(kwargs)} if isinstance(module, str) else None
        )
        shape = {"n_leads": self.n_leads_, "n_times": self.n_times_, "n_outputs": self.n_outputs_}
        if isinstance(module, str):
            from ..nn import build_model

            return build_model(module, **shape, **kwargs)
        if isinstance(module, torch.nn.Module):
            if kwargs:
                raise ValueError(
                    "module is an instance, so module__* parameters cannot be applied; pass the "
                    "class (or a registry name) instead"
                )
            instance = copy.deepcopy(module)
            out = getattr(getattr(instance, "head", None), "out_features", None)
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
            return module(**extra, **kwargs)
        raise TypeError(
            "module must be a registry name (see ecgsk.nn.list_models()), a torch.nn.Module "
            f"class or instance; got {type(module).__name__}"
        )

    def _build_from_encoder(self):
        """A copy of the pretrained encoder with a new head, frozen as ``finetune_`` says and
        with the fine-tuning dropouts (``encoder_dropout_``); the user's object is untouched."""
        from ._encoder import load_encoder

        pending = self.__dict__.pop("_pending_encoder_", None)
        encoder, spec = pending if pending is not None else load_encoder(self.encoder)
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
        dropout = getattr(self, "encoder_dropout_", None)
        if dropout:
            _set_transformer_dropouts(encoder, dropout)  # before reset_head: the head's dropout
        encoder.reset_head(self.n_outputs_)
        encoder.requires_grad_(True)
        frozen = self._frozen_part(encoder)
        if frozen is not None:
            frozen.requires_grad_(False)
        self.module_spec_ = spec
        return encoder

    def _frozen_part(self, module):
        """The submodule that ``finetune_`` keeps fixed (None for a full fine-tune)."""
        finetune = getattr(self, "finetune_", self.finetune)
        if self.encoder is None or finetune == "full":
            return None
        if finetune == "partial":
            part = getattr(module, "feature_encoder", None)
            if part is None:
                raise ValueError(
                    f'finetune="partial" freezes the convolutional feature encoder, which '
                    f"{type(module).__name__} does not have; use 'full' or 'linear'"
                )
            return part
        # "linear": everything but the head; a frozen view of the same parameters
        return _AllButHead(module)

    def _keep_frozen_in_eval(self):
        frozen = self._frozen_part(self._bare_module())
        if frozen is not None:
            # frozen layers keep their dropout off and their normalisation statistics fixed
            frozen.eval()

    def _pretrained_encoder(self):
        """``(copy of the trained network, its spec)``, for ``encoder=`` arguments."""
        self.check_is_fitted()
        spec = getattr(self, "module_spec_", None)
        return copy.deepcopy(self._bare_module()), None if spec is None else dict(spec)

    def _export_network(self):
        module = self._bare_module()
        if getattr(module, "is_released_torchscript", False):
            raise ValueError(
                "this estimator wraps a released TorchScript file (ECGClassifier.from_deepecg of "
                "a DeepECG-SL model), which cannot be re-exported: deploy that .pt file itself "
                "(torch.jit.load, input in its own convention), or fine-tune a registry model"
            )
        return module

    # ------------------------------------------------------------------ loss and optimiser
    def initialize_criterion(self):
        loss = self._build_criterion()
        device = getattr(self, "device_", None)
        self.criterion_ = _Criterion(loss if device is None else loss.to(device))
        return self

    def initialize_optimizer(self, triggered_directly=None):
        named = [(n, p) for n, p in self.get_all_learnable_params() if p.requires_grad]
        args, kwargs = self._optimizer_kwargs(named)
        betas = getattr(self, "optimizer_betas_", None)
        if betas is not None and "betas" in inspect.signature(self.optimizer).parameters:
            kwargs.setdefault("betas", tuple(betas))  # the recipe's; optimizer__betas wins
        if self.encoder is not None and self.encoder_lr_scale != 1.0:
            # discriminative learning rates: the pretrained body learns slower than the new head
            body = [p for n, p in named if not n.startswith("head.")]
            head = [p for n, p in named if n.startswith("head.")]
            args = ([{"params": body, "lr": kwargs["lr"] * self.encoder_lr_scale},
                     {"params": head}],)
        self.optimizer_ = self.optimizer(*args, **kwargs)
        return self


def _is_ssl_transformer(module) -> bool:
    """Whether ``module`` is a DeepECG-SSL (wav2vec 2.0-style) transformer."""
    from ..nn.transformer import ECGTransformer

    return isinstance(module, ECGTransformer)


def _set_transformer_dropouts(module, values):
    """Set the dropout probabilities ``values`` (keys :data:`ENCODER_DROPOUTS`) on ``module``.

    ``dropout`` is that of the transformer layers and of the stack's input (fairseq's
    ``dropout``), ``input_dropout`` that of the projected features (``dropout_input``),
    ``head_dropout`` that of the head built next (``final_dropout``).
    """
    if not _is_ssl_transformer(module):
        raise ValueError(
            "encoder_dropout sets the dropouts of a DeepECG-SSL transformer encoder "
            f"(ecgsk.nn.ECGTransformer), not of {type(module).__name__}; use encoder_dropout=None"
        )
    for key, p in values.items():
        p = float(p)
        if key == "dropout":
            module.encoder_dropout.p = p
            for layer in module.layers:
                layer.dropout.p = p
        elif key == "attention_dropout":
            for layer in module.layers:
                layer.attn.dropout = p
        elif key == "activation_dropout":
            for layer in module.layers:
                layer.activation_dropout.p = p
        elif key == "input_dropout":
            module.input_dropout.p = p
        elif key == "head_dropout":
            module.head_dropout = p
        else:  # _check_params refuses other keys
            raise ValueError(f"unknown encoder_dropout key {key!r}")
