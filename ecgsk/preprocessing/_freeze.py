"""Turn what fitted steps learned into parameters, so that a description by parameters is complete."""

from __future__ import annotations

import copy

from sklearn.utils.validation import check_is_fitted

from ._release import DeepECGSpectralCleaning
from ._scaler import AmplitudeScaler


def freeze_learned(preprocessing):
    """Return a copy of a fitted preprocessing whose learning steps hold what they learned.

    :class:`AmplitudeScaler` gets ``gain=gain_`` and
    :class:`DeepECGSpectralCleaning` gets ``ranges=ranges_``: the copy
    transforms exactly as the original, and its parameters (``get_params``,
    its ``repr``) now describe it completely, so it can be stored as data (a
    model card) and rebuilt without the training records; fitting the
    rebuilt pipeline learns nothing. Steps inside pipelines are found at any
    depth; other steps are copied as they are.

    Parameters
    ----------
    preprocessing : transformer or Pipeline
        A fitted preprocessing.

    Returns
    -------
    object
        A fitted deep copy.

    Examples
    --------
    >>> import numpy as np
    >>> from ecgsk.preprocessing import freeze_learned, make_deepecg_preprocessing
    >>> X = np.random.default_rng(0).normal(size=(4, 12, 5000)).astype("float32")
    >>> pipe = make_deepecg_preprocessing(500).fit(X)
    >>> frozen = freeze_learned(pipe)
    >>> frozen.named_steps["normalize"].gain == pipe.named_steps["normalize"].gain_
    True
    >>> bool(np.array_equal(frozen.transform(X), pipe.transform(X)))
    True
    >>> frozen.named_steps["normalize"]._learns_from_data()
    False
    """
    frozen = copy.deepcopy(preprocessing)
    for step in _walk(frozen):
        if isinstance(step, AmplitudeScaler) and step._learns_from_data():
            check_is_fitted(step, "gain_")
            step.set_params(gain=step.gain_)
        elif isinstance(step, DeepECGSpectralCleaning) and step._learns_from_data():
            check_is_fitted(step, "ranges_")
            step.set_params(ranges=[[tuple(pair) for pair in lead] for lead in step.ranges_])
    return frozen


def freeze_if_fitted(preprocessing):
    """:func:`freeze_learned` for a fitted preprocessing; an unfitted one is returned as is.

    What a model card stores: a fitted pipeline with what it learned written into its
    parameters, or an unfitted one (which then has to be fitted again before use).

    Examples
    --------
    >>> from ecgsk.preprocessing import Resample
    >>> step = Resample(500, 250)
    >>> freeze_if_fitted(step) is step
    True
    """
    from sklearn.exceptions import NotFittedError

    try:
        check_is_fitted(preprocessing)
    except (NotFittedError, TypeError):
        return preprocessing
    return freeze_learned(preprocessing)


def _walk(est):
    yield est
    for _, step in getattr(est, "steps", None) or []:
        if step is not None and step != "passthrough":
            yield from _walk(step)
