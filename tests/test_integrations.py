"""cosmot.integrations: per-frame adapters for supervision, ultralytics-style results and numpy
arrays give exactly the tracks ``cosmot track`` gives on the same boxes."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from cosmot.cli.main import main
from cosmot.integrations import DeepSortTracker
from cosmot.sources.motchallenge import Sequence, read_detections
from cosmot.tracker.geometry import tlwh_to_xyxy


def frames_and_dets(seq_dir, n):
    seq = Sequence(seq_dir)
    det = read_detections(seq.detections_path("det"))
    slices = det.frame_slices()
    xyxy = tlwh_to_xyxy(det.tlwh)
    for k, image in seq.frames():
        if k > n:
            return
        sl = slices.get(k, slice(0, 0))
        yield k, image, np.c_[xyxy[sl], det.scores[sl], np.zeros(sl.stop - sl.start)]


def command_ids(pets_clip, tmp_path, n):
    out = tmp_path / "r.txt"
    assert main(["track", str(pets_clip), "--detections", str(pets_clip / "det" / "det.txt"),
                 "--max-frames", str(n), "--out-mot", str(out), "--no-progress"]) == 0
    rows = np.loadtxt(out, delimiter=",", ndmin=2)
    return {k: sorted(rows[rows[:, 0] == k, 1].astype(int).tolist()) for k in range(1, n + 1)}


def test_numpy_adapter_equals_the_command(pets_clip, tmp_path):
    n = 40
    expect = command_ids(pets_clip, tmp_path, n)
    tracker = DeepSortTracker(fps=Sequence(pets_clip).info.fps)
    for k, image, dets in frames_and_dets(pets_clip, n):
        out = tracker.update(dets, image)
        assert out.shape[1] == 8
        assert sorted(out[:, 4].astype(int).tolist()) == expect[k], f"frame {k}"
        np.testing.assert_array_equal(out[:, :4], dets[out[:, 7].astype(int), :4])
    assert any(expect.values())


def test_supervision_adapter_equals_numpy(pets_clip):
    sv = pytest.importorskip("supervision")
    fps = Sequence(pets_clip).info.fps
    a, b = DeepSortTracker(fps=fps), DeepSortTracker(fps=fps)
    for k, image, dets in frames_and_dets(pets_clip, 25):
        d = sv.Detections(xyxy=dets[:, :4], confidence=dets[:, 4],
                          class_id=dets[:, 5].astype(int))
        got = a.update_with_detections(d, image)
        ref = b.update(dets, image)
        assert got.tracker_id.tolist() == ref[:, 4].astype(int).tolist()
        np.testing.assert_array_equal(got.xyxy, ref[:, :4])


def test_ultralytics_style_results_and_motion_only(pets_clip):
    fps = Sequence(pets_clip).info.fps
    a = DeepSortTracker(encoder=None, fps=fps)
    b = DeepSortTracker(encoder=None, fps=fps)
    for k, image, dets in frames_and_dets(pets_clip, 20):
        results = SimpleNamespace(boxes=SimpleNamespace(xyxy=dets[:, :4], conf=dets[:, 4],
                                                        cls=dets[:, 5]), orig_img=image)
        np.testing.assert_array_equal(a.update_with_results(results), b.update(dets))
    with pytest.raises(ValueError, match=r"expected shape \(N, 6\)"):
        a.update(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="frame is None"):
        DeepSortTracker().update(np.array([[0, 0, 10, 20, 0.9, 0]]))


def test_the_documented_supervision_example_runs(capsys):
    """docs/integrations.md's supervision loop (about 20 lines) runs as written and tracks
    people on the sample clip."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    text = (root / "docs" / "integrations.md").read_text()
    code = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    assert 15 <= len([ln for ln in code.splitlines() if ln.strip()]) <= 25
    pytest.importorskip("supervision")
    import os

    cwd = os.getcwd()
    os.chdir(root)
    try:
        exec(compile(code, "docs/integrations.md", "exec"), {})
    finally:
        os.chdir(cwd)
    out = capsys.readouterr().out
    n = int(re.search(r"last frame: (\d+) tracks", out).group(1))
    assert n >= 3  # PETS09-S2L1: several people walk through every frame


def test_step_gives_the_rows_cosmot_track_writes(pets_clip, tmp_path):
    """DeepSortTracker.step returns the Tracker's own objects: their Kalman-filtered boxes,
    written as MOT rows, are byte for byte cosmot track's file on the same boxes."""
    from cosmot.writers.mot import MOTWriter

    n = 20
    assert main(["track", str(pets_clip), "--detections", str(pets_clip / "det" / "det.txt"),
                 "--max-frames", str(n), "--out-mot", str(tmp_path / "cmd.txt"),
                 "--no-progress"]) == 0
    tracker = DeepSortTracker(fps=Sequence(pets_clip).info.fps)
    with MOTWriter(tmp_path / "step.txt") as w:
        for k, image, dets in frames_and_dets(pets_clip, n):
            out = tracker.step(dets[:, :4], dets[:, 4], None, image)
            w.write(k, out.track_id, out.tlwh, out.score)
    assert (tmp_path / "step.txt").read_bytes() == (tmp_path / "cmd.txt").read_bytes()
