"""One amplitude gain for a whole cohort, learned in ``fit`` (DeepECG's spectral scaling)."""

from __future__ import annotations

import numpy as np
import scipy.fft

from ._base import LearnedStep, check_positive_float, check_positive_int

DEEPECG_POWER_RATIO = 3.003154
"""The release's target for the mean DFT magnitude of lead I (``PTBXL_POWER_RATIO``).

DeepECG (``utils/constants.py`` and ``utils/ecg_signal_processor.py`` of
HeartWise-AI/DeepECG_Docker) multiplies every ECG of a batch by
``3.003154 / m``, with ``m`` the mean over the DFT bins (DC included) of the
mean over the batch of ``|DFT(lead I)|``, computed on 2500-sample records at
250 Hz. The models were trained on input scaled that way.
"""


def mean_dft_magnitude(x: np.ndarray) -> np.ndarray:
    """Mean of ``|DFT(x)|`` over all bins, DC included (last axis), as DeepECG computes it.

    Equal to ``np.abs(np.fft.fft(x)).mean(-1)``, from the real FFT.

    Examples
    --------
    >>> import numpy as np
    >>> from ecgsk.preprocessing import mean_dft_magnitude
    >>> t = np.arange(1000) / 1000
    >>> x = 0.5 + 2.0 * np.sin(2 * np.pi * 5 * t)   # DC 0.5 + a 2 mV sine
    >>> round(float(mean_dft_magnitude(x)), 6)
    2.5
    """
    n = x.shape[-1]
    mag = np.abs(scipy.fft.rfft(np.asarray(x, dtype=np.float64), axis=-1))
    total = 2 * mag[..., 1:].sum(axis=-1) + mag[..., 0]
    if n % 2 == 0:
        total -= mag[..., -1]  # the Nyquist bin appears once in the full DFT
    return total / n


class AmplitudeScaler(LearnedStep):
    """Scale every record by one gain learned on the training cohort (DeepECG's scaling).

    ``fit`` computes the mean, over the training records, of the mean DFT
    magnitude of the reference lead (lead I), and sets
    ``gain_ = target / that``; ``transform`` multiplies every lead of every
    record by ``gain_``, unchanged. So, as :class:`sklearn.preprocessing.StandardScaler`
    learns its scale, the amplitude convention is learned once: the records
    keep their relative voltages (a low-voltage ECG stays low, a hypertrophy
    stays large, which the voltage criteria rely on), and transforming a
    record never depends on the other records it is transformed with.

    With the default ``target``, ``fit_transform`` on a batch gives exactly
    the scaling of the DeepECG release on that batch: the release computes
    the same gain on every batch of (up to 10,000) files it processes.

    Parameters
    ----------
    target : float, default=3.003154
        Mean DFT magnitude (mV) the cohort's average record is scaled to;
        the default is the release's (:data:`DEEPECG_POWER_RATIO`).
    reference_lead : int, default=0
        Index of the lead whose spectrum sets the gain (0 = lead I in the
        standard order).
    per_record : bool, default=False
        Compute the gain of each record from that record alone (learns
        nothing in ``fit``). This normalises the voltage differences between
        records away; it is the per-record equivalent of the release.
    gain : float or None, default=None
        A fixed gain instead of one learned in ``fit`` (for example the
        ``gain_`` of a model's training cohort, to apply it to new records).
    flat_tol : float, default=1e-6
        A reference lead whose mean DFT magnitude is at most this is flat: a
        flat training cohort is an error; with ``per_record=True`` a flat
        record is left unscaled (gain 1), as the release skips flat batches.

    Attributes
    ----------
    gain_ : float
        The gain applied by ``transform`` (not set with ``per_record=True``).
    n_leads_in_ : int
        Number of leads seen in ``fit``.
    n_times_in_ : int
        Number of samples per lead seen in ``fit``.

    See Also
    --------
    NormalizeLeads : per-record normalisations (z-score, robust, spectral).

    Examples
    --------
    >>> import numpy as np
    >>> from ecgsk.preprocessing import AmplitudeScaler
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(4, 12, 2500)).astype("float32")
    >>> X[1] = 3 * X[0]                               # a record with 3x the voltage
    >>> scaler = AmplitudeScaler().fit(X)
    >>> Y = scaler.transform(X)
    >>> bool(np.allclose(Y, X * scaler.gain_))        # one gain for everyone
    True
    >>> round(float(np.abs(Y[1]).max() / np.abs(Y[0]).max()), 4)    # ratio kept
    3.0
    >>> bool(np.allclose(scaler.transform(X[1:2]), Y[1:2]))          # batch-independent
    True
    """

    def __init__(self, target=DEEPECG_POWER_RATIO, reference_lead=0, per_record=False,
                 gain=None, flat_tol=1e-6):
        self.target = target
        self.reference_lead = reference_lead
        self.per_record = per_record
        self.gain = gain
        self.flat_tol = flat_tol

    def _validate_params(self):
        check_positive_float(self.target, "target")
        check_positive_int(self.reference_lead, "reference_lead", minimum=0)
        if not isinstance(self.per_record, (bool, np.bool_)):
            raise TypeError(f"per_record must be True or False, got {self.per_record!r}")
        if self.gain is not None:
            check_positive_float(self.gain, "gain")
            if self.per_record:
                raise ValueError("gain and per_record=True exclude each other: a fixed gain is "
                                 "one gain for every record")
        check_positive_float(self.flat_tol, "flat_tol", allow_zero=True)

    def _learns_from_data(self) -> bool:
        return self.gain is None and not self.per_record

    def _output_shape(self, n_leads, n_times):
        if self.reference_lead >= n_leads:
            raise ValueError(
                f"reference_lead={self.reference_lead} but X has only {n_leads} leads"
            )
        return n_leads, n_times

    def _fit_shape(self, n_leads, n_times):
        super()._fit_shape(n_leads, n_times)
        if self.gain is not None:
            self.gain_ = float(self.gain)
        elif self.per_record and hasattr(self, "gain_"):
            del self.gain_
        return self

    def _fit_data(self, X):
        level = float(np.mean(mean_dft_magnitude(X[:, self.reference_lead])))
        if level <= float(self.flat_tol):
            raise ValueError(
                f"cannot learn a gain: lead {self.reference_lead} is flat in every training "
                f"record (mean DFT magnitude {level:.3g} mV); fit on records with signal, or "
                "pass gain="
            )
        self.gain_ = float(self.target) / level

    def _chunk_kernel(self, n_ecgs, n_leads, n_times):
        if self.per_record:
            target = float(self.target)
            ref = int(self.reference_lead)
            tol = float(self.flat_tol)

            def scale_each(Xc, rows):
                level = mean_dft_magnitude(Xc[:, ref])
                flat = level <= tol
                factor = np.where(flat, 1.0, target / np.where(flat, 1.0, level))
                return Xc * factor.astype(np.float32)[:, None, None]

            return scale_each
        gain = np.float32(self.gain_)
        return lambda Xc, rows: Xc * gain
