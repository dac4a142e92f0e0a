"""The tracker's state API: state_dict / from_state, .npz without pickle, pickle and deepcopy, and
``--resume`` from a checkpoint in a new process, byte-identical to an uninterrupted run."""

from __future__ import annotations

import copy
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from support.stops import StopAt

from cosmot.testing.synthetic_scene import walking_scene
from cosmot.tracker import Tracker, TrackerConfig
from cosmot.tracker.state import load_state, save_state

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def scene():
    return walking_scene(n_people=8, n_frames=60, seed=3, miss_rate=0.4,
                         false_positives=0.5)


def run(tracker, frames, appearance=True) -> list:
    out = []
    for f in frames:
        o = tracker.update(f.det_xyxy, f.det_scores, f.det_embeddings if appearance else None)
        out.append((o.track_id.tobytes(), o.xyxy.tobytes(), o.det_index.tobytes()))
    return out


@pytest.mark.parametrize("how", ["state_dict", "npz", "pickle", "deepcopy"])
@pytest.mark.parametrize("appearance", [True, False], ids=["appearance", "motion"])
def test_restored_tracker_continues_identically(how, appearance, scene, tmp_path):
    # short max_age: tracks die within the scene, so the lost-track galleries are in the state
    cfg = TrackerConfig(lost_gallery_seconds=10.0, fps=10.0, oc_reupdate=True, max_age=1)
    ref = Tracker(cfg)
    expected = run(ref, scene, appearance)
    a = Tracker(cfg)
    run(a, scene[:30], appearance)
    assert len(a.lost) > 0 if appearance else a.lost.gallery is None
    if how == "state_dict":
        b = Tracker.from_state(a.state_dict())
    elif how == "npz":
        save_state(a, tmp_path / "s.npz")
        b, extra = load_state(tmp_path / "s.npz")
        assert extra == {}
    elif how == "pickle":
        b = pickle.loads(pickle.dumps(a))
    else:
        b = copy.deepcopy(a)
    # the restored track arrays are views of their base arrays again, as in a fresh tracker
    assert np.shares_memory(b.tracks.mean, b.tracks._floats)
    assert run(b, scene[30:], appearance) == expected[30:]
    # and the original is untouched by the copy
    assert run(a, scene[30:], appearance) == expected[30:]


def test_restored_tracker_keeps_the_class_rule():
    """Tracks of a class never match class-less detections, before and after a save (the
    rule used to hang on an unsaved flag: a restored tracker matched them)."""
    box = np.array([[10.0, 10.0, 50.0, 100.0]])

    def run(restore: bool):
        t = Tracker(TrackerConfig(n_init=1))
        for _ in range(5):
            t.update(box, None, None, np.array([1]))
        if restore:
            t = pickle.loads(pickle.dumps(t))
        return [t.update(box).track_id.tolist() for _ in range(3)]

    assert run(True) == run(False)


def test_state_is_plain_arrays(scene, tmp_path):
    t = Tracker()
    run(t, scene[:30])
    state = t.state_dict()
    assert all(isinstance(v, np.ndarray) and v.dtype != object for v in state.values())
    np.savez(tmp_path / "plain.npz", **state)  # no pickle needed
    with np.load(tmp_path / "plain.npz", allow_pickle=False) as z:
        again = Tracker.from_state({k: z[k] for k in z.files})
    assert run(again, scene[30:]) == run(t, scene[30:])


@pytest.mark.parametrize("damage, message", [
    (lambda s: s.pop("counters"), "tracker state has no 'counters'"),
    (lambda s: s.update(format=np.array("other/9")), "format 'other/9'"),
    (lambda s: s.update(tracks_floats=s["tracks_floats"][:1]), "tracks_floats has shape"),
    (lambda s: s.update(config_json=np.array('{"n_init": 0}')), "n_init"),
])
def test_bad_state_names_the_key(damage, message, scene):
    t = Tracker()
    run(t, scene[:30])
    state = t.state_dict()
    damage(state)
    with pytest.raises(ValueError, match=message):
        Tracker.from_state(state)


def test_damaged_state_file_names_the_file(tmp_path):
    p = tmp_path / "s.npz"
    p.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ValueError, match="s.npz: not a readable tracker state"):
        load_state(p)


def _cosmot(args) -> subprocess.CompletedProcess:
    """``cosmot ARGS`` in a new process (the restore must not rely on anything in memory)."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-c", "import sys; from cosmot.cli import main; "
                           "sys.exit(main())", *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=900)


@pytest.mark.parametrize("encoder, stop, end", [("none", "SIGTERM", None), ("default", 12, 30)])
def test_resume_in_a_new_process_is_byte_identical(encoder, stop, end, pets_clip, tmp_path):
    """Stop at frame ``stop`` (``--max-frames``, or SIGTERM at some frame: the checkpoint is
    written at the last frame done), resume in a new process: the MOT and JSON files are byte
    for byte those of an uninterrupted run. With the encoder, camera-motion compensation is on
    (--cmc auto) and is primed from the checkpoint's frame."""
    from cosmot.cli.main import main

    common = ["track", str(pets_clip), "--detections", str(pets_clip / "det" / "det.txt"),
              "--encoder", encoder, "--no-progress"]
    limit = ["--max-frames", str(end)] if end else []
    whole = tmp_path / "whole"
    assert main(common + limit + ["--out-mot", f"{whole}.txt", "--out-json",
                                  f"{whole}.jsonl"]) == 0
    part = tmp_path / "part"
    outs = ["--out-mot", f"{part}.txt", "--out-json", f"{part}.jsonl", "--checkpoint-every", "5"]
    ckpt = Path(f"{part}.txt.ckpt.npz")
    if stop == "SIGTERM":
        import signal

        from test_faults import _start_track, _wait_for_rows

        proc = _start_track(common + outs)
        _wait_for_rows(Path(f"{part}.txt"), proc, 20)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 143, err.decode()
        stop = int(Path(f"{part}.txt").read_text().splitlines()[-1].split(",")[0])
        assert stop < 120
    else:
        first = _cosmot(common + outs + ["--max-frames", str(stop)])
        assert first.returncode == 0, first.stderr
    assert ckpt.is_file()
    second = _cosmot(common + outs + limit + ["--resume"])
    assert second.returncode == 0, second.stderr
    assert "resuming after frame " in second.stderr and str(ckpt) in second.stderr
    assert Path(f"{part}.txt").read_bytes() == Path(f"{whole}.txt").read_bytes()
    assert Path(f"{part}.jsonl").read_bytes() == Path(f"{whole}.jsonl").read_bytes()
    assert ckpt.exists() == bool(end)  # a run to the input's end removes its checkpoint


def test_resume_refuses_other_options_and_skips_finished(pets_clip, tmp_path, capsys):
    from cosmot.cli.main import main

    common = ["track", str(pets_clip), "--detections", str(pets_clip / "det" / "det.txt"),
              "--encoder", "none", "--no-progress", "--out-mot", str(tmp_path / "r.txt")]
    assert main(common + ["--max-frames", "20", "--checkpoint-every", "10"]) == 0
    assert main(common + ["--resume", "--min-score", "50"]) == 1
    err = capsys.readouterr().err
    assert "r.txt.ckpt.npz: written by a run with min_score = None, this run has 50.0" in err
    assert main(common + ["--resume"]) == 0  # continues, then removes the checkpoint
    assert not (tmp_path / "r.txt.ckpt.npz").exists()
    before = (tmp_path / "r.txt").read_bytes()
    assert main(common + ["--resume"]) == 0
    assert "exists and has no checkpoint: finished, skipped" in capsys.readouterr().err
    assert (tmp_path / "r.txt").read_bytes() == before


def test_mot_resume_after_a_stop(pets_clip, tmp_path):
    """``cosmot mot``: a run stopped after frame 50 (as by SIGTERM) leaves a checkpoint there;
    ``--resume`` finishes the file as an uninterrupted run writes it."""
    from cosmot.pipeline.sequence import track_sequence

    from cosmot.sources.motchallenge import Sequence

    seq = Sequence(pets_clip)
    cfg = TrackerConfig(fps=seq.info.fps)
    whole = tmp_path / "whole.txt"
    track_sequence(seq, "det", None, cfg, whole, progress=False)


    part = tmp_path / "part.txt"
    with pytest.raises(KeyboardInterrupt):
        track_sequence(seq, "det", None, cfg, part, progress=False, checkpoint_every=1000,
                           stop=StopAt(50), run={"x": 1})
    assert Path(f"{part}.ckpt.npz").is_file()
    track_sequence(seq, "det", None, cfg, part, progress=False, checkpoint_every=1000,
                       resume=True, run={"x": 1})
    assert part.read_bytes() == whole.read_bytes()
    assert not Path(f"{part}.ckpt.npz").exists()
