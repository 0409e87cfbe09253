"""Contrastive losses of DeepECG-SSL: wav2vec 2.0 masked prediction and CMSC."""

from __future__ import annotations

import torch
from torch.nn import functional as F


def sample_negatives(targets: torch.Tensor, n_negatives: int, generator: torch.Generator | None = None):
    """Draw distractors for each masked step from the other masked steps of its sequence.

    As fairseq-signals' ``Wav2Vec2Model.sample_negatives`` (``cross_sample_negatives=0``):
    for step ``t`` of ``T``, ``n_negatives`` indices are drawn uniformly *with replacement*
    from ``0 .. T-2`` and those ``>= t`` are shifted up by one, so that every other step has
    probability ``1 / (T - 1)`` and the step itself is never drawn. ``n_negatives`` may
    exceed ``T - 1``.

    Parameters
    ----------
    targets : Tensor of shape (B, T, D)
        Candidate vectors (the quantized targets at the masked steps).
    n_negatives : int
        Distractors per step (100 in wav2vec 2.0 and DeepECG-SSL).
    generator : torch.Generator, optional

    Returns
    -------
    negatives : Tensor of shape (B, T, n_negatives, D)

    Examples
    --------
    >>> import torch
    >>> sample_negatives(torch.randn(2, 6, 4), 100).shape
    torch.Size([2, 6, 100, 4])
    """
    batch, steps, _ = targets.shape
    if steps < 2:
        raise ValueError("need at least 2 masked steps per sequence to draw distractors")
    if n_negatives < 1:
        raise ValueError(f"n_negatives must be >= 1, got {n_negatives}")
    idx = torch.randint(steps - 1, (batch, steps, n_negatives), generator=generator).to(targets.device)
    own = torch.arange(steps, device=targets.device).view(1, steps, 1)
    idx = idx + (idx >= own).long()
    batch_idx = torch.arange(batch, device=targets.device).view(batch, 1, 1)
    return targets[batch_idx, idx]


def wav2vec2_contrastive_loss(
    predictions: torch.Tensor,
    targets: torch.Tensor,
    n_negatives: int = 100,
    temperature: float = 0.1,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Masked contrastive (InfoNCE) loss of wav2vec 2.0 over a batch of masked steps.

    For each masked step, the prediction must pick its own target among ``n_negatives``
    distractors from other masked steps of the same ECG (:func:`sample_negatives`), scored by
    cosine similarity / ``temperature``; distractors equal to the target get ``-inf``
    (fairseq's ``neg_is_pos``). The loss is the mean cross-entropy per masked step (fairseq's
    summed loss divided by its ``sample_size``).

    Parameters
    ----------
    predictions, targets : Tensor of shape (B, T_masked, D)
        Projected context vectors and projected quantized targets at the masked steps.
    n_negatives : int, default=100
    temperature : float, default=0.1
        ``logit_temp``.
    generator : torch.Generator, optional

    Returns
    -------
    loss : scalar Tensor

    Examples
    --------
    >>> import torch
    >>> t = torch.randn(2, 20, 8)
    >>> bool(wav2vec2_contrastive_loss(t, t) < wav2vec2_contrastive_loss(torch.randn(2, 20, 8), t))
    True
    """
    if predictions.shape != targets.shape:
        raise ValueError(f"predictions {tuple(predictions.shape)} and targets {tuple(targets.shape)} differ")
    negatives = sample_negatives(targets, n_negatives, generator)  # (B, T, K, D)
    candidates = torch.cat([targets.unsqueeze(2), negatives], dim=2)  # positive first
    logits = F.cosine_similarity(predictions.unsqueeze(2).float(), candidates.float(), dim=-1) / temperature
    same_as_target = (negatives == targets.unsqueeze(2)).all(dim=-1)
    logits[..., 1:] = logits[..., 1:].masked_fill(same_as_target, float("-inf"))
    labels = torch.zeros(logits.shape[:2], dtype=torch.long, device=logits.device)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1))


def cmsc_loss(
    z_a: torch.Tensor,
    z_b: torch.Tensor,
    groups: torch.Tensor | None = None,
    temperature: float = 0.1,
    eps: float = 1e-8,
) -> torch.Tensor:
    """Contrastive multi-segment coding (CMSC) loss of the release (cross-view InfoNCE).

    The criterion ``wav2vec2_with_cmsc`` of fairseq-signals: rows of ``z_a`` are first
    segments, rows of ``z_b`` second segments; each is divided by ``max(||z||, eps)``;
    ``L = z_a @ z_b.T / temperature``; a pair ``(i, j)`` is positive when ``groups[i] ==
    groups[j]`` (by default only ``i == j``: the two segments of one ECG). The loss is

    ``0.5 * mean over positive (i, j) of -log_softmax(L, dim=1)[i, j]
    + 0.5 * mean over positive (i, j) of -log_softmax(L, dim=0)[i, j]``,

    each mean taken over all positive entries of the matrix. Only segments of the other view
    are negatives (no ``z_a``-``z_a`` terms).

    Parameters
    ----------
    z_a, z_b : Tensor of shape (N, D)
        Embeddings of the first and second segments (the release: mean-pooled transformer
        output, no projection).
    groups : Tensor of shape (N,), optional
        Record or patient ids of the rows (the release's ``patient_id``); rows sharing an id
        are positives of each other.
    temperature : float, default=0.1
    eps : float, default=1e-8

    Returns
    -------
    loss : scalar Tensor

    Examples
    --------
    >>> import torch
    >>> z = torch.randn(8, 16)
    >>> bool(cmsc_loss(z, z + 0.01 * torch.randn(8, 16)) < cmsc_loss(z, torch.randn(8, 16)))
    True
    """
    if z_a.shape != z_b.shape or z_a.ndim != 2:
        raise ValueError(f"z_a and z_b must both be (N, D), got {tuple(z_a.shape)} and {tuple(z_b.shape)}")
    n = z_a.shape[0]
    if n < 2:
        raise ValueError("CMSC needs at least 2 ECGs per batch (the others are the negatives)")
    ids = torch.arange(n, device=z_a.device) if groups is None else torch.as_tensor(groups, device=z_a.device)
    if ids.shape != (n,):
        raise ValueError(f"groups must have one id per row ({n}), got shape {tuple(ids.shape)}")

    def unit(z):
        z = z.float()
        return z / z.detach().norm(dim=-1, keepdim=True).clamp_min(eps)

    logits = unit(z_a) @ unit(z_b).T / temperature
    positives = ids.unsqueeze(1) == ids.unsqueeze(0)
    rows = -logits.log_softmax(dim=1)[positives].mean()
    cols = -logits.log_softmax(dim=0)[positives].mean()
    return 0.5 * rows + 0.5 * cols
