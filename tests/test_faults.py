"""Bad inputs and faults: each case asserts the exact behaviour (exit code, the message naming the
file and row or the option, and that what was written before the fault is complete and valid).

Issue 13, items 1-9; the readers' property tests are in test_readers_hypothesis.py, the
tracker's state API in test_tracker_state.py.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from cosmot.cli.main import main
from cosmot.sources.motchallenge import read_detections

ROOT = Path(__file__).resolve().parents[1]


def sha(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def video_frames(path) -> int:
    cap = cv2.VideoCapture(str(path))
    n = 0
    while cap.read()[0]:
        n += 1
    cap.release()
    return n


def complete_mot_rows(path) -> np.ndarray:
    """The rows of a MOT file, asserting every line is complete (10 fields, newline-ended)."""
    text = Path(path).read_text()
    assert text == "" or text.endswith("\n")
    lines = text.splitlines()
    assert all(len(ln.split(",")) == 10 for ln in lines)
    return np.loadtxt(lines, delimiter=",", ndmin=2) if lines else np.zeros((0, 10))


@pytest.fixture
def seq(pets_clip, tmp_path) -> Path:
    """A copy of the sample sequence (seqinfo, video, det files) to damage."""
    dst = tmp_path / "PETS09-S2L1-clip"
    shutil.copytree(pets_clip, dst)
    return dst


def _det_lines(seq: Path) -> list[str]:
    return (seq / "det" / "det.txt").read_text().splitlines()


def _set_det(seq: Path, lines: list[str]) -> Path:
    p = seq / "det" / "det.txt"
    p.write_text("\n".join(lines) + "\n")
    return p


def track(seq, det, out, *extra):
    return main(["track", str(seq), "--detections", str(det), "--encoder", "none",
                 "--out-mot", str(out), "--no-progress", *extra])


# ----------------------------------------------------------------- 1. det.txt layouts
def test_mot15_world_coordinates_are_not_classes(pets_clip, tmp_path):
    """Item 1: the MOT15 det.txt's columns 8-10 (world x, y, z) were read as a class id."""
    det = read_detections(pets_clip / "det" / "det.txt")
    assert (det.classes == -1).all()
    assert track(pets_clip, pets_clip / "det" / "det.txt", tmp_path / "t.txt") == 0
    assert main(["mot", str(pets_clip), "--encoder", "none", "--out", str(tmp_path / "m")]) == 0
    assert (tmp_path / "t.txt").read_bytes() == \
        (tmp_path / "m" / "PETS09-S2L1-clip.txt").read_bytes()


@pytest.mark.parametrize("row, classes", [
    ("1,-1,10,20,30,40,0.9", [-1]),
    ("1,-1,10,20,30,40,0.9,2", [2]),
    ("1,-1,10,20,30,40,0.9,-1,-1,-1", [-1]),
    ("1,-1,10,20,30,40,0.9,4.13,1.86,0", [-1]),   # MOT15 world x, y, z
])
def test_layout_by_column_count(row, classes, tmp_path):
    p = tmp_path / "det.txt"
    p.write_text(row + "\n")
    assert read_detections(p).classes.tolist() == classes


@pytest.mark.parametrize("text, message", [
    ("1,-1,10,20,30,40,0.9,1,1\n", r"det.txt, row 1: 9 columns; a detection file has 7"),
    ("1,-1,10,20,30,40,0.9,1.5\n", r"det.txt, row 1: class 1.5 is not a class id"),
    ("1,-1,1,2,3,4,0.5\n1,-1,1,2,3,4,0.5,1\n", r"det.txt, row 2: 8 columns where the rows"),
])
def test_ambiguous_layouts_are_errors(text, message, tmp_path):
    p = tmp_path / "det.txt"
    p.write_text(text)
    with pytest.raises(ValueError, match=message):
        read_detections(p)


# ----------------------------------------------------------------- 2. image folders
def _image_folder(tmp_path, names, size=(48, 64)) -> Path:
    d = tmp_path / "imgs"
    d.mkdir()
    for i, name in enumerate(names):
        cv2.imwrite(str(d / name), np.full(size + (3,), 10 * i, np.uint8))
    return d


def test_image_numbers_come_from_file_names(tmp_path):
    from cosmot.sources.frames import FrameGapWarning, iter_image_folder

    d = _image_folder(tmp_path, ["000001.jpg", "000002.jpg", "000004.jpg", "000005.jpg"])
    with pytest.warns(FrameGapWarning, match=r"imgs: 1 frame numbers have no image \(frames 3\)"):
        assert [k for k, _ in iter_image_folder(d)] == [1, 2, 4, 5]


@pytest.mark.parametrize("names, message", [
    (["000001.jpg", "cover.jpg"], "1 image names without a frame number (e.g. cover.jpg)"),
    (["1.jpg", "001.png"], r"both have frame number 1"),
])
def test_image_folder_naming_errors(names, message, tmp_path, capsys):
    d = _image_folder(tmp_path, names)
    assert main(["track", str(d), "--detector", "bgsub", "--encoder", "none",
                 "--no-progress"]) == 1
    assert_one_error(capsys, message)


def test_detections_follow_image_numbers_across_a_gap(tmp_path):
    from cosmot.detectors.det_file import DetectionFileDetector
    from cosmot.pipeline.stream import track_stream
    from cosmot.sources.frames import iter_image_folder
    from cosmot.tracker import Tracker

    d = _image_folder(tmp_path, ["000001.jpg", "000002.jpg", "000004.jpg"])
    det = tmp_path / "det.txt"
    det.write_text("".join(f"{k},-1,{k},5,10,20,0.9\n" for k in (1, 2, 3, 4)))
    tracker = Tracker()
    with pytest.warns(UserWarning, match="frames 3"):
        steps = list(track_stream(iter_image_folder(d), DetectionFileDetector(det), tracker))
    assert [s.frame for s in steps] == [1, 2, 4]
    assert steps[-1].detections.boxes_xyxy[0, 0] == 4.0  # frame 4's row, not frame 3's
    assert tracker.frame_count == 4  # tracked through the missing frame


# ----------------------------------------------------------------- 3. outputs vs inputs
@pytest.mark.parametrize("extra, message", [
    (["--out-video", "{seq}/PETS09-S2L1-clip.mp4"], "--out-video {seq}/PETS09-S2L1-clip.mp4 is "
     "the INPUT"),
    (["--out-mot", "{seq}/det/det.txt"], "--out-mot {seq}/det/det.txt is the --detections"),
    (["--out-json", "{seq}/det/det.txt"], "--out-json {seq}/det/det.txt is the --detections"),
    (["--out-mot", "{tmp}/r.txt", "--out-json", "{tmp}/r.txt"],
     "--out-mot and --out-json are the same file {tmp}/r.txt"),
    (["--out-mot", "{tmp}/a/../r.txt", "--out-json", "{tmp}/r.txt"],
     "--out-mot and --out-json are the same file"),
    (["--out-mot", "{seq}/seqinfo.ini/r.txt"], "--out-mot {seq}/seqinfo.ini/r.txt: "
     "{seq}/seqinfo.ini is a file, not a folder"),
    (["--out-json", "{tmp}"], "--out-json {tmp}: is a folder"),
    (["--out-video", "{seq}/PETS09-S2L1-clip.mp4", "--sequence-input"],
     "--out-video {seq}/PETS09-S2L1-clip.mp4 is the INPUT's video"),
    (["--out-mot", "{seq}/seqinfo.ini", "--sequence-input"],
     "--out-mot {seq}/seqinfo.ini is the INPUT's seqinfo.ini"),
])
def test_outputs_never_overwrite_inputs(extra, message, seq, tmp_path, capsys):
    (tmp_path / "a").mkdir()
    fill = {"seq": str(seq), "tmp": str(tmp_path)}
    video = seq / "PETS09-S2L1-clip.mp4"
    before = sha(video), sha(seq / "det" / "det.txt")
    as_video = "--out-video" in extra and "--sequence-input" not in extra
    extra = [a for a in extra if a != "--sequence-input"]
    args = ["track", str(video if as_video else seq), "--detections",
            str(seq / "det" / "det.txt"), "--encoder", "none", "--no-progress"]
    assert main(args + [a.format(**fill) for a in extra]) == 1
    assert_one_error(capsys, message.format(**fill))
    assert (sha(video), sha(seq / "det" / "det.txt")) == before
    assert "[Sequence]" in (seq / "seqinfo.ini").read_text()
    assert not (tmp_path / "r.txt").exists()  # refused before any work


def test_outputs_never_replace_an_input_image(tmp_path, capsys):
    d = _image_folder(tmp_path, ["000001.jpg", "000002.jpg"])
    before = sha(d / "000002.jpg")
    assert main(["track", str(d), "--detector", "hog", "--encoder", "none", "--no-progress",
                 "--out-json", str(d / "000002.jpg")]) == 1
    assert_one_error(capsys, f"--out-json {d}/000002.jpg is inside the INPUT's image folder")
    assert sha(d / "000002.jpg") == before


def test_mot_refuses_two_sequences_with_one_name(seq, tmp_path, capsys):
    other = tmp_path / "copy"
    shutil.copytree(seq, other)
    assert main(["mot", str(seq), str(other), "--encoder", "none",
                 "--out", str(tmp_path / "out")]) == 1
    assert_one_error(capsys, "are both named PETS09-S2L1-clip")


# ----------------------------------------------------------------- 4. signals
def _start_track(args, env_extra=None):
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    return subprocess.Popen([sys.executable, "-c", "import sys; from cosmot.cli import main; "
                             "sys.exit(main())", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            cwd=ROOT)


def _wait_for_rows(path: Path, proc, frame: int, limit_s: float = 300) -> None:
    """Wait (no timing assert) until the MOT file has rows of ``frame`` or later."""
    end = time.monotonic() + limit_s
    while time.monotonic() < end and proc.poll() is None:
        if path.exists():
            lines = path.read_text().splitlines()
            if lines and lines[-1].count(",") == 9 and int(lines[-1].split(",")[0]) >= frame:
                return
        time.sleep(0.05)
    raise AssertionError(f"no rows of frame {frame} in {path}: {proc.poll()}")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_signal_keeps_complete_outputs(sig, pets_clip, tmp_path):
    """SIGTERM: like Ctrl-C, the .mp4 is finalised (exit 143). SIGKILL: nothing runs, yet the MOT
    rows are complete lines and OUT.mp4.partial.avi plays every frame written."""
    mot, video = tmp_path / "r.txt", tmp_path / "v.mp4"
    proc = _start_track(["track", str(pets_clip), "--detections",
                         str(pets_clip / "det" / "det.txt"), "--encoder", "none",
                         "--out-mot", str(mot), "--out-video", str(video), "--no-progress"])
    _wait_for_rows(mot, proc, 10)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=300)
    rows = complete_mot_rows(mot)
    assert rows[:, 0].max() >= 10
    if sig == signal.SIGTERM:
        assert proc.returncode == 143, err.decode()
        assert "interrupted (signal 15); results written so far are kept" in err.decode()
        assert not Path(f"{video}.partial.avi").exists()
        n = video_frames(video)
        assert n >= rows[:, 0].max()  # every frame whose rows were written
    else:
        assert proc.returncode == -signal.SIGKILL
        assert not video.exists()
        assert video_frames(f"{video}.partial.avi") >= rows[:, 0].max() - 1


def test_a_stop_signal_rewrapped_by_a_library_keeps_its_exit_code():
    """Ray's blocking calls catch every KeyboardInterrupt raised inside them and raise a plain
    one, losing the Terminated subclass (a Ray batch stopped by SIGTERM exited 130, "Ctrl-C"):
    the signal's number is kept where the handler raised it."""
    from cosmot.cli import signals

    old = signal.getsignal(signal.SIGTERM)
    signals.install()
    try:
        try:
            try:
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(5)  # the handler raises within the sleep
            except KeyboardInterrupt:  # what Ray does with it
                raise KeyboardInterrupt from None
        except KeyboardInterrupt as e:
            assert type(e) is KeyboardInterrupt
            assert signals.stop_signal(e) == signal.SIGTERM
            assert signals.exit_code(e) == 143
    finally:
        signal.signal(signal.SIGTERM, old)
        signals._received.clear()
    assert signals.exit_code(KeyboardInterrupt()) == 130  # Ctrl-C
    assert signals.exit_code(signals.Terminated(signal.SIGHUP)) == 129


# ----------------------------------------------------------------- 5. sequence length
def test_row_far_past_the_sequence_is_an_error(seq, tmp_path, capsys):
    lines = _det_lines(seq)
    _set_det(seq, lines[:5] + ["1000000000,-1,10,20,30,40,0.9,-1,-1,-1"] + lines[5:])
    assert main(["mot", str(seq), "--encoder", "none", "--out", str(tmp_path / "o")]) == 1
    assert_one_error(capsys, f"{seq}/det/det.txt, row 6: frame 1000000000 is past the end of "
                             f"the sequence ({seq}/seqinfo.ini seqLength) (120 frames)",
                     "PETS09-S2L1-clip: failed")
    assert track(seq, seq / "det" / "det.txt", tmp_path / "t.txt") == 1
    assert_one_error(capsys, "row 6: frame 1000000000 is past the end")


def test_rows_past_a_video_end_are_counted(seq, tmp_path, capsys):
    """A plain video's length is only known at its end: one warning with the counts."""
    lines = _det_lines(seq) + ["130,-1,10,20,30,40,0.9,-1,-1,-1", "131,-1,1,2,3,4,0.9,-1,-1,-1"]
    det = _set_det(seq, lines)
    assert main(["track", str(seq / "PETS09-S2L1-clip.mp4"), "--detections", str(det),
                 "--encoder", "none", "--out-mot", str(tmp_path / "t.txt"),
                 "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert err.count("warning") == 1
    assert "2 rows on 2 frames after the input's last frame 120 were not used" in err


# ----------------------------------------------------------------- 6. damaged weights
@pytest.fixture(scope="module")
def small_checkpoint(tmp_path_factory) -> Path:
    import torch

    from cosmot.appearance.checkpoint import save_checkpoint
    from cosmot.appearance.model import EmbeddingNet, NetConfig

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("ckpt") / "net.pt"
    save_checkpoint(path, EmbeddingNet(NetConfig()), {"note": "test"})
    return path


def _damage_tensor(src: Path, dst: Path) -> None:
    """Flip bytes inside the stored data of the largest tensor (the file still unpickles)."""
    import torch

    state = torch.load(src, weights_only=True)["state_dict"]
    name = max(state, key=lambda k: state[k].numel())
    raw = src.read_bytes()
    needle = state[name].contiguous().numpy().tobytes()[:256]
    at = raw.find(needle)
    assert at > 0
    data = bytearray(raw)
    for i in range(at + 64, at + 96):
        data[i] ^= 0x5A
    dst.write_bytes(bytes(data))


def test_damaged_checkpoint_is_refused(small_checkpoint, pets_clip, tmp_path, capsys):
    from cosmot.appearance.checkpoint import load_checkpoint

    load_checkpoint(small_checkpoint)  # intact: loads silently
    bad = tmp_path / "damaged.pt"
    _damage_tensor(small_checkpoint, bad)
    with pytest.raises(ValueError, match=r"damaged.pt: the tensors' checksum .* does not match"):
        load_checkpoint(bad)
    rc = main(["track", str(pets_clip), "--detections", str(pets_clip / "det" / "det.txt"),
               "--encoder", str(bad), "--out-mot", str(tmp_path / "r.txt"), "--no-progress"])
    assert rc == 1
    assert_one_error(capsys, f"{bad}: the tensors' checksum")
    assert not (tmp_path / "r.txt").exists()


def test_checkpoint_without_checksum_warns(small_checkpoint, tmp_path):
    import torch

    from cosmot.appearance.checkpoint import load_checkpoint

    ckpt = torch.load(small_checkpoint, weights_only=True)
    del ckpt["tensors_sha256"]
    torch.save(ckpt, tmp_path / "old.pt")
    with pytest.warns(UserWarning, match="old.pt: its tensors are not checked: it was written "
                      "before checkpoints carried a checksum"):
        load_checkpoint(tmp_path / "old.pt")


# ----------------------------------------------------------------- 8. errors say where
def assert_one_error(capsys, *fragments) -> str:
    err = capsys.readouterr().err
    for f in fragments:
        assert f in err, err
    assert "Traceback" not in err
    return err


def _bad_cases():
    return [
        # (what to damage, command, exit code, fragments of the message)
        ("det_nan", "mot", 1, ["{seq}/det/det.txt, row 3: width is nan"]),
        ("det_nan", "track", 1, ["{seq}/det/det.txt, row 3: width is nan"]),
        ("det_frame0", "mot", 1, ["det.txt, row 3: frame 0 <= 0"]),
        ("det_frame0", "track", 1, ["det.txt, row 3: frame 0 <= 0"]),
        ("det_fraction", "mot", 1, ["det.txt, row 3: frame 2.5 is not a whole number"]),
        ("det_fraction", "track", 1, ["det.txt, row 3: frame 2.5 is not a whole number"]),
        ("det_text", "track", 1, ["det.txt, row 3: cannot parse"]),
        ("det_negative", "mot", 1, ["det.txt, row 3: negative width or height"]),
        ("seqinfo_header", "mot", 1, ["{seq}/seqinfo.ini: not an INI file with a [Sequence] "
                                      "section"]),
        ("seqinfo_header", "track", 1, ["{seq}/seqinfo.ini: not an INI file"]),
        ("seqinfo_value", "track", 1, ["{seq}/seqinfo.ini: invalid literal"]),
        ("onnx", "track", 1, ["{tmp}/enc.onnx: ONNX Runtime cannot load it as a model"]),
        ("pt_truncated", "track", 1, ["{tmp}/enc.pt: cannot be read as a tensors-only "
                                      "checkpoint"]),
        ("disk_full", "track", 1, ["--out-mot /dev/full: cannot write frame 3 (No space left "
                                   "on device) (the disk is full"]),
        ("parent_file", "track", 1, ["--out-json {seq}/seqinfo.ini/t.jsonl: "
                                     "{seq}/seqinfo.ini is a file, not a folder"]),
        ("eval_results", "eval", 1, ["{tmp}/res/PETS09-S2L1-clip.txt, row 2: id 3 appears twice "
                                     "in frame 1"]),
    ]


@pytest.mark.parametrize("case, command, code, fragments", _bad_cases(),
                         ids=[f"{c[0]}-{c[1]}" for c in _bad_cases()])
def test_errors_name_what_and_where(case, command, code, fragments, seq, tmp_path, capsys):
    fill = {"seq": str(seq), "tmp": str(tmp_path)}
    lines = _det_lines(seq)
    encoder, out_mot, out_json = "none", str(tmp_path / "r.txt"), None
    if case == "det_nan":
        _set_det(seq, lines[:2] + ["2,-1,10,20,nan,40,0.9,-1,-1,-1"] + lines[2:])
    elif case == "det_frame0":
        _set_det(seq, lines[:2] + ["0,-1,10,20,30,40,0.9,-1,-1,-1"] + lines[2:])
    elif case == "det_fraction":
        _set_det(seq, lines[:2] + ["2.5,-1,10,20,30,40,0.9,-1,-1,-1"] + lines[2:])
    elif case == "det_text":
        _set_det(seq, lines[:2] + ["2,-1,10,20,thirty,40,0.9,-1,-1,-1"] + lines[2:])
    elif case == "det_negative":
        _set_det(seq, lines[:2] + ["2,-1,10,20,-30,40,0.9,-1,-1,-1"] + lines[2:])
    elif case == "seqinfo_header":
        text = (seq / "seqinfo.ini").read_text()
        (seq / "seqinfo.ini").write_text(text.replace("[Sequence]\n", ""))
    elif case == "seqinfo_value":
        text = (seq / "seqinfo.ini").read_text()
        (seq / "seqinfo.ini").write_text(text.replace("seqLength=120", "seqLength=12O"))
    elif case == "onnx":
        encoder = str(tmp_path / "enc.onnx")
        Path(encoder).write_bytes(b"\x08\x07garbage" * 100)
    elif case == "pt_truncated":
        encoder = str(tmp_path / "enc.pt")
        src = (ROOT / "appearance" / "weights" / "default.pt").read_bytes()
        Path(encoder).write_bytes(src[: len(src) // 2])
    elif case == "disk_full":
        if not Path("/dev/full").exists():
            pytest.skip("no /dev/full here")
        out_mot = "/dev/full"
    elif case == "parent_file":
        out_json = str(seq / "seqinfo.ini" / "t.jsonl")
    if command == "mot":
        args = ["mot", str(seq), "--encoder", encoder, "--out", str(tmp_path / "o")]
    elif command == "eval":
        (tmp_path / "res").mkdir()
        (tmp_path / "res" / "PETS09-S2L1-clip.txt").write_text(
            "1,3,1,2,3,4,1,-1,-1,-1\n1,3,5,6,7,8,1,-1,-1,-1\n")
        args = ["eval", "--gt", str(seq), "--results", str(tmp_path / "res")]
    else:
        args = ["track", str(seq), "--detections", str(seq / "det" / "det.txt"),
                "--encoder", encoder, "--out-mot", out_mot, "--no-progress"]
        if out_json:
            args += ["--out-json", out_json]
    assert main(args) == code
    assert_one_error(capsys, *(f.format(**fill) for f in fragments))


def test_unexpected_errors_keep_their_type_and_debug_shows_the_traceback(monkeypatch, capsys):
    from cosmot.cli import eval as eval_command

    def boom(args):
        raise RuntimeError("something odd")

    monkeypatch.setattr(eval_command, "run", boom)  # register() reads it
    assert main(["eval", "--gt", "x", "--results", "y"]) == 1
    err = capsys.readouterr().err
    assert "cosmot eval: error: RuntimeError: something odd (unexpected; rerun with --debug" in err
    assert "Traceback" not in err
    assert main(["eval", "--gt", "x", "--results", "y", "--debug"]) == 1
    assert "Traceback" in capsys.readouterr().err


# ----------------------------------------------------------------- 9. dropped rows
def test_dropped_rows_are_counted_the_same_in_mot_and_track(seq, tmp_path, capsys):
    lines = _det_lines(seq)
    _set_det(seq, lines[:3] + [lines[1], "2,-1,10,20,0,40,0.9,-1,-1,-1",
                               "3,-1,10,20,30,0,0.9,-1,-1,-1"] + lines[3:])
    expected = (f"{seq}/det/det.txt: dropped 3 rows: 2 boxes with zero width or height "
                f"(row 5, 6); 1 duplicates of an earlier row (row 4)")
    assert main(["mot", str(seq), "--encoder", "none", "--out", str(tmp_path / "m")]) == 0
    err = capsys.readouterr().err
    assert err.count("warning") == 1 and expected in err
    assert track(seq, seq / "det" / "det.txt", tmp_path / "t.txt") == 0
    err = capsys.readouterr().err
    assert err.count("warning") == 1 and expected in err
    assert (tmp_path / "t.txt").read_bytes() == \
        (tmp_path / "m" / "PETS09-S2L1-clip.txt").read_bytes()


@pytest.mark.parametrize("fault, message", [
    ("detector", "frame 3: detector 'flaky' returned non-finite boxes or scores"),
    ("encoder", "frame 3: "),
])
def test_stream_faults_name_the_frame(fault, message):
    """A library user's detector or encoder going wrong on one frame: the message says which."""
    from cosmot.detectors import CallableDetector
    from cosmot.pipeline.stream import track_stream
    from cosmot.tracker import Tracker

    calls = {"n": 0}

    def flaky(frame):
        calls["n"] += 1
        box = [[10, 10, 40, 90]]
        return (np.full((1, 4), np.nan) if fault == "detector" and calls["n"] == 3 else box,
                [0.9], None)

    class Encoder:
        def embed(self, image, boxes):
            e = np.ones((len(boxes), 8), np.float32)
            return e * np.nan if calls["n"] == 3 else e

    frames = (np.zeros((100, 100, 3), np.uint8) for _ in range(5))
    steps = track_stream(frames, CallableDetector(flaky, "flaky"), Tracker(),
                         Encoder() if fault == "encoder" else None)
    with pytest.raises(ValueError, match=message) as e:
        list(steps)
    assert str(e.value).startswith("frame 3: ")


@pytest.mark.parametrize("ext", [".avi", ".mp4"])
def test_video_goes_on_in_a_new_file_before_the_avi_limit(ext, tmp_path):
    """Plain AVI stops at 4 GiB: the writer starts another complete file (here at 40 kB)."""
    from cosmot.writers.video import VideoFileWriter

    rng = np.random.default_rng(0)
    path = tmp_path / f"v{ext}"
    with VideoFileWriter(path, fps=10, segment_bytes=40_000) as w:
        for _ in range(30):
            w.write(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8))
        segments = list(w.segments)
    assert len(segments) > 1
    if ext == ".avi":
        assert segments[1].name == "v-002.avi"
        assert sum(video_frames(p) for p in segments) == 30
        assert all(p.stat().st_size <= 40_000 for p in segments)
    else:
        assert video_frames(path) == 30 and not any(p.exists() for p in segments)


def test_mot_runs_through_a_missing_image(pets_clip, tmp_path, capsys):
    """An img1/ folder with one image missing: one warning naming it; that frame has no rows
    (no detections used without its image), the later frames keep their own detections."""
    from cosmot.sources.frames import iter_video

    seq = tmp_path / "gap"
    (seq / "img1").mkdir(parents=True)
    (seq / "det").mkdir()
    for k, image in iter_video(pets_clip / "PETS09-S2L1-clip.mp4"):
        if k > 12:
            break
        if k != 7:
            cv2.imwrite(str(seq / "img1" / f"{k:06d}.jpg"), image)
    (seq / "seqinfo.ini").write_text("[Sequence]\nname=gap\nimDir=img1\nframeRate=7\n"
                                     "seqLength=12\nimWidth=768\nimHeight=576\nimExt=.jpg\n")
    rows = [ln for ln in _det_lines(pets_clip) if int(ln.split(",")[0]) <= 12]
    (seq / "det" / "det.txt").write_text("\n".join(rows) + "\n")
    assert main(["mot", str(seq), "--encoder", "none", "--cmc", "sparse", "--set", "n_init=1",
                 "--out", str(tmp_path / "o")]) == 0
    err = capsys.readouterr().err
    assert err.count("warning") == 1
    assert f"{seq}/img1: 1 frame numbers have no image (frames 7)" in err
    frames = set(complete_mot_rows(tmp_path / "o" / "gap.txt")[:, 0].astype(int))
    assert 7 not in frames and {6, 8, 12} <= frames


# ----------------------------------------------------------------- truncated video files
def test_a_truncated_video_warns_with_both_frame_counts(cut_video):
    """A video whose data stops early (copy interrupted, disk full while recording) used to
    end the run as if finished; it now warns naming the file and both counts."""
    import warnings

    from cosmot.sources.frames import VideoEndedEarlyWarning, iter_video

    full, cut = cut_video
    with warnings.catch_warnings():
        warnings.simplefilter("error", VideoEndedEarlyWarning)
        assert len(list(iter_video(full))) == 40  # complete: no warning
    with pytest.warns(VideoEndedEarlyWarning, match=r"cut.avi: decoding stopped after frame "
                                                    r"(\d+) of the 40 its header announces"):
        n = len(list(iter_video(cut)))
    assert 5 < n < 35
    # stopping early on purpose (max_frames) is not a truncated file
    with warnings.catch_warnings():
        warnings.simplefilter("error", VideoEndedEarlyWarning)
        frames = iter_video(cut)
        next(frames)
        frames.close()


def test_an_assumed_frame_rate_is_said(tmp_path):
    """An image folder has no frame rate: the 25 fps assumed (the tracker's seconds, the
    video's rate) is said in the run's first line, with the option that sets it."""
    from cosmot.sources.open_input import open_input

    for k in (1, 2):
        cv2.imwrite(str(tmp_path / f"{k:06d}.jpg"), np.zeros((8, 8, 3), np.uint8))
    assumed = open_input(str(tmp_path))
    assert assumed.fps == 25.0 and "25 fps assumed, set --fps if wrong" in assumed.description
    given = open_input(str(tmp_path), fps=10)
    assert given.fps == 10.0 and "10 fps)" in given.description
