"""Evaluation through TrackEval: perfect results, hand-counted errors, combining groups."""

import shutil

import numpy as np
import pytest

from cosmot.evaluation.mot_metrics import evaluate
from cosmot.sources.motchallenge import read_ground_truth
from cosmot.writers.mot import MOTWriter


def _make_seq(root, name, gt_rows, length, mot15=True):
    d = root / name
    (d / "gt").mkdir(parents=True)
    (d / "seqinfo.ini").write_text(
        f"[Sequence]\nname={name}\nimDir=img1\nframeRate=10\nseqLength={length}\n"
        f"imWidth=640\nimHeight=480\nimExt=.jpg\n")
    lines = []
    for f, i, x, y, w, h in gt_rows:
        tail = "1,-1,-1,-1" if mot15 else "1,1,1.0"
        lines.append(f"{f},{i},{x},{y},{w},{h},{tail}")
    (d / "gt" / "gt.txt").write_text("\n".join(lines) + "\n")
    return d


def _two_walkers(length=20):
    rows = []
    for f in range(1, length + 1):
        rows.append((f, 1, 10 + 5 * f, 50, 40, 100))
        rows.append((f, 2, 400 - 5 * f, 200, 40, 100))
    return rows


def _write_results(path, rows):
    with MOTWriter(path) as w:
        for f in sorted({r[0] for r in rows}):
            sel = [r for r in rows if r[0] == f]
            w.write(f, np.array([r[1] for r in sel]), np.array([r[2:] for r in sel], float))


def test_perfect_results_score_100(tmp_path):
    seq = _make_seq(tmp_path, "SEQ-A", _two_walkers(), 20)
    _write_results(tmp_path / "res" / "SEQ-A.txt", _two_walkers())
    r = evaluate([seq], tmp_path / "res").rows["SEQ-A"]
    assert r["HOTA"] == pytest.approx(100) and r["MOTA"] == pytest.approx(100)
    assert r["IDF1"] == pytest.approx(100) and r["IDSW"] == 0


def test_id_switch_and_misses_counted(tmp_path):
    seq = _make_seq(tmp_path, "SEQ-B", _two_walkers(), 20)
    res = []
    for f, i, *box in _two_walkers():
        if i == 2 and f <= 5:
            continue  # 5 misses
        tid = 1 if i == 1 else (2 if f <= 10 else 3)  # one id switch at frame 11
        res.append((f, tid, *box))
    _write_results(tmp_path / "res" / "SEQ-B.txt", res)
    r = evaluate([seq], tmp_path / "res").rows["SEQ-B"]
    assert r["FN"] == 5 and r["FP"] == 0 and r["IDSW"] == 1
    # MOTA = 1 - (FN + FP + IDSW) / GT = 1 - 6 / 40
    assert r["MOTA"] == pytest.approx(100 * (1 - 6 / 40))
    # IDF1: track 1 <-> gt 1 (20 frames), gt 2 best matched by track 3 (10 frames):
    # IDTP = 30, IDFN = 10, IDFP = 5 -> 2*30 / (2*30 + 10 + 5)
    assert r["IDF1"] == pytest.approx(100 * 60 / 75)


def test_combined_over_mot15_and_mot16_layouts(tmp_path):
    a = _make_seq(tmp_path, "SEQ-15", _two_walkers(), 20, mot15=True)
    b = _make_seq(tmp_path, "SEQ-16", _two_walkers(), 20, mot15=False)
    assert read_ground_truth(b / "gt" / "gt.txt").mot15_format is False
    _write_results(tmp_path / "res" / "SEQ-15.txt", _two_walkers())
    _write_results(tmp_path / "res" / "SEQ-16.txt", [r for r in _two_walkers() if r[1] == 1])
    rows = evaluate([a, b], tmp_path / "res").rows
    assert rows["SEQ-16"]["FN"] == 20
    assert rows["COMBINED"]["FN"] == 20
    assert rows["COMBINED"]["MOTA"] == pytest.approx(100 * (1 - 20 / 80))


def test_missing_results_file_named(tmp_path):
    seq = _make_seq(tmp_path, "SEQ-C", _two_walkers(), 20)
    (tmp_path / "res").mkdir()
    with pytest.raises(FileNotFoundError, match="SEQ-C.txt"):
        evaluate([seq], tmp_path / "res")


def test_mot16_distractors_are_ignored(tmp_path, mot_dir):
    """MOT16 preprocessing: results on pedestrians plus boxes on distractors (static person,
    person on vehicle, distractor, reflection) score MOTA 100: distractor matches are dropped
    instead of counting as false positives."""
    src = mot_dir / "MOT16-11"
    seq = tmp_path / "MOT16-11"
    (seq / "gt").mkdir(parents=True)
    shutil.copy(src / "seqinfo.ini", seq / "seqinfo.ini")
    gt = read_ground_truth(src / "gt" / "gt.txt")
    keep = gt.frames <= 100
    lines = [l for l in (src / "gt" / "gt.txt").read_text().splitlines()
             if int(l.split(",")[0]) <= 100]
    (seq / "gt" / "gt.txt").write_text("\n".join(lines) + "\n")
    (seq / "seqinfo.ini").write_text((src / "seqinfo.ini").read_text().replace(
        "seqLength=900", "seqLength=100"))
    ped = keep & gt.consider & (gt.classes == 1)
    distractor = keep & np.isin(gt.classes, [2, 7, 8, 12])
    assert distractor.any()  # the test needs distractor rows
    sel = ped | distractor
    _write_results(tmp_path / "res" / "MOT16-11.txt",
                   [(int(f), int(i), *b) for f, i, b in zip(gt.frames[sel], gt.ids[sel],
                                                            gt.tlwh[sel])])
    r = evaluate([seq], tmp_path / "res").rows["MOT16-11"]
    assert r["MOTA"] == pytest.approx(100) and r["FP"] == 0
