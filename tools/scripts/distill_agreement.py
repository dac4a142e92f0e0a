"""Diagnostic for appearance/README.md "Distillation from OSNet-x0.25: results": Pearson
correlation between each student's and OSNet-x0.25's pairwise cosine similarities on 400 random
training crops and 400 crops of each MOT held-out sequence. Needs the runs of that section under
runs/distill/ and the crop files in the reid crop cache (``cosmot.cli.reid.common.CACHE``; the
teacher cache beside train.npz is reused or made). Run from the repository root: python tools/scripts/distill_agreement.py
"""

from __future__ import annotations

import numpy as np
import torch

from cosmot.appearance import load_encoder
from cosmot.appearance.crops import CropSet
from cosmot.appearance.distill import embed_with_teacher, teacher_embeddings
from cosmot.paths import cache_dir

CACHE = cache_dir("reid")
from cosmot.paths import data_dir

RUNS = ("baseline_s0", "w1_s0", "w5_s0", "w20_s0", "online_w5_s0", "online_w20_s0")


def offdiag_corr(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of the off-diagonal entries of a a^T and b b^T."""
    sa, sb = a @ a.T, b @ b.T
    m = ~np.eye(len(a), dtype=bool)
    return float(np.corrcoef(sa[m], sb[m])[0, 1])


def main() -> None:
    torch.set_num_threads(1)
    osnet = data_dir() / "models" / "osnet_x0_25_msmt17.onnx"
    rng = np.random.default_rng(0)
    tr = CropSet.load(CACHE / "train.npz")
    ho = CropSet.load(CACHE / "heldout.npz")
    teach = load_encoder(str(osnet), threads=1)
    it = rng.choice(len(tr), 400, replace=False)
    emb = teacher_embeddings(CACHE / "train.npz", osnet, tr.images, True, threads=1)[0]
    sets = {"train (aug-free)": (tr.images[it], emb[it])}
    for name in ("PETS09-S2L1", "TUD-Stadtmitte"):
        s = ho.select_sources([name])
        i = rng.choice(len(s), min(400, len(s)), replace=False)
        sets[name] = (s.images[i], embed_with_teacher(teach, s.images[i], True))
    print("Pearson correlation of pairwise cosine similarities, student vs OSNet "
          "(flip-averaged), 400 random crops per set")
    print("| student | " + " | ".join(sets) + " |")
    for r in RUNS:
        enc = load_encoder(f"runs/distill/{r}/last.pt", threads=1)
        row = [offdiag_corr(enc.embed_crops(im), te) for im, te in sets.values()]
        print(f"| {r} | " + " | ".join(f"{v:.3f}" for v in row) + " |")


if __name__ == "__main__":
    main()
