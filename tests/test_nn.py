"""Tests of ecgsk.nn: the registry walk, the model contract and architecture facts."""

from __future__ import annotations

import ast
import math
import pickle
import time
import warnings
from pathlib import Path

import pytest
import torch

from ecgsk.nn import (
    ECGTransformer,
    EfficientNetV2_1d,
    StageSpec,
    XResNet1d,
    build_model,
    count_parameters,
    list_models,
    model_info,
    register_model,
    unregister_model,
)
from ecgsk.nn.efficientnet import (
    DeepECGSL,
    DropPath,
    FusedMBConv1d,
    MBConv1d,
    PublishedFusedMBConv1d,
    PublishedMBConv1d,
)
from ecgsk.nn.heads import AttentionPooling, MeanPooling, MLPHead
from ecgsk.nn.xresnet import XResBlock1d

TINY = list_models(tiny=True)
ALL = list_models()
N_TIMES = 500
EXPECTED = {
    "deepecg-sl", "deepecg-sl-tiny", "xresnet1d50", "xresnet1d50-tiny", "xresnet1d101",
    "xresnet1d101-tiny", "deepecg-ssl", "deepecg-ssl-small", "deepecg-ssl-tiny", "ecgsk-effnet",
    "ecgsk-effnet-tiny", "ecgsk-cnn", "ecgsk-cnn-tiny",
}


def _tiny(name, n_outputs=5, seed=0, **kwargs):
    torch.manual_seed(seed)
    return build_model(name, n_leads=12, n_times=N_TIMES, n_outputs=n_outputs, **kwargs)


def _x(batch=4, n_leads=12, n_times=N_TIMES, seed=1):
    return torch.randn(batch, n_leads, n_times, generator=torch.Generator().manual_seed(seed))


# ---------------------------------------------------------------------------------- registry


def test_registry_names():
    assert EXPECTED <= set(ALL)
    assert ALL == sorted(ALL)
    assert set(TINY) | set(list_models(tiny=False)) == set(ALL)
    assert all("tiny" in name for name in TINY)


@pytest.mark.parametrize("name", ALL)
def test_documented_parameter_count(name):
    # The meta device builds the 90 M-parameter transformer without allocating it.
    with torch.device("meta"):
        model = build_model(name, n_leads=12, n_times=2500, n_outputs=77)
    assert count_parameters(model) == model_info(name).n_params
    assert model.n_leads == 12 and model.n_times == 2500 and model.n_outputs == 77


def test_full_size_orders_of_magnitude():
    assert 6.4e6 < model_info("deepecg-sl").n_params < 6.5e6  # the release: 6.46 M
    assert 1.4e6 < model_info("ecgsk-effnet").n_params < 1.6e6
    assert 85e6 < model_info("deepecg-ssl").n_params < 95e6
    assert model_info("deepecg-ssl-small").n_params < model_info("deepecg-ssl").n_params
    assert model_info("xresnet1d50").n_params < model_info("xresnet1d101").n_params
    for name in TINY:
        assert model_info(name).n_params < 100_000, name


def test_unknown_name_lists_available():
    with pytest.raises(ValueError, match="unknown model 'resnet9000'") as err:
        build_model("resnet9000")
    for name in EXPECTED:
        assert name in str(err.value)


def test_register_and_duplicate():
    @register_model("test-linear", n_params=12 * 3 + 3, tiny=True)
    def _linear(n_leads, n_times, n_outputs):
        return torch.nn.Linear(n_leads, n_outputs)

    try:
        assert "test-linear" in list_models(tiny=True)
        assert count_parameters(build_model("test-linear", n_outputs=3)) == 39
        with pytest.raises(ValueError, match="already registered"):
            register_model("test-linear", n_params=1)(_linear)
    finally:
        unregister_model("test-linear")
    assert "test-linear" not in list_models()


def test_kwargs_reach_constructor():
    model = build_model("deepecg-sl-tiny", n_times=N_TIMES, dropout=0.0, drop_path_rate=0.0)
    assert model.head.dropout.p == 0.0
    with pytest.raises(TypeError):
        build_model("deepecg-sl-tiny", n_times=N_TIMES, not_a_parameter=1)


# ------------------------------------------------------------------------- registry walk


@pytest.mark.parametrize("name", TINY)
def test_forward_shapes_and_backward(name):
    model = _tiny(name).train()
    x = _x()
    logits = model(x)
    assert logits.shape == (4, 5) and logits.dtype == torch.float32
    feats = model.forward_features(x)
    assert feats.shape == (4, model.n_features)
    assert torch.isfinite(logits).all() and torch.isfinite(feats).all()
    logits.pow(2).mean().backward()
    for pname, p in model.named_parameters():
        if pname == "mask_embedding":  # used only by the SSL objectives
            assert p.grad is None
            continue
        assert p.grad is not None, pname
        assert torch.isfinite(p.grad).all(), pname
    assert any(p.grad.abs().sum() > 0 for n, p in model.named_parameters() if "head" not in n
               and p.grad is not None)


@pytest.mark.parametrize("name", TINY)
def test_reset_head(name):
    model = _tiny(name).eval()
    x = _x()
    feats = model.forward_features(x)
    old_head = model.head
    model.reset_head(3)
    assert model.head is not old_head and model.n_outputs == 3
    assert model(x).shape == (4, 3)
    torch.testing.assert_close(model.forward_features(x), feats)
    with pytest.raises(ValueError, match="n_outputs"):
        model.reset_head(0)


@pytest.mark.parametrize("name", TINY)
def test_torchscript_and_export(name):
    model = _tiny(name).eval()
    x = _x()
    with torch.no_grad():
        expected = model(x)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch.jit is deprecated in recent torch
            scripted = torch.jit.script(model)
            traced = torch.jit.trace(model, x)
        torch.testing.assert_close(scripted(x), expected)
        torch.testing.assert_close(traced(x), expected)
        torch.testing.assert_close(scripted.forward_features(x), model.forward_features(x))
        batch = torch.export.Dim("batch")
        exported = torch.export.export(model, (x,), dynamic_shapes={"x": {0: batch}})
        torch.testing.assert_close(exported.module()(x), expected)
        assert exported.module()(_x(batch=7)).shape == (7, 5)
    # the lead check survives scripting
    with pytest.raises(Exception, match="leads"):
        scripted(_x(n_leads=11))


@pytest.mark.parametrize("name", ["deepecg-sl-tiny", "deepecg-ssl-tiny"])
def test_onnx_export(name, tmp_path):
    pytest.importorskip("onnx")
    pytest.importorskip("onnxscript")
    model = _tiny(name).eval()
    path = tmp_path / "model.onnx"
    torch.onnx.export(model, (_x(),), str(path), dynamo=True)
    assert path.stat().st_size > 0


@pytest.mark.parametrize("name", TINY)
def test_pickle_round_trip(name):
    model = _tiny(name).eval()
    clone = pickle.loads(pickle.dumps(model))
    x = _x()
    torch.testing.assert_close(clone(x), model(x), rtol=0, atol=0)
    assert clone.n_features == model.n_features and clone.n_leads == 12


@pytest.mark.parametrize("name", TINY)
def test_deterministic_under_seed(name):
    a, b = _tiny(name, seed=3), _tiny(name, seed=3)
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert ka == kb
        torch.testing.assert_close(va, vb, rtol=0, atol=0)
    c = _tiny(name, seed=4)
    assert any(not torch.equal(va, vc) for va, vc in zip(a.state_dict().values(),
                                                          c.state_dict().values(), strict=True))
    a.eval()
    b.eval()
    x = _x()
    torch.testing.assert_close(a(x), b(x), rtol=0, atol=0)


@pytest.mark.parametrize("name", TINY)
def test_eval_mode_is_deterministic(name):
    model = _tiny(name).eval()
    x = _x()
    torch.testing.assert_close(model(x), model(x), rtol=0, atol=0)


# ------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize("name", TINY)
def test_wrong_lead_count(name):
    model = _tiny(name)
    with pytest.raises(ValueError, match="11 leads but the model was built for n_leads=12"):
        model(_x(n_leads=11))


@pytest.mark.parametrize("name", TINY)
def test_bad_input_tensors(name):
    model = _tiny(name)
    with pytest.raises(ValueError, match="3-D"):
        model(torch.zeros(12, N_TIMES))
    with pytest.raises(ValueError, match="at least"):
        model(torch.zeros(2, 12, model.min_times - 1))
    with pytest.raises(TypeError, match="floating point"):
        model(torch.zeros(2, 12, N_TIMES, dtype=torch.long))


@pytest.mark.parametrize("name", TINY)
def test_bad_constructor_arguments(name):
    with pytest.raises(ValueError, match="n_leads"):
        build_model(name, n_leads=0)
    with pytest.raises(TypeError, match="n_outputs"):
        build_model(name, n_outputs=2.5)
    with pytest.raises(TypeError, match="n_times"):
        build_model(name, n_times=True)
    with pytest.raises(ValueError, match="at least"):
        build_model(name, n_times=8)


@pytest.mark.parametrize("name", TINY)
def test_other_lead_counts_and_lengths(name):
    model = build_model(name, n_leads=1, n_times=1000, n_outputs=1).eval()
    assert model(torch.randn(2, 1, 1000)).shape == (2, 1)
    # global pooling: other lengths than n_times work too
    assert model(torch.randn(2, 1, 640)).shape == (2, 1)


# ----------------------------------------------------------------------- deepecg-sl facts


# The public DeepECG-SL definition (DeepECG_Docker 2a9680e, notebooks/EfficientNetv2.py,
# class EfficientNet1DV2) with its default arguments, written out as data:
RELEASE = {
    "base_channels": [12, 12, 24, 32, 64, 80, 128, 640], "base_depths": [1, 1, 2, 2, 3, 4, 5],
    "width_coefficient": 1.0, "depth_coefficient": 2.0,  # variant "s_v2"
    "expansion": [1, 6, 6, 6, 6, 6, 6], "kernels": [3, 3, 5, 3, 5, 3, 3, 3],
    "strides": [1, 1, 2, 2, 2, 2, 2, 2], "se_ratio": 4, "stochastic_depth": 0.304,
}


def _release_state_shapes(n_leads=12, n_outputs=77):
    """name -> shape of the public class's state dict, from its construction rules.

    Stage i (0-5) pairs channels[i + 1] with depths[i + 1]; stages 0-3 are fused blocks (one
    conv, SE on its output), 4-5 MBConv; the head ``classifier.3`` is ecgsk's ``head.linear``.
    """
    r = RELEASE
    ch = [max(1, int(c * r["width_coefficient"])) for c in r["base_channels"]]
    depths = [max(1, math.ceil(d * r["depth_coefficient"])) for d in r["base_depths"]]
    shapes, residual = {}, []

    def conv(name, c_in, c_out, k, groups=1, bias=False):
        shapes[f"{name}.weight"] = [c_out, c_in // groups, k]
        if bias:
            shapes[f"{name}.bias"] = [c_out]

    def bn(name, c):
        for key in ("weight", "bias", "running_mean", "running_var"):
            shapes[f"{name}.{key}"] = [c]
        shapes[f"{name}.num_batches_tracked"] = []

    def se(name, c):
        conv(f"{name}.se.1", c, c // r["se_ratio"], 1, bias=True)
        conv(f"{name}.se.3", c // r["se_ratio"], c, 1, bias=True)

    conv("initial_conv.0", n_leads, ch[0], r["kernels"][0])
    bn("initial_conv.1.norm", ch[0])
    c_in, b = ch[0], 0
    # as in the release, the 7 widths meet 6 depths: the last width is the final conv's
    for i, (c_out, n_blocks) in enumerate(zip(ch[1:], depths[1:], strict=False)):
        k = r["kernels"][i]
        for j in range(n_blocks):
            stride = r["strides"][i] if j == 0 else 1
            p = f"features.{b}"
            if i > 3:
                mid = c_in * r["expansion"][i]
                conv(f"{p}.expand_conv.0", c_in, mid, 1)
                bn(f"{p}.expand_conv.1.norm", mid)
                conv(f"{p}.depthwise_conv.0", mid, mid, k, groups=mid)
                bn(f"{p}.depthwise_conv.1.norm", mid)
                se(f"{p}.se", mid)
                conv(f"{p}.project_conv.0", mid, c_out, 1)
                bn(f"{p}.project_conv.1.norm", c_out)
            else:
                conv(f"{p}.fused_conv.0", c_in, c_out, k)
                bn(f"{p}.fused_conv.1.norm", c_out)
                se(f"{p}.se", c_out)
            residual.append(stride == 1 and c_in == c_out)
            c_in, b = c_out, b + 1
    conv("final_conv", ch[-2], ch[-1], 1, bias=True)
    bn("final_norm.norm", ch[-1])
    shapes["head.linear.weight"] = [n_outputs, ch[-1]]
    shapes["head.linear.bias"] = [n_outputs]
    return shapes, residual


def test_deepecg_sl_is_the_published_definition():
    shapes, residual = _release_state_shapes()
    buffers = ("running_mean", "running_var", "num_batches_tracked")
    n_params = sum(math.prod(s) for k, s in shapes.items() if not k.endswith(buffers))
    assert n_params == 6_459_979 == model_info("deepecg-sl").n_params
    with torch.device("meta"):
        model = build_model("deepecg-sl")
    assert isinstance(model, DeepECGSL)
    # the release's names and shapes: a state dict of the public class loads after renaming
    # classifier.3.* to head.linear.*
    assert {k: list(v.shape) for k, v in model.state_dict().items()} == shapes
    assert count_parameters(model) == n_params
    assert len(model.features) == len(residual) == 34
    for block, is_residual in zip(model.features, residual, strict=True):
        assert isinstance(block.se.se[2], torch.nn.LeakyReLU)  # SE in every block
        assert block.residual == is_residual
        if is_residual:
            assert isinstance(block.stochastic_depth, DropPath)
            assert block.stochastic_depth.p == RELEASE["stochastic_depth"]  # constant rate
    kinds = [type(b) for b in model.features]
    assert kinds == [PublishedFusedMBConv1d] * 16 + [PublishedMBConv1d] * 18
    acts = [m for m in model.modules() if isinstance(m, (torch.nn.SiLU, torch.nn.ReLU,
                                                         torch.nn.GELU, torch.nn.LeakyReLU))]
    assert acts and all(isinstance(a, torch.nn.LeakyReLU) and a.negative_slope == 0.01
                        for a in acts)
    assert model.final_conv.bias is not None and model.min_times == 16
    assert model.dropout == 0.0 and model.n_features == 640


def test_deepecg_sl_final_layer_has_no_activation():
    model = _tiny("deepecg-sl-tiny").eval()
    seen = {}
    model.final_norm.register_forward_hook(lambda m, i, o: seen.update(out=o))
    x = _x()
    feats = model.forward_features(x)
    torch.testing.assert_close(feats, seen["out"].mean(dim=2).flatten(1))
    with torch.no_grad():
        fmap = model.features(model.initial_conv(x))
    assert fmap.shape[-1] == -(-N_TIMES // 16)


def test_deepecg_sl_tiny_keeps_the_published_structure():
    model = _tiny("deepecg-sl-tiny")
    assert isinstance(model, DeepECGSL)
    assert all(hasattr(b, "se") and isinstance(b.se.se[2], torch.nn.LeakyReLU)
               for b in model.features)
    assert {b.stochastic_depth.p for b in model.features if b.residual} == {0.304}
    with pytest.raises(ValueError, match="expansion=1"):
        DeepECGSL(12, 500, 2, stages=[StageSpec("fused", 8, 1, 4, 3, 1)])


def test_ecgsk_effnet_architecture():
    model = build_model("ecgsk-effnet")
    assert isinstance(model, EfficientNetV2_1d)
    assert model.n_features == 640 and model.head.linear.in_features == 640
    kinds = [type(b) for b in model.blocks]
    n_fused = kinds.count(FusedMBConv1d)
    assert n_fused > 0 and all(k is FusedMBConv1d for k in kinds[:n_fused])
    assert all(k is MBConv1d for k in kinds[n_fused:]) and len(kinds) > n_fused
    assert all(hasattr(b, "se") for b in model.blocks if isinstance(b, MBConv1d))
    rates = [b.drop_path.p for b in model.blocks if isinstance(b.drop_path, DropPath)]
    assert rates == sorted(rates) and rates[-1] <= 0.2 and rates[-1] > rates[0]
    assert isinstance(model.stem[2], torch.nn.SiLU)
    # kernels 3/3/5/3/5/3 and strides 1/1/2/2/2/2: 16x downsampling
    assert model.min_times == 16
    with torch.no_grad():
        fmap = model.blocks(model.stem(torch.zeros(1, 12, 2500)))
    assert fmap.shape[-1] == 157


def test_deepecg_sl_tiny_is_fast():
    model = build_model("deepecg-sl-tiny", n_leads=12, n_times=1000, n_outputs=77)
    x = torch.randn(8, 12, 1000)
    model(x).sum().backward()  # warm-up
    start = time.perf_counter()
    model(x).sum().backward()
    # generous bound: it takes ~10 ms on an idle core; this only catches a gross regression
    assert time.perf_counter() - start < 5.0


def test_drop_path():
    torch.manual_seed(0)
    layer = DropPath(0.5).train()
    out = layer(torch.ones(2000, 1, 3))
    kept = out[:, 0, 0]
    assert set(kept.unique().tolist()) == {0.0, 2.0}
    assert 0.4 < (kept > 0).float().mean().item() < 0.6
    # one draw per sample on the channels-last 4-D view too
    out4 = layer(torch.ones(2000, 3, 4, 1))
    assert set(out4.unique().tolist()) == {0.0, 2.0}
    assert torch.equal(out4.amin(dim=(1, 2, 3)), out4.amax(dim=(1, 2, 3)))
    layer.eval()
    assert torch.equal(layer(torch.ones(5, 1, 3)), torch.ones(5, 1, 3))


# ---------------------------------------------------------------------- xresnet1d facts


@pytest.mark.parametrize("name, layers", [("xresnet1d50", [3, 4, 6, 3]),
                                          ("xresnet1d101", [3, 4, 23, 3])])
def test_xresnet_architecture(name, layers):
    with torch.device("meta"):
        model = build_model(name)
    assert isinstance(model, XResNet1d)
    assert [len(stage) for stage in model.stages] == layers
    assert len([m for m in model.stem if isinstance(m, torch.nn.Sequential)]) == 3
    assert model.n_features == 2 * 256
    convs = [m for m in model.stages.modules() if isinstance(m, torch.nn.Conv1d)]
    assert {c.kernel_size[0] for c in convs} == {1, 5}
    assert isinstance(model.head, MLPHead)


def test_xresnet_blocks_start_as_identity():
    model = _tiny("xresnet1d50-tiny")
    for block in model.modules():
        if isinstance(block, XResBlock1d):
            assert torch.all(block.convs[-1][1].weight == 0)
            strided = block.convs[1][0].stride[0] == 2
            has_pool = any(isinstance(m, torch.nn.AvgPool1d) for m in block.shortcut)
            assert strided == has_pool
    # so a block's output is relu(shortcut(x)) at initialisation
    block = model.stages[1][0].eval()
    x = torch.randn(2, block.convs[0][0].in_channels, 40)
    torch.testing.assert_close(block(x), torch.relu(block.shortcut(x)))


def test_mlp_head_matches_benchmark_head():
    head = MLPHead(512, 71, hidden=(128,), dropout=0.5)
    kinds = [type(m).__name__ for m in head.layers]
    assert kinds == ["BatchNorm1d", "Dropout", "Linear", "ReLU", "BatchNorm1d", "Dropout",
                     "Linear"]
    assert [m.p for m in head.layers if isinstance(m, torch.nn.Dropout)] == [0.25, 0.5]


# -------------------------------------------------------------------- deepecg-ssl facts


def test_deepecg_ssl_architecture():
    with torch.device("meta"):
        model = build_model("deepecg-ssl")
    assert isinstance(model, ECGTransformer)
    assert model.n_tokens == 156 and model.n_features == 768
    assert len(model.layers) == 12
    assert model.layers[0].fc1.out_features == 3072 and model.layers[0].attn.n_heads == 12
    convs = [m for m in model.feature_encoder.modules() if isinstance(m, torch.nn.Conv1d)]
    assert [(c.out_channels, c.kernel_size[0], c.stride[0]) for c in convs] == [(256, 2, 2)] * 4
    assert isinstance(model.feature_encoder.layers[0][1], torch.nn.GroupNorm)
    pos = model.pos_conv.conv
    assert pos.kernel_size[0] == 128 and pos.groups == 16
    assert model.mask_embedding.shape == (768,)
    with torch.device("meta"):
        assert len(build_model("deepecg-ssl-small").layers) == 8


def test_ssl_pieces_shapes_and_masking():
    model = _tiny("deepecg-ssl-tiny").eval()
    x = _x(batch=2)
    feats = model.extract_features(x)
    assert feats.shape == (2, model.n_tokens, 32)
    tokens = model.project(feats)
    assert tokens.shape == (2, model.n_tokens, 64)
    mask = torch.zeros(2, model.n_tokens, dtype=torch.bool)
    mask[0, 3:8] = True
    masked = model.mask_tokens(tokens, mask)
    torch.testing.assert_close(masked[0, 3:8], model.mask_embedding.expand(5, -1))
    torch.testing.assert_close(masked[1], tokens[1])
    encoded = model.encode(masked)
    assert encoded.shape == tokens.shape
    torch.testing.assert_close(model.pool(model.encode(tokens)), model.forward_features(x))


def test_ssl_padding_mask_ignores_padded_steps():
    model = _tiny("deepecg-ssl-tiny").eval()
    tokens = model.project(model.extract_features(_x(batch=2)))
    padding = torch.zeros(2, model.n_tokens, dtype=torch.bool)
    padding[:, -7:] = True
    noisy = tokens.clone()
    noisy[:, -7:] = torch.randn_like(noisy[:, -7:]) * 10
    a = model.encode(tokens, padding)
    b = model.encode(noisy, padding)
    torch.testing.assert_close(a[:, :-7], b[:, :-7])
    pooled = model.pool(a, padding)
    torch.testing.assert_close(pooled, a[:, :-7].mean(dim=1))


@pytest.mark.parametrize("kwargs", [{"pooling": "attention"}, {"layer_norm_first": True},
                                    {"pos_conv_weight_norm": True}])
def test_ssl_variants(kwargs):
    model = _tiny("deepecg-ssl-tiny", **kwargs)
    out = model(_x())
    assert out.shape == (4, 5)
    out.sum().backward()
    if kwargs.get("pooling") == "attention":
        assert isinstance(model.pool_layer, AttentionPooling)
        assert model.pool_layer.score.weight.grad is not None
    else:
        assert isinstance(model.pool_layer, MeanPooling)


def test_ssl_bad_options():
    with pytest.raises(ValueError, match="pooling"):
        build_model("deepecg-ssl-tiny", pooling="max")
    with pytest.raises(ValueError, match="divisible"):
        build_model("deepecg-ssl-tiny", n_heads=3)


def test_attention_pooling_respects_padding():
    pool = AttentionPooling(4)
    x = torch.randn(1, 5, 4)
    padding = torch.tensor([[False, False, False, True, True]])
    y = x.clone()
    y[:, 3:] = 100.0
    torch.testing.assert_close(pool(x, padding), pool(y, padding))


# ------------------------------------------------------------------------- package rules


def test_nn_never_imports_skorch_or_sklearn():
    root = Path(__file__).resolve().parents[1] / "ecgsk" / "nn"
    for path in root.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in {"skorch", "sklearn"}, (path.name, name)
