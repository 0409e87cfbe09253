"""The DeepECG-SSL ECG transformer: a wav2vec 2.0-style encoder for 12-lead ECGs.

DeepECG-SSL pretrains the ECG transformer of fairseq-signals (wav2vec 2.0 adapted to ECGs) and
fine-tunes it. The architecture (``"deepecg-ssl"``):

- convolutional feature encoder: 4 layers ``Conv1d(kernel=2, stride=2, 256 channels, no bias)``,
  GroupNorm (one group per channel) after the first conv, GELU after each: 16x downsampling,
  2500 samples -> 156 time steps of 256 features;
- LayerNorm(256) and a linear projection to the model width 768 (then input dropout 0.1);
- convolutional positional embedding: ``Conv1d(768, 768, kernel=128, groups=16)`` with "same"
  padding (the extra step of the even kernel is dropped), GELU, added to the tokens; its
  weight is weight-normalised over the kernel dimension as in wav2vec 2.0 and the release
  (``torch.nn.utils.weight_norm(conv, dim=2)``; ``pos_conv_weight_norm=False`` gives a plain
  convolution);
- 12 post-LN transformer layers (width 768, 12 heads, FFN 3072, GELU, dropout 0.1, attention
  dropout 0.1) after a LayerNorm (``layer_norm_first=True`` gives the pre-LN variant with the
  LayerNorm at the end instead);
- a pooling over time (mean by default, ``pooling="attention"`` for learned attention pooling)
  and a linear head.

The pieces the self-supervised objectives need are methods: :meth:`ECGTransformer.extract_features`
(raw conv-encoder output), :meth:`~ECGTransformer.project` (LayerNorm + projection),
:meth:`~ECGTransformer.mask_tokens` (replace masked steps by the learned ``mask_embedding``),
:meth:`~ECGTransformer.encode` (positional embedding + transformer) and
:meth:`~ECGTransformer.pool`.

Measured sizes for ``(n_leads, n_times, n_outputs) = (12, 2500, 77)`` with the defaults
(mean pooling, weight-normalised positional conv, whose ``g`` adds ``pos_conv_kernel`` parameters:
128, or 16 for the tiny model):

======================  ===========  ====================================================
name                    parameters   configuration
======================  ===========  ====================================================
``deepecg-ssl``         90,433,229   12 layers, width 768, FFN 3072, 12 heads
``deepecg-ssl-small``   62,081,741   8 layers, otherwise as ``deepecg-ssl``
``deepecg-ssl-tiny``    97,757       2 layers, width 64, FFN 128, 4 heads, 32-channel
                                     conv encoder, positional conv kernel 16 / 4 groups
======================  ===========  ====================================================
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ._base import ECGModule, check_positive_int, check_probability
from ._registry import register_model
from .heads import AttentionPooling, LinearHead, MeanPooling

#: (channels, kernel, stride) of the DeepECG-SSL convolutional feature encoder.
DEEPECG_SSL_CONV_LAYERS: tuple[tuple[int, int, int], ...] = ((256, 2, 2),) * 4


class ConvFeatureEncoder(nn.Module):
    """Strided 1-D conv stack turning ``(B, n_leads, n_times)`` into ``(B, C, T')``.

    Parameters
    ----------
    n_leads : int
        Input channels.
    conv_layers : sequence of (channels, kernel, stride)
        One entry per conv layer (no bias, no padding). The first layer is followed by a
        GroupNorm with one group per channel; every layer by GELU.

    Examples
    --------
    >>> import torch
    >>> ConvFeatureEncoder(12, ((256, 2, 2),) * 4)(torch.zeros(1, 12, 2500)).shape
    torch.Size([1, 256, 156])
    """

    def __init__(self, n_leads: int, conv_layers: Sequence[tuple[int, int, int]]):
        super().__init__()
        layers: list[nn.Module] = []
        c_in = n_leads
        for i, (channels, kernel, stride) in enumerate(conv_layers):
            block: list[nn.Module] = [nn.Conv1d(c_in, channels, kernel, stride=stride, bias=False)]
            if i == 0:
                block.append(nn.GroupNorm(channels, channels))
            block.append(nn.GELU())
            layers.append(nn.Sequential(*block))
            c_in = channels
        self.layers = nn.Sequential(*layers)
        self.n_channels = c_in
        for m in self.modules():
            if isinstance(m, nn.Conv1d):
                nn.init.kaiming_normal_(m.weight)

    def forward(self, x: Tensor) -> Tensor:
        return self.layers(x)


class _WeightNormParameters(nn.Module):
    """Holds ``g`` (``original0``) and ``v`` (``original1``) of a weight-normalised weight."""

    def __init__(self, g: Tensor, v: Tensor):
        super().__init__()
        self.original0 = nn.Parameter(g)
        self.original1 = nn.Parameter(v)


class _WeightNormParametrizations(nn.Module):
    """Container named like torch's parametrizations, so that state-dict keys are identical."""

    def __init__(self, g: Tensor, v: Tensor):
        super().__init__()
        self.weight = _WeightNormParameters(g, v)


def upgrade_pos_conv_state(state: dict, module: nn.Module) -> dict:
    """Convert a plain ``pos_conv.conv.weight`` (ecgsk before 0.3) to weight-norm ``g``, ``v``.

    Encoders and models saved before the positional convolution became weight-normed by
    default store its folded weight; ``g = ||w||`` (over all dims but the kernel's) and
    ``v = w`` give the same convolution. Keys the module does not expect are left alone.

    Examples
    --------
    >>> import torch
    >>> from ecgsk.nn import build_model
    >>> model = build_model("deepecg-ssl-tiny", n_times=250, n_outputs=1)
    >>> key = "pos_conv.conv.parametrizations.weight.original1"
    >>> old = {k: v for k, v in model.state_dict().items() if "parametrizations" not in k}
    >>> old["pos_conv.conv.weight"] = model.state_dict()[key]
    >>> new = upgrade_pos_conv_state(old, model)
    >>> torch.equal(new[key], old["pos_conv.conv.weight"])
    True
    """
    expected = set(module.state_dict())
    out = dict(state)
    for key in [k for k in state if k.endswith("pos_conv.conv.weight")]:
        prefix = key[: -len("weight")]
        g_key, v_key = prefix + "parametrizations.weight.original0", prefix + "parametrizations.weight.original1"
        if key in expected or g_key not in expected:
            continue
        weight = out.pop(key)
        out[v_key] = weight
        out[g_key] = weight.norm(p=2, dim=(0, 1), keepdim=True)
    return out


class WeightNormConv1d(nn.Module):
    """``Conv1d`` with the weight ``g * v / ||v||``, the norm over all dims but the kernel's.

    This is ``torch.nn.utils.weight_norm(conv, dim=2)`` of wav2vec 2.0 and fairseq-signals,
    computed in ``forward`` instead of through a parametrization, so that the module pickles,
    scripts and exports like any other. Its state-dict keys are those of
    ``torch.nn.utils.parametrizations.weight_norm``:
    ``parametrizations.weight.original0`` (``g``, shape ``(1, 1, kernel)``),
    ``parametrizations.weight.original1`` (``v``) and ``bias``.

    Parameters
    ----------
    conv : torch.nn.Conv1d
        The convolution to normalise; its weight gives the initial ``v`` and ``g = ||v||``.

    Examples
    --------
    >>> import torch
    >>> conv = torch.nn.Conv1d(4, 4, 3, padding=1, groups=2)
    >>> wn = WeightNormConv1d(conv)
    >>> torch.allclose(wn(torch.ones(1, 4, 5)), conv(torch.ones(1, 4, 5)), atol=1e-6)
    True
    """

    def __init__(self, conv: nn.Conv1d):
        super().__init__()
        if conv.bias is None or conv.stride != (1,) or conv.dilation != (1,):
            raise ValueError("WeightNormConv1d expects a stride-1 undilated convolution with a bias")
        v = conv.weight.detach().clone()
        g = v.norm(p=2, dim=(0, 1), keepdim=True)
        self.parametrizations = _WeightNormParametrizations(g, v)
        self.bias = nn.Parameter(conv.bias.detach().clone())
        # the Conv1d attributes that describe it (stride 1, no dilation)
        self.in_channels, self.out_channels = int(conv.in_channels), int(conv.out_channels)
        self.kernel_size = (int(conv.kernel_size[0]),)
        self.padding = (int(conv.padding[0]),)
        self.groups = int(conv.groups)

    @property
    def weight(self) -> Tensor:
        """The effective convolution weight ``g * v / ||v||``."""
        v = self.parametrizations.weight.original1
        g = self.parametrizations.weight.original0
        return g * v / v.norm(p=2, dim=(0, 1), keepdim=True)

    def forward(self, x: Tensor) -> Tensor:
        v = self.parametrizations.weight.original1
        g = self.parametrizations.weight.original0
        weight = g * v / v.norm(p=2, dim=(0, 1), keepdim=True)
        return F.conv1d(x, weight.to(x.dtype), self.bias.to(x.dtype), padding=self.padding[0],
                        groups=self.groups)


class ConvPositionalEmbedding(nn.Module):
    """Grouped-conv relative positional embedding of wav2vec 2.0, on ``(B, T, D)`` tokens.

    Returns the embedding (to be added to the tokens), same shape as the input. With
    ``weight_norm=True`` (the release) the convolution is a :class:`WeightNormConv1d`.
    """

    def __init__(self, dim: int, kernel: int, groups: int, weight_norm: bool = True):
        super().__init__()
        if dim % groups:
            raise ValueError(f"embed_dim={dim} must be divisible by pos_conv_groups={groups}")
        conv = nn.Conv1d(dim, dim, kernel, padding=kernel // 2, groups=groups)
        std = math.sqrt(4.0 / (kernel * dim))
        nn.init.normal_(conv.weight, mean=0.0, std=std)
        nn.init.zeros_(conv.bias)
        self.conv: nn.Module = WeightNormConv1d(conv) if weight_norm else conv
        # An even kernel with padding k // 2 yields one extra step; it is dropped.
        self.trim = 1 if kernel % 2 == 0 else 0
        self.act = nn.GELU()

    def forward(self, x: Tensor) -> Tensor:
        y = self.conv(x.transpose(1, 2))
        if self.trim > 0:
            y = y[:, :, : y.shape[2] - self.trim]
        return self.act(y).transpose(1, 2)


class SelfAttention(nn.Module):
    """Multi-head self-attention on ``(B, T, D)`` with an optional key padding mask."""

    def __init__(self, dim: int, n_heads: int, dropout: float):
        super().__init__()
        if dim % n_heads:
            raise ValueError(f"embed_dim={dim} must be divisible by n_heads={n_heads}")
        self.n_heads = n_heads
        self.dropout = dropout
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)

    def forward(self, x: Tensor, padding_mask: Tensor | None = None) -> Tensor:
        b, t, d = x.shape
        qkv = self.qkv(x).reshape(b, t, 3, self.n_heads, d // self.n_heads).permute(2, 0, 3, 1, 4)
        attn_mask: Tensor | None = None
        if padding_mask is not None:
            attn_mask = (~padding_mask).view(b, 1, 1, t)
        y = F.scaled_dot_product_attention(
            qkv[0], qkv[1], qkv[2], attn_mask=attn_mask,
            dropout_p=self.dropout if self.training else 0.0,
        )
        return self.out(y.transpose(1, 2).reshape(b, t, d))


class TransformerLayer(nn.Module):
    """Transformer encoder layer, post-LN (wav2vec 2.0 base) or pre-LN."""

    def __init__(self, dim: int, n_heads: int, ffn_dim: int, dropout: float,
                 attention_dropout: float, activation_dropout: float, layer_norm_first: bool):
        super().__init__()
        self.attn = SelfAttention(dim, n_heads, attention_dropout)
        self.norm1 = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, ffn_dim)
        self.fc2 = nn.Linear(ffn_dim, dim)
        self.norm2 = nn.LayerNorm(dim)
        self.dropout = nn.Dropout(dropout)
        self.activation_dropout = nn.Dropout(activation_dropout)
        self.layer_norm_first = layer_norm_first

    def _ffn(self, x: Tensor) -> Tensor:
        return self.fc2(self.activation_dropout(F.gelu(self.fc1(x))))

    def forward(self, x: Tensor, padding_mask: Tensor | None = None) -> Tensor:
        if self.layer_norm_first:
            x = x + self.dropout(self.attn(self.norm1(x), padding_mask))
            return x + self.dropout(self._ffn(self.norm2(x)))
        x = self.norm1(x + self.dropout(self.attn(x, padding_mask)))
        return self.norm2(x + self.dropout(self._ffn(x)))


class ECGTransformer(ECGModule):
    """wav2vec 2.0-style ECG transformer (the DeepECG-SSL encoder) with a pooling head.

    Parameters
    ----------
    n_leads, n_times, n_outputs : int
        Input leads, samples per lead and number of logits. ``n_times`` must give at least one
        token (16 samples with the default encoder).
    conv_layers : sequence of (channels, kernel, stride), default=DEEPECG_SSL_CONV_LAYERS
        The convolutional feature encoder.
    embed_dim : int, default=768
        Transformer width.
    n_layers : int, default=12
        Transformer layers.
    n_heads : int, default=12
        Attention heads.
    ffn_dim : int, default=3072
        Feed-forward width.
    pos_conv_kernel : int, default=128
        Kernel of the convolutional positional embedding.
    pos_conv_groups : int, default=16
        Groups of the convolutional positional embedding.
    pos_conv_weight_norm : bool, default=True
        Weight-normalise the positional conv over its kernel dimension, as wav2vec 2.0 and
        the DeepECG-SSL release do (:class:`WeightNormConv1d`; it pickles, scripts and
        exports). False gives a plain convolution.
    dropout : float, default=0.1
        Dropout in the transformer layers and after the positional embedding.
    attention_dropout : float, default=0.1
        Dropout on the attention weights.
    activation_dropout : float, default=0.0
        Dropout after the FFN activation.
    input_dropout : float, default=0.1
        Dropout on the projected tokens.
    layer_norm_first : bool, default=False
        Pre-LN layers (LayerNorm at the end of the stack) instead of post-LN.
    pooling : {"mean", "attention"}, default="mean"
        How :meth:`forward_features` pools the token sequence.
    head_dropout : float, default=0.0
        Dropout before the linear head.

    Attributes
    ----------
    n_features : int
        ``embed_dim``.
    n_tokens : int
        Tokens produced for ``n_times`` samples (156 for 2500).
    mask_embedding : torch.nn.Parameter of shape (embed_dim,)
        Learned vector that replaces masked tokens (:meth:`mask_tokens`).
    head : LinearHead

    Examples
    --------
    >>> import torch
    >>> from ecgsk.nn import build_model
    >>> model = build_model("deepecg-ssl-tiny", n_leads=12, n_times=1000, n_outputs=4)
    >>> x = torch.zeros(2, 12, 1000)
    >>> features = model.extract_features(x)        # (B, T', C)
    >>> tokens = model.project(features)            # (B, T', D)
    >>> mask = torch.zeros(2, tokens.shape[1], dtype=torch.bool)
    >>> mask[:, :10] = True
    >>> encoded = model.encode(model.mask_tokens(tokens, mask))
    >>> tuple(features.shape), tuple(encoded.shape), tuple(model(x).shape)
    ((2, 62, 32), (2, 62, 64), (2, 4))
    """

    def __init__(
        self,
        n_leads: int,
        n_times: int,
        n_outputs: int,
        conv_layers: Sequence[tuple[int, int, int]] = DEEPECG_SSL_CONV_LAYERS,
        embed_dim: int = 768,
        n_layers: int = 12,
        n_heads: int = 12,
        ffn_dim: int = 3072,
        pos_conv_kernel: int = 128,
        pos_conv_groups: int = 16,
        pos_conv_weight_norm: bool = True,
        dropout: float = 0.1,
        attention_dropout: float = 0.1,
        activation_dropout: float = 0.0,
        input_dropout: float = 0.1,
        layer_norm_first: bool = False,
        pooling: str = "mean",
        head_dropout: float = 0.0,
    ):
        super().__init__()
        conv_layers = tuple(
            tuple(check_positive_int(v, "conv layer (channels, kernel, stride)") for v in layer)
            for layer in conv_layers
        )
        if not conv_layers or any(len(layer) != 3 for layer in conv_layers):
            raise ValueError(
                "conv_layers must be a non-empty sequence of (channels, kernel, stride)"
            )
        min_times = 1
        for _, kernel, stride in reversed(conv_layers):
            min_times = (min_times - 1) * stride + kernel
        self._init_signal(n_leads, n_times, n_outputs, min_times=min_times)
        self.conv_layers = conv_layers
        self.n_features = check_positive_int(embed_dim, "embed_dim")
        n_layers = check_positive_int(n_layers, "n_layers")
        n_heads = check_positive_int(n_heads, "n_heads")
        ffn_dim = check_positive_int(ffn_dim, "ffn_dim")
        if pooling not in ("mean", "attention"):
            raise ValueError(f"pooling must be 'mean' or 'attention', got {pooling!r}")
        self.pooling = pooling
        self.head_dropout = check_probability(head_dropout, "head_dropout")
        dropout = check_probability(dropout, "dropout")
        self.n_tokens = self.feature_length(self.n_times)

        self.feature_encoder = ConvFeatureEncoder(self.n_leads, conv_layers)
        n_channels = self.feature_encoder.n_channels
        self.feature_norm = nn.LayerNorm(n_channels)
        self.post_extract_proj = nn.Linear(n_channels, self.n_features)
        self.input_dropout = nn.Dropout(check_probability(input_dropout, "input_dropout"))
        self.mask_embedding = nn.Parameter(torch.empty(self.n_features).uniform_())
        self.pos_conv = ConvPositionalEmbedding(
            self.n_features, check_positive_int(pos_conv_kernel, "pos_conv_kernel"),
            check_positive_int(pos_conv_groups, "pos_conv_groups"),
            weight_norm=bool(pos_conv_weight_norm),
        )
        self.encoder_norm = nn.LayerNorm(self.n_features)
        self.encoder_dropout = nn.Dropout(dropout)
        self.layer_norm_first = bool(layer_norm_first)
        self.layers = nn.ModuleList(
            TransformerLayer(
                self.n_features, n_heads, ffn_dim, dropout,
                check_probability(attention_dropout, "attention_dropout"),
                check_probability(activation_dropout, "activation_dropout"),
                self.layer_norm_first,
            )
            for _ in range(n_layers)
        )
        for layer in self.layers:
            for m in layer.modules():
                if isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, mean=0.0, std=0.02)
                    nn.init.zeros_(m.bias)
        self.pool_layer = (
            AttentionPooling(self.n_features) if pooling == "attention"
            else MeanPooling(self.n_features)
        )
        self.head = self._make_head(self.n_outputs)

    @torch.jit.unused
    def feature_length(self, n_times: int) -> int:
        """Number of tokens the feature encoder makes from ``n_times`` samples.

        Examples
        --------
        >>> from ecgsk.nn import build_model
        >>> build_model("deepecg-ssl-tiny").feature_length(2500)
        156
        """
        length = int(n_times)
        for _, kernel, stride in self.conv_layers:
            length = (length - kernel) // stride + 1
        return length

    def _make_head(self, n_outputs: int) -> nn.Module:
        head = LinearHead(self.n_features, n_outputs, dropout=self.head_dropout)
        nn.init.normal_(head.linear.weight, mean=0.0, std=0.02)
        nn.init.zeros_(head.linear.bias)
        return head

    def extract_features(self, x: Tensor) -> Tensor:
        """Conv feature encoder output ``(B, T', C)`` for input ``(B, n_leads, n_times)``."""
        self._check_input(x)
        return self.feature_encoder(x).transpose(1, 2)

    def project(self, features: Tensor) -> Tensor:
        """LayerNorm, linear projection to ``embed_dim`` and input dropout: ``(B, T', D)``.

        The normalised features that wav2vec 2.0 quantizes are ``self.feature_norm(features)``.
        """
        return self.input_dropout(self.post_extract_proj(self.feature_norm(features)))

    def mask_tokens(self, tokens: Tensor, mask: Tensor) -> Tensor:
        """Replace the tokens where ``mask`` ``(B, T')`` is True by ``mask_embedding``."""
        return torch.where(mask.unsqueeze(-1), self.mask_embedding.to(tokens.dtype), tokens)

    def encode(self, tokens: Tensor, padding_mask: Tensor | None = None) -> Tensor:
        """Positional embedding and transformer layers: ``(B, T', D) -> (B, T', D)``.

        Parameters
        ----------
        tokens : Tensor of shape (B, T', D)
            Projected (and possibly masked) tokens.
        padding_mask : bool Tensor of shape (B, T'), optional
            True at padded steps; they are zeroed and ignored by attention.
        """
        if padding_mask is not None:
            tokens = tokens.masked_fill(padding_mask.unsqueeze(-1), 0.0)
        x = tokens + self.pos_conv(tokens)
        if not self.layer_norm_first:
            x = self.encoder_norm(x)
        x = self.encoder_dropout(x)
        for layer in self.layers:
            x = layer(x, padding_mask)
        if self.layer_norm_first:
            x = self.encoder_norm(x)
        return x

    def pool(self, encoded: Tensor, padding_mask: Tensor | None = None) -> Tensor:
        """Pool ``(B, T', D)`` transformer output into ``(B, D)`` (mean or attention)."""
        return self.pool_layer(encoded, padding_mask)

    def forward_features(self, x: Tensor) -> Tensor:
        """Embeddings ``(B, embed_dim)``: pooled transformer output."""
        tokens = self.project(self.extract_features(x))
        return self.pool(self.encode(tokens, None), None)


def _ssl(n_leads, n_times, n_outputs, defaults, kwargs) -> ECGTransformer:
    return ECGTransformer(n_leads, n_times, n_outputs, **{**defaults, **kwargs})


@register_model(
    "deepecg-ssl", n_params=90_433_229,
    description="DeepECG-SSL: wav2vec 2.0-style ECG transformer, 12 x 768, conv encoder 16x",
)
def _deepecg_ssl(n_leads: int, n_times: int, n_outputs: int, **kwargs) -> ECGTransformer:
    return _ssl(n_leads, n_times, n_outputs, {}, kwargs)


@register_model(
    "deepecg-ssl-small", n_params=62_081_741,
    description="DeepECG-SSL with 8 transformer layers",
)
def _deepecg_ssl_small(n_leads: int, n_times: int, n_outputs: int, **kwargs) -> ECGTransformer:
    return _ssl(n_leads, n_times, n_outputs, {"n_layers": 8}, kwargs)


_TINY = {
    "conv_layers": ((32, 2, 2),) * 4, "embed_dim": 64, "n_layers": 2, "n_heads": 4,
    "ffn_dim": 128, "pos_conv_kernel": 16, "pos_conv_groups": 4,
}


@register_model(
    "deepecg-ssl-tiny", n_params=97_757, tiny=True,
    description="DeepECG-SSL structure at test size (2 layers of width 64)",
)
def _deepecg_ssl_tiny(n_leads: int, n_times: int, n_outputs: int, **kwargs) -> ECGTransformer:
    return _ssl(n_leads, n_times, n_outputs, _TINY, kwargs)
