"""``TrackerConfig.min_foreground``: a track is confirmed only once its boxes' mean moving share
(:class:`cosmot.pipeline.foreground.ForegroundShare`) reaches it — the model, the tracker rule,
and the pipeline paths (live, prepared, resumed) giving the same tracks."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from support.stops import StopAt

from cosmot.pipeline.foreground import ForegroundShare, PrecomputedForeground, box_shares
from cosmot.tracker import Tracker, TrackerConfig
from cosmot.tracker.state import load_state, save_state


def test_box_shares_match_counting_pixels():
    rng = np.random.default_rng(0)
    mask = (rng.random((60, 80)) < 0.3).astype(np.uint8)
    boxes = np.array([[0, 0, 80, 60], [10, 5, 30, 45], [70, 50, 95, 70], [-5, -5, 3, 4],
                      [20, 20, 20, 30]], float)
    got = box_shares(mask, boxes)
    for b, g in zip(boxes.astype(int), got):
        x0, y0 = max(b[0], 0), max(b[1], 0)
        x1, y1 = min(b[2], 80), min(b[3], 60)
        area = max(x1 - x0, 0) * max(y1 - y0, 0)
        assert g == pytest.approx(mask[y0:y1, x0:x1].sum() / area if area else 0.0)
    assert box_shares(mask, np.zeros((0, 4))).shape == (0,)


def _frames(n=24, h=120, w=220):
    """A textured static background with a grey post (there from frame 1) and a textured
    walker moving 6 px a frame; the boxes of both per frame."""
    rng = np.random.default_rng(1)
    background = rng.integers(40, 90, (h, w, 3), dtype=np.uint8)
    background[40:100, 20:32] = 150  # the post
    walker = rng.integers(150, 255, (60, 16, 3), dtype=np.uint8)
    for k in range(n):
        img = background.copy()
        x = 50 + 6 * k
        img[40:100, x:x + 16] = walker
        yield img, np.array([[20, 40, 32, 100], [x, 40, x + 16, 100]], float)


def test_a_post_there_from_the_start_has_no_foreground_a_walker_has():
    fg = ForegroundShare(work_height=120)
    shares = np.array([fg(img, boxes) for img, boxes in _frames()])
    assert shares[5:, 0].max() == 0.0  # the post
    assert shares[5:, 1].min() > 0.5  # the walker


def _boxes(n=12):
    """A static box and a moving one, every frame."""
    return [np.array([[10, 10, 30, 60], [100 + 5 * k, 10, 120 + 5 * k, 60]], float)
            for k in range(n)]


def test_an_unmoving_track_is_never_confirmed_a_moving_one_at_n_init():
    tr = Tracker(TrackerConfig(min_foreground=0.05, max_cosine_distance=0.2))
    seen = set()
    for k, b in enumerate(_boxes()):
        out = tr.update(b, np.full(2, 0.9), foreground=np.array([0.0, 0.4]))
        seen.update(out.det_index.tolist())
        if k == 2:  # n_init 3
            assert out.det_index.tolist() == [1]
    assert seen == {1}
    assert tr.num_tracks == 2  # the post is held as a tentative track, not reported


def test_evidence_arriving_later_confirms_then():
    cfg = TrackerConfig(min_foreground=0.1, max_cosine_distance=0.2)
    tr = Tracker(cfg)
    first = None
    for k, b in enumerate(_boxes()):
        share = 0.0 if k < 5 else 0.5  # starts moving at frame 6
        out = tr.update(b[:1], foreground=np.array([share]))
        if len(out) and first is None:
            first = k
    # mean share reaches 0.1 once 0.5 * m >= 0.1 * (5 + m): m = 2, i.e. the 7th frame
    assert first == 6


def test_off_by_default_and_the_shares_then_change_nothing():
    a, b = Tracker(), Tracker()
    for bx in _boxes():
        oa = a.update(bx, np.full(2, 0.9))
        ob = b.update(bx, np.full(2, 0.9), foreground=np.zeros(2))
        assert oa.track_id.tolist() == ob.track_id.tolist()
        assert oa.xyxy.tobytes() == ob.xyxy.tobytes()


@pytest.mark.parametrize("bad, message", [
    (None, "needs update(..., foreground=)"),
    (np.array([0.5]), "foreground has 1 entries for 2 boxes"),
    (np.array([0.5, 1.5]), "must lie in [0, 1]"),
])
def test_missing_or_bad_shares_are_refused(bad, message):
    tr = Tracker(TrackerConfig(min_foreground=0.05))
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")
                       .replace("[", r"\[").replace("]", r"\]")):
        tr.update(_boxes()[0], foreground=bad)
    assert len(tr.update(np.zeros((0, 4)))) == 0  # an empty frame needs none


@pytest.mark.parametrize("value", [float("nan"), 1.5])
def test_config_refuses_impossible_thresholds(value):
    with pytest.raises(ValueError, match="min_foreground"):
        TrackerConfig(min_foreground=value)


def test_state_keeps_the_running_sum(tmp_path):
    cfg = TrackerConfig(min_foreground=0.1, max_cosine_distance=0.2)
    shares = [np.array([0.0, 0.3 if k > 3 else 0.0]) for k in range(12)]

    def run(tr, ks):
        return [tr.update(_boxes()[k], foreground=shares[k]).track_id.tolist() for k in ks]

    whole = run(Tracker(cfg), range(12))
    a = Tracker(cfg)
    run(a, range(5))
    save_state(a, tmp_path / "s.npz")
    b, _ = load_state(tmp_path / "s.npz")
    assert run(b, range(5, 12)) == whole[5:]
    assert any(whole)


def test_an_older_state_format_says_what_to_do(tmp_path):
    state = Tracker().state_dict()
    state["format"] = np.array("cosmot-tracker-state/1")
    with pytest.raises(ValueError, match="earlier cosmot: resume with that version"):
        Tracker.from_state(state)


def test_precomputed_shares_are_looked_up_by_frame():
    from cosmot.sources.motchallenge import Detections

    det = Detections(frames=np.array([1, 1, 3]),
                     tlwh=np.ones((3, 4)), scores=np.ones(3), classes=np.full(3, -1))
    pre = PrecomputedForeground(det, np.array([0.1, 0.2, 0.3]))
    assert pre.shares_frame(1, np.zeros((2, 4))).tolist() == [0.1, 0.2]
    assert pre.shares_frame(2, np.zeros((0, 4))).tolist() == []
    with pytest.raises(ValueError, match="frame 3: 2 boxes but 1 precomputed"):
        pre.shares_frame(3, np.zeros((2, 4)))


def test_live_prepared_and_resumed_runs_give_the_same_file(pets_clip, tmp_path):
    """On the PETS09-S2L1 clip: ``cosmot mot`` decoding frames (live model), the tuning path
    (shares computed once by ``prepare``) and a run stopped at frame 50 and resumed (the model
    replays frames 1-49 first) write the same bytes; and the rule holds tracks back there."""
    from cosmot.pipeline.prepared import prepare, run_config
    from cosmot.pipeline.sequence import track_sequence
    from cosmot.sources.motchallenge import Sequence

    seq = Sequence(pets_clip)
    cfg = TrackerConfig(fps=seq.info.fps, min_foreground=0.05)
    live = tmp_path / "live.txt"
    track_sequence(seq, "det", None, cfg, live, progress=False)

    p = prepare(pets_clip, "det", None, progress=False, foreground=True,
                cache_dir=tmp_path / "cache")
    assert p.foreground is not None and len(p.foreground) == len(p.det)
    run_config([p], cfg, tmp_path / "prepared")
    assert (tmp_path / "prepared" / f"{seq.name}.txt").read_bytes() == live.read_bytes()
    again = prepare(pets_clip, "det", None, progress=False, foreground=True,
                    cache_dir=tmp_path / "cache")  # from the cache
    assert np.array_equal(again.foreground, p.foreground)
    with pytest.raises(ValueError, match="prepare\\(..., foreground=True\\)"):
        run_config([dataclasses.replace(p, foreground=None, warps=np.zeros((0, 2, 3)))], cfg,
                   tmp_path / "none")


    part = tmp_path / "part.txt"
    with pytest.raises(KeyboardInterrupt):
        track_sequence(seq, "det", None, cfg, part, progress=False, checkpoint_every=1000,
                       stop=StopAt(50), run={"x": 1})
    track_sequence(seq, "det", None, cfg, part, progress=False, checkpoint_every=1000,
                   resume=True, run={"x": 1})
    assert part.read_bytes() == live.read_bytes()

    off = tmp_path / "off.txt"
    track_sequence(seq, "det", None, TrackerConfig(fps=seq.info.fps), off, progress=False)
    rows = lambda f: len(Path(f).read_text().splitlines())  # noqa: E731
    assert rows(live) < rows(off)


def test_per_frame_adapter_equals_the_command_with_the_rule(pets_clip, tmp_path):
    """cosmot.integrations with min_foreground on (its own background model, fed the frames)
    gives the ids ``cosmot track --set min_foreground=...`` writes; without a frame it says
    what needs one."""
    from cosmot.cli.main import main
    from cosmot.integrations import DeepSortTracker
    from test_integrations import frames_and_dets

    n = 40
    out = tmp_path / "r.txt"
    assert main(["track", str(pets_clip), "--detections", str(pets_clip / "det" / "det.txt"),
                 "--encoder", "none", "--max-frames", str(n), "--set", "min_foreground=0.05",
                 "--out-mot", str(out), "--no-progress"]) == 0
    rows = np.loadtxt(out, delimiter=",", ndmin=2)
    from cosmot.sources.motchallenge import Sequence

    cfg = TrackerConfig(fps=Sequence(pets_clip).info.fps, min_foreground=0.05)
    tracker = DeepSortTracker(cfg, encoder="none")
    for k, image, dets in frames_and_dets(pets_clip, n):
        got = sorted(tracker.update(dets, image)[:, 4].astype(int).tolist())
        assert got == sorted(rows[rows[:, 0] == k, 1].astype(int).tolist()), f"frame {k}"
    assert len(rows)
    with pytest.raises(ValueError, match="min_foreground's background model need"):
        tracker.update(dets, None)
