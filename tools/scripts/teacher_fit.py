"""How closely students copy their teacher, on the crops they trained on and on a fold's held-out
sequences (appearance/README.md, issue 18's distillation runs).

For each student checkpoint: the centred regression loss ``1 - cos(student, centred OSNet)``
(the recipe's training target, ``appearance.distill.center_targets`` with the centre of the
fold's training crops) and the Pearson correlation of the pairwise cosine similarities
(student vs OSNet), on a sample of the fold's training crops and on every crop of each judging
sequence in the pool. The teacher's embeddings come from the pool's cache (made by the first
training run on the pool, ``cosmot reid train --recipe v3``); the teacher is not run here.

    python tools/scripts/teacher_fit.py --fold B runs/enc/foldB-*/last.pt
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

from cosmot.appearance import load_encoder
from cosmot.appearance.crops import CropSet
from cosmot.appearance.distill import center_online, center_vector, teacher_embeddings
from cosmot.paths import cache_dir, data_dir
from distill_agreement import offdiag_corr  # tools/scripts, beside this script

JUDGE = {"A": ("PETS09-S2L1", "TUD-Stadtmitte"), "B": ("MOT16-11", "KITTI-17")}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("students", nargs="+", type=Path, help="student checkpoints (.pt / .onnx)")
    ap.add_argument("--fold", choices=sorted(JUDGE), required=True)
    ap.add_argument("--crops", type=Path, default=cache_dir("reid") / "pool256.npz")
    ap.add_argument("--teacher", type=Path,
                    default=data_dir() / "models" / "osnet_x0_25_msmt17.onnx")
    ap.add_argument("--sample", type=int, default=3000,
                    help="training crops sampled for the training columns (seed 0)")
    ap.add_argument("--corr-sample", type=int, default=400,
                    help="crops per set for the similarity correlation (seed 1)")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    pool = CropSet.load(args.crops)
    teacher, cache, _ = teacher_embeddings(args.crops, args.teacher, pool.images, True,
                                           threads=args.threads)
    judge = JUDGE[args.fold]
    src = np.asarray(pool.source_names)[pool.sources]
    seq = np.array([s.split(":")[0] for s in src])
    train = np.flatnonzero(~np.isin(seq, judge))
    center = center_vector(teacher[train])
    rng = np.random.default_rng(0)
    sets = {"training crops": np.sort(rng.choice(train, min(args.sample, len(train)),
                                                 replace=False))}
    for name in judge:
        sets[name] = np.flatnonzero(seq == name)
    print(f"fold {args.fold}: teacher {args.teacher.name} (cache {cache}), centre over "
          f"{len(train)} training crops; sets: "
          + ", ".join(f"{k} {len(v)}" for k, v in sets.items()))
    # the same correlation sample of each set for every student
    pick = {k: np.random.default_rng(1).choice(len(v), min(args.corr_sample, len(v)),
                                               replace=False) for k, v in sets.items()}
    print("| student | " + " | ".join(f"{k}: 1-cos / corr" for k in sets) + " |")
    print("|---|" + "---|" * len(sets))
    for path in args.students:
        enc = load_encoder(str(path), threads=args.threads)
        cells = []
        for name, idx in sets.items():
            s = enc.embed_crops(pool.images[idx])
            s = s / np.linalg.norm(s, axis=1, keepdims=True)
            t = center_online(torch.from_numpy(teacher[idx]),
                              torch.from_numpy(center)).numpy()
            p = pick[name]
            cells.append(f"{1.0 - float((s * t).sum(axis=1).mean()):.3f} / "
                         f"{offdiag_corr(s[p], t[p]):.3f}")
        print(f"| {path} | " + " | ".join(cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
