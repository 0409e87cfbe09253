"""Tests for the self-supervised building blocks in ecgsk.ssl."""

from __future__ import annotations

import math

import pytest
import torch

from ecgsk.ssl._losses import cmsc_loss, sample_negatives, wav2vec2_contrastive_loss
from ecgsk.ssl._masking import compute_span_mask, random_lead_mask
from ecgsk.ssl._quantizer import GumbelProductQuantizer


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_span_mask_shape_fraction_and_spans():
    mask = compute_span_mask(64, 156, mask_prob=0.65, span=10, generator=gen())
    assert mask.shape == (64, 156) and mask.dtype == torch.bool
    frac = mask.float().mean().item()
    # 10 span starts of length 10 over 156 steps: at most 100/156 masked, overlaps reduce it.
    assert 0.35 < frac <= 100 / 156 + 1e-9
    # masked steps come in runs: every masked run is at least one span long
    row = mask[0].int()
    starts = (row[1:] - row[:-1] == 1).sum() + row[0]
    assert int(row.sum()) >= 10 * 1 and int(starts) <= 10
    torch.testing.assert_close(mask, compute_span_mask(64, 156, generator=gen()))


@pytest.mark.parametrize("kwargs", [{"mask_prob": 0.0}, {"mask_prob": 1.0}, {"span": 0}])
def test_span_mask_rejects_bad_parameters(kwargs):
    with pytest.raises(ValueError):
        compute_span_mask(2, 50, **kwargs)


def test_random_lead_mask_zeroes_whole_leads_at_the_right_rate():
    x = torch.randn(2000, 12, 20)
    masked, kept = random_lead_mask(x, 0.5, gen())
    assert kept.shape == (2000, 12)
    assert torch.equal(masked[~kept], torch.zeros_like(masked[~kept]))
    assert torch.equal(masked[kept], x[kept])
    assert abs(kept.float().mean().item() - 0.5) < 0.02
    assert kept.any(dim=1).all()
    with pytest.raises(ValueError, match="n_leads"):
        random_lead_mask(torch.randn(12, 20))


def test_quantizer_shapes_hardness_and_temperature():
    torch.manual_seed(0)
    q = GumbelProductQuantizer(in_dim=32, n_groups=2, n_entries=320, out_dim=256)
    out = q(torch.randn(4, 156, 32))
    assert out.quantized.shape == (4, 156, 256)
    assert 0.0 <= out.diversity_loss.item() <= 1.0
    assert 1.0 <= out.perplexity.item() <= 640.0
    # each half of every output vector is exactly one codebook entry
    first_half = out.quantized[0, 0, :128]
    assert torch.isclose(first_half.unsqueeze(0), q.codebooks[0]).all(dim=1).any()
    out.diversity_loss.backward()
    assert q.to_logits.weight.grad is not None
    q.step(10_000)
    assert math.isclose(q.temperature, max(2.0 * 0.999995**10_000, 0.5), rel_tol=1e-6)
    assert "current_temperature" in q.state_dict()
    q.eval()
    torch.testing.assert_close(q(torch.ones(1, 3, 32)).quantized, q(torch.ones(1, 3, 32)).quantized)
    with pytest.raises(ValueError, match="divisible"):
        GumbelProductQuantizer(8, n_groups=3, out_dim=256)


def test_negatives_never_the_step_itself():
    targets = torch.arange(2 * 7, dtype=torch.float32).view(2, 7, 1).expand(2, 7, 3)
    neg = sample_negatives(targets, 50, gen())
    assert neg.shape == (2, 7, 50, 3)
    assert not (neg == targets.unsqueeze(2)).all(dim=-1).any()
    # distractors come from the same sequence
    assert (neg[0] < 7).all() and (neg[1] >= 7).all()


def test_contrastive_loss_rewards_correct_predictions():
    torch.manual_seed(0)
    targets = torch.randn(4, 30, 16)
    perfect = wav2vec2_contrastive_loss(targets, targets, 20, generator=gen())
    random = wav2vec2_contrastive_loss(torch.randn(4, 30, 16), targets, 20, generator=gen())
    assert perfect < 0.1 < math.log(21) * 0.8 < random


def test_cmsc_loss_matches_hand_computation_with_groups():
    torch.manual_seed(0)
    z_a, z_b = torch.randn(4, 5), torch.randn(4, 5)
    groups = torch.tensor([0, 0, 1, 2])
    loss = cmsc_loss(z_a, z_b, groups, temperature=0.5)
    z = torch.nn.functional.normalize(torch.cat([z_a, z_b]), dim=1)
    ids = [0, 0, 1, 2, 0, 0, 1, 2]
    total = 0.0
    for i in range(8):
        sims = [(z[i] @ z[j]).item() / 0.5 for j in range(8) if j != i]
        others = [j for j in range(8) if j != i]
        log_norm = math.log(sum(math.exp(s) for s in sims))
        pos = [sims[k] - log_norm for k, j in enumerate(others) if ids[j] == ids[i]]
        total += -sum(pos) / len(pos)
    assert loss.item() == pytest.approx(total / 8, rel=1e-5)
    # Without groups, only the other segment of the same ECG is a positive.
    assert cmsc_loss(z_a, z_b).item() != pytest.approx(loss.item())


def test_cmsc_loss_errors():
    with pytest.raises(ValueError, match="at least 2"):
        cmsc_loss(torch.randn(1, 4), torch.randn(1, 4))
    with pytest.raises(ValueError, match="groups"):
        cmsc_loss(torch.randn(3, 4), torch.randn(3, 4), torch.tensor([0, 1]))


def _tiny_encoder(n_times=1250):
    from ecgsk.nn import build_model

    torch.manual_seed(0)
    return build_model("deepecg-ssl-tiny", n_times=n_times, n_outputs=1)


def test_split_segments_keeps_ecg_order():
    from ecgsk.ssl import split_segments

    x = torch.arange(2 * 3 * 10, dtype=torch.float32).view(2, 3, 10)
    seg = split_segments(x, 2)
    assert seg.shape == (4, 3, 5)
    torch.testing.assert_close(seg[1], x[0, :, 5:])
    torch.testing.assert_close(seg[2], x[1, :, :5])
    with pytest.raises(ValueError, match="divisible"):
        split_segments(torch.zeros(1, 3, 11), 2)


@pytest.mark.parametrize(
    ("objectives", "keys"),
    [
        (("wav2vec2", "cmsc"), {"wav2vec2", "diversity", "feature_penalty", "cmsc", "loss"}),
        ("cmsc", {"cmsc", "loss"}),
        (("wav2vec2",), {"wav2vec2", "diversity", "feature_penalty", "loss"}),
    ],
)
def test_pretext_model_objectives_and_gradients(objectives, keys):
    from ecgsk.ssl import SSLPretextModel

    model = SSLPretextModel(_tiny_encoder(), objectives=objectives, n_entries=16, n_negatives=10)
    losses = model(torch.randn(4, 12, 2500))
    assert set(losses) == keys
    expected = losses.get("wav2vec2", 0) + losses.get("cmsc", 0)
    if "diversity" in losses:
        expected = expected + 0.1 * losses["diversity"] + 10 * losses["feature_penalty"]
    torch.testing.assert_close(losses["loss"], expected)
    losses["loss"].backward()
    grads = [p.grad for p in model.encoder.feature_encoder.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)


def test_pretext_model_rejects_bad_configuration():
    from ecgsk.nn import build_model
    from ecgsk.ssl import SSLPretextModel

    with pytest.raises(ValueError, match="objectives"):
        SSLPretextModel(_tiny_encoder(), objectives=("mae",))
    with pytest.raises(TypeError, match="deepecg-ssl"):
        SSLPretextModel(build_model("deepecg-sl-tiny", n_times=1250, n_outputs=1))
    with pytest.raises(ValueError, match="n_segments"):
        SSLPretextModel(_tiny_encoder(2500), objectives="cmsc", n_segments=1)


def test_pretext_groups_change_the_cmsc_loss():
    from ecgsk.ssl import SSLPretextModel

    model = SSLPretextModel(_tiny_encoder(), objectives="cmsc", lead_mask_prob=0.0).eval()
    x = torch.randn(4, 12, 2500)
    alone = model(x)["cmsc"]
    torch.testing.assert_close(model(x, torch.arange(4))["cmsc"], alone)
    assert not torch.isclose(model(x, torch.tensor([0, 0, 1, 1]))["cmsc"], alone)
