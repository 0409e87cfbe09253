"""The DeepECG-SSL pretext model: wav2vec 2.0 + CMSC + random lead masking around one encoder."""

from __future__ import annotations

import torch
from torch import nn

from ._losses import cmsc_loss, wav2vec2_contrastive_loss
from ._masking import compute_span_mask, random_lead_mask
from ._quantizer import GumbelProductQuantizer

OBJECTIVES = ("wav2vec2", "cmsc")


def split_segments(x: torch.Tensor, n_segments: int) -> torch.Tensor:
    """Cut each ECG into ``n_segments`` consecutive, non-overlapping segments.

    Parameters
    ----------
    x : Tensor of shape (B, n_leads, n_times)
    n_segments : int
        ``n_times`` must be divisible by it.

    Returns
    -------
    Tensor of shape (B * n_segments, n_leads, n_times // n_segments)
        Segments of ECG ``i`` are rows ``i * n_segments ... (i + 1) * n_segments - 1``.

    Examples
    --------
    >>> import torch
    >>> split_segments(torch.arange(8.).view(1, 1, 8), 2)
    tensor([[[0., 1., 2., 3.]],
    <BLANKLINE>
            [[4., 5., 6., 7.]]])
    """
    batch, n_leads, n_times = x.shape
    if n_times % n_segments:
        raise ValueError(f"n_times={n_times} is not divisible into {n_segments} segments")
    seg = n_times // n_segments
    return x.reshape(batch, n_leads, n_segments, seg).permute(0, 2, 1, 3).reshape(batch * n_segments, n_leads, seg)


def _equal_count_masked_steps(mask: torch.Tensor, generator=None) -> torch.Tensor:
    """Indices ``(B, K)`` of K masked steps per row, K the smallest count over rows.

    The contrastive loss draws distractors within each sequence, so every row
    needs the same number of masked steps; rows with more keep a random subset.
    """
    counts = mask.sum(dim=1)
    k = int(counts.min())
    noise = torch.rand(mask.shape, generator=generator).to(mask.device)
    # Masked steps get a random key in [0, 1), unmasked ones sort last.
    keys = torch.where(mask, noise, torch.full_like(noise, 2.0))
    return keys.argsort(dim=1)[:, :k].sort(dim=1).values


class SSLPretextModel(nn.Module):
    """Wrap an ECG transformer with the DeepECG-SSL pretext objectives.

    The forward pass cuts every ECG into ``n_segments`` segments (two 5 s
    segments of a 10 s ECG), corrupts them with random lead masking and the
    optional ``augment`` module, and computes:

    - ``"wav2vec2"``: time spans of the conv features are masked; the transformer
      must identify each masked step's quantized (Gumbel product quantizer)
      target among distractors from other masked steps. The loss adds
      ``diversity_weight`` x the codebook diversity loss and
      ``feature_penalty`` x the mean squared conv feature (wav2vec 2.0 weights
      0.1 and 10).
    - ``"cmsc"``: the mean-pooled transformer outputs of two segments of the
      same ECG (and, given ``groups``, of the same patient) are positives in an
      InfoNCE loss. When wav2vec 2.0 is also on, both losses share one
      transformer pass over the masked input, which halves the cost.

    Parameters
    ----------
    encoder : ecgsk.nn.ECGTransformer
        Needs ``extract_features``, ``project``, ``feature_norm``,
        ``mask_tokens``, ``encode`` and ``pool`` (the ``"deepecg-ssl*"`` models).
    objectives : tuple of {"wav2vec2", "cmsc"}
    lead_mask_prob : float, default=0.5
        Random lead masking probability (0 disables it).
    n_segments : int, default=2
    final_dim : int, default=256
        Size of the quantized targets and of the CMSC projection.
    n_groups, n_entries : int, default=2, 320
        Product quantizer codebooks.
    mask_prob, mask_span : float, int, default=0.65, 10
    n_negatives : int, default=100
    temperature : float, default=0.1
        Temperature of both contrastive losses.
    diversity_weight, feature_penalty : float, default=0.1, 10.0
    augment : nn.Module, optional
        Applied to the segments in training mode only (noise, wander, ...).

    Examples
    --------
    >>> import torch
    >>> from ecgsk.nn import build_model
    >>> enc = build_model("deepecg-ssl-tiny", n_times=1250, n_outputs=1)
    >>> model = SSLPretextModel(enc, n_entries=16, n_negatives=5)
    >>> losses = model(torch.randn(4, 12, 2500))
    >>> sorted(losses)
    ['cmsc', 'diversity', 'feature_penalty', 'loss', 'wav2vec2']
    """

    def __init__(
        self,
        encoder: nn.Module,
        objectives=OBJECTIVES,
        lead_mask_prob: float = 0.5,
        n_segments: int = 2,
        final_dim: int = 256,
        n_groups: int = 2,
        n_entries: int = 320,
        mask_prob: float = 0.65,
        mask_span: int = 10,
        n_negatives: int = 100,
        temperature: float = 0.1,
        diversity_weight: float = 0.1,
        feature_penalty: float = 10.0,
        augment: nn.Module | None = None,
    ):
        super().__init__()
        objectives = (objectives,) if isinstance(objectives, str) else tuple(objectives)
        unknown = sorted(set(objectives) - set(OBJECTIVES))
        if unknown or not objectives:
            raise ValueError(f"objectives must be a non-empty subset of {OBJECTIVES}, got {objectives}")
        needed = ("extract_features", "project", "feature_norm", "mask_tokens", "encode", "pool")
        missing = [name for name in needed if not hasattr(encoder, name)]
        if missing:
            raise TypeError(
                f"{type(encoder).__name__} cannot be pretrained with SSL: it lacks {missing} "
                "(use a 'deepecg-ssl*' model)"
            )
        if "cmsc" in objectives and n_segments < 2:
            raise ValueError("CMSC needs n_segments >= 2")
        self.encoder = encoder
        self.objectives = objectives
        self.lead_mask_prob = lead_mask_prob
        self.n_segments = n_segments
        self.mask_prob = mask_prob
        self.mask_span = mask_span
        self.n_negatives = n_negatives
        self.temperature = temperature
        self.diversity_weight = diversity_weight
        self.feature_penalty = feature_penalty
        self.augment = augment
        width = encoder.n_features
        if "wav2vec2" in objectives:
            n_channels = encoder.feature_norm.normalized_shape[0]
            self.quantizer = GumbelProductQuantizer(n_channels, n_groups, n_entries, final_dim)
            self.target_proj = nn.Linear(final_dim, final_dim)
            self.context_proj = nn.Linear(width, final_dim)
        if "cmsc" in objectives:
            self.cmsc_proj = nn.Linear(width, final_dim)

    def forward(self, x: torch.Tensor, groups: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        segments = split_segments(x, self.n_segments)
        if self.training and self.augment is not None:
            segments = self.augment(segments)
        if self.training and self.lead_mask_prob > 0:
            segments, _ = random_lead_mask(segments, self.lead_mask_prob)
        features = self.encoder.extract_features(segments)  # (B*S, T, C)
        tokens = self.encoder.project(features)
        losses: dict[str, torch.Tensor] = {}
        if "wav2vec2" in self.objectives:
            batch, steps, _ = tokens.shape
            mask = compute_span_mask(batch, steps, self.mask_prob, self.mask_span, device=tokens.device)
            context = self.encoder.encode(self.encoder.mask_tokens(tokens, mask))
            losses.update(self._wav2vec2_losses(features, context, mask))
        else:
            context = self.encoder.encode(tokens)
        if "cmsc" in self.objectives:
            pooled = self.cmsc_proj(self.encoder.pool(context)).view(-1, self.n_segments, self.cmsc_proj.out_features)
            losses["cmsc"] = self._cmsc_loss(pooled, groups)
        total = sum(losses.get(name, 0.0) for name in ("wav2vec2", "cmsc"))
        if "wav2vec2" in self.objectives:
            total = total + self.diversity_weight * losses["diversity"]
            total = total + self.feature_penalty * losses["feature_penalty"]
        losses["loss"] = total
        return losses

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Embeddings ``(B, D)`` of whole ECGs from the encoder (no masking, no corruption)."""
        return self.encoder.forward_features(x)

    def step(self) -> None:
        """Call after every optimiser update: anneals the quantizer temperature."""
        if "wav2vec2" in self.objectives:
            self.quantizer.step()

    def _wav2vec2_losses(self, features, context, mask):
        steps = _equal_count_masked_steps(mask)  # (B, K)
        rows = torch.arange(mask.shape[0], device=mask.device).unsqueeze(1)
        quantized = self.quantizer(self.encoder.feature_norm(features))
        targets = self.target_proj(quantized.quantized[rows, steps])
        predictions = self.context_proj(context[rows, steps])
        return {
            "wav2vec2": wav2vec2_contrastive_loss(predictions, targets, self.n_negatives, self.temperature),
            "diversity": quantized.diversity_loss,
            "feature_penalty": features.float().pow(2).mean(),
        }

    def _cmsc_loss(self, pooled, groups):
        # Every pair of segments (s, t) of the same ECG is a positive pair.
        losses = [
            cmsc_loss(pooled[:, s], pooled[:, t], groups, self.temperature)
            for s in range(self.n_segments)
            for t in range(s + 1, self.n_segments)
        ]
        return torch.stack(losses).mean()
