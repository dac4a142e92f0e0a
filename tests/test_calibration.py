"""The appearance gate's calibration (cosmot.pipeline.calibration, ``cosmot calibrate``): the
HOTA rule the project ships encoders by, checked against the tracker replay it is made of."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from cosmot.appearance.registry import encoder_from_name, encoder_identity
from cosmot.cli.main import main
from cosmot.pipeline.calibration import best_gate, sweep_gates
from cosmot.pipeline.prepared import prepare, score_config
from cosmot.tracker import TrackerConfig

WEIGHTS = Path(__file__).resolve().parents[1] / "appearance" / "weights"


def test_sweep_is_the_mean_hota_of_each_gate(pets_clip, tmp_path):
    enc = encoder_from_name("histogram")
    prepared = [prepare(pets_clip, "det", None, enc, encoder_identity("histogram"), "none",
                        tmp_path / "cache", progress=False)]
    seen = []
    scores = sweep_gates(prepared, [0.05, 0.3], progress=lambda g, v: seen.append(g))
    assert seen == [0.05, 0.3]
    for g in (0.05, 0.3):  # each value is the tracker replay at that gate, scored alone
        direct = score_config(prepared, TrackerConfig(max_cosine_distance=g))
        assert scores[g] == pytest.approx(direct.rows["PETS09-S2L1-clip"]["HOTA"])
    assert best_gate(scores) == max(scores, key=scores.get)


def test_best_gate_breaks_ties_towards_the_old_default():
    assert best_gate({0.1: 50.0, 0.3: 50.0, 0.5: 49.0}) == 0.3
    assert best_gate({0.1: 51.0, 0.3: 50.0}) == 0.1


def test_calibrate_by_hota_writes_the_best_gate_into_an_onnx_encoder(pets_clip, tmp_path,
                                                                      capsys):
    onnx = tmp_path / "mine.onnx"
    shutil.copy(WEIGHTS / "default.onnx", onnx)
    args = ["calibrate", str(pets_clip), "--encoder", str(onnx), "--gates", "0.05,0.3",
            "--cmc", "none", "--out", str(tmp_path / "cal.png"), "--write"]
    assert main(args) == 0
    out = capsys.readouterr().out
    sweep = {float(line.split()[0]): float(line.split()[-1]) for line in out.splitlines()
             if "mean HOTA" in line and not line.startswith("tracking")}
    assert sorted(sweep) == [0.05, 0.3]
    chosen = best_gate(sweep)
    assert f"suggested max_cosine_distance: {chosen:.3g} (by hota" in out
    assert encoder_from_name(str(onnx)).max_cosine_distance == pytest.approx(chosen)
    assert (tmp_path / "cal.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("gates, why", [("0.1,x", "numbers separated by commas"),
                                        ("0,0.2", "0 is not"), ("", "in \\(0, 2\\]")])
def test_bad_gates_name_the_option(pets_clip, tmp_path, capsys, gates, why):
    assert main(["calibrate", str(pets_clip), "--encoder", "histogram", "--gates", gates,
                 "--out", str(tmp_path / "c.png")]) != 0
    assert re.search(f"cosmot calibrate: error: --gates .*{why}", capsys.readouterr().err)
