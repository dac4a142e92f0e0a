"""A seeded synthetic scene: people walking, their ground truth, and noisy detections.

Used for statistical tests of tracker behaviour and for benchmarks. Everything is drawn from one
``numpy.random.Generator``, so a seed fixes the whole scene.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SceneFrame:
    """One frame: ground truth and detections.

    gt_ids (G,) int64, gt_xyxy (G, 4); det_xyxy (M, 4), det_scores (M,), det_embeddings (M, D)
    float32 unit rows, det_gt (M,) int64 the gt id a detection came from (-1: false positive).
    """

    gt_ids: np.ndarray
    gt_xyxy: np.ndarray
    det_xyxy: np.ndarray
    det_scores: np.ndarray
    det_embeddings: np.ndarray
    det_gt: np.ndarray


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def walking_scene(n_people: int, n_frames: int, seed: int = 0, width: float = 1920.0,
                  height: float = 1080.0, speed: float = 3.0, box_noise: float = 0.03,
                  miss_rate: float = 0.0, false_positives: float = 0.0, dim: int = 128,
                  embedding_noise: float = 0.3) -> list[SceneFrame]:
    """People with constant velocity that bounce off the image borders.

    box_noise: std of box jitter as a fraction of box size; miss_rate: probability that a person
    is not detected in a frame; false_positives: mean number of random boxes per frame;
    embedding_noise: norm of the Gaussian noise added to each person's unit feature.
    """
    rng = np.random.default_rng(seed)
    h = rng.uniform(60, 200, n_people)
    w = h * rng.uniform(0.35, 0.45, n_people)
    size = np.stack([w, h], axis=1)
    pos = np.stack([rng.uniform(0, width - w), rng.uniform(0, height - h)], axis=1)
    vel = rng.normal(scale=speed, size=(n_people, 2))
    base = _unit(rng.normal(size=(n_people, dim)))
    ids = np.arange(1, n_people + 1)
    frames = []
    for _ in range(n_frames):
        pos += vel
        over = (pos < 0) | (pos + size > [width, height])
        vel[over] *= -1
        pos = np.clip(pos, 0, np.array([width, height]) - size)
        gt = np.c_[pos, pos + size]
        seen = rng.random(n_people) >= miss_rate
        jitter = rng.normal(scale=box_noise, size=(n_people, 4)) * np.c_[w, h, w, h]
        det = (gt + jitter)[seen]
        det[:, 2:] = np.maximum(det[:, 2:], det[:, :2] + 1)
        emb = base[seen] + rng.normal(scale=embedding_noise / np.sqrt(dim),
                                      size=(int(seen.sum()), dim))
        det_gt = ids[seen]
        n_fp = rng.poisson(false_positives) if false_positives > 0 else 0
        if n_fp:
            fh = rng.uniform(60, 200, n_fp)
            fxy = np.stack([rng.uniform(0, width - fh), rng.uniform(0, height - fh)], axis=1)
            fp = np.c_[fxy, fxy + np.c_[fh * 0.4, fh]]
            det = np.concatenate([det, fp])
            emb = np.concatenate([emb, rng.normal(size=(n_fp, dim))])
            det_gt = np.concatenate([det_gt, -np.ones(n_fp, np.int64)])
        scores = np.clip(rng.normal(0.8, 0.1, len(det)), 0.0, 1.0)
        frames.append(SceneFrame(ids.copy(), gt, det, scores, _unit(emb), det_gt))
    return frames
