"""1-D EfficientNetV2 networks: DeepECG-SL as published, and ecgsk's own smaller design.

``"deepecg-sl"`` (:class:`DeepECGSL`) builds the only public definition of DeepECG-SL, the
class ``EfficientNet1DV2`` of ``notebooks/EfficientNetv2.py`` in HeartWise-AI/DeepECG_Docker
(commit 2a9680e), with that class's default arguments (variant ``s_v2``: width coefficient 1.0,
depth coefficient 2.0, so base depths 1/1/2/2/3/4 become 2/2/4/4/6/8/10 and stage ``i`` takes
``depths[i + 1]``). Facts taken from that code (read, not copied):

- stem: ``Conv1d(n_leads, 12, k=3, s=1, bias=False)`` + BatchNorm + LeakyReLU(0.01);
- six stages; the first four are Fused-MBConv blocks, which in the release are a single
  k-wide ``Conv1d`` + BN + activation (no expansion and no 1x1 projection), followed by
  squeeze-and-excitation; the last two are MBConv blocks (1x1 expansion x6, depthwise k conv,
  squeeze-and-excitation, 1x1 projection + BN without activation);
- squeeze-and-excitation in every block: global average pool, ``Conv1d(C, C // 4, 1)`` with
  bias, the block's activation (LeakyReLU), ``Conv1d(C // 4, C, 1)`` with bias, sigmoid;
- only the first block of a stage strides; a block is residual when it keeps its width and
  does not stride, and its branch then goes through stochastic depth with the same rate 0.304 in
  every block (no linear growth);
- the final ``Conv1d(128, 640, 1)`` has a bias and is followed by BatchNorm and **no**
  activation; then global average pooling, dropout 0.0 and ``Linear(640, n_outputs)``.

::

    stem    Conv1d(n_leads, 12, k=3, s=1) + BN + LeakyReLU(0.01)
    stage   block   width depth expansion kernel stride  SE
    1       fused   12    2     -         3      1       C // 4
    2       fused   24    4     -         3      1       C // 4
    3       fused   32    4     -         5      2       C // 4
    4       fused   64    6     -         3      2       C // 4
    5       mbconv  80    8     6         5      2       6 C_in // 4
    6       mbconv  128   10    6         3      2       6 C_in // 4
    final   Conv1d(128, 640, k=1, bias) + BN, global average pooling -> 640 features
    head    Dropout(0.0) + Linear(640, n_outputs)

That is 34 blocks, 16x downsampling (2500 samples -> 157 steps), 1.21 forward GFLOP per ECG and **6,459,979** parameters
for ``(n_leads, n_times, n_outputs) = (12, 2500, 77)`` (6,410,622 without the head). The
modules carry the release's names (``initial_conv``, ``features.<i>.fused_conv``,
``...se.se.1``, ``expand_conv``, ``depthwise_conv``, ``project_conv``, ``final_conv``,
``final_norm.norm``), so a state dict of the public class loads once its
``classifier.3.*`` keys are renamed ``head.linear.*`` (ecgsk's models keep their head in
``head``). The weights start as the release's training notebook (``sl_e2e_training.ipynb``)
re-initialises them: Kaiming-normal (fan-out) convolutions with zero biases, BatchNorm at
1 and 0, Xavier-normal linear layer with a zero bias. ``"deepecg-sl-tiny"`` keeps that
structure at test size: a stem of 8, one block per stage of widths 8/8/16/16/24/32,
expansion 2 in the MBConv stages and a 64-channel final conv (**16,285** parameters).

``"ecgsk-effnet"`` (:class:`EfficientNetV2_1d`) is ecgsk's own design, not the release's: it
follows the EfficientNetV2 paper where the release departs from it and is four times smaller
(0.79 against 1.21 forward GFLOP per ECG at (12, 2500), counted by ``FlopCounterMode``). Stem and blocks use BatchNorm + SiLU; Fused-MBConv blocks
with expansion > 1 have the paper's 1x1 projection; squeeze-and-excitation only in MBConv
blocks; the final 1x1 conv has no bias and is followed by BN + SiLU; the drop-path rate grows
linearly with the block index from 0 to ``drop_path_rate=0.2``. Its configuration
(:data:`DEEPECG_SL_STAGES`)::

    stem    Conv1d(n_leads, 24, k=3, s=1) + BN + SiLU
    stage   block   width depth expansion kernel stride  SE
    1       fused   24    2     1         3      1       -
    2       fused   32    2     4         3      1       -
    3       fused   48    2     4         5      2       -
    4       fused   64    2     4         3      2       -
    5       mbconv  88    4     4         5      2       ratio 4
    6       mbconv  128   3     4         3      2       ratio 4
    final   Conv1d(128, 640, k=1) + BN + SiLU, global average pooling -> 640 features
    head    Dropout(0.2) + Linear(640, n_outputs)

Measured size for ``(12, 2500, 77)``: **1,485,277** parameters (1,435,920 without the head).
``"ecgsk-effnet-tiny"`` (:data:`DEEPECG_SL_TINY_STAGES`) keeps the structure with an
8-channel stem, stage widths 8/8/16/16/24/32, expansions 1/2/2/2/2/2, one block per stage
and a 64-channel final conv: **17,825** parameters. Both networks run their feature maps on
the channels-last layers of :mod:`ecgsk.nn._layers` (the same function, faster on CPU).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ._base import ECGModule, check_positive_int, check_probability
from ._layers import BatchNorm1d, Conv1d, ConvBN, global_mean
from ._registry import register_model
from .heads import LinearHead


@dataclass(frozen=True)
class StageSpec:
    """One EfficientNetV2 stage: block type, output width, depth, expansion, kernel, stride."""

    block: str  # "fused" or "mbconv"
    width: int
    depth: int
    expansion: int
    kernel: int
    stride: int


DEEPECG_SL_STAGES: tuple[StageSpec, ...] = (
    StageSpec("fused", 24, 2, 1, 3, 1),
    StageSpec("fused", 32, 2, 4, 3, 1),
    StageSpec("fused", 48, 2, 4, 5, 2),
    StageSpec("fused", 64, 2, 4, 3, 2),
    StageSpec("mbconv", 88, 4, 4, 5, 2),
    StageSpec("mbconv", 128, 3, 4, 3, 2),
)
DEEPECG_SL_TINY_STAGES: tuple[StageSpec, ...] = (
    StageSpec("fused", 8, 1, 1, 3, 1),
    StageSpec("fused", 8, 1, 2, 3, 1),
    StageSpec("fused", 16, 1, 2, 5, 2),
    StageSpec("fused", 16, 1, 2, 3, 2),
    StageSpec("mbconv", 24, 1, 2, 5, 2),
    StageSpec("mbconv", 32, 1, 2, 3, 2),
)


def _conv_bn_act(c_in: int, c_out: int, kernel: int, stride: int = 1, groups: int = 1,
                 act: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = [
        Conv1d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, groups=groups,
               bias=False),
        BatchNorm1d(c_out),
    ]
    if act:
        layers.append(nn.SiLU(inplace=True))
    return ConvBN(*layers)


class DropPath(nn.Module):
    """Stochastic depth: zero a whole residual branch per sample with probability ``p``.

    Kept samples are scaled by ``1 / (1 - p)``; identity in eval mode.

    Examples
    --------
    >>> import torch
    >>> DropPath(0.5).eval()(torch.ones(2, 3, 4)).sum().item()
    24.0
    """

    def __init__(self, p: float = 0.0):
        super().__init__()
        self.p = check_probability(p, "drop_path_rate")

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = 1.0 - self.p
        shape = [x.shape[0]] + [1] * (x.dim() - 1)
        mask = torch.empty(shape, dtype=x.dtype, device=x.device).bernoulli_(keep)
        return x * mask.div_(keep)  # scale the (B, 1, ...) mask, not the feature map


class SqueezeExcite(nn.Module):
    """Channel gating: global average pool, 1x1 conv down, SiLU, 1x1 conv up, sigmoid."""

    def __init__(self, channels: int, reduced: int):
        super().__init__()
        self.reduce = Conv1d(channels, reduced, 1)
        self.act = nn.SiLU(inplace=True)
        self.expand = Conv1d(reduced, channels, 1)

    def forward(self, x: Tensor) -> Tensor:
        s = x.mean(dim=2, keepdim=True)
        return x * torch.sigmoid(self.expand(self.act(self.reduce(s))))


class FusedMBConv1d(nn.Module):
    """Fused-MBConv: a k-wide expansion conv (+ a 1x1 projection when expanded), residual.

    With ``expansion=1`` the block is a single conv + BN + SiLU, as in EfficientNetV2's first
    stage.
    """

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, expansion: int,
                 drop_path: float):
        super().__init__()
        mid = c_in * expansion
        if expansion == 1:
            self.conv = _conv_bn_act(c_in, c_out, kernel, stride)
        else:
            self.conv = nn.Sequential(
                _conv_bn_act(c_in, mid, kernel, stride),
                _conv_bn_act(mid, c_out, 1, act=False),
            )
        self.residual = stride == 1 and c_in == c_out
        self.drop_path = DropPath(drop_path) if self.residual else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        out = self.conv(x)
        if self.residual:
            out = self.drop_path(out) + x
        return out


class MBConv1d(nn.Module):
    """MBConv: 1x1 expansion, depthwise k conv, squeeze-and-excitation, 1x1 projection."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, expansion: int,
                 drop_path: float, se_ratio: int = 4):
        super().__init__()
        mid = c_in * expansion
        self.expand = _conv_bn_act(c_in, mid, 1) if expansion != 1 else nn.Identity()
        self.depthwise = _conv_bn_act(mid, mid, kernel, stride, groups=mid)
        self.se = SqueezeExcite(mid, max(1, mid // se_ratio))
        self.project = _conv_bn_act(mid, c_out, 1, act=False)
        self.residual = stride == 1 and c_in == c_out
        self.drop_path = DropPath(drop_path) if self.residual else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        out = self.project(self.se(self.depthwise(self.expand(x))))
        if self.residual:
            out = self.drop_path(out) + x
        return out


class EfficientNetV2_1d(ECGModule):
    """ecgsk's own 1-D EfficientNetV2 for ECGs (registry name ``"ecgsk-effnet"``).

    Not the published DeepECG-SL (that is :class:`DeepECGSL`): a smaller design that follows
    the EfficientNetV2 paper (SiLU, SE in MBConv blocks only, growing drop-path rate); see the
    module docstring.

    Parameters
    ----------
    n_leads : int
        Number of input leads.
    n_times : int
        Number of samples per lead (any length >= 16 works; the network pools globally).
    n_outputs : int
        Number of logits.
    stages : sequence of StageSpec, default=DEEPECG_SL_STAGES
        Block type, width, depth, expansion, kernel and stride of each stage.
    stem_width : int, default=24
        Channels of the stem convolution (its kernel and stride are the first stage's).
    n_features : int, default=640
        Channels of the final 1x1 convolution, i.e. the embedding size.
    se_ratio : int, default=4
        Squeeze-and-excitation reduction of the expanded width (MBConv blocks).
    drop_path_rate : float, default=0.2
        Stochastic depth of the last block; rises linearly from 0 over the blocks.
    dropout : float, default=0.2
        Dropout before the linear head.

    Attributes
    ----------
    n_features : int
        Embedding size returned by :meth:`forward_features`.
    head : LinearHead
        Dropout + linear layer.

    Examples
    --------
    >>> import torch
    >>> from ecgsk.nn import build_model
    >>> model = build_model("ecgsk-effnet-tiny", n_leads=12, n_times=1000, n_outputs=3)
    >>> model(torch.zeros(2, 12, 1000)).shape
    torch.Size([2, 3])
    """

    def __init__(
        self,
        n_leads: int,
        n_times: int,
        n_outputs: int,
        stages: Sequence[StageSpec] = DEEPECG_SL_STAGES,
        stem_width: int = 24,
        n_features: int = 640,
        se_ratio: int = 4,
        drop_path_rate: float = 0.2,
        dropout: float = 0.2,
    ):
        super().__init__()
        stages = tuple(stages)
        if not stages:
            raise ValueError("stages must hold at least one StageSpec")
        downsampling = 1
        for spec in (stages[0], *stages):
            downsampling *= spec.stride
        self._init_signal(n_leads, n_times, n_outputs, min_times=max(downsampling, 1))
        self.fast_layout = True  # channels-last 4-D feature maps (ecgsk.nn._layers)
        stem_width = check_positive_int(stem_width, "stem_width")
        self.n_features = check_positive_int(n_features, "n_features")
        self.dropout = check_probability(dropout, "dropout")
        drop_path_rate = check_probability(drop_path_rate, "drop_path_rate")
        se_ratio = check_positive_int(se_ratio, "se_ratio")

        self.stem = _conv_bn_act(self.n_leads, stem_width, stages[0].kernel, stages[0].stride)
        n_blocks = sum(s.depth for s in stages)
        blocks: list[nn.Module] = []
        c_in = stem_width
        for spec in stages:
            if spec.block not in ("fused", "mbconv"):
                raise ValueError(f"stage block must be 'fused' or 'mbconv', got {spec.block!r}")
            for j in range(spec.depth):
                rate = drop_path_rate * len(blocks) / max(n_blocks - 1, 1)
                stride = spec.stride if j == 0 else 1
                if spec.block == "fused":
                    block = FusedMBConv1d(c_in, spec.width, spec.kernel, stride, spec.expansion,
                                          rate)
                else:
                    block = MBConv1d(c_in, spec.width, spec.kernel, stride, spec.expansion, rate,
                                     se_ratio)
                blocks.append(block)
                c_in = spec.width
        self.blocks = nn.Sequential(*blocks)
        self.final_conv = _conv_bn_act(c_in, self.n_features, 1)
        self.head = self._make_head(self.n_outputs)
        self._init_weights()

    def _make_head(self, n_outputs: int) -> nn.Module:
        head = LinearHead(self.n_features, n_outputs, dropout=self.dropout)
        bound = 1.0 / float(n_outputs) ** 0.5
        nn.init.uniform_(head.linear.weight, -bound, bound)
        nn.init.zeros_(head.linear.bias)
        return head

    def _init_weights(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv1d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm1d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward_features(self, x: Tensor) -> Tensor:
        """Embeddings ``(B, n_features)``: globally average-pooled final feature map."""
        self._check_input(x)
        x = self.final_conv(self.blocks(self.stem(self._to_layout(x))))
        return global_mean(x)


DEEPECG_SL_PUBLISHED_STAGES: tuple[StageSpec, ...] = (
    StageSpec("fused", 12, 2, 1, 3, 1),
    StageSpec("fused", 24, 4, 1, 3, 1),
    StageSpec("fused", 32, 4, 1, 5, 2),
    StageSpec("fused", 64, 6, 1, 3, 2),
    StageSpec("mbconv", 80, 8, 6, 5, 2),
    StageSpec("mbconv", 128, 10, 6, 3, 2),
)
DEEPECG_SL_PUBLISHED_TINY_STAGES: tuple[StageSpec, ...] = (
    StageSpec("fused", 8, 1, 1, 3, 1),
    StageSpec("fused", 8, 1, 1, 3, 1),
    StageSpec("fused", 16, 1, 1, 5, 2),
    StageSpec("fused", 16, 1, 1, 3, 2),
    StageSpec("mbconv", 24, 1, 2, 5, 2),
    StageSpec("mbconv", 32, 1, 2, 3, 2),
)


class _Norm(nn.Module):
    """BatchNorm under the attribute ``norm`` (the release's ``CustomNorm`` naming)."""

    def __init__(self, channels: int):
        super().__init__()
        self.norm = BatchNorm1d(channels)

    def forward(self, x: Tensor) -> Tensor:
        return self.norm(x)

    def can_fold(self) -> bool:
        return self.norm.can_fold()

    def fold_into(self, weight: Tensor, bias: Tensor | None) -> tuple[Tensor, Tensor]:
        return self.norm.fold_into(weight, bias)


class _GlobalAvgPool(nn.Module):
    """Mean over time, kept as a length-1 axis (3-D or 4-D input)."""

    def forward(self, x: Tensor) -> Tensor:
        return x.mean(dim=2, keepdim=True)


def _leaky() -> nn.Module:
    return nn.LeakyReLU(0.01, inplace=True)


def _conv_norm_act(c_in: int, c_out: int, kernel: int, stride: int = 1, groups: int = 1,
                   act: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = [
        Conv1d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, groups=groups,
               bias=False),
        _Norm(c_out),
    ]
    if act:
        layers.append(_leaky())
    return ConvBN(*layers)


class _SEBlock(nn.Module):
    """The release's squeeze-and-excitation: ``x * se(x)``, ``se`` = pool, conv, act, conv, sigmoid."""

    def __init__(self, channels: int, reduced: int):
        super().__init__()
        self.se = nn.Sequential(_GlobalAvgPool(), Conv1d(channels, reduced, 1), _leaky(),
                                Conv1d(reduced, channels, 1), nn.Sigmoid())

    def forward(self, x: Tensor) -> Tensor:
        return x * self.se(x)


class PublishedFusedMBConv1d(nn.Module):
    """The release's Fused-MBConv block: k-wide conv + BN + LeakyReLU, SE, residual."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, se_ratio: int,
                 drop_path: float):
        super().__init__()
        self.fused_conv = _conv_norm_act(c_in, c_out, kernel, stride)
        self.se = _SEBlock(c_out, max(1, c_out // se_ratio))
        self.residual = stride == 1 and c_in == c_out
        self.stochastic_depth = DropPath(drop_path) if self.residual else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        out = self.se(self.fused_conv(x))
        if self.residual:
            out = self.stochastic_depth(out) + x
        return out


class PublishedMBConv1d(nn.Module):
    """The release's MBConv block: 1x1 expansion, depthwise conv, SE, 1x1 projection, residual."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, expansion: int,
                 se_ratio: int, drop_path: float):
        super().__init__()
        mid = c_in * expansion
        self.expand_conv = _conv_norm_act(c_in, mid, 1) if expansion > 1 else nn.Identity()
        self.depthwise_conv = _conv_norm_act(mid, mid, kernel, stride, groups=mid)
        self.se = _SEBlock(mid, max(1, mid // se_ratio))
        self.project_conv = _conv_norm_act(mid, c_out, 1, act=False)
        self.residual = stride == 1 and c_in == c_out
        self.stochastic_depth = DropPath(drop_path) if self.residual else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        out = self.project_conv(self.se(self.depthwise_conv(self.expand_conv(x))))
        if self.residual:
            out = self.stochastic_depth(out) + x
        return out


class DeepECGSL(ECGModule):
    """DeepECG-SL as published: the release's 1-D EfficientNetV2 (``EfficientNet1DV2``).

    The defaults are those of the public class (see the module docstring for the layer table
    and the facts taken from the release). LeakyReLU(0.01) everywhere, squeeze-and-excitation
    in every block, one stochastic-depth rate for every residual block.

    Parameters
    ----------
    n_leads, n_times, n_outputs : int
        Input leads, samples per lead (>= 16) and number of logits.
    stages : sequence of StageSpec, default=DEEPECG_SL_PUBLISHED_STAGES
        Block type, width, depth, expansion, kernel and stride of each stage (a fused stage
        must have expansion 1: the release's fused block is a single convolution).
    stem_width : int, default=12
        Channels of the stem convolution (its kernel and stride are the first stage's).
    n_features : int, default=640
        Channels of the final 1x1 convolution, i.e. the embedding size.
    se_ratio : int, default=4
        Squeeze-and-excitation reduction (of the block's output width in fused blocks, of the
        expanded width in MBConv blocks).
    drop_path_rate : float, default=0.304
        Stochastic depth (drop-path) rate of every residual block, training only (the
        release's ``stochastic_depth_prob``).
    dropout : float, default=0.0
        Dropout before the linear head.

    Attributes
    ----------
    n_features : int
        Embedding size returned by :meth:`forward_features`.
    head : LinearHead
        Dropout + linear layer (the release's ``classifier.3``).

    Examples
    --------
    >>> import torch
    >>> from ecgsk.nn import build_model
    >>> model = build_model("deepecg-sl-tiny", n_leads=12, n_times=1000, n_outputs=3)
    >>> model(torch.zeros(2, 12, 1000)).shape
    torch.Size([2, 3])
    >>> type(model.features[0].fused_conv[2]).__name__
    'LeakyReLU'
    """

    def __init__(
        self,
        n_leads: int,
        n_times: int,
        n_outputs: int,
        stages: Sequence[StageSpec] = DEEPECG_SL_PUBLISHED_STAGES,
        stem_width: int = 12,
        n_features: int = 640,
        se_ratio: int = 4,
        drop_path_rate: float = 0.304,
        dropout: float = 0.0,
    ):
        super().__init__()
        stages = tuple(stages)
        if not stages:
            raise ValueError("stages must hold at least one StageSpec")
        downsampling = 1
        for spec in (stages[0], *stages):
            downsampling *= spec.stride
        self._init_signal(n_leads, n_times, n_outputs, min_times=max(downsampling, 1))
        self.fast_layout = True  # channels-last 4-D feature maps (ecgsk.nn._layers)
        stem_width = check_positive_int(stem_width, "stem_width")
        self.n_features = check_positive_int(n_features, "n_features")
        self.dropout = check_probability(dropout, "dropout")
        rate = check_probability(drop_path_rate, "drop_path_rate")
        se_ratio = check_positive_int(se_ratio, "se_ratio")

        self.initial_conv = _conv_norm_act(self.n_leads, stem_width, stages[0].kernel,
                                           stages[0].stride)
        blocks: list[nn.Module] = []
        c_in = stem_width
        for spec in stages:
            if spec.block == "fused" and spec.expansion != 1:
                raise ValueError("the release's fused blocks have no expansion: a fused stage "
                                 f"needs expansion=1, got {spec.expansion}")
            if spec.block not in ("fused", "mbconv"):
                raise ValueError(f"stage block must be 'fused' or 'mbconv', got {spec.block!r}")
            for j in range(spec.depth):
                stride = spec.stride if j == 0 else 1
                if spec.block == "fused":
                    block = PublishedFusedMBConv1d(c_in, spec.width, spec.kernel, stride,
                                                   se_ratio, rate)
                else:
                    block = PublishedMBConv1d(c_in, spec.width, spec.kernel, stride,
                                              spec.expansion, se_ratio, rate)
                blocks.append(block)
                c_in = spec.width
        self.features = nn.Sequential(*blocks)
        self.final_conv = Conv1d(c_in, self.n_features, 1)
        self.final_norm = _Norm(self.n_features)
        self._init_weights()
        self.head = self._make_head(self.n_outputs)

    def _make_head(self, n_outputs: int) -> nn.Module:
        head = LinearHead(self.n_features, n_outputs, dropout=self.dropout)
        nn.init.xavier_normal_(head.linear.weight)
        nn.init.zeros_(head.linear.bias)
        return head

    def _init_weights(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv1d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm1d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward_features(self, x: Tensor) -> Tensor:
        """Embeddings ``(B, n_features)``: the pooled final conv + BN map (no activation)."""
        self._check_input(x)
        x = self.features(self.initial_conv(self._to_layout(x)))
        return global_mean(self.final_norm(self.final_conv(x)))


@register_model(
    "deepecg-sl", n_params=6_459_979,
    description="DeepECG-SL as published: the release's 1-D EfficientNetV2 (34 blocks, "
                "LeakyReLU, SE everywhere), 640 features",
)
def _deepecg_sl(n_leads: int, n_times: int, n_outputs: int, **kwargs) -> DeepECGSL:
    return DeepECGSL(n_leads, n_times, n_outputs, **kwargs)


@register_model(
    "deepecg-sl-tiny", n_params=16_285, tiny=True,
    description="DeepECG-SL's published structure at test size (one block per stage)",
)
def _deepecg_sl_tiny(n_leads: int, n_times: int, n_outputs: int, **kwargs) -> DeepECGSL:
    kwargs = {"stages": DEEPECG_SL_PUBLISHED_TINY_STAGES, "stem_width": 8, "n_features": 64,
              **kwargs}
    return DeepECGSL(n_leads, n_times, n_outputs, **kwargs)


@register_model(
    "ecgsk-effnet", n_params=1_485_277,
    description="ecgsk's own 1-D EfficientNetV2 (not the release's): 15 blocks, SiLU, "
                "SE in MBConv blocks, 640 features",
)
def _ecgsk_effnet(n_leads: int, n_times: int, n_outputs: int, **kwargs) -> EfficientNetV2_1d:
    return EfficientNetV2_1d(n_leads, n_times, n_outputs, **kwargs)


@register_model(
    "ecgsk-effnet-tiny", n_params=17_825, tiny=True,
    description="ecgsk-effnet's structure at test size (one block per stage, 64 features)",
)
def _ecgsk_effnet_tiny(n_leads: int, n_times: int, n_outputs: int,
                       **kwargs) -> EfficientNetV2_1d:
    kwargs = {"stages": DEEPECG_SL_TINY_STAGES, "stem_width": 8, "n_features": 64, **kwargs}
    return EfficientNetV2_1d(n_leads, n_times, n_outputs, **kwargs)
