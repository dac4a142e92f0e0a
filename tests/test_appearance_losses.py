"""Losses and heads against explicit Python loops over pairs/triplets, on hand-placed 2-D
embeddings; backward passes; gradcheck in float64; batches with no valid pair/triplet."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from cosmot.appearance.criterion import LOSSES, Criterion, LossConfig
from cosmot.appearance.heads import ArcFaceHead, CosFaceHead, CosineSoftmaxHead, LinearSoftmaxHead
from cosmot.appearance.losses import (CenterLoss, batch_hard_triplet_loss, contrastive_loss,
                               info_nce_loss, pairwise_distance)

DTYPES = [torch.float32, torch.float64]


def unit(angles_deg: list[float], dtype=torch.float64) -> torch.Tensor:
    """Points on the unit circle at the given angles."""
    a = torch.tensor([math.radians(v) for v in angles_deg], dtype=dtype)
    return torch.stack([torch.cos(a), torch.sin(a)], dim=1)


# Two identities on the circle, one stray point of a third identity.
ANGLES = [0.0, 20.0, 90.0, 105.0, 180.0, 50.0]  # no exact distance ties
LABELS = torch.tensor([0, 0, 1, 1, 2, 0])


def dist(a: torch.Tensor, b: torch.Tensor) -> float:
    return math.sqrt(max(float(((a - b) ** 2).sum()), 1e-12))


def triplet_loop(emb, labels, margin, mining):
    n = len(labels)
    losses = []
    if mining == "hard":
        for a in range(n):
            pos = [dist(emb[a], emb[p]) for p in range(n) if p != a and labels[p] == labels[a]]
            neg = [dist(emb[a], emb[q]) for q in range(n) if labels[q] != labels[a]]
            if pos and neg:
                losses.append(max(0.0, max(pos) - min(neg) + margin))
    else:
        for a in range(n):
            for p in range(n):
                if p == a or labels[p] != labels[a]:
                    continue
                dp = dist(emb[a], emb[p])
                neg = [dist(emb[a], emb[q]) for q in range(n) if labels[q] != labels[a]]
                if not neg:
                    continue
                farther = [d for d in neg if d > dp]
                dn = min(farther) if farther else max(neg)
                losses.append(max(0.0, dp - dn + margin))
    return sum(losses) / len(losses) if losses else 0.0


def contrastive_loop(emb, labels, neg_margin):
    pos, neg = [], []
    n = len(labels)
    for i in range(n):
        for j in range(i + 1, n):
            d = dist(emb[i], emb[j])
            if labels[i] == labels[j]:
                pos.append(d * d)
            else:
                neg.append(max(0.0, neg_margin - d) ** 2)
    return (sum(pos) / len(pos) if pos else 0.0) + (sum(neg) / len(neg) if neg else 0.0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_pairwise_distance_matches_loop(dtype):
    emb = unit(ANGLES, dtype)
    d = pairwise_distance(emb)
    for i in range(len(emb)):
        for j in range(len(emb)):
            assert d[i, j].item() == pytest.approx(dist(emb[i], emb[j]), abs=1e-5)
    # 0 and 90 degrees on the unit circle: sqrt(2) apart
    assert d[0, 2].item() == pytest.approx(math.sqrt(2), abs=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mining", ["hard", "semihard"])
@pytest.mark.parametrize("margin", [0.1, 0.5, 1.5])
def test_triplet_matches_loop(dtype, mining, margin):
    emb = unit(ANGLES, dtype)
    got = batch_hard_triplet_loss(emb, LABELS, margin, mining).item()
    assert got == pytest.approx(triplet_loop(emb, LABELS.tolist(), margin, mining), abs=1e-5)


def test_triplet_hand_worked():
    # anchor 0 deg: farthest positive is 45 deg (d = 2 sin 22.5), nearest negative 90 deg
    # (d = sqrt 2); with margin 0 only anchors whose farthest positive is past their nearest
    # negative contribute.
    emb = unit([0.0, 45.0, 90.0], torch.float64)
    labels = torch.tensor([0, 0, 1])
    d_pos = 2 * math.sin(math.radians(22.5))
    d_neg_anchor1 = 2 * math.sin(math.radians(22.5))  # 45 -> 90
    # anchor 0: max(0, 0.765 - 1.414) = 0; anchor 1: max(0, 0.765 - 0.765) = 0
    assert batch_hard_triplet_loss(emb, labels, 0.0).item() == pytest.approx(0.0, abs=1e-7)
    # margin 0.2: anchor 0 -> 0, anchor 1 -> 0.2; anchor 2 has no positive -> mean of 2
    expected = (0.0 + max(0.0, d_pos - d_neg_anchor1 + 0.2)) / 2
    assert batch_hard_triplet_loss(emb, labels, 0.2).item() == pytest.approx(expected)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("neg_margin", [0.5, 1.0, 2.0])
def test_contrastive_matches_loop(dtype, neg_margin):
    emb = unit(ANGLES, dtype)
    got = contrastive_loss(emb, LABELS, 0.0, neg_margin).item()
    assert got == pytest.approx(contrastive_loop(emb, LABELS.tolist(), neg_margin), abs=1e-5)


def test_center_loss_matches_loop():
    torch.manual_seed(0)
    loss = CenterLoss(3, 2).double()
    emb = unit(ANGLES)
    want = sum(0.5 * float(((emb[i] - loss.centers[LABELS[i]].detach()) ** 2).sum())
               for i in range(len(emb))) / len(emb)
    assert loss(emb, LABELS).item() == pytest.approx(want)


def info_nce_loop(a, p, allowed, t):
    n, total, count = len(a), 0.0, 0
    for x, y, allow in ((a, p, allowed), (p, a, allowed.t())):
        for i in range(n):
            negs = [j for j in range(n) if j != i and allow[i, j]]
            if not negs:
                continue
            num = math.exp(float(x[i] @ y[i]) / t)
            den = num + sum(math.exp(float(x[i] @ y[j]) / t) for j in negs)
            total += -math.log(num / den)
            count += 1
    return total / count if count else 0.0


@pytest.mark.parametrize("temperature", [0.1, 0.5])
def test_info_nce_matches_loop(temperature):
    a = unit([0.0, 80.0, 170.0, 260.0])
    p = unit([10.0, 95.0, 150.0, 300.0])
    allowed = torch.tensor([[0, 1, 1, 0], [1, 0, 0, 0], [1, 0, 0, 1], [0, 0, 1, 0]], dtype=bool)
    got = info_nce_loss(a, p, allowed, temperature).item()
    assert got == pytest.approx(info_nce_loop(a, p, allowed, temperature), rel=1e-6)


def test_no_valid_pairs_or_triplets_give_zero_and_zero_grad():
    emb = unit([0.0, 30.0, 60.0]).requires_grad_(True)
    same = torch.tensor([4, 4, 4])  # no negatives
    distinct = torch.tensor([1, 2, 3])  # no positives
    for loss in (batch_hard_triplet_loss(emb, same), batch_hard_triplet_loss(emb, distinct),
                 batch_hard_triplet_loss(emb, same, mining="semihard"),
                 batch_hard_triplet_loss(emb, distinct, mining="semihard"),
                 info_nce_loss(emb, emb, torch.zeros(3, 3, dtype=bool))):
        assert loss.item() == 0.0
        (g,) = torch.autograd.grad(loss, emb)
        assert torch.equal(g, torch.zeros_like(g))
    # contrastive: only positives -> just the positive term; only negatives -> negative term
    assert contrastive_loss(emb, same).item() > 0
    single = torch.zeros(1, 2, requires_grad=True)
    assert contrastive_loss(single, torch.tensor([0])).item() == 0.0


@pytest.mark.parametrize("dtype", DTYPES)
def test_backward_finite_even_with_duplicate_points(dtype):
    emb = unit([0.0, 0.0, 90.0, 90.0, 45.0], dtype)  # exact duplicates: distance 0
    labels = torch.tensor([0, 1, 0, 1, 2])
    emb.requires_grad_(True)
    for loss in (batch_hard_triplet_loss(emb, labels),
                 batch_hard_triplet_loss(emb, labels, mining="semihard"),
                 contrastive_loss(emb, labels)):
        (g,) = torch.autograd.grad(loss, emb)
        assert torch.isfinite(g).all()


def test_gradcheck_float64():
    torch.manual_seed(1)
    x = torch.randn(6, 3, dtype=torch.float64, requires_grad=True)
    labels = torch.tensor([0, 0, 1, 1, 2, 2])

    def norm(f):
        return lambda v: f(F.normalize(v, dim=1))

    assert torch.autograd.gradcheck(norm(lambda e: batch_hard_triplet_loss(e, labels, 0.5)),
                                    (x,))
    assert torch.autograd.gradcheck(
        norm(lambda e: batch_hard_triplet_loss(e, labels, 0.5, "semihard")), (x,))
    assert torch.autograd.gradcheck(norm(lambda e: contrastive_loss(e, labels, 0.0, 1.5)), (x,))
    allowed = torch.ones(3, 3, dtype=bool)
    assert torch.autograd.gradcheck(
        lambda v: info_nce_loss(F.normalize(v[:3], dim=1), F.normalize(v[3:], dim=1), allowed,
                                0.5), (x,))
    center = CenterLoss(3, 3).double()
    assert torch.autograd.gradcheck(lambda e: center(e, labels), (x,))


@torch.no_grad()
def test_heads_against_formulas():
    torch.manual_seed(0)
    f = torch.randn(5, 4, dtype=torch.float64)
    y = torch.tensor([0, 2, 1, 2, 0])
    cos_head = CosineSoftmaxHead(4, 3, scale_init=7.0).double()
    cos = F.normalize(f, dim=1) @ F.normalize(cos_head.weight, dim=1).t()
    assert cos_head.scale.item() == pytest.approx(7.0)
    assert torch.allclose(cos_head(f), 7.0 * cos)
    for i in range(5):
        for c in range(3):
            w = cos_head.weight[c].detach()
            want = float(f[i] @ w / (f[i].norm() * w.norm()))
            assert cos[i, c].item() == pytest.approx(want)
    arc = ArcFaceHead(4, 3, scale=10.0, margin=0.3).double()
    cos = arc.cosine(f)
    out = arc(f, y)
    for i in range(5):
        for c in range(3):
            theta = math.acos(float(cos[i, c]))
            if c == y[i]:
                want = (math.cos(theta + 0.3) if theta + 0.3 < math.pi
                        else float(cos[i, c]) - 0.3 * math.sin(0.3))
            else:
                want = float(cos[i, c])
            assert out[i, c].item() == pytest.approx(10.0 * want, abs=1e-6)
    cf = CosFaceHead(4, 3, scale=10.0, margin=0.2).double()
    cos = cf.cosine(f)
    out = cf(f, y)
    for i in range(5):
        for c in range(3):
            assert out[i, c].item() == pytest.approx(10.0 * (cos[i, c].item() - 0.2 * (c == y[i])))
    lin = LinearSoftmaxHead(4, 3).double()
    assert torch.allclose(lin(f), f @ lin.fc.weight.t() + lin.fc.bias)


def test_arcface_gradcheck():
    torch.manual_seed(2)
    head = ArcFaceHead(3, 4, scale=4.0, margin=0.4).double()
    f = torch.randn(5, 3, dtype=torch.float64, requires_grad=True)
    y = torch.tensor([0, 1, 2, 3, 0])
    assert torch.autograd.gradcheck(lambda v: F.cross_entropy(head(v, y), y), (f,))


@pytest.mark.parametrize("name", LOSSES)
def test_every_criterion_trains_a_step(name):
    torch.manual_seed(0)
    feats = torch.randn(8, 6, requires_grad=True)
    labels = torch.tensor([0, 0, 1, 1, 2, 2, 3, 3])
    crit = Criterion(LossConfig(name=name, triplet_weight=0.5 if name == "softmax" else 0.0),
                     6, 4)
    loss, correct = crit(feats, labels)
    assert loss.ndim == 0 and torch.isfinite(loss) and loss.item() > 0
    assert 0 <= correct <= 8
    loss.backward()
    assert torch.isfinite(feats.grad).all() and feats.grad.abs().sum() > 0


def test_config_errors_name_the_argument():
    with pytest.raises(ValueError, match="loss name='nope'"):
        LossConfig(name="nope")
    with pytest.raises(ValueError, match="mining"):
        batch_hard_triplet_loss(unit([0.0, 1.0]), torch.tensor([0, 0]), mining="easy")
    with pytest.raises(ValueError, match="margin"):
        ArcFaceHead(2, 3, margin=2.0)
    with pytest.raises(ValueError, match="num_classes=1"):
        CosineSoftmaxHead(2, 1)


@pytest.mark.parametrize("name, miner", [("multi_similarity", "none"),
                                         ("multi_similarity", "multi_similarity"),
                                         ("npair", "none"), ("angular", "none"),
                                         ("multi_similarity", "distance_weighted"),
                                         ("angular", "batch_hard")])
def test_library_losses_come_from_pytorch_metric_learning(name, miner):
    """The metric losses of lever 3 are pytorch-metric-learning's own (not rewritten here):
    the criterion's value equals the library's on the same batch, and it trains (gradient)."""
    pml = pytest.importorskip("pytorch_metric_learning")
    from pytorch_metric_learning import losses, miners

    from cosmot.appearance.criterion import LIBRARY_LOSSES, MINERS

    torch.manual_seed(0)
    feats = torch.randn(16, 8, requires_grad=True)
    labels = torch.arange(4).repeat_interleave(4)
    crit = Criterion(LossConfig(name=name, miner=miner), dim=8, num_classes=4)
    torch.manual_seed(1)
    loss, correct = crit(feats, labels)
    emb = F.normalize(feats, dim=1)
    ref_miner = getattr(miners, MINERS[miner])() if MINERS[miner] else None
    torch.manual_seed(1)
    ref = getattr(losses, LIBRARY_LOSSES[name])()(
        emb, labels, ref_miner(emb, labels) if ref_miner is not None else None)
    assert correct == 0 and torch.allclose(loss, ref)
    loss.backward()
    assert feats.grad is not None and torch.isfinite(feats.grad).all()
    assert pml.__version__


def test_a_miner_needs_a_library_loss():
    with pytest.raises(ValueError, match="applies to the pytorch-metric-learning losses"):
        LossConfig(name="cosine_softmax", miner="batch_hard")
    with pytest.raises(ValueError, match="miner='nope'"):
        LossConfig(name="angular", miner="nope")


def test_cross_batch_memory_is_the_librarys_and_its_state_resumes():
    """--xbm N: pytorch-metric-learning's CrossBatchMemory around the loss (same value as the
    library's own on the same batches); its contents and write position survive state_dict, so
    a criterion rebuilt from it gives the next batch's loss exactly."""
    pytest.importorskip("pytorch_metric_learning")
    from pytorch_metric_learning import losses, miners

    torch.manual_seed(0)
    batches = [(torch.randn(16, 8), torch.arange(4).repeat_interleave(4) + 4 * (i % 2))
               for i in range(4)]
    cfg = LossConfig(name="multi_similarity", miner="multi_similarity", memory_size=40)
    crit = Criterion(cfg, dim=8, num_classes=8)
    ref = losses.CrossBatchMemory(losses.MultiSimilarityLoss(), 8, memory_size=40,
                                  miner=miners.MultiSimilarityMiner())
    for feats, labels in batches[:3]:  # 48 crops through a memory of 40: it wraps around
        loss, _ = crit(feats, labels)
        assert torch.allclose(loss, ref(F.normalize(feats, dim=1), labels))
    state = crit.state_dict()
    again = Criterion(cfg, dim=8, num_classes=8)
    again.load_state_dict(state)
    feats, labels = batches[3]
    assert torch.equal(again(feats, labels)[0], crit(feats, labels)[0])
    # without a memory the state has no extra entry (older training states still load)
    assert not any("extra" in k for k in Criterion(LossConfig(name="multi_similarity"), 8,
                                                      8).state_dict())


def test_a_memory_needs_a_supported_library_loss():
    with pytest.raises(ValueError, match="cross-batch memory"):
        LossConfig(name="npair", memory_size=64)
    with pytest.raises(ValueError, match="cross-batch memory"):
        LossConfig(name="cosine_softmax", memory_size=64)
    with pytest.raises(ValueError, match="memory_size=-1"):
        LossConfig(name="angular", memory_size=-1)
