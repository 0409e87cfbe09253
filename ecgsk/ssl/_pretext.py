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


class _GradMultiply(torch.autograd.Function):
    """Identity forward; the backward multiplies the gradient by ``scale``."""

    @staticmethod
    def forward(ctx, x, scale):
        ctx.scale = scale
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.scale, None


def scale_gradient(x: torch.Tensor, scale: float) -> torch.Tensor:
    """Return ``x`` unchanged, with the gradient flowing back through it multiplied by ``scale``.

    wav2vec 2.0's ``feature_grad_mult`` (fairseq's ``GradMultiply``): the conv feature encoder
    learns ``scale`` times slower than the rest. ``scale=0`` stops the gradient.

    Examples
    --------
    >>> import torch
    >>> x = torch.ones(3, requires_grad=True)
    >>> scale_gradient(x, 0.1).sum().backward()
    >>> x.grad
    tensor([0.1000, 0.1000, 0.1000])
    """
    if scale == 1.0:
        return x
    if scale == 0.0:
        return x.detach()
    return _GradMultiply.apply(x, float(scale))


class SSLPretextModel(nn.Module):
    """Wrap an ECG transformer with the DeepECG-SSL pretext objectives (``w2v_cmsc_rlm``).

    The forward pass cuts every ECG into ``n_segments`` segments (two 5 s segments of a 10 s
    ECG), corrupts each segment with random lead masking and the optional ``augment`` module
    (training only), and computes, as fairseq-signals' ``wav2vec2_cmsc`` model with the
    ``wav2vec2_with_cmsc`` criterion:

    - conv features, whose gradient is scaled by ``feature_grad_mult``; their mean square is
      the feature penalty;
    - ``"wav2vec2"``: time spans of the projected features are replaced by the mask embedding
      (:func:`compute_span_mask`); the targets are the layer-normed, ``feature_dropout``-ed
      conv features at the masked steps, quantized (:class:`GumbelProductQuantizer`, whose
      diversity loss is computed over those steps) and projected; the transformer output at
      each masked step, projected, must identify its target among ``n_negatives`` distractors
      (:func:`wav2vec2_contrastive_loss`);
    - ``"cmsc"``: the mean-pooled transformer output (of the same masked pass, no projection)
      of the first and second segments of each ECG are positives (:func:`cmsc_loss`); with
      ``groups``, all segments of one patient are.

    ``loss = wav2vec2 + diversity_weight * diversity + feature_penalty * feature_penalty +
    cmsc_weight * cmsc``, each term a mean (fairseq sums and divides by the number of masked
    steps, which is the same).

    Parameters
    ----------
    encoder : ecgsk.nn.ECGTransformer
        Needs ``extract_features``, ``project``, ``feature_norm``, ``mask_tokens``,
        ``encode`` and ``pool`` (the ``"deepecg-ssl*"`` models).
    objectives : tuple of {"wav2vec2", "cmsc"}
    lead_mask_prob : float, default=0.5
        Random lead masking probability (0 disables it).
    n_segments : int, default=2
        Segments per ECG. CMSC pairs segment ``2k`` with ``2k + 1`` (view 0 and view 1, as
        the release's manifests pair consecutive segments); an odd last segment takes part in
        wav2vec 2.0 only.
    final_dim : int, default=256
        Size of the quantized targets and of the projections of the wav2vec 2.0 loss.
    n_groups, n_entries : int, default=2, 320
        Product quantizer codebooks (``latent_groups``, ``latent_vars``).
    mask_prob, mask_span : float, int, default=0.65, 10
    n_negatives : int, default=100
        Distractors per masked step, with replacement.
    temperature : float, default=0.1
        Temperature of both contrastive losses (``logit_temp`` and CMSC's ``temp``).
    diversity_weight, feature_penalty : float, default=0.1, 10.0
        ``loss_weights`` of the release.
    cmsc_weight : float, default=1.0
        Weight of the CMSC loss (``cmsc_weights``, unset, i.e. 1, in the release).
    feature_grad_mult : float, default=0.1
        Gradient scale into the conv feature encoder (:func:`scale_gradient`).
    feature_dropout : float, default=0.1
        Dropout on the features that are quantized into targets (``dropout_features``).
    keep_one_lead : bool, default=False
        ecgsk's option: random lead masking never zeroes all leads of a segment (the release
        can, with probability ``lead_mask_prob ** n_leads``).
    augment : nn.Module, optional
        Applied to the segments in training mode only (noise, wander, ...).

    Examples
    --------
    >>> import torch
    >>> from ecgsk.nn import build_model
    >>> enc = build_model("deepecg-ssl-tiny", n_times=1250, n_outputs=1)
    >>> model = SSLPretextModel(enc, n_entries=16)
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
        cmsc_weight: float = 1.0,
        feature_grad_mult: float = 0.1,
        feature_dropout: float = 0.1,
        keep_one_lead: bool = False,
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
        if not feature_grad_mult >= 0:
            raise ValueError(f"feature_grad_mult must be >= 0, got {feature_grad_mult}")
        if not 0 <= feature_dropout < 1:
            raise ValueError(f"feature_dropout must lie in [0, 1), got {feature_dropout}")
        if int(n_negatives) < 1:
            raise ValueError(f"n_negatives must be >= 1, got {n_negatives}")
        self.encoder = encoder
        self.objectives = objectives
        self.lead_mask_prob = lead_mask_prob
        self.n_segments = n_segments
        self.mask_prob = mask_prob
        self.mask_span = mask_span
        self.n_negatives = int(n_negatives)
        self.temperature = temperature
        self.diversity_weight = diversity_weight
        self.feature_penalty = feature_penalty
        self.cmsc_weight = cmsc_weight
        self.feature_grad_mult = float(feature_grad_mult)
        self.keep_one_lead = bool(keep_one_lead)
        self.augment = augment
        if "wav2vec2" in objectives:
            width = encoder.n_features
            n_channels = encoder.feature_norm.normalized_shape[0]
            self.feature_dropout = nn.Dropout(feature_dropout)
            self.quantizer = GumbelProductQuantizer(n_channels, n_groups, n_entries, final_dim)
            self.target_proj = nn.Linear(final_dim, final_dim)  # project_q
            self.context_proj = nn.Linear(width, final_dim)  # final_proj

    def forward(self, x: torch.Tensor, groups: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        segments = split_segments(x, self.n_segments)
        if self.training and self.augment is not None:
            segments = self.augment(segments)
        if self.training and self.lead_mask_prob > 0:
            segments, _ = random_lead_mask(segments, self.lead_mask_prob, keep_one=self.keep_one_lead)
        features = scale_gradient(self.encoder.extract_features(segments), self.feature_grad_mult)
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
            losses["cmsc"] = self._cmsc_loss(self.encoder.pool(context), groups)
        total = 0.0
        if "wav2vec2" in self.objectives:
            total = losses["wav2vec2"] + self.diversity_weight * losses["diversity"]
            total = total + self.feature_penalty * losses["feature_penalty"]
        if "cmsc" in self.objectives:
            total = total + self.cmsc_weight * losses["cmsc"]
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
        batch = mask.shape[0]
        # compute_span_mask gives every row the same number of masked steps
        normed = self.feature_dropout(self.encoder.feature_norm(features))
        quantized = self.quantizer(normed[mask].view(batch, -1, normed.shape[-1]))
        targets = self.target_proj(quantized.quantized)
        predictions = self.context_proj(context[mask].view(batch, -1, context.shape[-1]))
        return {
            "wav2vec2": wav2vec2_contrastive_loss(predictions, targets, self.n_negatives, self.temperature),
            "diversity": quantized.diversity_loss,
            "feature_penalty": features.float().pow(2).mean(),
        }

    def _cmsc_loss(self, pooled, groups):
        n_ecgs = pooled.shape[0] // self.n_segments
        pooled = pooled.view(n_ecgs, self.n_segments, pooled.shape[-1])
        n_pairs = self.n_segments // 2
        # segment 2k is view 0 and 2k + 1 view 1; rows of one ECG share its id
        first = pooled[:, 0 : 2 * n_pairs : 2].reshape(n_ecgs * n_pairs, -1)
        second = pooled[:, 1 : 2 * n_pairs : 2].reshape(n_ecgs * n_pairs, -1)
        ids = torch.arange(n_ecgs, device=pooled.device) if groups is None else torch.as_tensor(
            groups, device=pooled.device
        )
        if ids.shape != (n_ecgs,):
            raise ValueError(f"groups must have one id per ECG ({n_ecgs}), got shape {tuple(ids.shape)}")
        return cmsc_loss(first, second, ids.repeat_interleave(n_pairs), self.temperature)
