"""The channels-last layers of ``ecgsk.nn._layers`` compute what their torch.nn classes compute.

Each fast layer is checked against the plain ``torch.nn`` class holding the same parameters
(forward and gradients with respect to the input and every parameter), and every registry
network against a copy of itself rebuilt from plain ``torch.nn`` layers on the 3-D path. The
state-dict names and shapes are compared with a snapshot taken on ``main`` before these layers
existed (``tests/data/nn_state_dicts_cebac41.json``), so saved models keep loading.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import torch
from torch import nn

from ecgsk.nn import _layers as L
from ecgsk.nn import build_model, list_models

SNAPSHOT = Path(__file__).parent / "data" / "nn_state_dicts_cebac41.json"
#: registry name now -> its name in the snapshot
SNAPSHOT_NAMES = {
    "ecgsk-effnet": "deepecg-sl",  # main's deepecg-sl, renamed when deepecg-sl became the release's
    "ecgsk-effnet-tiny": "deepecg-sl-tiny",
    "xresnet1d50": "xresnet1d50",
    "xresnet1d50-tiny": "xresnet1d50-tiny",
    "xresnet1d101": "xresnet1d101",
    "xresnet1d101-tiny": "xresnet1d101-tiny",
}
CONV_NETS = [n for n in list_models() if "ssl" not in n]
PLAIN = {L.Conv1d: nn.Conv1d, L.BatchNorm1d: nn.BatchNorm1d, L.MaxPool1d: nn.MaxPool1d,
         L.AvgPool1d: nn.AvgPool1d, L.ConvBN: nn.Sequential}


def _plain(model: nn.Module) -> nn.Module:
    """A copy of ``model`` whose fast layers are the torch.nn classes, run on the 3-D path."""
    model = copy.deepcopy(model)
    for m in model.modules():
        if type(m) in PLAIN:
            m.__class__ = PLAIN[type(m)]
    for m in model.modules():
        if hasattr(m, "fast_layout"):
            m.fast_layout = False
    assert not any(type(m) in PLAIN for m in model.modules())
    return model


def _check_layer(fast: nn.Module, x: torch.Tensor, atol=1e-5, exact_3d=True):
    plain = _plain(fast)
    xf = L.to_fast_layout(x).requires_grad_()
    xp = x.clone().requires_grad_()
    out_f = fast(xf)
    out_p = plain(xp)
    assert out_f.dim() == 4 and out_f.shape[-1] == 1
    torch.testing.assert_close(L.from_fast_layout(out_f), out_p, atol=atol, rtol=1e-4)
    grad = torch.randn_like(out_p)
    out_f.backward(grad.unsqueeze(-1))
    out_p.backward(grad)
    torch.testing.assert_close(xf.grad.squeeze(-1), xp.grad, atol=atol, rtol=1e-4)
    for (name, pf), (_, pp) in zip(fast.named_parameters(), plain.named_parameters(),
                                   strict=True):
        torch.testing.assert_close(pf.grad, pp.grad, atol=atol * 10, rtol=1e-4, msg=name)
    # the 3-D path of the fast layer is the plain layer itself (but for BatchNorm folding)
    fast.zero_grad()
    tol = {"rtol": 0, "atol": 0} if exact_3d else {"rtol": 1e-4, "atol": atol}
    torch.testing.assert_close(fast(x), plain(x), **tol)


@pytest.mark.parametrize("kwargs", [
    {"in_channels": 6, "out_channels": 10, "kernel_size": 5, "padding": 2, "bias": False},
    {"in_channels": 6, "out_channels": 10, "kernel_size": 3, "stride": 2, "padding": 1},
    {"in_channels": 8, "out_channels": 8, "kernel_size": 5, "padding": 2, "groups": 8},
    {"in_channels": 8, "out_channels": 8, "kernel_size": 3, "stride": 2, "padding": 1,
     "groups": 8, "bias": False},
    {"in_channels": 8, "out_channels": 4, "kernel_size": 1},
    {"in_channels": 8, "out_channels": 4, "kernel_size": 3, "padding": 2, "dilation": 2,
     "groups": 2},
])
def test_conv1d_matches_torch(kwargs):
    torch.manual_seed(0)
    _check_layer(L.Conv1d(**kwargs), torch.randn(3, kwargs["in_channels"], 37))


def test_conv1d_refuses_string_padding():
    with pytest.raises(ValueError, match="integer zero padding"):
        L.Conv1d(4, 4, 3, padding="same")
    with pytest.raises(ValueError, match="integer zero padding"):
        L.Conv1d(4, 4, 3, padding=1, padding_mode="reflect")


@pytest.mark.parametrize("train", [True, False])
def test_batchnorm_matches_torch(train):
    torch.manual_seed(0)
    bn = L.BatchNorm1d(7)
    with torch.no_grad():
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-1, 1)
        bn.running_mean.uniform_(-1, 1)
        bn.running_var.uniform_(0.5, 2)
    bn.train(train)
    x = torch.randn(5, 7, 23) * 3 + 1
    _check_layer(bn, x)
    plain = _plain(bn)
    # the running statistics move identically
    bn(L.to_fast_layout(x))
    plain(x)
    torch.testing.assert_close(bn.running_mean, plain.running_mean)
    torch.testing.assert_close(bn.running_var, plain.running_var)
    with pytest.raises(ValueError, match="4-D"):
        bn(torch.zeros(2, 7, 3, 1, 1))


@pytest.mark.parametrize("layer", [
    L.MaxPool1d(3, stride=2, padding=1), L.MaxPool1d(2), L.AvgPool1d(2, ceil_mode=True),
    L.AvgPool1d(3, stride=2, padding=1),
])
@pytest.mark.parametrize("n_times", [36, 37])
def test_pooling_matches_torch(layer, n_times):
    torch.manual_seed(0)
    _check_layer(layer, torch.randn(3, 5, n_times))


@pytest.mark.parametrize("conv_kwargs", [{"bias": False}, {"bias": True, "groups": 6}])
def test_conv_bn_folds_eval_batchnorm(conv_kwargs):
    torch.manual_seed(0)
    block = L.ConvBN(L.Conv1d(6, 6, 3, padding=1, **conv_kwargs), L.BatchNorm1d(6), nn.SiLU())
    with torch.no_grad():
        block[1].weight.uniform_(0.5, 1.5)
        block[1].bias.uniform_(-1, 1)
    x = torch.randn(4, 6, 29)
    block(x)  # one training step moves the running statistics
    plain = _plain(block)
    assert type(plain) is nn.Sequential
    torch.testing.assert_close(block(x), plain(x), rtol=0, atol=0)  # training: the sequence
    block.eval()
    plain.eval()
    assert block[1].can_fold() and not block.train()[1].can_fold()
    block.eval()
    _check_layer(block, x, exact_3d=False)  # eval: folded, forward and every gradient as the plain sequence


def test_layout_helpers():
    x = torch.randn(2, 3, 11)
    fast = L.to_fast_layout(x)
    assert fast.is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(L.from_fast_layout(fast), x)
    assert L.from_fast_layout(x) is x
    torch.testing.assert_close(L.global_mean(fast), x.mean(-1))
    torch.testing.assert_close(L.global_max(fast), x.amax(-1))
    torch.testing.assert_close(L.global_mean(x), x.mean(-1))


@pytest.mark.parametrize("name", CONV_NETS)
def test_network_matches_plain_definition(name):
    """Forward (train and eval) and every gradient equal those of the plain torch.nn network.

    In float64, so that any difference beyond rounding shows (float32 through a deep network
    with train-mode BatchNorm leaves relative differences of 1e-3 in some gradients).
    """
    torch.manual_seed(0)
    n_times = 320
    fast = build_model(name, n_leads=12, n_times=n_times, n_outputs=5)
    # ecgsk-cnn runs the plain 3-D layout (faster for its dense convolutions): its fast
    # layers still fold BatchNorm in eval mode, which this comparison checks
    assert fast.fast_layout or name.startswith("ecgsk-cnn")
    x = torch.randn(4, 12, n_times)
    # float32: the layouts give the same outputs to float tolerance
    plain32 = _plain(fast).eval()
    torch.testing.assert_close(fast.eval()(x), plain32(x), atol=1e-4, rtol=1e-4)
    fast = fast.double()
    plain = _plain(fast)
    x = x.double()
    for train in (True, False):
        fast.train(train)
        plain.train(train)
        torch.manual_seed(1)  # the same drop-path and dropout draws on both sides
        out_f = fast(x)
        torch.manual_seed(1)
        out_p = plain(x)
        torch.testing.assert_close(out_f, out_p, atol=1e-10, rtol=1e-9)
    fast.train()
    plain.train()
    torch.manual_seed(2)
    fast(x).pow(2).mean().backward()
    torch.manual_seed(2)
    plain(x).pow(2).mean().backward()
    for (key, pf), (_, pp) in zip(fast.named_parameters(), plain.named_parameters(),
                                  strict=True):
        torch.testing.assert_close(pf.grad, pp.grad, atol=1e-10, rtol=1e-7, msg=key)
    # the buffers (BatchNorm running statistics) moved the same way
    for (key, bf), (_, bp) in zip(fast.named_buffers(), plain.named_buffers(), strict=True):
        torch.testing.assert_close(bf, bp, atol=1e-10, rtol=1e-9, msg=key)


@pytest.mark.parametrize("name", sorted(SNAPSHOT_NAMES))
def test_state_dict_names_and_shapes_unchanged(name):
    expected = json.loads(SNAPSHOT.read_text())[SNAPSHOT_NAMES[name]]
    with torch.device("meta"):
        model = build_model(name)
    got = {k: list(v.shape) for k, v in model.state_dict().items()}
    assert list(got) == list(expected)
    assert got == expected


def test_snapshot_covers_every_convolutional_network():
    # deepecg-sl(-tiny) is checked against the release's layout in test_nn.py; ecgsk-cnn(-tiny)
    # did not exist when the snapshot was taken
    new = {"deepecg-sl", "deepecg-sl-tiny", "ecgsk-cnn", "ecgsk-cnn-tiny"}
    assert set(SNAPSHOT_NAMES) | new == set(CONV_NETS)


@pytest.mark.parametrize("name", ["deepecg-sl-tiny", "ecgsk-effnet-tiny", "xresnet1d50-tiny"])
def test_plain_state_dict_loads_into_fast_network(name):
    torch.manual_seed(0)
    plain = _plain(build_model(name, n_times=320, n_outputs=3)).eval()
    torch.manual_seed(5)
    fast = build_model(name, n_times=320, n_outputs=3).eval()
    fast.load_state_dict(plain.state_dict())
    x = torch.randn(2, 12, 320)
    torch.testing.assert_close(fast(x), plain(x), atol=1e-5, rtol=1e-4)
