"""The streaming pipeline: lazy frame pulling, bounded memory, outputs kept on interruption."""

import json
import tracemalloc

import cv2
import numpy as np
import pytest

from cosmot.writers.json_tracks import read_json_tracks
from cosmot.testing.synthetic_video import SceneConfig, SyntheticScene
from cosmot.pipeline.stream import StreamTimes, track_stream
from cosmot.writers.outputs import TrackOutputs
from cosmot.tracker import Tracker, TrackerConfig


class GroundTruthDetector:
    """A perfect detector for a synthetic scene: the boxes of the figures visible >= 30%."""

    def __init__(self):
        self.gt = np.zeros((0, 6))

    def __call__(self, frame):
        g = self.gt[self.gt[:, 5] >= 0.3]
        boxes = np.c_[g[:, 1:3], g[:, 1:3] + g[:, 3:5]]
        return boxes, np.full(len(g), 0.9), np.zeros(len(g), int)


def scene_frames(scene, detector, log):
    for k, image, gt in scene.frames():
        detector.gt = gt
        log.append(k)
        yield k, image


def test_frames_are_pulled_one_at_a_time(tmp_path):
    scene = SyntheticScene(SceneConfig(width=160, height=96, frames=30, people=4, seed=1))
    det, produced, written = GroundTruthDetector(), [], []
    steps = track_stream(scene_frames(scene, det, produced), det, Tracker(TrackerConfig()))
    with TrackOutputs(mot=tmp_path / "r.txt") as out:
        for step in steps:
            out.write(step)
            written.append(step.frame)
            assert len(produced) - len(written) == 0  # nothing read ahead
    assert written == list(range(1, 31))


def test_memory_stays_constant_on_a_long_generator():
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)

    def frames(n):  # a fresh image each time: nothing may be kept
        for _ in range(n):
            yield frame.copy()

    def walkers(image):  # 3 boxes moving right, wrapping around: tracks come and go
        t = walkers.t = getattr(walkers, "t", 0) + 1
        x = (np.array([0, 20, 40]) + t) % 50
        return np.c_[x, np.full(3, 5), x + 10, np.full(3, 40)], np.ones(3), None

    times = StreamTimes()
    tracemalloc.start()
    try:
        steps = track_stream(frames(1200), walkers, Tracker(TrackerConfig()), times=times)
        with TrackOutputs(trails=10) as out:
            for step in steps:
                out.write(step)
                if step.frame == 200:
                    early = tracemalloc.get_traced_memory()[0]
        late = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert times.frames == 1200
    assert late - early < 100_000  # bytes; frames alone would be 9 kB each


def test_interrupted_run_keeps_what_was_written(tmp_path):
    scene = SyntheticScene(SceneConfig(width=160, height=96, frames=60, people=4, seed=3))
    det = GroundTruthDetector()

    def frames():
        for k, image, gt in scene.frames():
            if k == 21:
                raise KeyboardInterrupt
            det.gt = gt
            yield k, image

    paths = dict(video=tmp_path / "v.avi", mot=tmp_path / "r.txt", json=tmp_path / "t.jsonl")
    with pytest.raises(KeyboardInterrupt):
        with TrackOutputs(**paths, fps=10) as out:
            for step in track_stream(frames(), det, Tracker(TrackerConfig(n_init=1))):
                out.write(step)
    rows = np.loadtxt(paths["mot"], delimiter=",", ndmin=2)
    assert rows[:, 0].max() == 20 and len(rows) > 20
    lines = list(read_json_tracks(paths["json"]))
    assert [ln["frame"] for ln in lines] == list(range(1, 21))
    assert sum(len(ln["tracks"]) for ln in lines) == len(rows)
    cap = cv2.VideoCapture(str(paths["video"]))
    n = 0
    while cap.read()[0]:
        n += 1
    cap.release()
    assert n == 20


def test_min_score_max_frames_and_bare_images():
    def detector(image):
        return np.array([[0, 0, 10, 10], [20, 0, 30, 10.]]), np.array([0.9, 0.2]), None

    images = (np.zeros((32, 32, 3), np.uint8) for _ in range(10))
    steps = list(track_stream(images, detector, Tracker(TrackerConfig(n_init=1)),
                              min_score=0.5, max_frames=4))
    assert [s.frame for s in steps] == [1, 2, 3, 4]
    assert all(len(s.detections) == 1 for s in steps)
    assert steps[-1].tracks.track_id.tolist() == [1]
    with pytest.raises(ValueError, match="frame 1: shape \\(4, 4\\)"):
        next(track_stream([np.zeros((4, 4), np.uint8)], detector, Tracker()))


def test_json_lines_and_mot_rows_agree(tmp_path):
    scene = SyntheticScene(SceneConfig(width=160, height=96, frames=25, people=4, seed=4))
    det = GroundTruthDetector()
    with TrackOutputs(mot=tmp_path / "r.txt", json=tmp_path / "t.jsonl") as out:
        for step in track_stream(scene_frames(scene, det, []), det, Tracker(TrackerConfig())):
            out.write(step)
    rows = np.loadtxt(tmp_path / "r.txt", delimiter=",", ndmin=2)
    with open(tmp_path / "t.jsonl") as f:
        lines = [json.loads(line) for line in f]
    for d in lines:
        mine = rows[rows[:, 0] == d["frame"]]
        assert [t["id"] for t in d["tracks"]] == mine[:, 1].astype(int).tolist()
        for t, r in zip(d["tracks"], mine):
            assert np.allclose(t["xyxy"], [r[2], r[3], r[2] + r[4], r[3] + r[5]], atol=0.02)
            assert t["class"] == 0


def test_encoder_gets_each_frames_boxes_and_is_skipped_on_empty_frames():
    calls = []

    class Encoder:
        def embed(self, frame, boxes):
            calls.append(len(boxes))
            e = np.ones((len(boxes), 4), np.float32)
            e[:, 0] = boxes[:, 0]  # distinct per box
            return e / np.linalg.norm(e, axis=1, keepdims=True)

    def detector(image):
        t = detector.t = getattr(detector, "t", 0) + 1
        if t in (3, 4):
            return np.zeros((0, 4)), np.zeros(0), None
        return np.array([[t, 0, t + 10, 30], [50, 0, 60, 30.]]), np.ones(2), None

    images = (np.zeros((40, 80, 3), np.uint8) for _ in range(8))
    steps = list(track_stream(images, detector, Tracker(TrackerConfig(n_init=1)), Encoder()))
    assert calls == [2, 2, 2, 2, 2, 2]  # frames 3 and 4 have nothing to embed
    assert steps[-1].tracks.track_id.tolist() == [1, 2]


def test_detect_ahead_gives_the_same_steps_reads_boundedly_and_names_the_failing_frame():
    """The detector running ahead in its thread changes nothing in the results; it runs at
    most ``detect_ahead`` frames (+ the one in hand) ahead of the tracker; a detector error is
    raised in the caller with its frame number."""
    scene = SyntheticScene(SceneConfig(width=160, height=96, frames=40, people=5, seed=7))
    runs = {}
    for ahead in (0, 2):
        det, produced = GroundTruthDetector(), []
        steps = []
        for step in track_stream(scene_frames(scene, det, produced), det,
                                 Tracker(TrackerConfig(n_init=1)), detect_ahead=ahead,
                                 max_frames=35):
            steps.append(step)
            assert len(produced) - len(steps) <= ahead + 2
        runs[ahead] = steps
    assert [s.frame for s in runs[2]] == list(range(1, 36))
    for a, b in zip(runs[0], runs[2]):
        assert a.tracks.track_id.tolist() == b.tracks.track_id.tolist()
        assert np.array_equal(a.tracks.xyxy, b.tracks.xyxy)

    def failing(image):
        failing.n = getattr(failing, "n", 0) + 1
        if failing.n == 5:
            return np.zeros((1, 3)), np.ones(1), None  # not (N, 4)
        return np.zeros((0, 4)), np.zeros(0), None

    images = (np.zeros((32, 32, 3), np.uint8) for _ in range(10))
    with pytest.raises(ValueError, match="frame 5: "):
        list(track_stream(images, failing, Tracker(), detect_ahead=2))


def test_background_outputs_write_the_same_files(tmp_path):
    """TrackOutputs' writer thread gives the same MOT, JSON and video bytes as writing in the
    caller's thread; sizes() counts every frame handed over."""
    scene = SyntheticScene(SceneConfig(width=160, height=96, frames=25, people=4, seed=5))
    sizes = {}
    for background in (False, True):
        det = GroundTruthDetector()
        d = tmp_path / str(background)
        with TrackOutputs(video=d / "v.avi", mot=d / "r.txt", json=d / "t.jsonl", fps=10,
                          trails=5, background=background) as out:
            for step in track_stream(scene_frames(scene, det, []), det,
                                     Tracker(TrackerConfig(n_init=1))):
                out.write(step)
            sizes[background] = out.sizes()
    for name in ("v.avi", "r.txt", "t.jsonl"):
        assert (tmp_path / "True" / name).read_bytes() == (tmp_path / "False" / name).read_bytes()
    assert sizes[True] == sizes[False] == {"mot": (tmp_path / "True" / "r.txt").stat().st_size,
                                           "json": (tmp_path / "True" / "t.jsonl").stat().st_size}
