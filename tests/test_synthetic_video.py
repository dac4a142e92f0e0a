"""The synthetic clip: seeded, exact ground truth, crossings with occlusion; the committed sample
is what the generator makes."""

import numpy as np
import pytest

from cosmot.sources.motchallenge import Sequence, read_ground_truth
from cosmot.testing.synthetic_video import SceneConfig, SyntheticScene


def test_same_seed_same_clip_other_seed_other_clip():
    a = SyntheticScene(SceneConfig(width=160, height=96, frames=5, seed=1)).render(3)
    b = SyntheticScene(SceneConfig(width=160, height=96, frames=5, seed=1)).render(3)
    c = SyntheticScene(SceneConfig(width=160, height=96, frames=5, seed=2)).render(3)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_visibility_counts_hidden_pixels():
    scene = SyntheticScene(SceneConfig(width=320, height=180, frames=1, people=0, noise=0))
    from cosmot.testing.synthetic_video import Walker

    look = dict(skin=(1, 2, 3), shirt=(4, 5, 6), shirt2=(7, 8, 9), pattern=0,
                trousers=(10, 11, 12), stride=0.1, start=0, speed=0.0)
    scene.walkers = [Walker(track_id=1, foot_y=120.0, x0=100.0, **look),   # far, behind
                     Walker(track_id=2, foot_y=125.0, x0=100.0, **look)]   # near, in front
    _, gt = scene.render(1)
    assert gt[:, 0].tolist() == [1, 2]
    assert gt[1, 5] == 1.0 and gt[0, 5] < 0.2  # the far figure is almost hidden
    scene.walkers[1] = Walker(track_id=2, foot_y=125.0, x0=250.0, **look)
    assert scene.render(1)[1][:, 5].tolist() == [1.0, 1.0]


def test_committed_sample_matches_the_generator(synthetic_seq):
    seq = Sequence(synthetic_seq)
    gt = read_ground_truth(seq.gt_path)
    assert not gt.mot15_format and seq.video is not None
    assert seq.info.length == SceneConfig().frames and gt.frames.max() == seq.info.length
    scene = SyntheticScene(SceneConfig())
    for k in (1, 100, 200):
        _, rows = scene.render(k)
        mine = gt.frames == k
        assert np.array_equal(gt.ids[mine], rows[:, 0].astype(int))
        # a pixel of slack: another OpenCV build may rasterise a limb edge differently
        assert np.allclose(gt.tlwh[mine], rows[:, 1:5], atol=1)
        assert np.allclose(gt.visibility[mine], rows[:, 5], atol=0.02)


def test_sample_has_crossings_and_occlusion(synthetic_seq):
    gt = read_ground_truth(synthetic_seq / "gt" / "gt.txt")
    assert len(np.unique(gt.ids)) == SceneConfig().people
    assert (gt.visibility < 0.5).sum() > 20  # figures pass behind others
    # every pair walks towards each other: each id's x moves monotonically one way
    for i in np.unique(gt.ids):
        cx = gt.tlwh[gt.ids == i, 0] + gt.tlwh[gt.ids == i, 2] / 2
        assert abs(cx[-1] - cx[0]) > 50


def test_scene_config_errors_name_the_field():
    with pytest.raises(ValueError, match="horizon"):
        SceneConfig(horizon=0.9)
    with pytest.raises(ValueError, match="frames"):
        SceneConfig(frames=0)
