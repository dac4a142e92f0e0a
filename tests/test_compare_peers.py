"""tools/scripts/compare_peers.py on a few frames of the sample clip: every installed peer and
cosmot on the same boxes, one table (the peers are an optional extra: skipped with the reason
when missing)."""

from __future__ import annotations

import json

from compare_peers import main


def test_harness_runs_every_tracker_on_the_same_boxes(pets_clip, tmp_path, capsys):
    out = tmp_path / "r.json"
    assert main([str(pets_clip), "--det", "det", "--max-frames", "15", "--thresholds", "0.5",
                 "--reid", "v1=default", "--work", str(tmp_path), "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    names = {r["tracker"] for r in report["rows"]}
    assert {"cosmot", "cosmot motion only"} <= names
    try:
        import trackers  # noqa: F401
    except ModuleNotFoundError:
        assert any("pip install 'cosmot[peers]'" in s for s in report["skipped"])
    else:
        assert {"SORT", "ByteTrack", "OCSORT"} <= names
        settings = {r["boxes"] for r in report["rows"] if r["tracker"] == "ByteTrack"}
        assert settings == {"all", ">=0.5"}
    try:
        import boxmot  # noqa: F401
    except ModuleNotFoundError:
        assert any(s.startswith("boxmot (StrongSORT") for s in report["skipped"])
    else:  # fed the shipped encoder's embeddings (the "v1" label), at every cut
        assert {"StrongSORT + v1", "Deep OC-SORT + v1", "BoT-SORT + v1"} <= names
        settings = {r["boxes"] for r in report["rows"] if r["tracker"] == "StrongSORT + v1"}
        assert settings == {"all", ">=0.5"}
    for r in report["rows"]:  # scored, on 15 frames
        assert 0 <= r["scores"][pets_clip.name]["HOTA"] <= 100 and r["ms_per_frame"] > 0
    text = capsys.readouterr().out
    assert "| cosmot | all |" in text
