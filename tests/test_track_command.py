"""``cosmot track`` end to end on the committed sample clips, and its errors."""

import json

import cv2
import numpy as np
import pytest

from cosmot.sources.motchallenge import Sequence
from cosmot.cli.main import main
from cosmot.evaluation.mot_metrics import evaluate
from cosmot.writers.json_tracks import read_json_tracks


def count_frames(path) -> tuple[int, tuple[int, int]]:
    cap = cv2.VideoCapture(str(path))
    n, size = 0, None
    while True:
        ok, image = cap.read()
        if not ok:
            break
        n, size = n + 1, image.shape[:2]
    cap.release()
    return n, size


def test_track_writes_all_three_outputs(pets_clip, tmp_path, capsys):
    out_mot = tmp_path / "results" / "PETS09-S2L1-clip.txt"
    rc = main(["track", str(pets_clip), "--detections", str(pets_clip / "det-frcnn" / "det.txt"),
               "--min-score", "0.5", "--encoder", "none", "--out-video", str(tmp_path / "v.mp4"),
               "--out-mot", str(out_mot), "--out-json", str(tmp_path / "t.jsonl"),
               "--trails", "10", "--no-progress"])
    assert rc == 0
    assert "120 frames" in capsys.readouterr().err
    rows = np.loadtxt(out_mot, delimiter=",", ndmin=2)
    assert rows.shape[1] == 10 and 1 <= rows[:, 0].min() and rows[:, 0].max() <= 120
    lines = list(read_json_tracks(tmp_path / "t.jsonl"))
    assert [ln["frame"] for ln in lines] == list(range(1, 121))
    assert sum(len(ln["tracks"]) for ln in lines) == len(rows)
    assert count_frames(tmp_path / "v.mp4") == (120, (576, 768))
    # same detections, same tracker: byte for byte what `cosmot mot` writes from the det file
    assert main(["mot", str(pets_clip), "--det", "det-frcnn", "--min-score", "0.5",
                 "--encoder", "none", "--out", str(tmp_path / "mot")]) == 0
    assert (tmp_path / "mot" / out_mot.name).read_bytes() == out_mot.read_bytes()
    # and it scores (TrackEval, MOT15 rules; 120 frames, so n_init delays weigh more than on
    # the whole sequence)
    res = evaluate([pets_clip], tmp_path / "results").rows["PETS09-S2L1-clip"]
    assert res["MOTA"] > 40 and res["IDF1"] > 40


def test_track_synthetic_clip_with_a_builtin_detector(synthetic_seq, tmp_path):
    video = sorted(synthetic_seq.glob("*.mp4"))[0]
    rc = main(["track", str(video), "--detector", "bgsub", "--encoder", "none", "--max-frames",
               "40", "--out-json", str(tmp_path / "t.jsonl"), "--no-progress"])
    assert rc == 0
    lines = list(read_json_tracks(tmp_path / "t.jsonl"))
    assert len(lines) == 40 and any(ln["tracks"] for ln in lines)
    assert all(t["class"] == 0 for ln in lines for t in ln["tracks"])


def test_interrupted_command_keeps_outputs(pets_clip, tmp_path, monkeypatch, capsys):
    real = Sequence.frames

    def frames_then_ctrl_c(self, start=1):
        for k, image in real(self, start):
            if k == 16:
                raise KeyboardInterrupt
            yield k, image

    monkeypatch.setattr(Sequence, "frames", frames_then_ctrl_c)
    rc = main(["track", str(pets_clip), "--detections", str(pets_clip / "det" / "det.txt"),
               "--encoder", "none", "--out-video", str(tmp_path / "v.mp4"),
               "--out-mot", str(tmp_path / "r.txt"), "--out-json", str(tmp_path / "t.jsonl"),
               "--no-progress"])
    assert rc == 130
    assert "interrupted" in capsys.readouterr().err
    assert count_frames(tmp_path / "v.mp4")[0] == 15  # finalised, playable
    assert [ln["frame"] for ln in read_json_tracks(tmp_path / "t.jsonl")] == list(range(1, 16))
    rows = np.loadtxt(tmp_path / "r.txt", delimiter=",", ndmin=2)
    assert rows[:, 0].max() <= 15 and len(rows) > 0


@pytest.mark.parametrize("args, message", [
    (["track", "no/such/clip.mp4"], "INPUT no/such/clip.mp4: no such file or folder"),
    (["track", "{clip}", "--detector", "yolo"], "unknown detector 'yolo'"),
    (["track", "{clip}", "--detector", "hog", "--detections", "{clip}/det/det.txt"],
     "--detector or --detections, not both"),
    (["track", "{clip}", "--det-set", "nms=0.5"], "'nms' is not a field of YOLOXConfig"),
    (["track", "{clip}", "--classes", "person,dragon"], "unknown class 'dragon'; valid names"),
    (["track", "{clip}", "--detector", "hog", "--classes", "car"],
     "--classes apply to a learned detector"),
    (["track", "{clip}", "--detector-size", "500"], "--detector-size 500: must be a multiple"),
    (["track", "{clip}", "--out-video", "{tmp}/v.gif"], "unsupported video extension '.gif'"),
    (["track", "{clip}", "--detections", "{tmp}/none.txt"], "--detections {tmp}/none.txt"),
    (["track", "{tmp}"], "no images"),
    (["track", "{clip}", "--max-frames", "0"], "--max-frames 0: must be >= 1"),
    (["track", "{clip}", "--detections", "{clip}/det/det.txt", "--det-set", "min_score=0.5"],
     "--det-set applies to a detector"),
    (["track", "{clip}/gt/gt.txt"], "INPUT {clip}/gt/gt.txt: not a video file"),
    (["track", "{tmp}/broken.mp4"], "{tmp}/broken.mp4: cannot be opened as a video"),
])
def test_bad_input_is_named(args, message, pets_clip, tmp_path, capsys):
    (tmp_path / "broken.mp4").write_text("not a video\n")
    fill = {"clip": str(pets_clip), "tmp": str(tmp_path)}
    args = [a.format(**fill) for a in args] + ["--encoder", "none", "--no-progress"]
    assert main(args) == 1
    assert message.format(**fill) in capsys.readouterr().err


def test_default_encoder_runs_end_to_end(pets_clip, tmp_path, capsys):
    """Without --encoder the shipped appearance encoder embeds every detection."""
    rc = main(["track", str(pets_clip), "--detections", str(pets_clip / "det" / "det.txt"),
               "--max-frames", "20", "--out-mot", str(tmp_path / "r.txt"), "--no-progress"])
    assert rc == 0
    err = capsys.readouterr().err
    assert "encoder default" in err
    rows = np.loadtxt(tmp_path / "r.txt", delimiter=",", ndmin=2)
    assert len(rows) > 0 and rows[:, 0].max() <= 20


def test_track_with_camera_motion_compensation(pets_clip, tmp_path):
    rc = main(["track", str(pets_clip), "--detections", str(pets_clip / "det" / "det.txt"),
               "--encoder", "none", "--cmc", "sparse", "--max-frames", "15",
               "--out-mot", str(tmp_path / "r.txt"), "--no-progress"])
    assert rc == 0
    rows = np.loadtxt(tmp_path / "r.txt", delimiter=",", ndmin=2)
    assert len(rows) > 0 and rows[:, 0].max() <= 15


def test_track_video_library_call_equals_the_command(pets_clip, tmp_path):
    """``cosmot.track_video`` (the library's one call) writes what ``cosmot track`` writes."""
    import cosmot

    det = str(pets_clip / "det" / "det.txt")
    assert main(["track", str(pets_clip), "--detections", det, "--max-frames", "30",
                 "--out-mot", str(tmp_path / "cli.txt"), "--no-progress"]) == 0
    times = cosmot.track_video(pets_clip, cosmot.create_detector(det), max_frames=30,
                               out_mot=tmp_path / "lib.txt")
    assert times.frames == 30 and times.max_id > 0 and times.last_frame == 30
    assert not times.finished  # stopped by max_frames, not at the input's end
    # every stage is timed: decoding (prefetch thread), encoder, camera motion, tracker, writer
    assert min(times.decode, times.embed, times.cmc, times.track, times.write) > 0
    assert (tmp_path / "lib.txt").read_bytes() == (tmp_path / "cli.txt").read_bytes()
    # one thread for everything: the same rows
    one = cosmot.track_video(pets_clip, cosmot.create_detector(det), max_frames=30,
                             out_mot=tmp_path / "one.txt", prefetch=0, detect_ahead=0,
                             background_writer=False)
    assert one.frames == 30
    assert (tmp_path / "one.txt").read_bytes() == (tmp_path / "cli.txt").read_bytes()
    # max_frames past the input's end: the whole input was tracked, so the run is finished
    whole = cosmot.track_video(pets_clip, cosmot.create_detector(det), max_frames=500)
    assert whole.frames == 120 and whole.input_ended and whole.finished


def test_out_det_replays_the_run_byte_for_byte(pets_clip, tmp_path):
    """--out-det writes the boxes cosmot track tracked (shipped YOLOX detector, default
    encoder, camera motion); cosmot mot on that file, and cosmot track --detections, reproduce
    the tracks byte for byte (issue 19: peers and replays get exactly the same boxes)."""
    import shutil

    seq = tmp_path / "PETS09-S2L1-clip"
    shutil.copytree(pets_clip, seq)
    common = ["--max-frames", "40", "--min-score", "0.3", "--no-progress"]
    assert main(["track", str(seq), *common, "--out-mot", str(tmp_path / "track.txt"),
                 "--out-det", str(seq / "yolox" / "det.txt")]) == 0
    rows = np.loadtxt(seq / "yolox" / "det.txt", delimiter=",", ndmin=2)
    assert rows.shape[1] == 8 and len(rows) > 40 and rows[:, 6].min() >= 0.3
    assert set(rows[:, 7]) == {0} and set(rows[:, 1]) == {-1}
    assert rows[:, 0].min() >= 1 and rows[:, 0].max() <= 40
    track = (tmp_path / "track.txt").read_bytes()
    assert main(["track", str(seq), *common, "--detections", str(seq / "yolox" / "det.txt"),
                 "--out-mot", str(tmp_path / "replay.txt")]) == 0
    assert (tmp_path / "replay.txt").read_bytes() == track
    # the det file remembers the shipped detector's birth score (the tracker's default for
    # its boxes); without that record a replay would start tracks from every box
    meta = json.loads((seq / "yolox" / "det.txt.json").read_text())
    assert meta["birth_score"] == 0.5 and meta["nsa_kalman"] is True
    assert "yolox" in meta["detector"]
    # cosmot mot tracks the whole sequence: compare its first 40 frames
    assert main(["mot", str(seq), "--det", "yolox", "--cmc", "sparse",
                 "--out", str(tmp_path / "mot")]) == 0
    mot = (tmp_path / "mot" / "PETS09-S2L1-clip.txt").read_text().splitlines(keepends=True)
    assert "".join(r for r in mot if int(r.split(",")[0]) <= 40).encode() == track


def test_birth_score_comes_from_the_detector_unless_set(tmp_path):
    """TrackerConfig.birth_score (and nsa_kalman) None takes the detector's value: the shipped YOLOX-Nano's 0.5,
    a det file's recorded one, off (-inf) for a det file without metadata; a set value stays;
    damaged metadata is an error naming the file."""
    from cosmot.detectors.det_file import DetectionFileDetector
    from cosmot.detectors.yolox import SHIPPED_BIRTH_SCORE, YOLOXDetector
    from cosmot.pipeline.gate import with_detector_birth_score
    from cosmot.tracker import TrackerConfig
    from cosmot.writers.mot import write_det_metadata

    assert YOLOXDetector().birth_score == SHIPPED_BIRTH_SCORE == 0.5
    assert YOLOXDetector().nsa_kalman is True
    det = tmp_path / "det.txt"
    det.write_text("1,-1,10,10,20,40,0.9,0\n")
    plain = DetectionFileDetector(det)
    cfg = with_detector_birth_score(TrackerConfig(), plain)
    assert cfg.birth_score == float("-inf") and cfg.nsa_kalman is False
    write_det_metadata(det, "yolox-nano (shipped)", 0.5, True)
    recorded = DetectionFileDetector(det)
    cfg = with_detector_birth_score(TrackerConfig(), recorded)
    assert cfg.birth_score == 0.5 and cfg.nsa_kalman is True
    assert with_detector_birth_score(TrackerConfig(nsa_kalman=False), recorded).nsa_kalman is False
    assert with_detector_birth_score(TrackerConfig(birth_score=0.7), recorded).birth_score == 0.7
    assert TrackerConfig().with_birth_score(None).birth_score == float("-inf")
    (tmp_path / "det.txt.json").write_text("{not json")
    with pytest.raises(ValueError, match="det.txt.json: not valid JSON"):
        DetectionFileDetector(det)
