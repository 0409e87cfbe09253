"""``ecgsk-cnn``: a compact CNN sized so that a CPU time budget trains it for many epochs.

ecgsk's own design (not from a paper): what ``module="auto"`` builds on a CPU. Issue 11's
measurements showed that on 2 CPU cores the published networks (DeepECG-SL, xresnet1d50) get
only a few epochs out of a budget of minutes and lose to a plain 4-layer CNN trained in the
same time. This network keeps that CNN's shape and adds what the 250 Hz DeepECG input needs:

- a stride-2 stem convolution (kernel 15, 60 ms at 250 Hz), which brings the 2,500-sample
  input to 125 Hz, about the information content of ECGs recorded at 100 Hz, and so costs
  little more than the plain CNN does on 1,000 samples;
- four blocks of ``Conv1d(k=7) -> BatchNorm -> ReLU -> MaxPool1d(2)``, widths 64, 128, 128,
  256 (receptive field 225 samples, 0.9 s at 250 Hz, before the global pooling);
- concatenated global average and max pooling (512 features), dropout, one linear layer.

Forward cost for a 12 x 2,500 ECG: 0.27 GFLOP (``deepecg-sl``: 1.2, ``xresnet1d50``: 0.52;
counted with ``torch.utils.flop_counter``). Downsampling is 32x, so inputs need at least 32
samples.

=================  ==========  ===================================================
name               parameters  configuration
=================  ==========  ===================================================
``ecgsk-cnn``      462,221     stem 32, widths 64/128/128/256, kernel 7
``ecgsk-cnn-tiny`` 13,325      stem 8, widths 8/16/16/32, kernel 7
=================  ==========  ===================================================
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from ._base import ECGModule, check_positive_int, check_probability, check_widths
from ._layers import BatchNorm1d, Conv1d, ConvBN, MaxPool1d, global_max, global_mean
from ._registry import register_model
from .heads import LinearHead


def _conv_bn_relu(c_in: int, c_out: int, kernel: int, stride: int = 1) -> ConvBN:
    return ConvBN(
        Conv1d(c_in, c_out, kernel, stride=stride, padding=(kernel - 1) // 2, bias=False),
        BatchNorm1d(c_out),
        nn.ReLU(inplace=True),
    )


class CompactCNN(ECGModule):
    """A strided stem and conv-BN-ReLU-max-pool blocks (ecgsk's CPU default network).

    Parameters
    ----------
    n_leads, n_times, n_outputs : int
        Input leads, samples per lead and number of logits.
    widths : sequence of int, default=(64, 128, 128, 256)
        Channels of the blocks; each block halves the time axis.
    kernel_size : int, default=7
        Kernel of the block convolutions.
    stem_width : int, default=32
        Channels of the stem convolution.
    stem_kernel_size : int, default=15
        Kernel of the stem convolution (stride 2).
    dropout : float, default=0.0
        Dropout on the pooled features.

    Examples
    --------
    >>> import torch
    >>> model = CompactCNN(12, 2500, 5)
    >>> model(torch.zeros(2, 12, 2500)).shape
    torch.Size([2, 5])
    >>> model.n_features
    512
    """

    def __init__(
        self,
        n_leads: int,
        n_times: int,
        n_outputs: int,
        widths: Sequence[int] = (64, 128, 128, 256),
        kernel_size: int = 7,
        stem_width: int = 32,
        stem_kernel_size: int = 15,
        dropout: float = 0.0,
    ):
        super().__init__()
        widths = check_widths(widths, "widths")
        kernel_size = check_positive_int(kernel_size, "kernel_size")
        stem_width = check_positive_int(stem_width, "stem_width")
        stem_kernel_size = check_positive_int(stem_kernel_size, "stem_kernel_size")
        self.dropout = check_probability(dropout, "dropout")
        self._init_signal(n_leads, n_times, n_outputs, min_times=2 ** (len(widths) + 1))
        # dense k>1 convolutions run faster in the plain (B, C, L) layout on CPU
        self.fast_layout = False
        layers: list[nn.Module] = [_conv_bn_relu(self.n_leads, stem_width, stem_kernel_size, 2)]
        c_in = stem_width
        for width in widths:
            layers += [_conv_bn_relu(c_in, width, kernel_size), MaxPool1d(2)]
            c_in = width
        self.features = nn.Sequential(*layers)
        self.n_features = 2 * c_in
        for m in self.modules():
            if isinstance(m, nn.Conv1d):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
        self.head = self._make_head(self.n_outputs)

    def _make_head(self, n_outputs: int) -> nn.Module:
        return LinearHead(self.n_features, n_outputs, dropout=self.dropout)

    def forward_features(self, x: Tensor) -> Tensor:
        """Embeddings ``(B, n_features)``: average- and max-pooled last feature map."""
        self._check_input(x)
        x = self.features(self._to_layout(x))
        return torch.cat([global_mean(x), global_max(x)], dim=1)


@register_model(
    "ecgsk-cnn", n_params=462_221,
    description="ecgsk's compact CNN (CPU default): stride-2 stem, 4 conv-pool blocks, "
                "0.27 GFLOP per 10 s ECG",
)
def _ecgsk_cnn(n_leads: int, n_times: int, n_outputs: int, **kwargs) -> CompactCNN:
    return CompactCNN(n_leads, n_times, n_outputs, **kwargs)


@register_model(
    "ecgsk-cnn-tiny", n_params=13_325, tiny=True,
    description="ecgsk-cnn's structure at test size (widths 8-32)",
)
def _ecgsk_cnn_tiny(n_leads: int, n_times: int, n_outputs: int, **kwargs) -> CompactCNN:
    return CompactCNN(n_leads, n_times, n_outputs,
                      **{"widths": (8, 16, 16, 32), "stem_width": 8, **kwargs})
