"""Train-time ECG augmentation as a small torch module acting on whole batches.

Every transform is drawn per ECG (each ECG of the batch gets its own coin flip and its own
random magnitude) and implemented with batched tensor operations, so augmentation costs a few
element-wise passes over the batch. The module is the identity in evaluation mode; the
estimators switch it to evaluation mode for every prediction.
"""

from __future__ import annotations

import copy
import math

import torch
from torch import nn

from ..ssl._masking import random_lead_mask


class ECGAugment(nn.Module):
    """Random, per-ECG augmentation of a batch ``(B, n_leads, n_times)``.

    Amplitudes are relative to each ECG's own standard deviation, so the same settings work on
    millivolt signals and on z-scored ones.

    Parameters
    ----------
    p_lead_mask : float, default=0.2
        Probability that an ECG gets some of its leads zeroed.
    lead_mask_rate : float, default=0.25
        For such an ECG, the probability that each lead is zeroed (at least one lead is kept).
    p_gaussian_noise : float, default=0.5
        Probability of additive white noise.
    noise_std : float, default=0.05
        Noise standard deviation, as a fraction of the ECG's standard deviation.
    p_powerline : float, default=0.2
        Probability of a 50 or 60 Hz sinusoid (only when ``sfreq`` is given, since the frequency
        in samples depends on it).
    powerline_amplitude : float, default=0.05
        Amplitude of that sinusoid, as a fraction of the ECG's standard deviation.
    p_baseline_wander : float, default=0.3
        Probability of a slow sinusoidal baseline drift (per lead amplitude).
    wander_amplitude : float, default=0.2
        Maximum drift amplitude, as a fraction of the ECG's standard deviation.
    p_amplitude_scale : float, default=0.5
        Probability of multiplying the whole ECG by a random gain.
    scale_range : float, default=0.2
        The gain is drawn uniformly in ``[1 - scale_range, 1 + scale_range]``.
    p_time_shift : float, default=0.3
        Probability of a circular shift in time.
    max_shift : float, default=0.1
        Largest shift, as a fraction of the record length.
    sfreq : float, optional
        Sampling rate in Hz of the network input. Without it, powerline noise is skipped and
        baseline wander is drawn as 0.5 to 3 cycles per record.

    Examples
    --------
    >>> import torch
    >>> aug = ECGAugment(p_gaussian_noise=1.0)
    >>> x = torch.randn(4, 12, 500)
    >>> bool((aug(x) != x).any())
    True
    >>> torch.equal(aug.eval()(x), x)
    True
    """

    def __init__(
        self,
        p_lead_mask=0.2,
        lead_mask_rate=0.25,
        p_gaussian_noise=0.5,
        noise_std=0.05,
        p_powerline=0.2,
        powerline_amplitude=0.05,
        p_baseline_wander=0.3,
        wander_amplitude=0.2,
        p_amplitude_scale=0.5,
        scale_range=0.2,
        p_time_shift=0.3,
        max_shift=0.1,
        sfreq=None,
    ):
        super().__init__()
        probabilities = {
            "p_lead_mask": p_lead_mask,
            "lead_mask_rate": lead_mask_rate,
            "p_gaussian_noise": p_gaussian_noise,
            "p_powerline": p_powerline,
            "p_baseline_wander": p_baseline_wander,
            "p_amplitude_scale": p_amplitude_scale,
            "p_time_shift": p_time_shift,
            "max_shift": max_shift,
        }
        for name, value in probabilities.items():
            if not 0.0 <= float(value) <= 1.0:
                raise ValueError(f"augment: {name} must lie in [0, 1], got {value!r}")
        for name, value in {
            "noise_std": noise_std,
            "powerline_amplitude": powerline_amplitude,
            "wander_amplitude": wander_amplitude,
            "scale_range": scale_range,
        }.items():
            if not float(value) >= 0.0:
                raise ValueError(f"augment: {name} must be non-negative, got {value!r}")
        if float(scale_range) >= 1.0:
            raise ValueError(f"augment: scale_range must be below 1, got {scale_range!r}")
        if sfreq is not None and not float(sfreq) > 0:
            raise ValueError(f"augment: sfreq must be a positive rate in Hz, got {sfreq!r}")
        self.p_lead_mask = float(p_lead_mask)
        self.lead_mask_rate = float(lead_mask_rate)
        self.p_gaussian_noise = float(p_gaussian_noise)
        self.noise_std = float(noise_std)
        self.p_powerline = float(p_powerline)
        self.powerline_amplitude = float(powerline_amplitude)
        self.p_baseline_wander = float(p_baseline_wander)
        self.wander_amplitude = float(wander_amplitude)
        self.p_amplitude_scale = float(p_amplitude_scale)
        self.scale_range = float(scale_range)
        self.p_time_shift = float(p_time_shift)
        self.max_shift = float(max_shift)
        self.sfreq = None if sfreq is None else float(sfreq)

    def extra_repr(self) -> str:
        return f"sfreq={self.sfreq}"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return x
        batch, n_leads, n_times = x.shape
        dev, dtype = x.device, x.dtype
        std = x.detach().float().std(dim=(1, 2), keepdim=True).clamp(min=1e-6).to(dtype)
        t = torch.arange(n_times, device=dev, dtype=torch.float32)

        def chosen(p):
            return (torch.rand(batch, 1, 1, device=dev) < p).to(dtype)

        if self.p_amplitude_scale > 0:
            gain = 1.0 + (2.0 * torch.rand(batch, 1, 1, device=dev) - 1.0) * self.scale_range
            sel = chosen(self.p_amplitude_scale)
            x = x * (sel * gain.to(dtype) + (1.0 - sel))
        if self.p_baseline_wander > 0:
            if self.sfreq is None:
                cycles = 0.5 + 2.5 * torch.rand(batch, 1, 1, device=dev)
                freq = cycles / n_times
            else:
                freq = (0.05 + 0.45 * torch.rand(batch, 1, 1, device=dev)) / self.sfreq
            phase = 2 * math.pi * torch.rand(batch, 1, 1, device=dev)
            amp = self.wander_amplitude * torch.rand(batch, n_leads, 1, device=dev)
            wander = amp * torch.sin(2 * math.pi * freq * t + phase)
            x = x + chosen(self.p_baseline_wander) * std * wander.to(dtype)
        if self.p_powerline > 0 and self.sfreq is not None:
            mains = torch.where(torch.rand(batch, 1, 1, device=dev) < 0.5, 50.0, 60.0)
            phase = 2 * math.pi * torch.rand(batch, 1, 1, device=dev)
            hum = self.powerline_amplitude * torch.sin(2 * math.pi * mains / self.sfreq * t + phase)
            x = x + chosen(self.p_powerline) * std * hum.to(dtype)
        if self.p_gaussian_noise > 0:
            noise = torch.randn(batch, n_leads, n_times, device=dev, dtype=dtype)
            x = x + chosen(self.p_gaussian_noise) * std * self.noise_std * noise
        if self.p_time_shift > 0 and self.max_shift > 0:
            max_k = max(1, int(self.max_shift * n_times))
            shift = torch.randint(-max_k, max_k + 1, (batch, 1), device=dev)
            shift = shift * (torch.rand(batch, 1, device=dev) < self.p_time_shift)
            idx = (torch.arange(n_times, device=dev) - shift) % n_times
            x = x.gather(2, idx.unsqueeze(1).expand(batch, n_leads, n_times))
        if self.p_lead_mask > 0 and n_leads > 1 and self.lead_mask_rate > 0:
            # the random lead masking of pretraining (at least one lead kept), for the chosen ECGs
            masked, _ = random_lead_mask(x, min(self.lead_mask_rate, 1.0 - 1e-6), keep_one=True)
            x = torch.where(torch.rand(batch, 1, 1, device=dev) < self.p_lead_mask, masked, x)
        return x


class Augmenter:
    """The train-time augmentation of an estimator as a plain callable (not a net component).

    Kept out of the net's torch components so that nothing (a device move, Accelerate's
    ``prepare``) handles it: it has no parameters and follows the input's device.

    Parameters
    ----------
    module : ECGAugment or None
        None: the identity.
    """

    def __init__(self, module: ECGAugment | None):
        self.module = module

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.module is None:
            return x
        return self.module.train()(x)


def build_augment(augment) -> ECGAugment | None:
    """Turn the estimators' ``augment`` parameter into an :class:`ECGAugment` (or None).

    Parameters
    ----------
    augment : None, bool, dict or ECGAugment
        ``None``/``False``: no augmentation; ``True``: the defaults; a dict: keyword arguments
        of :class:`ECGAugment`; an instance: a copy of it is used.

    Returns
    -------
    ECGAugment or None

    Examples
    --------
    >>> build_augment({"p_time_shift": 0.0}).p_time_shift
    0.0
    >>> build_augment(None) is None
    True
    """
    if augment is None or augment is False:
        return None
    if augment is True:
        return ECGAugment()
    if isinstance(augment, ECGAugment):
        return copy.deepcopy(augment)
    if isinstance(augment, dict):
        try:
            return ECGAugment(**augment)
        except TypeError as exc:
            raise ValueError(f"augment: unknown option in {sorted(augment)}: {exc}") from exc
    raise TypeError(
        f"augment must be None, True/False, a dict of ECGAugment options or an ECGAugment, "
        f"got {type(augment).__name__}"
    )
