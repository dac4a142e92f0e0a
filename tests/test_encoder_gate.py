"""The tracker's cosine gate travels with the encoder (issue 18, lever 5): read from the weights'
record, the checkpoint or the ONNX metadata; used unless the user sets one; a warning naming
``cosmot calibrate`` for an encoder without one; ``cosmot calibrate --write`` records it."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from cosmot.appearance import load_encoder
from cosmot.appearance.checkpoint import save_checkpoint
from cosmot.appearance.model import EmbeddingNet, NetConfig
from cosmot.pipeline.gate import UncalibratedEncoderWarning, with_encoder_gate
from cosmot.tracker import DEFAULT_MAX_COSINE_DISTANCE, Tracker, TrackerConfig

from test_appearance_cli import write_sequence


def tiny_checkpoint(path, gate=None):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    net = EmbeddingNet(NetConfig(input_hw=(32, 16), widths=(4, 8, 8), dim=8))
    save_checkpoint(path, net, {} if gate is None else {"max_cosine_distance": gate})
    return net


def test_config_leaves_the_gate_to_the_encoder_and_a_set_value_stays():
    assert TrackerConfig().max_cosine_distance is None
    assert Tracker().config.max_cosine_distance == DEFAULT_MAX_COSINE_DISTANCE == 0.25
    assert TrackerConfig().with_gate(0.1).max_cosine_distance == 0.1
    assert TrackerConfig(max_cosine_distance=0.3).with_gate(0.1).max_cosine_distance == 0.3
    with pytest.raises(ValueError, match="max_cosine_distance"):
        TrackerConfig(max_cosine_distance=2.5)


def test_shipped_encoder_carries_its_gate():
    assert load_encoder("default").max_cosine_distance == 0.3  # appearance/README.md
    assert load_encoder("v1").max_cosine_distance == 0.3


def test_checkpoint_and_onnx_gate_and_the_tracker_uses_it(tmp_path):
    pytest.importorskip("onnx")
    from cosmot.appearance.export import export_onnx, set_onnx_gate

    net = tiny_checkpoint(tmp_path / "m.pt", gate=0.12)
    enc = load_encoder(tmp_path / "m.pt")
    assert enc.max_cosine_distance == 0.12
    assert with_encoder_gate(TrackerConfig(), enc).max_cosine_distance == 0.12
    assert with_encoder_gate(TrackerConfig(max_cosine_distance=0.4), enc
                             ).max_cosine_distance == 0.4
    onnx_path = export_onnx(net, tmp_path / "m.onnx", max_cosine_distance=0.12)
    assert load_encoder(onnx_path).max_cosine_distance == 0.12
    set_onnx_gate(onnx_path, 0.3)
    assert load_encoder(onnx_path).max_cosine_distance == 0.3
    crops = np.random.default_rng(0).integers(0, 256, (3, 32, 16, 3), dtype=np.uint8)
    assert np.allclose(load_encoder(onnx_path).embed_crops(crops),
                       load_encoder(tmp_path / "m.pt").embed_crops(crops), atol=1e-5)


def test_encoder_without_gate_warns_naming_calibrate(tmp_path):
    tiny_checkpoint(tmp_path / "bare.pt")
    enc = load_encoder(tmp_path / "bare.pt")
    assert enc.max_cosine_distance is None
    with pytest.warns(UncalibratedEncoderWarning, match="cosmot calibrate"):
        cfg = with_encoder_gate(TrackerConfig(), enc)
    assert cfg.max_cosine_distance == DEFAULT_MAX_COSINE_DISTANCE
    with warnings.catch_warnings():  # a set gate or motion only: nothing to warn about
        warnings.simplefilter("error")
        with_encoder_gate(TrackerConfig(max_cosine_distance=0.2), enc)
        assert with_encoder_gate(TrackerConfig(), None).max_cosine_distance == 0.25


def test_bad_gate_in_a_file_is_an_error_naming_it(tmp_path):
    tiny_checkpoint(tmp_path / "bad.pt", gate=5.0)
    with pytest.raises(ValueError, match=r"bad\.pt.*outside \(0, 2\]"):
        load_encoder(tmp_path / "bad.pt")


def test_calibrate_write_records_the_gate_and_mot_uses_it(tmp_path, capsys):
    """cosmot calibrate --write puts its suggestion into the checkpoint; cosmot mot then runs at
    that gate: byte for byte what the same weights give with --set max_cosine_distance=it."""
    from cosmot.cli.main import main

    seq = write_sequence(tmp_path, "SYN-G", n_frames=20)
    tiny_checkpoint(tmp_path / "g.pt")
    assert main(["calibrate", str(seq), "--encoder", str(tmp_path / "g.pt"), "--out",
                 str(tmp_path / "cal.png"), "--write"]) == 0
    out = capsys.readouterr().out
    suggested = float(out.split("suggested max_cosine_distance: ")[1].split()[0])
    gate = load_encoder(tmp_path / "g.pt").max_cosine_distance
    assert gate == pytest.approx(suggested)
    tiny_checkpoint(tmp_path / "plain.pt")  # the same weights (same seed), no gate
    common = [str(seq), "--encoder"]
    assert main(["mot", *common, str(tmp_path / "g.pt"), "--out", str(tmp_path / "a")]) == 0
    with warnings.catch_warnings():
        warnings.simplefilter("error", UncalibratedEncoderWarning)  # a set gate: no warning
        assert main(["mot", *common, str(tmp_path / "plain.pt"), "--out", str(tmp_path / "b"),
                     "--set", f"max_cosine_distance={gate}"]) == 0
    a = (tmp_path / "a" / "SYN-G.txt").read_bytes()
    assert a and a == (tmp_path / "b" / "SYN-G.txt").read_bytes()


def test_calibrate_write_refuses_shipped_weights(tmp_path):
    from cosmot.appearance.registry import record_gate

    with pytest.raises(ValueError, match="read-only.*cosmot reid ship"):
        record_gate("default", 0.2)
    with pytest.raises(ValueError, match="not a .pt or .onnx"):
        record_gate(str(tmp_path / "nothing"), 0.2)
    record = json.loads((__import__("cosmot.appearance.registry", fromlist=["x"]).WEIGHTS_DIR
                         / "default.json").read_text())
    assert record["max_cosine_distance"] == 0.3
