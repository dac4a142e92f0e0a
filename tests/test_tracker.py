"""Tracker behaviour: life cycle frame by frame, per-instance ids, appearance, input checks."""

import numpy as np
import pytest

from cosmot.testing.synthetic_scene import walking_scene
from cosmot.tracker import Tracker, TrackerConfig
from cosmot.tracker.track_set import CONFIRMED, TENTATIVE

BOX = np.array([[100.0, 100.0, 140.0, 200.0]])


def _moved(box, dx):
    out = box.copy()
    out[:, [0, 2]] += dx
    return out


def test_life_cycle_frame_by_frame():
    tr = Tracker(TrackerConfig(n_init=3, max_age=2))
    # frames 1, 2: tentative, nothing output
    assert len(tr.update(BOX)) == 0
    assert tr.tracks.state[0] == TENTATIVE
    assert len(tr.update(_moved(BOX, 2))) == 0
    # frame 3: third hit confirms, the track is output with id 1
    out = tr.update(_moved(BOX, 4))
    assert out.track_id.tolist() == [1] and tr.tracks.state[0] == CONFIRMED
    assert out.det_index.tolist() == [0]
    # max_age 2: two missed frames keep it alive, the third deletes it
    assert len(tr.update(np.zeros((0, 4)))) == 0
    assert len(tr.update(np.zeros((0, 4)))) == 0
    assert tr.num_tracks == 1
    tr.update(np.zeros((0, 4)))
    assert tr.num_tracks == 0


def test_tentative_track_dies_on_first_miss():
    tr = Tracker(TrackerConfig(n_init=3))
    tr.update(BOX)
    tr.update(np.zeros((0, 4)))
    assert tr.num_tracks == 0


def test_n_init_one_confirms_immediately():
    out = Tracker(TrackerConfig(n_init=1)).update(BOX)
    assert out.track_id.tolist() == [1]


def test_recovered_track_after_miss_keeps_id():
    tr = Tracker(TrackerConfig(n_init=1, max_age=5))
    emb = np.ones((1, 8))
    for k in range(5):
        tr.update(_moved(BOX, 3 * k), embeddings=emb)
    tr.update(np.zeros((0, 4)), embeddings=np.zeros((0, 8)))
    tr.update(np.zeros((0, 4)), embeddings=np.zeros((0, 8)))
    out = tr.update(_moved(BOX, 21), embeddings=emb)
    assert out.track_id.tolist() == [1]


def test_two_trackers_do_not_share_ids_and_reset_restarts():
    a, b = Tracker(TrackerConfig(n_init=1)), Tracker(TrackerConfig(n_init=1))
    boxes = np.array([[0, 0, 10, 20.0], [100, 0, 110, 20]])
    assert a.update(boxes).track_id.tolist() == [1, 2]
    assert b.update(boxes[:1]).track_id.tolist() == [1]
    assert a.update(boxes).track_id.tolist() == [1, 2]
    a.reset()
    assert a.num_tracks == 0
    assert a.update(boxes[1:]).track_id.tolist() == [1]
    assert b.update(boxes[:1]).track_id.tolist() == [1]


def test_output_fields():
    tr = Tracker(TrackerConfig(n_init=1))
    boxes = np.array([[0, 0, 10, 20.0], [100, 0, 110, 20]])
    out = tr.update(boxes, scores=np.array([0.9, 0.7]), classes=np.array([0, 2]))
    assert out.det_index.tolist() == [0, 1]
    np.testing.assert_allclose(out.det_xyxy, boxes)
    np.testing.assert_allclose(out.xyxy, boxes)  # a new track's state is its detection
    np.testing.assert_allclose(out.score, [0.9, 0.7])
    assert out.class_id.tolist() == [0, 2]
    objs = list(out)
    assert objs[1].track_id == 2 and objs[1].class_id == 2
    np.testing.assert_allclose(objs[0].tlwh, [0, 0, 10, 20])


def test_classes_never_mix():
    tr = Tracker(TrackerConfig(n_init=1))
    tr.update(BOX, classes=[0])
    out = tr.update(_moved(BOX, 1), classes=[1])  # same place, other class: a new track
    assert out.track_id.tolist() == [2]


def test_low_scores_are_ignored_and_byte_stage_uses_them():
    cfg = TrackerConfig(n_init=1, min_score=0.5)
    tr = Tracker(cfg)
    tr.update(BOX, scores=[0.9])
    assert len(tr.update(_moved(BOX, 2), scores=[0.3])) == 0  # ignored: the track misses
    byte = Tracker(cfg.replace(byte_association=True, low_score=0.1))
    byte.update(BOX, scores=[0.9])
    out = byte.update(_moved(BOX, 2), scores=[0.3])
    assert out.track_id.tolist() == [1]
    # a low-score detection never starts a track
    assert len(Tracker(cfg.replace(byte_association=True)).update(BOX, scores=[0.3])) == 0


def test_nms_max_overlap_drops_duplicate_boxes():
    """Two boxes on one person (IoU 0.54): without NMS each starts a track, with NMS only the
    higher-scoring one does; the kept detection's index refers to the caller's arrays."""
    dup = np.vstack([BOX, _moved(BOX, 12)])
    iou = 28 * 100 / (2 * 40 * 100 - 28 * 100)
    assert 0.5 < iou < 0.7
    scores = [0.4, 0.9]
    assert len(Tracker(TrackerConfig(n_init=1)).update(dup, scores=scores)) == 2
    out = Tracker(TrackerConfig(n_init=1, nms_max_overlap=0.5)).update(dup, scores=scores)
    assert out.det_index.tolist() == [1]
    # boxes of different classes never suppress each other
    both = Tracker(TrackerConfig(n_init=1, nms_max_overlap=0.5)).update(
        dup, scores=scores, classes=[0, 1])
    assert len(both) == 2
    with pytest.raises(ValueError, match="nms_max_overlap"):
        TrackerConfig(nms_max_overlap=1.5)


def test_mahalanobis_gate_blocks_appearance_match_far_away():
    tr = Tracker(TrackerConfig(n_init=1, max_iou_distance=0.7))
    emb = np.eye(4)[:1]
    tr.update(BOX, embeddings=emb)
    tr.update(_moved(BOX, 1), embeddings=emb)
    # identical appearance but 600 px away in one frame: gated out, so a new track
    out = tr.update(_moved(BOX, 600), embeddings=emb)
    assert out.track_id.tolist() == [2]


@pytest.mark.parametrize("use_appearance", [False, True])
def test_appearance_keeps_identities_when_people_swap_places(use_appearance):
    """Two people stand side by side (30 px apart, boxes overlap), both go undetected for two
    frames and come back having swapped places. Overlap and motion cannot tell them apart (the
    motion-only tracker swaps their ids); appearance can."""
    tr = Tracker(TrackerConfig())
    feat = np.eye(16)[:2]
    ids: dict[int, set] = {0: set(), 1: set()}
    for k in range(50):
        xa, xb = (300, 330) if k < 20 else (330, 300)
        boxes = np.array([[xa, 100, xa + 80, 300], [xb, 100, xb + 80, 300]], float)
        sel = np.array([], int) if 20 <= k < 22 else np.array([0, 1])
        out = tr.update(boxes[sel], embeddings=feat[sel] if use_appearance else None)
        for tid, di in zip(out.track_id, out.det_index):
            ids[int(sel[di])].add(int(tid))
    if use_appearance:
        assert ids == {0: {1}, 1: {2}}
    else:
        assert ids == {0: {1, 2}, 1: {1, 2}}  # the known failure of motion alone


def test_synthetic_scene_statistics():
    scene = walking_scene(8, 150, seed=1, miss_rate=0.1, false_positives=0.5)
    tr = Tracker(TrackerConfig())
    gt_to_ids: dict[int, set] = {}
    tracked = total = 0
    for f in scene:
        out = tr.update(f.det_xyxy, f.det_scores, f.det_embeddings)
        gts = f.det_gt[out.det_index]
        for g, tid in zip(gts, out.track_id):
            if g >= 0:
                gt_to_ids.setdefault(int(g), set()).add(int(tid))
        tracked += int((gts >= 0).sum())
        total += len(f.gt_ids)
    # each person keeps one id, and is output in most frames
    assert all(len(v) == 1 for v in gt_to_ids.values()), gt_to_ids
    assert tracked / total > 0.8


@pytest.mark.parametrize("mode", ["gallery", "ema"])
def test_feature_modes_run_and_track(mode):
    scene = walking_scene(5, 40, seed=2)
    tr = Tracker(TrackerConfig(feature_mode=mode, nn_budget=10))
    n_out = sum(len(tr.update(f.det_xyxy, f.det_scores, f.det_embeddings)) for f in scene)
    assert n_out >= 5 * 35
    assert tr._next_id - 1 == 5


def test_gallery_budget_is_a_ring():
    tr = Tracker(TrackerConfig(n_init=1, nn_budget=3, iou_max_cosine_distance=2.0))
    for k in range(5):
        e = np.zeros((1, 5))
        e[0, k] = 1.0
        tr.update(_moved(BOX, k), embeddings=e)
    g = tr.tracks.gallery[0]
    # the last 3 features (k = 2, 3, 4) are kept
    assert sorted(int(np.argmax(r)) for r in g) == [2, 3, 4]
    assert tr.tracks.n_features[0] == 5


@pytest.mark.parametrize("boxes, msg", [
    (np.zeros((2, 3)), "shape"),
    (np.array([[10, 10, 5, 20.0]]), "row 0"),
    (np.array([[0, 0, 10, 10], [0, 0, np.nan, 1]]), "row 1"),
])
def test_bad_boxes_raise(boxes, msg):
    with pytest.raises(ValueError, match=msg):
        Tracker().update(boxes)


def test_bad_companions_raise():
    tr = Tracker()
    with pytest.raises(ValueError, match="scores"):
        tr.update(BOX, scores=[0.1, 0.2])
    with pytest.raises(ValueError, match="embeddings"):
        tr.update(BOX, embeddings=np.zeros((2, 4)))
    tr.update(BOX, embeddings=np.ones((1, 4)))
    with pytest.raises(ValueError, match="every frame"):
        tr.update(BOX)
    with pytest.raises(ValueError, match="dimensions"):
        tr.update(BOX, embeddings=np.ones((1, 5)))


def test_config_validation_names_field():
    with pytest.raises(ValueError, match="max_cosine_distance"):
        TrackerConfig(max_cosine_distance=-0.1)
    with pytest.raises(ValueError, match="n_init"):
        TrackerConfig(n_init=0)
    with pytest.raises(ValueError, match="no field"):
        TrackerConfig().replace(max_agee=3)
    # BYTE switched on alone: the message says which two thresholds to set and how
    with pytest.raises(ValueError, match=r"set both.*--set min_score=0\.5"):
        TrackerConfig(byte_association=True)
    with pytest.raises(TypeError):
        Tracker(config={"max_age": 3})


def test_empty_frames_advance_filters():
    tr = Tracker(TrackerConfig(n_init=1, max_age=10))
    tr.update(BOX)
    tr.update(_moved(BOX, 10))
    tr.update(np.zeros((0, 4)))
    # the lost track kept moving with its velocity
    cx = tr.tracks.mean[0, 0]
    assert cx > 120 + 10


@pytest.mark.parametrize("veto, expect_same_track", [(2.0, True), (0.3, False)])
def test_iou_stage_uses_frame_to_frame_appearance(veto, expect_same_track):
    """A tentative track is matched by overlap alone in Deep SORT; with the veto on, a detection
    at the same place that looks like someone else starts a new track instead."""
    tr = Tracker(TrackerConfig(n_init=2, iou_max_cosine_distance=veto))
    e = np.eye(4)
    tr.update(BOX, embeddings=e[:1])
    out = tr.update(_moved(BOX, 1), embeddings=e[1:2])
    assert tr.num_tracks == 1
    if expect_same_track:
        assert out.track_id.tolist() == [1] and tr.tracks.uid[0] == 1
    else:  # the tentative track missed and died; the detection started a new one
        assert len(out) == 0 and tr.tracks.uid[0] == 2


def test_deepsort_preset_is_the_paper_configuration():
    from cosmot.tracker import PRESETS

    cfg = PRESETS["deepsort"]
    assert (cfg.max_cosine_distance, cfg.nn_budget, cfg.n_init, cfg.max_age) == (0.2, 100, 3, 30)
    assert cfg.matching_cascade and cfg.gating_threshold == pytest.approx(9.4877)
    assert cfg.iou_max_cosine_distance >= 2.0 and cfg.motion_weight == 0


def test_gated_pair_appearance_costs_equal_all_pairs():
    """Appearance costs are computed only for the pairs the motion gate admits, each track's
    gallery read in place over its filled slots; they must equal the plain all-pairs costs over
    the whole gallery (a crowded scene, so that rows admit several detections and none)."""
    from cosmot.tracker.association import appearance_cost
    from cosmot.tracker.distances import nearest_cosine_distance, normalize_rows
    from cosmot.tracker.geometry import xyxy_to_xyah
    from cosmot.tracker.track_set import CONFIRMED

    scene = walking_scene(120, 25, seed=4, miss_rate=0.1, false_positives=2)
    tr = Tracker(TrackerConfig())
    cfg = tr.config  # the gate filled in (no encoder's gate: the default)
    checked = 0
    for f in scene:
        t = tr.tracks
        rows = np.flatnonzero(t.state[: t.n] == CONFIRMED)
        if rows.size and len(f.det_xyxy):
            saved = t.mean.copy(), t.cov.copy(), t.age.copy(), t.time_since_update.copy()
            tr._predict(None)  # the state update() will see; undone below (update predicts)
            dets = np.arange(len(f.det_xyxy))
            xyah = xyxy_to_xyah(f.det_xyxy)
            feats = normalize_rows(f.det_embeddings)
            cost, _ = appearance_cost(cfg, t, tr.kf, rows, dets, xyah, feats)
            maha = tr.kf.gating_distance(t.mean[rows], t.cov[rows], xyah)
            cos = nearest_cosine_distance(t.gallery[rows], feats).astype(np.float64)
            expect = np.where((maha > cfg.gating_threshold) | (cos > cfg.max_cosine_distance),
                              np.inf, cos)
            np.testing.assert_array_equal(np.isinf(cost), np.isinf(expect))
            np.testing.assert_allclose(cost[np.isfinite(cost)], expect[np.isfinite(expect)],
                                       atol=1e-6)
            checked += int(np.isfinite(cost).sum())
            t.mean[:], t.cov[:], t.age[:], t.time_since_update[:] = saved
        tr.update(f.det_xyxy, f.det_scores, f.det_embeddings)
    assert checked > 100 * 10


def test_oc_reupdate_recovers_velocity_after_a_gap():
    """A box moving 2 px/frame speeds up to 5 px/frame while unseen for 5 frames; the track
    coasts at the old velocity. The observation-centric re-update refits the state along the
    virtual path, so the velocity after the gap is closer to the true 5 px/frame."""
    velocities = {}
    for oc in (False, True):
        tr = Tracker(TrackerConfig(n_init=1, max_age=30, oc_reupdate=oc))
        for k in range(8):  # slow start: 2 px/frame
            tr.update(_moved(BOX, 2 * k))
        x = 14.0
        for _ in range(5):  # the person speeds up to 5 px/frame, unseen
            x += 5
            tr.update(np.zeros((0, 4)))
        x += 5
        out = tr.update(_moved(BOX, x))
        assert out.track_id.tolist() == [1]
        velocities[oc] = tr.tracks.mean[0, 4]
    assert abs(velocities[True] - 5) < abs(velocities[False] - 5)
    assert velocities[True] > 3.5


@pytest.mark.parametrize("seconds, gap, same_id", [(0.0, 40, False), (5.0, 40, True),
                                                    (1.0, 40, False)])
def test_lost_gallery_returns_the_old_id(seconds, gap, same_id):
    """A person is tracked, leaves for ``gap`` frames (deleted after max_age 10), and comes back
    elsewhere. With a lost-track gallery kept long enough (fps 10: 5 s = 50 frames) the new
    track takes the old id back; after expiry (1 s) or without it, it gets a new id."""
    cfg = TrackerConfig(max_age=10, lost_gallery_seconds=seconds, fps=10.0)
    tr = Tracker(cfg)
    me, other = np.eye(8)[:1], np.eye(8)[1:2]
    for k in range(10):
        tr.update(_moved(BOX, 2 * k), embeddings=me)
    for _ in range(gap):
        tr.update(np.zeros((0, 4)), embeddings=np.zeros((0, 8)))
    ids = set()
    for k in range(5):
        boxes = np.r_[_moved(BOX, 500 + 2 * k), _moved(BOX, 900 + 2 * k)]
        out = tr.update(boxes, embeddings=np.r_[me, other])
        ids.update(zip(out.det_index.tolist(), out.track_id.tolist()))
    ids = dict(ids)
    assert (ids[0] == 1) == same_id
    assert ids[1] != 1  # someone else never takes the old id


def _frames_a_lost_track_survives(cfg: TrackerConfig) -> int:
    tr = Tracker(cfg)
    for k in range(cfg.n_init + 1):
        tr.update(_moved(BOX, 2 * k))
    missed = 0
    while tr.num_tracks:
        tr.update(np.zeros((0, 4)))
        missed += 1
    return missed - 1  # deleted on the first frame past the limit


@pytest.mark.parametrize("fps, seconds, frames", [(10.0, 0.5, 5), (30.0, 0.5, 15),
                                                  (7.0, 1.0, 7), (25.0, None, 30)])
def test_max_age_in_seconds_follows_the_frame_rate(fps, seconds, frames):
    """``max_age_seconds`` counts a lost track's life in seconds at the config's ``fps``;
    None keeps ``max_age`` frames whatever the rate."""
    cfg = TrackerConfig(max_age=30, max_age_seconds=seconds, fps=fps)
    assert cfg.max_age_frames == frames
    assert _frames_a_lost_track_survives(cfg) == frames


def test_max_age_seconds_is_validated():
    for bad in (0, -1.0, "2"):
        with pytest.raises(ValueError, match="max_age_seconds"):
            TrackerConfig(max_age_seconds=bad)
    assert TrackerConfig(max_age_seconds=0.01, fps=7.0).max_age_frames == 1


@pytest.mark.parametrize("limit, same_id", [(1, False), (5, True)])
def test_iou_stage_takes_tracks_missed_up_to_a_limit(limit, same_id):
    """Appearance that no longer matches (cosine 1): after 3 missed frames only the IoU stage
    can bring the track back, and only if it admits tracks missed that long."""
    cfg = TrackerConfig(n_init=1, iou_max_time_since_update=limit, iou_max_cosine_distance=2.0)
    tr = Tracker(cfg)
    e = np.eye(4)
    tr.update(BOX, embeddings=e[:1])
    for _ in range(3):
        tr.update(np.zeros((0, 4)), embeddings=np.zeros((0, 4)))
    out = tr.update(BOX, embeddings=e[1:2])
    assert (out.track_id.tolist() == [1]) == same_id


def test_birth_score_continues_tracks_but_starts_none():
    """A detection under ``birth_score`` extends a confirmed track but never starts one."""
    box = np.array([[100.0, 100.0, 140.0, 200.0]])
    other = np.array([[400.0, 100.0, 440.0, 200.0]])
    tr = Tracker(TrackerConfig(n_init=1, birth_score=0.6))
    assert len(tr.update(np.r_[box, other], np.array([0.9, 0.4]))) == 1  # only the 0.9 starts
    assert tr.num_tracks == 1
    for k in range(1, 6):  # low-score boxes keep the existing track alive and matched
        out = tr.update(box + [2.0 * k, 0, 2.0 * k, 0], np.array([0.4]))
        assert out.track_id.tolist() == [1]
    assert tr.num_tracks == 1
    plain = Tracker(TrackerConfig(n_init=1))
    assert len(plain.update(np.r_[box, other], np.array([0.9, 0.4]))) == 2
    with pytest.raises(ValueError, match="birth_score"):
        TrackerConfig(birth_score=float("nan"))


def test_active_tracks_lists_coasting_tracks_with_their_prediction():
    """A person walking right vanishes after frame 10: update returns nothing from then on,
    active_tracks still lists the track with time_since_update counting up, its predicted box
    moving on, the last matched box kept, until max_age deletes it."""
    from cosmot.tracker import Tracker, TrackerConfig

    tracker = Tracker(TrackerConfig(n_init=2, max_age=5, max_cosine_distance=0.25))
    for k in range(10):
        out = tracker.update(np.array([[10.0 + 4 * k, 20, 40 + 4 * k, 100]]), np.array([0.9]))
    assert len(out) == 1 and list(tracker.active_tracks().time_since_update) == [0]
    last_match = out.det_xyxy[0].copy()
    xs = []
    for k in range(1, 6):
        assert len(tracker.update(np.zeros((0, 4)))) == 0
        active = tracker.active_tracks()
        assert len(active) == 1 and active.time_since_update[0] == k
        assert active.det_index[0] == -1
        assert np.allclose(active.det_xyxy[0], last_match)
        xs.append(active.xyxy[0, 0])
    assert np.all(np.diff(xs) > 2)  # the prediction keeps walking right
    tracker.update(np.zeros((0, 4)))
    assert len(tracker.active_tracks()) == 0  # past max_age: deleted
