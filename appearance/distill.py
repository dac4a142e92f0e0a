"""Knowledge distillation from a stronger (teacher) embedder into the student network.

Two kinds of target:

- embedding regression (``kind="regress"``): the student's embedding of each crop is pulled
  towards the teacher's embedding of the same crop (``1 - cosine``); when the two lengths differ a
  linear projection head (trained with the student, not shipped) maps the student's features to
  the teacher's length. This is what carries OSNet-x0.25's metric into a small network.
- relational / similarity-preserving distillation (``kind="kl"`` or ``"mse"``): within a
  training batch, the student's cosine-similarity matrix is pulled towards the teacher's. The
  embeddings may have different lengths (128 vs 512), so no projection head is needed.

By default the teacher is not run during training (too slow on the CPU): its embeddings of the
*un-augmented* training crops (optionally averaged with those of the horizontally flipped crop)
are computed once and cached in a file beside the crops, keyed by the crops file's SHA-256 and
the teacher file (path and SHA-256); the student sees the augmented crop, so the target is the
teacher's view of the clean crop. ``DistillConfig.online`` instead runs the teacher on every
augmented batch.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from cosmot.runtime import sha256_file

DISTILL_KINDS = ("regress", "kl", "mse")
ONLINE_VIEWS = ("same", "undegraded")
CACHE_FORMAT = "cosmot-teacher-cache/1"


@dataclass(frozen=True)
class DistillConfig:
    """weight: w in ``loss = id_loss + w * distill_loss`` (0 = off).
    kind: "regress" = ``1 - cos(student, teacher)`` per crop (embedding regression, see
        ``embedding_regression_loss``); "kl" = KL(teacher row || student row) of the softmax over each row's off-diagonal
        similarities at ``temperature`` (both sides the same temperature); "mse" = mean squared
        difference of the off-diagonal cosine similarities.
    teacher: path of the teacher model (recorded only; the embeddings or the teacher itself are
        passed to ``train``).
    flip: the teacher target is the mean of the crop's and its mirror image's embeddings
        (cached targets only).
    online: the teacher embeds, at every step, the augmented batch the student sees
        (``train(teacher_encoder=...)``) instead of cached embeddings of the clean crops.
    online_view: (online) what the teacher sees: "same" = exactly the student's augmented
        crop; "undegraded" = the same crop under the same geometry and colour draws without the
        degradations (low resolution, erasing, MOT-domain occlusion / light / blur / JPEG), see
        ``augment.augment_pair``: targets consistent with the student's pose and colour, still
        those of the sharp crop.
    center: ("regress") regress the teacher's embeddings after subtracting their mean over the
        training crops (then re-normalised), see ``center_targets``; online, the mean is that
        of the cached clean-crop embeddings (``train(teacher=...)``), subtracted from each
        online target.
    relational: ("regress") weight of a relational term beside the regression: the "kl" loss
        of ``similarity_distill_loss`` at ``temperature`` between the batch's student
        similarities and those of the same (centred, with ``center``) targets; the total is
        ``id_loss + weight * regression + relational * kl`` (0 = regression alone)."""

    weight: float = 0.0
    kind: str = "kl"
    temperature: float = 0.1
    teacher: str = ""
    flip: bool = True
    online: bool = False
    online_view: str = "same"
    center: bool = False
    relational: float = 0.0

    def __post_init__(self) -> None:
        if self.weight < 0:
            raise ValueError(f"distill weight={self.weight}: must be >= 0")
        if self.kind not in DISTILL_KINDS:
            raise ValueError(f"distill kind={self.kind!r}: allowed {', '.join(DISTILL_KINDS)}")
        if self.temperature <= 0:
            raise ValueError(f"distill temperature={self.temperature}: must be > 0")
        if self.center and self.kind != "regress":
            raise ValueError(f"distill center: only with kind='regress' (kind {self.kind!r})")
        if self.online_view not in ONLINE_VIEWS:
            raise ValueError(f"distill online_view={self.online_view!r}: allowed "
                             f"{', '.join(ONLINE_VIEWS)}")
        if self.online_view != "same" and not self.online:
            raise ValueError(f"distill online_view={self.online_view!r}: only with online "
                             f"targets (the teacher run on each batch)")
        if self.relational < 0 or (self.relational > 0 and self.kind != "regress"):
            raise ValueError(f"distill relational={self.relational}: a weight >= 0, used only "
                             f"with kind='regress' (kind {self.kind!r} is relational already)")


def similarity_distill_loss(student: torch.Tensor, teacher: torch.Tensor, kind: str = "kl",
                            temperature: float = 0.1) -> torch.Tensor:
    """Distance between the batch's cosine-similarity matrices (diagonal left out).

    student: (B, Ds), teacher: (B, Dt) embeddings (normalised here; Ds and Dt may differ).
    Zero when the two similarity matrices are equal, positive otherwise (for "kl": when some
    row's softmax differs). Needs B >= 2 (returns 0 for smaller batches).
    """
    if student.ndim != 2 or teacher.ndim != 2 or len(student) != len(teacher):
        raise ValueError(f"student {tuple(student.shape)} and teacher {tuple(teacher.shape)}: "
                         f"expected (B, Ds) and (B, Dt)")
    b = len(student)
    if b < 2:
        return student.sum() * 0.0
    s = F.normalize(student, dim=1)
    t = F.normalize(teacher.to(student.dtype), dim=1)
    sim_s = s @ s.T
    sim_t = t @ t.T
    off = ~torch.eye(b, dtype=torch.bool, device=student.device)
    if kind == "mse":
        return ((sim_s - sim_t)[off] ** 2).mean()
    if kind != "kl":
        raise ValueError(f"kind={kind!r}: allowed {', '.join(DISTILL_KINDS)}")
    ls = (sim_s[off].view(b, b - 1) / temperature).log_softmax(dim=1)
    lt = (sim_t[off].view(b, b - 1) / temperature).log_softmax(dim=1)
    return (lt.exp() * (lt - ls)).sum(dim=1).mean()


def embedding_regression_loss(student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
    """Mean of ``1 - cos(student_i, teacher_i)`` over the batch: zero when every student row
    points where its teacher row does. student and teacher: (B, D) of the same D (project the
    student first when its length differs)."""
    if student.shape != teacher.shape or student.ndim != 2:
        raise ValueError(f"student {tuple(student.shape)} and teacher {tuple(teacher.shape)}: "
                         f"expected two (B, D) arrays of one shape (project the student to the "
                         f"teacher's length first)")
    cos = (F.normalize(student, dim=1) * F.normalize(teacher.to(student.dtype), dim=1)).sum(1)
    return (1.0 - cos).mean()


def center_targets(teacher: np.ndarray) -> np.ndarray:
    """Unit rows of ``teacher - mean(unit teacher rows)``: the part of each embedding that
    differs between crops.

    OSNet's embeddings are non-negative (a ReLU output) and share a large common direction:
    on the 26,449 development crops the constant mean embedding is already at ``1 - cos =
    0.34`` from every target, about what a 10-epoch student reached (0.26). Regressing
    the raw embeddings therefore spends most of the loss on that common part and leaves the
    student's embeddings crowded together (different people at cosine distance ~0.1).
    After centring, a constant prediction scores 1 and the whole loss is about what tells
    crops apart."""
    t = np.asarray(teacher, dtype=np.float32)
    t = t / np.maximum(np.linalg.norm(t, axis=1, keepdims=True), 1e-12)
    c = t - t.mean(axis=0, keepdims=True)
    return c / np.maximum(np.linalg.norm(c, axis=1, keepdims=True), 1e-12)


def center_vector(teacher: np.ndarray) -> np.ndarray:
    """The mean of the unit rows of ``teacher`` (D,): what ``center_targets`` subtracts."""
    t = np.asarray(teacher, dtype=np.float32)
    t = t / np.maximum(np.linalg.norm(t, axis=1, keepdims=True), 1e-12)
    return t.mean(axis=0)


def center_online(target: torch.Tensor, center: torch.Tensor) -> torch.Tensor:
    """Unit rows of ``unit(target) - center``: ``center_targets`` for targets computed during
    training, with the centre of the clean crops' cached embeddings."""
    c = F.normalize(target.float(), dim=1) - center.to(target.device)
    return F.normalize(c, dim=1)


def augmented_to_uint8(x: torch.Tensor) -> np.ndarray:
    """(B, 3, H, W) float in [0, 255] (an augmented batch) -> (B, H, W, 3) uint8 RGB."""
    return x.detach().clamp(0, 255).round().to(torch.uint8).permute(0, 2, 3, 1).contiguous(
    ).numpy()


def cache_path(crops_path: str | os.PathLike, teacher_path: str | os.PathLike, flip: bool
               ) -> tuple[Path, str, str]:
    """(cache file beside the crops, crops SHA-256, cache key). The key hashes the crops file's
    content, the teacher's resolved path and content, and the flip setting."""
    crops_path, teacher_path = Path(crops_path), Path(teacher_path)
    crops_sha = sha256_file(crops_path)
    teacher_sha = sha256_file(teacher_path)
    key = hashlib.sha256(f"{CACHE_FORMAT}|{crops_sha}|{teacher_path.resolve()}|{teacher_sha}|"
                         f"flip={int(flip)}".encode()).hexdigest()
    stem = crops_path.name.removesuffix(".npz")
    return crops_path.parent / f"{stem}.teacher-{key[:16]}.npz", crops_sha, key


def embed_with_teacher(encoder, images: np.ndarray, flip: bool) -> np.ndarray:
    """(N, h, w, 3) uint8 RGB -> (N, D) float32 unit rows; with ``flip`` the mean of the crop's
    and its mirror image's embeddings, renormalised."""
    emb = encoder.embed_crops(images)
    if flip:
        emb = emb + encoder.embed_crops(np.ascontiguousarray(images[:, :, ::-1]))
        emb /= np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)
    return emb.astype(np.float32)


def teacher_embeddings(crops_path: str | os.PathLike, teacher_path: str | os.PathLike,
                       images: np.ndarray | None = None, flip: bool = True,
                       threads: int | None = None, encoder=None, log=print
                       ) -> tuple[np.ndarray, Path, bool]:
    """The teacher's embeddings of every crop of ``crops_path`` (in file order), from the cache
    beside it when its key matches, else computed and cached. Returns (emb, cache file, reused).

    images: the crops' images if already loaded (else read from the file).
    encoder: a ready teacher encoder (default: ``load_encoder(teacher_path)``).
    """
    path, crops_sha, key = cache_path(crops_path, teacher_path, flip)
    if path.is_file():
        with np.load(path, allow_pickle=False) as z:
            if str(z["key"]) == key:
                emb = z["embeddings"].astype(np.float32)
                log(f"teacher embeddings: reusing {path} ({emb.shape[0]} x {emb.shape[1]})")
                return emb, path, True
    if images is None:
        from .crops import CropSet

        images = CropSet.load(crops_path).images
    if encoder is None:
        from .registry import load_encoder

        encoder = load_encoder(str(teacher_path), threads=threads)
    t0 = time.perf_counter()
    emb = embed_with_teacher(encoder, images, flip)
    log(f"teacher embeddings: {len(emb)} crops{' (+ mirror images)' if flip else ''} in "
        f"{time.perf_counter() - t0:.1f} s -> {path}")
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, embeddings=emb, key=np.array(key), crops_sha256=np.array(crops_sha),
             teacher=np.array(str(Path(teacher_path).resolve())), flip=np.array(flip))
    os.replace(tmp, path)
    return emb, path, False
