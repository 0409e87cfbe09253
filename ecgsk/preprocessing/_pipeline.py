"""A Pipeline that fuses ECG steps, and the DeepECG preprocessing factory."""

from __future__ import annotations

import numbers

from sklearn.pipeline import Pipeline
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from .._validation import check_ecg, check_sfreq
from ..leads import STANDARD_12
from ._base import ECGTransformer
from ._crop import CropOrPad
from ._engine import run_steps
from ._filters import BandpassFilter, NotchFilter
from ._leads import ReorderLeads
from ._normalize import NormalizeLeads
from ._resample import Resample
from ._spectral_notch import SpectralNotch

DEEPECG_SFREQ = 250.0
DEEPECG_N_TIMES = 2500


def _is_ecg_step(step) -> bool:
    return isinstance(step, ECGTransformer)


def _active(step) -> bool:
    return step is not None and step != "passthrough"


class ECGPipeline(Pipeline):
    """A :class:`sklearn.pipeline.Pipeline` that runs ECG steps fused and in chunks.

    Behaves exactly like ``Pipeline`` (same parameters, ``set_params`` with
    ``step__param``, cloning, pickling, ``named_steps``). When every step is
    an :mod:`ecgsk.preprocessing` transformer (or ``"passthrough"``) and no
    extra fit or transform parameters are passed, ``fit``, ``transform`` and
    ``fit_transform`` run all steps together: the batch is processed in chunks
    of ECGs (bounded memory) and consecutive frequency-domain steps (filters,
    notches, resampling, adaptive notch) share one FFT round trip. Otherwise it
    falls back to the ordinary step-by-step ``Pipeline`` behaviour, which gives
    the same result.

    Parameters
    ----------
    steps : list of (str, estimator) tuples
        As for :class:`sklearn.pipeline.Pipeline`.
    transform_input, memory, verbose
        As for :class:`sklearn.pipeline.Pipeline`.

    Examples
    --------
    >>> import numpy as np
    >>> from ecgsk.preprocessing import ECGPipeline, BandpassFilter, Resample
    >>> pipe = ECGPipeline([("bandpass", BandpassFilter(500, 0.5, 40)),
    ...                     ("resample", Resample(500, 250))])
    >>> X = np.random.default_rng(0).normal(size=(4, 12, 5000)).astype("float32")
    >>> pipe.fit_transform(X).shape
    (4, 12, 2500)
    """

    def _ecg_only(self, params) -> bool:
        if params or self.memory is not None or self.transform_input is not None:
            return False
        steps = [step for _, step in self.steps if _active(step)]
        return bool(steps) and all(_is_ecg_step(step) for step in steps)

    def _ecg_steps(self):
        return [step for _, step in self.steps if _active(step)]

    def fit(self, X, y=None, **params):
        """Fit every step (parameter checks and input shapes; no data pass needed).

        Parameters
        ----------
        X : array-like of shape (n_ecgs, n_leads, n_times)
            ECG signals.
        y : array-like, optional
            Passed on to the steps by the ordinary ``Pipeline`` path.
        **params : dict
            Fit parameters; when given, the ordinary ``Pipeline.fit`` runs.

        Returns
        -------
        self : ECGPipeline
        """
        if not self._ecg_only(params):
            return super().fit(X, y, **params)
        self._fit_ecg(X)
        return self

    def _fit_ecg(self, X):
        self.steps = list(self.steps)
        self._validate_steps()
        steps = self._ecg_steps()
        for step in steps:
            step._validate_params()
        X = check_ecg(X)
        shape = X.shape[1:]
        for step in steps:
            step._fit_shape(*shape)
            shape = step._output_shape(*shape)
        return X, steps

    @available_if(Pipeline._can_fit_transform)
    def fit_transform(self, X, y=None, **params):
        """Fit every step, then transform ``X`` in one fused pass.

        Parameters
        ----------
        X : array-like of shape (n_ecgs, n_leads, n_times)
            ECG signals.
        y : array-like, optional
            Passed on to the steps by the ordinary ``Pipeline`` path.
        **params : dict
            Fit parameters; when given, the ordinary ``Pipeline.fit_transform`` runs.

        Returns
        -------
        ndarray
            The transformed signals.
        """
        if not self._ecg_only(params):
            return super().fit_transform(X, y, **params)
        X, steps = self._fit_ecg(X)
        return run_steps(steps, X)

    @available_if(Pipeline._can_transform)
    def transform(self, X, **params):
        """Transform ``X`` through every step (fused when all are ECG steps).

        Parameters
        ----------
        X : array-like of shape (n_ecgs, n_leads, n_times)
            ECG signals.
        **params : dict
            Transform parameters; when given, the ordinary ``Pipeline.transform`` runs.

        Returns
        -------
        ndarray
            The transformed signals.
        """
        if not self._ecg_only(params):
            return super().transform(X, **params)
        check_is_fitted(self)
        steps = self._ecg_steps()
        for step in steps:
            check_is_fitted(step)
        X = check_ecg(X, n_leads=steps[0].n_leads_in_)
        return run_steps(steps, X)


def make_deepecg_preprocessing(
    sfreq_in,
    input_leads=None,
    *,
    bandpass=(0.5, 100.0),
    powerline=(50.0, 60.0),
    spectral_notch=True,
    crop="center",
    normalize="deepecg",
    fill_missing=None,
    random_state=None,
):
    """Build the pipeline that turns raw ECGs into the DeepECG model input.

    The output is ``(n_ecgs, 12, 2500)`` float32: the 12 standard leads in
    :data:`~ecgsk.leads.STANDARD_12` order, at 250 Hz, 10 seconds. The steps:

    1. ``leads``: :class:`ReorderLeads` to the standard order (deriving III,
       aVR, aVL, aVF from I and II when missing);
    2. ``bandpass``: :class:`BandpassFilter`, zero-phase;
    3. ``notch``: :class:`NotchFilter` at the power-line frequencies and
       their harmonics;
    4. ``resample``: :class:`Resample` to 250 Hz, anti-aliased (DeepECG's own
       code decimates by slicing, which folds everything above 125 Hz back
       into the signal);
    5. ``spectral_notch``: :class:`SpectralNotch` at 250 Hz, DeepECG's
       adaptive removal of narrow interference peaks, per record;
    6. ``crop``: :class:`CropOrPad` to 2500 samples;
    7. ``normalize``: :class:`NormalizeLeads`, per record.

    Steps 2 to 5 run as one FFT round trip per chunk of ECGs in the returned
    :class:`ECGPipeline`. Disabled steps stay in the pipeline as
    ``"passthrough"``, so step names (``pipe.set_params(notch__freq=60)``)
    never change.

    Parameters
    ----------
    sfreq_in : float
        Sampling rate of the input in Hz.
    input_leads : sequence of str or None, default=None
        Lead names of the input, in order; ``None`` if it is already in the
        standard 12-lead order.
    bandpass : (float or None, float or None) or None, default=(0.5, 100.0)
        Band-pass cut-offs in Hz. A high cut-off at or above the input's
        Nyquist frequency is dropped (there is nothing there to remove);
        ``None`` disables the step.
    powerline : float, sequence of float or None, default=(50.0, 60.0)
        Mains frequencies to notch (with their harmonics below the input's
        Nyquist frequency). Both 50 and 60 Hz by default, as ECGs come from
        both kinds of grids; the two 1.7-2 Hz wide notches cost little ECG
        content. Frequencies at or above the input's Nyquist frequency are
        dropped; ``None`` disables the step.
    spectral_notch : bool, default=True
        Add the adaptive :class:`SpectralNotch` (at 250 Hz).
    crop : {"center", "start", "random"}, default="center"
        How :class:`CropOrPad` cuts records longer than 10 s (and places
        shorter ones).
    normalize : {"deepecg", "zscore", "robust"} or None, default="deepecg"
        :class:`NormalizeLeads` method. ``"deepecg"`` (one factor per record
        from the spectrum of lead I, so that inter-lead amplitude ratios and
        millivolt-like values are kept) is DeepECG's harmonisation made per
        record; ``None`` keeps millivolts.
    fill_missing : {None, "zeros"}, default=None
        Passed to :class:`ReorderLeads`.
    random_state : int, RandomState or None, default=None
        Seeds ``crop="random"``.

    Returns
    -------
    ECGPipeline
        An unfitted pipeline; ``fit`` only checks the input shape.

    Examples
    --------
    >>> import numpy as np
    >>> from ecgsk.preprocessing import make_deepecg_preprocessing
    >>> X = np.random.default_rng(0).normal(size=(2, 12, 5000)).astype("float32")
    >>> pipe = make_deepecg_preprocessing(500)
    >>> [name for name, _ in pipe.steps]
    ['leads', 'bandpass', 'notch', 'resample', 'spectral_notch', 'crop', 'normalize']
    >>> pipe.fit_transform(X).shape
    (2, 12, 2500)
    """
    sfreq_in = check_sfreq(sfreq_in, "sfreq_in")
    nyquist = sfreq_in / 2

    bandpass_step = "passthrough"
    if bandpass is not None:
        try:
            low, high = bandpass
        except (TypeError, ValueError):
            raise ValueError(f"bandpass must be (low, high) in Hz or None, got {bandpass!r}") from None
        if high is not None and isinstance(high, numbers.Real) and high >= nyquist:
            high = None
        if low is not None or high is not None:
            bandpass_step = BandpassFilter(sfreq_in, low=low, high=high)

    notch_step = "passthrough"
    if powerline is not None:
        freqs = (powerline,) if isinstance(powerline, numbers.Real) else tuple(powerline)
        kept = tuple(f for f in freqs if not (isinstance(f, numbers.Real) and f >= nyquist))
        if kept:
            notch_step = NotchFilter(sfreq_in, freq=kept if len(kept) > 1 else kept[0])

    return ECGPipeline(
        [
            ("leads", ReorderLeads(input_leads, STANDARD_12, fill_missing=fill_missing)),
            ("bandpass", bandpass_step),
            ("notch", notch_step),
            ("resample", Resample(sfreq_in, DEEPECG_SFREQ)),
            ("spectral_notch", SpectralNotch(DEEPECG_SFREQ) if spectral_notch else "passthrough"),
            ("crop", CropOrPad(DEEPECG_N_TIMES, mode=crop, random_state=random_state)),
            ("normalize", NormalizeLeads(normalize) if normalize is not None else "passthrough"),
        ]
    )
