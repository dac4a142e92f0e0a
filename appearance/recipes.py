"""Named training recipes: ``cosmot reid train --recipe NAME`` sets these option values (options
left at their defaults take the recipe's value; options given with another value win).

Keys are the option names of ``cosmot reid train`` with ``-`` written ``_``; ``crops`` is the
crop file (a name in the crop cache, `cosmot.cli.reid.common.CACHE`) made by the recipe's
``crops_command``.
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
}


def recipe(name: str) -> dict:
    """The option values of recipe ``name`` (ValueError naming the known ones)."""
    if name not in RECIPES:
        raise ValueError(f"recipe {name!r}: known recipes {sorted(RECIPES)}")
    return dict(RECIPES[name])
