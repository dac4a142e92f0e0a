"""Encoder v2 pieces: identity spaces shared across sources (CUHK03 labeled + detected), the
dataset- and camera-balanced P x K sampler, the MOT-domain augmentation, margin warm-up, the
v2 recipe's loss on a tiny synthetic set, per-epoch checkpoints."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
import torch

from cosmot.appearance.augment import AugmentConfig, augment
from cosmot.appearance.criterion import Criterion, LossConfig
from cosmot.appearance.crops import CropSet, concat, identity_space, split_by_identity
from cosmot.appearance.domain_augment import (MOT_DOMAIN, DomainConfig, blur, domain_shift, jpeg,
                                       light, occlude, quant_tables)
from cosmot.appearance.folders import load_cuhk, load_market_folder
from cosmot.appearance.model import NetConfig
from cosmot.appearance.recipes import recipe
from cosmot.appearance.sampler import BalancedPKSampler
from cosmot.appearance.train import TrainConfig, train
from cosmot.paths import data_dir

REID = data_dir() / "reid"


def _market_dir(path, names, value=100):
    path.mkdir(parents=True)
    for n in names:
        cv2.imwrite(str(path / n), np.full((128, 64, 3), value, np.uint8))
    return path


def test_cuhk_labeled_and_detected_share_identities(tmp_path):
    _market_dir(tmp_path / "cuhk03" / "labeled", ["0001_c1_01.jpg", "0001_c2_02.jpg",
                                                   "0002_c1_01.jpg", "0744_c2_03.jpg"])
    _market_dir(tmp_path / "cuhk03" / "detected", ["0001_c1_01.jpg", "0002_c2_04.jpg"])
    _market_dir(tmp_path / "cuhk01", ["0001_c1_01.jpg", "0001_c2_03.jpg"])
    cs = load_cuhk(tmp_path)
    assert cs.source_names == ("cuhk03#labeled", "cuhk03#detected", "cuhk01")
    assert [identity_space(n) for n in cs.source_names] == ["cuhk03", "cuhk03", "cuhk01"]
    labels, n = cs.labels()
    # pid 1 labeled == pid 1 detected; pid 2 likewise; 744 alone; cuhk01 pid 1 is another person
    assert n == 4 and cs.num_identities() == 4
    lab = {(cs.source_names[s], p): l for s, p, l in zip(cs.sources, cs.pids, labels)}
    assert lab[("cuhk03#labeled", 1)] == lab[("cuhk03#detected", 1)]
    assert lab[("cuhk03#labeled", 2)] == lab[("cuhk03#detected", 2)]
    assert lab[("cuhk01", 1)] != lab[("cuhk03#labeled", 1)]
    # concatenated with other sources and saved/loaded, the spaces stay shared
    other = load_market_folder(_market_dir(tmp_path / "m", ["0001_c1_0.jpg"]), "market")
    both = concat([other, cs])
    both.save(tmp_path / "x.npz")
    again = CropSet.load(tmp_path / "x.npz")
    assert again.num_identities() == 5
    # an identity split never separates a person's labeled and detected crops
    for seed in range(5):
        kept, held = split_by_identity(again, 0.5, seed)
        assert not set(kept.identity_keys()) & set(held.identity_keys())
    with pytest.raises(ValueError, match="parts"):
        load_cuhk(tmp_path, parts=("cuhk02",))


def test_identity_keys_unchanged_without_spaces():
    n = 6
    cs = CropSet(np.zeros((n, 16, 8, 3), np.uint8), np.array([1, 1, 2, 1, 1, 2]),
                 np.ones(n, np.int64), np.array([0, 0, 0, 1, 1, 1]), np.full(n, -1),
                 ("a/train", "b"), (0.0, 0.0))
    expected = cs.sources * (1 << 32) + cs.pids
    assert np.array_equal(cs.identity_keys(), expected)
    assert cs.num_identities() == 4


@pytest.mark.skipif(not (REID / "cuhk03" / "detected").is_dir(), reason="CUHK data absent")
def test_cuhk_folders_on_real_data():
    """The shared data's claim that load_cuhk relies on (names only; reading the 15k images
    would take ~17 s): detected pids are labeled pids 1-743, both with cameras 1 and 2."""
    from cosmot.appearance.folders import _MARKET_NAME

    def ids(folder):
        m = [_MARKET_NAME.match(f.name) for f in (REID / folder).iterdir()]
        return {(int(x.group(1)), int(x.group(2))) for x in m if x}

    lab, det = ids("cuhk03/labeled"), ids("cuhk03/detected")
    assert len({p for p, _ in lab}) == 843 and {p for p, _ in det} == set(range(1, 744))
    assert {c for _, c in lab} == {c for _, c in det} == {1, 2}


def _mixed_labels():
    """Three datasets: 'big' (20 ids, 2 cameras), 'mid' (6 ids, 2 cameras), 'video' (4 ids)."""
    labels, domains, cams = [], [], []
    lab = 0
    for d, (n_ids, per, ncam) in enumerate([(20, 6, 2), (6, 4, 2), (4, 10, 1)]):
        for _ in range(n_ids):
            labels += [lab] * per
            domains += [d] * per
            cams += [c % ncam + 1 for c in range(per)]
            lab += 1
    return np.array(labels), np.array(domains), np.array(cams)


def test_balanced_sampler_mixes_datasets_and_cameras():
    labels, domains, cams = _mixed_labels()
    s = BalancedPKSampler(labels, domains, cams, p=6, k=4, seed=0)
    assert len(s) == len(labels) // 24
    seen_domains = set()
    for _ in range(50):
        batch = s.batch()
        rows = batch.reshape(6, 4)
        ids = labels[rows]
        assert (ids == ids[:, :1]).all() and len(set(ids[:, 0])) == 6
        doms = set(domains[batch].tolist())
        assert len(doms) >= 2  # several datasets in every batch
        seen_domains |= doms
        for row in rows:
            if domains[row[0]] in (0, 1):  # two-camera identities: both cameras, 2 + 2
                assert sorted(cams[row].tolist()) == [1, 1, 2, 2]
                assert len(set(row.tolist())) == 4
    assert seen_domains == {0, 1, 2}
    # power 0: datasets alike; power 1: by size
    assert np.allclose(BalancedPKSampler(labels, domains, cams, 6, 4, power=0).weights, 1 / 3)
    assert np.allclose(BalancedPKSampler(labels, domains, cams, 6, 4, power=1).weights,
                       np.array([20, 6, 4]) / 30)
    a = [b.tolist() for b in BalancedPKSampler(labels, domains, cams, 6, 4, seed=3)]
    b = [b.tolist() for b in BalancedPKSampler(labels, domains, cams, 6, 4, seed=3)]
    assert a == b
    with pytest.raises(ValueError, match="one dataset"):
        BalancedPKSampler(labels, np.r_[domains[:-1], 0], cams, 6, 4)
    with pytest.raises(ValueError, match="P=40"):
        BalancedPKSampler(labels, domains, cams, 40, 4)
    # one identity per batch (P = 1) cannot mix datasets: batches still come (it used to hang)
    one = BalancedPKSampler(labels, domains, cams, 1, 4, seed=0)
    assert one.min_domains == 1 and one.batch().shape == (4,)


def test_domain_augment_shapes_determinism_and_off():
    x = torch.rand(8, 3, 32, 16) * 255
    cfg = AugmentConfig(lowres_p=0.5, domain=MOT_DOMAIN)
    y1 = augment(x, cfg, torch.Generator().manual_seed(7))
    y2 = augment(x, cfg, torch.Generator().manual_seed(7))
    assert y1.shape == x.shape and torch.equal(y1, y2)
    assert y1.min() >= 0 and y1.max() <= 255
    assert not torch.equal(y1, augment(x, cfg, torch.Generator().manual_seed(8)))
    # off (the default): augment draws exactly what it drew before v2
    g1, g2 = torch.Generator().manual_seed(1), torch.Generator().manual_seed(1)
    assert torch.equal(augment(x, AugmentConfig(), g1),
                       augment(x, AugmentConfig(domain=DomainConfig()), g2))
    assert torch.equal(domain_shift(x, DomainConfig(), torch.Generator()), x)
    with pytest.raises(ValueError, match="blur_p"):
        DomainConfig(blur_p=2.0)


def test_domain_augment_parts():
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(4, 3, 32, 16) * 255
    on = DomainConfig(occlude_p=1.0, light_p=1.0, blur_p=1.0, jpeg_p=1.0)
    # occlusion: pixels come from the previous crop of the batch or stay
    y = occlude(x, on, gen)
    assert ((y == x) | (y == x.roll(1, 0))).all() and not torch.equal(y, x)
    # light keeps black black and a flat image flat
    flat = torch.full((2, 3, 8, 8), 0.0)
    assert torch.equal(light(flat, on, gen), flat)
    # blur keeps a flat image, removes high-frequency energy of noise, keeps the mean
    grey = torch.full((2, 3, 16, 16), 90.0)
    assert torch.allclose(blur(grey, on, gen), grey, atol=1e-3)
    b = blur(x, on, gen)
    assert (b[..., 1:, :] - b[..., :-1, :]).abs().mean() < (x[..., 1:, :] - x[..., :-1, :]
                                                            ).abs().mean() / 2
    # JPEG: quality 100 is near lossless, quality 5 is lossy; flat grey stays flat
    hi = DomainConfig(jpeg_p=1.0, jpeg_quality=(100, 100))
    lo = DomainConfig(jpeg_p=1.0, jpeg_quality=(5, 5))
    smooth = blur(x, DomainConfig(blur_p=1.0, blur_sigma=(1.5, 1.5)), gen)
    assert (jpeg(smooth, hi, gen) - smooth).abs().mean() < 4.0  # 4:2:0 chroma only
    assert (jpeg(smooth, lo, gen) - smooth).abs().mean() > (jpeg(smooth, hi, gen)
                                                            - smooth).abs().mean()
    assert torch.allclose(jpeg(grey, lo, gen), grey, atol=4.0)  # DC step 160/8 at q 5
    luma, chroma = quant_tables(torch.tensor([50, 100]))
    assert luma[0, 0, 0] == 16 and luma[1].max() == 1 and chroma[0, 7, 7] == 99
    with pytest.raises(ValueError, match="multiple of 16"):
        jpeg(torch.zeros(1, 3, 20, 16), hi, gen)


def test_jpeg_matches_opencv_roughly():
    rng = np.random.default_rng(0)
    img = cv2.GaussianBlur(rng.integers(0, 256, (64, 32, 3), dtype=np.uint8), (0, 0), 2)
    _, enc = cv2.imencode(".jpg", img[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 30])
    ref = cv2.imdecode(enc, cv2.IMREAD_COLOR)[:, :, ::-1].astype(np.float32)
    x = torch.from_numpy(img).permute(2, 0, 1)[None].float()
    ours = jpeg(x, DomainConfig(jpeg_p=1.0, jpeg_quality=(30, 30)), torch.Generator())
    ours = ours[0].permute(1, 2, 0).numpy()
    err_ours_ref = np.abs(ours - ref).mean()
    err_src_ref = np.abs(img.astype(np.float32) - ref).mean()
    assert err_ours_ref < err_src_ref  # closer to OpenCV's JPEG than the clean image is


def test_margin_warmup():
    crit = Criterion(LossConfig(name="arcface", margin_warmup_epochs=2), 8, 5)
    crit.set_margin_factor(0.0)
    assert crit.head.m == 0.0
    crit.set_margin_factor(0.5)
    assert crit.head.m == pytest.approx(0.25)
    crit.set_margin_factor(3.0)
    assert crit.head.m == pytest.approx(0.5)
    Criterion(LossConfig(name="cosine_softmax"), 8, 5).set_margin_factor(0.5)  # no-op
    with pytest.raises(ValueError, match="margin_warmup"):
        LossConfig(margin_warmup_epochs=-1)


def _toy_mixed(seed=0):
    """Two datasets of flat-coloured identities (two cameras each) at 32x16."""
    rng = np.random.default_rng(seed)
    n_ids, per = 8, 4
    person = np.array([0, 1, 2, 3, 4, 4, 5, 5])  # groups 5+6 and 7+8: one person each
    colours = rng.integers(0, 256, (6, 3))[person]
    imgs = np.clip(np.repeat(colours, per, 0)[:, None, None, :]
                   + rng.normal(0, 8, (n_ids * per, 32, 16, 3)), 0, 255).astype(np.uint8)
    n = n_ids * per
    pids = np.repeat([1, 2, 3, 4, 1, 1, 2, 2], per)
    sources = np.repeat([0, 0, 0, 0, 1, 2, 1, 2], per)  # groups 5-8 in "x#a" / "x#b"
    return CropSet(imgs, pids, np.tile([1, 2], n // 2), sources, np.full(n, -1),
                   ("toy", "x#a", "x#b"), (0.0, 0.0, 0.0))


def test_v2_recipe_loss_decreases_on_tiny_set(tmp_path):
    crops = _toy_mixed()
    assert crops.num_identities() == 6  # x#a pid 2 == x#b pid 2, etc.
    cfg = TrainConfig(net=NetConfig(input_hw=(32, 16), widths=(4, 8, 8), dim=8),
                      loss=LossConfig(name="cosine_softmax"),
                      augment=AugmentConfig(lowres_p=0.5, domain=MOT_DOMAIN),
                      sampler="balanced", epochs=6, p=4, k=4, lr=3e-3, warmup_epochs=1,
                      epoch_steps=4, checkpoint_every=2)
    res = train(crops, cfg, tmp_path, progress=False, log=lambda s: None)
    losses = [r["loss"] for r in res.history]
    assert losses[-1] < losses[0]
    assert all(r["scale"] > 0 for r in res.history)
    assert [r["step"] for r in res.history] == [4, 8, 12, 16, 20, 24]
    assert sorted(p.name for p in tmp_path.glob("epoch_*.pt")) == [
        "epoch_002.pt", "epoch_004.pt", "epoch_006.pt"]
    again = train(crops, cfg, None, progress=False, log=lambda s: None)
    sa, sb = res.model.state_dict(), again.model.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)  # seeded: bit-identical on the CPU


def test_recipe_v2_values():
    r = recipe("v2")
    assert r["loss"] == "cosine_softmax" and r["sampler"] == "balanced" and r["domain_aug"]
    with pytest.raises(ValueError, match="known recipes"):
        recipe("v9")
    assert math.isfinite(r["epochs"])


def test_shipped_weights_by_name():
    from cosmot.appearance import load_encoder
    from cosmot.appearance.registry import named_record, shipped_names

    assert {"default", "v1"} <= set(shipped_names())
    assert named_record("v1") is not None and named_record("../v1") is None
    assert named_record("histogram") is None
    x = np.random.default_rng(0).integers(0, 256, (3, 128, 64, 3), dtype=np.uint8)
    assert load_encoder("v1").embed_crops(x).shape == (3, 128)
    with pytest.raises(ValueError, match=r"'v0': not a known name \(default, histogram, v1"):
        load_encoder("v0")


def test_recipe_fills_only_default_options():
    from cosmot.cli.main import build_parser
    from cosmot.cli.reid.train import apply_recipe

    parser = build_parser()
    args = parser.parse_args(["reid", "train", "--recipe", "v2", "--out", "x", "--lr", "0.01"])
    apply_recipe(args)
    assert args.loss == "cosine_softmax" and args.sampler == "balanced" and args.domain_aug
    assert args.epochs == recipe("v2")["epochs"] and args.threads == 1
    assert args.val_fraction == 0.0 and args.checkpoint_every == 1
    assert str(args.crops).endswith("reid/train_v2.npz")  # in the user cache folder
    from cosmot.cli.reid.common import CACHE

    assert args.crops == CACHE / "train_v2.npz"  # where build-crops --preset train-v2 writes
    assert args.lr == 0.01  # given on the command line: kept
    args = parser.parse_args(["reid", "train", "--recipe", "v2", "--out", "x", "--loss",
                              "triplet", "--epochs", "3"])
    apply_recipe(args)
    assert args.loss == "triplet" and args.epochs == 3
