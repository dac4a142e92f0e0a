"""Supervised training of an ``EmbeddingNet`` on a ``CropSet`` with P x K batches.

Deterministic on the CPU for a given seed and thread count: the network is initialised, and
dropout drawn, inside a forked torch RNG seeded with ``seed``; batches come from a seeded
``PKSampler``; augmentation draws from its own seeded ``torch.Generator``.

On a CUDA device (``train(..., device="cuda")``) the network, the loss and the optimiser run on
the GPU, by default under bfloat16 autocast (``TrainConfig.precision``); the crops are copied to
the GPU once (uint8) and augmented there, with the same random draws as a CPU run (drawn on
the CPU, see ``augment``) except the erasing noise, drawn on the GPU. GPU results are not
bit-reproducible (cuDNN kernels are chosen by speed).
"""

from __future__ import annotations

import csv
import json
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from .augment import AugmentConfig, augment, augment_pair
from .checkpoint import save_checkpoint
from .criterion import Criterion, LossConfig
from .crops import CropSet
from .device import resolve_device
from .distill import (DistillConfig, augmented_to_uint8, embedding_regression_loss,
                      similarity_distill_loss)
from .model import EmbeddingNet, NetConfig
from .reid_eval import evaluate_embeddings, mean_scores
from .sampler import BalancedPKSampler, PKSampler


@dataclass(frozen=True)
class TrainConfig:
    """epochs: passes of ``N // (P*K)`` batches each. lr: peak learning rate (Adam), reached
    after ``warmup_epochs`` of linear warm-up, then cosine decay to ``lr * final_lr_ratio``.
    eval_every: epochs between evaluations on the validation set (when one is given).
    sampler: "pk" (``PKSampler``) or "balanced" (``BalancedPKSampler``: identities spread over
    identity spaces with weights ``size ** balance_power``, crops over cameras).
    epoch_steps: batches per epoch (0: ``N // (P*K)``), e.g. to give every run of a comparison
    the same number of steps. checkpoint_every: also write ``epoch_NNN.pt`` (and the logs so
    far) every this many epochs (0: only at the end). id_weight: factor of the identity loss
    (``loss``) beside the distillation term (0: distillation alone)."""

    net: NetConfig = field(default_factory=NetConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    epochs: int = 60
    p: int = 16
    k: int = 4
    lr: float = 1e-3
    weight_decay: float = 5e-4
    warmup_epochs: int = 3
    final_lr_ratio: float = 0.01
    seed: int = 0
    eval_every: int = 5
    distill: DistillConfig = field(default_factory=DistillConfig)
    precision: str = "fp32"
    sampler: str = "pk"
    balance_power: float = 0.5
    epoch_steps: int = 0
    checkpoint_every: int = 0
    id_weight: float = 1.0

    def __post_init__(self) -> None:
        if self.epochs < 1:
            raise ValueError(f"epochs={self.epochs}: must be >= 1")
        if self.p < 2 and self.loss.name in ("triplet", "contrastive"):
            raise ValueError(f"P={self.p}: metric losses need P >= 2 identities per batch")
        if self.p < 1 or self.k < 1:
            raise ValueError(f"P={self.p}, K={self.k}: both must be >= 1")
        if self.k < 2 and self.loss.name in ("triplet", "contrastive"):
            raise ValueError(f"K={self.k}: metric losses need K >= 2 crops per identity")
        if self.lr <= 0 or self.weight_decay < 0:
            raise ValueError(f"lr={self.lr} must be > 0, weight_decay={self.weight_decay} >= 0")
        if self.warmup_epochs < 0 or self.eval_every < 1:
            raise ValueError("warmup_epochs must be >= 0 and eval_every >= 1")
        if self.precision not in ("fp32", "bf16"):
            raise ValueError(f"precision={self.precision!r}: allowed 'fp32' or 'bf16'")
        if self.sampler not in ("pk", "balanced"):
            raise ValueError(f"sampler={self.sampler!r}: allowed 'pk' or 'balanced'")
        if self.balance_power < 0 or self.epoch_steps < 0 or self.checkpoint_every < 0:
            raise ValueError("balance_power, epoch_steps, checkpoint_every: must be >= 0")
        if self.id_weight < 0:
            raise ValueError(f"id_weight={self.id_weight}: must be >= 0")
        if not 0 < self.final_lr_ratio <= 1:
            raise ValueError(f"final_lr_ratio={self.final_lr_ratio}: allowed range (0, 1]")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["net"] = self.net.to_dict()
        return d


def lr_factor(step: int, total: int, warmup: int, final_ratio: float) -> float:
    """Linear warm-up over ``warmup`` steps, then cosine from 1 to ``final_ratio``."""
    if step < warmup:
        return (step + 1) / warmup
    t = (step - warmup) / max(1, total - warmup)
    return final_ratio + (1 - final_ratio) * 0.5 * (1 + math.cos(math.pi * min(1.0, t)))


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """(B, H, W, 3) uint8 RGB -> (B, 3, H, W) float32 in [0, 255]."""
    return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float()


@torch.no_grad()
def embed_set(model: EmbeddingNet, images: np.ndarray, batch: int = 256) -> np.ndarray:
    """(N, H, W, 3) uint8 RGB at the model's size -> (N, D) float32 unit rows (eval mode, on
    the model's device, float32)."""
    was = model.training
    model.eval()
    dev = next(model.parameters()).device
    out = [model(to_tensor(images[s:s + batch]).to(dev)).float().cpu().numpy()
           for s in range(0, len(images), batch)]
    model.train(was)
    return np.concatenate(out) if out else np.zeros((0, model.config.dim), np.float32)


def validate(model: EmbeddingNet, val: CropSet) -> dict:
    """Rank-1 and mAP (means over the validation groups) and per group."""
    from .encoder import resize_crops

    images = resize_crops(val.images, model.config.input_hw)
    res = evaluate_embeddings(val, embed_set(model, images))
    r1, m = mean_scores(res)
    out = {"val_rank1": r1, "val_mAP": m}
    for r in res:
        out[f"{r.name}_mAP"] = r.scores.mAP
    return out


@dataclass
class TrainResult:
    model: EmbeddingNet
    history: list[dict]
    best_epoch: int | None


RESUME_FORMAT = "cosmot-train-state/1"
RESUME_FILE = "resume.pt"


def _check_inputs(crops: CropSet, config: TrainConfig, dev: torch.device, teacher,
                  teacher_encoder) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """ValueError for a device or distillation input that does not fit ``config``; returns
    ``(teacher targets, centre)``: the cached teacher embeddings as a tensor (offline
    distillation; centred with ``center``) or None, and for online targets with ``center`` the
    mean of the cached clean-crop embeddings (else None)."""
    if config.precision == "bf16" and dev.type != "cuda":
        raise ValueError("precision='bf16' trains under CUDA autocast; use device='cuda' or "
                         "precision='fp32'")
    dcfg = config.distill
    if dcfg.weight <= 0:
        return None, None
    if dcfg.online and teacher_encoder is None:
        raise ValueError("online distillation needs teacher_encoder")
    if dcfg.online and not dcfg.center:
        return None, None
    if teacher is None or len(teacher) != len(crops) or np.ndim(teacher) != 2:
        need = "the centre of online targets needs" if dcfg.online else "needs"
        raise ValueError(f"distillation weight {dcfg.weight} {need} teacher embeddings of "
                         f"shape ({len(crops)}, D), got "
                         f"{None if teacher is None else np.shape(teacher)}")
    from .distill import center_targets, center_vector

    if dcfg.online:
        return None, torch.from_numpy(center_vector(teacher))
    if dcfg.center:
        teacher = center_targets(teacher)
    return torch.from_numpy(np.ascontiguousarray(teacher, dtype=np.float32)), None


def _make_sampler(crops: CropSet, labels: np.ndarray, num_classes: int, config: TrainConfig):
    """The P x K batch sampler of ``config.sampler`` (plain, or balanced over datasets)."""
    if config.sampler == "balanced":
        sampler = BalancedPKSampler(labels, crops.space_index()[crops.sources], crops.cams,
                                    min(config.p, num_classes), config.k, config.seed,
                                    config.balance_power)
    else:
        sampler = PKSampler(labels, min(config.p, num_classes), config.k, config.seed)
    if config.epoch_steps:
        sampler.batches_per_epoch = config.epoch_steps
    return sampler


def _make_optimiser(modules: list[torch.nn.Module], config: TrainConfig
                    ) -> torch.optim.Optimizer:
    """Adam with weight decay on weight matrices and kernels only (not biases, norms, scales)."""
    decay, no_decay = [], []
    for m in modules:
        for name, p in m.named_parameters():
            (no_decay if p.ndim <= 1 else decay).append(p)
    return torch.optim.Adam([{"params": decay, "weight_decay": config.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=config.lr)


@dataclass
class _Run:
    """Everything a training run changes from step to step: what ``resume.pt`` holds."""

    model: EmbeddingNet
    criterion: Criterion
    projector: torch.nn.Module | None
    sampler: object
    gen: torch.Generator
    opt: torch.optim.Optimizer | None
    epoch: int = 0
    step: int = 0
    history: list = field(default_factory=list)
    best: float = -1.0
    best_epoch: int | None = None

    def modules(self) -> list[torch.nn.Module]:
        return [m for m in (self.model, self.criterion, self.projector) if m is not None]


def _projector(config: TrainConfig, teacher_dim: int | None) -> torch.nn.Module | None:
    """Linear head from the student's length to the teacher's (embedding regression only, and
    only when the two differ); trained beside the student, never saved with it."""
    dcfg = config.distill
    if dcfg.weight <= 0 or dcfg.kind != "regress" or teacher_dim in (None, config.net.dim):
        return None
    return torch.nn.Linear(config.net.dim, teacher_dim, bias=False)


def _new_run(crops: CropSet, labels: np.ndarray, num_classes: int, config: TrainConfig,
             dev: torch.device, teacher_dim: int | None) -> _Run:
    """A fresh run; the order of these draws is part of the recipe: seeded runs repeat bit for
    bit (the projector, drawn last, leaves earlier recipes' draws unchanged)."""
    torch.manual_seed(config.seed)
    model = EmbeddingNet(config.net).to(dev)
    criterion = Criterion(config.loss, config.net.dim, num_classes).to(dev)
    sampler = _make_sampler(crops, labels, num_classes, config)
    gen = torch.Generator().manual_seed(config.seed + 1)
    projector = _projector(config, teacher_dim)
    if projector is not None:
        projector = projector.to(dev)
    run = _Run(model, criterion, projector, sampler, gen, opt=None)
    run.opt = _make_optimiser(run.modules(), config)
    return run


def _data_fingerprint(labels: np.ndarray, teacher_t: torch.Tensor | None) -> str:
    import hashlib

    h = hashlib.sha256(np.ascontiguousarray(labels).tobytes())
    if teacher_t is not None:
        h.update(teacher_t.numpy().tobytes())
    return h.hexdigest()


def save_run_state(path: Path, run: _Run, config: TrainConfig, fingerprint: str) -> None:
    """Write everything needed to continue ``run`` bit for bit (atomically: a kill during the
    write leaves the previous state)."""
    state = {"format": RESUME_FORMAT, "config": json.dumps(config.to_dict(), sort_keys=True),
             "fingerprint": fingerprint, "epoch": run.epoch, "step": run.step,
             "history": json.dumps(run.history), "best": run.best,
             "best_epoch": -1 if run.best_epoch is None else run.best_epoch,
             "model": run.model.state_dict(), "criterion": run.criterion.state_dict(),
             "projector": None if run.projector is None else run.projector.state_dict(),
             "opt": run.opt.state_dict(),
             "sampler_rng": json.dumps(run.sampler.rng.bit_generator.state),
             "gen": run.gen.get_state(), "torch_rng": torch.get_rng_state()}
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def _with_defaults(saved: dict, defaults: dict) -> dict:
    """``saved`` with the keys it lacks taken from ``defaults``, nested dicts too."""
    out = dict(saved)
    for key, value in defaults.items():
        if key not in out:
            out[key] = value
        elif isinstance(value, dict) and isinstance(out[key], dict):
            out[key] = _with_defaults(out[key], value)
    return out


def load_run_state(path: Path, run: _Run, config: TrainConfig, fingerprint: str) -> None:
    """Restore ``run`` from ``save_run_state``'s file; ValueError when it belongs to another
    configuration or other data."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - any unreadable file gets the same message
        raise ValueError(f"{path}: cannot be read as a training state ({e}); delete it to "
                         f"start the run again") from None
    if not isinstance(state, dict) or state.get("format") != RESUME_FORMAT:
        raise ValueError(f"{path}: not a cosmot training state ({RESUME_FORMAT!r} expected)")
    # settings added to TrainConfig after the run started take their defaults (which is what
    # that run used)
    saved = _with_defaults(json.loads(state["config"]), TrainConfig().to_dict())
    now = config.to_dict()
    diff = sorted(k for k in set(saved) | set(now) if saved.get(k) != json.loads(
        json.dumps(now.get(k))))
    if diff:
        raise ValueError(f"{path}: the run was started with other settings ({', '.join(diff)} "
                         f"differ); resume with the run's own settings or use another --out")
    if state["fingerprint"] != fingerprint:
        raise ValueError(f"{path}: the run was started on other crops or teacher embeddings; "
                         f"resume with the same --crops (and teacher) or use another --out")
    run.model.load_state_dict(state["model"])
    run.criterion.load_state_dict(state["criterion"])
    if run.projector is not None:
        run.projector.load_state_dict(state["projector"])
    run.opt.load_state_dict(state["opt"])
    run.sampler.rng.bit_generator.state = json.loads(state["sampler_rng"])
    run.gen.set_state(state["gen"])
    torch.set_rng_state(state["torch_rng"])
    run.epoch, run.step = int(state["epoch"]), int(state["step"])
    run.history = json.loads(state["history"])
    run.best = float(state["best"])
    run.best_epoch = None if int(state["best_epoch"]) < 0 else int(state["best_epoch"])


@dataclass
class _Targets:
    """Where the distillation targets come from: cached rows (``cached``, indexed by crop), or
    the teacher run on each batch (``encoder``; ``center``: the mean subtracted from its
    outputs with ``DistillConfig.center``)."""

    cached: torch.Tensor | None = None
    center: torch.Tensor | None = None
    encoder: object = None

    def of(self, idx: np.ndarray, view: torch.Tensor) -> torch.Tensor:
        """The targets of the batch of crops ``idx`` whose teacher view is ``view``."""
        if self.encoder is None:
            return self.cached[torch.from_numpy(idx)].to(view.device)
        from .distill import center_online

        t = torch.from_numpy(self.encoder.embed_crops(augmented_to_uint8(view.cpu())))
        return (t if self.center is None else center_online(t, self.center)).to(view.device)


def _batch_loss(run: _Run, x: torch.Tensor, y: torch.Tensor, idx: np.ndarray,
                config: TrainConfig, targets: _Targets, view: torch.Tensor
                ) -> tuple[torch.Tensor, int, float, float]:
    """(loss, correct predictions, distillation loss, relational loss) of one augmented
    batch ``x``; ``view``: what an online teacher embeds (``x`` itself, or its undegraded
    twin)."""
    dcfg = config.distill
    with torch.autocast("cuda", dtype=torch.bfloat16, enabled=config.precision == "bf16"):
        feats = run.model.features(x)
        loss, hits = run.criterion(feats, y)
    if config.id_weight != 1.0:
        loss = config.id_weight * loss
    distill = relational = 0.0
    if dcfg.weight > 0:
        target = targets.of(idx, view)
        if dcfg.kind == "regress":
            student = feats.float() if run.projector is None else run.projector(feats.float())
            d = embedding_regression_loss(student, target)
            if dcfg.relational > 0:
                r = similarity_distill_loss(feats.float(), target, "kl", dcfg.temperature)
                loss = loss + dcfg.relational * r
                relational = r.item()
        else:
            d = similarity_distill_loss(feats.float(), target, dcfg.kind, dcfg.temperature)
        loss = loss + dcfg.weight * d
        distill = d.item()
    return loss, hits, distill, relational


def _run_epoch(run: _Run, crops_images: np.ndarray, labels: np.ndarray, config: TrainConfig,
               dev: torch.device, images_dev, noise_gen, targets: _Targets, bar) -> dict:
    """One pass of the sampler; returns the epoch's log row (without validation)."""
    steps_per_epoch = len(run.sampler)
    total = steps_per_epoch * config.epochs
    warm = steps_per_epoch * config.warmup_epochs
    margin_warm = steps_per_epoch * config.loss.margin_warmup_epochs
    loss_sum, distill_sum, relational_sum, correct, seen = 0.0, 0.0, 0.0, 0, 0
    t_epoch = time.perf_counter()
    for idx in run.sampler:
        for g in run.opt.param_groups:
            g["lr"] = config.lr * lr_factor(run.step, total, warm, config.final_lr_ratio)
        if margin_warm:
            run.criterion.set_margin_factor(run.step / margin_warm)
        batch = (to_tensor(crops_images[idx]) if images_dev is None
                 else images_dev[torch.from_numpy(idx).to(dev)].float())
        if config.distill.online and config.distill.online_view == "undegraded":
            x, view = augment_pair(batch, config.augment, run.gen, noise_gen)
        else:
            x = view = augment(batch, config.augment, run.gen, noise_gen)
        y = torch.from_numpy(labels[idx]).to(dev)
        loss, hits, distill, relational = _batch_loss(run, x, y, idx, config, targets, view)
        distill_sum += distill * len(idx)
        relational_sum += relational * len(idx)
        run.opt.zero_grad(set_to_none=True)
        loss.backward()
        run.opt.step()
        loss_sum += loss.item() * len(idx)
        correct += hits
        seen += len(idx)
        run.step += 1
        if bar is not None:
            bar.update(1)
            bar.set_postfix(epoch=run.epoch + 1, loss=f"{loss_sum / seen:.3f}")
    row = {"epoch": run.epoch + 1, "step": run.step, "lr": run.opt.param_groups[0]["lr"],
           "loss": loss_sum / seen, "train_acc": correct / seen,
           "epoch_seconds": time.perf_counter() - t_epoch,
           "crops_per_s": seen / max(time.perf_counter() - t_epoch, 1e-9)}
    if config.distill.weight > 0:
        row["distill_loss"] = distill_sum / seen
    if config.distill.relational > 0:
        row["relational_loss"] = relational_sum / seen
    if hasattr(os, "getloadavg"):
        row["load_avg_1min"] = os.getloadavg()[0]
    return row


def train(crops: CropSet, config: TrainConfig, out_dir: str | Path | None = None,
          val: CropSet | None = None, progress: bool = True,
          log: Callable[[str], None] = print, meta: dict | None = None,
          teacher: np.ndarray | None = None, teacher_encoder=None,
          device: str = "cpu", resume: bool = False) -> TrainResult:
    """Train on all crops of ``crops`` (its (source, pid) pairs are the classes). Crops of
    another size than the network's input are resized to it first (as the encoder resizes
    at inference), so one crop set at 256x128 serves a 256x128 teacher and a 128x64 student.

    teacher: (N, Dt) teacher embeddings of the crops (row i for crop i), needed when
    ``config.distill.weight > 0``: the loss gains ``weight x`` the distillation loss of
    ``config.distill.kind`` (embedding regression or batch similarity).
    teacher_encoder: with ``config.distill.online``, an encoder (``embed_crops``) run on each
    augmented batch instead (or on its undegraded twin, ``config.distill.online_view``);
    ``teacher`` then only gives the centre subtracted from its outputs with
    ``config.distill.center`` (and is not needed without it).

    device: "cpu" or "cuda[:k]" (``config.precision`` "bf16" needs CUDA).

    Writes to ``out_dir`` (when given): ``last.pt`` (and ``best.pt``, best validation mAP, when
    ``val`` is given), ``log.json`` (config + per-epoch history), ``log.csv``, ``curve.png``
    and, after every epoch, ``resume.pt``: with ``resume=True`` a run whose folder holds one
    continues after its last finished epoch, giving the same tensors as an uninterrupted run
    (on the CPU, same thread count). Each log row carries the epoch's seconds and the 1-minute
    load average.
    """
    from .encoder import resize_crops

    dev = resolve_device(device)
    teacher_t, center_t = _check_inputs(crops, config, dev, teacher, teacher_encoder)
    labels, num_classes = crops.labels()
    if num_classes < 2:
        raise ValueError(f"training needs at least 2 identities, got {num_classes}")
    out = Path(out_dir) if out_dir is not None else None
    if resume and out is None:
        raise ValueError("resume=True needs out_dir (the run's folder)")
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    images = resize_crops(crops.images, tuple(config.net.input_hw))
    if images is not crops.images:
        log(f"crops resized from {crops.size_hw[0]}x{crops.size_hw[1]} to the network's "
            f"{config.net.input_hw[0]}x{config.net.input_hw[1]}")
    fingerprint = _data_fingerprint(labels, teacher_t if center_t is None else center_t)
    with torch.random.fork_rng(devices=[]):
        teacher_dim = (int(teacher_t.shape[1]) if teacher_t is not None else
                       int(center_t.shape[0]) if center_t is not None else
                       getattr(teacher_encoder, "dim", None))
        run = _new_run(crops, labels, num_classes, config, dev, teacher_dim)
        state_path = out / RESUME_FILE if out is not None else None
        if resume and state_path.is_file():
            load_run_state(state_path, run, config, fingerprint)
            log(f"resuming {out} after epoch {run.epoch} of {config.epochs}")
        elif resume:
            log(f"{state_path}: no training state yet; starting from epoch 1")
        total = len(run.sampler) * config.epochs
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=total, initial=run.step, desc="train", unit="batch", leave=False)
        run.model.train()
        run.criterion.train()
        # the whole crop set on the device once (uint8, (N, 3, H, W)); on the CPU batches are
        # converted one at a time as before
        images_dev = noise_gen = None
        if dev.type == "cuda":
            images_dev = torch.from_numpy(images).to(dev).permute(0, 3, 1, 2)
            # erasing noise drawn on the GPU: no full-size CPU draw and copy per batch
            noise_gen = torch.Generator(device=dev).manual_seed(config.seed + 2)
        while run.epoch < config.epochs:
            row = _run_epoch(run, images, labels, config, dev, images_dev, noise_gen,
                             _Targets(teacher_t, center_t, teacher_encoder), bar)
            run.epoch += 1
            row["seconds"] = sum(r["epoch_seconds"] for r in run.history) + row[
                "epoch_seconds"]
            _end_of_epoch(run, row, config, out, val, meta, fingerprint)
            log(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                         for k, v in row.items()))
        if bar is not None:
            bar.close()
    run.model.eval()
    if out is not None:
        save_checkpoint(out / "last.pt", run.model, {**(meta or {}), "epoch": config.epochs})
        write_logs(out, config, run.history, meta)
    return TrainResult(run.model, run.history, run.best_epoch)


def _end_of_epoch(run: _Run, row: dict, config: TrainConfig, out: Path | None,
                  val: CropSet | None, meta: dict | None, fingerprint: str) -> None:
    """Validation, best/periodic checkpoints and the resumable state after an epoch."""
    epoch = run.epoch
    if val is not None and (epoch % config.eval_every == 0 or epoch == config.epochs):
        row.update(validate(run.model, val))
        if row["val_mAP"] > run.best and out is not None:
            run.best, run.best_epoch = row["val_mAP"], epoch
            save_checkpoint(out / "best.pt", run.model, {**(meta or {}), "epoch": epoch})
        run.model.train()
    if hasattr(run.criterion.head, "scale"):
        row["scale"] = float(run.criterion.head.scale.detach())
    run.history.append(row)
    if out is None:
        return
    if config.checkpoint_every and epoch % config.checkpoint_every == 0:
        save_checkpoint(out / f"epoch_{epoch:03d}.pt", run.model, {**(meta or {}), "epoch": epoch})
        write_logs(out, config, run.history, meta, curve=False)
        run.model.train()
    save_run_state(out / RESUME_FILE, run, config, fingerprint)


def write_logs(out: Path, config: TrainConfig, history: list[dict], meta: dict | None,
               curve: bool = True) -> None:
    """log.json, log.csv and (with ``curve``) curve.png (loss and validation mAP per epoch)."""
    (out / "log.json").write_text(json.dumps({"config": config.to_dict(), "meta": meta or {},
                                              "history": history}, indent=2))
    keys = sorted({k for row in history for k in row}, key=lambda k: (k != "epoch", k))
    with open(out / "log.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=keys)
        w.writeheader()
        w.writerows(history)
    if curve:
        plot_curve(history, out / "curve.png")


def plot_curve(history: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    ep = [r["epoch"] for r in history]
    ax.plot(ep, [r["loss"] for r in history], label="train loss", color="tab:blue")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    val = [(r["epoch"], r["val_mAP"]) for r in history if "val_mAP" in r]
    if val:
        ax2 = ax.twinx()
        ax2.plot(*zip(*val), "o-", color="tab:red", label="val mAP")
        ax2.set_ylabel("validation mAP")
        ax2.legend(loc="upper right")
    ax.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
