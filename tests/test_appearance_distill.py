"""Similarity distillation: the loss, a tiny training run with a teacher, the teacher cache."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cosmot.appearance.checkpoint import load_checkpoint
from cosmot.appearance.criterion import LossConfig
from cosmot.appearance.distill import (
    DistillConfig,
    cache_path,
    similarity_distill_loss,
    teacher_embeddings,
)
from cosmot.appearance.model import NetConfig
from cosmot.appearance.train import TrainConfig, train
from tests.test_appearance_train import toy_set
from cosmot.paths import data_dir

NET = NetConfig(input_hw=(32, 16), widths=(4, 8, 8), dim=8)
OSNET = data_dir() / "models" / "osnet_x0_25_msmt17.onnx"


class FakeTeacher:
    """A deterministic 'teacher': mean colour of the top and bottom halves (dim 6)."""

    dim = 6

    def __init__(self):
        self.calls = 0

    def embed_crops(self, crops):
        self.calls += 1
        h = crops.shape[1] // 2
        e = np.concatenate([crops[:, :h].mean(axis=(1, 2)), crops[:, h:].mean(axis=(1, 2))],
                           axis=1).astype(np.float32) + 1.0
        return e / np.linalg.norm(e, axis=1, keepdims=True)


class Killed(Exception):
    """Stands for the training process being killed right after an epoch."""


def kill_after_epoch(n: int):
    """A ``log`` callback that raises Killed at epoch n's log line (its resume.pt written)."""

    def log(line: str) -> None:
        if line.startswith(f"epoch={n} "):
            raise Killed

    return log


@pytest.mark.parametrize("kind", ["kl", "mse"])
def test_loss_zero_for_equal_similarities_positive_otherwise(kind):
    g = torch.Generator().manual_seed(0)
    t = torch.randn(8, 512, generator=g)
    q, _ = torch.linalg.qr(torch.randn(512, 512, generator=g))
    # a rotation of the teacher's embeddings has exactly the teacher's similarity matrix,
    # and so does a rescaled copy (the loss normalises)
    same = 3.0 * (t @ q)
    assert similarity_distill_loss(same, t, kind).item() == pytest.approx(0.0, abs=1e-5)
    # a 128-d student with the same similarities as a 512-d teacher (rank <= 8)
    basis, _ = torch.linalg.qr(torch.randn(512, 128, generator=g))
    t_low = torch.randn(8, 128, generator=g) @ basis.T  # lies in a 128-d subspace
    assert similarity_distill_loss(t_low @ basis, t_low, kind).item() == pytest.approx(
        0.0, abs=1e-5)
    other = torch.randn(8, 128, generator=g)
    assert similarity_distill_loss(other, t, kind).item() > 1e-3


def test_loss_gradient_and_edge_cases():
    s = torch.randn(6, 16, requires_grad=True)
    t = torch.randn(6, 32)
    loss = similarity_distill_loss(s, t)
    loss.backward()
    assert s.grad is not None and torch.isfinite(s.grad).all() and s.grad.abs().sum() > 0
    assert similarity_distill_loss(torch.randn(1, 4), torch.randn(1, 9)).item() == 0.0
    with pytest.raises(ValueError):
        similarity_distill_loss(torch.randn(3, 4), torch.randn(4, 4))
    with pytest.raises(ValueError):
        DistillConfig(kind="l1")


def test_tiny_training_with_distillation_writes_loadable_checkpoint(tmp_path):
    crops = toy_set()
    teacher = FakeTeacher().embed_crops(crops.images)
    cfg = TrainConfig(net=NET, loss=LossConfig(name="arcface"), epochs=1, p=3, k=4,
                      warmup_epochs=0, distill=DistillConfig(weight=5.0, teacher="fake"))
    res = train(crops, cfg, tmp_path / "run", progress=False, log=lambda s: None,
                meta={"distill_teacher": "fake", "distill_weight": 5.0}, teacher=teacher)
    assert res.history[-1]["distill_loss"] > 0
    model, meta = load_checkpoint(tmp_path / "run" / "last.pt")
    assert meta["distill_weight"] == 5.0 and meta["distill_teacher"] == "fake"
    out = model(torch.zeros(2, 3, 32, 16))
    assert out.shape == (2, 8)
    # distillation changes the weights; without a teacher the weight > 0 is refused
    plain = train(crops, TrainConfig(net=NET, loss=LossConfig(name="arcface"), epochs=1, p=3,
                                     k=4, warmup_epochs=0), None, progress=False,
                  log=lambda s: None)
    assert not torch.equal(plain.model.state_dict()["fc.weight"],
                           res.model.state_dict()["fc.weight"])
    with pytest.raises(ValueError, match="teacher embeddings"):
        train(crops, cfg, None, progress=False, log=lambda s: None)
    with pytest.raises(ValueError, match="teacher embeddings"):
        train(crops, cfg, None, progress=False, log=lambda s: None, teacher=teacher[:-1])


def test_teacher_cache_is_reused_and_keyed_by_content(tmp_path):
    crops = toy_set()
    crops_path = tmp_path / "crops.npz"
    crops.save(crops_path)
    teacher_file = tmp_path / "teacher.onnx"
    teacher_file.write_bytes(b"not really a model")
    fake = FakeTeacher()
    a, path, reused = teacher_embeddings(crops_path, teacher_file, encoder=fake,
                                         log=lambda s: None)
    assert not reused and path.is_file() and path.parent == tmp_path and fake.calls == 2
    assert a.shape == (len(crops), 6)
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    b, path2, reused = teacher_embeddings(crops_path, teacher_file, encoder=fake,
                                          log=lambda s: None)
    assert reused and path2 == path and fake.calls == 2  # teacher not run again
    np.testing.assert_array_equal(a, b)
    # without the mirror image: another key, another file, one teacher pass
    _, path3, reused = teacher_embeddings(crops_path, teacher_file, flip=False, encoder=fake,
                                          log=lambda s: None)
    assert not reused and path3 != path and fake.calls == 3
    # other crop content -> other key
    toy_set(seed=5).save(crops_path)
    assert cache_path(crops_path, teacher_file, True)[0] != path


def test_cli_train_with_distillation(tmp_path, monkeypatch):
    """`cosmot reid train --distill-teacher` end to end with the real OSNet teacher on a few
    crops (skips without the model)."""
    if not OSNET.is_file():
        pytest.skip(f"OSNet-x0.25 ONNX model not found at {OSNET}")
    pytest.importorskip("onnxruntime")
    from cosmot.cli.main import main

    crops = toy_set(n_ids=4, per_id=4)
    crops = type(crops)(np.ascontiguousarray(np.repeat(np.repeat(crops.images, 4, 1), 4, 2)),
                        crops.pids, crops.cams, crops.sources, crops.frames,
                        crops.source_names, crops.source_fps)  # 128x64
    path = tmp_path / "crops.npz"
    crops.save(path)
    args = ["reid", "train", "--crops", str(path), "--out", str(tmp_path / "run"),
            "--loss", "arcface", "--epochs", "1", "--p", "4", "--k", "4", "--val-fraction",
            "0", "--threads", "1", "--quiet", "--distill-teacher", str(OSNET),
            "--distill-weight", "5"]
    try:
        rc = main(args)
    except SystemExit as e:
        rc = e.code
    assert rc in (0, None)
    _, meta = load_checkpoint(tmp_path / "run" / "last.pt")
    assert meta["distill_weight"] == 5.0 and meta["distill_teacher"].endswith(OSNET.name)
    assert meta["distill_flip"] is True
    assert len(list(tmp_path.glob("crops.teacher-*.npz"))) == 1


def test_online_teacher_sees_the_augmented_batch(tmp_path):
    crops = toy_set()
    fake = FakeTeacher()
    cfg = TrainConfig(net=NET, loss=LossConfig(name="arcface"), epochs=1, p=3, k=4,
                      warmup_epochs=0, distill=DistillConfig(weight=5.0, online=True))
    res = train(crops, cfg, None, progress=False, log=lambda s: None, teacher_encoder=fake)
    assert fake.calls == 2 and res.history[-1]["distill_loss"] > 0  # 24 crops / 12 = 2 steps
    with pytest.raises(ValueError, match="teacher_encoder"):
        train(crops, cfg, None, progress=False, log=lambda s: None)


def test_embedding_regression_loss_zero_when_aligned_and_checks_shapes():
    from cosmot.appearance.distill import embedding_regression_loss

    g = torch.Generator().manual_seed(0)
    t = torch.randn(5, 12, generator=g)
    assert embedding_regression_loss(3.0 * t, t).item() == pytest.approx(0.0, abs=1e-6)
    assert embedding_regression_loss(-t, t).item() == pytest.approx(2.0, abs=1e-6)
    with pytest.raises(ValueError, match="project the student"):
        embedding_regression_loss(torch.randn(5, 8), t)


@pytest.mark.parametrize("dim", [8, 6])
def test_regression_distillation_pulls_the_student_towards_the_teacher(dim):
    """With a projection head (student 8-d, teacher 6-d) or without (both 6-d), training on the
    regression loss alone lowers it; the shipped checkpoint holds the student only."""
    from cosmot.appearance.distill import embedding_regression_loss

    crops = toy_set(n_ids=6, per_id=6)
    teacher = FakeTeacher().embed_crops(crops.images)
    net = NetConfig(input_hw=(32, 16), widths=(4, 8, 8), dim=dim)
    cfg = TrainConfig(net=net, epochs=6, p=3, k=4, warmup_epochs=0, lr=3e-3, id_weight=0.0,
                      distill=DistillConfig(weight=1.0, kind="regress"))
    res = train(crops, cfg, None, progress=False, log=lambda s: None, teacher=teacher)
    losses = [r["distill_loss"] for r in res.history]
    assert losses[-1] < losses[0]
    assert set(res.model.state_dict()) == set(
        train(crops, TrainConfig(net=net, epochs=1, p=3, k=4), None, progress=False,
              log=lambda s: None).model.state_dict())
    if dim == 6:  # no head: the student's own embedding approaches the teacher's
        from cosmot.appearance.train import embed_set

        emb = torch.from_numpy(embed_set(res.model, crops.images))
        assert embedding_regression_loss(emb, torch.from_numpy(teacher)).item() < losses[0]


@pytest.mark.parametrize("loss", [LossConfig(), LossConfig(
    name="multi_similarity", miner="multi_similarity", memory_size=20)],
    ids=["cosine_softmax", "multi_similarity_xbm"])
def test_resumed_run_equals_an_uninterrupted_one(tmp_path, loss):
    """A run killed after epoch 2 (its resume.pt written) and resumed gives the same tensors,
    history and logs as one that ran its 4 epochs at once: regression distillation with a
    projection head, cosine softmax (or a pair loss with a cross-batch memory, whose contents
    and write position must survive) beside it, dropout and augmentation all in play."""
    if loss.memory_size:
        pytest.importorskip("pytorch_metric_learning")
    crops = toy_set(n_ids=6, per_id=6)
    teacher = FakeTeacher().embed_crops(crops.images)
    cfg = TrainConfig(net=NET, epochs=4, p=3, k=4, warmup_epochs=1, eval_every=2, loss=loss,
                      distill=DistillConfig(weight=1.0, kind="regress"))
    whole = train(crops, cfg, tmp_path / "whole", val=toy_set(seed=1), progress=False,
                  log=lambda s: None, teacher=teacher)

    with pytest.raises(Killed):
        train(crops, cfg, tmp_path / "cut", val=toy_set(seed=1), progress=False,
              log=kill_after_epoch(2), teacher=teacher)
    assert not (tmp_path / "cut" / "last.pt").exists()
    logged = []
    resumed = train(crops, cfg, tmp_path / "cut", val=toy_set(seed=1), progress=False,
                    log=logged.append, teacher=teacher, resume=True)
    assert any("after epoch 2 of 4" in line for line in logged)
    sa, sb = whole.model.state_dict(), resumed.model.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    drop = ("seconds", "epoch_seconds", "crops_per_s", "load_avg_1min")
    assert ([{k: v for k, v in r.items() if k not in drop} for r in whole.history]
            == [{k: v for k, v in r.items() if k not in drop} for r in resumed.history])
    assert resumed.best_epoch == whole.best_epoch
    # another configuration cannot continue this run's state
    other = TrainConfig(net=NET, epochs=5, p=3, k=4, warmup_epochs=1, eval_every=2, loss=loss,
                        distill=DistillConfig(weight=1.0, kind="regress"))
    with pytest.raises(ValueError, match="epochs"):
        train(crops, other, tmp_path / "cut", progress=False, log=lambda s: None,
              teacher=teacher, resume=True)
    with pytest.raises(ValueError, match="other crops"):
        train(crops, cfg, tmp_path / "cut", progress=False, log=lambda s: None,
              teacher=teacher[::-1].copy(), resume=True)


def test_centred_targets_remove_the_common_direction():
    """center_targets: unit rows, zero mean direction, pairwise order of cosine similarity
    kept for rows equidistant from the mean; a constant prediction then scores 1 - cos = 1."""
    from cosmot.appearance.distill import center_targets, embedding_regression_loss

    rng = np.random.default_rng(0)
    t = np.abs(rng.normal(size=(200, 16))).astype(np.float32) + 2.0  # a shared direction
    c = center_targets(t)
    assert np.allclose(np.linalg.norm(c, axis=1), 1.0, atol=1e-5)
    assert np.linalg.norm(c.mean(axis=0)) < 0.1
    unit = t / np.linalg.norm(t, axis=1, keepdims=True)
    const = torch.from_numpy(np.repeat(unit.mean(0, keepdims=True), len(t), axis=0))
    assert embedding_regression_loss(const, torch.from_numpy(unit)).item() < 0.05
    assert embedding_regression_loss(const, torch.from_numpy(c)).item() == pytest.approx(
        1.0, abs=0.05)
    with pytest.raises(ValueError, match="center"):
        DistillConfig(weight=1.0, kind="kl", center=True)


def test_centred_regression_trains_towards_the_centred_teacher():
    from cosmot.appearance.distill import center_targets, embedding_regression_loss
    from cosmot.appearance.train import embed_set

    crops = toy_set(n_ids=6, per_id=6)
    teacher = FakeTeacher().embed_crops(crops.images)
    net = NetConfig(input_hw=(32, 16), widths=(4, 8, 8), dim=6)
    cfg = TrainConfig(net=net, epochs=6, p=3, k=4, warmup_epochs=0, lr=3e-3, id_weight=0.0,
                      distill=DistillConfig(weight=1.0, kind="regress", center=True))
    res = train(crops, cfg, None, progress=False, log=lambda s: None, teacher=teacher)
    losses = [r["distill_loss"] for r in res.history]
    assert losses[-1] < losses[0]
    emb = torch.from_numpy(embed_set(res.model, crops.images))
    target = torch.from_numpy(center_targets(teacher))
    assert embedding_regression_loss(emb, target).item() < losses[0]


def test_a_run_started_before_a_setting_existed_resumes(tmp_path):
    """A training state written by code that lacked a setting added since (here the loss's
    ``miner``) resumes: the missing field takes its default, which is what that run used."""
    import json as _json

    from cosmot.appearance.train import RESUME_FILE

    crops = toy_set(n_ids=6, per_id=6)
    cfg = TrainConfig(net=NET, epochs=2, p=3, k=4, warmup_epochs=0)

    with pytest.raises(Killed):
        train(crops, cfg, tmp_path / "run", progress=False, log=kill_after_epoch(1))
    path = tmp_path / "run" / RESUME_FILE
    state = torch.load(path, weights_only=True)
    saved = _json.loads(state["config"])
    del saved["loss"]["miner"]  # as the code before the miner option wrote it
    state["config"] = _json.dumps(saved, sort_keys=True)
    torch.save(state, path)
    logged = []
    train(crops, cfg, tmp_path / "run", progress=False, log=logged.append, resume=True)
    assert any("after epoch 1 of 2" in line for line in logged)


def test_relational_term_beside_the_regression():
    """``relational`` adds the batch-similarity KL to the centred regression: logged on its own
    column, part of the optimised total (so it changes the weights), absent when 0, and refused
    where it has no meaning."""
    crops = toy_set(n_ids=6, per_id=6)
    teacher = FakeTeacher().embed_crops(crops.images)
    net = NetConfig(input_hw=(32, 16), widths=(4, 8, 8), dim=6)

    def run(relational):
        cfg = TrainConfig(net=net, epochs=2, p=3, k=4, warmup_epochs=0, lr=3e-3, id_weight=0.0,
                          distill=DistillConfig(weight=1.0, kind="regress", center=True,
                                                relational=relational))
        return train(crops, cfg, None, progress=False, log=lambda s: None, teacher=teacher)

    plain, rel = run(0.0), run(1.0)
    assert "relational_loss" not in plain.history[0]
    assert all(r["relational_loss"] > 0 for r in rel.history)
    # id_weight 0: the optimised loss is the regression plus the relational term
    assert all(r["loss"] == pytest.approx(r["distill_loss"] + r["relational_loss"], rel=1e-4)
               for r in rel.history)
    assert all(r["loss"] == pytest.approx(r["distill_loss"], rel=1e-6) for r in plain.history)
    # the same seed and batches: only the relational gradient can make the weights differ
    a, b = plain.model.state_dict(), rel.model.state_dict()
    assert any(not torch.equal(a[k], b[k]) for k in a)
    with pytest.raises(ValueError, match="relational"):
        DistillConfig(weight=1.0, kind="kl", relational=1.0)
    with pytest.raises(ValueError, match="relational"):
        DistillConfig(weight=1.0, kind="regress", relational=-1.0)


def test_augment_pair_gives_augment_and_its_undegraded_twin():
    """augment_pair's first output is augment's, bit for bit, and leaves the generator where
    augment does; its second takes the same geometry and colour draws without the
    degradations (here erasing on every crop)."""
    from dataclasses import replace

    from cosmot.appearance.augment import AugmentConfig, augment, augment_pair

    x = torch.from_numpy(toy_set().images[:8]).permute(0, 3, 1, 2).float()
    cfg = AugmentConfig(erase_p=1.0, lowres_p=0.5, grey_p=0.3)
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    a, (b, view) = augment(x, cfg, g1), augment_pair(x, cfg, g2)
    assert torch.equal(a, b) and torch.equal(g1.get_state(), g2.get_state())
    plain = replace(cfg, erase_p=1.0, lowres_p=0.0)
    _, view = augment_pair(x, plain, torch.Generator().manual_seed(4))
    clean = augment(x, replace(plain, erase_p=0.0), torch.Generator().manual_seed(4))
    assert torch.equal(view, clean)
    assert not torch.equal(augment(x, plain, torch.Generator().manual_seed(4)), clean)


def test_online_centre_matches_the_cached_centring():
    from cosmot.appearance.distill import center_online, center_targets, center_vector

    t = np.abs(np.random.default_rng(1).normal(size=(50, 12))).astype(np.float32) + 1.0
    got = center_online(torch.from_numpy(3.0 * t), torch.from_numpy(center_vector(t)))
    assert np.allclose(got.numpy(), center_targets(t), atol=1e-5)


def test_online_undegraded_centred_regression(tmp_path):
    """Online targets of the undegraded views, centred on the cached clean embeddings' mean:
    the teacher runs once per batch on views without erasing, the regression falls, a killed
    run resumes to the same tensors, and the centre cannot be had without the cached rows."""
    crops = toy_set(n_ids=6, per_id=6)
    cached = FakeTeacher().embed_crops(crops.images)

    net = NetConfig(input_hw=(32, 16), widths=(4, 8, 8), dim=6)
    cfg = TrainConfig(net=net, epochs=4, p=3, k=4, warmup_epochs=0, lr=3e-3, id_weight=0.0,
                      distill=DistillConfig(weight=1.0, kind="regress", center=True,
                                            online=True, online_view="undegraded"))
    fake = FakeTeacher()
    whole = train(crops, cfg, tmp_path / "whole", progress=False, log=lambda s: None,
                  teacher=cached, teacher_encoder=fake)
    assert fake.calls == 4 * 3  # 36 crops / 12 per batch, 4 epochs
    losses = [r["distill_loss"] for r in whole.history]
    assert losses[-1] < losses[0]

    with pytest.raises(Killed):
        train(crops, cfg, tmp_path / "cut", progress=False, log=kill_after_epoch(2),
              teacher=cached, teacher_encoder=FakeTeacher())
    resumed = train(crops, cfg, tmp_path / "cut", progress=False, log=lambda s: None,
                    teacher=cached, teacher_encoder=FakeTeacher(), resume=True)
    sa, sb = whole.model.state_dict(), resumed.model.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    with pytest.raises(ValueError, match="centre of online targets"):
        train(crops, cfg, None, progress=False, log=lambda s: None, teacher_encoder=fake)
    with pytest.raises(ValueError, match="online_view"):
        DistillConfig(weight=1.0, kind="regress", online_view="undegraded")


def test_online_teacher_is_shown_views_without_erasing():
    """With online_view 'same' the teacher sees the student's erased crops; with 'undegraded'
    the same crops without the erasing (the student's batch is augment's either way: see
    test_augment_pair_gives_augment_and_its_undegraded_twin)."""
    crops = toy_set(n_ids=6, per_id=6)
    seen = {}
    from cosmot.appearance.augment import AugmentConfig

    for view in ("same", "undegraded"):
        rec = []

        class Rec(FakeTeacher):
            def embed_crops(self, c):
                rec.append(c.copy())
                return super().embed_crops(c)

        cfg = TrainConfig(net=NET, epochs=1, p=3, k=4, warmup_epochs=0, id_weight=0.0,
                          augment=AugmentConfig(erase_p=1.0),
                          distill=DistillConfig(weight=1.0, kind="regress", online=True,
                                                online_view=view))
        train(crops, cfg, None, progress=False, log=lambda s: None, teacher_encoder=Rec())
        seen[view] = np.concatenate(rec)
    same, clean = seen["same"].astype(int), seen["undegraded"].astype(int)
    assert same.shape == clean.shape
    # every crop is erased somewhere in the student's view, nowhere in the teacher's
    differs = (np.abs(same - clean).sum(axis=3) > 0).reshape(len(same), -1).any(axis=1)
    assert differs.all()
