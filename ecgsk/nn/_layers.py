"""1-D layers that also run on a channels-last 4-D view ``(B, C, L, 1)`` of the signal.

On CPU, oneDNN runs depthwise and 1x1 convolutions several times faster on a channels-last
(``NWC``) tensor than on the ``(B, C, L)`` layout that :class:`torch.nn.Conv1d` uses, and the
other layers (BatchNorm, activations, pooling) run as fast or faster there. The networks of
:mod:`ecgsk.nn` therefore convert their input once with :func:`to_fast_layout` and keep the
feature maps in that layout; every layer below computes exactly the function of the
:mod:`torch.nn` class it subclasses, keeps that class's parameters (same names and shapes, so
state dicts are unchanged), and still accepts the plain 3-D input. The 4-D path views the
``(C_out, C_in / groups, k)`` weight as a ``(k, 1)`` 2-D kernel.

Examples
--------
>>> import torch
>>> conv = Conv1d(4, 6, 5, padding=2)
>>> x = torch.randn(2, 4, 30)
>>> fast = from_fast_layout(conv(to_fast_layout(x)))
>>> torch.allclose(fast, conv(x), atol=1e-5)
True
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def to_fast_layout(x: Tensor) -> Tensor:
    """``(B, C, L)`` -> ``(B, C, L, 1)`` stored channels-last (one copy of the input).

    Examples
    --------
    >>> import torch
    >>> y = to_fast_layout(torch.zeros(2, 3, 10))
    >>> y.shape, y.is_contiguous(memory_format=torch.channels_last)
    (torch.Size([2, 3, 10, 1]), True)
    """
    return x.unsqueeze(-1).contiguous(memory_format=torch.channels_last)


def from_fast_layout(x: Tensor) -> Tensor:
    """``(B, C, L, 1)`` -> a contiguous ``(B, C, L)``; 3-D input is returned unchanged.

    Examples
    --------
    >>> import torch
    >>> from_fast_layout(torch.zeros(2, 3, 10, 1)).shape
    torch.Size([2, 3, 10])
    """
    if x.dim() == 4:
        return x.squeeze(-1).contiguous()
    return x


def global_mean(x: Tensor) -> Tensor:
    """Mean over time of ``(B, C, L)`` or ``(B, C, L, 1)``: ``(B, C)``."""
    return x.mean(dim=2).flatten(1)


def global_max(x: Tensor) -> Tensor:
    """Maximum over time of ``(B, C, L)`` or ``(B, C, L, 1)``: ``(B, C)``."""
    return x.amax(dim=2).flatten(1)


class Conv1d(nn.Conv1d):
    """:class:`torch.nn.Conv1d` that also takes the 4-D view (zero padding, integer padding).

    The parameters are those of ``nn.Conv1d``: ``weight`` of shape
    ``(out_channels, in_channels / groups, kernel_size)`` and ``bias``.

    Examples
    --------
    >>> import torch
    >>> conv = Conv1d(8, 8, 5, padding=2, groups=8)
    >>> conv(to_fast_layout(torch.randn(2, 8, 40))).shape
    torch.Size([2, 8, 40, 1])
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if isinstance(self.padding, str) or self.padding_mode != "zeros":
            raise ValueError("ecgsk's Conv1d takes integer zero padding only")

    def forward(self, x: Tensor) -> Tensor:
        return self.forward_with(x, self.weight, self.bias)

    def forward_with(self, x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        """This convolution's geometry with another ``weight`` and ``bias`` (3-D or 4-D x)."""
        if x.dim() == 4:
            return F.conv2d(x, weight.unsqueeze(-1), bias, (self.stride[0], 1),
                            (self.padding[0], 0), (self.dilation[0], 1), self.groups)
        return self._conv_forward(x, weight, bias)


class BatchNorm1d(nn.BatchNorm1d):
    """:class:`torch.nn.BatchNorm1d` that also normalises the 4-D view (same statistics).

    Examples
    --------
    >>> import torch
    >>> BatchNorm1d(3)(torch.randn(4, 3, 10, 1)).shape
    torch.Size([4, 3, 10, 1])
    """

    def _check_input_dim(self, input: Tensor) -> None:
        if input.dim() not in (2, 3, 4):
            raise ValueError(f"expected 2-D, 3-D or 4-D input (got {input.dim()}-D input)")

    def can_fold(self) -> bool:
        """True in eval mode with running statistics and an affine transform."""
        return (not self.training and self.running_mean is not None
                and self.running_var is not None and self.weight is not None
                and self.bias is not None)

    def fold_into(self, weight: Tensor, bias: Tensor | None) -> tuple[Tensor, Tensor]:
        """Weight and bias of ``BN(conv(x))`` as one convolution (eval-mode statistics)."""
        mean, var, gamma, beta = self.running_mean, self.running_var, self.weight, self.bias
        assert mean is not None and var is not None and gamma is not None and beta is not None
        scale = gamma * torch.rsqrt(var + self.eps)
        shift = beta - mean * scale
        if bias is not None:
            shift = shift + bias * scale
        return weight * scale.reshape(-1, 1, 1), shift


class ConvBN(nn.Sequential):
    """``Sequential(conv, norm, *rest)`` that folds an eval-mode BatchNorm into the conv.

    The children (and so the state dict) are those of the plain ``nn.Sequential``; in training
    mode it is exactly that sequence. In eval mode ``norm(conv(x))`` is computed as one
    convolution with the BatchNorm folded into its weight and bias (the same function up to
    float rounding, one pass over the feature map fewer), as onnxruntime does. ``norm`` is a
    :class:`BatchNorm1d` or any module with ``can_fold`` and ``fold_into`` methods.

    Examples
    --------
    >>> import torch
    >>> block = ConvBN(Conv1d(4, 6, 3, padding=1, bias=False), BatchNorm1d(6), torch.nn.ReLU())
    >>> x = torch.randn(2, 4, 20)
    >>> train_out = block(x)
    >>> eval_out = block.eval()(x)
    >>> plain = torch.nn.Sequential(*block).eval()
    >>> torch.allclose(eval_out, plain(x), atol=1e-5)
    True
    """

    def forward(self, x: Tensor) -> Tensor:
        conv = self[0]
        norm = self[1]
        if norm.can_fold():
            weight, bias = norm.fold_into(conv.weight, conv.bias)
            x = conv.forward_with(x, weight, bias)
        else:
            x = norm(conv(x))
        for i, module in enumerate(self):
            if i >= 2:
                x = module(x)
        return x


class MaxPool1d(nn.MaxPool1d):
    """:class:`torch.nn.MaxPool1d` that also pools the 4-D view along time.

    Examples
    --------
    >>> import torch
    >>> MaxPool1d(3, stride=2, padding=1)(torch.randn(2, 4, 11, 1)).shape
    torch.Size([2, 4, 6, 1])
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._window = tuple(_first(v) for v in (self.kernel_size, self.stride, self.padding,
                                                 self.dilation))

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() == 4:
            k, s, p, d = self._window
            return F.max_pool2d(x, (k, 1), (s, 1), (p, 0), (d, 1), ceil_mode=self.ceil_mode)
        return F.max_pool1d(x, self.kernel_size, self.stride, self.padding, self.dilation,
                            ceil_mode=self.ceil_mode)


class AvgPool1d(nn.AvgPool1d):
    """:class:`torch.nn.AvgPool1d` that also pools the 4-D view along time.

    Examples
    --------
    >>> import torch
    >>> AvgPool1d(2, ceil_mode=True)(torch.randn(2, 4, 11, 1)).shape
    torch.Size([2, 4, 6, 1])
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._window = tuple(_first(v) for v in (self.kernel_size, self.stride, self.padding))

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() == 4:
            k, s, p = self._window
            return F.avg_pool2d(x, (k, 1), (s, 1), (p, 0), self.ceil_mode,
                                self.count_include_pad)
        return F.avg_pool1d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)


def _first(value) -> int:
    return int(value[0]) if isinstance(value, (tuple, list)) else int(value)
