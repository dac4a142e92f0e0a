"""What a new user runs into first (issue 21's newcomer list): default outputs, misspelled
options, output paths refused before any work, clean errors for a missing camera, a detection
file that does not belong to the input."""

from __future__ import annotations

import pytest

from cosmot.cli.main import main


def test_no_output_option_writes_a_default_pair_in_the_current_folder(pets_clip, tmp_path,
                                                                      monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["track", str(pets_clip), "--detections", str(pets_clip / "det" / "det.txt"),
                 "--encoder", "none", "--max-frames", "5", "--no-progress"]) == 0
    err = capsys.readouterr().err
    video, mot = tmp_path / "PETS09-S2L1-clip.tracked.mp4", tmp_path / "PETS09-S2L1-clip.txt"
    assert video.stat().st_size > 0 and mot.read_text().count("\n") > 0
    assert "PETS09-S2L1-clip.tracked.mp4" in err and str(tmp_path) in err


@pytest.mark.parametrize("argv, wrong, right", [
    (["track", "x.mp4", "--trail", "3"], "--trail", "--trails"),
    (["mot", "SEQ", "--out", "o", "--interpolat", "3"], "--interpolat", "--interpolate"),
    (["reid", "train", "--epoch", "3"], "--epoch", "--epochs"),
])
def test_misspelled_option_names_the_command_and_the_closest_option(argv, wrong, right, capsys):
    """No abbreviations (``--trail`` is not silently ``--trails``); the error shows the
    subcommand's usage and suggests the option meant."""
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    command = " ".join(a for a in argv[:2] if a in ("track", "mot", "reid", "train"))
    assert f"usage: cosmot {command}" in err
    assert f"{wrong}: did you mean {right}?" in err


@pytest.mark.parametrize("extra, message", [
    (["--out-video", "OUT/x.webm"], "unsupported video extension '.webm'"),
    (["--out-mot", "OUT/sub/dir/"], "names a folder"),
    (["--out-video", "OUT/x.mp4", "--out-mot", "OUT/x.txt", "--checkpoint-every", "10"],
     "an annotated video cannot be continued"),
])
def test_output_problems_are_refused_before_any_work(extra, message, pets_clip, tmp_path,
                                                    capsys):
    args = [a.replace("OUT", str(tmp_path)) for a in extra]
    assert main(["track", str(pets_clip), "--encoder", "none", "--no-progress", *args]) == 1
    err = capsys.readouterr().err
    assert message in err and "frames in" not in err  # nothing was tracked
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_missing_camera_is_one_clean_line(tmp_path, capfd):
    assert main(["track", "9", "--out-mot", str(tmp_path / "c.txt")]) == 1
    err = capfd.readouterr().err
    assert "camera 9: cannot be opened" in err
    assert "WARN" not in err and "OpenCV(" not in err


def test_detections_that_end_early_are_warned(pets_clip, tmp_path, capsys):
    """A det.txt of another (shorter) sequence: its rows stop long before the input ends."""
    det = tmp_path / "short.txt"
    rows = [ln for ln in (pets_clip / "det" / "det.txt").read_text().splitlines()
            if int(float(ln.split(",")[0])) <= 20]
    det.write_text("\n".join(rows) + "\n")
    assert main(["track", str(pets_clip), "--detections", str(det), "--encoder", "none",
                 "--out-mot", str(tmp_path / "t.txt"), "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert "rows end at frame 20" in err and "is it the detection file of this input?" in err
