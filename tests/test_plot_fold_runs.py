"""tools/scripts/plot_fold_runs.py: judge JSONs and recorded figures onto one picture."""

from __future__ import annotations

import json

import pytest

from plot_fold_runs import family, main, read_judged


def judged(tmp_path, run, hota, idf1):
    path = tmp_path / f"{run}.json"
    path.write_text(json.dumps({"encoders": {
        "none": {"mean_HOTA": 49.1, "mean_IDF1": 66.9},
        f"{run}/last.pt": {"mean_HOTA": hota, "mean_IDF1": idf1}}}))
    return path


def test_read_judged_names_the_run_and_its_seed(tmp_path):
    points, motion = read_judged(judged(tmp_path, "foldB-rel1-s1", 52.63, 71.19))
    assert points == [("rel1 s1", 52.63, 71.19)]
    assert motion == (49.1, 66.9)
    assert family("rel1 s1") == family("rel1 s2") == "rel1"
    assert family("recipe") == "recipe"


def test_main_writes_the_picture_with_renamed_runs_and_points(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = tmp_path / "runs.png"
    assert main(["--out", str(out), "--json", str(judged(tmp_path, "foldB-kl", 50.8, 68.0)),
                 "--rename", "kl=kl alone", "--point", "recipe s0=52.0,70.1",
                 "--ref", "OSNet=53.27,72.46", "--bar", "52.38,69.59"]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "(2 runs)" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["--point", "52.0,70.1"], "LABEL=HOTA,IDF1"),
    (["--point", "x=52"], "HOTA,IDF1"),
    ([], "nothing to plot"),
])
def test_bad_input_says_what_was_expected(tmp_path, argv, message):
    with pytest.raises(SystemExit) as err:
        main(["--out", str(tmp_path / "x.png"), *argv])
    assert message in str(err.value)


def test_a_file_that_is_no_judge_result_is_named(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    with pytest.raises(SystemExit) as err:
        main(["--out", str(tmp_path / "x.png"), "--json", str(bad)])
    assert "bad.json" in str(err.value) and "encoder_fold.sh judge" in str(err.value)
