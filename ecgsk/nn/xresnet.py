"""xresnet1d: the strongest CNN baseline family of the PTB-XL benchmark.

Strodthoff et al. (2021), "Deep learning for ECG analysis: benchmarks and insights from PTB-XL",
use fastai's xresnet ("bag of tricks" ResNet) with 1-D convolutions. Facts taken from their code
(``helme/ecg_ptbxl_benchmarking``, ``code/models/xresnet1d.py`` and ``fastai_model.py``):

- stem: three conv-BN-ReLU layers of widths 32, 32, 64 and kernel 5, the first with stride 2,
  then ``MaxPool1d(3, stride=2, padding=1)``;
- bottleneck blocks (expansion 4): 1x1 conv, k conv (stride on the first block of stages 2-4),
  1x1 conv to ``4 x width`` whose BatchNorm weight starts at zero, so every block starts as the
  identity; shortcut: ``AvgPool1d(2, ceil_mode=True)`` when striding, then a 1x1 conv + BN when
  the width changes; ReLU after the sum; kernel size 5;
- stage widths 64, 64, 64, 64 (x4 = 256 output channels: the benchmark narrows fastai's
  64/128/256/512, kept available through ``widths=``); layers [3, 4, 6, 3] (xresnet1d50) and
  [3, 4, 23, 3] (xresnet1d101); kaiming-normal initialisation, zero biases;
- head: concatenated adaptive max and average pooling (512 features), then
  ``BN -> Dropout(0.25) -> Linear(512, 128) -> ReLU -> BN -> Dropout(0.5) -> Linear(128, K)``
  (the benchmark's ``lin_ftrs_head=[128]``, ``ps_head=0.5``).

Downsampling is 32x (2500 samples -> 79 steps), so inputs need at least 32 samples.
Measured sizes for ``(n_leads, n_times, n_outputs) = (12, 2500, 77)``:

=====================  ==========  =====================================================
name                   parameters  configuration
=====================  ==========  =====================================================
``xresnet1d50``        963,277     layers [3, 4, 6, 3], widths 64 x4
``xresnet1d101``       1,881,549   layers [3, 4, 23, 3], widths 64 x4
``xresnet1d50-tiny``   19,501      layers [1, 1, 1, 1], widths 8/8/16/16, stem 8/8/16, hidden 32
``xresnet1d101-tiny``  26,541      layers [1, 1, 3, 1], same widths
=====================  ==========  =====================================================
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from ._base import ECGModule, check_positive_int, check_probability, check_widths
from ._layers import (
    AvgPool1d,
    BatchNorm1d,
    Conv1d,
    ConvBN,
    MaxPool1d,
    global_max,
    global_mean,
)
from ._registry import register_model
from .heads import MLPHead


def _conv_bn(c_in: int, c_out: int, kernel: int, stride: int = 1, act: bool = True,
             zero_bn: bool = False) -> ConvBN:
    bn = BatchNorm1d(c_out)
    bn.weight.data.fill_(0.0 if zero_bn else 1.0)
    layers: list[nn.Module] = [
        Conv1d(c_in, c_out, kernel, stride=stride, padding=(kernel - 1) // 2, bias=False),
        bn,
    ]
    if act:
        layers.append(nn.ReLU(inplace=True))
    return ConvBN(*layers)


class XResBlock1d(nn.Module):
    """xresnet residual block (bottleneck when ``expansion > 1``).

    Parameters
    ----------
    expansion : int
        Output channels are ``expansion * width``.
    c_in : int
        Input channels.
    width : int
        Bottleneck width.
    stride : int
        Stride of the k-wide conv (and of the average-pool shortcut).
    kernel : int
        Kernel size of the k-wide conv(s).
    """

    def __init__(self, expansion: int, c_in: int, width: int, stride: int, kernel: int):
        super().__init__()
        c_out = width * expansion
        if expansion == 1:
            self.convs = nn.Sequential(
                _conv_bn(c_in, width, kernel, stride),
                _conv_bn(width, c_out, kernel, act=False, zero_bn=True),
            )
        else:
            self.convs = nn.Sequential(
                _conv_bn(c_in, width, 1),
                _conv_bn(width, width, kernel, stride),
                _conv_bn(width, c_out, 1, act=False, zero_bn=True),
            )
        shortcut: list[nn.Module] = []
        if stride != 1:
            shortcut.append(AvgPool1d(stride, ceil_mode=True))
        if c_in != c_out:
            shortcut.append(_conv_bn(c_in, c_out, 1, act=False))
        self.shortcut = nn.Sequential(*shortcut)
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        return self.act(self.convs(x) + self.shortcut(x))


class XResNet1d(ECGModule):
    """1-D xresnet as in the PTB-XL benchmark.

    Parameters
    ----------
    n_leads, n_times, n_outputs : int
        Input leads, samples per lead (>= 32) and number of logits.
    layers : sequence of int, default=(3, 4, 6, 3)
        Blocks per stage (``(3, 4, 23, 3)`` for xresnet1d101).
    expansion : int, default=4
        Bottleneck expansion (1 gives basic blocks, as in xresnet1d18/34).
    widths : sequence of int, default=(64, 64, 64, 64)
        Bottleneck width of each stage (one per entry of ``layers``).
    stem_widths : sequence of int, default=(32, 32, 64)
        Widths of the three stem convolutions.
    kernel_size : int, default=5
        Kernel size of the block convolutions.
    stem_kernel_size : int, default=5
        Kernel size of the stem convolutions.
    head_hidden : sequence of int, default=(128,)
        Hidden sizes of the :class:`~ecgsk.nn.heads.MLPHead`.
    dropout : float, default=0.5
        Final dropout of the head.

    Attributes
    ----------
    n_features : int
        ``2 * expansion * widths[-1]`` (concatenated max and average pooling).
    head : MLPHead

    Examples
    --------
    >>> import torch
    >>> from ecgsk.nn import build_model
    >>> model = build_model("xresnet1d50-tiny", n_leads=12, n_times=1000, n_outputs=5)
    >>> model.forward_features(torch.zeros(2, 12, 1000)).shape
    torch.Size([2, 128])
    """

    def __init__(
        self,
        n_leads: int,
        n_times: int,
        n_outputs: int,
        layers: Sequence[int] = (3, 4, 6, 3),
        expansion: int = 4,
        widths: Sequence[int] = (64, 64, 64, 64),
        stem_widths: Sequence[int] = (32, 32, 64),
        kernel_size: int = 5,
        stem_kernel_size: int = 5,
        head_hidden: Sequence[int] = (128,),
        dropout: float = 0.5,
    ):
        super().__init__()
        layers = [check_positive_int(n, "blocks per stage") for n in layers]
        widths = [check_positive_int(w, "stage width") for w in widths]
        if not layers or len(layers) != len(widths):
            raise ValueError(
                f"layers and widths must be non-empty and of equal length, got {len(layers)} "
                f"and {len(widths)}"
            )
        stem_widths = check_widths(stem_widths, "stem_widths")
        expansion = check_positive_int(expansion, "expansion")
        kernel_size = check_positive_int(kernel_size, "kernel_size")
        stem_kernel_size = check_positive_int(stem_kernel_size, "stem_kernel_size")
        self.dropout = check_probability(dropout, "dropout")
        self.head_hidden = tuple(check_positive_int(h, "head hidden size") for h in head_hidden)
        self._init_signal(n_leads, n_times, n_outputs, min_times=2 ** (len(layers) + 1))
        self.fast_layout = True  # channels-last 4-D feature maps (ecgsk.nn._layers)

        stem: list[nn.Module] = []
        c_in = self.n_leads
        for i, width in enumerate(stem_widths):
            stem.append(_conv_bn(c_in, width, stem_kernel_size, stride=2 if i == 0 else 1))
            c_in = width
        stem.append(MaxPool1d(kernel_size=3, stride=2, padding=1))
        self.stem = nn.Sequential(*stem)

        stages: list[nn.Module] = []
        for i, (n_blocks, width) in enumerate(zip(layers, widths, strict=True)):
            blocks: list[nn.Module] = []
            for j in range(n_blocks):
                stride = 2 if (i > 0 and j == 0) else 1
                blocks.append(XResBlock1d(expansion, c_in, width, stride, kernel_size))
                c_in = width * expansion
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.Sequential(*stages)
        self.n_features = 2 * c_in
        self._init_weights()
        self.head = self._make_head(self.n_outputs)

    def _init_weights(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv1d):
                nn.init.kaiming_normal_(m.weight)
            elif isinstance(m, nn.BatchNorm1d):
                nn.init.zeros_(m.bias)

    def _make_head(self, n_outputs: int) -> nn.Module:
        head = MLPHead(self.n_features, n_outputs, hidden=self.head_hidden, dropout=self.dropout)
        for m in head.modules():
            if isinstance(m, nn.Linear):
                nn.init.kaiming_normal_(m.weight)
                nn.init.zeros_(m.bias)
        return head

    def forward_features(self, x: Tensor) -> Tensor:
        """Embeddings ``(B, n_features)``: max- and average-pooled last feature map."""
        self._check_input(x)
        x = self.stages(self.stem(self._to_layout(x)))
        return torch.cat([global_max(x), global_mean(x)], dim=1)


_TINY = {"widths": (8, 8, 16, 16), "stem_widths": (8, 8, 16), "head_hidden": (32,)}


@register_model(
    "xresnet1d50", n_params=963_277,
    description="PTB-XL benchmark xresnet1d50: bottleneck blocks [3, 4, 6, 3], kernel 5",
)
def _xresnet1d50(n_leads: int, n_times: int, n_outputs: int, **kwargs) -> XResNet1d:
    return XResNet1d(n_leads, n_times, n_outputs, **{"layers": (3, 4, 6, 3), **kwargs})


@register_model(
    "xresnet1d101", n_params=1_881_549,
    description="PTB-XL benchmark xresnet1d101: bottleneck blocks [3, 4, 23, 3], kernel 5",
)
def _xresnet1d101(n_leads: int, n_times: int, n_outputs: int, **kwargs) -> XResNet1d:
    return XResNet1d(n_leads, n_times, n_outputs, **{"layers": (3, 4, 23, 3), **kwargs})


@register_model(
    "xresnet1d50-tiny", n_params=19_501, tiny=True,
    description="xresnet1d50 structure at test size (one block per stage, widths 8-16)",
)
def _xresnet1d50_tiny(n_leads: int, n_times: int, n_outputs: int, **kwargs) -> XResNet1d:
    return XResNet1d(n_leads, n_times, n_outputs, **{"layers": (1, 1, 1, 1), **_TINY, **kwargs})


@register_model(
    "xresnet1d101-tiny", n_params=26_541, tiny=True,
    description="xresnet1d101 structure at test size (a deeper third stage, widths 8-16)",
)
def _xresnet1d101_tiny(n_leads: int, n_times: int, n_outputs: int, **kwargs) -> XResNet1d:
    return XResNet1d(n_leads, n_times, n_outputs, **{"layers": (1, 1, 3, 1), **_TINY, **kwargs})
