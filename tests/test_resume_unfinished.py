"""Issue 20, BAD 1: --resume must not take a failed or interrupted run's outputs as finished.

A run that fails mid-way (a damaged image) or is interrupted without --checkpoint-every used to
leave its outputs without a checkpoint, and --resume then said "finished, skipped" and kept the
partial file. Now every run marks itself unfinished (a checkpoint at frame 0) until it ends:
--resume restarts such a run, and the result equals an uninterrupted run's byte for byte."""

from __future__ import annotations

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
