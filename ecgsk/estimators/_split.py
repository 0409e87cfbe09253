"""``ECGValidSplit``: the validation split of the ECG estimators, as a skorch ``train_split``."""

from __future__ import annotations

import numbers

import numpy as np
from torch.utils.data import Subset


class ECGValidSplit:
    """Hold out a validation part of the training ECGs (skorch ``train_split`` callable).

    Called by skorch as ``split(dataset, y=None, groups=None)``, it returns ``(train, valid)``
    datasets. The indices are computed once (:meth:`indices`) and then reused, so the split
    a resumed fit uses is the one the interrupted fit used.

    Parameters
    ----------
    validation : float or torch Dataset
        A fraction in (0, 1) of the ECGs to hold out, or a predefined validation dataset
        (the whole input is then used for training).
    random_state : int, optional
        Seed of the shuffling.
    groups : array-like of shape (n_ecgs,), optional
        Patient ids: all ECGs of a patient fall on the same side.
    strata : array-like of shape (n_ecgs,), optional
        Stratification key (e.g. the class, or each ECG's rarest positive label); used when
        every stratum has two members and both sides can hold every stratum.
    indices : tuple of two integer arrays, optional
        Fixed ``(train, valid)`` indices (a resumed fit's).

    Examples
    --------
    >>> import numpy as np
    >>> split = ECGValidSplit(0.25, random_state=0, groups=np.repeat(np.arange(4), 2))
    >>> train, valid = split.indices(8)
    >>> len(train), len(valid)
    (6, 2)
    """

    def __init__(self, validation, *, random_state=None, groups=None, strata=None, indices=None):
        self.validation = validation
        self.random_state = random_state
        self.groups = groups
        self.strata = strata
        self.indices_ = None if indices is None else tuple(np.asarray(i, dtype=np.int64)
                                                           for i in indices)

    @property
    def predefined(self) -> bool:
        return not isinstance(self.validation, numbers.Real)

    def indices(self, n: int):
        """``(train_idx, valid_idx)`` for ``n`` ECGs (computed on the first call)."""
        if self.indices_ is None:
            self.indices_ = self._compute(n)
        return self.indices_

    def _compute(self, n):
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
        if self.groups is not None:
            groups = np.asarray(self.groups)
            if groups.shape[0] != n:
                raise ValueError(f"groups has {groups.shape[0]} entries but X has {n} ECGs")
            if len(np.unique(groups)) < 2:
                raise ValueError("groups holds a single group: a patient-level split needs two")
            splitter = GroupShuffleSplit(n_splits=1, test_size=frac, random_state=self.random_state)
            return next(splitter.split(index, groups=groups))
        if self.strata is not None:
            _, counts = np.unique(self.strata, return_counts=True)
            if counts.min() >= 2 and n_valid >= len(counts) and n - n_valid >= len(counts):
                splitter = StratifiedShuffleSplit(
                    n_splits=1, test_size=n_valid, random_state=self.random_state
                )
                return next(splitter.split(index, self.strata))
        splitter = ShuffleSplit(n_splits=1, test_size=n_valid, random_state=self.random_state)
        return next(splitter.split(index))

    def __call__(self, dataset, y=None, groups=None):
        if self.predefined:
            return dataset, self.validation
        if groups is not None and self.indices_ is None:
            self.groups = groups
        train_idx, valid_idx = self.indices(len(dataset))
        return Subset(dataset, train_idx.tolist()), Subset(dataset, valid_idx.tolist())


def check_validation(validation):
    """Refuse a ``validation`` parameter that is not a fraction, a pair or None."""
    if validation is None or (isinstance(validation, tuple) and len(validation) == 2):
        return
    if isinstance(validation, numbers.Real) and not isinstance(validation, bool):
        if 0 < validation < 1:
            return
    raise ValueError(
        f"validation must be a fraction in (0, 1), a tuple (X_val, y_val) or None; got "
        f"{validation!r}"
    )
