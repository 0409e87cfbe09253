"""Tests for the self-supervised building blocks in ecgsk.ssl.

The parity tests re-derive each published definition (fairseq-signals, the DeepECG-SSL
release: ``data_utils.compute_mask_indices``, ``Wav2Vec2Model.sample_negatives`` /
``compute_preds``, the ``wav2vec2_with_cmsc`` criterion, ``GradMultiply``, ``weight_norm``)
in a small independent reference implementation here and compare ecgsk against it.
"""

from __future__ import annotations

import copy
import math
import pickle

import numpy as np
import pytest
import torch

from ecgsk.ssl._losses import cmsc_loss, sample_negatives, wav2vec2_contrastive_loss
from ecgsk.ssl._masking import compute_span_mask, random_lead_mask
from ecgsk.ssl._quantizer import GumbelProductQuantizer


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


# ----------------------------------------------------------------------------- span masks
def reference_mask(rng, batch, steps, mask_prob=0.65, length=10, min_masks=2):
    """fairseq-signals compute_mask_indices: static lengths, overlap allowed, no padding."""
    num_mask = max(min_masks, int(mask_prob * steps / float(length) + rng.random()))
    min_len = length
    if steps - min_len <= num_mask:
        min_len = steps - num_mask - 1
    rows = []
    for _ in range(batch):
        starts = rng.choice(steps - min_len, num_mask, replace=False)
        idc = np.asarray([s + off for s in starts for off in range(length)])
        rows.append(np.unique(idc[idc < steps]))
    smallest = min(len(r) for r in rows)
    mask = np.zeros((batch, steps), dtype=bool)
    for i, idc in enumerate(rows):
        if len(idc) > smallest:
            idc = rng.choice(idc, smallest, replace=False)
        mask[i, idc] = True
    return mask


def _mask_statistics(masks):
    masks = np.asarray(masks)  # (n_draws, batch, steps)
    counts = masks.sum(axis=2)[:, 0]
    return {
        "fraction": masks.mean(),
        "count_quantiles": np.quantile(counts, [0.1, 0.5, 0.9]),
        "position": masks.mean(axis=(0, 1)),
        "runs": _mean_run_length(masks[:, 0]),
    }


def _mean_run_length(rows):
    lengths = []
    for row in rows:
        edges = np.diff(np.concatenate([[0], row.astype(int), [0]]))
        starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        lengths.extend(ends - starts)
    return float(np.mean(lengths))


@pytest.mark.parametrize(("batch", "steps"), [(16, 78), (4, 156), (1, 78), (2, 15)])
def test_span_mask_statistics_match_fairseq(batch, steps):
    n_draws = 1500
    ours = [compute_span_mask(batch, steps, generator=gen(i)).numpy() for i in range(n_draws)]
    rng = np.random.default_rng(0)
    ref = [reference_mask(rng, batch, steps) for _ in range(n_draws)]
    for mask in ours[:50]:
        # every row masks the same number of steps: the mask itself is trimmed
        assert len(set(mask.sum(axis=1))) == 1
    a, b = _mask_statistics(ours), _mask_statistics(ref)
    assert abs(a["fraction"] - b["fraction"]) < 0.01, (a["fraction"], b["fraction"])
    np.testing.assert_allclose(a["count_quantiles"], b["count_quantiles"], atol=1.01)
    assert np.abs(a["position"] - b["position"]).max() < 0.05
    assert abs(a["runs"] - b["runs"]) < 0.06 * b["runs"]
    # starts stop `length` steps before the end: the last step is never masked
    if steps > 12:
        assert a["position"][-1] == 0.0 == b["position"][-1]


def test_span_mask_fraction_for_the_release_segments():
    # 5 s at 250 Hz = 78 steps: int(0.65 * 78 / 10 + u) spans, 5 or (7 % of the time) 6
    ref = [reference_mask(np.random.default_rng(i), 64, 78) for i in range(300)]
    ours = [compute_span_mask(64, 78, generator=gen(i)) for i in range(300)]
    ref_frac = float(np.mean(ref))
    frac = float(torch.stack(ours).float().mean())
    assert 0.27 < ref_frac < 0.37 and abs(frac - ref_frac) < 0.01
    # a single row is not trimmed: spans of 10, at most 6 of them
    for i in range(200):
        row = compute_span_mask(1, 78, generator=gen(i))[0].numpy()
        assert 10 <= row.sum() <= 60 and _mean_run_length(row[None]) >= 10


@pytest.mark.parametrize("kwargs", [{"mask_prob": 0.0}, {"mask_prob": 1.0}, {"span": 0}])
def test_span_mask_rejects_bad_parameters(kwargs):
    with pytest.raises(ValueError):
        compute_span_mask(2, 50, **kwargs)


def test_span_mask_is_reproducible():
    torch.testing.assert_close(compute_span_mask(8, 78, generator=gen(3)),
                               compute_span_mask(8, 78, generator=gen(3)))


# ----------------------------------------------------------------------------- lead masks
def test_random_lead_mask_is_the_release_rlm():
    x = torch.randn(4000, 12, 20)
    masked, kept = random_lead_mask(x, 0.5, gen())
    assert kept.shape == (4000, 12)
    assert torch.equal(masked[~kept], torch.zeros_like(masked[~kept]))
    assert torch.equal(masked[kept], x[kept])
    assert abs(kept.float().mean().item() - 0.5) < 0.01
    # independent per lead: all of 2 leads are dropped a quarter of the time
    _, kept2 = random_lead_mask(torch.randn(8000, 2, 4), 0.5, gen(1))
    assert abs((~kept2.any(dim=1)).float().mean().item() - 0.25) < 0.02
    # ecgsk's option keeps one lead
    _, kept3 = random_lead_mask(torch.randn(8000, 2, 4), 0.5, gen(1), keep_one=True)
    assert kept3.any(dim=1).all()
    with pytest.raises(ValueError, match="n_leads"):
        random_lead_mask(torch.randn(12, 20))


# ----------------------------------------------------------------------------- negatives
def test_negatives_100_with_replacement_never_the_positive():
    steps, batch = 10, 3
    ids = torch.arange(batch * steps, dtype=torch.float32).view(batch, steps, 1)
    neg = sample_negatives(ids.expand(batch, steps, 2), 100, gen()).float()[..., 0]
    assert neg.shape == (batch, steps, 100)  # 100 > steps - 1: drawn with replacement
    own = ids[..., 0].unsqueeze(-1)
    assert not (neg == own).any()
    # from the same sequence, each other step with probability 1 / (steps - 1)
    row = torch.arange(batch).view(batch, 1, 1) * steps
    assert ((neg >= row) & (neg < row + steps)).all()
    draws = torch.cat([sample_negatives(ids, 100, gen(s))[..., 0] for s in range(20)], dim=2)
    offsets = (draws - own).long() % steps  # 1 .. steps - 1
    freq = torch.bincount(offsets.flatten(), minlength=steps).float() / offsets.numel()
    assert freq[0] == 0
    torch.testing.assert_close(freq[1:], torch.full((steps - 1,), 1 / (steps - 1)), atol=0.01, rtol=0)


def test_contrastive_loss_uses_100_distractors_even_for_few_masked_steps():
    # one-hot targets; each prediction is its target plus a constant vector, so every
    # distractor has the same cosine: the InfoNCE value depends only on their number
    steps, a, b, temp = 12, 2.0, 0.5, 0.1
    targets = torch.eye(steps).unsqueeze(0).repeat(2, 1, 1)
    predictions = a * targets + b
    norm = math.sqrt(a**2 + 2 * a * b + steps * b**2)
    pos, neg = (a + b) / norm / temp, b / norm / temp
    expected = -(pos - math.log(math.exp(pos) + 100 * math.exp(neg)))
    loss = wav2vec2_contrastive_loss(predictions, targets, 100, 0.1, generator=gen())
    assert loss.item() == pytest.approx(expected, rel=1e-5)


def test_contrastive_loss_ignores_distractors_equal_to_the_target():
    # all targets equal: every distractor is the positive itself, fairseq sets them to -inf
    targets = torch.ones(1, 5, 4)
    loss = wav2vec2_contrastive_loss(torch.randn(1, 5, 4), targets, 100, generator=gen())
    assert loss.item() == pytest.approx(0.0, abs=1e-6)


# ----------------------------------------------------------------------------- CMSC
def reference_cmsc(z_a, z_b, ids, temp=0.1, eps=1e-8):
    """The wav2vec2_with_cmsc criterion, written out with loops (floats)."""
    def unit(z):
        return [[v / max(math.sqrt(sum(c * c for c in row)), eps) for v in row] for row in z]

    a, b = unit(z_a.tolist()), unit(z_b.tolist())
    n = len(a)
    logits = [[sum(x * y for x, y in zip(a[i], b[j], strict=True)) / temp for j in range(n)] for i in range(n)]
    row_lse = [math.log(sum(math.exp(v) for v in logits[i])) for i in range(n)]
    col_lse = [math.log(sum(math.exp(logits[i][j]) for i in range(n))) for j in range(n)]
    pos = [(i, j) for i in range(n) for j in range(n) if ids[i] == ids[j]]
    loss_1 = sum(row_lse[i] - logits[i][j] for i, j in pos) / len(pos)
    loss_2 = sum(col_lse[j] - logits[i][j] for i, j in pos) / len(pos)
    return loss_1 / 2 + loss_2 / 2


def test_cmsc_loss_value_on_fixed_embeddings():
    torch.manual_seed(0)
    z_a, z_b = torch.randn(6, 5) * 3, torch.randn(6, 5)
    assert cmsc_loss(z_a, z_b).item() == pytest.approx(reference_cmsc(z_a, z_b, range(6)), rel=1e-5)
    groups = [0, 0, 1, 2, 2, 2]
    value = cmsc_loss(z_a, z_b, torch.tensor(groups), temperature=0.1).item()
    assert value == pytest.approx(reference_cmsc(z_a, z_b, groups), rel=1e-5)
    # a different function from the 2B x 2B loss with within-view negatives
    z = torch.nn.functional.normalize(torch.cat([z_a, z_b]), dim=1)
    logits = (z @ z.T / 0.1).fill_diagonal_(float("-inf"))
    two_view = -logits.log_softmax(dim=1)[torch.arange(12), (torch.arange(12) + 6) % 12].mean()
    assert abs(two_view.item() - cmsc_loss(z_a, z_b).item()) > 0.05


def test_cmsc_normalisation_is_not_differentiated():
    # the release divides by the detached norm: the gradient is that of z / const
    torch.manual_seed(1)
    z_a, z_b = torch.randn(4, 3, requires_grad=True), torch.randn(4, 3)
    cmsc_loss(z_a, z_b).backward()
    norms = z_a.detach().norm(dim=1, keepdim=True)
    unit_a = (z_a.detach() / norms).requires_grad_(True)
    unit_b = z_b / z_b.norm(dim=1, keepdim=True)
    logits = unit_a @ unit_b.T / 0.1
    target = torch.arange(4)
    ref = 0.5 * torch.nn.functional.cross_entropy(logits, target)
    ref = ref + 0.5 * torch.nn.functional.cross_entropy(logits.T, target)
    ref.backward()
    torch.testing.assert_close(z_a.grad, unit_a.grad / norms)


def test_cmsc_loss_errors():
    with pytest.raises(ValueError, match="at least 2"):
        cmsc_loss(torch.randn(1, 4), torch.randn(1, 4))
    with pytest.raises(ValueError, match="groups"):
        cmsc_loss(torch.randn(3, 4), torch.randn(3, 4), torch.tensor([0, 1]))


# ----------------------------------------------------------------------------- quantizer
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


# ----------------------------------------------------------------------------- pretext model
def _tiny_encoder(n_times=1250, **kwargs):
    from ecgsk.nn import build_model

    torch.manual_seed(0)
    return build_model("deepecg-ssl-tiny", n_times=n_times, n_outputs=1, **kwargs)


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

    model = SSLPretextModel(_tiny_encoder(), objectives=objectives, n_entries=16)
    losses = model(torch.randn(4, 12, 2500))
    assert set(losses) == keys
    expected = losses.get("wav2vec2", 0) + losses.get("cmsc", 0)
    if "diversity" in losses:
        expected = expected + 0.1 * losses["diversity"] + 10 * losses["feature_penalty"]
    torch.testing.assert_close(losses["loss"], expected)
    losses["loss"].backward()
    grads = [p.grad for p in model.encoder.feature_encoder.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)


def test_pretext_cmsc_is_on_the_pooled_encoder_output_without_projection():
    from ecgsk.ssl import SSLPretextModel, split_segments

    encoder = _tiny_encoder()
    model = SSLPretextModel(encoder, objectives="cmsc").eval()
    # no parameter besides the encoder's: CMSC has no projection head
    assert {n for n, _ in model.named_parameters()} == {f"encoder.{n}" for n, _ in encoder.named_parameters()}
    torch.manual_seed(2)
    x = torch.randn(5, 12, 2500)
    with torch.no_grad():
        pooled = encoder.forward_features(split_segments(x, 2)).view(5, 2, -1)
        groups = [0, 1, 1, 2, 3]
        loss = model(x, torch.tensor(groups))["cmsc"]
    assert loss.item() == pytest.approx(reference_cmsc(pooled[:, 0], pooled[:, 1], groups), rel=1e-4)


def test_feature_gradient_is_scaled_by_feature_grad_mult():
    from ecgsk.ssl import SSLPretextModel

    x = torch.randn(4, 12, 2500)
    grads = {}
    base = SSLPretextModel(_tiny_encoder(), n_entries=16)
    for mult in (1.0, 0.1, 0.0):
        model = copy.deepcopy(base)
        model.feature_grad_mult = mult
        torch.manual_seed(0)  # same masks, dropout and Gumbel draws in every run
        model(x)["loss"].backward()
        grads[mult] = {n: p.grad.clone() if p.grad is not None else None
                       for n, p in model.named_parameters()}
    conv = [n for n in grads[1.0] if n.startswith("encoder.feature_encoder.")]
    assert conv
    for name in conv:
        torch.testing.assert_close(grads[0.1][name], 0.1 * grads[1.0][name], rtol=1e-4, atol=1e-9)
        assert grads[0.0][name] is None or not grads[0.0][name].any()
    # everything after the feature encoder gets the same gradient
    for name in ("encoder.post_extract_proj.weight", "context_proj.weight", "quantizer.codebooks"):
        torch.testing.assert_close(grads[0.1][name], grads[1.0][name])


def test_pretext_defaults_are_the_release_config():
    """w2v_cmsc_rlm.yaml and the fairseq-signals defaults it relies on."""
    from ecgsk.ssl import SSLPretextModel

    model = SSLPretextModel(_tiny_encoder())
    assert (model.mask_prob, model.mask_span, model.n_negatives, model.temperature) == (0.65, 10, 100, 0.1)
    assert (model.diversity_weight, model.feature_penalty, model.cmsc_weight) == (0.1, 10.0, 1.0)
    assert model.feature_grad_mult == 0.1 and model.feature_dropout.p == 0.1
    assert model.lead_mask_prob == 0.5 and not model.keep_one_lead
    q = model.quantizer
    assert (q.n_groups, q.n_entries, q.out_dim) == (2, 320, 256)
    assert (q.max_temperature, q.min_temperature, q.decay) == (2.0, 0.5, 0.999995)
    assert model.target_proj.in_features == model.target_proj.out_features == 256
    assert model.encoder.input_dropout.p == 0.1  # dropout_input


def test_pretext_model_rejects_bad_configuration():
    from ecgsk.nn import build_model
    from ecgsk.ssl import SSLPretextModel

    with pytest.raises(ValueError, match="objectives"):
        SSLPretextModel(_tiny_encoder(), objectives=("mae",))
    with pytest.raises(TypeError, match="deepecg-ssl"):
        SSLPretextModel(build_model("deepecg-sl-tiny", n_times=1250, n_outputs=1))
    with pytest.raises(ValueError, match="n_segments"):
        SSLPretextModel(_tiny_encoder(2500), objectives="cmsc", n_segments=1)
    with pytest.raises(ValueError, match="feature_grad_mult"):
        SSLPretextModel(_tiny_encoder(), feature_grad_mult=-1)
    with pytest.raises(ValueError, match="feature_dropout"):
        SSLPretextModel(_tiny_encoder(), feature_dropout=1.0)


def test_pretext_groups_change_the_cmsc_loss():
    from ecgsk.ssl import SSLPretextModel

    model = SSLPretextModel(_tiny_encoder(), objectives="cmsc", lead_mask_prob=0.0).eval()
    x = torch.randn(4, 12, 2500)
    alone = model(x)["cmsc"]
    torch.testing.assert_close(model(x, torch.arange(4))["cmsc"], alone)
    assert not torch.isclose(model(x, torch.tensor([0, 0, 1, 1]))["cmsc"], alone)


def test_pretext_pairs_segments_two_by_two():
    # 4 segments: (0, 1) and (2, 3) of one ECG are two pairs sharing the ECG's id
    from ecgsk.ssl import SSLPretextModel, split_segments

    encoder = _tiny_encoder(625)
    model = SSLPretextModel(encoder, objectives="cmsc", n_segments=4).eval()
    x = torch.randn(3, 12, 2500)
    with torch.no_grad():
        pooled = encoder.forward_features(split_segments(x, 4)).view(3, 4, -1)
        loss = model(x)["cmsc"].item()
    first = pooled[:, [0, 2]].reshape(6, -1)
    second = pooled[:, [1, 3]].reshape(6, -1)
    assert loss == pytest.approx(reference_cmsc(first, second, [0, 0, 1, 1, 2, 2]), rel=1e-4)


# ----------------------------------------------------------------------------- encoder
def test_positional_conv_is_weight_normalised_as_the_release():
    from ecgsk.nn.transformer import ECGTransformer

    encoder = _tiny_encoder()
    conv = encoder.pos_conv.conv
    keys = {k for k in encoder.state_dict() if k.startswith("pos_conv.")}
    assert keys == {"pos_conv.conv.bias", "pos_conv.conv.parametrizations.weight.original0",
                    "pos_conv.conv.parametrizations.weight.original1"}
    g = conv.parametrizations.weight.original0.detach()
    v = conv.parametrizations.weight.original1.detach()
    assert g.shape == (1, 1, v.shape[2])
    # torch's own weight_norm(dim=2) with the same g and v gives the same convolution
    ref = torch.nn.Conv1d(64, 64, 16, padding=8, groups=4)
    ref = torch.nn.utils.parametrizations.weight_norm(ref, name="weight", dim=2)
    with torch.no_grad():
        ref.parametrizations.weight.original0.copy_(g * 1.7)
        ref.parametrizations.weight.original1.copy_(v)
        ref.bias.copy_(conv.bias)
        conv.parametrizations.weight.original0.mul_(1.7)
    x = torch.randn(2, 64, 30)
    torch.testing.assert_close(conv(x), ref(x))
    # unlike torch's parametrization, it pickles (estimators, clones and caches need that)
    restored = pickle.loads(pickle.dumps(encoder))
    torch.testing.assert_close(restored.pos_conv.conv(x), conv(x))
    plain = ECGTransformer(12, 1250, 1, pos_conv_weight_norm=False, embed_dim=64, n_heads=4,
                           pos_conv_kernel=16, pos_conv_groups=4, n_layers=1, ffn_dim=64)
    assert isinstance(plain.pos_conv.conv, torch.nn.Conv1d)
