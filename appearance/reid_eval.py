"""Evaluating encoders on a ``CropSet``: one score per source, with the protocol each needs.

- A source pair named ``<x>/query`` and ``<x>/gallery`` is a query/gallery split (same identity
  and same camera excluded), e.g. col780's val set.
- Any other source of a video (fps > 0) is evaluated all-vs-all: every crop is a query against
  the other crops of that source; crops of the same identity less than ``min_gap_seconds``
  away are left out.
- Any other still-image source (fps 0) is evaluated all-vs-all across cameras: the same
  identity in the same camera is left out.
Identities are never compared across sources. Sources without crops (e.g. after
``CropSet.select_sources``) are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .crops import CropSet
from .encoder import Encoder
from .retrieval_metrics import (ReidScores, evaluate_all_vs_all, evaluate_all_vs_all_cameras,
                       evaluate_query_gallery)


@dataclass(frozen=True)
class SourceScores:
    """Scores of one evaluation group (a sequence, or a query/gallery pair named ``name``)."""

    name: str
    scores: ReidScores
    num_identities: int


def evaluation_groups(crops: CropSet) -> list[tuple[str, np.ndarray, np.ndarray | None]]:
    """(name, query index, gallery index or None for all-vs-all) per group, in source order;
    groups without crops are left out."""
    groups = []
    names = crops.source_names
    done = set()
    for s, name in enumerate(names):
        if name in done:
            continue
        idx = np.flatnonzero(crops.sources == s)
        if len(idx) == 0 and not name.endswith("/gallery"):
            done.add(name)
            continue
        if name.endswith("/query"):
            base = name[: -len("/query")]
            g_name = base + "/gallery"
            if g_name not in names:
                raise ValueError(f"source {name!r} has no matching {g_name!r}")
            g_idx = np.flatnonzero(crops.sources == names.index(g_name))
            groups.append((base, idx, g_idx))
            done |= {name, g_name}
        elif name.endswith("/gallery"):
            continue  # taken with its query
        else:
            groups.append((name, idx, None))
            done.add(name)
    return groups


def evaluate_embeddings(crops: CropSet, emb: np.ndarray, max_rank: int = 10,
                        min_gap_seconds: float = 2.0) -> list[SourceScores]:
    """Scores per group for precomputed (N, D) unit-length embeddings of ``crops``."""
    out = []
    for name, q, g in evaluation_groups(crops):
        if g is None:
            fps = crops.source_fps[crops.source_names.index(name)]
            if fps > 0:
                gap = max(1, int(round(min_gap_seconds * fps)))
                sc = evaluate_all_vs_all(emb[q], crops.pids[q], crops.frames[q], gap, max_rank)
            else:
                sc = evaluate_all_vs_all_cameras(emb[q], crops.pids[q], crops.cams[q], max_rank)
            n_ids = len(np.unique(crops.pids[q]))
        else:
            sc = evaluate_query_gallery(emb[q], crops.pids[q], crops.cams[q], emb[g],
                                        crops.pids[g], crops.cams[g], max_rank)
            n_ids = len(np.unique(crops.pids[q]))
        out.append(SourceScores(name, sc, n_ids))
    return out


def evaluate_encoder(encoder: Encoder, crops: CropSet, max_rank: int = 10,
                     min_gap_seconds: float = 2.0) -> list[SourceScores]:
    """Embed every crop with ``encoder.embed_crops`` and score each group."""
    return evaluate_embeddings(crops, encoder.embed_crops(crops.images), max_rank,
                               min_gap_seconds)


def mean_scores(results: list[SourceScores], names: list[str] | None = None
                ) -> tuple[float, float]:
    """(mean rank-1, mean mAP) over groups (optionally only those named), each group weighted
    equally."""
    sel = [r for r in results if names is None or r.name in names]
    if not sel:
        return float("nan"), float("nan")
    return (float(np.mean([r.scores.rank(1) for r in sel])),
            float(np.mean([r.scores.mAP for r in sel])))
