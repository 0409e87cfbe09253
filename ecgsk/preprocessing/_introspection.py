"""What a preprocessing does, read from its steps without running it.

One place for the questions the readers, the lazy datasets, ``convert`` and the command line
ask of a preprocessing: its active steps (nested pipelines flattened), the sampling rate it
expects and produces, the lead names it produces, whether it learns from the data, and its
full ``repr``. ecgsk steps declare their rates (the spectral steps: filters, notches,
resampling) and lead orders (:class:`ReorderLeads`); after a step that is not an ecgsk step
the rate is unknown (None) and the lead names are kept.
"""

from __future__ import annotations

import math

from ..leads import canonical_lead_names
from ._base import BaseECGStep, LearnedStep, SpectralStep
from ._leads import ReorderLeads


def active_steps(preprocessing) -> list:
    """The steps that do something, nested pipelines flattened, in order.

    ``None`` and ``"passthrough"`` steps are left out; a single transformer is its own only
    step.

    Examples
    --------
    >>> from ecgsk.preprocessing import ECGPipeline, CropOrPad, Resample
    >>> inner = ECGPipeline([("resample", Resample(500, 250)), ("skip", "passthrough")])
    >>> [type(s).__name__ for s in active_steps(ECGPipeline([("a", inner),
    ...                                                      ("crop", CropOrPad(2500))]))]
    ['Resample', 'CropOrPad']
    """
    steps = getattr(preprocessing, "steps", None)
    if steps is None:
        return [preprocessing]
    out = []
    for _, step in steps:
        if step is not None and not (isinstance(step, str) and step == "passthrough"):
            out.extend(active_steps(step))
    return out


def _walk_rates(preprocessing, sfreq):
    """Yield ``(step, rate before, rate after)``; raise if a step expects another rate."""
    for step in active_steps(preprocessing):
        if isinstance(step, SpectralStep):
            rate_in, rate_out = step._rates()
            if sfreq is not None and not math.isclose(rate_in, sfreq, rel_tol=1e-9):
                raise ValueError(
                    f"preprocessing step {type(step).__name__} expects {rate_in:g} Hz input but "
                    f"the ECGs reach it at {sfreq:g} Hz; build the preprocessing for {sfreq:g} Hz "
                    f"(for example make_deepecg_preprocessing({sfreq:g}))"
                )
            yield step, rate_in, rate_out
            sfreq = rate_out
        elif isinstance(step, BaseECGStep):
            yield step, sfreq, sfreq
        else:
            yield step, sfreq, None
            sfreq = None


def pipeline_rates(preprocessing) -> tuple[float | None, float | None]:
    """The sampling rate a preprocessing expects at its input and produces at its output.

    ``rate_in`` is the input rate of its first rate-dependent step; ``rate_out`` the rate after
    its last step (None when a step that is not an ecgsk step makes it unknown, or when no step
    depends on the rate).

    Examples
    --------
    >>> from ecgsk.preprocessing import make_deepecg_preprocessing, CropOrPad
    >>> pipeline_rates(make_deepecg_preprocessing(500))
    (500.0, 250.0)
    >>> pipeline_rates(CropOrPad(2500))
    (None, None)
    """
    rate_in = rate_out = None
    for step, before, after in _walk_rates(preprocessing, None):
        if rate_in is None and isinstance(step, SpectralStep):
            rate_in = before
        rate_out = after
    return rate_in, rate_out


def output_rate(preprocessing, sfreq: float | None) -> float | None:
    """The rate after ``preprocessing`` of ECGs at ``sfreq`` Hz; ``ValueError`` on a mismatch.

    Examples
    --------
    >>> from ecgsk.preprocessing import make_deepecg_preprocessing
    >>> output_rate(make_deepecg_preprocessing(500), 500)
    250.0
    >>> output_rate(make_deepecg_preprocessing(500), 100)
    Traceback (most recent call last):
    ...
    ValueError: preprocessing step BandpassFilter expects 500 Hz input but the ECGs reach it at 100 Hz; ...
    """
    rate = None if sfreq is None else float(sfreq)
    for _, _, after in _walk_rates(preprocessing, rate):
        rate = after
    return rate


def lead_step(preprocessing):
    """The first active step if it is a :class:`ReorderLeads`, else None.

    Examples
    --------
    >>> from ecgsk.preprocessing import make_deepecg_preprocessing
    >>> type(lead_step(make_deepecg_preprocessing(500))).__name__
    'ReorderLeads'
    """
    steps = active_steps(preprocessing)
    if steps and isinstance(steps[0], ReorderLeads):
        return steps[0]
    return None


def describe_preprocessing(preprocessing, leads: tuple[str, ...], sfreq: float | None):
    """Lead names and rate after ``preprocessing``; raise if it expects other input.

    A pipeline built for 500 Hz input applied to 100 Hz records, or a ``ReorderLeads`` whose
    input order is not the records' order, is refused instead of silently producing wrong
    input.

    Examples
    --------
    >>> from ecgsk.leads import STANDARD_12
    >>> from ecgsk.preprocessing import make_deepecg_preprocessing
    >>> leads, sfreq = describe_preprocessing(make_deepecg_preprocessing(500), STANDARD_12, 500)
    >>> leads == STANDARD_12, sfreq
    (True, 250.0)
    """
    leads = tuple(leads)
    for step, _, after in _walk_rates(preprocessing, sfreq):
        if isinstance(step, ReorderLeads):
            wanted = canonical_lead_names(step.output_leads)
            given = None if step.input_leads is None else canonical_lead_names(step.input_leads)
            if given is None and leads != wanted:
                raise ValueError(
                    f"preprocessing step ReorderLeads has input_leads=None (input already in "
                    f"{list(wanted)} order) but the ECGs have leads {list(leads)}; pass "
                    f"input_leads={list(leads)}"
                )
            if given is not None and given != leads:
                raise ValueError(
                    f"preprocessing step ReorderLeads expects leads {list(given)} but the ECGs "
                    f"have leads {list(leads)}"
                )
            leads = wanted
        sfreq = after
    return leads, sfreq


def check_preprocessing(preprocessing) -> None:
    """Raise ``TypeError`` unless ``preprocessing`` is None or a transformer instance.

    Examples
    --------
    >>> from ecgsk.preprocessing import CropOrPad
    >>> check_preprocessing(CropOrPad)
    Traceback (most recent call last):
    ...
    TypeError: preprocessing must be an sklearn-style transformer with fit and transform ...
    """
    if preprocessing is None:
        return
    is_class = isinstance(preprocessing, type)
    if is_class or not all(callable(getattr(preprocessing, name, None))
                           for name in ("fit", "transform")):
        what = (f"the class {preprocessing.__name__} (pass an instance, e.g. "
                f"{preprocessing.__name__}())" if is_class else
                f"a {type(preprocessing).__name__} ({preprocessing!r:.60})")
        raise TypeError(
            "preprocessing must be an sklearn-style transformer with fit and transform (for "
            f"example make_deepecg_preprocessing(500)) or None, got {what}"
        )


def preprocessing_repr(preprocessing) -> str:
    """The untruncated ``repr`` of a transformer (sklearn shortens long ones with "...").

    A fitted preprocessing is described with what it learned (:func:`freeze_if_fitted`).
    """
    from ._freeze import freeze_if_fitted

    preprocessing = freeze_if_fitted(preprocessing)
    if hasattr(preprocessing, "get_params"):
        return preprocessing.__repr__(N_CHAR_MAX=1_000_000)
    return repr(preprocessing)


def is_stateless(preprocessing) -> bool:
    """True when every step is an ecgsk step that learns nothing from the data.

    Such steps are fitted from the input shape alone, so fitting them on one ECG is exact.
    A learning step (the cohort amplitude gain of :class:`AmplitudeScaler`) without a fixed
    gain, or a subclass with its own ``fit``, may learn from the data: it is not counted.

    Examples
    --------
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> from ecgsk.preprocessing import make_deepecg_preprocessing
    >>> is_stateless(make_deepecg_preprocessing(500, normalize="record"))
    True
    >>> is_stateless(make_deepecg_preprocessing(500)), is_stateless(FunctionTransformer())
    (False, False)
    """
    def shape_only(step):
        if isinstance(step, LearnedStep):
            return not step._learns_from_data()
        return (isinstance(step, BaseECGStep) and type(step).fit is BaseECGStep.fit
                and type(step).fit_transform is BaseECGStep.fit_transform)

    return all(shape_only(step) for step in active_steps(preprocessing))
