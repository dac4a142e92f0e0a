"""The YOLOX backend: decoding of a hand-made raw output, letterbox inverse, class-aware NMS, the
shipped model's SHA-256 check, --classes parsing, the shipped model on a real frame, the
rectangular input path and the default detector."""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pytest

from cosmot.detectors import DEFAULT_DETECTOR, create_detector
from cosmot.detectors.yolox import (COCO_CLASSES, SHIPPED_RECORD, YOLOXConfig, YOLOXDetector,
                                   decode_yolox, grid_cells, input_shape, letterbox_top_left,
                                   parse_classes, postprocess, shipped_model_path)
from cosmot.sources.frames import iter_video
from cosmot.sources.motchallenge import read_ground_truth
from cosmot.tracker.geometry import iou_matrix, tlwh_to_xyxy

# A 64x96 (HxW) input: grids 8x12 (stride 8), 4x6 (16), 2x3 (32) -> 96 + 24 + 6 = 126 rows.
HW = (64, 96)


def raw_row(x, y, log_w, log_h, obj, probs):
    return [x, y, log_w, log_h, obj, *probs]


def hand_made_output():
    """Three candidates in a (1, 126, 5 + 3) raw tensor, every other row zero (score 0)."""
    out = np.zeros((1, 126, 8), np.float32)
    # stride 8, cell (x=2, y=1) -> row 1 * 12 + 2 = 14: centre ((0.5 + 2) * 8, (0.25 + 1) * 8)
    # = (20, 10), size (exp(ln 2) * 8, exp(ln 3) * 8) = (16, 24) -> box (12, -2, 28, 22)
    out[0, 14] = raw_row(0.5, 0.25, math.log(2), math.log(3), 0.9, [0.8, 0.1, 0.1])
    # stride 16, cell (x=1, y=2) -> row 96 + 2 * 6 + 1 = 109: centre ((0 + 1) * 16, (0 + 2) * 16)
    # = (16, 32), size (16, 32) -> box (8, 16, 24, 48); score 0.5 * 0.9 = 0.45 for class 2
    out[0, 109] = raw_row(0.0, 0.0, 0.0, math.log(2), 0.5, [0.1, 0.0, 0.9])
    # stride 32, cell (x=2, y=1) -> row 120 + 1 * 3 + 2 = 125: centre (80, 48), size (32, 32)
    # -> box (64, 32, 96, 64); score 0.6 * 0.5 = 0.3 for class 0
    out[0, 125] = raw_row(0.5, 0.5, 0.0, 0.0, 0.6, [0.5, 0.2, 0.0])
    return out


def test_grid_cells_follow_the_head_order():
    grid, stride = grid_cells(HW)
    assert grid.shape == (126, 2) and stride.shape == (126, 1)
    assert grid[14].tolist() == [2, 1] and stride[14, 0] == 8
    assert grid[109].tolist() == [1, 2] and stride[109, 0] == 16
    assert grid[125].tolist() == [2, 1] and stride[125, 0] == 32


def test_decode_hand_made_output():
    boxes, obj, prob = decode_yolox(hand_made_output(), HW)
    assert np.allclose(boxes[14], [12, -2, 28, 22], atol=1e-4)
    assert np.allclose(boxes[109], [8, 16, 24, 48], atol=1e-4)
    assert np.allclose(boxes[125], [64, 32, 96, 64], atol=1e-4)
    assert obj[14] == pytest.approx(0.9) and prob[109, 2] == pytest.approx(0.9)
    with pytest.raises(ValueError, match="126 grid cells"):
        decode_yolox(np.zeros((1, 127, 8), np.float32), HW)
    # the objectness cut decodes the same rows, only those (the threshold is compared in
    # float64: float32(0.7) is 0.69999998..., below 0.7, and must not pass)
    out = hand_made_output()
    out[0, 3, 4] = np.float32(0.7)
    full = decode_yolox(out, HW)
    assert full[1][3] < 0.7
    for cut in (0.7, 0.3, 0.0):
        keep = full[1] >= cut
        part = decode_yolox(out, HW, min_objectness=cut)
        assert part[1].size == keep.sum()
        for f, p in zip(full, part):
            assert np.array_equal(f[keep], p)


def test_postprocess_scores_classes_and_letterbox_inverse():
    boxes, obj, prob = decode_yolox(hand_made_output(), HW)
    # the frame was 128x192 resized by 0.5 into the input: frame box = input box / 0.5
    cfg = YOLOXConfig(size=96, classes=(), min_score=0.25)
    d = postprocess(boxes, obj, prob, cfg, 0.5, (128, 192))
    order = np.argsort(-d.scores)
    assert np.allclose(d.scores[order], [0.72, 0.45, 0.30], atol=1e-6)
    assert d.classes[order].tolist() == [0, 2, 0]
    # (12, -2, 28, 22) / 0.5 = (24, -4, 56, 44), clipped to the frame's top: (24, 0, 56, 44)
    assert np.allclose(d.boxes_xyxy[order], [[24, 0, 56, 44], [16, 32, 48, 96],
                                             [128, 64, 192, 128]], atol=1e-3)
    # person only: the class-2 box goes; a higher threshold drops the weakest
    persons = postprocess(boxes, obj, prob, YOLOXConfig(min_score=0.25), 0.5, (128, 192))
    assert sorted(persons.scores.round(2).tolist()) == [0.3, 0.72]
    strict = postprocess(boxes, obj, prob, YOLOXConfig(classes=(), min_score=0.4), 0.5,
                         (128, 192))
    assert len(strict) == 2
    # only the wanted classes compete: with classes=(1,), row 14 scores 0.9 * 0.1
    cars = postprocess(boxes, obj, prob, YOLOXConfig(classes=(1,), min_score=0.05), 1.0, HW)
    assert cars.classes.tolist() == [1] * len(cars) and np.isclose(cars.scores.max(), 0.12)


def test_nms_is_class_aware():
    out = np.zeros((1, 126, 8), np.float32)
    # two nearly identical boxes (cells 14 and 15 of stride 8, shifted back by one cell)
    out[0, 14] = raw_row(0.5, 0.5, math.log(2), math.log(3), 0.9, [0.9, 0.0, 0.0])
    out[0, 15] = raw_row(-0.4, 0.5, math.log(2), math.log(3), 0.8, [0.9, 0.0, 0.0])
    boxes, obj, prob = decode_yolox(out, HW)
    cfg = YOLOXConfig(size=96, classes=(), min_score=0.1, nms_iou=0.45)
    same = postprocess(boxes, obj, prob, cfg, 1.0, HW)
    assert len(same) == 1 and same.scores[0] == pytest.approx(0.81)
    out[0, 15, 5:] = [0.0, 0.0, 0.9]  # the second one is another class: both stay
    boxes, obj, prob = decode_yolox(out, HW)
    both = postprocess(boxes, obj, prob, cfg, 1.0, HW)
    assert sorted(both.classes.tolist()) == [0, 2]


def test_input_shape_and_top_left_letterbox():
    assert input_shape((1080, 1920), 416) == (256, 416)
    assert input_shape((480, 640), 416) == (320, 416)
    assert input_shape((576, 768), 640) == (480, 640)
    assert input_shape((1920, 1080), 640) == (640, 384)
    frame = np.full((100, 200, 3), (10, 20, 30), np.uint8)
    tensor, r = letterbox_top_left(frame, (64, 96))
    assert r == pytest.approx(0.48) and tensor.shape == (1, 3, 64, 96)
    assert tensor.dtype == np.float32
    # BGR order, 0-255, image at the top-left (48 rows, 96 columns), 114 below
    assert tensor[0, :, 0, 0].tolist() == [10, 20, 30]
    assert tensor[0, :, 47, 95].tolist() == [10, 20, 30]
    assert tensor[0, :, 48:, :].min() == 114 and tensor[0, :, 48:, :].max() == 114


def test_classes_parsing():
    assert parse_classes("person") == (0,)
    assert parse_classes("person,car") == (0, 2)
    assert parse_classes("0, 2,Car") == (0, 2)
    assert parse_classes("traffic_light,TRAFFIC LIGHT") == (9,)
    assert parse_classes("all") == ()
    with pytest.raises(ValueError, match=r"unknown class 'dragon'; valid names.*person, "
                                         r"bicycle, car.*toothbrush"):
        parse_classes("person,dragon")
    with pytest.raises(ValueError, match="class id 80 is outside 0..79"):
        parse_classes("80")
    assert len(COCO_CLASSES) == 80


def test_sha256_check_refuses_a_damaged_file(tmp_path):
    assert shipped_model_path() == SHIPPED_RECORD.parent / "yolox_nano_coco.onnx"
    shutil.copy(SHIPPED_RECORD, tmp_path / SHIPPED_RECORD.name)
    model = tmp_path / "yolox_nano_coco.onnx"
    data = bytearray((SHIPPED_RECORD.parent / "yolox_nano_coco.onnx").read_bytes())
    data[len(data) // 2] ^= 0xFF
    model.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"yolox_nano_coco.onnx: SHA-256 [0-9a-f]{64} does not "
                                         r"match the recorded .* damaged or was replaced"):
        shipped_model_path(tmp_path / SHIPPED_RECORD.name)
    model.unlink()
    with pytest.raises(FileNotFoundError, match="model is missing"):
        shipped_model_path(tmp_path / SHIPPED_RECORD.name)
    assert json.loads(SHIPPED_RECORD.read_text())["bytes"] == len(data)


@pytest.fixture(scope="module")
def yolox():
    return YOLOXDetector()


@pytest.fixture(scope="module")
def yolox416():
    return YOLOXDetector(config=YOLOXConfig(size=416, min_score=0.3))


@pytest.fixture(scope="module")
def clip_frame(pets_clip):
    for k, image in iter_video(pets_clip / "PETS09-S2L1-clip.mp4"):
        if k == 60:
            return image
    raise AssertionError("frame 60 not found")


def test_shipped_model_finds_the_people_of_a_real_frame(yolox, clip_frame, pets_clip):
    """Frame 60 of the bundled clip (768x576, input 416x320): at the default threshold most gt
    people are found at IoU 0.5 and few boxes are wrong."""
    gt = read_ground_truth(pets_clip / "gt" / "gt.txt")
    target = tlwh_to_xyxy(gt.tlwh[gt.frames == 60])
    d = yolox(clip_frame)
    assert set(d.classes.tolist()) == {0}
    assert d.scores.min() >= YOLOXConfig().min_score
    iou = iou_matrix(target, d.boxes_xyxy)
    recall = float((iou.max(axis=1) >= 0.5).mean())
    precision = float((iou.max(axis=0) >= 0.5).mean())
    assert len(target) >= 5
    assert recall >= 0.7 and precision >= 0.8, (recall, precision)


def test_rectangular_input_gives_the_square_inputs_boxes(yolox416, clip_frame):
    """The rectangular path (416x320, the graph's input rewritten) and the file's own 416x416
    input see the same image at the same scale (top-left letterbox): the same boxes in frame
    pixels, up to the padding's small effect."""
    yolox = yolox416
    d_rect = yolox(clip_frame)
    tensor, ratio = letterbox_top_left(clip_frame, (416, 416))
    out = yolox.session((416, 416)).run(None, {"images": tensor})[0]
    d_square = postprocess(*decode_yolox(out, (416, 416)), yolox.config, ratio,
                           clip_frame.shape[:2])
    assert (320, 416) in yolox._sessions and ratio == pytest.approx(416 / 768)
    assert len(d_rect) >= 5 and abs(len(d_rect) - len(d_square)) <= 1
    iou = iou_matrix(d_rect.boxes_xyxy, d_square.boxes_xyxy)
    assert np.median(iou.max(axis=1)) > 0.95
    # a frame twice the size gives boxes twice the size (same network input)
    big = np.repeat(np.repeat(clip_frame, 2, axis=0), 2, axis=1)
    d_big = yolox(big)
    iou2 = iou_matrix(d_big.boxes_xyxy / 2, d_rect.boxes_xyxy)
    assert np.median(iou2.max(axis=1)) > 0.95


def test_default_detector_is_the_shipped_yolox(pets_clip, capsys, tmp_path):
    assert DEFAULT_DETECTOR == "yolox"
    det = create_detector("auto")
    assert isinstance(det, YOLOXDetector) and det.config == YOLOXConfig()
    # a YOLOX file passed by path is recognised as YOLOX (not read as YOLOv5 rows)
    assert isinstance(create_detector(str(SHIPPED_RECORD.parent / "yolox_nano_coco.onnx")),
                      YOLOXDetector)
    assert create_detector("auto", {"size": "640", "classes": "0,2"}).config == YOLOXConfig(
        size=640, classes=(0, 2))
    from cosmot.cli import main

    rc = main(["track", str(pets_clip), "--max-frames", "3", "--encoder", "none",
               "--classes", "person,car", "--out-json", str(tmp_path / "t.jsonl"),
               "--no-progress"])
    assert rc == 0
    err = capsys.readouterr().err
    assert "detector auto (yolox)" in err
    lines = [json.loads(x) for x in (tmp_path / "t.jsonl").read_text().splitlines()]
    assert len(lines) == 3
    tracks = [t for ln in lines for t in ln["tracks"]]
    assert tracks and {(t["class"], t["label"]) for t in tracks} <= {(0, "person"), (2, "car")}


def test_class_names_on_the_video_tabs():
    from cosmot.writers.drawing import draw_tracks

    blank = np.zeros((60, 200, 3), np.uint8)
    plain = draw_tracks(blank.copy(), np.array([3]), np.array([[10.0, 30, 40, 55]]))
    named = draw_tracks(blank.copy(), np.array([3]), np.array([[10.0, 30, 40, 55]]),
                        labels=["car"])
    # the tab of "id 3 car" is wider than that of "id 3"
    assert (named.any(axis=2).sum(axis=0) > 0).sum() > (plain.any(axis=2).sum(axis=0) > 0).sum()
