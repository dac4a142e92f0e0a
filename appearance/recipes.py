"""Named training recipes: ``cosmot reid train --recipe NAME`` sets these option values (options
left at their defaults take the recipe's value; options given with another value win).

Keys are the option names of ``cosmot reid train`` with ``-`` written ``_``; ``crops`` is the
crop file (a name in the crop cache, `cosmot.cli.reid.common.CACHE`) made by the recipe's
``crops_command``; ``distill_teacher`` a path inside the shared data folder
(`cosmot.paths.data_dir`).
"""

from __future__ import annotations

RECIPES: dict[str, dict] = {
    # Encoder v2 (issue 11): ~2,000 identities (CUHK03 labeled + detected in one identity space,
    # CUHK01, col780/train, MOT16-11, KITTI-17), Wojke & Bewley's cosine softmax with learned
    # scale, batches balanced over datasets and cameras, MOT-domain degradations of the sharp
    # CUHK crops plus the low-resolution augmentation; the shipped v1 network shape.
    "v2": {
        "crops_command": "cosmot reid build-crops --preset train-v2",
        "crops": "train_v2.npz",  # in the crop cache, where build-crops writes it
        "loss": "cosine_softmax",
        "sampler": "balanced",
        "domain_aug": True,
        "lowres_p": 0.5,
        "epochs": 10,
        "val_fraction": 0.0,
        "seed": 0,
        "threads": 1,
        "checkpoint_every": 1,
    },
    # Encoder v3 candidate (issue 18, appearance/README.md): the kept distillation recipe. A
    # 512-d w32b2 network (32/64/128, two blocks per stage) regresses OSNet-x0.25's centred
    # embeddings of the original 256x128 crops (cached; OSNet is a training-time teacher only),
    # a multi-similarity pair loss and miner at 0.1 beside it, the low-resolution augmentation,
    # 20 epochs at lr 2e-3 after one warm-up epoch. The pool holds all four MOT sequences: a
    # fold drops two with --exclude-sources (and --allow-heldout when it keeps PETS09-S2L1 /
    # TUD-Stadtmitte); tools/scripts/encoder_fold.sh runs a fold and judges it.
    "v3": {
        "crops_command": "cosmot reid build-crops --preset pool",
        "crops": "pool256.npz",
        "distill_teacher": "models/osnet_x0_25_msmt17.onnx",
        "distill_kind": "regress",
        "distill_center": True,
        "distill_weight": 1.0,
        "loss": "multi_similarity",
        "miner": "multi_similarity",
        "id_weight": 0.1,
        "widths": (32, 64, 128),
        "blocks": (2, 2, 2),
        "dim": 512,
        "lowres_p": 0.5,
        "lr": 2e-3,
        "warmup_epochs": 1,
        "epochs": 20,
        "val_fraction": 0.0,
        "seed": 0,
        "threads": 2,
    },
}


def recipe(name: str) -> dict:
    """The option values of recipe ``name`` (ValueError naming the known ones)."""
    if name not in RECIPES:
        raise ValueError(f"recipe {name!r}: known recipes {sorted(RECIPES)}")
    return dict(RECIPES[name])
