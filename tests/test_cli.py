"""The command line end to end on real data (motion only)."""

import pytest

from cosmot.cli.main import main
from cosmot.evaluation.mot_metrics import evaluate


def test_mot_then_eval(tmp_path, mot_dir, capsys):
    """The default path: the shipped encoder on decoded frames."""
    seqs = [str(mot_dir / "KITTI-17"), str(mot_dir / "TUD-Stadtmitte")]
    out = tmp_path / "res"
    assert main(["mot", *seqs, "--out", str(out), "--det", "det-frcnn", "--min-score", "0.5"]) == 0
    assert (out / "KITTI-17.txt").is_file() and (out / "TUD-Stadtmitte.txt").is_file()
    assert main(["eval", "--gt", *seqs, "--results", str(out), "--csv",
                 str(tmp_path / "s.csv")]) == 0
    printed = capsys.readouterr().out
    assert "COMBINED" in printed and "HOTA" in printed
    rows = evaluate(seqs, out).rows
    # a sane tracker on these detections (SORT-level or better): a regression guard
    assert rows["COMBINED"]["MOTA"] > 55 and rows["COMBINED"]["HOTA"] > 38
    assert (tmp_path / "s.csv").read_text().startswith("sequence,HOTA")


def test_mot_missing_detections_is_a_clear_error(tmp_path, mot_dir, capsys):
    rc = main(["mot", str(mot_dir / "MOT16-11"), "--out", str(tmp_path), "--det", "det-frcnn"])
    assert rc == 1
    assert "det-frcnn/det.txt" in capsys.readouterr().err


def test_set_overrides_are_validated(tmp_path, mot_dir, capsys):
    rc = main(["mot", str(mot_dir / "KITTI-17"), "--out", str(tmp_path), "--encoder", "none",
               "--set", "max_age=-1"])
    assert rc == 1 and "max_age" in capsys.readouterr().err
    rc = main(["mot", str(mot_dir / "KITTI-17"), "--out", str(tmp_path), "--encoder", "none",
               "--set", "nope=1"])
    assert rc == 1 and "--set 'nope' is not a field of TrackerConfig" in capsys.readouterr().err
    for item, why in (("max_age=x", "TrackerConfig.max_age=x: expected a whole number"),
                      ("nsa_kalman=maybe", "expected true or false"),
                      ("max_cosine_distance=.2.", "expected a number")):
        rc = main(["mot", str(mot_dir / "KITTI-17"), "--out", str(tmp_path), "--encoder",
                   "none", "--set", item])
        err = capsys.readouterr().err
        assert rc == 1 and f"--set {item}: " in err and why in err


def test_help_lists_subcommands(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for cmd in ("track", "mot", "eval", "tune", "reid"):
        assert cmd in out


def test_mot_with_cmc_and_offline_postprocessing(tmp_path, mot_dir):
    from cosmot.sources.motchallenge import read_detections

    seq = str(mot_dir / "TUD-Stadtmitte")
    common = [seq, "--det", "det-frcnn", "--min-score", "0.5", "--encoder", "none"]
    assert main(["mot", *common, "--out", str(tmp_path / "on")]) == 0
    assert main(["mot", *common, "--out", str(tmp_path / "off"), "--cmc", "sparse",
                 "--interpolate", "5", "--smooth"]) == 0
    on = read_detections(tmp_path / "on" / "TUD-Stadtmitte.txt")
    off = read_detections(tmp_path / "off" / "TUD-Stadtmitte.txt")
    assert len(off) > len(on)  # gaps were filled
    assert not (tmp_path / "off" / "TUD-Stadtmitte.txt.tmp").exists()
    rows = evaluate([seq], tmp_path / "off").rows["TUD-Stadtmitte"]
    assert rows["MOTA"] > 60


def test_tune_ranks_and_ablate_lists_features(tmp_path, mot_dir, capsys):
    seq = str(mot_dir / "TUD-Stadtmitte")
    csv = tmp_path / "tune.csv"
    assert main(["tune", seq, "--det", "det-frcnn", "--min-score", "0.5", "--encoder", "none",
                 "--grid", "n_init=2,3", "--csv", str(csv)]) == 0
    out = capsys.readouterr().out
    lines = out.strip().splitlines()
    assert lines[0].startswith("ranked by HOTA") and len(lines) == 3
    hota = [float(l.split()[1]) for l in lines[1:]]
    assert hota == sorted(hota, reverse=True)
    assert csv.read_text().count("\n") == 3
    assert main(["ablate", seq, "--det", "det-frcnn", "--min-score", "0.5", "--encoder",
                 "none"]) == 0
    out = capsys.readouterr().out
    for row in ("Deep SORT (plain)", "+ NSA Kalman", "+ camera-motion compensation",
                "+ RTS smoothing (offline)", "default", "default - lost-track gallery",
                "default + camera-motion compensation"):
        assert row in out
    with pytest.raises(ValueError, match="not a TrackerConfig field"):
        main_raise(["tune", seq, "--grid", "bogus=1,2"])


def main_raise(argv):
    """Run a subcommand without main()'s error handling, to see the exception."""
    from cosmot.cli.main import build_parser

    args = build_parser().parse_args(argv)
    return args.func(args)


def test_calibrate_writes_plot_and_suggests_threshold(tmp_path, mot_dir, capsys):
    png = tmp_path / "cal.png"
    assert main(["calibrate", str(mot_dir / "KITTI-17"), "--det", "det-frcnn", "--min-score",
                 "0.5", "--encoder", "histogram", "--out", str(png)]) == 0
    out = capsys.readouterr().out
    assert "suggested max_cosine_distance" in out and "same-identity pairs" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_calibration_helpers_by_hand():
    import numpy as np

    from cosmot.pipeline.calibration import pair_distances, suggest_threshold

    # frame 1: people 1, 2 side by side; frame 2: the same two. Embeddings: e1, e2 orthogonal.
    frames = np.array([1, 1, 2, 2])
    xyxy = np.array([[0, 0, 10, 20], [12, 0, 22, 20], [1, 0, 11, 20], [13, 0, 23, 20.0]])
    labels = np.array([1, 2, 1, 2])
    emb = np.array([[1, 0], [0, 1], [1, 0], [0, 1.0]])
    same, diff = pair_distances(frames, xyxy, labels, emb, window=5, near=2.0,
                                rng=np.random.default_rng(0), max_pairs=100)
    np.testing.assert_allclose(np.sort(same), [0, 0])
    np.testing.assert_allclose(np.sort(diff), [1, 1])
    best, table = suggest_threshold(same, diff)
    assert best < 1.0 and table[0, 1] == 1.0 and table[0, 2] == 0.0


def test_cmc_auto_follows_the_encoder():
    from cosmot.pipeline.camera_motion import resolve_cmc

    assert resolve_cmc("auto", object()) == "sparse"
    assert resolve_cmc("auto", None) == "none"
    assert resolve_cmc("ecc", None) == "ecc" and resolve_cmc("none", object()) == "none"


def test_mot_no_progress_prints_no_bar(tmp_path, pets_clip, capsys):
    args = ["mot", str(pets_clip), "--encoder", "none", "--out", str(tmp_path / "o")]
    assert main(args + ["--no-progress"]) == 0
    err = capsys.readouterr().err
    assert "frame/s" not in err and "%|" not in err
    assert (tmp_path / "o" / "PETS09-S2L1-clip.txt").stat().st_size > 0
