"""The vectorised tracker against a plain per-track implementation (filterpy, scipy, loops):
same algorithm, so the same (track id, detection) pairs frame by frame."""

import numpy as np
import pytest

from support.reference_tracker import ReferenceTracker, assign_with_limit
from cosmot.testing.synthetic_scene import walking_scene
from cosmot.tracker import PRESETS, Tracker
from cosmot.tracker.assignment import linear_assignment


def _compare(config, frames, use_embeddings=True):
    fast, ref = Tracker(config), ReferenceTracker(config)
    for k, (boxes, scores, emb) in enumerate(frames):
        e = emb if use_embeddings else None
        out = fast.update(boxes, scores, e)
        got = sorted(zip(out.track_id.tolist(), out.det_index.tolist()))
        assert got == ref.update(boxes, scores, e), f"frame {k + 1}"
    return fast


@pytest.mark.parametrize("preset", ["deepsort", "default"])
@pytest.mark.parametrize("use_embeddings", [True, False])
def test_same_output_on_a_busy_synthetic_scene(preset, use_embeddings):
    scene = walking_scene(15, 80, seed=5, miss_rate=0.15, false_positives=1.0, speed=6.0)
    frames = [(f.det_xyxy, f.det_scores, f.det_embeddings) for f in scene]
    fast = _compare(PRESETS[preset], frames, use_embeddings)
    assert fast._next_id > 10  # the scene exercised confirmation, misses and deletions


def test_same_output_on_real_detections(mot_dir):
    from bench_tracker import identity_embeddings
    from cosmot.sources.motchallenge import read_detections, read_ground_truth
    from cosmot.tracker.geometry import tlwh_to_xyxy

    det = read_detections(mot_dir / "MOT16-11" / "det" / "det.txt", min_score=0.0)
    det = det.filter(det.frames <= 250)
    gt = read_ground_truth(mot_dir / "MOT16-11" / "gt" / "gt.txt")
    emb = identity_embeddings(det.frames, det.tlwh, gt, 32, np.random.default_rng(0))
    sl = det.frame_slices()
    xyxy = tlwh_to_xyxy(det.tlwh)
    frames = [(xyxy[sl[f]], det.scores[sl[f]], emb[sl[f]]) if f in sl else
              (np.zeros((0, 4)), np.zeros(0), np.zeros((0, 32))) for f in range(1, 251)]
    _compare(PRESETS["deepsort"], frames)


def test_reference_assignment_matches_lap():
    rng = np.random.default_rng(11)
    for _ in range(50):
        cost = rng.random(rng.integers(1, 9, 2))
        r, c = linear_assignment(cost, 0.4)
        assert sorted(zip(r.tolist(), c.tolist())) == sorted(assign_with_limit(cost, 0.4))
