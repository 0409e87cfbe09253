"""1-D EfficientNetV2, the DeepECG-SL architecture.

DeepECG-SL (HeartWise-AI/DeepECG_Docker, ``models/modules/EfficientNetv2.py``) is an
EfficientNetV2 with 1-D convolutions: a Conv1d stem, Fused-MBConv stages followed by MBConv
stages, squeeze-and-excitation, BatchNorm + SiLU, a final 1x1 convolution to 640 channels,
global average pooling, dropout and a linear layer. Facts taken from that code: the stem uses
the first stage's kernel and stride; the first four stages are Fused-MBConv and the later ones
MBConv; the SE bottleneck is the expanded width divided by the ratio 4; only the first block of
a stage strides; a block is residual when its input and output widths match and it does not
stride. The published network has six stages with kernels 3/3/5/3/5/3 and strides 1/1/2/2/2/2
(16x downsampling: 2500 samples -> 157 steps) and about 1.5 M parameters; its exact widths and
depths are not in the public code (the weights ship as TorchScript), so the configuration below is
ours, chosen to match that description and size. Where the reference code departs from the
EfficientNetV2 paper we follow the paper: squeeze-and-excitation only in MBConv blocks (the
reference can add it to fused blocks too), BN + SiLU after the final 1x1 convolution (the
reference applies BN only), and a drop-path rate that grows with the block index (the reference
uses one rate for all blocks). Fused-MBConv blocks with expansion > 1 have the paper's 1x1
projection (the reference's fused block is a single convolution, i.e. expansion 1).

``"deepecg-sl"`` (the default :data:`DEEPECG_SL_STAGES`)::

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

Stochastic depth (drop-path) rises linearly with the block index from 0 to
``drop_path_rate=0.2`` over the 15 blocks and acts on residual blocks in training only.
Measured size for ``(n_leads, n_times, n_outputs) = (12, 2500, 77)``: **1,485,277** parameters
(1,435,920 without the head). ``"deepecg-sl-tiny"`` (:data:`DEEPECG_SL_TINY_STAGES`) keeps the
structure with an 8-channel stem, stage widths 8/8/16/16/24/32, expansions 1/2/2/2/2/2, one
block per stage and a 64-channel final conv:
**17,825** parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ._base import ECGModule, check_positive_int, check_probability
from ._layers import BatchNorm1d, Conv1d, global_mean
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
    return nn.Sequential(*layers)


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
        return x * mask / keep


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
    """1-D EfficientNetV2 for ECGs (the DeepECG-SL backbone).

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
    >>> model = build_model("deepecg-sl-tiny", n_leads=12, n_times=1000, n_outputs=3)
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


@register_model(
    "deepecg-sl", n_params=1_485_277,
    description="DeepECG-SL: 1-D EfficientNetV2, 6 stages (4 fused + 2 MBConv), 640 features",
)
def _deepecg_sl(n_leads: int, n_times: int, n_outputs: int, **kwargs) -> EfficientNetV2_1d:
    return EfficientNetV2_1d(n_leads, n_times, n_outputs, **kwargs)


@register_model(
    "deepecg-sl-tiny", n_params=17_825, tiny=True,
    description="DeepECG-SL structure at test size (one block per stage, 64 features)",
)
def _deepecg_sl_tiny(n_leads: int, n_times: int, n_outputs: int, **kwargs) -> EfficientNetV2_1d:
    kwargs = {"stages": DEEPECG_SL_TINY_STAGES, "stem_width": 8, "n_features": 64, **kwargs}
    return EfficientNetV2_1d(n_leads, n_times, n_outputs, **kwargs)
