"""Gumbel-softmax product quantizer, the target generator of wav2vec 2.0."""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn
from torch.nn import functional as F


class QuantizerOutput(NamedTuple):
    """What :class:`GumbelProductQuantizer` returns."""

    quantized: torch.Tensor
    diversity_loss: torch.Tensor
    perplexity: torch.Tensor


class GumbelProductQuantizer(nn.Module):
    """Product quantization of feature vectors with a straight-through Gumbel softmax.

    Each input vector selects one entry in each of ``n_groups`` codebooks of
    ``n_entries`` vectors; the selected entries are concatenated (``out_dim``
    in total). During training the choice is a hard Gumbel-softmax sample
    whose temperature decays geometrically at every :meth:`step`; in eval mode
    it is the argmax. The diversity loss pushes the average codebook usage
    towards uniform: ``(G*V - perplexity) / (G*V)``.

    Parameters
    ----------
    in_dim : int
        Size of the input vectors.
    n_groups : int, default=2
    n_entries : int, default=320
    out_dim : int, default=256
        Size of the quantized vectors; must be divisible by ``n_groups``.
    temperature : tuple of float, default=(2.0, 0.5, 0.999995)
        Start, floor and per-step decay of the Gumbel temperature.

    Examples
    --------
    >>> import torch
    >>> q = GumbelProductQuantizer(in_dim=16, n_groups=2, n_entries=8, out_dim=12)
    >>> out = q(torch.randn(3, 5, 16))
    >>> out.quantized.shape, out.diversity_loss.item() >= 0
    (torch.Size([3, 5, 12]), True)
    """

    def __init__(self, in_dim, n_groups=2, n_entries=320, out_dim=256, temperature=(2.0, 0.5, 0.999995)):
        super().__init__()
        if out_dim % n_groups:
            raise ValueError(f"out_dim={out_dim} must be divisible by n_groups={n_groups}")
        self.n_groups = n_groups
        self.n_entries = n_entries
        self.out_dim = out_dim
        self.max_temperature, self.min_temperature, self.decay = temperature
        # a buffer, so that a checkpoint restores the annealing state
        self.register_buffer("current_temperature", torch.tensor(float(self.max_temperature)))
        self.to_logits = nn.Linear(in_dim, n_groups * n_entries)
        nn.init.normal_(self.to_logits.weight, mean=0.0, std=1.0)
        nn.init.zeros_(self.to_logits.bias)
        self.codebooks = nn.Parameter(torch.empty(n_groups, n_entries, out_dim // n_groups).uniform_())

    @property
    def temperature(self) -> float:
        """The current Gumbel-softmax temperature."""
        return float(self.current_temperature)

    def step(self, n_updates: int = 1) -> None:
        """Decay the Gumbel temperature after ``n_updates`` optimiser updates."""
        value = max(self.temperature * self.decay**n_updates, self.min_temperature)
        self.current_temperature.fill_(value)

    def forward(self, x: torch.Tensor) -> QuantizerOutput:
        batch, steps, _ = x.shape
        logits = self.to_logits(x).float().view(batch * steps, self.n_groups, self.n_entries)
        if self.training:
            choice = F.gumbel_softmax(logits, tau=self.temperature, hard=True, dim=-1)
        else:
            choice = F.one_hot(logits.argmax(dim=-1), self.n_entries).to(logits.dtype)
        avg_probs = logits.softmax(dim=-1).mean(dim=0)  # (G, V), soft usage across the batch
        perplexity = torch.exp(-(avg_probs * torch.log(avg_probs + 1e-7)).sum(dim=-1)).sum()
        n_codes = self.n_groups * self.n_entries
        diversity_loss = (n_codes - perplexity) / n_codes
        quantized = torch.einsum("ngv,gvd->ngd", choice, self.codebooks.float())
        quantized = quantized.reshape(batch, steps, self.out_dim).to(x.dtype)
        return QuantizerOutput(quantized, diversity_loss, perplexity.detach())

