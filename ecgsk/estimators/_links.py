"""Inference graphs: a network followed by the link function of its task, as torch modules.

Each estimator builds its prediction from one of these modules (``predict_proba`` applies
:meth:`Link.link` to the network's logits) and exports the same module to ONNX and
TorchScript, so every link function is written once.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn


class Link(nn.Module):
    """``forward(ecg) = link(net(ecg))``; subclasses define :meth:`link`."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def link(self, out: Tensor) -> Tensor:
        return out

    def forward(self, ecg: Tensor) -> Tensor:
        return self.link(self.net(ecg))


class Sigmoid(Link):
    """Multilabel probabilities: an independent sigmoid per label."""

    def link(self, out: Tensor) -> Tensor:
        return torch.sigmoid(out)


class BinaryProbabilities(Link):
    """Binary probabilities ``[1 - p, p]`` from the single logit."""

    def link(self, out: Tensor) -> Tensor:
        p = torch.sigmoid(out)
        return torch.cat([1.0 - p, p], dim=1)


class Softmax(Link):
    """Multiclass probabilities: softmax over the classes."""

    def link(self, out: Tensor) -> Tensor:
        return torch.softmax(out, dim=1)


class Logits(Link):
    """Raw outputs; the single column of a binary classifier as a 1-D output."""

    def __init__(self, net: nn.Module, squeeze: bool = False):
        super().__init__(net)
        self.squeeze = bool(squeeze)

    def link(self, out: Tensor) -> Tensor:
        if self.squeeze:
            return out[:, 0]
        return out


class Rescale(Link):
    """Regression outputs in the target's units: ``output * scale + mean``."""

    def __init__(self, net: nn.Module, mean, scale, squeeze: bool = False):
        super().__init__(net)
        self.register_buffer("mean", torch.as_tensor(np.asarray(mean), dtype=torch.float64))
        self.register_buffer("scale", torch.as_tensor(np.asarray(scale), dtype=torch.float64))
        self.squeeze = bool(squeeze)

    def link(self, out: Tensor) -> Tensor:
        out = out * self.scale.to(out.dtype) + self.mean.to(out.dtype)
        if self.squeeze:
            return out[:, 0]
        return out


class Embeddings(Link):
    """Embeddings: the network's ``forward_features``."""

    def forward(self, ecg: Tensor) -> Tensor:
        return self.net.forward_features(ecg)


def apply_link(link: Link, logits: Tensor):
    """The link of ``link`` applied to CPU logits in float64, as a numpy array."""
    with torch.no_grad():
        return link.link(logits.to(torch.float64)).numpy()
