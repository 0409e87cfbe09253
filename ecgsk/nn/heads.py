"""Heads (feature vector -> logits) and sequence pooling layers shared by the models."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from ._base import check_positive_int, check_probability


class LinearHead(nn.Module):
    """Dropout followed by a linear layer: ``(B, n_features) -> (B, n_outputs)``.

    Parameters
    ----------
    n_features : int
        Input size.
    n_outputs : int
        Number of logits.
    dropout : float, default=0.0
        Dropout probability applied to the features (training only).

    Examples
    --------
    >>> import torch
    >>> LinearHead(640, 77, dropout=0.2)(torch.zeros(4, 640)).shape
    torch.Size([4, 77])
    """

    def __init__(self, n_features: int, n_outputs: int, dropout: float = 0.0):
        super().__init__()
        self.dropout = nn.Dropout(check_probability(dropout, "dropout"))
        self.linear = nn.Linear(check_positive_int(n_features, "n_features"),
                                check_positive_int(n_outputs, "n_outputs"))

    def forward(self, x: Tensor) -> Tensor:
        return self.linear(self.dropout(x))


class MLPHead(nn.Module):
    """The PTB-XL benchmark head: blocks of BatchNorm, dropout, linear (ReLU between blocks).

    With ``hidden=(128,)`` and ``dropout=0.5`` this is the head of Strodthoff et al. (2021):
    ``BN(d) -> Dropout(0.25) -> Linear(d, 128) -> ReLU -> BN(128) -> Dropout(0.5) ->
    Linear(128, n_outputs)`` (hidden blocks get half the final dropout).

    Parameters
    ----------
    n_features : int
        Input size.
    n_outputs : int
        Number of logits.
    hidden : sequence of int, default=(128,)
        Sizes of the hidden layers; ``()`` gives ``BN -> Dropout -> Linear``.
    dropout : float, default=0.5
        Dropout before the last linear layer; hidden layers use ``dropout / 2``.

    Examples
    --------
    >>> import torch
    >>> MLPHead(512, 5)(torch.randn(4, 512)).shape
    torch.Size([4, 5])
    """

    def __init__(
        self, n_features: int, n_outputs: int, hidden: Sequence[int] = (128,), dropout: float = 0.5
    ):
        super().__init__()
        dropout = check_probability(dropout, "dropout")
        sizes = [check_positive_int(n_features, "n_features")]
        sizes += [check_positive_int(h, "hidden size") for h in hidden]
        sizes.append(check_positive_int(n_outputs, "n_outputs"))
        layers: list[nn.Module] = []
        n_blocks = len(sizes) - 1
        for i in range(n_blocks):
            last = i == n_blocks - 1
            layers += [
                nn.BatchNorm1d(sizes[i]),
                nn.Dropout(dropout if last else dropout / 2),
                nn.Linear(sizes[i], sizes[i + 1]),
            ]
            if not last:
                layers.append(nn.ReLU(inplace=True))
        self.layers = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.layers(x)


class MeanPooling(nn.Module):
    """Mean over time of ``(B, T, D)`` tokens, ignoring padded steps.

    Examples
    --------
    >>> import torch
    >>> MeanPooling(8)(torch.ones(2, 5, 8)).shape
    torch.Size([2, 8])
    """

    def __init__(self, n_features: int):
        super().__init__()
        self.n_features = check_positive_int(n_features, "n_features")

    def forward(self, x: Tensor, padding_mask: Tensor | None = None) -> Tensor:
        if padding_mask is None:
            return x.mean(dim=1)
        keep = (~padding_mask).unsqueeze(-1).to(x.dtype)
        return (x * keep).sum(dim=1) / keep.sum(dim=1).clamp(min=1.0)


class AttentionPooling(nn.Module):
    """Learned attention pooling of ``(B, T, D)`` tokens into ``(B, D)``.

    A linear layer scores each time step; the softmax of the scores over (non-padded) time
    steps weights the tokens.

    Examples
    --------
    >>> import torch
    >>> AttentionPooling(8)(torch.randn(2, 5, 8)).shape
    torch.Size([2, 8])
    """

    def __init__(self, n_features: int):
        super().__init__()
        self.n_features = check_positive_int(n_features, "n_features")
        self.score = nn.Linear(self.n_features, 1)

    def forward(self, x: Tensor, padding_mask: Tensor | None = None) -> Tensor:
        scores = self.score(x).squeeze(-1)
        if padding_mask is not None:
            scores = scores.masked_fill(padding_mask, float("-inf"))
        weights = torch.softmax(scores.float(), dim=1).to(x.dtype)
        return torch.bmm(weights.unsqueeze(1), x).squeeze(1)
