"""``ECGRegressor``: continuous targets (for example LVEF in %) from ECGs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from sklearn.base import RegressorMixin
from torch import nn

from ._links import Rescale
from ._persistence import PersistenceMixin
from ._supervised import _SupervisedECGNet

REGRESSION_LOSSES = ("mse", "huber")


class ECGRegressor(PersistenceMixin, RegressorMixin, _SupervisedECGNet):
    """Deep-learning ECG regressor with sklearn's API (one or several continuous targets).

    Targets are standardised for training (``y_mean_``, ``y_scale_``) and the standardisation is
    undone by ``predict``. Early stopping follows the validation R² (mean over targets), best
    weights restored. Training machinery (schedules, checkpoints and resume, time budget,
    augmentation, devices) is that of :class:`ECGClassifier`.

    Parameters
    ----------
    module : "auto", str, torch.nn.Module class or instance, default="auto"
        Network, as for :class:`ECGClassifier` (``"auto"``: DeepECG-SL on a GPU,
        ``"ecgsk-cnn"`` on a CPU; the choice is ``module_name_``).
    loss : {"mse", "huber"} or torch.nn.Module, default="mse"
        Loss on the standardised targets (Huber with ``delta=1``, i.e. one standard deviation).
    lr, batch_size, max_epochs, optimizer, weight_decay, device, random_state, validation, \
patience, lr_schedule, grad_clip, max_time, augment, amp, num_workers, checkpoint_dir, resume, \
callbacks, progress_bar, verbose, warm_start, encoder, finetune, encoder_lr_scale, \
encoder_dropout, **kwargs
        As for :class:`ECGClassifier` (``validation`` splits are not stratified); with
        ``encoder=`` a pretrained ``ECGPretrainer`` is fine-tuned for the continuous target,
        a DeepECG-SSL transformer with the release's fine-tuning recipe for every parameter
        left at ``"auto"`` (``lr`` 5e-5 fixed, ``finetune="partial"``, the fine-tuning
        dropouts, Adam betas (0.9, 0.98)); without one, ``lr="auto"`` is 1e-3 and
        ``lr_schedule="auto"`` cosine.

    Attributes
    ----------
    y_mean_, y_scale_ : ndarray of shape (n_targets,)
        Target standardisation learnt in ``fit``.
    y_ndim_ : int
        1 if ``fit`` got a 1-D ``y`` (``predict`` then returns a 1-D array), else 2.
    n_leads_, n_times_, n_outputs_, module_, device_, history_, best_epoch_, n_epochs_, \
stop_reason_, interrupted_, checkpoint_path_, lr_, lr_schedule_, finetune_, encoder_dropout_, \
recipe_
        As for :class:`ECGClassifier`.

    Examples
    --------
    >>> import numpy as np
    >>> from ecgsk.estimators import ECGRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((40, 12, 500)).astype("float32")
    >>> y = 50 + 10 * X[:, 0, :50].mean(axis=1)
    >>> reg = ECGRegressor("xresnet1d50-tiny", max_epochs=2, batch_size=16,
    ...                    random_state=0, progress_bar=False, verbose=0)
    >>> reg.fit(X, y).predict(X).shape
    (40,)
    """

    _score_name = "valid_r2"
    _score_lower_is_better = False

    def __init__(self, module="auto", *, loss="mse", **kwargs):
        # the shared training parameters (lr, batch_size, ...) are those of _SupervisedECGNet
        super().__init__(module, loss=loss, **kwargs)

    @staticmethod
    def _as_float_matrix(y, n, name):
        if y is None:
            raise ValueError(f"{name} is None: a regressor needs targets")
        if isinstance(y, (pd.DataFrame, pd.Series)):
            y = y.to_numpy()
        elif isinstance(y, torch.Tensor):
            y = y.detach().cpu().numpy()
        arr = np.asarray(y)
        if arr.ndim == 0 or arr.shape[0] != n:
            rows = 0 if arr.ndim == 0 else arr.shape[0]
            raise ValueError(f"{name} has {rows} rows but X has {n} ECGs; they must be aligned")
        if arr.ndim not in (1, 2) or (arr.ndim == 2 and arr.shape[1] == 0):
            raise ValueError(
                f"{name} must be 1-D or 2-D (n_ecgs, n_targets), got shape {arr.shape}"
            )
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError):
            raise ValueError(
                f"{name} must hold numbers for a regressor, got dtype {arr.dtype}"
            ) from None
        bad = ~np.isfinite(arr)
        if bad.any():
            first = np.argwhere(bad)[0]
            raise ValueError(
                f"{name} contains {int(bad.sum())} NaN or infinite value(s) (first at row "
                f"{first[0]}); remove those ECGs"
            )
        return arr

    def _encode_targets_fit(self, y, n, groups=None):
        arr = self._as_float_matrix(y, n, "y")
        self.y_ndim_ = arr.ndim
        arr = arr.reshape(n, -1)
        self.y_mean_ = arr.mean(axis=0)
        scale = arr.std(axis=0)
        self.y_scale_ = np.where(scale > 0, scale, 1.0)
        self.n_outputs_ = arr.shape[1]
        self.task_ = "regression"
        return ((arr - self.y_mean_) / self.y_scale_).astype(np.float32)

    def _encode_targets(self, y, n, name="y"):
        arr = self._as_float_matrix(y, n, name).reshape(n, -1)
        if arr.shape[1] != self.n_outputs_:
            raise ValueError(f"{name} has {arr.shape[1]} targets, expected {self.n_outputs_}")
        return ((arr - self.y_mean_) / self.y_scale_).astype(np.float32)

    def _target_meta(self):
        return {"task": "regression", "n_targets": int(self.n_outputs_)}

    def _build_criterion(self):
        if isinstance(self.loss, nn.Module):
            return self.loss
        if self.loss == "mse":
            return nn.MSELoss()
        if self.loss == "huber":
            return nn.HuberLoss(delta=1.0)
        raise ValueError(
            f"loss must be one of {REGRESSION_LOSSES} or a torch.nn.Module, got {self.loss!r}"
        )

    def _validation_score(self, y_true, y_pred):
        y_true = np.asarray(y_true, dtype=np.float64).reshape(len(y_pred), -1)
        y_pred = np.asarray(y_pred, dtype=np.float64)
        sst = ((y_true - y_true.mean(axis=0)) ** 2).sum(axis=0)
        sse = ((y_true - y_pred) ** 2).sum(axis=0)
        ok = sst > 0
        if not ok.any():
            return float("nan")
        return float(np.mean(1.0 - sse[ok] / sst[ok]))

    @property
    def predict_proba(self):
        raise AttributeError("ECGRegressor has no predict_proba; use predict")

    def predict(self, X):
        """Predicted targets in their original units.

        Parameters
        ----------
        X : array-like of shape (n_ecgs, n_leads, n_times) or torch Dataset

        Returns
        -------
        ndarray of shape (n_ecgs,) or (n_ecgs, n_targets)
            1-D when ``fit`` got a 1-D ``y``.
        """
        return self._predict_with("predict", X)

    # ------------------------------------------------------------------ export
    _export_outputs = ("predict", "transform")

    def _inference_graph(self, net, output):
        """``(module, columns, output shape, extra card entries)`` computing ``predict``."""
        squeeze = int(self.y_ndim_) == 1
        n_targets = int(self.n_outputs_)
        extra = {"target_mean": self.y_mean_.tolist(), "target_scale": self.y_scale_.tolist()}
        columns = None if squeeze else [f"target{i}" for i in range(n_targets)]
        shape = ["batch"] if squeeze else ["batch", n_targets]
        return Rescale(net, self.y_mean_, self.y_scale_, squeeze), columns, shape, extra
