"""Issue 20 (no silent wrong result, round 2): each case failed before its fix.

BAD 1: --resume must not take a failed or interrupted run's outputs as finished.

A run that fails mid-way (a damaged image) or is interrupted without --checkpoint-every used to
leave its outputs without a checkpoint, and --resume then said "finished, skipped" and kept the
partial file. Now every run marks itself unfinished (a checkpoint at frame 0) until it ends:
--resume restarts such a run, and the result equals an uninterrupted run's byte for byte."""

from __future__ import annotations

import re

import numpy as np

import pytest

from cosmot.cli.main import main
from cosmot.sources.motchallenge import Sequence


def fail_at(monkeypatch, frame: int, error=ValueError):
    real = Sequence.frames

    def frames(self, start=1):
        for k, image in real(self, start):
            if k == frame:
                raise error(f"frame {k}: damaged image (simulated)")
            yield k, image

    monkeypatch.setattr(Sequence, "frames", frames)
    return real


@pytest.mark.parametrize("error, code", [(ValueError, 1), (KeyboardInterrupt, 130)])
def test_track_resume_after_a_failed_run_redoes_it(pets_clip, tmp_path, monkeypatch, capsys,
                                                   error, code):
    args = ["track", str(pets_clip), "--detections", str(pets_clip / "det" / "det.txt"),
            "--encoder", "none", "--max-frames", "60", "--no-progress"]
    assert main([*args, "--out-mot", str(tmp_path / "clean.txt")]) == 0
    real = fail_at(monkeypatch, 30, error)
    out = tmp_path / "r.txt"
    assert main([*args, "--out-mot", str(out)]) == code
    partial = out.read_bytes()
    assert partial and len(partial) < len((tmp_path / "clean.txt").read_bytes())
    monkeypatch.setattr(Sequence, "frames", real)  # the cause fixed
    capsys.readouterr()
    assert main([*args, "--out-mot", str(out), "--resume"]) == 0
    assert "finished, skipped" not in capsys.readouterr().err
    assert out.read_bytes() == (tmp_path / "clean.txt").read_bytes()
    assert not (tmp_path / "r.txt.ckpt.npz").exists()
    # a finished run is skipped by --resume, and says so
    assert main([*args, "--out-mot", str(out), "--resume"]) == 0
    assert "finished, skipped" in capsys.readouterr().err


def test_mot_resume_after_a_failed_run_redoes_it(pets_clip, tmp_path, monkeypatch, capsys):
    args = ["mot", str(pets_clip), "--det", "det", "--encoder", "default", "--no-progress"]
    assert main([*args, "--out", str(tmp_path / "clean")]) == 0
    real = fail_at(monkeypatch, 50)
    assert main([*args, "--out", str(tmp_path / "r")]) == 1
    monkeypatch.setattr(Sequence, "frames", real)
    capsys.readouterr()
    assert main([*args, "--out", str(tmp_path / "r"), "--resume"]) == 0
    assert "finished, skipped" not in capsys.readouterr().out
    name = f"{pets_clip.name}.txt"
    assert (tmp_path / "r" / name).read_bytes() == (tmp_path / "clean" / name).read_bytes()


def test_resume_over_an_edited_det_file_is_refused(pets_clip, tmp_path, monkeypatch, capsys):
    """Issue 20, BAD 2: det.txt edited between the interrupted run and --resume: refused,
    naming the file (it continued silently, mixing old and new detections)."""
    import shutil

    seq = tmp_path / "seq"
    shutil.copytree(pets_clip, seq)
    args = ["mot", str(seq), "--det", "det", "--encoder", "none", "--cmc", "sparse", "--no-progress",
            "--checkpoint-every", "10", "--out", str(tmp_path / "r")]
    real = fail_at(monkeypatch, 50, KeyboardInterrupt)
    assert main(args) == 130
    monkeypatch.setattr(Sequence, "frames", real)
    det = seq / "det" / "det.txt"
    det.write_text(det.read_text().replace(",-1,", ",-1,1", 5))  # edited rows
    capsys.readouterr()
    assert main([*args, "--resume"]) == 1
    err = capsys.readouterr().err
    assert f"contents of {det.resolve()}" in err and "remove the checkpoint" in err


def test_track_resume_over_a_replaced_input_is_refused(pets_clip, tmp_path, monkeypatch,
                                                       capsys):
    import shutil

    clip = tmp_path / "clip.mp4"
    shutil.copy(pets_clip / f"{pets_clip.name}.mp4", clip)
    args = ["track", str(clip), "--detections", str(pets_clip / "det" / "det.txt"),
            "--encoder", "none", "--no-progress", "--checkpoint-every", "10",
            "--out-mot", str(tmp_path / "r.txt")]
    # stopped at --max-frames with periodic checkpoints: a run to continue
    assert main([*args, "--max-frames", "30"]) == 0
    assert (tmp_path / "r.txt.ckpt.npz").is_file()
    with open(clip, "ab") as f:  # replaced by another file at the same path
        f.write(b"\0" * 64)
    capsys.readouterr()
    assert main([*args, "--max-frames", "60", "--resume"]) == 1
    assert f"contents of {clip.resolve()}" in capsys.readouterr().err


def test_two_runs_cannot_write_one_output(pets_clip, tmp_path, capsys):
    """Issue 20, BAD 3: a second run onto an output another run is writing refuses, naming the
    file and the other process (both exited 0 with interleaved, broken lines)."""
    import os

    from cosmot.writers.lines import OutputLock
    from cosmot.writers.mot import MOTWriter

    out = tmp_path / "same.txt"
    with MOTWriter(out):
        with pytest.raises(FileExistsError, match=rf"same\.txt: another run \(process "
                                                  rf"{os.getpid()}\) is writing it"):
            MOTWriter(out)
    assert not (tmp_path / "same.txt.lock").exists()  # released on close
    held = OutputLock(out)  # as another run would hold it
    try:
        before = out.read_bytes()
        rc = main(["track", str(pets_clip), "--detections", str(pets_clip / "det" / "det.txt"),
                   "--encoder", "none", "--max-frames", "10", "--no-progress",
                   "--out-mot", str(out)])
        assert rc == 1
        assert "another run" in capsys.readouterr().err
        assert out.read_bytes() == before  # untouched
    finally:
        held.release()
    assert main(["track", str(pets_clip), "--detections", str(pets_clip / "det" / "det.txt"),
                 "--encoder", "none", "--max-frames", "10", "--no-progress",
                 "--out-mot", str(out)]) == 0


def _sequence_with_images(root, numbers, length=12):
    import cv2
    import numpy as np

    seq = root / "SEQ"
    (seq / "img1").mkdir(parents=True)
    (seq / "det").mkdir()
    (seq / "seqinfo.ini").write_text(f"[Sequence]\nname=SEQ\nimDir=img1\nframeRate=10\n"
                                     f"seqLength={length}\nimWidth=64\nimHeight=48\n"
                                     f"imExt=.jpg\n")
    for k in numbers:
        cv2.imwrite(str(seq / "img1" / f"{k:06d}.jpg"), np.full((48, 64, 3), k * 10, np.uint8))
    (seq / "det" / "det.txt").write_text("".join(f"{k},-1,5,5,20,30,0.9\n"
                                                 for k in range(1, length + 1)))
    return seq


def test_sequence_image_numbered_zero_is_an_error_naming_it(tmp_path, capsys):
    """Issue 20, BAD 4: an extra img1/000000.jpg shifted every image onto the previous frame's
    detections, silently."""
    seq = _sequence_with_images(tmp_path, range(0, 13))
    assert main(["mot", str(seq), "--encoder", "none", "--cmc", "sparse", "--no-progress",
                 "--out", str(tmp_path / "r")]) == 1
    err = capsys.readouterr().err
    assert "000000.jpg: image number 0 in a sequence" in err


def test_sequence_missing_tail_and_extra_images_are_reported(tmp_path, capsys):
    """Issue 20, BAD 4: img1 ending before seqLength dropped the last frames' detections with
    no word; images past seqLength were ignored silently."""
    seq = _sequence_with_images(tmp_path, range(1, 9), length=12)
    assert main(["mot", str(seq), "--encoder", "none", "--cmc", "sparse", "--no-progress",
                 "--out", str(tmp_path / "r")]) == 0
    assert "img1: 4 frame numbers have no image (frames 9-12)" in capsys.readouterr().err
    seq2 = _sequence_with_images(tmp_path / "b", range(1, 16), length=12)
    assert main(["mot", str(seq2), "--encoder", "none", "--cmc", "sparse", "--no-progress",
                 "--out", str(tmp_path / "r2")]) == 0
    assert "img1: 3 images past the sequence's 12 frames" in capsys.readouterr().err


def test_a_sequence_without_seqinfo_names_the_missing_file(tmp_path, capsys):
    """WEAK: a sequence folder (img1/, det/) without seqinfo.ini was 'a folder with no inputs
    in it', as if it were empty."""
    seq = _sequence_with_images(tmp_path, range(1, 4))
    (seq / "seqinfo.ini").unlink()
    assert main(["mot", str(seq), "--encoder", "none", "--no-progress",
                 "--out", str(tmp_path / "r")]) == 1
    err = capsys.readouterr().err
    assert f"{seq / 'seqinfo.ini'}: missing" in err and "[Sequence]" in err
    assert main(["mot", str(tmp_path), "--encoder", "none", "--no-progress",
                 "--out", str(tmp_path / "r")]) == 1
    assert f"{seq / 'seqinfo.ini'}: missing" in capsys.readouterr().err


def test_plain_image_folder_from_zero_says_so(tmp_path):
    import cv2
    import numpy as np

    from cosmot.sources.frames import FrameOffsetWarning, iter_image_folder

    for k in range(3):
        cv2.imwrite(str(tmp_path / f"{k:06d}.jpg"), np.zeros((8, 8, 3), np.uint8))
    with pytest.warns(FrameOffsetWarning, match="000000.jpg is frame 1"):
        assert [k for k, _ in iter_image_folder(tmp_path)] == [1, 2, 3]


@pytest.mark.parametrize("args, message", [
    (["track", "{clip}", "--min-score", "nan"], "--min-score: 'nan': give a finite number"),
    (["mot", "{clip}", "--min-score", "nan"], "--min-score: 'nan': give a finite number"),
    (["track", "{clip}", "--fps", "0"], "--fps: '0': must be > 0"),
])
def test_meaningless_numbers_are_refused(args, message, pets_clip, capsys):
    """WEAK: --min-score nan gave 0 rows and exit 0; --fps 0 was ignored."""
    with pytest.raises(SystemExit) as e:
        main([a.format(clip=pets_clip) for a in args])
    assert e.value.code == 2
    assert message in capsys.readouterr().err


def _seqinfo(tmp_path, text, bom=False):
    from cosmot.sources.motchallenge import read_seqinfo

    seq = tmp_path / "S"
    seq.mkdir(exist_ok=True)
    (seq / "seqinfo.ini").write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode())
    return lambda: read_seqinfo(seq)


def test_seqinfo_placeholders_are_named(tmp_path):
    """WEAK: a UTF-8 BOM was rejected; frameRate=0 and seqLength=-5 were accepted; a seqinfo
    with only a name assumed 30 frames/s silently."""
    from cosmot.sources.motchallenge import MOTFormatError, SeqinfoWarning

    full = "[Sequence]\nname=S\nframeRate=25\nseqLength=10\n"
    assert _seqinfo(tmp_path, full, bom=True)().fps == 25
    with pytest.raises(MOTFormatError, match=r"seqinfo.ini: frameRate=0: must be a number > 0"):
        _seqinfo(tmp_path, full.replace("=25", "=0"))()
    with pytest.raises(MOTFormatError, match=r"seqinfo.ini: seqLength=-5: must be >= 1"):
        _seqinfo(tmp_path, full.replace("=10", "=-5"))()
    with pytest.warns(SeqinfoWarning, match=r"seqinfo.ini: no frameRate; 30 frames/s assumed"):
        assert _seqinfo(tmp_path, "[Sequence]\nname=S\n")().fps == 30
    with pytest.warns(SeqinfoWarning, match="seqLength=0"):
        _seqinfo(tmp_path, full.replace("=10", "=0"))()


def test_evaluation_names_what_is_wrong_with_results(pets_clip, tmp_path, capsys):
    """WEAK: negative ids and 6-column rows gave TrackEval tracebacks; results ending early
    scored low with no word; --results naming a file said nothing useful."""
    from cosmot.evaluation.mot_metrics import ResultsEndEarlyWarning, evaluate
    from cosmot.sources.motchallenge import MOTFormatError

    out = tmp_path / f"{pets_clip.name}.txt"
    out.write_text("1,-3,10,10,20,40,1,-1,-1,-1\n")
    with pytest.raises(MOTFormatError, match=r"row 1: id -3: ids must be >= 1"):
        evaluate([pets_clip], tmp_path)
    out.write_text("1,1,10,10,20,40\n")
    with pytest.raises(MOTFormatError, match=r"row 1: 6 columns, expected 10"):
        evaluate([pets_clip], tmp_path)
    out.write_text("".join(f"{k},1,10,10,20,40,1,-1,-1,-1\n" for k in range(1, 31)))
    with pytest.warns(ResultsEndEarlyWarning, match="results end at frame 30 of the "
                                                    "sequence's 120"):
        evaluate([pets_clip], tmp_path)
    assert main(["eval", "--gt", str(pets_clip), "--results", str(out)]) == 1
    assert "is a file; give the folder" in capsys.readouterr().err


@pytest.mark.parametrize("kwargs, message", [
    ({"boxes_xyxy": [["a", 1, 2, 3]]}, "boxes_xyxy: not numbers"),
    ({"scores": ["high"]}, "scores: not numbers"),
    ({"scores": [float("nan")]}, "scores row 0 = nan"),
    ({"classes": [0.5]}, "classes row 0 = 0.5: class ids must be whole numbers"),
    ({"classes": [float("nan")]}, "classes row 0"),
    ({"embeddings": [[0.0, 0.0]]}, "embeddings row 0 is all zeros"),
    ({"embeddings": [[float("nan"), 1.0]]}, "embeddings row 0 is not finite"),
    ({"embeddings": np.zeros((1, 0))}, "D >= 1"),
])
def test_library_inputs_are_named(kwargs, message):
    """WEAK: string inputs gave numpy's conversion error; zero/NaN embedding rows and
    fractional classes were accepted; (M, 0) embeddings gave a broadcast error."""
    from cosmot.tracker import Tracker

    args = {"boxes_xyxy": [[0.0, 0.0, 10.0, 20.0]], "scores": [0.9], **kwargs}
    with pytest.raises(ValueError, match=re.escape(message)):
        Tracker().update(**args)


def test_from_state_given_a_path_points_to_load_state(tmp_path):
    from cosmot.tracker import Tracker

    with pytest.raises(TypeError, match="load_state"):
        Tracker.from_state(str(tmp_path / "s.npz"))


def test_models_given_to_the_wrong_option_or_empty_are_named(pets_clip, tmp_path, capsys):
    """WEAK: the encoder's .onnx as --detector failed at the first frame (exit 134 with
    detect-ahead); the detector's .onnx as --encoder gave a broadcast error; an empty .pt an
    IndexError."""
    from cosmot.paths import REPO_ROOT

    enc = REPO_ROOT / "appearance" / "weights" / "default.onnx"
    det = REPO_ROOT / "tools" / "detectors" / "models" / "yolox_nano_coco.onnx"
    (tmp_path / "empty.pt").write_bytes(b"")
    base = ["track", str(pets_clip), "--max-frames", "3", "--no-progress"]
    assert main([*base, "--detector", str(enc)]) == 1
    assert f"{enc}: output shape" in capsys.readouterr().err
    assert main([*base, "--encoder", str(det)]) == 1
    assert "looks like a detector: give it to --detector" in capsys.readouterr().err
    assert main([*base, "--encoder", str(tmp_path / "empty.pt")]) == 1
    assert "empty.pt: empty file" in capsys.readouterr().err


def test_resume_with_another_setting_names_the_field(pets_clip, tmp_path, capsys):
    """WEAK: a refused --resume over another --set printed two 600-character config dumps."""
    args = ["track", str(pets_clip), "--detections", str(pets_clip / "det" / "det.txt"),
            "--encoder", "none", "--no-progress", "--checkpoint-every", "10",
            "--out-mot", str(tmp_path / "r.txt")]
    assert main([*args, "--max-frames", "20"]) == 0
    capsys.readouterr()
    assert main([*args, "--max-frames", "40", "--resume", "--set", "max_age=5"]) == 1
    err = capsys.readouterr().err
    assert "config max_age = 30, this run has max_age = 5" in err and len(err) < 600


def test_state_save_failure_names_the_file_and_leaves_no_tmp(tmp_path, monkeypatch):
    """WEAK: disk full while writing a checkpoint left .ckpt.npz.tmp and named no file."""
    import errno

    from cosmot.tracker import Tracker
    from cosmot.tracker import state as state_module

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(state_module.np, "savez", full)
    path = tmp_path / "r.txt.ckpt.npz"
    with pytest.raises(OSError, match="No space left on device") as e:
        state_module.save_state(Tracker(), path)
    assert e.value.filename == str(path)
    assert list(tmp_path.iterdir()) == []


def jpeg_folder(folder, n: int = 8, size=(64, 48)):
    """``folder`` with n seeded-noise JPEGs 000001.jpg..."""
    import cv2

    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for k in range(1, n + 1):
        cv2.imwrite(str(folder / f"{k:06d}.jpg"),
                    rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8))
    return folder


def test_truncated_jpeg_is_named_and_skipped_as_a_gap(tmp_path):
    """An image cut short (an unfinished copy) used to decode as a grey frame with libjpeg's
    'Premature end of JPEG file' on stderr; now it is named, skipped and tracked as a gap."""
    import warnings

    from cosmot.sources.frames import DamagedImageWarning, iter_image_folder

    folder = jpeg_folder(tmp_path / "img1")
    victim = folder / "000005.jpg"
    victim.write_bytes(victim.read_bytes()[: victim.stat().st_size // 2])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        numbers = [k for k, _ in iter_image_folder(folder)]
    assert numbers == [1, 2, 3, 4, 6, 7, 8]
    said = [str(w.message) for w in caught if issubclass(w.category, DamagedImageWarning)]
    assert len(said) == 1 and "000005.jpg: frame 5 is cut short" in said[0]


def test_an_image_of_another_size_is_an_error_naming_both(tmp_path):
    """One 32x24 image among 64x48 ones used to track silently (0 ids near it)."""
    import cv2

    from cosmot.sources.frames import iter_image_folder

    folder = jpeg_folder(tmp_path / "img1")
    cv2.imwrite(str(folder / "000007.jpg"), np.zeros((24, 32, 3), np.uint8))
    with pytest.raises(ValueError, match=r"000007.jpg: frame 7 is 32x24 but frame 1 is 64x48"):
        list(iter_image_folder(folder))


def test_det_boxes_far_outside_any_frame_are_warned_with_a_count(tmp_path):
    """Boxes at x = 1e5 or 1e9 used to be accepted without a word."""
    import warnings

    from cosmot.sources.motchallenge import read_detections
    from cosmot.sources.validation import ImplausibleBoxWarning

    det = tmp_path / "det.txt"
    det.write_text("1,-1,10,10,20,40,0.9\n1,-1,1e9,10,20,40,0.9\n2,-1,5,5,2e5,40,0.8\n"
                   "2,-1,50,60,20,40,0.7\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        det_rows = read_detections(det)
    said = [str(w.message) for w in caught if issubclass(w.category, ImplausibleBoxWarning)]
    assert len(det_rows) == 4 and len(said) == 1
    assert "2 rows have a box coordinate or size beyond 100,000 px (row 2, 3)" in said[0]


def test_boxes_entirely_outside_the_image_are_warned_once(pets_clip, tmp_path, capsys):
    """A det file whose boxes lie outside the frame (another input's, another coordinate
    system) used to be tracked without a word."""
    det = tmp_path / "det.txt"
    det.write_text("".join(f"{k},-1,{900 + k},20,30,60,0.9\n1,-1,10,10,30,60,0.9\n"
                           for k in range(1, 6)))
    assert main(["track", str(pets_clip), "--detections", str(det), "--encoder", "none",
                 "--max-frames", "5", "--out-mot", str(tmp_path / "t.txt"),
                 "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert err.count("lie entirely outside the 768x576 image") == 1
    assert "frame 1: 1 of 2 boxes" in err


@pytest.mark.parametrize("edit, message", [
    (lambda s: s.update(counters=s["counters"] * np.array([1, 1, 0, 1]) - np.array([0, 0, 5, 0])),
     "impossible"),
    (lambda s: s.update(tracks_shape=s["tracks_shape"] * np.array([1, 1, 1, 0])
                        + np.array([0, 0, 0, 10**9])), "capacity above"),
    (lambda s: s.__setitem__("tracks_covs", s["tracks_covs"] * np.nan), "NaN"),
    (lambda s: s.update(counters=np.array([s["counters"][0], s["counters"][1], 1,
                                           s["counters"][3]])), "not below the next one"),
])
def test_a_tampered_tracker_state_is_refused(edit, message):
    """Values a tracker cannot have (next id -5, capacity 1e9, NaN covariances, ids at or
    above the next one) used to be accepted by from_state."""
    from cosmot.tracker import Tracker, TrackerConfig
    from cosmot.tracker.state import from_state, state_dict

    tr = Tracker(TrackerConfig(n_init=1))
    for k in range(5):
        tr.update(np.array([[10.0 + k, 20, 40 + k, 90], [200, 20, 230, 90]]), np.ones(2))
    state = state_dict(tr)
    from_state(dict(state))  # unedited: fine
    edit(state)
    with pytest.raises(ValueError, match=message):
        from_state(state, where="s.npz")


def test_a_checkpoint_whose_frame_was_moved_is_refused(tmp_path):
    from cosmot.pipeline.run_state import load_checkpoint, save_checkpoint
    from cosmot.tracker import Tracker, TrackerConfig

    tr = Tracker(TrackerConfig())
    for _ in range(7):
        tr.update(np.zeros((0, 4)))
    ckpt = tmp_path / "r.txt.ckpt.npz"
    save_checkpoint(ckpt, tr, 7, {"mot": 0}, {"a": 1})
    assert load_checkpoint(ckpt, {"a": 1})[1] == 7
    save_checkpoint(ckpt, tr, 12, {"mot": 0}, {"a": 1})
    with pytest.raises(ValueError, match="its frame 12 is not the frame its tracker state is at"):
        load_checkpoint(ckpt, {"a": 1})


def test_twenty_thousand_detections_are_refused_with_a_way_out():
    """20,000 boxes in a frame used to end in a raw MemoryError (a 6 GiB IoU matrix)."""
    from cosmot.tracker import Tracker
    from cosmot.tracker.frame_checks import MAX_DETECTIONS

    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 1000, (20_000, 2))
    boxes = np.c_[xy, xy + 20]
    with pytest.raises(ValueError, match="20000 rows: more than 10,000 detections.*min-score"):
        Tracker().update(boxes)
    assert len(Tracker().update(boxes[:MAX_DETECTIONS])) == 0  # at the limit: tracked


def test_a_second_ctrl_c_after_the_cleanup_prints_no_traceback():
    """Double Ctrl-C used to end in a KeyboardInterrupt traceback: once the interrupted
    command has cleaned up, a further SIGINT (while threads are joined at exit) is ignored."""
    import subprocess
    import sys

    code = """
import os, signal, sys, time
import cosmot.cli.track as track
from cosmot.cli.main import main

def interrupted(args):
    raise KeyboardInterrupt

track.run = interrupted
rc = main(["track", "x.mp4"])
os.kill(os.getpid(), signal.SIGINT)   # the second Ctrl-C, during shutdown
time.sleep(0.2)
sys.exit(rc)
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 130
    assert "interrupted (Ctrl-C)" in r.stderr and "Traceback" not in r.stderr


def test_a_video_that_could_not_be_written_in_full_is_named_and_its_frames_kept(tmp_path,
                                                                                monkeypatch):
    """OpenCV's writer fails silently when the disk fills during the .mp4 conversion: the
    partial AVI used to be deleted and a short .mp4 left. Now the stored count is checked."""
    from cosmot.writers.video import VideoFileWriter

    real = VideoFileWriter._open_direct

    class Dropping:  # a writer on a full disk: the first 3 frames fit, the rest is lost
        def __init__(self, inner):
            self.inner, self.n = inner, 0

        def write(self, frame):
            self.n += 1
            if self.n <= 3:
                self.inner.write(frame)

        def release(self):
            self.inner.release()

    monkeypatch.setattr(VideoFileWriter, "_open_direct", lambda self: Dropping(real(self)))
    w = VideoFileWriter(tmp_path / "v.mp4", 10.0)
    for k in range(8):
        w.write(np.full((48, 64, 3), 20 * k, np.uint8))
    with pytest.raises(OSError) as e:
        w.close()
    assert "holds 3 of 8 frames" in str(e.value) and e.value.filename.endswith("v.mp4")
    assert any(p.name.endswith(".partial.avi") for p in tmp_path.iterdir())  # frames kept


def test_user_models_are_checked_against_a_checksum_beside_them(tmp_path):
    """A user's .onnx with flipped bytes used to load silently: now PATH.sha256 beside it is
    checked (cosmot reid export writes one), and without one the warning says exactly that the
    bytes were not checked."""
    import shutil
    import warnings

    from cosmot.appearance import load_encoder
    from cosmot.appearance.integrity import UncheckedModelWarning, write_checksum_beside
    from cosmot.paths import data_dir

    osnet = data_dir() / "models" / "osnet_x0_25_msmt17.onnx"
    if not osnet.is_file():
        pytest.skip(f"{osnet}: reference model not available")
    model = tmp_path / "enc.onnx"
    shutil.copy(osnet, model)
    with pytest.warns(UncheckedModelWarning, match=r"enc.onnx: its bytes are not checked"):
        load_encoder(model)
    write_checksum_beside(model)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UncheckedModelWarning)
        load_encoder(model)  # checked, no warning
    data = bytearray(model.read_bytes())
    data[len(data) // 2: len(data) // 2 + 16] = bytes(16)
    model.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="enc.onnx: SHA-256 .* does not match"):
        load_encoder(model)


def test_the_shipped_checkpoint_carries_its_own_tensor_checksum():
    """appearance/weights/default.pt had no stored checksum (only its record's file SHA-256):
    re-saved with one, same tensors."""
    torch = pytest.importorskip("torch")
    from cosmot.appearance.checkpoint import tensors_sha256
    from cosmot.appearance.registry import named_record

    path = named_record("default").parent / "default.pt"
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    assert ckpt["tensors_sha256"] == tensors_sha256(ckpt["state_dict"])


# ------------------------------------------------------------ BAD 5: frames lost mid-video
def _numbered_avi(path, frames: int = 40):
    """A Motion-JPEG AVI of seeded noise (about 5 KB a frame, 64x48, 10 fps) whose frame k
    has a flat 16x16 corner of grey level 5 k: its number can be read back from the pixels."""
    import cv2

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 48))
    rng = np.random.default_rng(0)
    for k in range(1, frames + 1):
        image = rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)
        image[:16, :16] = 5 * k
        writer.write(image)
    writer.release()
    return path


def test_frames_lost_mid_video_keep_later_frames_at_their_numbers(tmp_path):
    """Garbage in the middle of an AVI makes the demuxer skip frames; OpenCV then numbered
    every later frame too low (PETS09-S2L1: 20 frames lost from 315, HOTA 48.6 -> 19.8) and
    called the file truncated. The container's index places each frame: later frames keep
    their true numbers and one warning names the lost frames and where they are."""
    pytest.importorskip("av", reason="PyAV (pip install 'cosmot[video]') reads the index")
    from cosmot.sources.frames import FramesLostWarning, VideoEndedEarlyWarning, iter_video

    full = _numbered_avi(tmp_path / "full.avi")
    data = bytearray(full.read_bytes())
    start = len(data) * 2 // 5
    data[start:start + 8000] = np.random.default_rng(1).integers(0, 256, 8000, np.uint8).tobytes()
    bad = tmp_path / "bad.avi"
    bad.write_bytes(bytes(data))
    with pytest.warns(FramesLostWarning) as caught:
        frames = list(iter_video(bad))
    assert not any(issubclass(w.category, VideoEndedEarlyWarning) for w in caught)
    numbers = [k for k, _ in frames]
    lost = sorted(set(range(1, 41)) - set(numbers))
    assert lost and len(frames) + len(lost) == 40 and numbers == sorted(numbers)
    for k, image in frames:  # each frame carries its own number in its pixels
        assert abs(int(np.median(image[2:14, 2:14])) - 5 * k) <= 3, (k, np.median(image))
    message = str(caught[0].message)
    assert "bad.avi" in message and f"{len(lost)} frames" in message
    assert f"{lost[0]}" in message and "byte" in message
    # an undamaged file: no warning, the same frames OpenCV decodes
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert [k for k, _ in iter_video(full)] == list(range(1, 41))
