"""A Pipeline that fuses ECG steps, and the DeepECG preprocessing factory."""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from .._validation import check_ecg, check_sfreq
from ..leads import STANDARD_12
from ._amplitude import check_amplitude as _check_amplitude
from ._base import BaseECGStep
from ._crop import CropOrPad
from ._engine import run_steps
from ._filters import BandpassFilter, NotchFilter
from ._leads import ReorderLeads
from ._normalize import NormalizeLeads
from ._release import DEEPECG_N_TIMES, DEEPECG_SFREQ, Decimate, DeepECGSpectralCleaning
from ._resample import Resample
from ._scaler import AmplitudeScaler
from ._spectral_notch import SpectralNotch

_NORMALIZE = ("cohort", "record", "deepecg", "zscore", "robust")
_RELEASE_NORMALIZE = ("cohort", "record")
# Shorter input than this fraction of the fitted length, through a step that
# depends on the sampling rate, is refused (see ECGPipeline).
_MIN_LENGTH_RATIO = 0.5


def _is_ecg_step(step) -> bool:
    return isinstance(step, BaseECGStep)


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

    Steps that learn from the data (:class:`AmplitudeScaler`,
    :class:`DeepECGSpectralCleaning`) are fitted on the output of the steps
    before them; the others only check the input shape, so ``fit`` makes a
    pass over the data only as far as the last learning step.

    Parameters
    ----------
    steps : list of (str, estimator) tuples
        As for :class:`sklearn.pipeline.Pipeline`.
    check_amplitude : bool, default=True
        Warn (:class:`AmplitudeWarning`) about input records whose amplitudes
        are implausible for millivolts (see :func:`check_amplitude`), in
        ``fit`` and ``transform``.
    check_length : bool, default=True
        When the pipeline contains a step that depends on the sampling rate,
        refuse (``ValueError``) input less than half as long as the records it
        was fitted on. Arrays carry no sampling rate, so a length that
        shrinks that much is the one visible sign of records at a lower rate
        than the pipeline was built for (100 Hz records given to a 500 Hz
        pipeline are a fifth as long), or of records so short that padding
        would make up most of the model input. Longer input is accepted:
        longer records are common and are cropped.
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
    >>> pipe.transform(X[..., :1000])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: X has 1000 samples per lead but this pipeline was fitted on 5000: ...
    """

    _parameter_constraints = {
        **Pipeline._parameter_constraints,
        "check_amplitude": ["boolean"],
        "check_length": ["boolean"],
    }

    def __init__(self, steps, *, check_amplitude=True, check_length=True, transform_input=None,
                 memory=None, verbose=False):
        super().__init__(steps, transform_input=transform_input, memory=memory, verbose=verbose)
        self.check_amplitude = check_amplitude
        self.check_length = check_length

    def _ecg_only(self, params) -> bool:
        if params or self.memory is not None or self.transform_input is not None:
            return False
        steps = [step for _, step in self.steps if _active(step)]
        return bool(steps) and all(_is_ecg_step(step) for step in steps)

    def _ecg_steps(self):
        return [step for _, step in self.steps if _active(step)]

    def _check_amplitude_of(self, X):
        if not self.check_amplitude:
            return
        arr = X if isinstance(X, np.ndarray) else None
        if arr is None:
            try:
                arr = np.asarray(X)
            except Exception:  # noqa: BLE001 (not array-like: the steps will say so)
                return
        if arr.ndim == 3 and arr.size and np.issubdtype(arr.dtype, np.number):
            _check_amplitude(arr, stacklevel=4)

    def fit(self, X, y=None, **params):
        """Fit every step: shape checks, and learning steps on their input.

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
        self._check_amplitude_of(X)
        if not self._ecg_only(params):
            return super().fit(X, y, **params)
        self._fit_ecg(X, transform=False)
        return self

    def _fit_ecg(self, X, transform: bool):
        self.steps = list(self.steps)
        self._validate_steps()
        steps = self._ecg_steps()
        for step in steps:
            step._validate_params()
        X = check_ecg(X)
        learners = [k for k, step in enumerate(steps) if step._learns_from_data()]
        last = learners[-1] if learners else -1
        shape = X.shape[1:]
        Y, pending = X, []
        for k, step in enumerate(steps):
            step._fit_shape(*shape)
            if step._learns_from_data():
                # Fitted on what it will see: the output of the steps before it.
                if pending:
                    Y = run_steps(pending, Y)
                pending = []
                step._fit_data(Y)
            pending.append(step)
            shape = step._output_shape(*shape)
            if not transform and k == last:
                for rest in steps[k + 1:]:
                    rest._fit_shape(*shape)
                    shape = rest._output_shape(*shape)
                return None
        return run_steps(pending, Y) if transform else None

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
        self._check_amplitude_of(X)
        if not self._ecg_only(params):
            return super().fit_transform(X, y, **params)
        return self._fit_ecg(X, transform=True)

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
        self._check_amplitude_of(X)
        if not self._ecg_only(params):
            return super().transform(X, **params)
        check_is_fitted(self)
        steps = self._ecg_steps()
        for step in steps:
            check_is_fitted(step)
        X = check_ecg(X, n_leads=steps[0].n_leads_in_)
        if self.check_length:
            _check_length(steps, X.shape[-1])
        return run_steps(steps, X)


def _input_rate(steps):
    """The input sampling rate of the first step that depends on it (None if none does)."""
    for step in steps:
        for name in ("sfreq_in", "sfreq"):
            rate = getattr(step, name, None)
            if isinstance(rate, numbers.Real):
                return float(rate)
        if not isinstance(step, ReorderLeads):
            return None  # a step before it may have changed the length
    return None


def _check_length(steps, n_times: int) -> None:
    rate = _input_rate(steps)
    n_fit = steps[0].n_times_in_
    if rate is None or n_times >= _MIN_LENGTH_RATIO * n_fit:
        return
    raise ValueError(
        f"X has {n_times} samples per lead but this pipeline was fitted on {n_fit}: at "
        f"the {rate:g} Hz it was built for, these records last {n_times / rate:.3g} s instead "
        f"of {n_fit / rate:.3g} s. If they were recorded at another rate (for example "
        f"{rate * n_times / n_fit:g} Hz, if they last as long), build the preprocessing for "
        f"that rate (make_deepecg_preprocessing({rate * n_times / n_fit:g})); if they really "
        "are this short, fit the pipeline on such records or pass check_length=False"
    )


def make_deepecg_preprocessing(
    sfreq_in,
    input_leads=None,
    *,
    bandpass=(0.5, 100.0),
    powerline=(50.0, 60.0),
    spectral_notch=True,
    crop="center",
    normalize="cohort",
    fill_missing=None,
    random_state=None,
    release=False,
    check_amplitude=True,
):
    """Build the pipeline that turns raw ECGs into the DeepECG model input.

    The output is ``(n_ecgs, 12, 2500)`` float32: the 12 standard leads in
    :data:`~ecgsk.leads.STANDARD_12` order, at 250 Hz, 10 seconds. The steps:

    1. ``leads``: :class:`ReorderLeads` to the standard order (deriving III,
       aVR, aVL, aVF from I and II when missing);
    2. ``bandpass``: :class:`BandpassFilter`, zero-phase (not in the release);
    3. ``notch``: :class:`NotchFilter` at the power-line frequencies and
       their harmonics (not in the release);
    4. ``resample``: :class:`Resample` to 250 Hz, anti-aliased (the release
       decimates by slicing, which folds everything above 125 Hz back into
       the signal);
    5. ``spectral_notch``: :class:`SpectralNotch` at 250 Hz, the adaptive
       removal of narrow interference peaks, per record (the release's
       version detects them on the batch);
    6. ``crop``: :class:`CropOrPad` to 2500 samples (the release requires
       exactly 2500 samples after decimation);
    7. ``normalize``: :class:`AmplitudeScaler` by default: one gain learned in
       ``fit`` on the training cohort, the release's formula (3.003154 over
       the cohort's mean DFT magnitude of lead I), applied unchanged to every
       record, so that records keep their relative voltages.

    Steps 2 to 5 run as one FFT round trip per chunk of ECGs in the returned
    :class:`ECGPipeline`. Disabled steps stay in the pipeline as
    ``"passthrough"``, so step names (``pipe.set_params(notch__freq=60)``)
    never change.

    With ``release=True`` the pipeline is the DeepECG release's own
    preprocessing instead (HeartWise-AI/DeepECG_Docker): ``leads``,
    ``decimate`` (:class:`Decimate`: every ``sfreq_in / 250``-th sample, no
    filter), ``normalize`` (:class:`AmplitudeScaler`) and
    ``spectral_cleaning`` (:class:`DeepECGSpectralCleaning`). The release
    computes its gain and its interference bands on each batch of files it
    processes, so one record's input depends on the others of its batch;
    here both are learned in ``fit`` and applied per record, and
    ``fit_transform(batch)`` reproduces the release on that batch. A released
    model (``ECGClassifier.from_deepecg``) sees the input it was trained on.

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
        Add the adaptive :class:`SpectralNotch` (at 250 Hz); with
        ``release=True``, the release's :class:`DeepECGSpectralCleaning`.
    crop : {"center", "start", "random"}, default="center"
        How :class:`CropOrPad` cuts records longer than 10 s (and places
        shorter ones).
    normalize : {"cohort", "record", "deepecg", "zscore", "robust"} or None, \
            default="cohort"
        Amplitude normalisation:

        * ``"cohort"``: :class:`AmplitudeScaler`, one gain learned in ``fit``
          (DeepECG's scale; voltage differences between records kept);
        * ``"record"``: ``AmplitudeScaler(per_record=True)``, the same formula
          on each record alone (every record brought to the same scale);
        * ``"deepecg"``: ``NormalizeLeads("deepecg")``, ecgsk's former
          default: per record, DC left out, to :data:`DEEPECG_TARGET_MAGNITUDE`;
        * ``"zscore"``, ``"robust"``: :class:`NormalizeLeads`, per lead;
        * ``None``: keep millivolts.

        With ``release=True``: ``"cohort"``, ``"record"`` or ``None``.
    fill_missing : {None, "zeros"}, default=None
        Passed to :class:`ReorderLeads`.
    random_state : int, RandomState or None, default=None
        Seeds ``crop="random"``.
    release : bool, default=False
        Build the release's preprocessing (see above). It needs ``sfreq_in``
        to be a multiple of 250 Hz and records of exactly 10 s, the only
        input the release decimates correctly; ``bandpass``, ``powerline``
        and ``crop`` do not exist there and must keep their defaults.
    check_amplitude : bool, default=True
        Warn about records whose amplitudes are implausible for millivolts
        (:func:`check_amplitude`).

    Returns
    -------
    ECGPipeline
        An unfitted pipeline. With ``normalize="cohort"`` (the default) it
        must be fitted on training records before it transforms others.

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
    >>> release = make_deepecg_preprocessing(500, release=True)
    >>> [name for name, _ in release.steps]
    ['leads', 'decimate', 'normalize', 'spectral_cleaning']
    >>> release.fit_transform(X).shape
    (2, 12, 2500)
    """
    sfreq_in = check_sfreq(sfreq_in, "sfreq_in")
    leads = ReorderLeads(input_leads, STANDARD_12, fill_missing=fill_missing)
    if not isinstance(release, (bool, np.bool_)):
        raise TypeError(f"release must be True or False, got {release!r}")
    if release:
        return _release_pipeline(sfreq_in, leads, bandpass, powerline, spectral_notch, crop,
                                 normalize, check_amplitude)
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
            ("leads", leads),
            ("bandpass", bandpass_step),
            ("notch", notch_step),
            ("resample", Resample(sfreq_in, DEEPECG_SFREQ)),
            ("spectral_notch", SpectralNotch(DEEPECG_SFREQ) if spectral_notch else "passthrough"),
            ("crop", CropOrPad(DEEPECG_N_TIMES, mode=crop, random_state=random_state)),
            ("normalize", _normalize_step(normalize, _NORMALIZE)),
        ],
        check_amplitude=check_amplitude,
    )


def _normalize_step(normalize, allowed):
    if normalize is None:
        return "passthrough"
    if not isinstance(normalize, str) or normalize not in allowed:
        raise ValueError(f"normalize must be one of {allowed} or None, got {normalize!r}")
    if normalize == "cohort":
        return AmplitudeScaler()
    if normalize == "record":
        return AmplitudeScaler(per_record=True)
    return NormalizeLeads(normalize)


_DEFAULTS = {"bandpass": (0.5, 100.0), "powerline": (50.0, 60.0), "crop": "center"}


def _release_pipeline(sfreq_in, leads, bandpass, powerline, spectral_notch, crop, normalize,
                      check_amplitude):
    given = {"bandpass": bandpass, "powerline": powerline, "crop": crop}
    for name, value in given.items():
        if value != _DEFAULTS[name]:
            raise ValueError(
                f"{name}={value!r} has no counterpart in the DeepECG release, which "
                f"release=True reproduces (it neither filters, notches nor crops): leave {name} "
                "at its default, or use release=False"
            )
    return ECGPipeline(
        [
            ("leads", leads),
            ("decimate", Decimate(sfreq_in, DEEPECG_SFREQ, n_times=DEEPECG_N_TIMES)),
            ("normalize", _normalize_step(normalize, _RELEASE_NORMALIZE)),
            ("spectral_cleaning",
             DeepECGSpectralCleaning(DEEPECG_SFREQ) if spectral_notch else "passthrough"),
        ],
        check_amplitude=check_amplitude,
    )
