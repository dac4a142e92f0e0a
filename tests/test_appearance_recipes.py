"""Named training recipes resolve to the commands written in appearance/README.md."""

from __future__ import annotations

import dataclasses

import pytest

from cosmot.appearance.domain_augment import MOT_DOMAIN
from cosmot.appearance.recipes import recipe
from cosmot.cli.main import build_parser
from cosmot.cli.reid.common import CACHE
from cosmot.cli.reid.train import apply_recipe, train_config_from_args
from cosmot.paths import data_dir

# the distillation recipe's fold-B command, as appearance/README.md's tables ran it
EXPLICIT_V3 = (
    "reid train --crops {cache}/pool256.npz --exclude-sources MOT16-11 KITTI-17 --allow-heldout "
    "--distill-teacher {data}/models/osnet_x0_25_msmt17.onnx --distill-kind regress "
    "--distill-center --distill-weight 1 --loss multi_similarity --miner multi_similarity "
    "--id-weight 0.1 --widths 32,64,128 --blocks 2,2,2 --dim 512 --lowres-p 0.5 --lr 2e-3 "
    "--warmup-epochs 1 --epochs 20 --val-fraction 0 --threads 2 --seed 1 --out x")


def _args(argv: list[str]):
    args = build_parser().parse_args(argv)
    if args.recipe:
        apply_recipe(args)
    return args


def test_recipe_v3_is_the_explicit_distillation_command():
    explicit = _args(EXPLICIT_V3.format(cache=CACHE, data=data_dir()).split())
    named = _args(["reid", "train", "--recipe", "v3", "--exclude-sources", "MOT16-11",
                   "KITTI-17", "--allow-heldout", "--seed", "1", "--out", "x"])
    assert dataclasses.asdict(train_config_from_args(named)) == \
        dataclasses.asdict(train_config_from_args(explicit))
    for key in ("crops", "distill_teacher", "threads", "val_fraction", "exclude_sources",
                "allow_heldout"):
        assert getattr(named, key) == getattr(explicit, key), key
    assert named.crops_command == "cosmot reid build-crops --preset pool"


def test_recipe_v3_leaves_given_options_alone():
    named = _args(["reid", "train", "--recipe", "v3", "--domain-aug", "--epochs", "5",
                   "--out", "x"])
    config = train_config_from_args(named)
    assert config.epochs == 5 and config.augment.domain == MOT_DOMAIN
    assert config.net.dim == recipe("v3")["dim"] == 512 and config.lr == 2e-3
    assert config.distill.center and config.distill.kind == "regress"
    assert config.distill.relational == 0.0
    config = train_config_from_args(_args(["reid", "train", "--recipe", "v3",
                                           "--distill-relational", "1", "--out", "x"]))
    assert config.distill.relational == 1.0 and config.distill.center
    with pytest.raises(ValueError, match="--distill-relational needs --distill-teacher"):
        train_config_from_args(_args(["reid", "train", "--crops", "x.npz",
                                      "--distill-relational", "1", "--out", "x"]))


class _NoCrops:
    """Stands for an empty crop set where build-crops only prints its size."""

    def __len__(self):
        return 0

    def num_identities(self):
        return 0


def test_pool_preset_fills_the_pool_command(monkeypatch):
    import cosmot.appearance.folders as folders
    from cosmot.cli.reid import build_crops

    seen = {}

    def fake_crops(name, size, stride, min_visibility, min_height):
        seen.setdefault("mot", []).append(name)
        seen["size"], seen["stride"] = size, stride
        return _NoCrops()

    def fake_col780(root, size):
        seen["col780"] = root
        raise StopIteration  # stop before reading any data

    monkeypatch.setattr(build_crops, "crops_from_mot", fake_crops)
    monkeypatch.setattr(folders, "load_col780", fake_col780)
    args = build_parser().parse_args(["reid", "build-crops", "--preset", "pool"])
    try:
        build_crops.run(args)
    except StopIteration:
        pass
    assert seen == {"mot": ["MOT16-11", "KITTI-17", "PETS09-S2L1", "TUD-Stadtmitte"],
                    "size": (256, 128), "stride": 2,
                    "col780": str(data_dir() / "reid" / "col780")}
