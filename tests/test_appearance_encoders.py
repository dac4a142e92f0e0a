"""Encoders: shapes, unit norms, edge boxes, checkpoints, ONNX export parity, external ONNX
models with a fixed batch of 1, the histogram baseline, and the shipped default weights."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from cosmot.appearance import HistogramEncoder, OnnxEncoder, TorchEncoder, load_encoder
from cosmot.appearance.checkpoint import load_checkpoint, save_checkpoint
from cosmot.runtime import sha256_file
from cosmot.appearance.export import export_onnx, verify_onnx
from cosmot.appearance.model import EmbeddingNet, NetConfig, count_macs, count_params
from cosmot.appearance.registry import DEFAULT_RECORD, WEIGHTS_DIR

DATA = Path(os.environ.get("COSMOT_DATA", Path(__file__).resolve().parents[1].parent
                           / "shared" / "data"))
OSNET = DATA / "models" / "osnet_x0_25_msmt17.onnx"
TINY = NetConfig(input_hw=(32, 16), widths=(4, 8, 8), dim=8)


def tiny_model(seed=0) -> EmbeddingNet:
    torch.manual_seed(seed)
    m = EmbeddingNet(TINY)
    # non-trivial BN statistics so that eval mode differs from identity
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, torch.nn.BatchNorm2d | torch.nn.BatchNorm1d):
                mod.running_mean.uniform_(-0.1, 0.1)
                mod.running_var.uniform_(0.5, 1.5)
                mod.weight.uniform_(0.5, 1.5)
    return m.eval()


def frame(seed=0, h=60, w=80) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


BOXES = np.array([[10.0, 5, 30, 55], [-20, -20, 15, 30], [70, 40, 200, 300],
                  [40, 40, 40, 40], [500, 500, 600, 700]])


def check_embeddings(e: np.ndarray, n: int, dim: int) -> None:
    assert e.shape == (n, dim) and e.dtype == np.float32
    assert np.allclose(np.linalg.norm(e, axis=1), 1.0, atol=1e-5)


def test_model_shapes_cost_and_unit_norm():
    m = EmbeddingNet().eval()
    y = m(torch.rand(3, 3, 128, 64) * 255)
    assert y.shape == (3, 128)
    assert torch.allclose(y.norm(dim=1), torch.ones(3), atol=1e-5)
    macs = count_macs(m, (128, 64))
    assert 2 * macs < 0.1e9  # well under 0.1 GFLOP (FLOPs = 2 x multiply-adds)
    assert count_params(m) < 1.5e6
    # count_macs by hand for one conv: 3x3, 3->4 channels, stride 2 on 32x16 -> 16x8 outputs
    conv = torch.nn.Conv2d(3, 4, 3, stride=2, padding=1)
    assert count_macs(torch.nn.Sequential(conv), (32, 16)) == 16 * 8 * 4 * 3 * 9
    with pytest.raises(ValueError, match="input_hw"):
        NetConfig(input_hw=(100, 50))
    with pytest.raises(ValueError, match="pool='max'"):
        NetConfig(pool="max")


def test_torch_encoder_boxes_edge_cases():
    enc = TorchEncoder(tiny_model(), batch_size=2)
    e = enc.embed(frame(), BOXES)
    check_embeddings(e, len(BOXES), 8)
    assert enc.embed(frame(), np.zeros((0, 4))).shape == (0, 8)
    assert enc.embed(frame(), []).shape == (0, 8)
    # batching does not change results
    e1 = TorchEncoder(tiny_model(), batch_size=64).embed(frame(), BOXES)
    assert np.allclose(e, e1, atol=1e-5)
    # a box partly outside equals the same box clipped by hand
    clipped = TorchEncoder(tiny_model()).embed(frame(), np.array([[0.0, 0, 15, 30]]))
    assert np.allclose(e[1], clipped[0], atol=1e-6)
    with pytest.raises(ValueError, match="boxes_xyxy"):
        enc.embed(frame(), np.zeros((3, 5)))
    with pytest.raises(ValueError, match="device='tpu'"):
        TorchEncoder(tiny_model(), device="tpu")


def test_checkpoint_roundtrip_and_sha(tmp_path):
    m = tiny_model(3)
    path = tmp_path / "m.pt"
    save_checkpoint(path, m, {"note": "x"})
    back, meta = load_checkpoint(path, sha256_file(path))
    assert meta == {"note": "x"}
    x = torch.rand(2, 3, 32, 16) * 255
    assert torch.equal(m(x), back(x))
    with pytest.raises(ValueError, match="SHA-256"):
        load_checkpoint(path, "0" * 64)
    torch.save({"something": 1}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not a cosmot embedding checkpoint"):
        load_checkpoint(tmp_path / "other.pt")
    enc = load_encoder(path)
    check_embeddings(enc.embed(frame(), BOXES), len(BOXES), 8)


def test_onnx_export_matches_torch_dynamic_batch(tmp_path):
    m = tiny_model(1)
    path = export_onnx(m, tmp_path / "m.onnx")
    crops = np.random.default_rng(0).integers(0, 256, (9, 32, 16, 3), dtype=np.uint8)
    check = verify_onnx(m, path, crops)
    assert check.n == 9 and check.min_cosine > 0.9999 and check.max_abs_diff < 1e-4
    enc = OnnxEncoder(path, batch_size=4)
    assert enc.fixed_batch is None and enc.input_hw == (32, 16) and enc.dim == 8
    e_onnx = enc.embed(frame(), BOXES)
    e_torch = TorchEncoder(m).embed(frame(), BOXES)
    assert np.allclose(e_onnx, e_torch, atol=1e-4)
    assert enc.embed(frame(), np.zeros((0, 4))).shape == (0, 8)


def test_onnx_fixed_batch_one_and_normalisation(tmp_path):
    """A torchreid-style model: fixed batch 1, ImageNet-normalised input."""
    m = tiny_model(2)

    class Wrapped(torch.nn.Module):  # takes ImageNet-normalised input like torchreid models
        def __init__(self):
            super().__init__()
            self.m = m
            self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
            self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))

        def forward(self, x):
            return self.m((x * self.std + self.mean) * 255.0)

    path = tmp_path / "fixed.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        torch.onnx.export(Wrapped().eval(), (torch.zeros(1, 3, 32, 16),), str(path),
                          dynamo=False, input_names=["x"], output_names=["y"])
    enc = OnnxEncoder(path)  # no cosmot metadata -> ImageNet mean/std
    assert enc.fixed_batch == 1 and enc.batch_size == 1
    e = enc.embed(frame(), BOXES)
    check_embeddings(e, len(BOXES), 8)
    assert np.allclose(e, TorchEncoder(m).embed(frame(), BOXES), atol=1e-4)
    # wrong normalisation gives different embeddings
    other = OnnxEncoder(path, mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0)).embed(frame(), BOXES)
    assert not np.allclose(other, e, atol=1e-3)
    with pytest.raises(ValueError, match="channel_order"):
        OnnxEncoder(path, channel_order="xyz")


def test_histogram_encoder():
    enc = HistogramEncoder()
    e = enc.embed(frame(), BOXES)
    check_embeddings(e, len(BOXES), enc.dim)
    assert enc.dim == 4 * (8 * 4 + 4)
    red = np.zeros((4, 128, 64, 3), np.uint8)
    red[..., 0] = 255
    blue = np.zeros((1, 128, 64, 3), np.uint8)
    blue[..., 2] = 255
    er, eb = enc.embed_crops(red), enc.embed_crops(blue)
    assert np.allclose(er[0] @ er[1], 1.0) and er[0] @ eb[0] < 0.6
    # each stripe holds h*w/stripes pixels in its hue-sat part and again in its value part
    assert enc.embed_crops(np.zeros((0, 128, 64, 3), np.uint8)).shape == (0, enc.dim)


def test_load_encoder_names(tmp_path):
    assert isinstance(load_encoder("histogram"), HistogramEncoder)
    with pytest.raises(ValueError, match=r"not a known name \(default, histogram"):
        load_encoder("resnet50")
    with pytest.raises(ValueError, match="runtime='bogus'"):
        load_encoder("default", runtime="bogus")
    with pytest.raises(FileNotFoundError):
        load_encoder(tmp_path / "none.pt")


def test_shipped_default_weights():
    record = json.loads(DEFAULT_RECORD.read_text())
    path = WEIGHTS_DIR / record["file"]
    assert path.stat().st_size < 5 * 1024 * 1024
    assert sha256_file(path) == record["sha256"]
    for key in ("command", "seed", "epochs", "data", "heldout"):
        assert key in record, key
    enc = load_encoder("default")
    assert enc.dim == 128
    e = enc.embed(frame(h=300, w=400), BOXES * 3)
    check_embeddings(e, len(BOXES), 128)
    # deterministic on the CPU
    assert np.array_equal(e, load_encoder("default").embed(frame(h=300, w=400), BOXES * 3))
    # on the CPU the default runs its checked ONNX export; torch's embeddings agree with it
    assert type(enc).__name__ == "OnnxEncoder"
    onnx = WEIGHTS_DIR / record["onnx"]["file"]
    assert sha256_file(onnx) == record["onnx"]["sha256"]
    e_torch = load_encoder("default", runtime="torch").embed(frame(h=300, w=400), BOXES * 3)
    assert np.min(np.sum(e * e_torch, axis=1)) > 0.999


@pytest.mark.skipif(not OSNET.is_file(), reason=f"{OSNET} absent (shared data not here)")
def test_osnet_external_model():
    enc = OnnxEncoder(OSNET)
    assert enc.fixed_batch == 1 and enc.input_hw == (256, 128) and enc.dim == 512
    e = enc.embed(frame(h=300, w=400), BOXES[:3] * 3)
    check_embeddings(e, 3, 512)


def test_shipped_record_paths_are_repository_relative():
    record = json.loads(DEFAULT_RECORD.read_text())
    paths = [record["data"]["crops"], record["heldout"]["protocol"]["crops"]]
    assert all(p and not Path(p).is_absolute() for p in paths), paths
