"""ECGEmbedder: a pretrained encoder as a plain (untrained) sklearn transformer."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted
from torch.utils.data import DataLoader, Dataset

from .._validation import check_ecg, check_positive_int
from ._data import LazyDataset, first_ecg_shape
from ._device import resolve_device
from ._embedding_cache import load_store, save_store
from ._encoder import load_encoder
from ._export import ExportMixin

# Embeddings kept in this process by ``cache=True``: {encoder digest: {ECG digest: vector}}.
_MEMORY_CACHE: dict[str, dict[bytes, np.ndarray]] = {}


class ECGEmbedder(ExportMixin, TransformerMixin, BaseEstimator):
    """Map ECGs to embeddings with a pretrained encoder (no training).

    For small cohorts: ``make_pipeline(ECGEmbedder(encoder), LogisticRegression())``
    cross-validates a linear probe on top of a self-supervised encoder. ``fit``
    only loads the encoder and checks the input shape. With ``cache`` on, each
    ECG's embedding is computed once and reused across folds and grid points,
    so that a ``GridSearchCV`` over the downstream model costs one embedding pass.

    Parameters
    ----------
    encoder : torch.nn.Module, folder, or fitted ECGPretrainer/ECGClassifier
        The encoder: ``pretrainer.encoder_``, a folder written by
        ``ECGPretrainer.save``, or any ``ecgsk.nn`` model. Inside
        ``GridSearchCV`` pass a module or a folder (sklearn's ``clone`` turns an
        estimator parameter into an unfitted copy).
    batch_size : int, default=256
    device : str, default="auto"
        ``"auto"`` uses CUDA when available.
    cache : None, True or path, default=None
        ``True``: keep embeddings in memory for this process (shared by clones);
        a folder: keep them on disk there (shared by processes, e.g. ``n_jobs=2``).
        ECGs are recognised by a hash of their samples, the encoder by a hash of
        its weights, so a changed encoder never reuses stale embeddings.

    Attributes
    ----------
    encoder_ : torch.nn.Module
        The encoder in evaluation mode.
    n_leads_ : int
    n_times_ : int
        Samples per lead of the ECGs seen by ``fit`` (the default input length of an export;
        ``transform`` accepts other lengths).
    n_features_out_ : int
        Embedding size.
    encoder_digest_ : str
        Hash of the encoder weights (the cache key).

    Examples
    --------
    >>> import numpy as np
    >>> from ecgsk.nn import build_model
    >>> encoder = build_model("deepecg-ssl-tiny", n_times=1250, n_outputs=1)
    >>> X = np.random.default_rng(0).standard_normal((4, 12, 2500)).astype("float32")
    >>> ECGEmbedder(encoder, cache=True).fit_transform(X).shape
    (4, 64)
    """

    def __init__(self, encoder=None, *, batch_size=256, device="auto", cache=None):
        self.encoder = encoder
        self.batch_size = batch_size
        self.device = device
        self.cache = cache

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.input_tags.two_d_array = False
        tags.requires_fit = True
        return tags

    def fit(self, X, y=None):
        """Load the encoder and check that ``X`` fits it.

        Parameters
        ----------
        X : array-like of shape (n_ecgs, n_leads, n_times) or torch Dataset
            ECGs, or a dataset of ECGs ``(n_leads, n_times)`` (e.g. an ``ECGDataset``), read a
            batch at a time.
        y : ignored

        Returns
        -------
        self
        """
        if self.encoder is None:
            raise ValueError("ECGEmbedder needs an encoder (a torch module, a folder or a fitted ECGPretrainer)")
        check_positive_int(self.batch_size, "batch_size")
        encoder, _ = load_encoder(self.encoder)
        if not hasattr(encoder, "forward_features"):
            raise TypeError(f"{type(encoder).__name__} has no forward_features(x): not an ecgsk encoder")
        n_leads, min_times = getattr(encoder, "n_leads", None), getattr(encoder, "min_times", 1)
        if isinstance(X, Dataset):  # a lazy cohort: only its first ECG is read here
            shape = first_ecg_shape(X)
            check_ecg(np.zeros((1, *shape), dtype=np.float32), n_leads=n_leads, min_times=min_times)
        else:
            shape = check_ecg(X, n_leads=n_leads, min_times=min_times).shape[1:]
        self.device_ = resolve_device(self.device)
        self.encoder_ = encoder.to(self.device_).eval()
        self.n_leads_ = int(shape[0])
        self.n_times_ = int(shape[1])  # the default input length of an export
        self.n_features_out_ = int(encoder.n_features)
        self.encoder_digest_ = _digest_module(encoder)
        return self

    def transform(self, X):
        """Embeddings of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_ecgs, n_leads, n_times) or torch Dataset
            ECGs, or a dataset of ECGs ``(n_leads, n_times)`` (e.g. an ``ECGDataset``), read a
            batch at a time.

        Returns
        -------
        ndarray of shape (n_ecgs, ``n_features_out_``), float32
        """
        check_is_fitted(self, "encoder_")
        cached = self.cache is not None and self.cache is not False
        store = self._load_store() if cached else None
        outputs, added = [], False
        for batch in self._batches(X):
            if store is None:
                outputs.append(self._embed(batch))
                continue
            keys = [hashlib.blake2b(row.tobytes(), digest_size=16).digest() for row in batch]
            missing = [i for i, key in enumerate(keys) if key not in store]
            if missing:
                fresh = self._embed(batch[missing])
                store.update(zip((keys[i] for i in missing), fresh, strict=True))
                added = True
            outputs.append(np.stack([store[key] for key in keys]))
        if added:
            self._save_store(store)
        return np.concatenate(outputs)

    def _batches(self, X):
        """Checked float32 batches of ``X`` (an array, or a dataset read a batch at a time)."""
        min_times = getattr(self.encoder_, "min_times", 1)
        if isinstance(X, Dataset):
            if len(X) == 0:
                raise ValueError("the dataset is empty: it holds 0 ECGs")
            loader = DataLoader(LazyDataset(X), batch_size=self.batch_size)
            for x, _ in loader:
                yield check_ecg(x.numpy(), n_leads=self.n_leads_, min_times=min_times)
            return
        X = check_ecg(X, n_leads=self.n_leads_, min_times=min_times)
        for start in range(0, len(X), self.batch_size):
            yield X[start : start + self.batch_size]

    # ------------------------------------------------------------------ export
    _export_outputs = ("transform",)

    def _export_network(self):
        return self.encoder_

    def _export_input(self, net, n_times):
        """``(n_leads, n_times, sfreq, leads)``: by default the length ``fit`` saw."""
        if n_times is None:
            n_times = getattr(self, "n_times_", None) or getattr(net, "n_times", None)
            if n_times is None:
                raise ValueError(
                    f"the encoder {type(net).__name__} does not record its input length: pass "
                    "n_times= (samples per lead of the ECGs to embed)"
                )
        min_times = int(getattr(net, "min_times", 1))
        if n_times < min_times:
            raise ValueError(f"n_times={n_times} is shorter than the encoder's minimum {min_times}")
        known = (getattr(net, "card_", None) or {}).get("input", {})
        return int(self.n_leads_), int(n_times), known.get("sfreq"), known.get("leads")

    def get_feature_names_out(self, input_features=None):
        """``embedding0``, ``embedding1``, ...: names of the output columns."""
        check_is_fitted(self, "encoder_")
        return np.asarray([f"embedding{i}" for i in range(self.n_features_out_)], dtype=object)

    def _embed(self, X):
        outputs = []
        with torch.inference_mode():
            for start in range(0, len(X), self.batch_size):
                batch = torch.from_numpy(X[start : start + self.batch_size]).to(self.device_)
                outputs.append(self.encoder_.forward_features(batch).float().cpu().numpy())
        return np.concatenate(outputs).astype(np.float32, copy=False)

    # ------------------------------------------------------------------ cache storage
    def _cache_file(self) -> Path:
        return Path(self.cache) / f"embeddings-{self.encoder_digest_}.npz"

    def _load_store(self) -> dict:
        if self.cache is True:
            return _MEMORY_CACHE.setdefault(self.encoder_digest_, {})
        return load_store(self._cache_file(), self.n_features_out_)

    def _save_store(self, store) -> None:
        if self.cache is True:
            return  # the in-memory store was updated in place
        save_store(self._cache_file(), store)


def _digest_module(module: torch.nn.Module) -> str:
    """A hash of a module's parameters and buffers (names, shapes and values)."""
    h = hashlib.blake2b(digest_size=16)
    for name, tensor in module.state_dict().items():
        h.update(name.encode())
        h.update(str(tuple(tensor.shape)).encode())
        h.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()
