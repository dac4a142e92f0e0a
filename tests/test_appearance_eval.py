"""CMC / mAP against an explicit loop and hand-worked rankings."""

from __future__ import annotations

import numpy as np
import pytest

from cosmot.appearance.retrieval_metrics import (cmc_map, evaluate_all_vs_all, evaluate_all_vs_all_cameras,
                                 evaluate_query_gallery)


def loop_reference(dist, q_ids, g_ids, q_cams, g_cams, max_rank, exclude=None):
    cmc = np.zeros(max_rank)
    aps = []
    for i in range(len(q_ids)):
        order = np.argsort(dist[i], kind="stable")
        ranked = []
        for j in order:
            if g_ids[j] == q_ids[i] and g_cams[j] == q_cams[i]:
                continue
            if exclude is not None and exclude[i, j]:
                continue
            ranked.append(g_ids[j] == q_ids[i])
        if not any(ranked):
            continue
        first = ranked.index(True)
        cmc[first:] += 1
        hits, precisions = 0, []
        for r, m in enumerate(ranked, start=1):
            if m:
                hits += 1
                precisions.append(hits / r)
        aps.append(np.mean(precisions))
    return cmc / len(aps), float(np.mean(aps)), len(aps)


def test_hand_worked_ranking():
    # one query of identity 7, camera 0; gallery ranked by distance:
    #   g0 id 7 cam 0 (same camera: removed), g1 id 3, g2 id 7 cam 1, g3 id 5, g4 id 7 cam 2
    # remaining ranking: id3, 7, id5, 7 -> first hit at rank 2; AP = (1/2 + 2/4) / 2 = 0.5
    dist = np.array([[0.1, 0.2, 0.3, 0.4, 0.5]])
    s = cmc_map(dist, np.array([7]), np.array([7, 3, 7, 5, 7]), np.array([0]),
                np.array([0, 0, 1, 0, 2]), max_rank=3)
    assert s.cmc.tolist() == [0.0, 1.0, 1.0]
    assert s.mAP == pytest.approx(0.5)
    assert s.num_queries == 1


def test_query_without_true_match_is_skipped():
    dist = np.array([[0.1, 0.2], [0.3, 0.1]])
    s = cmc_map(dist, np.array([1, 2]), np.array([1, 3]), np.array([0, 0]), np.array([1, 1]))
    assert s.num_queries == 1 and s.rank(1) == 1.0 and s.mAP == 1.0


@pytest.mark.parametrize("seed", range(5))
def test_random_against_loop(seed):
    rng = np.random.default_rng(seed)
    q, g = 12, 40
    dist = rng.random((q, g))
    q_ids, g_ids = rng.integers(0, 5, q), rng.integers(0, 5, g)
    q_cams, g_cams = rng.integers(0, 3, q), rng.integers(0, 3, g)
    exclude = rng.random((q, g)) < 0.1
    s = cmc_map(dist, q_ids, g_ids, q_cams, g_cams, 10, exclude)
    cmc, m, n = loop_reference(dist, q_ids, g_ids, q_cams, g_cams, 10, exclude)
    assert np.allclose(s.cmc, cmc) and s.mAP == pytest.approx(m) and s.num_queries == n


def test_all_vs_all_time_gap():
    # identity 1 seen at frames 1, 2 and 50; identity 2 at frame 3. Unit vectors: the frame-2
    # crop of id 1 is identical to frame 1; the frame-50 crop is far; id 2 is in between.
    emb = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.6, 0.8]])
    ids = np.array([1, 1, 1, 2])
    frames = np.array([1, 2, 50, 3])
    # gap 10: frame 1 and 2 may not match each other; the query at frame 1 ranks id2 (0.6)
    # before id1@50 (0.0) -> rank 2, AP 1/2
    s = evaluate_all_vs_all(emb, ids, frames, min_gap=10, max_rank=3)
    assert s.num_queries == 3  # the id-2 crop has no other crop of its identity
    # queries f1, f2: first hit at rank 2 (AP 0.5); query f50: ranking excludes nothing of
    # its own id within 10 frames except itself: f1 (cos 0), f2 (cos 0), id2 (cos 0.8)
    # -> id2 first, then f1, f2: hits at ranks 2 and 3 -> AP = (1/2 + 2/3) / 2
    assert s.mAP == pytest.approx((0.5 + 0.5 + (0.5 + 2 / 3) / 2) / 3)
    # gap 1: frame-1 and frame-2 crops match each other at rank 1
    s1 = evaluate_all_vs_all(emb, ids, frames, min_gap=1, max_rank=3)
    assert s1.rank(1) > s.rank(1)


def test_camera_protocols_agree_with_loop():
    rng = np.random.default_rng(3)
    emb = rng.normal(size=(20, 4))
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    ids, cams = rng.integers(0, 4, 20), rng.integers(0, 2, 20)
    s = evaluate_all_vs_all_cameras(emb, ids, cams)
    cmc, m, n = loop_reference(1 - emb @ emb.T, ids, ids, cams, cams, 10, np.eye(20, dtype=bool))
    assert np.allclose(s.cmc, cmc) and s.mAP == pytest.approx(m) and s.num_queries == n
    s2 = evaluate_query_gallery(emb[:5], ids[:5], cams[:5], emb[5:], ids[5:], cams[5:])
    cmc, m, n = loop_reference(1 - emb[:5] @ emb[5:].T, ids[:5], ids[5:], cams[:5], cams[5:], 10)
    assert np.allclose(s2.cmc, cmc) and s2.mAP == pytest.approx(m)


def test_empty_inputs_and_bad_rank():
    s = cmc_map(np.zeros((0, 3)), np.zeros(0), np.zeros(3), np.zeros(0), np.zeros(3))
    assert s.num_queries == 0 and np.isnan(s.mAP)
    with pytest.raises(ValueError, match="max_rank=0"):
        cmc_map(np.zeros((1, 1)), np.zeros(1), np.zeros(1), np.zeros(1), np.ones(1), max_rank=0)
