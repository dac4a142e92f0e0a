"""The shaking-camera sequence maker used to check camera-motion compensation."""

from pathlib import Path

import numpy as np

from make_shaky_sequence import main, shift_rows, window_offsets
from cosmot.sources.motchallenge import Sequence

REPO = Path(__file__).resolve().parents[1]


def test_offsets_stay_inside_and_move():
    off = window_offsets(300, 1600, 900, 1920, 1080, 150, 90, 3, seed=0)
    assert off.shape == (300, 2)
    assert (off[:, 0] >= 0).all() and (off[:, 0] <= 320).all()
    assert (off[:, 1] >= 0).all() and (off[:, 1] <= 180).all()
    assert np.abs(np.diff(off[:, 0])).mean() > 2  # the camera really moves
    assert (off == window_offsets(300, 1600, 900, 1920, 1080, 150, 90, 3, seed=0)).all()


def test_shift_rows_moves_boxes_and_drops_those_mostly_outside():
    rows = np.array([[1, 1, 110, 60, 20, 40, 1, 1, 1],    # inside after the shift
                     [1, 2, 85, 50, 20, 40, 1, 1, 1],     # 1/4 inside: dropped
                     [2, 3, 500, 300, 20, 40, 1, 1, 1]])  # beyond the right edge: dropped
    off = np.array([[100, 50], [0, 0]])
    out = shift_rows(rows, off, width=200, height=100)
    assert out.shape[0] == 1 and out[0, 1] == 1
    assert out[0, 2] == 10 and out[0, 3] == 10


def test_makes_a_readable_sequence(tmp_path):
    src = REPO / "sample_videos" / "synthetic-crossing"
    dst = tmp_path / "shaky"
    assert main([str(src), str(dst), "--width", "560", "--height", "320",
                 "--amplitude", "30", "--period", "40"]) == 0
    seq = Sequence(dst)
    assert (seq.info.width, seq.info.height, seq.info.length) == (560, 320, 200)
    frames = list(seq.frames())
    assert len(frames) == 200 and frames[0][1].shape == (320, 560, 3)
    gt = np.loadtxt(dst / "gt" / "gt.txt", delimiter=",")
    assert len(gt) > 0 and gt[:, 0].max() <= 200
