"""``ECGClassifier``: binary, multiclass and multilabel ECG classification."""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import pandas as pd
import torch
from scipy.special import softmax
from sklearn.base import ClassifierMixin
from sklearn.utils.multiclass import type_of_target

from ..labels import DEEPECG_LABELS
from ..metrics import roc_auc_macro_score
from ._links import BinaryProbabilities, Logits, Sigmoid, Softmax
from ._losses import build_loss, resolve_pos_weight
from ._persistence import PersistenceMixin
from ._supervised import _SupervisedECGNet

_THRESHOLD_METHODS = ("youden", "f1")


class ECGClassifier(PersistenceMixin, ClassifierMixin, _SupervisedECGNet):
    """Deep-learning ECG classifier (binary, multiclass or multilabel) with sklearn's API.

    A skorch ``NeuralNet`` that builds its network from the ``ecgsk.nn`` registry with the lead
    count, length and number of outputs found in the data, trains it with early stopping on
    the validation macro AUROC (best weights restored), and for binary and multilabel targets
    chooses one decision threshold per label on the validation split.

    Parameters
    ----------
    module : "auto", str, torch.nn.Module class or instance, default="auto"
        ``"auto"`` builds the published DeepECG-SL (``"deepecg-sl"``) on a GPU and ecgsk's
        compact CNN ``"ecgsk-cnn"`` (0.27 GFLOP per 10 s ECG) on a CPU, where DeepECG-SL
        (1.2 GFLOP) trains too slowly for a time budget to give it more than a few epochs
        (``benchmarks/budget.py``); the network used is ``module_name_`` and is printed when
        ``verbose``. Otherwise
        a name from :func:`ecgsk.nn.list_models`, or a module class called with ``n_leads``,
        ``n_times``, ``n_outputs`` and the ``module__*`` parameters, or an instance (copied at
        every fit). ``module__<name>=value`` parameters go to the model constructor.
    loss : {"bce", "focal", "asymmetric"} or torch.nn.Module, default="bce"
        Training loss on logits. ``"bce"`` is binary cross-entropy (categorical cross-entropy for
        multiclass targets); ``"focal"`` is the focal loss; ``"asymmetric"`` the asymmetric loss
        of Ridnik et al. (binary and multilabel only).
    pos_weight : None, "balanced", float or array-like, default=None
        Weight of the positive class of each label (multiclass: of each class).
        ``"balanced"`` uses ``n_negative / n_positive`` per label (``n / (K * count)`` per class).
    threshold : "youden", "f1", float or tuple, default="youden"
        Decision threshold of ``predict`` for binary and multilabel targets: a probability used
        for every label, or a criterion passed to :func:`ecgsk.metrics.select_thresholds` (for
        example ``("sensitivity", 0.9)``) to choose one threshold per label on the validation
        split. Labels without both classes in the validation split get 0.5.
    lr : "auto" or float, default="auto"
        Peak learning rate. ``"auto"``: 5e-5 when fine-tuning a DeepECG-SSL transformer
        ``encoder`` (the release's fine-tuning recipe), else 1e-3. The value used is ``lr_``.
    batch_size : int, default=64
        ECGs per batch for training and prediction.
    max_epochs : "auto" or int, default="auto"
        Maximum number of epochs. ``"auto"``: 30, or with ``max_time`` as many as the budget
        allows (the learning-rate schedule is then planned over the budget). The value used
        is ``max_epochs_``.
    optimizer : torch optimizer class, default=torch.optim.AdamW
        ``optimizer__<name>`` parameters are passed to it. Fine-tuning a DeepECG-SSL
        transformer ``encoder`` sets its ``betas`` to the release's (0.9, 0.98) unless
        ``optimizer__betas`` is given.
    weight_decay : "auto", float or None, default="auto"
        Passed to the optimizer when it accepts it (and no ``optimizer__weight_decay`` is given).
        ``"auto"``: 0.01 (decoupled, AdamW), or 0 when fine-tuning a DeepECG-SSL ``encoder``
        (the release's recipe). The value used is ``weight_decay_``.
    device : str, default="auto"
        ``"auto"``: CUDA when available, else CPU. The device used is ``device_``.
    random_state : int, optional
        Seeds the weight initialisation, the validation split, the shuffling, dropout and the
        augmentation, so that CPU runs are reproducible (and resumed runs identical).
    validation : float, tuple (X_val, y_val) or None, default=0.1
        Fraction of the training ECGs held out (patient-level when ``fit`` gets ``groups``,
        stratified otherwise), or a predefined validation set, or None for no validation (no
        early stopping and no threshold tuning).
    patience : int or None, default=10
        Epochs without improvement of the validation macro AUROC before training stops; the best
        weights are restored. None disables early stopping.
    lr_schedule : "auto", {"cosine", "onecycle"} or None, default="auto"
        Learning-rate schedule over ``max_epochs``, stepped every batch; None keeps the
        learning rate fixed. ``"auto"``: fixed when fine-tuning a DeepECG-SSL transformer
        ``encoder`` (the release's ``lr_scheduler: fixed``, no warm-up), else ``"cosine"``.
        The schedule used is ``lr_schedule_``.
    grad_clip : float, optional
        Maximum L2 norm of the gradient (clipping disabled by default).
    max_time : float, optional
        Wall-clock budget of ``fit`` in seconds: training stops between epochs before the budget
        is exceeded and keeps the best weights.
    augment : None, bool, dict or ECGAugment, default=None
        Train-time augmentation (lead masking, Gaussian and powerline noise, baseline wander,
        amplitude scaling, time shift); a dict holds :class:`ecgsk.estimators.ECGAugment`
        options. Never applied at prediction time.
    amp : "auto" or bool, default="auto"
        Mixed precision on CUDA: bfloat16 ``torch.autocast`` on GPUs that support it (no
        gradient scaling needed); no effect on CPU or older GPUs.
    num_workers : int, default=0
        DataLoader worker processes (useful for lazy datasets).
    checkpoint_dir : str or path, optional
        Where every fit writes its per-epoch checkpoint, in a new ``run-*`` directory of its own
        (so parallel fits never collide). By default nothing is written: the best weights for
        early stopping are kept in memory, and an interrupted fit continues from memory with
        ``warm_start=True``.
    resume : str or path, optional
        A checkpoint file, run directory or ``checkpoint_dir`` (its latest run) to continue an
        interrupted fit from its last completed epoch; ``fit`` must get the same data.
    callbacks : list of skorch callbacks, optional
        Added after the built-in ones.
    progress_bar : bool, default=True
        Show skorch's progress bar.
    verbose : int, default=1
        Print the per-epoch table (0 silences it).
    warm_start : bool, default=False
        Keep the trained weights across calls to ``fit``; after an interrupted fit, continue it
        where it stopped (same split, schedule and early-stopping state).
    encoder : fitted ECGPretrainer, folder or torch.nn.Module, optional
        Start from a pretrained encoder (``ECGPretrainer``, or a folder written by its
        ``save``) instead of ``module``: a copy gets a new head for the targets (the object
        passed is never changed). When it is a DeepECG-SSL transformer
        (:class:`ecgsk.nn.ECGTransformer`), every parameter left at ``"auto"`` follows the
        release's fine-tuning recipe (HeartWise-AI/DeepECG-SSL-finetune,
        ``examples/w2v_cmsc/config/finetuning/ecg_transformer/diagnosis*.yaml``): Adam betas
        (0.9, 0.98), ``lr`` 5e-5 fixed, no weight decay, ``finetune="partial"`` and the fine-tuning dropouts
        (``encoder_dropout``). ``recipe_`` says which recipe was used; ``verbose`` prints it.
    finetune : "auto" or {"full", "partial", "linear"}, default="auto"
        With ``encoder``: train everything; keep the convolutional feature encoder frozen
        while the rest trains (the release's ``feature_grad_mult: 0.0``); or train the head
        only (linear probe). Frozen layers stay in evaluation mode. ``"auto"``: ``"partial"``
        for a DeepECG-SSL transformer encoder, else ``"full"``. The mode used is
        ``finetune_``.
    encoder_lr_scale : float, default=1.0
        With ``encoder``: learning rate of the pretrained layers relative to ``lr`` (the head
        uses ``lr``): discriminative learning rates when below 1 (the release uses none).
    encoder_dropout : "auto", None or dict, default="auto"
        With a DeepECG-SSL transformer ``encoder``: the dropout probabilities of the
        fine-tuned copy, keys ``"dropout"`` (transformer layers and their input),
        ``"attention_dropout"``, ``"activation_dropout"`` (after the FFN activation),
        ``"input_dropout"`` (projected conv features) and ``"head_dropout"``. ``"auto"`` is the
        release's fine-tuning values: 0, 0, 0.1, 0 and 0 (pretraining used 0.1, 0.1, 0, 0.1);
        a dict overrides those keys only; None keeps the encoder's own dropouts. The values
        used are ``encoder_dropout_``.
    **kwargs
        Dunder parameters routed by skorch: ``module__*``, ``optimizer__*``,
        ``iterator_train__*``, ``iterator_valid__*``, ``callbacks__*``.

    Attributes
    ----------
    classes_ : ndarray
        Label names (multilabel: DataFrame columns, the 77 DeepECG labels for a 77-column
        matrix, else ``0..K-1``) or class labels (binary, multiclass).
    task_ : {"binary", "multiclass", "multilabel"}
    thresholds_ : ndarray of shape (n_labels,) or None
        Decision thresholds of ``predict`` (None for multiclass targets).
    module_name_ : str
        The network trained: the registry name (what ``module="auto"`` chose) or the class name.
    lr_, lr_schedule_, finetune_ : float, str or None
        The learning rate, schedule (None: fixed) and fine-tuning mode of the last fit, with
        ``"auto"`` resolved; the parameters themselves keep ``"auto"``.
    encoder_dropout_ : dict or None
        The dropouts set on the fine-tuned encoder (None: none changed).
    recipe_ : {"deepecg-ssl", "ecgsk"}
        ``"deepecg-ssl"`` when the ``"auto"`` parameters followed the release's fine-tuning
        recipe (a DeepECG-SSL transformer ``encoder``), ``"ecgsk"`` for ecgsk's defaults.
    n_leads_, n_times_ : int
        Input shape seen in ``fit``; other shapes are refused.
    n_outputs_ : int
        Number of logits of the network.
    module_ : torch.nn.Module
        The trained network.
    device_ : str
        The device used.
    history_ : skorch History
        Per-epoch losses, ``valid_auroc`` and durations.
    best_epoch_, n_epochs_ : int
        Epoch whose weights were kept, and epochs trained.
    stop_reason_ : str or None
        ``"early_stopping"``, ``"max_time"`` or None.
    interrupted_ : bool
        True if training was interrupted before its end (see ``warm_start`` and ``resume``).
    checkpoint_path_ : str or None
        The checkpoint file written by the last fit (None without ``checkpoint_dir`` or
        ``resume``).
    split_ : tuple of two index arrays, "predefined" or None
        The training and validation indices of the last fit.

    See Also
    --------
    ECGRegressor : The same estimator for continuous targets.

    Examples
    --------
    >>> import numpy as np
    >>> from ecgsk.estimators import ECGClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((40, 12, 500)).astype("float32")
    >>> y = np.tile([0, 1], 20)
    >>> X[y == 1, :, 250:260] += 3.0
    >>> clf = ECGClassifier("xresnet1d50-tiny", max_epochs=2, batch_size=16,
    ...                     validation=0.25, random_state=0, progress_bar=False, verbose=0)
    >>> clf.fit(X, y).predict_proba(X).shape
    (40, 2)
    >>> clf.classes_
    array([0, 1])

    Fine-tuning a DeepECG-SSL transformer encoder follows the release's recipe:

    >>> from ecgsk.nn import build_model
    >>> encoder = build_model("deepecg-ssl-tiny", n_times=500, n_outputs=1)
    >>> ft = ECGClassifier(encoder=encoder, max_epochs=1, batch_size=16, validation=None,
    ...                    threshold=0.5, progress_bar=False, verbose=0).fit(X, y)
    >>> ft.lr, ft.lr_, ft.lr_schedule_, ft.finetune_, ft.recipe_
    ('auto', 5e-05, None, 'partial', 'deepecg-ssl')
    """

    _score_name = "valid_auroc"
    _score_lower_is_better = False

    def __init__(
        self, module="auto", *, loss="bce", pos_weight=None, threshold="youden", **kwargs
    ):
        self.pos_weight = pos_weight
        self.threshold = threshold
        # the shared training parameters (lr, batch_size, ...) are those of _SupervisedECGNet
        super().__init__(module, loss=loss, **kwargs)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

    # ------------------------------------------------------------------ targets
    @staticmethod
    def _as_array(y, name):
        if y is None:
            raise ValueError(f"{name} is None: a classifier needs targets")
        if isinstance(y, pd.DataFrame):
            names = [str(c) if not isinstance(c, str) else c for c in y.columns]
            empty = [i for i, c in enumerate(names) if not c.strip()]
            if empty:
                raise ValueError(f"{name} has label columns without a name (positions {empty})")
            seen = pd.Index(names)
            if seen.has_duplicates:
                dup = sorted(set(seen[seen.duplicated()]))
                raise ValueError(
                    f"{name} has duplicate label columns {dup}: each label must be one column"
                )
            return y.to_numpy(), names
        if isinstance(y, pd.Series):
            return y.to_numpy(), None
        if isinstance(y, torch.Tensor):
            return y.detach().cpu().numpy(), None
        return np.asarray(y), None

    def _check_matrix(self, arr, names, name):
        if arr.dtype == object:
            try:
                arr = arr.astype(np.float64)
            except (TypeError, ValueError):
                raise ValueError(f"{name} is a 2-D target, so it must be a 0/1 matrix") from None
        if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
            raise ValueError(f"{name} is a 2-D target, so it must be a 0/1 matrix, got {arr.dtype}")
        arr = arr.astype(np.float64)
        nan_rows, nan_cols = np.nonzero(np.isnan(arr))
        if nan_rows.size:
            label = names[nan_cols[0]] if names is not None else nan_cols[0]
            raise ValueError(
                f"{name} contains {nan_rows.size} NaN value(s) (first at row {nan_rows[0]}, label "
                f"{label!r}); give every ECG a 0/1 value for every label"
            )
        bad = ~np.isin(arr, (0.0, 1.0))
        if bad.any():
            r, c = np.argwhere(bad)[0]
            raise ValueError(
                f"{name} must hold only 0 and 1 for a multilabel target; found {arr[r, c]!r} at "
                f"row {r}, column {c}"
            )
        return arr.astype(np.float32)

    @staticmethod
    def _check_1d_nan(arr, name):
        if arr.dtype.kind in "fc":
            missing = np.isnan(arr)
        else:
            missing = pd.isna(arr)
        if np.any(missing):
            raise ValueError(
                f"{name} contains {int(np.sum(missing))} missing value(s) (first at row "
                f"{int(np.argmax(missing))}); remove those ECGs or label them"
            )

    def _encode_targets_fit(self, y, n, groups=None):
        arr, names = self._as_array(y, "y")
        if arr.ndim == 0 or arr.shape[0] != n:
            rows = 0 if arr.ndim == 0 else arr.shape[0]
            raise ValueError(f"y has {rows} rows but X has {n} ECGs; they must be aligned")
        if arr.ndim == 2:
            if arr.shape[1] == 0:
                raise ValueError("y has 0 label columns")
            y_enc = self._check_matrix(arr, names, "y")
            n_labels = arr.shape[1]
            if names is not None:
                classes = np.asarray(names, dtype=object)
            elif n_labels == len(DEEPECG_LABELS):
                classes = np.asarray(DEEPECG_LABELS, dtype=object)
            else:
                classes = np.arange(n_labels)
            positives = y_enc.sum(axis=0)
            constant = np.flatnonzero((positives == 0) | (positives == n))
            if constant.size == n_labels:
                raise ValueError(
                    f"every one of the {n_labels} labels of y has a single class (all 0 or all "
                    "1): there is nothing to learn; check the label matrix"
                )
            if constant.size:
                shown = ", ".join(repr(classes[k]) for k in constant[:8])
                more = f" and {constant.size - 8} more" if constant.size > 8 else ""
                warnings.warn(
                    f"{constant.size} of {n_labels} labels have a single class in the training "
                    f"targets ({shown}{more}); the network cannot learn them and their AUROC and "
                    "thresholds are undefined",
                    UserWarning,
                    stacklevel=3,
                )
            self.task_ = "multilabel"
            self.classes_ = classes
            self.n_outputs_ = n_labels
            return y_enc
        if arr.ndim != 1:
            raise ValueError(
                f"y must be 1-D (binary or multiclass labels) or 2-D (multilabel 0/1 matrix); got "
                f"shape {arr.shape}"
            )
        self._check_1d_nan(arr, "y")
        if arr.dtype.kind == "f" and type_of_target(arr) == "continuous":
            example = arr[np.flatnonzero(arr != np.round(arr))[0]]
            raise ValueError(
                f"y holds continuous values (e.g. {example!r}): ECGClassifier needs class labels "
                "(or a 0/1 matrix for multilabel targets); use ECGRegressor for a continuous "
                "target"
            )
        classes, idx = np.unique(arr, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(
                f"y holds a single class ({classes[0]!r}); a classifier needs at least two"
            )
        self.classes_ = classes
        if len(classes) == 2:
            self.task_ = "binary"
            self.n_outputs_ = 1
            return idx.astype(np.float32)[:, None]
        self.task_ = "multiclass"
        self.n_outputs_ = len(classes)
        return idx.astype(np.int64)

    def _encode_targets(self, y, n, name="y"):
        arr, names = self._as_array(y, name)
        if arr.ndim == 0 or arr.shape[0] != n:
            rows = 0 if arr.ndim == 0 else arr.shape[0]
            raise ValueError(f"{name} has {rows} rows but its X has {n} ECGs")
        if self.task_ == "multilabel":
            if arr.ndim != 2 or arr.shape[1] != self.n_outputs_:
                raise ValueError(
                    f"{name} must be a 0/1 matrix with {self.n_outputs_} label columns, got "
                    f"shape {arr.shape}"
                )
            if names is not None and list(names) != [str(c) for c in self.classes_]:
                raise ValueError(f"{name} columns differ from the training labels")
            return self._check_matrix(arr, names, name)
        if arr.ndim != 1:
            raise ValueError(f"{name} must be 1-D like the training targets, got shape {arr.shape}")
        self._check_1d_nan(arr, name)
        idx = np.searchsorted(self.classes_, arr)
        idx = np.clip(idx, 0, len(self.classes_) - 1)
        unknown = self.classes_[idx] != arr
        if np.any(unknown):
            raise ValueError(
                f"{name} contains labels not seen in training: {sorted(set(arr[unknown].tolist()))}"
            )
        if self.task_ == "binary":
            return idx.astype(np.float32)[:, None]
        return idx.astype(np.int64)

    def _target_meta(self):
        return {"task": self.task_, "classes": np.asarray(self.classes_).tolist()}

    def _strata(self, y_enc):
        if self.task_ == "binary":
            return y_enc[:, 0].astype(np.int64)
        if self.task_ == "multiclass":
            return y_enc
        # multilabel: stratify on each ECG's rarest positive label, pooling tiny strata
        freq = y_enc.sum(axis=0)
        rarity = np.where(y_enc > 0, freq[None, :], np.inf)
        key = np.where(np.isfinite(rarity.min(axis=1)), rarity.argmin(axis=1), -1)
        values, counts = np.unique(key, return_counts=True)
        key = np.where(np.isin(key, values[counts < 2]), -2, key)
        if np.sum(key == -2) == 1:
            values, counts = np.unique(key, return_counts=True)
            key = np.where(key == -2, values[np.argmax(counts)], key)
        return key

    def _resolve_class_weight(self, y_train):
        return resolve_pos_weight(self.pos_weight, y_train, self.task_, self.n_outputs_)

    def _build_criterion(self):
        return build_loss(self.loss, self.task_, getattr(self, "pos_weight_", None))

    def _choose_monitor(self, y_valid):
        if y_valid is None:
            return self._score_name
        onehot = self._onehot(y_valid)
        has_both = ((onehot.sum(axis=0) > 0) & (onehot.sum(axis=0) < len(onehot))).any()
        if not has_both:
            warnings.warn(
                "no label has both classes in the validation split, so its AUROC is undefined; "
                "early stopping monitors the validation loss instead",
                UserWarning,
                stacklevel=3,
            )
            return "valid_loss"
        return self._score_name

    def _onehot(self, y_enc):
        if self.task_ == "multiclass":
            return np.eye(self.n_outputs_, dtype=np.float32)[np.asarray(y_enc, dtype=np.int64)]
        return np.asarray(y_enc, dtype=np.float32)

    def _validation_score(self, y_true, logits):
        """Macro AUROC of the validation logits (monotone in the probabilities)."""
        if self.task_ == "multiclass":
            return roc_auc_macro_score(self._onehot(y_true), softmax(logits, axis=1))
        return roc_auc_macro_score(np.asarray(y_true).reshape(len(logits), -1), logits)

    # ------------------------------------------------------------------ thresholds
    def _check_params(self):
        super()._check_params()
        self._check_threshold()

    def _check_threshold(self):
        thr = self.threshold
        if isinstance(thr, numbers.Real) and not isinstance(thr, bool):
            if not 0.0 < float(thr) < 1.0:
                raise ValueError(f"threshold must be a probability in (0, 1), got {thr!r}")
            return float(thr)
        if isinstance(thr, str) and thr in _THRESHOLD_METHODS:
            return thr
        if (
            isinstance(thr, tuple)
            and len(thr) == 2
            and thr[0] in ("sensitivity", "specificity")
            and isinstance(thr[1], numbers.Real)
            and 0.0 < float(thr[1]) <= 1.0
        ):
            return thr
        raise ValueError(
            f'threshold must be "youden", "f1", ("sensitivity", target), ("specificity", target) '
            f"or a probability in (0, 1), got {thr!r}"
        )

    def _after_fit(self, valid_dataset):
        if self.task_ == "multiclass":
            self.thresholds_ = None
            return
        thr = self._check_threshold()
        n_labels = self.n_outputs_
        if isinstance(thr, float):
            self.thresholds_ = np.full(n_labels, thr)
            return
        thresholds = np.full(n_labels, 0.5)
        if valid_dataset is None:
            warnings.warn(
                f"threshold={thr!r} is chosen on the validation split, but validation=None; "
                "using 0.5 for every label",
                UserWarning,
                stacklevel=3,
            )
            self.thresholds_ = thresholds
            return
        y_val = self._dataset_targets(valid_dataset).reshape(-1, n_labels)
        proba = self._predict_with("predict_proba", valid_dataset)
        if self.task_ == "binary":
            proba = proba[:, 1:]
        positives = y_val.sum(axis=0)
        usable = np.flatnonzero((positives > 0) & (positives < len(y_val)))
        fallback = np.setdiff1d(np.arange(n_labels), usable)
        if fallback.size:
            names = self.classes_ if self.task_ == "multilabel" else self.classes_[1:]
            shown = ", ".join(repr(names[k]) for k in fallback[:8])
            more = f" and {fallback.size - 8} more" if fallback.size > 8 else ""
            warnings.warn(
                f"the validation split lacks a class of {fallback.size} label(s) ({shown}{more}): "
                f"their decision threshold falls back to 0.5 instead of threshold={thr!r}",
                UserWarning, stacklevel=3,
            )
        if usable.size:
            from ..metrics import select_thresholds

            chosen = select_thresholds(y_val[:, usable], proba[:, usable], method=thr)
            thresholds[usable] = np.asarray(chosen, dtype=np.float64).reshape(-1)
        self.thresholds_ = thresholds

    # ------------------------------------------------------------------ prediction
    def predict_proba(self, X):
        """Class or label probabilities.

        Parameters
        ----------
        X : array-like of shape (n_ecgs, n_leads, n_times) or torch Dataset

        Returns
        -------
        ndarray
            ``(n_ecgs, n_labels)`` independent label probabilities (multilabel), ``(n_ecgs, 2)``
            (binary) or ``(n_ecgs, n_classes)`` summing to one (multiclass), columns in the
            order of ``classes_``.
        """
        return self._predict_with("predict_proba", X)

    def predict(self, X):
        """Predicted labels.

        Parameters
        ----------
        X : array-like of shape (n_ecgs, n_leads, n_times) or torch Dataset

        Returns
        -------
        ndarray
            Multilabel: a 0/1 matrix ``(n_ecgs, n_labels)`` applying ``thresholds_``;
            binary: labels from ``classes_`` (positive when its probability reaches the
            threshold); multiclass: the most probable label from ``classes_``.
        """
        proba = self.predict_proba(X)
        if self.task_ == "multiclass":
            return self.classes_[np.argmax(proba, axis=1)]
        if self.task_ == "binary":
            return self.classes_[(proba[:, 1] >= self.thresholds_[0]).astype(np.int64)]
        return (proba >= self.thresholds_[None, :]).astype(np.int64)

    def decision_function(self, X):
        """Raw logits of the network: ``(n_ecgs,)`` for binary targets, else ``(n_ecgs, n_outputs)``.

        Parameters
        ----------
        X : array-like of shape (n_ecgs, n_leads, n_times) or torch Dataset

        Returns
        -------
        ndarray
        """
        return self._predict_with("decision_function", X)

    # ------------------------------------------------------------------ export
    _export_outputs = ("predict_proba", "decision_function", "transform")

    def _inference_graph(self, net, output):
        """``(module, columns, output shape, extra card entries)`` computing ``output``."""
        classes = np.asarray(self.classes_).tolist()
        if output == "decision_function":
            squeeze = self.task_ == "binary"
            shape = ["batch"] if squeeze else ["batch", int(self.n_outputs_)]
            return Logits(net, squeeze), None if squeeze else classes, shape, {}
        link = {"binary": BinaryProbabilities, "multiclass": Softmax, "multilabel": Sigmoid}
        return link[self.task_](net), classes, ["batch", len(classes)], {}

    # ------------------------------------------------------------------ released weights
    @classmethod
    def from_deepecg(cls, path, *, kind="auto", device="auto", thresholds=0.5,
                     trust_checkpoint=False):
        """Load the public DeepECG weights from a local file as a fitted classifier.

        DeepECG-SL is released as a TorchScript archive (EfficientNetV2), DeepECG-SSL as a
        fairseq-signals checkpoint (the wav2vec 2.0 "WCR" transformer fine-tuned on 77
        labels). Nothing is downloaded. The returned classifier takes ecgsk's DeepECG input,
        the output of ``make_deepecg_preprocessing``: ``(n, 12, 2500)`` millivolts, 250 Hz,
        standard lead order. Its network applies each release's own input scaling (x 1/0.0048
        for DeepECG-SL, none for DeepECG-SSL), so its probabilities are those the release
        computes on its own input. For a 77-output file, ``classes_`` are the 77
        :data:`ecgsk.labels.DEEPECG_LABELS` (the SSL head's outputs are reordered into that
        list, as the release's deployment code does); a file with one output is a binary
        classifier (``classes_`` ``[0, 1]``), one with another number K of outputs a
        multilabel one with ``classes_`` ``0..K-1`` in the file's output order.

        DeepECG-SSL becomes the ``"deepecg-ssl"`` network of :mod:`ecgsk.nn` (sizes read from
        the checkpoint), so it can be saved, fine-tuned (``warm_start=True``) and embed ECGs
        (``transform``). DeepECG-SL stays the released TorchScript module; ``save`` records
        its file path, which ``load`` needs again.

        Parameters
        ----------
        path : str or path
            The ``.pt`` file.
        kind : {"auto", "sl", "ssl"}, default="auto"
            ``"auto"`` tells a TorchScript archive (SL) from a ``torch.save`` checkpoint
            (SSL); ``"sl"`` or ``"ssl"`` insist on one (a file of the other kind is an error).
        device : str, default="auto"
            Where the network runs (``"auto"``: CUDA when available).
        thresholds : float, array-like or dict, default=0.5
            The fitted decision thresholds of ``predict`` (``thresholds_``): one probability
            for every label; an array of one per label in the order of ``classes_`` (one value
            for a binary file); or a dict ``{label: probability}`` by label name (the names of
            ``classes_``; labels left out keep 0.5). Values must lie strictly between 0 and 1.
            The weight files carry no thresholds; see Notes.
        trust_checkpoint : bool, default=False
            For a DeepECG-SSL checkpoint holding Python objects other than plain data, unpickle
            it fully (``torch.load(weights_only=False)``), which runs code stored in the file.
            Only for a file you trust; see Warnings.

        Returns
        -------
        ECGClassifier
            Fitted, in evaluation mode. ``release_`` describes the file: ``kind``, ``path``,
            ``input_scale``, ``file_output_order`` (the order of the file's outputs:
            ``"DEEPECG_LABELS"``, ``"DEEPECG_SSL_OUTPUT_LABELS"`` or ``"output index"``) and
            ``output_order`` (the order of the classifier's outputs, that of ``classes_``:
            ``"DEEPECG_LABELS"`` or ``"output index"``).

        Raises
        ------
        FileNotFoundError
            If ``path`` does not exist.
        ValueError
            If the file is not DeepECG weights, the checkpoint's keys or shapes do not
            match the architecture (the message lists the first offending keys), the
            checkpoint holds Python objects and ``trust_checkpoint`` is False, or
            ``thresholds`` has the wrong shape, a value outside (0, 1) or an unknown label.
        TypeError
            If ``thresholds`` is not numeric or ``trust_checkpoint`` is not a bool.

        Warnings
        --------
        A ``torch.save`` file is a pickle, and unpickling can run any code the file's author
        chose. DeepECG-SSL checkpoints are therefore read with
        ``torch.load(weights_only=True)``, which rebuilds tensors, containers and numbers,
        plus the plain-data types fairseq files contain (``argparse.Namespace``, numpy scalars
        and arrays). A checkpoint holding anything else (an omegaconf configuration, a class
        of some library, or a malicious payload) is refused with a ``ValueError`` naming what
        it references; ``trust_checkpoint=True`` loads it with full unpickling and must only be
        used for files whose origin you trust (e.g. downloaded yourself from the authors'
        repository). DeepECG-SL archives are read with ``torch.jit.load``, which does not
        unpickle arbitrary Python objects but runs the archive's TorchScript program when
        predicting: use files from a source you trust there too (``trust_checkpoint`` does
        not apply to them).

        Notes
        -----
        ``thresholds`` defaults to 0.5 for every label because the released files hold no
        decision thresholds. HeartWise-AI/DeepECG_Docker keeps per-label thresholds for the
        SSL (WCR) model in its code (``WCR_THRESHOLDS`` in ``utils/constants.py``, a dict
        ``{label: {"threshold": value}}``; in later versions the file
        ``thresholds/wcr_77_classes_ecg_machine_diagnosis.json``), chosen on the Montreal
        Heart Institute's data: from about 0.8 for "Sinusal" down to 2.4e-5 for "Lead
        misplacement", and none for "Brugada". With 0.5, rare labels are seldom predicted.
        Those values are not bundled with ecgsk; pass them as a ``{label: threshold}`` dict
        (leaving out labels without one), or choose thresholds on your own validation data
        (e.g. with :func:`ecgsk.metrics.select_thresholds`).

        Examples
        --------
        >>> from ecgsk import ECGClassifier
        >>> from ecgsk.datasets import load_ptbxl_sample
        >>> from ecgsk.preprocessing import make_deepecg_preprocessing
        >>> from sklearn.pipeline import make_pipeline
        >>> clf = ECGClassifier.from_deepecg("deepecg_ssl_77.pt")  # doctest: +SKIP
        >>> data = load_ptbxl_sample()  # doctest: +SKIP
        >>> prep = make_deepecg_preprocessing(data.sfreq).fit(data.signals)  # doctest: +SKIP
        >>> model = make_pipeline(prep, clf)  # already fitted: no fit  # doctest: +SKIP
        >>> model.predict_proba(data.signals).shape  # doctest: +SKIP
        (200, 77)

        Per-label thresholds by name (the others stay 0.5):

        >>> clf = ECGClassifier.from_deepecg(
        ...     "deepecg_ssl_77.pt", thresholds={"Afib": 0.2, "Sinusal": 0.6})  # doctest: +SKIP
        >>> clf.thresholds_[list(clf.classes_).index("Afib")]  # doctest: +SKIP
        0.2
        """
        from ..released import load_deepecg

        return load_deepecg(cls, path, kind=kind, device=device, thresholds=thresholds,
                            trust_checkpoint=trust_checkpoint)
