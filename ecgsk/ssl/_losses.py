"""Contrastive losses: wav2vec 2.0 masked prediction and CMSC (InfoNCE across segments)."""

from __future__ import annotations

import torch
from torch.nn import functional as F


def sample_negatives(targets: torch.Tensor, n_negatives: int, generator: torch.Generator | None = None):
    """Draw distractors for each time step from other steps of the same sequence.

    Parameters
    ----------
    targets : Tensor of shape (B, T, D)
        Candidate vectors (the quantized targets at the masked steps).
    n_negatives : int
        Distractors per step (100 in wav2vec 2.0 and DeepECG-SSL).

    Returns
    -------
    negatives : Tensor of shape (B, T, n_negatives, D)
        Never the step itself (sampled among the other ``T - 1`` steps).

    Examples
    --------
    >>> import torch
    >>> sample_negatives(torch.randn(2, 6, 4), 3).shape
    torch.Size([2, 6, 3, 4])
    """
    batch, steps, _ = targets.shape
    if steps < 2:
        raise ValueError("need at least 2 masked steps per sequence to draw distractors")
    # Draw from the T-1 other steps: shift indices >= own index by one.
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
    """Masked contrastive loss of wav2vec 2.0 over a batch of masked steps.

    For each masked step, the transformer's prediction must pick its own
    quantized target among ``n_negatives`` distractors taken from other
    masked steps of the same ECG, scored by cosine similarity / temperature.
    Distractors identical to the target are ignored.

    Parameters
    ----------
    predictions, targets : Tensor of shape (B, T_masked, D)
        Projected context vectors and quantized targets at the masked steps.
    n_negatives : int, default=100
        Capped at ``T_masked - 1``.
    temperature : float, default=0.1

    Returns
    -------
    loss : scalar Tensor (mean cross-entropy per masked step)

    Examples
    --------
    >>> import torch
    >>> t = torch.randn(2, 20, 8)
    >>> bool(wav2vec2_contrastive_loss(t, t, 10) < wav2vec2_contrastive_loss(torch.randn(2, 20, 8), t, 10))
    True
    """
    if predictions.shape != targets.shape:
        raise ValueError(f"predictions {tuple(predictions.shape)} and targets {tuple(targets.shape)} differ")
    n_negatives = min(n_negatives, targets.shape[1] - 1)
    negatives = sample_negatives(targets, n_negatives, generator)  # (B, T, K, D)
    candidates = torch.cat([targets.unsqueeze(2), negatives], dim=2)  # positive first
    logits = F.cosine_similarity(predictions.unsqueeze(2).float(), candidates.float(), dim=-1) / temperature
    same_as_target = (negatives == targets.unsqueeze(2)).all(dim=-1)
    logits[..., 1:] = logits[..., 1:].masked_fill(same_as_target, float("-inf"))
    labels = torch.zeros(logits.shape[:2], dtype=torch.long, device=logits.device)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1))


def cmsc_loss(
    z_a: torch.Tensor, z_b: torch.Tensor, groups: torch.Tensor | None = None, temperature: float = 0.1
) -> torch.Tensor:
    """Contrastive multi-segment coding (CMSC) loss, symmetric InfoNCE.

    ``z_a[i]`` and ``z_b[i]`` embed two non-overlapping segments of ECG ``i``:
    they are positives. With ``groups`` (patient ids), segments of every ECG
    of the same patient are positives too (multi-positive InfoNCE: the loss
    averages the log-probability over all positives of each anchor). All
    other segments in the batch are negatives.

    Parameters
    ----------
    z_a, z_b : Tensor of shape (B, D)
        Embeddings of the first and second segments.
    groups : Tensor of shape (B,), optional
        Patient ids; ECGs sharing an id are positives of each other.
    temperature : float, default=0.1

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
        raise ValueError(f"z_a and z_b must both be (B, D), got {tuple(z_a.shape)} and {tuple(z_b.shape)}")
    batch = z_a.shape[0]
    if batch < 2:
        raise ValueError("CMSC needs at least 2 ECGs per batch (the others are the negatives)")
    z = F.normalize(torch.cat([z_a, z_b]).float(), dim=1)  # (2B, D)
    logits = z @ z.T / temperature
    self_mask = torch.eye(2 * batch, dtype=torch.bool, device=z.device)
    logits = logits.masked_fill(self_mask, float("-inf"))
    ids = torch.arange(batch, device=z.device) if groups is None else torch.as_tensor(groups, device=z.device)
    if ids.shape != (batch,):
        raise ValueError(f"groups must have one id per ECG ({batch}), got shape {tuple(ids.shape)}")
    ids = torch.cat([ids, ids])
    positives = (ids.unsqueeze(0) == ids.unsqueeze(1)) & ~self_mask
    log_prob = logits.log_softmax(dim=1).masked_fill(~positives, 0.0)
    return -(log_prob.sum(dim=1) / positives.sum(dim=1)).mean()
