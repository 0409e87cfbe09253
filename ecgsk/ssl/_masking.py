"""Masks for self-supervised pretraining: time spans (wav2vec 2.0) and whole leads (RLM)."""

from __future__ import annotations

import torch


def compute_span_mask(
    batch_size: int,
    n_steps: int,
    mask_prob: float = 0.65,
    span: int = 10,
    min_spans: int = 2,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Draw wav2vec 2.0 style time masks: random spans of ``span`` steps.

    Each sequence gets ``round(mask_prob * n_steps / span)`` span starts (at
    least ``min_spans``), drawn without replacement; spans may overlap, so
    about ``mask_prob`` of the steps end up masked when spans rarely overlap
    and fewer when they do, as in wav2vec 2.0.

    Parameters
    ----------
    batch_size, n_steps : int
        Shape of the mask.
    mask_prob : float, default=0.65
        Fraction of steps chosen as span starts times ``span``.
    span : int, default=10
        Length of each masked span, in steps.
    min_spans : int, default=2
        Minimum number of spans per sequence.
    generator : torch.Generator, optional
        For reproducible masks.
    device : torch device, optional

    Returns
    -------
    mask : BoolTensor of shape (batch_size, n_steps)
        True where the step is masked. Every row has the same number of
        masked steps is *not* guaranteed; every row has at least one.

    Examples
    --------
    >>> import torch
    >>> m = compute_span_mask(4, 156, generator=torch.Generator().manual_seed(0))
    >>> m.shape, bool(m.any(dim=1).all())
    (torch.Size([4, 156]), True)
    """
    if not 0.0 < mask_prob < 1.0:
        raise ValueError(f"mask_prob must be in (0, 1), got {mask_prob}")
    if span < 1:
        raise ValueError(f"span must be >= 1, got {span}")
    if n_steps < 2:
        raise ValueError(f"need at least 2 time steps to mask, got {n_steps}")
    span = min(span, n_steps - 1)
    n_starts_possible = n_steps - span + 1
    n_spans = max(min_spans, round(mask_prob * n_steps / span))
    n_spans = min(n_spans, n_starts_possible)
    # Independent random permutations per row via argsort of uniform noise.
    noise = torch.rand(batch_size, n_starts_possible, generator=generator)
    starts = noise.argsort(dim=1)[:, :n_spans]  # (B, n_spans)
    offsets = torch.arange(span)
    positions = (starts.unsqueeze(-1) + offsets).reshape(batch_size, -1)
    mask = torch.zeros(batch_size, n_steps, dtype=torch.bool)
    mask.scatter_(1, positions, True)
    return mask.to(device) if device is not None else mask


def random_lead_mask(
    x: torch.Tensor, prob: float = 0.5, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Zero each lead of each ECG independently with probability ``prob`` (RLM).

    At least one lead per ECG is always kept, so no input becomes all zeros.

    Parameters
    ----------
    x : Tensor of shape (B, n_leads, n_times)
    prob : float, default=0.5
        Probability of masking a lead, as in DeepECG-SSL's random lead masking.
    generator : torch.Generator, optional

    Returns
    -------
    masked : Tensor, same shape as ``x``
    kept : BoolTensor of shape (B, n_leads)
        True for the leads that were kept.

    Examples
    --------
    >>> import torch
    >>> x = torch.ones(3, 12, 10)
    >>> masked, kept = random_lead_mask(x, 0.5, torch.Generator().manual_seed(0))
    >>> bool((masked.sum(dim=2) > 0).eq(kept).all()), bool(kept.any(dim=1).all())
    (True, True)
    """
    if x.ndim != 3:
        raise ValueError(f"expected (B, n_leads, n_times), got shape {tuple(x.shape)}")
    if not 0.0 <= prob < 1.0:
        raise ValueError(f"prob must be in [0, 1), got {prob}")
    batch, n_leads, _ = x.shape
    kept = torch.rand(batch, n_leads, generator=generator) >= prob
    # Keep one random lead where every lead was dropped.
    all_dropped = ~kept.any(dim=1)
    if all_dropped.any():
        rescue = torch.randint(n_leads, (int(all_dropped.sum()),), generator=generator)
        kept[all_dropped.nonzero(as_tuple=True)[0], rescue] = True
    kept = kept.to(x.device)
    return x * kept.unsqueeze(-1).to(x.dtype), kept
