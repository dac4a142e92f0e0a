"""tools/scripts/encoder_contribution.py: the shipping rule's verdict and its protocol checks
(the runs themselves take minutes on the real sequences; appearance/README.md has them)."""

from __future__ import annotations

import pytest

import json

from encoder_contribution import (argmax_gate, is_reference, label, main, plateau_gate,
                                  print_table, recorded_sweep)


def run(hota, idf1):
    return {"HOTA": hota, "IDF1": idf1, "IDSW": 3, "MOTA": 50.0, "encoder_s": 1.0,
            "load_avg_1min": 2.0}


def report(candidate):
    def enc(name, a, b, gate=None):
        e = {"encoder": name, "runs": {"A": run(*a), "B": run(*b)}}
        if gate is not None:
            e["gate"] = gate
        return e

    return {"dev": ["C", "D"], "judge": ["A", "B"], "gates": [0.1, 0.25], "encoders": {
        "none": enc("none", (40, 50), (40, 50)),
        "v1": enc("v1", (41, 52), (42, 53), 0.25),
        "osnet.onnx": enc("models/osnet_x0_25_msmt17.onnx", (45, 60), (46, 61), 0.1),
        "run/last.pt": enc("run/last.pt", *candidate, gate=0.1)}}


def test_rule_passes_a_candidate_above_v1_everywhere_and_level_with_osnet(capsys):
    rep = report(((46, 61), (45, 60)))
    print_table(rep)
    out = capsys.readouterr().out
    assert "| run/last.pt | 0.10 | 46.0 / 61.0 / 3 | 45.0 / 60.0 / 3 | 45.5 | 60.5 |" in out
    assert rep["encoders"]["run/last.pt"]["tracking_rule"] == {
        "above_v1_every_sequence": True, "at_least_osnet_mean": True}


def test_rule_fails_a_candidate_below_v1_on_one_sequence(capsys):
    rep = report(((50, 70), (41, 70)))  # B: HOTA 41 < v1's 42
    print_table(rep)
    rule = rep["encoders"]["run/last.pt"]["tracking_rule"]
    assert rule == {"above_v1_every_sequence": False, "at_least_osnet_mean": True}
    assert "on every judging sequence: NO" in capsys.readouterr().out


def test_dev_and_judge_must_differ(tmp_path):
    with pytest.raises(SystemExit, match="share"):
        main(["--dev", "A", "B", "--judge", "B", "--encoder", "none", "--work", str(tmp_path)])


def test_labels():
    assert label("runs/enc/foldA/last.pt") == "foldA/last.pt" and label("v1") == "v1"
    assert is_reference("none") and is_reference("x/osnet_x0_25_msmt17.onnx")
    assert not is_reference("runs/enc/foldA/last.pt")


GRID = [0.02, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5]


def test_plateau_gate_is_the_middle_of_the_gates_near_the_best():
    # the detection-crop run's dev sweep (appearance/README.md): argmax at the plateau's low end
    dets = dict(zip(GRID, [48.6, 51.6, 51.8, 53.38, 53.24, 53.34, 53.34, 52.4, 51.4]))
    assert argmax_gate(dets) == 0.15
    assert plateau_gate(dets, 0.5) == pytest.approx(0.225)  # plateau 0.15-0.3
    # a single sharp peak is its own plateau; delta 0 is the argmax
    peak = dict(zip(GRID, [40, 41, 42, 43, 50, 43, 42, 41, 40]))
    assert plateau_gate(peak, 0.5) == 0.2 and plateau_gate(dets, 0.0) == 0.15
    # the run is contiguous: a score near the best beyond a dip does not join it
    dip = dict(zip(GRID, [50, 49.9, 48, 49.8, 40, 40, 40, 40, 40]))
    assert plateau_gate(dip, 0.5) == pytest.approx(0.035)


def test_plateau_gate_at_the_grid_ends():
    flat = dict(zip(GRID, [50.0] * len(GRID)))
    assert plateau_gate(flat, 0.5) == pytest.approx(0.26)  # (0.02 + 0.5) / 2
    rising = dict(zip(GRID, range(len(GRID))))
    assert plateau_gate(rising, 0.5) == 0.5


def test_recorded_sweep_matches_the_encoder_file_and_the_grid(tmp_path):
    rep = tmp_path / "r.json"
    rep.write_text(json.dumps({"encoders": {"foldA/last.pt": {
        "encoder": "runs/enc/foldA/last.pt", "gate_scores": {"0.1": 50.0, "0.25": 52.0}}}}))
    assert recorded_sweep(rep, "runs/enc/foldA/last.pt", [0.1, 0.25]) == {0.1: 50.0, 0.25: 52.0}
    assert recorded_sweep(rep, "runs/enc/foldA/last.pt", [0.1, 0.2]) is None  # other grid
    assert recorded_sweep(rep, "other/foldA/last.pt", [0.1, 0.25]) is None  # same label only
    assert recorded_sweep(rep, "v1", [0.1, 0.25]) is None


def test_a_gate_off_the_grid_prints_three_decimals(capsys):
    rep = report(((46, 61), (45, 60)))
    rep["encoders"]["run/last.pt"]["gate"] = 0.225
    print_table(rep)
    assert "| run/last.pt | 0.225 |" in capsys.readouterr().out
