"""MOTChallenge readers and writer."""

import numpy as np
import pytest

from cosmot.sources.motchallenge import (MOTFormatError, Sequence, read_detections,
                                         read_ground_truth, read_seqinfo)
from cosmot.writers.mot import MOTWriter


def _write(path, text):
    path.write_text(text)
    return path


def test_read_detections_sorts_filters_and_keeps_columns(tmp_path):
    p = _write(tmp_path / "det.txt", "2,-1,10,20,30,40,0.9,-1,-1,-1\n"
                                     "1,-1,1,2,3,4,-0.5,-1,-1,-1\n"
                                     "1,-1,5,6,7,8,0.7,-1,-1,-1\n")
    d = read_detections(p)
    assert d.frames.tolist() == [1, 1, 2]
    np.testing.assert_allclose(d.tlwh[2], [10, 20, 30, 40])
    assert d.frame_slices() == {1: slice(0, 2), 2: slice(2, 3)}
    d0 = read_detections(p, min_score=0.0)
    assert len(d0) == 2 and d0.scores.min() >= 0


def test_read_detections_errors_name_file_and_row(tmp_path):
    p = _write(tmp_path / "det.txt", "1,-1,1,2,3,4,0.5\n1,-1,1,2,x,4,0.5\n")
    with pytest.raises(MOTFormatError, match=r"det.txt, row 2"):
        read_detections(p)
    p = _write(tmp_path / "short.txt", "1,-1,1,2,3,4,0.5\n1,-1,1,2\n")
    with pytest.raises(MOTFormatError, match=r"row 2: 4 columns"):
        read_detections(p)
    with pytest.raises(FileNotFoundError, match="nope.txt"):
        read_detections(tmp_path / "nope.txt")


def test_empty_detection_file(tmp_path):
    d = read_detections(_write(tmp_path / "det.txt", ""))
    assert len(d) == 0 and d.frame_slices() == {}


def test_ground_truth_layouts(tmp_path):
    mot16 = read_ground_truth(_write(tmp_path / "a.txt", "1,3,1,2,3,4,1,1,0.8\n1,2,1,2,3,4,0,7,1\n"))
    assert not mot16.mot15_format
    assert mot16.ids.tolist() == [2, 3]  # sorted by frame then id
    assert mot16.classes.tolist() == [7, 1] and mot16.consider.tolist() == [False, True]
    mot15 = read_ground_truth(_write(tmp_path / "b.txt", "1,1,1,2,3,4,1,-1,-1,-1\n"))
    assert mot15.mot15_format and mot15.classes.tolist() == [-1]


def test_writer_flushes_each_frame(tmp_path):
    p = tmp_path / "out" / "seq.txt"
    w = MOTWriter(p)
    w.write(1, np.array([3]), np.array([[1.0, 2.0, 3.0, 4.0]]), np.array([0.5]))
    # readable before close: an interrupted run keeps its results
    assert p.read_text() == "1,3,1.00,2.00,3.00,4.00,0.5000,-1,-1,-1\n"
    w.write(2, np.zeros(0), np.zeros((0, 4)))
    w.close()
    with pytest.raises(ValueError, match="closed"):
        w.write(3, np.array([1]), np.ones((1, 4)))
    assert len(read_detections(p)) == 1


def test_seqinfo_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="seqinfo.ini"):
        read_seqinfo(tmp_path)
    _write(tmp_path / "seqinfo.ini", "[Other]\nx=1\n")
    with pytest.raises(MOTFormatError, match="Sequence"):
        read_seqinfo(tmp_path)


def test_real_sequences(mot_dir):
    seq = Sequence(mot_dir / "TUD-Stadtmitte")
    assert seq.info.length == 179 and seq.image_dir is not None
    k, img = next(seq.frames())
    assert k == 1 and img.shape == (480, 640, 3) and img.dtype == np.uint8
    # a video file in place of img1/
    pets = Sequence(mot_dir / "PETS09-S2L1")
    assert pets.image_dir is None and pets.video.suffix == ".avi"
    frames = pets.frames()
    next(frames)
    k, img = next(frames)
    assert k == 2 and img.shape == (576, 768, 3)
    frames.close()
    assert len(read_detections(mot_dir / "MOT16-11" / "det" / "det.txt", min_score=0)) == 5744
