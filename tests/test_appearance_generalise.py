"""Domain-generalisation parts: IBN, MixStyle, GeM, the networks built with them (checkpoints,
ONNX export, old configs), greyscale augmentation and leave-one-source-out validation."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from cosmot.appearance.augment import AugmentConfig, augment, random_grey
from cosmot.appearance.checkpoint import load_checkpoint, save_checkpoint
from cosmot.appearance.crops import CropSet
from cosmot.appearance.export import export_onnx, verify_onnx
from cosmot.appearance.generalise import IBN, GeM, MixStyle
from cosmot.appearance.model import EmbeddingNet, NetConfig, count_params
from cosmot.appearance.reid_eval import evaluate_embeddings

SMALL = dict(input_hw=(32, 16), widths=(4, 8, 8), dim=8)


def styled(b=4, c=6, h=5, w=3, seed=0) -> torch.Tensor:
    """Samples with very different per-channel means and scales."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(b, c, h, w, generator=g)
    scale = torch.rand(b, c, 1, 1, generator=g) * 4 + 0.5
    shift = torch.randn(b, c, 1, 1, generator=g) * 5
    return x * scale + shift


def stats(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return x.mean(dim=(2, 3)), (x.var(dim=(2, 3)) + 1e-6).sqrt()


# ----------------------------------------------------------------------------- IBN
def test_ibn_splits_channels_instance_and_batch_norm():
    ibn = IBN(6, ratio=0.5).train()
    assert ibn.n_in == 3 and ibn.batch.num_features == 3
    x = styled()
    y = ibn(x)
    assert y.shape == x.shape
    mu, sd = y[:, :3].mean(dim=(2, 3)), y[:, :3].var(dim=(2, 3), unbiased=False).sqrt()
    # instance part: every sample, every channel normalised on its own
    assert torch.allclose(mu, torch.zeros_like(mu), atol=1e-5)
    assert torch.allclose(sd, torch.ones_like(sd), atol=1e-3)
    # batch part: what BatchNorm2d gives on those channels alone
    bn = torch.nn.BatchNorm2d(3).train()
    assert torch.allclose(y[:, 3:], bn(x[:, 3:]), atol=1e-5)
    # a sample's instance channels do not depend on the rest of the batch
    assert torch.allclose(ibn(x[:1])[:, :3], y[:1, :3], atol=1e-5)
    assert IBN(3, 0.1).n_in == 1 and IBN(3, 0.9).n_in == 2  # both parts keep a channel
    with pytest.raises(ValueError, match="ratio"):
        IBN(8, ratio=1.0)
    with pytest.raises(ValueError, match="channels"):
        IBN(1)


def test_ibn_stages_build_and_keep_shapes():
    m = EmbeddingNet(NetConfig(ibn_stages=2)).eval()
    kinds = [isinstance(stage[0].conv1[1], IBN) for stage in m.stages]
    assert kinds == [True, True, False]
    assert sum(isinstance(x, IBN) for x in m.modules()) == 2
    assert m.stages[0][0].conv1[1].n_in == 16 and m.stages[1][0].conv1[1].n_in == 32
    y = m(torch.rand(2, 3, 128, 64) * 255)
    assert y.shape == (2, 128)
    # same parameter count as plain BN (IN and BN both have one weight and bias per channel)
    assert count_params(m) == count_params(EmbeddingNet(NetConfig()))


# ----------------------------------------------------------------------------- MixStyle
def test_mixstyle_is_identity_in_eval_mode_and_at_p0():
    x = styled()
    ms = MixStyle(p=1.0, alpha=0.1).eval()
    assert torch.equal(ms(x), x)
    assert torch.equal(MixStyle(p=0.0).train()(x), x)


def test_mixstyle_mixes_statistics_and_keeps_content():
    """With p = 1 each sample gets lam * own + (1 - lam) * partner's mean and std, one lam for
    both; its normalised content is unchanged."""
    x = styled(b=2, c=6)
    mu, sd = stats(x)
    ms = MixStyle(p=1.0, alpha=0.5).train()
    mixed_any = False
    for seed in range(20):
        torch.manual_seed(seed)
        y = ms(x)
        mu_y, sd_y = stats(y)
        # content: (y - mu_y) / sd_y equals (x - mu) / sd
        assert torch.allclose((y - mu_y[..., None, None]) / sd_y[..., None, None],
                              (x - mu[..., None, None]) / sd[..., None, None], atol=1e-3)
        for i in range(2):
            j = 1 - i
            if torch.allclose(mu_y[i], mu[i], atol=1e-4):  # partner was itself
                continue
            t_mu = (mu_y[i] - mu[j]) / (mu[i] - mu[j])
            t_sd = (sd_y[i] - sd[j]) / (sd[i] - sd[j])
            lam = t_mu.mean()
            assert 0.0 <= lam <= 1.0
            assert torch.allclose(t_mu, lam.expand_as(t_mu), atol=1e-3)  # one lam per sample
            assert torch.allclose(t_sd, lam.expand_as(t_sd), atol=1e-3)  # same for the std
            mixed_any = True
    assert mixed_any


def test_mixstyle_probability_and_statistics_carry_no_gradient():
    x = styled(b=8).requires_grad_(True)
    ms = MixStyle(p=0.5).train()
    torch.manual_seed(0)
    changed = sum(not torch.equal(ms(x.detach()), x.detach()) for _ in range(200))
    assert 60 < changed < 140  # about half of the batches
    # statistics are constants: the gradient of sum(y) is sig_mix / sig per element
    torch.manual_seed(1)
    ms1 = MixStyle(p=1.0).train()
    y = ms1(x)
    y.sum().backward()
    mu_y, sd_y = stats(y.detach())
    _, sd = stats(x.detach())
    assert torch.allclose(x.grad, (sd_y / sd)[..., None, None].expand_as(x), atol=1e-3)
    with pytest.raises(ValueError, match="alpha"):
        MixStyle(alpha=0)
    with pytest.raises(ValueError, match="p="):
        MixStyle(p=1.5)


def test_mixstyle_network_equals_plain_network_at_inference():
    torch.manual_seed(0)
    a = EmbeddingNet(NetConfig(**SMALL, mixstyle_p=1.0, mixstyle_stages=3))
    b = EmbeddingNet(NetConfig(**SMALL))
    assert a.state_dict().keys() == b.state_dict().keys()  # parameter-free, same keys
    b.load_state_dict(a.state_dict())
    x = torch.rand(4, 3, 32, 16) * 255
    a.eval(), b.eval()
    assert torch.equal(a(x), b(x))
    a.train(), b.train()
    torch.manual_seed(3)
    ya = a.features(x)
    torch.manual_seed(3)
    yb = b.features(x)
    assert not torch.allclose(ya, yb)  # in training it does change the features


# ----------------------------------------------------------------------------- GeM
def test_gem_average_at_p1_and_towards_max():
    x = torch.rand(3, 5, 4, 2) + 0.01
    gem = GeM(p=1.0)
    assert torch.allclose(gem(x), x.mean(dim=(2, 3)), atol=1e-6)
    mx = x.amax(dim=(2, 3))
    errs = [(GeM(p=p)(x) - mx).abs().max().item() for p in (3.0, 10.0, 100.0)]
    assert errs[0] > errs[1] > errs[2] and errs[2] < 0.05 * mx.max().item()
    assert (GeM(p=3.0)(x) <= mx + 1e-6).all() and (GeM(p=3.0)(x) >= x.mean(dim=(2, 3))).all()
    out = GeM(p=3.0)
    out(x).sum().backward()
    assert out.p.grad is not None and out.p.grad.abs().item() > 0  # p is learned
    with pytest.raises(ValueError, match="p="):
        GeM(p=0.5)


def test_gem_network_parameters():
    m = EmbeddingNet(NetConfig(pool="gem")).eval()
    assert m.gem.p.item() == pytest.approx(3.0)
    # 128 -> 128 embedding layer instead of 4096 -> 128, plus the exponent
    assert count_params(m) == count_params(EmbeddingNet(NetConfig(pool="avg"))) + 1
    assert m(torch.rand(2, 3, 128, 64) * 255).shape == (2, 128)


# ----------------------------------------------------------------------------- checkpoints
@pytest.mark.parametrize("cfg", [
    NetConfig(**SMALL, pool="gem", ibn_stages=2, mixstyle_p=0.5, mixstyle_alpha=0.2),
    NetConfig(**{**SMALL, "widths": (16, 24, 32)}, block="omni")], ids=["gem_ibn_mixstyle", "omni"])
def test_new_options_roundtrip_checkpoint_and_onnx(tmp_path, cfg):
    torch.manual_seed(0)
    m = EmbeddingNet(cfg).eval()
    with torch.no_grad():
        if m.gem is not None:
            m.gem.p.fill_(2.5)
        for mod in m.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.running_var.uniform_(0.5, 1.5)
    save_checkpoint(tmp_path / "m.pt", m)
    back, _ = load_checkpoint(tmp_path / "m.pt")
    assert back.config == cfg
    x = torch.rand(3, 3, 32, 16) * 255
    assert torch.equal(back(x), m(x))
    crops = np.random.default_rng(0).integers(0, 256, (5, 32, 16, 3), dtype=np.uint8)
    check = verify_onnx(m, export_onnx(m, tmp_path / "m.onnx"), crops)
    assert check.min_cosine > 0.9999


def test_config_from_old_dict_and_errors():
    old = {"input_hw": [128, 64], "widths": [32, 64, 128], "blocks": [1, 1, 1], "dim": 128,
           "pool": "flatten", "dropout": 0.2}  # a checkpoint written before these options
    assert NetConfig.from_dict(old) == NetConfig()
    assert NetConfig.from_dict(NetConfig(ibn_stages=1, pool="gem").to_dict()).ibn_stages == 1
    for kwargs, name in [({"ibn_stages": 4}, "ibn_stages"), ({"mixstyle_p": -0.1}, "mixstyle_p"),
                         ({"mixstyle_alpha": 0.0}, "mixstyle_alpha"),
                         ({"mixstyle_stages": 0}, "mixstyle_stages"), ({"pool": "max"}, "pool")]:
        with pytest.raises(ValueError, match=name):
            NetConfig(**kwargs)


# ----------------------------------------------------------------------------- omni-scale
def test_omni_scale_block_shapes_streams_and_identity_start():
    """OSNet's block: four streams of 1-4 lite convolutions (receptive fields 3-9) behind one
    shared gate; with stride 2 it halves the resolution; zero-initialised expansion BN makes a
    fresh block with an identity shortcut the identity (after the ReLU) on non-negative input."""
    from cosmot.appearance.model import LiteConv, OmniScaleBlock

    b = OmniScaleBlock(16, 16)
    assert [sum(isinstance(m, LiteConv) for m in s.modules()) for s in b.streams] == [1, 2, 3, 4]
    torch.nn.init.zeros_(b.expand[1].weight)
    x = torch.rand(2, 16, 8, 4)
    assert torch.allclose(b.eval()(x), x)
    down = OmniScaleBlock(16, 24, stride=2).eval()
    assert down(x).shape == (2, 24, 4, 2)


def test_omni_network_has_no_full_3x3_convolutions_and_checks_its_options():
    m = EmbeddingNet(NetConfig(**{**SMALL, "widths": (16, 24, 32)}, block="omni"))
    assert not any(isinstance(mod, torch.nn.Conv2d) and mod.kernel_size == (3, 3)
                   and mod.groups == 1 for blk in m.stages for mod in blk.modules())
    assert NetConfig.from_dict(NetConfig().to_dict()).block == "residual"
    for kwargs, name in [({"block": "dense"}, "block"),
                         ({"block": "omni", "widths": (4, 8, 8)}, "widths"),
                         ({"block": "omni", "widths": (16, 16, 16), "ibn_stages": 1},
                          "ibn_stages")]:
        with pytest.raises(ValueError, match=name):
            NetConfig(**kwargs)


def test_fused_omni_streams_compute_the_same_embeddings_in_fewer_operations(tmp_path):
    """``fuse_omni``: each omni block's four streams and gate as one convolution per depth level
    and one grouped gate; the embeddings must not change (BN statistics and biases randomised so
    that nothing is an identity), the original network stays unfused, training mode falls back
    to the streams, a residual network is left alone, and the fused ONNX export agrees with
    torch."""
    from cosmot.appearance.model import FusedOmniStreams, OmniScaleBlock, fuse_omni

    torch.manual_seed(0)
    m = EmbeddingNet(NetConfig(**{**SMALL, "widths": (16, 24, 32)}, block="omni")).eval()
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.running_mean.uniform_(-0.5, 0.5)
                mod.running_var.uniform_(0.5, 1.5)
                mod.weight.uniform_(0.5, 1.5)
                mod.bias.uniform_(-0.2, 0.2)
    f = fuse_omni(m)
    blocks = [mod for mod in f.modules() if isinstance(mod, OmniScaleBlock)]
    assert blocks and all(isinstance(b.fused, FusedOmniStreams) for b in blocks)
    assert all(b.fused is None for b in m.modules() if isinstance(b, OmniScaleBlock))
    x = torch.rand(4, 3, 32, 16) * 255
    with torch.no_grad():
        ref, out = m(x), f(x)
        assert torch.allclose(out, ref, atol=1e-5)
        trained = []
        for net in (m, f):  # training mode: both run the streams (batch statistics, dropout)
            torch.manual_seed(1)
            trained.append(copy.deepcopy(net).train()(x))
        assert torch.equal(trained[0], trained[1]) and not torch.allclose(trained[0], ref)
    plain = EmbeddingNet(NetConfig(**SMALL)).eval()
    assert torch.equal(fuse_omni(plain)(x), plain(x))
    crops = np.random.default_rng(0).integers(0, 256, (5, 32, 16, 3), dtype=np.uint8)
    check = verify_onnx(m, export_onnx(m, tmp_path / "f.onnx", fuse=True), crops)
    assert check.min_cosine > 0.9999 and check.max_abs_diff < 1e-4


# ----------------------------------------------------------------------------- augmentation
def test_random_grey():
    x = torch.rand(6, 3, 8, 4) * 255
    y = random_grey(x, AugmentConfig(grey_p=1.0), torch.Generator().manual_seed(0))
    luma = 0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]
    assert all(torch.allclose(y[:, c], luma) for c in range(3))
    assert torch.equal(random_grey(x, AugmentConfig(grey_p=0.0), torch.Generator()), x)
    # off by default: the augmentation stream (hence old recipes' weights) is unchanged
    base = AugmentConfig()
    assert base.grey_p == 0.0
    assert torch.equal(augment(x, base, torch.Generator().manual_seed(1)),
                       augment(x, AugmentConfig(grey_p=0.0), torch.Generator().manual_seed(1)))
    some = augment(x, AugmentConfig(grey_p=0.5, erase_p=0.0), torch.Generator().manual_seed(2))
    spread = (some.amax(dim=1) - some.amin(dim=1)).amax(dim=(1, 2))  # R, G, B differences
    grey = spread < 1e-3
    assert 0 < int(grey.sum()) < 6  # seed-dependent, but some and not all
    with pytest.raises(ValueError, match="grey_p"):
        AugmentConfig(grey_p=2.0)


# ----------------------------------------------------------------------------- evaluation
def test_evaluation_skips_sources_without_crops():
    rng = np.random.default_rng(0)
    n = 8
    crops = CropSet(rng.integers(0, 255, (n, 8, 4, 3), dtype=np.uint8),
                    np.repeat(np.arange(4), 2), np.zeros(n, np.int64),
                    np.array([0] * 4 + [1] * 4), np.tile([0, 100], 4), ("A", "B"),
                    (10.0, 10.0))
    only_b = crops.select_sources(["B"])
    assert only_b.source_names == ("A", "B")  # names kept, crops gone
    emb = np.eye(8, dtype=np.float32)[:4]
    res = evaluate_embeddings(only_b, emb)
    assert [r.name for r in res] == ["B"]
