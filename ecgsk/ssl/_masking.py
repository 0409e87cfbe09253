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
    """Draw wav2vec 2.0 time masks as fairseq-signals does (``compute_mask_indices``).

    The computation of the DeepECG-SSL release (``mask_selection="static"``, overlapping
    spans allowed, no padding):

    1. one span count for the whole batch, ``n = int(mask_prob * n_steps / span + u)`` with
       ``u ~ U[0, 1)`` (probabilistic rounding), at least ``min_spans``;
    2. in each row, ``n`` distinct span starts drawn uniformly among the first
       ``n_steps - span`` steps (``n + 1`` steps when that is not more than ``n``), each
       masking ``span`` consecutive steps; spans may overlap, so rows differ in their
       number of masked steps;
    3. every row is trimmed to the smallest count in the batch by unmasking a random subset
       of its masked steps, so that all rows mask the same number of steps.

    With the release's values (0.65, span 10) a 5 s segment at 250 Hz (78 steps) gets 5 spans
    (6 with probability 0.07); after the trim about 33 % of the steps are masked in a batch
    of 64 segments and 27 % in one of 684 (the release's 342 ECGs per GPU); the trim makes
    the fraction fall with the batch size. The last step is never masked (starts stop
    ``span`` steps before the end, as in fairseq).

    Parameters
    ----------
    batch_size, n_steps : int
        Shape of the mask.
    mask_prob : float, default=0.65
        Span starts per step, times ``span`` (``mask_prob`` in fairseq).
    span : int, default=10
        Length of each masked span, in steps (``mask_length``).
    min_spans : int, default=2
        Minimum number of spans per row (fairseq's ``min_masks=2``).
    generator : torch.Generator, optional
        For reproducible masks.
    device : torch device, optional

    Returns
    -------
    mask : BoolTensor of shape (batch_size, n_steps)
        True where the step is masked; every row has the same number of masked steps.

    Examples
    --------
    >>> import torch
    >>> m = compute_span_mask(4, 156, generator=torch.Generator().manual_seed(0))
    >>> m.shape, m.sum(dim=1).unique().numel()
    (torch.Size([4, 156]), 1)
    """
    if not 0.0 < mask_prob < 1.0:
        raise ValueError(f"mask_prob must be in (0, 1), got {mask_prob}")
    if span < 1:
        raise ValueError(f"span must be >= 1, got {span}")
    if n_steps < 2:
        raise ValueError(f"need at least 2 time steps to mask, got {n_steps}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    u = float(torch.rand((), generator=generator))
    n_spans = max(int(min_spans), int(mask_prob * n_steps / float(span) + u))
    n_candidates = n_steps - span
    if n_candidates <= n_spans:  # fairseq: min_len = sz - num_mask - 1
        n_candidates = n_spans + 1
    # n_spans distinct starts per row: the first n_spans of a random permutation
    noise = torch.rand(batch_size, n_candidates, generator=generator)
    starts = noise.argsort(dim=1)[:, :n_spans]
    positions = (starts.unsqueeze(-1) + torch.arange(span)).reshape(batch_size, -1)
    wide = torch.zeros(batch_size, n_candidates + span, dtype=torch.bool)
    wide.scatter_(1, positions, True)
    mask = wide[:, :n_steps].contiguous()
    counts = mask.sum(dim=1)
    smallest = int(counts.min())
    if bool((counts > smallest).any()):
        # keep a random subset of `smallest` masked steps in every row
        keys = torch.where(mask, torch.rand(mask.shape, generator=generator), torch.tensor(2.0))
        keep = keys.argsort(dim=1)[:, :smallest]
        mask = torch.zeros_like(mask).scatter_(1, keep, True)
    return mask.to(device) if device is not None else mask


def random_lead_mask(
    x: torch.Tensor,
    prob: float = 0.5,
    generator: torch.Generator | None = None,
    *,
    keep_one: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Zero each lead of each ECG independently with probability ``prob`` (RLM).

    As in the release (fairseq-signals ``RandomLeadsMask``, ``mask_leads_selection="random"``),
    every lead survives when its uniform draw is ``>= prob``; all leads of an ECG can be
    zeroed (probability ``prob ** n_leads``, 1/4096 for 12 leads at 0.5).

    Parameters
    ----------
    x : Tensor of shape (B, n_leads, n_times)
    prob : float, default=0.5
        Probability of masking a lead (``mask_leads_prob``).
    generator : torch.Generator, optional
    keep_one : bool, default=False
        ecgsk's option (not the release): where every lead was dropped, keep one lead chosen
        at random, so that no input is all zeros.

    Returns
    -------
    masked : Tensor, same shape as ``x``
    kept : BoolTensor of shape (B, n_leads)
        True for the leads that were kept.

    Examples
    --------
    >>> import torch
    >>> x = torch.ones(3, 12, 10)
    >>> masked, kept = random_lead_mask(x, 0.5, torch.Generator().manual_seed(0), keep_one=True)
    >>> bool((masked.sum(dim=2) > 0).eq(kept).all()), bool(kept.any(dim=1).all())
    (True, True)
    """
    if x.ndim != 3:
        raise ValueError(f"expected (B, n_leads, n_times), got shape {tuple(x.shape)}")
    if not 0.0 <= prob < 1.0:
        raise ValueError(f"prob must be in [0, 1), got {prob}")
    batch, n_leads, _ = x.shape
    kept = torch.rand(batch, n_leads, generator=generator) >= prob
    if keep_one:
        all_dropped = ~kept.any(dim=1)
        if all_dropped.any():
            rescue = torch.randint(n_leads, (int(all_dropped.sum()),), generator=generator)
            kept[all_dropped.nonzero(as_tuple=True)[0], rescue] = True
    kept = kept.to(x.device)
    return x * kept.unsqueeze(-1).to(x.dtype), kept
