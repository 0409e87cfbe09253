"""Anti-aliased, zero-phase resampling in the frequency domain."""

from __future__ import annotations

from fractions import Fraction

from .._validation import check_sfreq
from ._base import SpectralStep, check_positive_float, rfft_freqs
from ._gains import raised_cosine_taper

# Rates are turned into an exact ratio p/q; the FFT length must be a multiple
# of q, so q is kept small enough for fast FFT sizes.
_MAX_DENOMINATOR = 10_000


class Resample(SpectralStep):
    """Change the sampling rate, with an anti-aliasing low-pass and no phase shift.

    Each record is resampled through its spectrum: frequencies above the new
    Nyquist frequency are removed (so nothing above it can alias into the
    output), the band just below it is tapered by a raised cosine to avoid
    ringing, and the inverse FFT is taken at the new length. Any rational
    ratio works (500 -> 250, 360 -> 250, 257 -> 250 Hz), in one vectorised
    FFT round trip over the batch, fused with neighbouring frequency-domain
    steps inside :class:`ECGPipeline`.

    The output has ``ceil(n_times * sfreq_out / sfreq_in)`` samples: output
    sample ``k`` lies at time ``k / sfreq_out``, the times covered by the input.

    Parameters
    ----------
    sfreq_in : float
        Sampling rate of the input in Hz.
    sfreq_out : float
        Sampling rate of the output in Hz.
    transition : float, default=0.1
        Width of the raised-cosine transition band, as a fraction of the lower
        of the two Nyquist frequencies. With the default, a 500 -> 250 Hz
        resampling passes up to 112.5 Hz unchanged and removes 125 Hz and up.
        ``0`` gives a brick-wall cut (more ringing around sharp edges).

    Attributes
    ----------
    n_leads_in_ : int
        Number of leads seen in ``fit``.
    n_times_in_ : int
        Number of samples per lead seen in ``fit``.
    ratio_ : fractions.Fraction
        ``sfreq_out / sfreq_in`` as an exact fraction (approximated with a
        denominator of at most 10,000 for rates that are not simple ratios).

    Notes
    -----
    Equal rates make the step an identity (no filtering, no copy).

    Examples
    --------
    >>> import numpy as np
    >>> from ecgsk.preprocessing import Resample
    >>> X = np.random.default_rng(0).normal(size=(3, 12, 3600)).astype("float32")
    >>> Resample(360, 250).fit_transform(X).shape
    (3, 12, 2500)
    """

    def __init__(self, sfreq_in, sfreq_out, transition=0.1):
        self.sfreq_in = sfreq_in
        self.sfreq_out = sfreq_out
        self.transition = transition

    def _validate_params(self):
        check_sfreq(self.sfreq_in, "sfreq_in")
        check_sfreq(self.sfreq_out, "sfreq_out")
        transition = check_positive_float(self.transition, "transition", allow_zero=True)
        if transition >= 1:
            raise ValueError(f"transition must be in [0, 1), got {self.transition!r}")

    def _fit_shape(self, n_leads, n_times):
        super()._fit_shape(n_leads, n_times)
        self.ratio_ = self._ratio()
        return self

    def _ratio(self) -> Fraction:
        ratio = Fraction(float(self.sfreq_out)) / Fraction(float(self.sfreq_in))
        return ratio.limit_denominator(_MAX_DENOMINATOR)

    def _rates(self):
        return float(self.sfreq_in), float(self.sfreq_out)

    def _min_times(self):
        return 2

    def _output_shape(self, n_leads, n_times):
        ratio = self._ratio()
        return n_leads, -(-n_times * ratio.numerator // ratio.denominator)

    def _pad_seconds(self):
        # The taper's impulse response decays over a few periods of the
        # transition band.
        nyquist = min(float(self.sfreq_in), float(self.sfreq_out)) / 2
        width = max(float(self.transition), 0.02) * nyquist
        return 4.0 / width

    def _spectral_ops(self, n_fft, sfreq):
        ratio = self._ratio()
        if ratio == 1:
            return []
        nyquist = min(float(self.sfreq_in), float(self.sfreq_out)) / 2
        taper = raised_cosine_taper(
            rfft_freqs(n_fft, sfreq), nyquist, float(self.transition) * nyquist
        )
        n_new = n_fft * ratio.numerator // ratio.denominator
        return [("gain", taper), ("resize", n_new, sfreq * float(ratio))]
