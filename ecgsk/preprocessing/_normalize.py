"""Amplitude normalisation computed on each record alone."""

from __future__ import annotations

import numpy as np
import scipy.fft

from ._base import BaseECGStep, check_positive_float, check_positive_int

_METHODS = ("zscore", "robust", "deepecg")

DEEPECG_TARGET_MAGNITUDE = 2.23
"""Default ``target`` of ``NormalizeLeads(method="deepecg")`` (mV).

The median, over the first 200 PTB-XL records (``../shared/data/ptbxl_subset``),
of the mean DFT magnitude of lead I (DC left out) after the
:func:`make_deepecg_preprocessing` chain without normalisation (0.5-100 Hz
band-pass, notches, 250 Hz, 2500 samples). Scaling to it keeps a typical
PTB-XL record at its original amplitude, in millivolts.
"""


class NormalizeLeads(BaseECGStep):
    """Normalise amplitudes record by record (never with statistics of the batch).

    Every method here brings each record to a common scale, so voltage
    differences between records are normalised away. The default amplitude
    normalisation of :func:`make_deepecg_preprocessing` is
    :class:`AmplitudeScaler` instead: one gain learned on the training
    cohort, which keeps them.

    Parameters
    ----------
    method : {"zscore", "robust", "deepecg"}, default="zscore"
        * ``"zscore"``: subtract each lead's mean and divide by its standard
          deviation.
        * ``"robust"``: subtract each lead's median and divide by its
          inter-quartile range / 1.349 (the standard deviation for Gaussian
          data), so that a few large artefacts do not set the scale. A lead
          whose IQR is zero (mostly flat) falls back to its standard deviation.
        * ``"deepecg"``: DeepECG-style amplitude harmonisation. DeepECG scales
          every signal by one factor so that the mean magnitude of the DFT of
          lead I matches that of its reference data set (PTB-XL), keeping the
          relative amplitudes of the leads (which voltage criteria, e.g. for
          ventricular hypertrophy, depend on) and adding no offset. Here the
          factor is ``target / S(x_ref)`` with ``S`` the mean DFT magnitude of
          the record's own reference lead (the DC bin left out, so an offset
          does not change it), one factor per record for all its leads.
    reference_lead : int, default=0
        Index of the lead whose spectrum sets the factor in ``"deepecg"``
        (0 = lead I in the standard order).
    target : float or None, default=None
        Mean DFT magnitude the reference lead is scaled to in ``"deepecg"``;
        ``None`` uses :data:`DEEPECG_TARGET_MAGNITUDE` (the median over PTB-XL
        records, so typical records keep their amplitude in mV).
    flat_tol : float, default=1e-6
        A lead (or, for ``"deepecg"``, the reference lead) whose spread is at
        most this (mV) counts as flat.

    Attributes
    ----------
    n_leads_in_ : int
        Number of leads seen in ``fit``.
    n_times_in_ : int
        Number of samples per lead seen in ``fit``.

    Notes
    -----
    **Per record, not per batch.** DeepECG's own code computes the spectral
    scaling factor from the mean spectrum of all ECGs processed together, so
    the model input of one ECG depends on which other files are in the batch
    (and a single ECG is scaled differently from the same ECG in a cohort).
    Every statistic here comes from the record being transformed, so the
    output of a record is the same whatever it is processed with, which is
    also what makes the step safe inside cross-validation.

    **Flat leads.** ``"zscore"`` and ``"robust"`` map a flat lead (for example
    a disconnected electrode recorded as a constant) to zeros instead of
    dividing by zero. ``"deepecg"`` leaves a record whose reference lead is
    flat unscaled (factor 1), as DeepECG skips near-flat ECGs. No NaN is ever
    produced.

    Examples
    --------
    >>> import numpy as np
    >>> from ecgsk.preprocessing import NormalizeLeads
    >>> X = np.random.default_rng(0).normal(2.0, 3.0, size=(4, 12, 1000)).astype("float32")
    >>> X[0, 5] = 0.7  # a flat lead
    >>> Y = NormalizeLeads().fit_transform(X)
    >>> round(float(Y[1, 0].mean()), 4), round(float(Y[1, 0].std()), 4)
    (0.0, 1.0)
    >>> bool(np.all(Y[0, 5] == 0))
    True
    """

    def __init__(self, method="zscore", reference_lead=0, target=None, flat_tol=1e-6):
        self.method = method
        self.reference_lead = reference_lead
        self.target = target
        self.flat_tol = flat_tol

    def _validate_params(self):
        if self.method not in _METHODS:
            raise ValueError(f"method must be one of {_METHODS}, got {self.method!r}")
        check_positive_int(self.reference_lead, "reference_lead", minimum=0)
        if self.target is not None:
            check_positive_float(self.target, "target")
        check_positive_float(self.flat_tol, "flat_tol", allow_zero=True)

    def _output_shape(self, n_leads, n_times):
        if self.method == "deepecg" and self.reference_lead >= n_leads:
            raise ValueError(
                f"reference_lead={self.reference_lead} but X has only {n_leads} leads"
            )
        return n_leads, n_times

    def _chunk_kernel(self, n_ecgs, n_leads, n_times):
        tol = np.float32(self.flat_tol)
        if self.method == "zscore":
            return lambda Xc, rows: _zscore(Xc, tol)
        if self.method == "robust":
            return lambda Xc, rows: _robust(Xc, tol)
        target = DEEPECG_TARGET_MAGNITUDE if self.target is None else float(self.target)
        ref = int(self.reference_lead)
        return lambda Xc, rows: _deepecg(Xc, ref, np.float32(target), tol)


def _scale(Xc, center, spread, tol):
    flat = spread <= tol
    inv = np.where(flat, 0, 1 / np.where(flat, 1, spread)).astype(np.float32)
    Y = Xc - center
    Y *= inv
    return Y


def _zscore(Xc, tol):
    mean = Xc.mean(axis=-1, keepdims=True)
    std = Xc.std(axis=-1, keepdims=True)
    return _scale(Xc, mean, std, tol)


def _robust(Xc, tol):
    q1, median, q3 = np.percentile(Xc, [25, 50, 75], axis=-1, keepdims=True)
    spread = ((q3 - q1) / 1.349).astype(np.float32)
    low = spread <= tol
    if low.any():
        spread = np.where(low, Xc.std(axis=-1, keepdims=True), spread)
    return _scale(Xc, median.astype(np.float32), spread, tol)


def spectral_magnitude(x: np.ndarray) -> np.ndarray:
    """Mean DFT magnitude of ``x`` over all ``n`` bins except DC (last axis).

    Equal to ``np.abs(np.fft.fft(x))[..., 1:].sum(-1) / n``: the full DFT's
    mean magnitude with the constant offset left out.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(1000) / 1000
    >>> round(float(spectral_magnitude(2.0 * np.sin(2 * np.pi * 5 * t))), 6)
    2.0
    """
    n = x.shape[-1]
    mag = np.abs(scipy.fft.rfft(x, axis=-1))
    total = 2 * mag[..., 1:].sum(axis=-1, dtype=np.float64)
    if n % 2 == 0:
        total -= mag[..., -1]  # the Nyquist bin appears once in the full DFT
    return total / n


def _deepecg(Xc, ref, target, tol):
    level = spectral_magnitude(Xc[:, ref])  # (c,)
    flat = level <= tol
    factor = np.where(flat, 1.0, target / np.where(flat, 1.0, level)).astype(np.float32)
    return Xc * factor[:, None, None]
