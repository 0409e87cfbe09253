"""ECGPretrainer: self-supervised pretraining of an ECG encoder (DeepECG-SSL) as an estimator."""

from __future__ import annotations

import copy
import inspect
import numbers

import numpy as np
from sklearn.base import TransformerMixin
from skorch.callbacks import Callback, PassthroughScoring

from ..ssl import OBJECTIVES, SSLPretextModel
from ._augment import Augmenter, build_augment
from ._base import AUTO, _ECGNet, is_auto
from ._callbacks import bare_module
from ._data import PretextDataset
from ._encoder import save_encoder

LOSS_NAMES = ("wav2vec2", "cmsc", "diversity", "feature_penalty")
ADAM_EPS = 1e-6
#: the release's fixed pretraining learning rate, for its encoder width (768)
RELEASE_LR = 5e-5
RELEASE_WIDTH = 768


def release_lr_for_width(width: int) -> float:
    """``lr="auto"``: the release's 5e-5 at its width 768, scaled by ``768 / width``.

    Adam's update size does not shrink with the width of a layer, so a narrower transformer
    needs a proportionally larger learning rate for the same change of its function (the
    muP rule for hidden weights, Yang et al. 2022). The release's own model gets exactly
    the release's rate.

    Examples
    --------
    >>> release_lr_for_width(768), release_lr_for_width(64)
    (5e-05, 0.0006)
    """
    return float(f"{RELEASE_LR * RELEASE_WIDTH / int(width):.3g}")


class ECGPretrainer(TransformerMixin, _ECGNet):
    """Pretrain an ECG transformer without labels, as DeepECG-SSL does.

    The defaults are the release's ``w2v_cmsc_rlm`` configuration (fairseq-signals,
    ``examples/w2v_cmsc/config/pretraining/w2v_cmsc_rlm.yaml``): each 10 s ECG is cut into
    two 5 s segments, each segment corrupted by random lead masking (each lead zeroed with
    probability ``lead_mask_prob``) and optional augmentation, and the encoder learns from:

    - ``"wav2vec2"``: masked contrastive prediction of quantized conv features (Gumbel product
      quantizer 2 x 320, final dim 256; fairseq's span masks, probability 0.65, span 10,
      every row trimmed to the batch's smallest count; 100 distractors drawn with
      replacement; temperature 0.1; diversity weight 0.1; feature penalty 10; gradient into
      the conv encoder x 0.1; dropout 0.1 on the features that become targets);
    - ``"cmsc"``: contrastive multi-segment coding on the mean-pooled transformer output
      (no projection): the first and second segments of the same ECG, and of the same
      patient when ``fit`` gets ``groups``, are positives in a cross-segment InfoNCE
      (temperature 0.1).

    ``objectives=("wav2vec2", "cmsc")`` with ``lead_mask_prob=0.5`` is the paper's
    "W2V+CMSC+RLM"; the optimiser is Adam with decoupled weight decay (AdamW), betas
    (0.9, 0.98), eps 1e-6, weight decay 0.01, and a fixed learning rate of 5e-5 without
    warm-up (``lr_schedule=None``) for the release's 768-wide encoder (narrower encoders get a
    proportionally larger one, see ``lr``). The release trains for up to 1000 epochs with about 2000
    ECGs per update; ``pretext_options`` sets everything of :class:`ecgsk.ssl.SSLPretextModel`
    (for example ``keep_one_lead=True``, ecgsk's option that never zeroes all 12 leads).
    Each objective's loss is logged per epoch in ``history_`` (``train_wav2vec2``,
    ``train_cmsc``, ...). Training machinery (progress bar, checkpoints and resume, time
    budget, devices and mixed precision) is that of :class:`ECGClassifier`.

    After ``fit``, ``transform(X)`` returns embeddings, ``save(path)`` writes the
    encoder with its card, and ``ECGClassifier(encoder=pretrainer)``,
    ``ECGRegressor(encoder=...)`` or ``ECGEmbedder(encoder=...)`` use it.
    :meth:`from_deepecg` starts from the released pretrained DeepECG-SSL encoder instead.

    Parameters
    ----------
    module : str, default="deepecg-ssl"
        Registry name of the encoder (``"deepecg-ssl"``, ``"deepecg-ssl-small"``,
        ``"deepecg-ssl-tiny"``); ``module__*`` parameters go to its constructor.
    objectives : tuple of {"wav2vec2", "cmsc"}, default=("wav2vec2", "cmsc")
    lead_mask_prob : float, default=0.5
        Random lead masking probability (0 disables it).
    segment_seconds : float, default=5.0
        Segment length for CMSC and wav2vec 2.0; ECGs must hold at least two.
    sfreq : float, default=250.0
        Sampling rate of ``X`` (Hz), needed to turn ``segment_seconds`` into samples.
    lr : "auto" or float, default="auto"
        ``"auto"``: the release's fixed 5e-5 for an encoder of the release's width (768, the
        ``deepecg-ssl`` models); a narrower encoder gets ``5e-5 * 768 / width``
        (``release_lr_for_width``; ``deepecg-ssl-tiny``: 6e-4), ecgsk's rule, since 5e-5
        leaves a small encoder where it started. The value used is ``lr_``.
    betas : tuple of float, default=(0.9, 0.98)
        Adam momentum parameters (the release: Adam (0.9, 0.98), eps 1e-6, weight decay 0.01;
        eps can be changed with ``optimizer__eps``).
    weight_decay : "auto", float or None, default="auto"
        ``"auto"``: the release's 0.01 (decoupled). The value used is ``weight_decay_``.
    lr_schedule : None or str, default=None
        None keeps the learning rate fixed, as the release (``lr_scheduler: fixed``, no
        warm-up); the schedules of :class:`ECGClassifier` (``"cosine"``, ...) are options.
    batch_size, max_epochs, device, random_state, validation, patience, \
grad_clip, max_time, amp, num_workers, checkpoint_dir, resume, callbacks, progress_bar, \
verbose, warm_start
        As for :class:`ECGClassifier`. Early stopping (``patience``) follows the
        validation loss.
    augment : None, bool, dict or ECGAugment, default=None
        View augmentation (noise, powerline, baseline wander), train time only. Lead
        masking is controlled by ``lead_mask_prob``.
    pretext_options : dict, optional
        Further keyword arguments of :class:`ecgsk.ssl.SSLPretextModel` (``mask_prob``,
        ``mask_span``, ``n_negatives``, ``temperature``, ``n_entries``, ``final_dim``,
        ``feature_grad_mult``, ``feature_dropout``, ``keep_one_lead``, ...); their defaults
        are the release's.

    Attributes
    ----------
    module_ : ecgsk.ssl.SSLPretextModel
        The encoder (``module_.encoder``) with the pretext heads.
    module_spec_ : dict
        Registry name and keyword arguments that rebuild the encoder (also readable as
        ``encoder_spec_``, its former name).
    n_leads_, n_times_ : int
        Input shape seen in ``fit``.
    segment_length_, n_segments_ : int
        Samples per segment and segments per ECG.

    Examples
    --------
    >>> import numpy as np
    >>> from ecgsk.estimators import ECGPretrainer
    >>> X = np.random.default_rng(0).standard_normal((16, 12, 500)).astype("float32")
    >>> pre = ECGPretrainer("deepecg-ssl-tiny", sfreq=50, max_epochs=1, batch_size=8, validation=None,
    ...                     pretext_options={"n_entries": 16}, progress_bar=False, verbose=0)
    >>> pre.fit(X).transform(X).shape
    (16, 64)
    >>> sorted(k for k in pre.history_[-1] if k.startswith("train_") and not k.endswith("_best"))
    ['train_batch_count', 'train_cmsc', 'train_diversity', 'train_feature_penalty', 'train_loss', 'train_wav2vec2']
    """

    _score_name = None  # no label-based score: the validation loss is what is monitored
    _score_lower_is_better = True
    # lr="auto" is resolved from the encoder's width (initialize_optimizer); before that,
    # the release's value
    _default_lr = RELEASE_LR
    _default_lr_schedule = None
    _export_outputs = ("transform",)

    def __init__(
        self,
        module="deepecg-ssl",
        *,
        objectives=OBJECTIVES,
        lead_mask_prob=0.5,
        segment_seconds=5.0,
        sfreq=250.0,
        lr=AUTO,
        betas=(0.9, 0.98),
        lr_schedule=None,
        pretext_options=None,
        **kwargs,
    ):
        not_here = sorted({"loss", "encoder", "finetune", "encoder_lr_scale"} & set(kwargs))
        if not_here:
            raise TypeError(
                f"ECGPretrainer has no parameter {', '.join(not_here)} (they are for fine-tuning)"
            )
        self.objectives = objectives
        self.lead_mask_prob = lead_mask_prob
        self.segment_seconds = segment_seconds
        self.sfreq = sfreq
        self.betas = betas
        self.pretext_options = pretext_options
        # the shared training parameters (batch_size, max_epochs, ...) are those of _ECGNet
        super().__init__(module, lr=lr, lr_schedule=lr_schedule, **kwargs)

    # ------------------------------------------------------------------ parameters
    def _check_params(self):
        super()._check_params()
        objectives = self._objectives()
        if not objectives or not set(objectives) <= set(OBJECTIVES):
            raise ValueError(
                f"objectives must be a non-empty subset of {OBJECTIVES}, got {self.objectives!r}"
            )
        if not (isinstance(self.lead_mask_prob, numbers.Real) and 0 <= self.lead_mask_prob < 1):
            raise ValueError(f"lead_mask_prob must lie in [0, 1), got {self.lead_mask_prob!r}")
        for name in ("segment_seconds", "sfreq"):
            value = getattr(self, name)
            if isinstance(value, bool) or not (isinstance(value, numbers.Real) and value > 0):
                raise ValueError(f"{name} must be a positive number, got {value!r}")
        if self.pretext_options is not None and not isinstance(self.pretext_options, dict):
            raise TypeError(
                "pretext_options must be a dict or None, got "
                f"{type(self.pretext_options).__name__}"
            )

    def _objectives(self):
        return (self.objectives,) if isinstance(self.objectives, str) else tuple(self.objectives)

    # ------------------------------------------------------------------ targets (patient ids)
    def _encode_targets_fit(self, y, n, groups=None):
        if y is not None:
            raise ValueError(
                "ECGPretrainer learns without labels: call fit(X) or fit(X, groups=patient_ids), "
                "not fit(X, y)"
            )
        self.n_outputs_ = 1  # size of the encoder's placeholder head, unused in pretraining
        self.segment_length_ = int(round(self.segment_seconds * self.sfreq))
        if groups is None:
            return np.arange(n, dtype=np.int64)
        groups = np.asarray(groups)
        if groups.shape != (n,):
            raise ValueError(f"groups has shape {groups.shape} but X holds {n} ECGs")
        return np.unique(groups, return_inverse=True)[1].astype(np.int64)

    def _encode_targets(self, y, n, name="y"):
        return np.arange(n, dtype=np.int64)

    def _target_meta(self):
        return {"objectives": list(self._objectives()), "segment_length": self.segment_length_}

    def _make_dataset(self, data, y=None):
        dataset = super()._make_dataset(data, y)
        if y is None:  # prediction: plain ECGs
            return dataset
        return PretextDataset(dataset, self.n_segments_ * self.segment_length_)

    def fit(self, X, y=None, groups=None, **fit_params):
        """Pretrain on unlabelled ECGs.

        Parameters
        ----------
        X : array-like of shape (n_ecgs, n_leads, n_times) or torch Dataset
            ECGs at ``sfreq`` Hz, at least two segments long.
        y : None
            Must be None (no labels).
        groups : array-like of shape (n_ecgs,), optional
            Patient ids: ECGs of one patient are CMSC positives of each other, and the
            validation split keeps each patient on one side.

        Returns
        -------
        self
        """
        self._check_params()
        data, _, (_, n_times) = self._check_X(X, fitted=False)
        self.segment_length_ = int(round(self.segment_seconds * self.sfreq))
        self.n_segments_ = n_times // self.segment_length_
        if self.n_segments_ < 2:
            raise ValueError(
                f"ECGs of {n_times} samples are too short to cut into two segments of "
                f"{self.segment_seconds:g} s at {self.sfreq:g} Hz ({self.segment_length_} samples "
                "each); use longer ECGs or a shorter segment_seconds"
            )
        return super().fit(data, y, groups=groups, **fit_params)

    # ------------------------------------------------------------------ network
    def initialize_module(self):
        from ..nn import build_model

        kwargs = self.get_params_for("module")
        if not isinstance(self.module, str):
            raise TypeError(
                "ECGPretrainer builds its encoder from a registry name (e.g. 'deepecg-ssl'); got "
                f"{type(self.module).__name__}"
            )
        encoder = build_model(
            self.module, n_leads=self.n_leads_, n_times=self.segment_length_, n_outputs=1, **kwargs
        )
        # the classification head takes no part in pretraining (fine-tuning replaces it); frozen,
        # it is also left out of the optimiser and of DDP's gradient reduction
        encoder.head.requires_grad_(False)
        self.module_spec_ = dict(encoder.module_spec)
        self.module_ = SSLPretextModel(
            encoder,
            objectives=self._objectives(),
            lead_mask_prob=self.lead_mask_prob,
            n_segments=self.n_segments_,
            augment=build_augment(self.augment),
            **(self.pretext_options or {}),
        )
        self.augmenter_ = Augmenter(None)  # augmentation happens inside the pretext model
        return self

    @classmethod
    def from_deepecg(cls, path, *, trust_checkpoint=False, **params):
        """Load the released pretrained DeepECG-SSL encoder as a fitted pretrainer.

        The file is a fairseq-signals pretraining checkpoint (top-level
        ``feature_extractor.*``, ``encoder.layers.*``, ``mask_emb``, ``quantizer.*``,
        ``project_q.*``, ``final_proj.*``), read without trusting its pickles (as
        :meth:`ECGClassifier.from_deepecg`). The encoder becomes ``encoder_`` and the quantizer
        and projections the wav2vec 2.0 objective's modules, so ``fit(X)`` continues
        pretraining (``warm_start`` defaults to True here) on 10 s ECGs at 250 Hz
        (``(n, 12, 2500)``). For the encoder alone use
        :func:`ecgsk.released.load_deepecg_ssl_encoder`.

        Parameters
        ----------
        path : str or path
            The ``.pt`` file.
        trust_checkpoint : bool, default=False
            Unpickle a file holding Python objects other than plain data (only for a file
            you trust).
        **params
            ``ECGPretrainer`` parameters (``max_epochs``, ``device``, ``pretext_options``,
            ...); the sizes come from the file.

        Returns
        -------
        ECGPretrainer
            Fitted; ``release_`` describes the file.

        Examples
        --------
        >>> pre = ECGPretrainer.from_deepecg("deepecg_ssl_pretrained.pt")  # doctest: +SKIP
        >>> ECGEmbedder(pre.encoder_).fit_transform(X).shape  # doctest: +SKIP
        (n, 768)
        """
        from ..released import load_deepecg_pretrainer

        return load_deepecg_pretrainer(cls, path, trust_checkpoint=trust_checkpoint, **params)

    @property
    def encoder_spec_(self):
        """Former name of ``module_spec_``."""
        return self.module_spec_

    def initialize_criterion(self):
        self.criterion_ = None  # the pretext model computes its own losses
        return self

    def initialize_optimizer(self, triggered_directly=None):
        if is_auto(self.lr):
            self.lr_ = release_lr_for_width(self.module_.encoder.n_features)
        named = [(n, p) for n, p in self.get_all_learnable_params() if p.requires_grad]
        args, kwargs = self._optimizer_kwargs(named)
        kwargs.setdefault("betas", tuple(self.betas))
        if "eps" in inspect.signature(self.optimizer).parameters:
            kwargs.setdefault("eps", ADAM_EPS)  # the release's adam_eps
        self.optimizer_ = self.optimizer(*args, **kwargs)
        return self

    def _extra_callbacks(self):
        # per-objective epoch averages, and the quantizer's temperature annealing
        extra = [("anneal_quantizer", _AnnealQuantizer())]
        for name in self._loss_names():
            extra.append((f"train_{name}", PassthroughScoring(name=f"train_{name}", on_train=True)))
            if self.validation is not None:
                extra.append((f"valid_{name}", PassthroughScoring(name=f"valid_{name}")))
        return extra

    def _loss_names(self):
        objectives = self._objectives()
        names = [n for n in ("wav2vec2", "cmsc") if n in objectives]
        if "wav2vec2" in objectives:
            names += ["diversity", "feature_penalty"]
        return names

    def _choose_monitor(self, y_valid):
        return "valid_loss"

    # ------------------------------------------------------------------ steps
    def get_loss(self, y_pred, y_true, X=None, training=False):
        prefix = "train" if training else "valid"
        for name in self._loss_names():
            self.history.record_batch(f"{prefix}_{name}", float(y_pred[name].detach()))
        return y_pred["loss"]

    @property
    def encoder_(self):
        """The pretrained encoder (a torch module; ``module_.encoder``).

        Unlike the pretrainer itself, it survives sklearn's ``clone`` as a parameter, so
        ``ECGEmbedder(pretrainer.encoder_)`` works inside ``GridSearchCV``.
        """
        self.check_is_fitted()
        return self._bare_module().encoder

    def _pretrained_encoder(self):
        """``(copy of the encoder, its spec)``, for ``encoder=`` arguments."""
        if not hasattr(self, "module_"):
            raise ValueError(
                "encoder is an ECGPretrainer that is not fitted. sklearn's clone (used by "
                "cross_val_score and GridSearchCV) turns an estimator parameter into an unfitted "
                "copy: pass encoder=pretrainer.encoder_ (a torch module) or the folder written by "
                "pretrainer.save(path) instead"
            )
        return copy.deepcopy(self.encoder_), dict(self.module_spec_)

    # ------------------------------------------------------------------ outputs
    @property
    def predict(self):
        raise AttributeError("ECGPretrainer has no predict: use transform(X) for embeddings")

    def _export_network(self):
        return self._bare_module().encoder

    def _export_input(self, net, n_times):
        n_leads, n_times, sfreq, leads = super()._export_input(net, n_times)
        return n_leads, n_times, self.sfreq if sfreq is None else sfreq, leads

    def save(self, path, *, leads=None):
        """Write the pretrained encoder and its card to the folder ``path``.

        The folder can be given as ``encoder=`` to :class:`ECGClassifier`,
        :class:`ECGRegressor` and :class:`ECGEmbedder`.

        Parameters
        ----------
        path : str or path
        leads : sequence of str, optional
            Lead order of the input, recorded in the card.

        Returns
        -------
        pathlib.Path
        """
        self.check_is_fitted()
        pretraining = {
            "objectives": list(self._objectives()),
            "lead_mask_prob": float(self.lead_mask_prob),
            "segment_seconds": float(self.segment_seconds),
            "epochs": len(self.history),
            "final_train_loss": self.history[-1, "train_loss"] if len(self.history) else None,
        }
        return save_encoder(
            self.module_.encoder,
            path,
            spec=self.module_spec_,
            n_leads=self.n_leads_,
            n_times=self.segment_length_,
            sfreq=self.sfreq,
            leads=leads,
            pretraining=pretraining,
        )


class _AnnealQuantizer(Callback):
    """Anneal the Gumbel quantizer's temperature once per optimisation step."""

    def on_batch_end(self, net, training=False, **kwargs):
        if training:
            bare_module(net.module_).step()
