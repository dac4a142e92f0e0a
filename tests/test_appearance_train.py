"""A few training steps: determinism for a seed, logs, validation, the learning-rate schedule."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from cosmot.appearance.augment import AugmentConfig, augment
from cosmot.appearance.crops import CropSet
from cosmot.appearance.criterion import LossConfig
from cosmot.appearance.model import NetConfig
from cosmot.appearance.train import TrainConfig, lr_factor, train

NET = NetConfig(input_hw=(32, 16), widths=(4, 8, 8), dim=8)


def toy_set(n_ids=6, per_id=4, seed=0) -> CropSet:
    """Each identity a distinct flat colour plus noise."""
    rng = np.random.default_rng(seed)
    colours = rng.integers(0, 256, (n_ids, 3))
    imgs = np.clip(np.repeat(colours, per_id, axis=0)[:, None, None, :]
                   + rng.normal(0, 8, (n_ids * per_id, 32, 16, 3)), 0, 255).astype(np.uint8)
    n = n_ids * per_id
    return CropSet(imgs, np.repeat(np.arange(n_ids), per_id), np.tile([1, 2], n // 2),
                   np.zeros(n, np.int64), np.full(n, -1), ("toy",), (0.0,))


def test_lr_schedule():
    assert lr_factor(0, 100, 10, 0.01) == pytest.approx(0.1)  # warm-up 1/10
    assert lr_factor(9, 100, 10, 0.01) == pytest.approx(1.0)
    assert lr_factor(10, 100, 10, 0.01) == pytest.approx(1.0)  # cosine starts at the peak
    assert lr_factor(55, 100, 10, 0.01) == pytest.approx(0.01 + 0.99 * 0.5)  # half way
    assert lr_factor(100, 100, 10, 0.01) == pytest.approx(0.01)


@pytest.mark.parametrize("loss", ["cosine_softmax", "triplet"])
def test_training_is_deterministic_and_logs(tmp_path, loss):
    crops = toy_set()
    cfg = TrainConfig(net=NET, loss=LossConfig(name=loss), epochs=3, p=3, k=4,
                      warmup_epochs=1, eval_every=1)
    a = train(crops, cfg, tmp_path / "a", val=toy_set(seed=1), progress=False, log=lambda s: None)
    b = train(crops, cfg, None, val=None, progress=False, log=lambda s: None)
    sa, sb = a.model.state_dict(), b.model.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)  # same seed -> same weights
    c = train(crops, TrainConfig(net=NET, loss=LossConfig(name=loss), epochs=3, p=3, k=4,
                                 seed=1), None, progress=False, log=lambda s: None)
    assert not torch.equal(sa["fc.weight"], c.model.state_dict()["fc.weight"])
    log = json.loads((tmp_path / "a" / "log.json").read_text())
    assert [r["epoch"] for r in log["history"]] == [1, 2, 3]
    assert all(0.0 <= r["val_mAP"] <= 1.0 for r in log["history"])
    assert log["config"]["loss"]["name"] == loss
    assert (tmp_path / "a" / "best.pt").is_file() and (tmp_path / "a" / "curve.png").is_file()


def test_precision_and_device_errors():
    with pytest.raises(ValueError, match="precision"):
        TrainConfig(precision="fp16")
    with pytest.raises(ValueError, match="device='cuda'"):
        train(toy_set(), TrainConfig(net=NET, epochs=1, precision="bf16"), None,
              progress=False)
    with pytest.raises(ValueError, match="allowed 'cpu'"):
        train(toy_set(), TrainConfig(net=NET, epochs=1), None, progress=False, device="tpu")


CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@CUDA
def test_augment_on_gpu_matches_cpu():
    """Same generator state -> the same augmented batch on the GPU as on the CPU."""
    x = torch.from_numpy(toy_set().images).permute(0, 3, 1, 2).float()
    cfg = AugmentConfig(lowres_p=0.5, grey_p=0.3)
    cpu = augment(x, cfg, torch.Generator().manual_seed(3))
    gpu = augment(x.cuda(), cfg, torch.Generator().manual_seed(3))
    assert gpu.device.type == "cuda"
    assert torch.allclose(cpu, gpu.cpu(), atol=1e-2)
    # with the erasing noise drawn on the GPU: same geometry and colour, other noise pixels
    noisy = augment(x.cuda(), cfg, torch.Generator().manual_seed(3),
                    torch.Generator(device="cuda").manual_seed(0)).cpu()
    same = (noisy - cpu).abs().amax(dim=1) < 1e-2
    assert same.float().mean() > 0.5 and not same.all()


@CUDA
@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_training_on_gpu(tmp_path, precision):
    cfg = TrainConfig(net=NET, epochs=2, p=3, k=4, warmup_epochs=1, eval_every=1,
                      precision=precision)
    res = train(toy_set(), cfg, tmp_path, val=toy_set(seed=1), progress=False,
                log=lambda s: None, device="cuda")
    assert next(res.model.parameters()).device.type == "cuda"
    assert all(np.isfinite(r["loss"]) and r["crops_per_s"] > 0 for r in res.history)
    assert (tmp_path / "last.pt").is_file()


def test_crops_of_another_size_are_resized_to_the_network_input():
    logged = []
    res = train(toy_set(), TrainConfig(epochs=1, p=3, k=4, warmup_epochs=0), None,
                progress=False, log=logged.append)
    assert res.model.config.input_hw == (128, 64)
    assert any("resized from 32x16" in line for line in logged)


def test_training_input_errors():
    with pytest.raises(ValueError, match="K=1"):
        TrainConfig(loss=LossConfig(name="triplet"), k=1)
    one = toy_set(n_ids=1)
    with pytest.raises(ValueError, match="at least 2 identities"):
        train(one, TrainConfig(net=NET, epochs=1), None, progress=False)
