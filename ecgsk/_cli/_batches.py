"""Read a dataset in batches of network input, setting aside the records that fail.

Records are read one at a time (in DataLoader workers with ``--jobs``); a record that cannot
be read, preprocessed, or does not have the network's shape becomes a failure with its
reason instead of stopping the run. Preprocessing runs once per batch (per group of records
of the same raw shape), which is what the vectorised ecgsk transformers are fast at, and
gives the same result as per record: every step works on each ECG on its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
from torch.utils.data import DataLoader, Dataset


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().replace("\n", " ")
    return text if isinstance(exc, ValueError) and text else f"{type(exc).__name__}: {text}"


class GuardedItems(Dataset):
    """Items ``(index, ecg, None)`` or ``(index, None, reason)``: a bad record never raises.

    Parameters
    ----------
    dataset : sequence-like
        ``dataset[i]`` is an ECG ``(n_leads, n_times)``.

    Examples
    --------
    >>> import numpy as np
    >>> items = GuardedItems([np.zeros((2, 3)), "not an ECG"])
    >>> items[0][2] is None, items[1][1] is None
    (True, True)
    """

    def __init__(self, dataset):
        self.dataset = dataset

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, i):
        try:
            x = np.asarray(self.dataset[i], dtype=np.float32)
        except Exception as exc:  # one bad record must not end a million-record run
            return i, None, _reason(exc)
        if x.ndim != 2:
            return i, None, f"read as an array of shape {x.shape}, not (n_leads, n_times)"
        return i, x, None


@dataclass
class Batch:
    """Network input for the records of a batch that worked, and the failures.

    Attributes
    ----------
    indices : ndarray of int
        Dataset positions of the rows of ``X``, increasing.
    X : ndarray of shape (len(indices), n_leads, n_times) or None
        float32 network input; None when no record of the batch worked.
    failures : list of (int, str)
        Dataset position and reason of each record that failed.
    """

    indices: np.ndarray
    X: np.ndarray | None
    failures: list[tuple[int, str]] = field(default_factory=list)

    @property
    def size(self) -> int:
        """Number of records the batch covered (worked or failed)."""
        return len(self.indices) + len(self.failures)


class PrepareBatch:
    """Collate function: preprocess, check and stack the items of one batch.

    Parameters
    ----------
    preprocessing : fitted transformer or None
        Applied to ``(n, n_leads, n_times)`` arrays.
    n_leads : int
        Leads the network needs.
    n_times : int or None
        Samples the network needs (None: any length from ``min_times``).
    min_times : int, default=1

    Examples
    --------
    >>> import numpy as np
    >>> prepare = PrepareBatch(None, n_leads=2, n_times=3)
    >>> batch = prepare([(0, np.ones((2, 3)), None), (1, None, "bad file"),
    ...                  (2, np.ones((2, 4)), None)])
    >>> batch.indices.tolist(), batch.X.shape, batch.failures[0]
    ([0], (1, 2, 3), (1, 'bad file'))
    >>> batch.failures[1][1]
    'has 2 leads x 4 samples; the network needs 2 leads x 3 samples (--n-times crops or pads every record as it is read)'
    """

    def __init__(self, preprocessing, *, n_leads: int, n_times: int | None, min_times: int = 1):
        self.preprocessing = preprocessing
        self.n_leads = n_leads
        self.n_times = n_times
        self.min_times = min_times

    def _transform(self, X: np.ndarray) -> np.ndarray:
        if self.preprocessing is None:
            return X
        return np.asarray(self.preprocessing.transform(X), dtype=np.float32)

    def _problem(self, x: np.ndarray) -> str | None:
        n_leads, n_times = x.shape
        if n_leads != self.n_leads or (self.n_times is not None and n_times != self.n_times):
            need = f"{self.n_times} samples" if self.n_times else f">= {self.min_times} samples"
            stage = " after preprocessing" if self.preprocessing is not None else ""
            hint = ""
            if n_leads == self.n_leads and self.n_times is not None:
                hint = " (--n-times crops or pads every record as it is read)"
            return (
                f"has {n_leads} leads x {n_times} samples{stage}; the network needs "
                f"{self.n_leads} leads x {need}{hint}"
            )
        if n_times < self.min_times:
            return f"has {n_times} samples; the network needs at least {self.min_times}"
        if not np.isfinite(x).all():
            stage = " after preprocessing" if self.preprocessing is not None else ""
            return f"holds NaN or infinite samples{stage}"
        return None

    def __call__(self, items) -> Batch:
        failures: list[tuple[int, str]] = []
        groups: dict[tuple[int, ...], list[tuple[int, np.ndarray]]] = {}
        for i, x, reason in items:
            if x is None:
                failures.append((int(i), reason))
            else:
                groups.setdefault(x.shape, []).append((int(i), x))
        done: list[tuple[int, np.ndarray]] = []
        for members in groups.values():
            outputs = self._transform_group(members, failures)
            for i, y in outputs:
                problem = self._problem(y)
                if problem is None:
                    done.append((i, y))
                else:
                    failures.append((i, problem))
        done.sort(key=lambda pair: pair[0])
        failures.sort(key=lambda pair: pair[0])
        indices = np.array([i for i, _ in done], dtype=np.int64)
        X = np.stack([y for _, y in done]) if done else None
        return Batch(indices, X, failures)

    def _transform_group(self, members, failures):
        try:
            Y = self._transform(np.stack([x for _, x in members]))
            return [(i, y) for (i, _), y in zip(members, Y, strict=True)]
        except Exception:
            if len(members) == 1:
                i, x = members[0]
                return self._transform_one(i, x, failures)
        # find which records broke the batch
        out = []
        for i, x in members:
            out.extend(self._transform_one(i, x, failures))
        return out

    def _transform_one(self, i, x, failures):
        try:
            return [(i, self._transform(x[None])[0])]
        except Exception as exc:  # a record the preprocessing rejects (e.g. NaN, too short)
            failures.append((i, f"preprocessing failed: {_reason(exc)}"))
            return []


def iter_batches(
    dataset, prepare: PrepareBatch, *, batch_size: int, jobs: int = 0
) -> Iterator[Batch]:
    """Yield :class:`Batch` objects covering ``dataset`` in order.

    Parameters
    ----------
    dataset : sequence-like
        Items are ECGs ``(n_leads, n_times)``.
    prepare : PrepareBatch
    batch_size : int
    jobs : int, default=0
        DataLoader worker processes reading (and preprocessing) records; 0 reads here.

    Examples
    --------
    >>> import numpy as np
    >>> data = [np.full((1, 4), k, dtype=np.float32) for k in range(5)]
    >>> [b.indices.tolist() for b in iter_batches(data, PrepareBatch(None, n_leads=1, n_times=4),
    ...                                           batch_size=2)]
    [[0, 1], [2, 3], [4]]
    """
    loader = DataLoader(
        GuardedItems(dataset),
        batch_size=batch_size,
        shuffle=False,
        num_workers=jobs,
        collate_fn=prepare,
    )
    yield from loader
