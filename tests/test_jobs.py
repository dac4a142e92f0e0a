"""The typed jobs of ``cosmot track`` and ``cosmot mot`` (cosmot.pipeline.job): the command
line is a shell over them, so the library call and the command write the same bytes, and a bad
setting fails when the job is made, before any work."""

from __future__ import annotations

import pytest

from cosmot.cli.main import main
from cosmot.pipeline.job import MotJob, TrackJob, mot_summary, run_mot_job, run_track_job


def test_mot_job_writes_what_cosmot_mot_writes(pets_clip, tmp_path, capsys):
    assert main(["mot", str(pets_clip), "--encoder", "none", "--out", str(tmp_path / "cli")]) == 0
    cli_line = capsys.readouterr().out.strip().splitlines()[-1]
    job = MotJob(sequence=str(pets_clip), out=str(tmp_path / "lib.txt"), encoder="none",
                 progress=False)
    st = run_mot_job(job)
    name = st["name"]
    assert (tmp_path / "lib.txt").read_bytes() == (tmp_path / "cli" / f"{name}.txt").read_bytes()
    assert st["frames"] > 0 and st["ids"] > 0 and not st["encoded"]
    # the summary line is the command's, up to the tracker's speed and the output path
    line = mot_summary(st, tmp_path / "lib.txt")
    assert line.split(" frames/s")[0].rsplit(" ", 1)[0] == \
        cli_line.split(" frames/s")[0].rsplit(" ", 1)[0]


def test_track_job_writes_what_cosmot_track_writes(pets_clip, tmp_path):
    det = str(pets_clip / "det" / "det.txt")
    assert main(["track", str(pets_clip), "--detections", det, "--encoder", "none",
                 "--out-mot", str(tmp_path / "cli.txt"), "--no-progress"]) == 0
    times = run_track_job(TrackJob(input=str(pets_clip), detections=det, encoder="none",
                                   out_mot=str(tmp_path / "lib.txt"), progress=False))
    assert times.finished and times.frames > 0
    assert (tmp_path / "lib.txt").read_bytes() == (tmp_path / "cli.txt").read_bytes()


@pytest.mark.parametrize("changes, message", [
    ({"checkpoint_every": -1}, "--checkpoint-every -1: must be >= 0"),
    ({"prefetch": -2}, "--prefetch -2: must be >= 0"),
    ({"resume": True, "smooth": True}, "--interpolate and --smooth rewrite them"),
])
def test_a_bad_mot_job_fails_when_made(changes, message):
    with pytest.raises(ValueError, match=message):
        MotJob(sequence="s", out="o.txt", **changes)


def test_a_bad_tracker_setting_fails_before_any_work(tmp_path):
    job = MotJob(sequence=str(tmp_path), out=str(tmp_path / "o.txt"),
                 overrides=(("max_age", "-3"),))
    with pytest.raises(ValueError, match="max_age"):
        job.config(30.0)
