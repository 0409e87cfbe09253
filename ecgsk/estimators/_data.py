"""Datasets feeding the estimators' DataLoaders.

In-memory arrays are served a whole batch at a time (one fancy-indexing copy per batch,
through ``__getitems__``) instead of one ECG at a time followed by a collate step; lazy
``torch.utils.data.Dataset`` inputs (memmaps, folders of records) are served item by item.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import torch
from torch.utils.data import (
    BatchSampler,
    Dataset,
    RandomSampler,
    Sampler,
    SequentialSampler,
    Subset,
)


class ArrayDataset(Dataset):
    """ECGs ``(n, n_leads, n_times)`` and optional targets held in memory.

    Parameters
    ----------
    X : ndarray of float32, shape (n, n_leads, n_times)
    y : ndarray, optional
        Encoded targets aligned with ``X``.
    """

    def __init__(self, X: np.ndarray, y: np.ndarray | None = None):
        self.X = X
        self.y = y

    def __len__(self):
        return len(self.X)

    def __getitem__(self, i):
        x = torch.from_numpy(np.ascontiguousarray(self.X[i]))
        y = torch.zeros(()) if self.y is None else torch.as_tensor(self.y[i])
        return x, y

    def __getitems__(self, indices):
        idx = np.asarray(indices, dtype=np.int64)
        x = torch.from_numpy(np.ascontiguousarray(self.X[idx]))
        y = torch.zeros(len(idx)) if self.y is None else torch.from_numpy(self.y[idx])
        return x, y


class LazyDataset(Dataset):
    """Wrap a user ``Dataset`` whose items are an ECG ``(n_leads, n_times)`` or ``(ecg, ...)``.

    Parameters
    ----------
    base : torch.utils.data.Dataset
    y : ndarray, optional
        Encoded targets aligned with ``base``; without them a placeholder is returned.
    """

    def __init__(self, base: Dataset, y: np.ndarray | None = None):
        self.base = base
        self.y = y

    def __len__(self):
        return len(self.base)

    def __getitem__(self, i):
        item = self.base[i]
        x = item[0] if isinstance(item, (tuple, list)) else item
        x = torch.as_tensor(np.asarray(x, dtype=np.float32))
        y = torch.zeros(()) if self.y is None else torch.as_tensor(self.y[i])
        return x, y


class PretextDataset(Dataset):
    """ECGs and patient ids for pretraining: items ``({"x": ecg, "groups": id}, id)``.

    The network (``SSLPretextModel``) receives both as keyword arguments through skorch's
    ``infer``; ECGs are cut to the ``n_times`` samples the segments cover.

    Parameters
    ----------
    dataset : ArrayDataset or LazyDataset
        ECGs with the patient ids as targets.
    n_times : int
        Samples kept per ECG.
    """

    def __init__(self, dataset, n_times: int):
        self.dataset = dataset
        self.n_times = int(n_times)

    @property
    def y(self):
        return self.dataset.y

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, i):
        x, ids = self.dataset[i]
        return {"x": x[..., : self.n_times], "groups": ids}, ids

    def __getitems__(self, indices):
        if not hasattr(self.dataset, "__getitems__"):
            return [self[i] for i in indices]  # collated by the DataLoader
        x, ids = self.dataset.__getitems__(indices)
        return {"x": x[..., : self.n_times], "groups": ids}, ids


def _unwrap(dataset):
    while isinstance(dataset, (Subset, PretextDataset)):
        dataset = dataset.dataset
    return dataset


def batch_already_collated(batch):
    """Collate function for :class:`ArrayDataset`, whose ``__getitems__`` returns a batch."""
    return batch


def is_internal_dataset(dataset) -> bool:
    """True for the estimators' own datasets, possibly inside (nested) ``Subset`` objects.

    A ``Subset`` of a user dataset is not one: it still needs wrapping in :class:`LazyDataset`.
    """
    if isinstance(dataset, PretextDataset):
        return True
    while isinstance(dataset, Subset):
        dataset = dataset.dataset
    return isinstance(dataset, (ArrayDataset, LazyDataset, PretextDataset))


def is_array_backed(dataset) -> bool:
    """True for an :class:`ArrayDataset`, possibly inside (nested) ``Subset`` objects."""
    return isinstance(_unwrap(dataset), ArrayDataset)


def first_ecg_shape(dataset) -> tuple[int, int]:
    """``(n_leads, n_times)`` of the first item of a user dataset, checked to be 2-D."""
    if len(dataset) == 0:
        raise ValueError("the dataset is empty: it holds 0 ECGs")
    item = dataset[0]
    x = item[0] if isinstance(item, (tuple, list)) else item
    shape = tuple(np.shape(x))
    if len(shape) != 2:
        raise ValueError(
            f"dataset items must be ECGs of shape (n_leads, n_times) (or tuples starting with "
            f"one); got an item of shape {shape}"
        )
    return int(shape[0]), int(shape[1])


class DeadlineBatches(Sampler):
    """A batch sampler that ends the epoch once a ``time.monotonic()`` deadline has passed.

    The deadline is checked each time the next batch is requested, so with ``num_workers=0``
    an epoch ends after the batch during which the budget ran out. At least one batch is
    drawn per epoch. ``len`` is that of the wrapped sampler (what a progress bar expects for
    a full epoch). Being a sampler, it stays in place when a distributed launcher shards the
    loader.

    Examples
    --------
    >>> import time
    >>> from torch.utils.data import BatchSampler, SequentialSampler
    >>> batches = BatchSampler(SequentialSampler(range(6)), batch_size=2, drop_last=False)
    >>> list(DeadlineBatches(batches, deadline=time.monotonic() - 1))
    [[0, 1]]
    >>> list(DeadlineBatches(batches, deadline=time.monotonic() + 60))
    [[0, 1], [2, 3], [4, 5]]
    """

    def __init__(self, batch_sampler, deadline: float):
        self.batch_sampler = batch_sampler
        self.deadline = deadline

    def __len__(self):
        return len(self.batch_sampler)

    def __iter__(self):
        for i, batch in enumerate(self.batch_sampler):
            if i > 0 and time.monotonic() >= self.deadline:
                return
            yield batch


def training_batches(dataset, *, batch_size, shuffle, drop_last, generator, deadline):
    """The batch sampler of a training epoch that honours a deadline."""
    sampler = (RandomSampler(dataset, generator=generator) if shuffle
               else SequentialSampler(dataset))
    return DeadlineBatches(BatchSampler(sampler, batch_size, drop_last), deadline)


def align_to_ids(X, y):
    """``y`` in the order of a dataset's ``ids`` when both carry record ids (else unchanged).

    A pandas ``y`` with a non-default index is matched to the ids of a dataset that has
    them (e.g. ``ecgsk.datasets.ECGDataset``): reordered when it holds the same ids, refused
    when it does not; rows are never matched by position silently.
    """
    ids = getattr(X, "ids", None)
    index = getattr(y, "index", None)
    if ids is None or index is None or not hasattr(y, "loc"):
        return y
    if isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1:
        return y  # positional targets
    ids = [str(i) for i in ids]
    keys = pd.Index([str(i) for i in index])
    if keys.has_duplicates:
        raise ValueError("y's index has duplicate record ids; each record needs one row")
    if set(keys) != set(ids):
        missing = [i for i in ids if i not in set(keys)][:3]
        extra = [k for k in keys if k not in set(ids)][:3]
        raise ValueError(
            f"y's index does not match the dataset's record ids (ids without a row: {missing}, "
            f"rows without a record: {extra}); index y by the dataset's ids or pass a plain array"
        )
    aligned = y.copy()
    aligned.index = keys
    return aligned.loc[ids]
