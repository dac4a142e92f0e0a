"""tools/scripts/encoder_contribution.py: the shipping rule's verdict and its protocol checks
(the runs themselves take minutes on the real sequences; appearance/README.md has them)."""

from __future__ import annotations

import pytest

from encoder_contribution import is_reference, label, main, print_table


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
