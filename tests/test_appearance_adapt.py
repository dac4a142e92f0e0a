"""IoU tracklets, co-occurrence negatives, the pair batcher and a few adaptation steps."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cosmot.appearance.adapt import AdaptConfig, PairBatcher, UnlabelledSet, adapt, concat_unlabelled
from cosmot.appearance.crops import CropSet
from cosmot.appearance.model import EmbeddingNet, NetConfig
from cosmot.appearance.tracklets import cooccurrence, iou_xyxy, link_tracklets


def test_iou_hand_worked():
    a = np.array([[0.0, 0, 10, 10]])
    b = np.array([[5.0, 0, 15, 10], [20, 20, 30, 30], [0, 0, 10, 10]])
    # overlap 5x10 = 50, union 100 + 100 - 50 = 150
    assert np.allclose(iou_xyxy(a, b), [[50 / 150, 0.0, 1.0]])


def test_link_tracklets_two_walkers_and_ambiguity():
    # person A walks right 2 px/frame, person B stands still far away: two tracklets
    frames, boxes = [], []
    for f in range(1, 6):
        frames += [f, f]
        boxes += [[2.0 * f, 0, 2.0 * f + 20, 50], [100, 0, 120, 50]]
    ids = link_tracklets(np.array(frames), np.array(boxes))
    assert ids[0::2].tolist() == [0] * 5 and ids[1::2].tolist() == [1] * 5
    # a frame gap breaks the tracklet (no link across missing frames)
    ids = link_tracklets(np.array([1, 3]), np.array([[0.0, 0, 20, 50]] * 2))
    assert ids.tolist() == [0, 1]
    # two overlapping people: the link is ambiguous and not made
    f = np.array([1, 1, 2, 2])
    b = np.array([[0.0, 0, 20, 50], [4, 0, 24, 50], [1, 0, 21, 50], [5, 0, 25, 50]])
    ids = link_tracklets(f, b)
    assert len(set(ids.tolist())) == 4
    assert link_tracklets(np.zeros(0), np.zeros((0, 4))).shape == (0,)
    with pytest.raises(ValueError, match="min_iou"):
        link_tracklets(f, b, min_iou=0.0)


def test_cooccurrence():
    frames = np.array([1, 1, 2, 3, 3, 3])
    tracks = np.array([0, 1, 0, 2, 3, 1])
    co = cooccurrence(frames, tracks)
    want = np.zeros((4, 4), bool)
    for a, b in [(0, 1), (2, 3), (1, 2), (1, 3)]:
        want[a, b] = want[b, a] = True
    assert np.array_equal(co, want)


def synthetic_video(n_frames=30, people=4, seed=0) -> UnlabelledSet:
    """People of distinct colours walking side by side; each one tracklet."""
    rng = np.random.default_rng(seed)
    colours = rng.integers(0, 256, (people, 3))
    images, frames, boxes = [], [], []
    for f in range(1, n_frames + 1):
        for p in range(people):
            img = np.clip(colours[p] + rng.normal(0, 10, (32, 16, 3)), 0, 255).astype(np.uint8)
            images.append(img)
            frames.append(f)
            boxes.append([p * 50.0 + f, 0, p * 50.0 + f + 20, 50])
    frames = np.array(frames)
    tr = link_tracklets(frames, np.array(boxes))
    return UnlabelledSet(np.stack(images), frames, tr, np.zeros(len(frames), np.int64), ("v",))


def test_pair_batcher_positives_and_negatives():
    data = synthetic_video()
    assert len(np.unique(data.tracklets)) == 4
    pb = PairBatcher(data, batch=4, per_frame=4, min_gap=10, seed=0)
    a, p, allowed = pb.batch()
    assert len(a) == 4 and len(set(data.tracklets[a].tolist())) == 4
    assert (data.tracklets[a] == data.tracklets[p]).all()
    assert (np.abs(data.frames[a] - data.frames[p]) >= 10).all()
    assert np.array_equal(allowed, ~np.eye(4, dtype=bool))  # all seen together
    both = concat_unlabelled([data, synthetic_video(seed=1)])
    assert len(np.unique(both.tracklets)) == 8 and both.source_names == ("v", "v")
    # different sequences hold different people: their tracklets are negatives too
    two = PairBatcher(both, batch=8, per_frame=1, min_gap=1, seed=0)
    a, p, allowed = two.batch()
    src = both.sources[a]
    t = both.tracklets[a]
    assert np.array_equal(allowed, (src[:, None] != src[None, :]) | two.co[t[:, None], t])


def test_adapt_steps_change_the_model_and_are_deterministic():
    cfg_net = NetConfig(input_hw=(32, 16), widths=(4, 8, 8), dim=8)
    data = synthetic_video()
    n = 24
    rng = np.random.default_rng(0)
    labelled = CropSet(rng.integers(0, 255, (n, 32, 16, 3), dtype=np.uint8),
                       np.repeat(np.arange(6), 4), np.zeros(n, np.int64), np.zeros(n, np.int64),
                       np.full(n, -1), ("l",), (0.0,))
    cfg = AdaptConfig(steps=3, batch=4, per_frame=4, p=3, k=4, min_gap=5)
    results = []
    for _ in range(2):
        torch.manual_seed(0)
        model = EmbeddingNet(cfg_net)
        before = [p.detach().clone() for p in model.parameters()]
        hist = adapt(model, data, labelled, cfg, progress=False, log=lambda s: None)
        assert hist[-1]["step"] == 3 and np.isfinite(hist[-1]["nce"])
        assert any(not torch.equal(b, p) for b, p in zip(before, model.parameters()))
        results.append([p.detach().clone() for p in model.parameters()])
    assert all(torch.equal(a, b) for a, b in zip(*results))
