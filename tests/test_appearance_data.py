"""Crops, crop sets, ground-truth selection, folder loaders, the P x K sampler, augmentation."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from cosmot.appearance.augment import AugmentConfig, augment, colour, geometric
from cosmot.appearance.crops import CropSet, clip_boxes, concat, cut_crops, split_by_identity
from cosmot.appearance.folders import load_col780, load_market_folder
from cosmot.appearance.gt_crops import GtCropConfig, collect_crops, select_gt_rows
from cosmot.appearance.sampler import PKSampler

DATA = Path(os.environ.get("COSMOT_DATA", Path(__file__).resolve().parents[1].parent
                           / "shared" / "data"))
COL780 = DATA / "reid" / "col780"


def gradient_frame(h=40, w=60) -> np.ndarray:
    """BGR frame whose blue channel is the column index and green the row index."""
    f = np.zeros((h, w, 3), np.uint8)
    f[:, :, 0] = np.arange(w)[None, :]
    f[:, :, 1] = np.arange(h)[:, None]
    return f


def test_clip_boxes_inside_outside_and_empty():
    b = clip_boxes(np.array([[-5.0, -5, 10, 10], [55, 35, 80, 90], [100, 100, 120, 130],
                             [10, 10, 10, 10], [3.2, 4.7, 8.1, 9.0]]), 60, 40)
    assert b.tolist() == [[0, 0, 10, 10], [55, 35, 60, 40],
                          [59, 39, 60, 40],  # wholly outside: 1 pixel at the nearest corner
                          [10, 10, 11, 11],  # zero area: widened to 1 pixel
                          [3, 4, 9, 9]]  # outward rounding
    with pytest.raises(ValueError, match="NaN"):
        clip_boxes(np.array([[0, 0, np.nan, 1.0]]), 10, 10)


def test_cut_crops_content_and_colour_order():
    f = gradient_frame()
    crops = cut_crops(f, np.array([[10.0, 5, 20, 25], [-10, -10, 5, 5]]), (8, 4))
    assert crops.shape == (2, 8, 4, 3) and crops.dtype == np.uint8
    # RGB output: blue (column index) is channel 2, green (row index) channel 1
    assert 10 <= crops[0, :, :, 2].min() and crops[0, :, :, 2].max() <= 20
    assert 5 <= crops[0, :, :, 1].min() and crops[0, :, :, 1].max() <= 25
    assert crops[1, :, :, 2].max() <= 5  # clipped to the top-left corner
    assert cut_crops(f, np.zeros((0, 4)), (8, 4)).shape == (0, 8, 4, 3)


def test_select_gt_rows_filters_and_stride():
    # MOT16 layout: id 1 visible in frames 1..6, one row of class 2, one hidden, one ignored
    frames = np.array([1, 2, 3, 4, 5, 6, 1, 2, 3])
    ids = np.array([1, 1, 1, 1, 1, 1, 2, 2, 2])
    tlwh = np.tile([0.0, 0, 20, 50], (9, 1))
    tlwh[8, 3] = 10  # too low
    consider = np.array([1, 1, 1, 1, 1, 1, 1, 0, 1], bool)
    classes = np.array([1, 1, 1, 1, 1, 1, 1, 1, 1])
    classes[3] = 2
    vis = np.ones(9)
    vis[4] = 0.2
    cfg = GtCropConfig(min_visibility=0.5, min_height=32, frame_stride=2)
    keep = select_gt_rows(frames, ids, tlwh, consider, classes, vis, False, cfg)
    # id 1 kept rows before stride: frames 1, 2, 3, 6 -> every 2nd: frames 1, 3
    # id 2: frame 1 only (frame 2 ignored, frame 3 too low)
    assert np.flatnonzero(keep).tolist() == [0, 2, 6]
    # MOT15 layout: class and visibility columns are not read
    keep15 = select_gt_rows(frames, ids, tlwh, consider, classes, vis, True,
                            GtCropConfig(frame_stride=1))
    assert np.flatnonzero(keep15).tolist() == [0, 1, 2, 3, 4, 5, 6]


def test_collect_crops_from_frames():
    frames_iter = ((k, gradient_frame()) for k in range(1, 6))
    cs = collect_crops(frames_iter, np.array([3, 1, 3]), np.array([7, 7, 9]),
                       np.array([[0.0, 0, 10, 20], [5, 5, 10, 20], [20, 10, 10, 20]]), "seq",
                       fps=25.0, size_hw=(16, 8))
    assert len(cs) == 3 and cs.frames.tolist() == [1, 3, 3] and cs.pids.tolist() == [7, 7, 9]
    assert cs.source_names == ("seq",) and cs.source_fps == (25.0,)
    with pytest.raises(ValueError, match="not in the video"):
        collect_crops(iter([(1, gradient_frame())]), np.array([4]), np.array([1]),
                      np.array([[0.0, 0, 5, 5]]), "seq", 25.0)


def small_set(source="a", n_ids=4, per_id=3, fps=0.0) -> CropSet:
    n = n_ids * per_id
    rng = np.random.default_rng(0)
    return CropSet(rng.integers(0, 255, (n, 16, 8, 3), dtype=np.uint8),
                   np.repeat(np.arange(n_ids), per_id), np.tile(np.arange(per_id), n_ids),
                   np.zeros(n, np.int64), np.full(n, -1), (source,), (fps,))


def test_cropset_save_load_concat_split(tmp_path):
    a, b = small_set("a"), small_set("b", n_ids=5)
    both = concat([a, b, CropSet.empty((16, 8))])
    assert len(both) == 27 and both.source_names == ("a", "b")
    labels, c = both.labels()
    assert c == 9  # identity = (source, pid): pid 0 of "a" differs from pid 0 of "b"
    path = tmp_path / "x.npz"
    both.save(path)
    back = CropSet.load(path)
    assert np.array_equal(back.images, both.images) and back.source_names == both.source_names
    assert np.array_equal(back.identity_keys(), both.identity_keys())
    kept, held = split_by_identity(both, 0.4, seed=1)
    assert len(kept) + len(held) == len(both)
    assert not set(kept.identity_keys()) & set(held.identity_keys())
    assert held.num_identities() == round(0.4 * 4) + round(0.4 * 5)
    packed = tmp_path / "png.npz"
    both.save(packed, png=True)  # lossless: same pixels and labels back
    back = CropSet.load(packed)
    assert np.array_equal(back.images, both.images) and back.source_names == both.source_names
    assert np.array_equal(back.identity_keys(), both.identity_keys())
    assert back.source_fps == both.source_fps
    CropSet.empty((16, 8)).save(tmp_path / "empty.npz", png=True)
    assert CropSet.load(tmp_path / "empty.npz").images.shape == (0, 16, 8, 3)
    with pytest.raises(FileNotFoundError, match="build-crops"):
        CropSet.load(tmp_path / "missing.npz")
    with pytest.raises(ValueError, match="crop sizes"):
        concat([a, CropSet(np.zeros((1, 8, 8, 3), np.uint8), *(np.zeros(1, np.int64),) * 4,
                           ("c",), (0.0,))])


def test_pk_sampler():
    labels = np.array([0] * 10 + [1] * 2 + [2] * 5 + [3] * 7)
    s = PKSampler(labels, p=3, k=4, seed=0)
    assert len(s) == 24 // 12
    for batch in s:
        groups = batch.reshape(3, 4)
        ids = labels[groups]
        assert (ids == ids[:, :1]).all()  # K crops of one identity per row
        assert len(set(ids[:, 0])) == 3  # P distinct identities
        for row, pid in zip(groups, ids[:, 0]):
            if (labels == pid).sum() >= 4:
                assert len(set(row)) == 4  # without replacement when possible
    a = [b.tolist() for b in PKSampler(labels, 3, 4, seed=5)]
    b = [b.tolist() for b in PKSampler(labels, 3, 4, seed=5)]
    assert a == b
    with pytest.raises(ValueError, match="P=5"):
        PKSampler(labels, p=5, k=2)


def test_augment_shapes_range_determinism():
    x = torch.rand(6, 3, 32, 16) * 255
    cfg = AugmentConfig()
    y1 = augment(x, cfg, torch.Generator().manual_seed(3))
    y2 = augment(x, cfg, torch.Generator().manual_seed(3))
    assert y1.shape == x.shape and torch.equal(y1, y2)
    assert y1.min() >= 0 and y1.max() <= 255
    assert not torch.equal(y1, augment(x, cfg, torch.Generator().manual_seed(4)))


def test_augment_parts_exact():
    x = torch.arange(2 * 3 * 4 * 6, dtype=torch.float32).reshape(2, 3, 4, 6)
    gen = torch.Generator().manual_seed(0)
    none = AugmentConfig(flip_p=0.0, pad=0, zoom=0.0, brightness=0, contrast=0, saturation=0,
                         hue_degrees=0, erase_p=0.0)
    assert torch.allclose(geometric(x, none, gen), x, atol=1e-3)  # identity resampling
    flip = AugmentConfig(flip_p=1.0, pad=0, zoom=0.0)
    assert torch.allclose(geometric(x, flip, gen), x.flip(3), atol=1e-3)
    assert torch.allclose(colour(x.clamp(max=255), none, gen), x.clamp(max=255), atol=1e-3)
    grey = torch.full((1, 3, 4, 4), 100.0)  # hue/saturation leave grey unchanged
    hue = AugmentConfig(brightness=0, contrast=0, saturation=0.5, hue_degrees=90)
    assert torch.allclose(colour(grey, hue, gen), grey, atol=1e-3)
    erase = AugmentConfig(erase_p=1.0, erase_area=(0.2, 0.2), erase_aspect=(1.0, 1.0))
    z = augment(torch.zeros(4, 3, 20, 20), AugmentConfig(
        flip_p=0, pad=0, zoom=0, brightness=0, contrast=0, saturation=0, hue_degrees=0,
        erase_p=1.0, erase_area=(0.2, 0.2), erase_aspect=(1.0, 1.0)), gen)
    changed = (z != 0).any(dim=1).float().mean(dim=(1, 2))  # about 20% of the pixels each
    assert ((changed > 0.1) & (changed < 0.3)).all()
    with pytest.raises(ValueError, match="erase_p"):
        AugmentConfig(erase_p=1.5)
    assert erase.erase_p == 1.0


def test_market_folder(tmp_path):
    img = np.full((128, 64, 3), 200, np.uint8)
    for name in ("0002_c1s1_000451_03.jpg", "0002_c2s1_000301_01.jpg", "0007_c3s3_0.jpg",
                 "-1_c1s1_000000_00.jpg", "0000_c1s1_000000_00.jpg"):
        cv2.imwrite(str(tmp_path / name), img)
    cs = load_market_folder(tmp_path, "market")
    assert cs.pids.tolist() == [2, 2, 7] and cs.cams.tolist() == [1, 2, 3]
    (tmp_path / "bad.jpg").write_bytes(b"")
    with pytest.raises(ValueError, match="<pid>_c<cam>"):
        load_market_folder(tmp_path, "market")


@pytest.mark.skipif(not COL780.is_dir(), reason=f"{COL780} absent (shared data not here)")
def test_col780_loader_on_real_data():
    train, query, gallery = load_col780(COL780)
    assert train.num_identities() == 62 and len(train) == 62 * 16
    assert train.images.shape[1:] == (128, 64, 3)
    assert set(np.unique(train.cams)) == {1, 2}
    assert set(query.pids) == set(gallery.pids) and len(set(query.pids)) == 12
    assert not set(train.pids) & set(query.pids)  # val identities are new


def test_low_resolution_augmentation():
    from cosmot.appearance.augment import low_resolution

    gen = torch.Generator().manual_seed(0)
    x = torch.rand(4, 3, 32, 16) * 255
    off = low_resolution(x, AugmentConfig(lowres_p=0.0), gen)
    assert torch.equal(off, x)
    on = low_resolution(x, AugmentConfig(lowres_p=1.0, lowres_scale=(0.25, 0.25)), gen)
    assert on.shape == x.shape and not torch.allclose(on, x)
    # a shrunk and enlarged image has less fine detail: smaller neighbour differences
    assert (on.diff(dim=3).abs().mean() < x.diff(dim=3).abs().mean())
    flat = torch.full((1, 3, 32, 16), 77.0)  # a flat image stays flat
    assert torch.allclose(low_resolution(flat, AugmentConfig(lowres_p=1.0), gen), flat)
    with pytest.raises(ValueError, match="lowres_scale"):
        AugmentConfig(lowres_scale=(0.5, 1.5))
