"""``cosmot reid`` end to end on a tiny synthetic MOTChallenge sequence: build-crops, a few
training steps, eval, export (with the ONNX check), adapt and bench."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from cosmot.cli.main import main


def write_sequence(root: Path, name: str, n_frames: int = 12, people: int = 4) -> Path:
    """A static camera with ``people`` coloured rectangles walking right; gt and det files."""
    seq = root / name
    (seq / "img1").mkdir(parents=True)
    (seq / "gt").mkdir()
    (seq / "det").mkdir()
    (seq / "seqinfo.ini").write_text(
        f"[Sequence]\nname={name}\nimDir=img1\nframeRate=10\nseqLength={n_frames}\n"
        f"imWidth=320\nimHeight=160\nimExt=.jpg\n")
    rng = np.random.default_rng(0)
    colours = rng.integers(30, 226, (people, 3))
    gt, det = [], []
    for f in range(1, n_frames + 1):
        img = np.full((160, 320, 3), 90, np.uint8)
        for p in range(people):
            x, y = 10 + 70 * p + 2 * f, 20
            img[y:y + 100, x:x + 40] = colours[p]
            img[y:y + 30, x + 10:x + 30] = 255 - colours[p]
            gt.append(f"{f},{p + 1},{x},{y},40,100,1,1,1.0")
            det.append(f"{f},-1,{x + 1},{y + 1},40,100,0.9")
        cv2.imwrite(str(seq / "img1" / f"{f:06d}.jpg"), img)
    (seq / "gt" / "gt.txt").write_text("\n".join(gt) + "\n")
    (seq / "det" / "det.txt").write_text("\n".join(det) + "\n")
    return seq


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("reid")
    write_sequence(root, "SYN-A")
    write_sequence(root, "SYN-B")
    return root


def test_build_crops_train_eval_export_adapt_bench(workdir, capsys):
    crops = workdir / "crops.npz"
    assert main(["reid", "build-crops", "--mot", str(workdir / "SYN-A"), str(workdir / "SYN-B"),
                 "--stride", "2", "--out", str(crops)]) == 0
    out = capsys.readouterr().out
    assert "SYN-A: 24 crops, 4 identities" in out  # 12 frames / stride 2 x 4 people
    run = workdir / "run"
    assert main(["reid", "train", "--crops", str(crops), "--out", str(run), "--epochs", "2",
                 "--p", "4", "--k", "2", "--widths", "4,8,8", "--dim", "8",
                 "--val-fraction", "0", "--threads", "1", "--quiet"]) == 0
    log = json.loads((run / "log.json").read_text())
    assert len(log["history"]) == 2 and np.isfinite(log["history"][-1]["loss"])
    assert (run / "last.pt").is_file() and (run / "curve.png").is_file()
    assert (run / "log.csv").read_text().startswith("epoch,")
    capsys.readouterr()
    assert main(["reid", "eval", "--crops", str(crops), "--encoders", str(run / "last.pt"),
                 "histogram", "--min-gap-seconds", "0.3", "--json",
                 str(workdir / "scores.json")]) == 0
    table = capsys.readouterr().out
    assert "| run/last.pt | SYN-A | 4 |" in table and "| histogram | mean of sets |" in table
    scores = json.loads((workdir / "scores.json").read_text())
    # the synthetic people have distinct colours: the histogram finds them all
    assert scores["histogram"]["SYN-A"]["rank1"] == 1.0
    # validation identities only (the split 'train --val-fraction' makes), degraded crops
    assert main(["reid", "eval", "--crops", str(crops), "--encoders", "histogram",
                 "--val-fraction", "0.5", "--shrink", "0.5", "--min-gap-seconds", "0.3"]) == 0
    assert "| histogram | SYN-A | 2 |" in capsys.readouterr().out
    assert main(["reid", "export", "--weights", str(run / "last.pt"), "--out",
                 str(workdir / "m.onnx"), "--verify-crops", "8"]) == 0
    assert "OK" in capsys.readouterr().out
    assert main(["reid", "adapt", str(workdir / "SYN-B"), "--weights", str(run / "last.pt"),
                 "--out", str(workdir / "adapted.pt"), "--steps", "2", "--sup-weight", "0",
                 "--min-gap", "3", "--threads", "1", "--quiet"]) == 0
    assert "4 tracklets" in capsys.readouterr().out
    assert main(["reid", "bench", "--weights", str(run / "last.pt"), "--sequence",
                 str(workdir / "SYN-A"), "--batches", "1,4", "--seconds", "0.02",
                 "--external", str(workdir / "m.onnx"), "--threads", "1"]) == 0
    bench = capsys.readouterr().out
    assert bench.count("| cosmot torch |") == 2 and "| m | 4 |" in bench


def test_train_refuses_heldout_sequences(workdir, capsys):
    crops = workdir / "heldout.npz"
    held = write_sequence(workdir / "h", "PETS09-S2L1", n_frames=4, people=2)
    assert main(["reid", "build-crops", "--mot", str(held), "--out", str(crops)]) == 0
    rc = main(["reid", "train", "--crops", str(crops), "--out", str(workdir / "x"),
               "--epochs", "1"])
    assert rc == 1
    assert "held-out sources ['PETS09-S2L1']" in capsys.readouterr().err


def test_detection_crops_train_beside_the_ground_truth_crops(workdir, capsys):
    """Issue 18, lever 1: unlabelled detection crops (IoU tracklets as identities) distilled
    beside labelled crops; excluding a sequence drops its detection crops; held-out sequences'
    detection crops are refused like their ground truth."""
    import cosmot.appearance

    teacher = Path(cosmot.appearance.__file__).parent / "weights" / "default.pt"
    gt, det = workdir / "gt-a.npz", workdir / "det-b.npz"
    assert main(["reid", "build-crops", "--mot", str(workdir / "SYN-A"), "--stride", "2",
                 "--out", str(gt)]) == 0
    assert main(["reid", "build-crops", "--mot", str(workdir / "SYN-B"), "--detections", "det",
                 "--out", str(det)]) == 0
    assert "SYN-B:det: 48 detection crops, 4 tracklets" in capsys.readouterr().out
    common = ["--p", "4", "--k", "2", "--widths", "4,8,8", "--dim", "8", "--epochs", "1",
              "--val-fraction", "0", "--threads", "1", "--quiet", "--distill-teacher",
              str(teacher), "--distill-kind", "regress", "--distill-center"]
    run = workdir / "with-det"
    assert main(["reid", "train", "--crops", str(gt), "--extra-crops", str(det), "--out",
                 str(run), *common]) == 0
    assert "training on 72 crops of 8 identities" in capsys.readouterr().out
    meta = json.loads((run / "log.json").read_text())["meta"]
    assert meta["sources"] == ["SYN-A", "SYN-B:det"] and meta["extra_crops"]
    assert len(meta["distill_cache"]) == 2  # one teacher cache beside each file
    assert main(["reid", "train", "--crops", str(gt), "--extra-crops", str(det), "--out",
                 str(workdir / "without"), "--exclude-sources", "SYN-B", *common]) == 0
    assert "training on 24 crops of 4 identities" in capsys.readouterr().out
    assert main(["reid", "train", "--crops", str(gt), "--extra-crops", str(gt), "--out",
                 str(workdir / "twice"), *common]) == 1
    assert "sources ['SYN-A'] are also in" in capsys.readouterr().err
    held = write_sequence(workdir / "hd", "TUD-Stadtmitte", n_frames=4, people=2)
    assert main(["reid", "build-crops", "--mot", str(held), "--detections", "det",
                 "--out", str(workdir / "held-det.npz")]) == 0
    assert main(["reid", "train", "--crops", str(gt), "--extra-crops",
                 str(workdir / "held-det.npz"), "--out", str(workdir / "held"), *common]) == 1
    assert "held-out sources ['TUD-Stadtmitte:det']" in capsys.readouterr().err


def test_errors_are_explained(workdir, capsys):
    assert main(["reid", "eval", "--crops", str(workdir / "nope.npz")]) == 1
    assert "build-crops" in capsys.readouterr().err
    assert main(["reid", "build-crops", "--out", str(workdir / "e.npz")]) == 1
    assert "nothing to read" in capsys.readouterr().err


def test_train_leave_one_source_out_and_new_network_options(workdir, capsys):
    crops = workdir / "crops_loso.npz"
    assert main(["reid", "build-crops", "--mot", str(workdir / "SYN-A"), str(workdir / "SYN-B"),
                 "--stride", "2", "--out", str(crops)]) == 0
    capsys.readouterr()
    run = workdir / "loso"
    assert main(["reid", "train", "--crops", str(crops), "--out", str(run), "--epochs", "1",
                 "--p", "4", "--k", "2", "--widths", "4,8,8", "--dim", "8",
                 "--val-sources", "SYN-B", "--ibn-stages", "2", "--mixstyle-p", "0.5",
                 "--pool", "gem", "--grey-p", "0.2", "--threads", "1", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "training on 24 crops of 4 identities; validating on 24 crops of 4 other" in out
    log = json.loads((run / "log.json").read_text())
    assert log["meta"]["sources"] == ["SYN-A"] and log["meta"]["val_sources"] == ["SYN-B"]
    assert log["config"]["net"]["ibn_stages"] == 2 and log["config"]["augment"]["grey_p"] == 0.2
    last = log["history"][-1]
    assert "SYN-B_mAP" in last and "SYN-A_mAP" not in last  # only the left-out source scored
    from cosmot.appearance.checkpoint import load_checkpoint
    from cosmot.appearance.generalise import GeM

    model, _ = load_checkpoint(run / "last.pt")  # the checkpoint rebuilds the options
    assert isinstance(model.gem, GeM) and model.config.mixstyle_p == 0.5
    # eval restricted to the validation source
    assert main(["reid", "eval", "--crops", str(crops), "--encoders", "histogram",
                 "--sources", "SYN-B", "--min-gap-seconds", "0.3"]) == 0
    table = capsys.readouterr().out
    assert "| histogram | SYN-B |" in table and "SYN-A" not in table
    assert main(["reid", "train", "--crops", str(crops), "--out", str(run), "--epochs", "1",
                 "--val-sources", "SYN-B", "--val-fraction", "0.2"]) == 1
    assert "--val-sources and --val-fraction" in capsys.readouterr().err
    assert main(["reid", "train", "--crops", str(crops), "--out", str(run), "--epochs", "1",
                 "--val-sources", "NOPE"]) == 1
    assert "NOPE" in capsys.readouterr().err


def test_repo_relative_paths():
    from cosmot.paths import REPO_ROOT
    from cosmot.cli.reid.common import repo_relative

    assert repo_relative(REPO_ROOT / ".cache" / "reid" / "train.npz") == ".cache/reid/train.npz"
    # written by a run in another checkout: still relative to its repository
    assert repo_relative("/elsewhere/wt/.cache/reid/heldout.npz") == ".cache/reid/heldout.npz"
    assert repo_relative("/data/x.npz") == "/data/x.npz"


def test_ship_writes_record_with_relative_paths(workdir, capsys, monkeypatch, tmp_path):
    from cosmot.appearance import load_encoder
    from cosmot.appearance.checkpoint import save_checkpoint
    from cosmot.runtime import sha256_file
    from cosmot.appearance.model import EmbeddingNet, NetConfig
    from cosmot.paths import REPO_ROOT

    monkeypatch.setenv("COSMOT_WEIGHTS", str(tmp_path / "weights"))  # the user weights folder
    ckpt = tmp_path / "m.pt"
    save_checkpoint(ckpt, EmbeddingNet(NetConfig(input_hw=(32, 16), widths=(4, 8, 8), dim=8)),
                    {"command": "cosmot reid train ...", "seed": 0, "epochs": 1,
                     "crops": str(REPO_ROOT / ".cache" / "reid" / "train.npz")})
    scores = tmp_path / "scores.json"
    scores.write_text(json.dumps({"x": {}, "protocol": {
        "crops": "/some/other/checkout/.cache/reid/heldout.npz"}}))
    capsys.readouterr()
    assert main(["reid", "ship", str(ckpt), "--name", "t.pt"]) == 1
    assert "no calibrated max_cosine_distance" in capsys.readouterr().err
    assert main(["reid", "ship", str(ckpt), "--name", "t.pt", "--heldout-json",
                 str(scores), "--max-cosine-distance", "0.15"]) == 0
    record = json.loads((tmp_path / "weights" / "t.json").read_text())
    assert record["max_cosine_distance"] == 0.15
    assert load_encoder("t").max_cosine_distance == 0.15
    assert record["sha256"] == sha256_file(tmp_path / "weights" / "t.pt")
    assert record["data"]["crops"] == ".cache/reid/train.npz"
    assert record["heldout"]["protocol"]["crops"] == ".cache/reid/heldout.npz"
    # the ONNX export beside it is recorded and runs by name, agreeing with torch
    assert record["onnx"]["sha256"] == sha256_file(tmp_path / "weights" / "t.onnx")
    crops = np.random.default_rng(1).integers(0, 256, (5, 32, 16, 3), dtype=np.uint8)
    e_onnx = load_encoder("t").embed_crops(crops)
    e_torch = load_encoder("t", runtime="torch").embed_crops(crops)
    assert type(load_encoder("t")).__name__ == "OnnxEncoder"
    assert np.min(np.sum(e_onnx * e_torch, axis=1)) > 0.999


def test_reid_commands_load_user_installed_weights(tmp_path, monkeypatch):
    """Weights installed by ``cosmot reid ship`` lie in the user weights folder: export, adapt
    and bench read them from there (they looked in the package's folder)."""
    import json
    import shutil

    from cosmot.appearance.registry import WEIGHTS_DIR
    from cosmot.cli.reid.export import load_torch_model

    record = json.loads((WEIGHTS_DIR / "default.json").read_text())
    shutil.copy(WEIGHTS_DIR / record["file"], tmp_path / "mine.pt")
    record["file"] = "mine.pt"
    record.pop("onnx", None)
    (tmp_path / "mine.json").write_text(json.dumps(record))
    monkeypatch.setenv("COSMOT_WEIGHTS", str(tmp_path))
    assert type(load_torch_model("mine")).__name__ == type(load_torch_model("default")).__name__
