"""The base class shared by every ECG transformer.

Each transformer works on ``(n_ecgs, n_leads, n_times)`` float32 arrays and
follows the scikit-learn rules: ``__init__`` only stores parameters, ``fit``
validates them and records the input shape, ``transform`` checks new input
against that shape. Transforms run through :mod:`._engine`, which processes
the batch in chunks of ECGs so that memory stays bounded, and which fuses
consecutive frequency-domain steps into one FFT round trip.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .._validation import check_ecg


class BaseECGStep(TransformerMixin, BaseEstimator):
    """Base class for the transformers of :mod:`ecgsk.preprocessing`.

    (Named ``ECGTransformer`` before; that name is a deprecated alias in
    :mod:`ecgsk.preprocessing`, and :class:`ecgsk.nn.ECGTransformer` is the
    network.)

    Subclasses implement :meth:`_validate_params` (parameter checks run in
    ``fit``), :meth:`_min_times` (shortest input the step accepts),
    :meth:`_output_shape` and either :meth:`_chunk_kernel` (a per-chunk
    function) or, for frequency-domain steps, :meth:`_spectral_ops`.

    Attributes set by ``fit``: ``n_leads_in_`` and ``n_times_in_``, the shape
    of the ECGs seen in ``fit``. ``transform`` requires the same number of
    leads; the number of samples may differ (a filter applies to any length
    it can handle), but must meet the step's minimum length.

    Most steps learn nothing from the data: ``fit`` only checks the input
    shape. A step that does learn (:class:`AmplitudeScaler`,
    :class:`DeepECGSpectralCleaning`) derives from :class:`LearnedStep`, whose
    ``_learns_from_data()`` is true; :class:`ECGPipeline` then fits it on the
    output of the steps before it.

    Examples
    --------
    >>> import numpy as np
    >>> from ecgsk.preprocessing import BaseECGStep, CropOrPad
    >>> isinstance(CropOrPad(10), BaseECGStep), CropOrPad(10)._learns_from_data()
    (True, False)
    """

    # Steps whose result on one ECG does not depend on the other ECGs of the
    # batch, so that the engine may cut the batch into chunks.
    _per_record = True
    # Frequency-domain steps provide ``_spectral_ops`` and are fused.
    _spectral = False

    # --- to implement in subclasses -------------------------------------------------
    def _validate_params(self) -> None:
        """Check the parameters; raise ValueError/TypeError naming the bad one."""

    def _min_times(self) -> int:
        """The smallest number of samples per lead this step can process."""
        return 1

    def _too_short_reason(self) -> str:
        """Why the step needs ``_min_times`` samples (for the error message)."""
        return ""

    def _output_shape(self, n_leads: int, n_times: int) -> tuple[int, int]:
        return n_leads, n_times

    def _learns_from_data(self) -> bool:
        """True when ``fit`` learns from the signals, not only from their shape."""
        return False

    def _chunk_kernel(self, n_ecgs: int, n_leads: int, n_times: int):
        """Return ``f(X_chunk, rows) -> Y_chunk`` for a whole transform call.

        ``rows`` is the slice of the batch the chunk covers (used by steps
        that draw per-ECG random numbers once per call).
        """
        raise NotImplementedError

    # --- sklearn API -----------------------------------------------------------------
    def fit(self, X, y=None):
        """Validate the parameters and record the input shape.

        Parameters
        ----------
        X : array-like of shape (n_ecgs, n_leads, n_times)
            ECG signals in millivolts.
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        self : object
            The fitted transformer.
        """
        self._validate_params()
        X = check_ecg(X)
        return self._fit_shape(X.shape[1], X.shape[2])

    def _fit_shape(self, n_leads: int, n_times: int):
        """Fit from the input shape alone (the steps hold no data-dependent state)."""
        self._validate_params()
        self._check_length(n_times)
        self._output_shape(n_leads, n_times)  # raises if the shape does not suit the step
        self.n_leads_in_ = int(n_leads)
        self.n_times_in_ = int(n_times)
        return self

    def transform(self, X):
        """Apply the transformation to a batch of ECGs.

        Parameters
        ----------
        X : array-like of shape (n_ecgs, n_leads, n_times)
            ECG signals in millivolts, with the number of leads seen in ``fit``.

        Returns
        -------
        ndarray of shape (n_ecgs, n_leads_out, n_times_out), float32
            The transformed signals.
        """
        from ._engine import run_steps

        check_is_fitted(self)
        X = check_ecg(X, n_leads=self.n_leads_in_)
        return run_steps([self], X)

    def fit_transform(self, X, y=None):
        """Fit to ``X`` and return the transformed signals (one input check).

        Parameters
        ----------
        X : array-like of shape (n_ecgs, n_leads, n_times)
            ECG signals in millivolts.
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        ndarray of shape (n_ecgs, n_leads_out, n_times_out), float32
            The transformed signals.
        """
        from ._engine import run_steps

        self._validate_params()
        X = check_ecg(X)
        self._fit_shape(X.shape[1], X.shape[2])
        return run_steps([self], X)

    def _check_length(self, n_times: int) -> None:
        need = self._min_times()
        if n_times < need:
            reason = self._too_short_reason()
            raise ValueError(
                f"X is too short for {type(self).__name__}: {n_times} samples per lead, "
                f"at least {need} are needed" + (f" ({reason})" if reason else "")
            )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags


class LearnedStep(BaseECGStep):
    """Base class of the steps whose ``fit`` learns from the signals.

    Subclasses implement :meth:`_fit_data` (called with the checked input,
    after the shape checks, when :meth:`_learns_from_data` is true) and may
    make :meth:`_learns_from_data` depend on their parameters: a step given
    what it would learn as a parameter (a fixed gain) learns nothing, and
    sets its fitted attributes from that parameter in ``_fit_shape``. ``fit`` and
    ``fit_transform`` are defined here, not inherited, so that code which
    checks ``type(step).fit is BaseECGStep.fit`` to tell shape-only steps
    apart treats these as steps to be fitted on training data.
    """

    def _learns_from_data(self) -> bool:
        return True

    def _fit_data(self, X: np.ndarray) -> None:
        raise NotImplementedError

    def fit(self, X, y=None):
        """Validate the parameters, record the input shape and learn from ``X``.

        Parameters
        ----------
        X : array-like of shape (n_ecgs, n_leads, n_times)
            ECG signals in millivolts (the training cohort).
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        self : object
            The fitted transformer.
        """
        self._validate_params()
        X = check_ecg(X)
        self._fit_shape(X.shape[1], X.shape[2])
        if self._learns_from_data():
            self._fit_data(X)
        return self

    def fit_transform(self, X, y=None):
        """Fit to ``X`` and return the transformed signals.

        Parameters
        ----------
        X : array-like of shape (n_ecgs, n_leads, n_times)
            ECG signals in millivolts.
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        ndarray of shape (n_ecgs, n_leads_out, n_times_out), float32
            The transformed signals.
        """
        from ._engine import run_steps

        self.fit(X)
        return run_steps([self], check_ecg(X))


class SpectralStep(BaseECGStep):
    """Base class of the zero-phase frequency-domain steps.

    A spectral step is described by operations on the real FFT of the
    (padded) signal: see :meth:`_spectral_ops`. The engine pads each record,
    computes one ``rfft``, applies the operations of all consecutive spectral
    steps, and computes one ``irfft``. Subclasses define ``sfreq`` (or
    override :meth:`_rates`).
    """

    _spectral = True

    def _rates(self) -> tuple[float, float]:
        """Sampling rate expected at the input and produced at the output (Hz)."""
        rate = float(self.sfreq)
        return rate, rate

    def _ratio(self) -> Fraction:
        """Output rate over input rate, as an exact fraction (1 for filters)."""
        return Fraction(1)

    def _dc_gain(self) -> float:
        """Gain at 0 Hz: 0 for high-pass steps, 1 otherwise.

        The engine pads records with an even mirror before a high-pass and
        with an odd mirror otherwise (see ``_engine._pad_reflect``).
        """
        return 1.0

    def _pad_seconds(self) -> float:
        """How much signal, in seconds, to reflect at each edge before the FFT."""
        return 0.0

    def _spectral_ops(self, n_fft: int, sfreq: float) -> list:
        """Operations on the rfft of length ``n_fft`` at ``sfreq``.

        Returns a list of ``("gain", g)`` (multiply by the real array ``g`` of
        length ``n_fft // 2 + 1``), ``("resize", n_fft_new, sfreq_new)``
        (truncate or zero-extend the spectrum, which resamples) or
        ``("func", f)`` with ``f(Z, n_fft, sfreq) -> Z`` for a non-linear,
        per-record operation.
        """
        raise NotImplementedError


def rfft_freqs(n_fft: int, sfreq: float) -> np.ndarray:
    """Frequencies (Hz, float64) of the ``n_fft // 2 + 1`` bins of an rfft."""
    return np.arange(n_fft // 2 + 1, dtype=np.float64) * (sfreq / n_fft)


def check_positive_int(value, name: str, minimum: int = 1) -> int:
    """Return ``value`` as int if it is an integer >= ``minimum``, else raise."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}: {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return int(value)


def check_positive_float(value, name: str, allow_zero: bool = False) -> float:
    """Return ``value`` as float if it is a finite number > 0 (or >= 0), else raise."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}: {value!r}")
    value = float(value)
    if not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {bound}, got {value!r}")
    return value
