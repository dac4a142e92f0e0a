"""Writers and drawing: id colours, trails, video files, JSON lines."""

import itertools

import cv2
import numpy as np
import pytest

from cosmot.writers.drawing import Trails, draw_tracks, id_color
from cosmot.writers.json_tracks import JSONTracksWriter, read_json_tracks
from cosmot.writers.video import VideoFileWriter


def test_id_colours_are_stable_and_distinct():
    assert id_color(7) == id_color(7)
    cols = np.array([id_color(i) for i in range(1, 31)], float)
    d = min(np.linalg.norm(a - b) for a, b in itertools.combinations(cols, 2))
    assert d > 25  # no two of the first 30 ids look alike
    # neighbours (often side by side in a scene) differ strongly
    assert min(np.linalg.norm(cols[i] - cols[i + 1]) for i in range(29)) > 100


def test_first_40_id_colours_are_perceptually_apart():
    """No two of ids 1-40 closer than 17 in CIELAB (about where colours stop looking alike
    side by side; the palette's closest pair is 17.8)."""
    import cv2

    bgr = np.uint8([[id_color(i) for i in range(1, 41)]])
    lab = cv2.cvtColor(bgr, cv2.COLOR_BGR2LAB).reshape(-1, 3).astype(float) * [100 / 255, 1, 1]
    d = np.linalg.norm(lab[:, None] - lab[None], axis=2) + np.eye(40) * 1e9
    assert d.min() > 17


def test_labels_of_people_side_by_side_do_not_cover_each_other():
    """Five boxes with their tops at the same height, closer than a label's width: every tab
    lands in the image and no two overlap."""
    from cosmot.writers.drawing import _overlap, place_labels

    boxes = [(100 + 15 * i, 50, 130 + 15 * i, 150) for i in range(5)]
    tabs = place_labels(boxes, [(40, 16)] * 5, 400, 300)
    assert all(0 <= t[0] and t[2] <= 400 and 0 <= t[1] and t[3] <= 300 for t in tabs)
    assert all(_overlap(a, b) == 0 for i, a in enumerate(tabs) for b in tabs[i + 1:])
    # each tab touches its own box (above, inside or below it)
    assert all(t[1] <= b[3] and t[3] >= b[1] - 16 for t, b in zip(tabs, boxes))


def test_draw_tracks_outlines_in_the_id_colour():
    image = np.zeros((100, 120, 3), np.uint8)
    draw_tracks(image, np.array([3]), np.array([[20, 30, 60, 90.]]), thickness=2)
    edge = image[60, 18:23].astype(int)  # across the left edge, below the label (antialiased)
    assert np.abs(edge - np.array(id_color(3))).sum(axis=1).min() <= 6
    assert tuple(int(v) for v in image[60, 40]) == (0, 0, 0)   # inside stays untouched
    assert image[22:30, 20:50].any()                           # the label tab above the box


def test_trails_are_bounded():
    trails = Trails(5)
    for t in range(20):
        boxes = np.array([[t, 0, t + 10, 50], [0, t, 10, t + 50]], float)
        if t < 10:
            trails.update(np.array([1, 2]), boxes)
        else:  # id 1 is gone
            trails.update(np.array([2]), boxes[1:])
    assert len(trails.points(2)) == 5
    assert trails.points(1) == []  # not seen for 10 frames: forgotten
    assert len(trails) == 1
    with pytest.raises(ValueError, match="trail length"):
        Trails(-1)


def frame_means(path) -> list[float]:
    """The mean grey level of each frame of a video file (all 48x64)."""
    cap = cv2.VideoCapture(str(path))
    means = []
    while True:
        ok, image = cap.read()
        if not ok:
            break
        assert image.shape == (48, 64, 3)
        means.append(image.mean())
    cap.release()
    return means


@pytest.mark.parametrize("ext", [".mp4", ".avi"])
def test_video_writer_round_trip(tmp_path, ext):
    path = tmp_path / f"v{ext}"
    with VideoFileWriter(path, fps=12) as w:
        for k in range(7):
            w.write(np.full((48, 64, 3), 30 * k, np.uint8))
    means = frame_means(path)
    assert len(means) == 7 and np.allclose(means, 30 * np.arange(7), atol=6)


def test_video_writer_errors(tmp_path):
    with pytest.raises(ValueError, match="unsupported video extension '.gif'"):
        VideoFileWriter(tmp_path / "v.gif", 10)
    with pytest.raises(ValueError, match="fps"):
        VideoFileWriter(tmp_path / "v.mp4", 0)
    with VideoFileWriter(tmp_path / "v.avi", 10) as w:
        w.write(np.zeros((48, 64, 3), np.uint8))
        with pytest.raises(ValueError, match="frame 2 is 32x48, the video is 64x48"):
            w.write(np.zeros((48, 32, 3), np.uint8))
        with pytest.raises(ValueError, match="uint8"):
            w.write(np.zeros((48, 64, 3), np.float32))


def test_json_lines_format_and_partial_last_line(tmp_path):
    path = tmp_path / "t.jsonl"
    with JSONTracksWriter(path) as w:
        w.write(1, np.array([4]), np.array([[1.234, 2, 3, 4]]), np.array([0.5]), np.array([0]))
        w.write(2, np.zeros(0, int), np.zeros((0, 4)), np.zeros(0), np.zeros(0, int))
    assert path.read_text().splitlines()[0] == (
        '{"frame":1,"tracks":[{"id":4,"xyxy":[1.23,2.0,3.0,4.0],"score":0.5,"class":0}]}')
    with open(path, "a") as f:
        f.write('{"frame":3,"tra')  # what a kill in mid-write leaves
    assert [d["frame"] for d in read_json_tracks(path)] == [1, 2]


def test_writer_thread_keeps_order_and_hands_errors_back():
    from cosmot.writers.writer_thread import WriterThread

    done = []
    w = WriterThread(depth=1)
    for k in range(20):
        w.submit(done.append, k)
    w.flush()
    assert done == list(range(20))

    def fail(k):
        if k == 3:
            raise OSError(28, "No space left on device", "out.txt")
        done.append(k)

    done.clear()
    with pytest.raises(OSError, match="No space left"):  # at a later submit or at flush
        for k in range(5):
            w.submit(fail, k)
        w.flush()
    assert done == [0, 1, 2]  # the calls after the failing one are dropped
    w.submit(done.append, 99)  # and so is everything after: no hole-then-rows in a file
    w.flush()
    assert done == [0, 1, 2]
    w.close()
    with pytest.raises(ValueError, match="closed"):
        w.submit(done.append, 9)
    with pytest.raises(ValueError, match="depth"):
        WriterThread(depth=0)


def test_mp4_is_encoded_directly_and_falls_back_to_converting_the_avi(tmp_path, monkeypatch):
    """A .mp4 is written frame by frame beside its kill-safe .partial.avi, which close()
    removes; when the direct file comes out short or unreadable, the AVI is converted instead."""
    frames = [np.full((48, 64, 3), 30 * k, np.uint8) for k in range(6)]
    for case in ("direct", "fallback"):
        if case == "fallback":
            # the direct file comes out short or unreadable: the AVI is converted instead
            monkeypatch.setattr(VideoFileWriter, "_frame_count", staticmethod(lambda path: -1))
        path = tmp_path / f"{case}.mp4"
        with VideoFileWriter(path, fps=10) as w:
            for f in frames:
                w.write(f)
            assert w.partial_path.is_file()  # readable at every moment
        assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(case)) == [
            f"{case}.mp4"]
        means = frame_means(path)
        assert len(means) == 6 and np.allclose(means, 30 * np.arange(6), atol=6)
        w.close()  # a second close changes nothing
        assert path.is_file() and not w.partial_path.exists()
