"""The ONNX YOLO backend: letterbox, decoding and post-processing against hand-computed values,
and end to end through onnxruntime on tiny graphs built here that emit a known YOLO tensor."""

from pathlib import Path

import numpy as np
import pytest

from cosmot.detectors import create_detector
from cosmot.detectors.onnx_yolo import (Letterbox, ONNXYOLODetector, YOLOConfig, decode_yolo,
                                       letterbox, postprocess)


def test_letterbox_pads_evenly_and_converts_to_rgb():
    frame = np.zeros((50, 100, 3), np.uint8)
    frame[..., 0] = 255  # blue in BGR
    tensor, box = letterbox(frame, (64, 64))
    # r = min(64/100, 64/50) = 0.64 -> 64 x 32, padded by 16 rows above and below
    assert tensor.shape == (1, 3, 64, 64) and tensor.dtype == np.float32
    assert box == Letterbox(0.64, 0.0, 16.0)
    assert np.allclose(tensor[0, :, :16], 114 / 255)
    assert np.allclose(tensor[0, :, 48:], 114 / 255)
    assert np.allclose(tensor[0, 2, 16:48], 1.0)  # blue is the third channel in RGB
    assert np.allclose(tensor[0, :2, 16:48], 0.0)
    # and back: input pixels (0, 16)-(64, 48) are the whole frame
    assert np.allclose(box.to_frame(np.array([[0, 16, 64, 48]])), [[0, 0, 100, 50]])


def test_decode_yolov8_columns():
    # (1, 4 + C, N) with C = 2 classes, N = 3 candidates
    out = np.zeros((1, 6, 3), np.float32)
    out[0, :4, 0] = [160, 160, 40, 80]
    out[0, 4:, 0] = [0.9, 0.1]
    out[0, :4, 1] = [10, 10, 4, 4]
    out[0, 4:, 1] = [0.2, 0.7]
    out[0, :4, 2] = [50, 50, 10, 10]
    # "auto" picks yolov8 only when axis 1 is shorter than axis 2; N is small here, so say it
    boxes, scores, classes = decode_yolo(out, "yolov8")
    assert np.allclose(boxes[0], [140, 120, 180, 200])
    assert np.allclose(boxes[1], [8, 8, 12, 12])
    assert np.allclose(scores, [0.9, 0.7, 0.0])
    assert classes.tolist() == [0, 1, 0]


def test_decode_yolov5_rows_multiplies_objectness():
    out = np.array([[[100, 50, 20, 40, 0.8, 0.9, 0.1],
                     [10, 10, 2, 2, 0.5, 0.2, 0.6]]], np.float32)
    boxes, scores, classes = decode_yolo(out, "yolov5")
    assert np.allclose(boxes, [[90, 30, 110, 70], [9, 9, 11, 11]])
    assert np.allclose(scores, [0.72, 0.30])
    assert classes.tolist() == [0, 1]


def test_decode_auto_layout_and_errors():
    v8 = np.zeros((1, 6, 100), np.float32)  # 4 + 2 channels, 100 anchors
    assert decode_yolo(v8)[0].shape == (100, 4)
    v5 = np.zeros((1, 100, 7), np.float32)
    assert decode_yolo(v5)[0].shape == (100, 4)
    with pytest.raises(ValueError, match="batch 2"):
        decode_yolo(np.zeros((2, 6, 100)))
    with pytest.raises(ValueError, match="5 \\+ C >= 6"):
        decode_yolo(np.zeros((1, 100, 5)), "yolov5")
    with pytest.raises(ValueError, match="layout"):
        decode_yolo(v8, "yolov9")


def test_postprocess_filters_maps_clips_and_suppresses():
    box = Letterbox(0.5, 0.0, 40.0)
    boxes = np.array([[140, 120, 180, 200],   # person, kept -> frame (280, 160, 360, 320)
                      [142, 120, 182, 200],   # person, same place, lower score: NMS
                      [141, 120, 181, 200],   # class 2, same place: other class, filtered out
                      [300, 50, 340, 100],    # person, extends past the right edge: clipped
                      [10, 50, 20, 60]], float)  # person below min_score
    scores = np.array([0.9, 0.8, 0.95, 0.6, 0.1])
    classes = np.array([0, 0, 2, 0, 0])
    cfg = YOLOConfig(classes=(0,), min_score=0.25, nms_iou=0.45)
    det = postprocess(boxes, scores, classes, cfg, box, (480, 640, 3))
    assert np.allclose(det.boxes_xyxy, [[280, 160, 360, 320], [600, 20, 640, 120]])
    assert np.allclose(det.scores, [0.9, 0.6]) and det.classes.tolist() == [0, 0]
    every = postprocess(boxes, scores, classes, YOLOConfig(classes=()), box, (480, 640, 3))
    assert sorted(every.classes.tolist()) == [0, 0, 2]  # other classes kept, not suppressed


def _constant_model(path: Path, tensor: np.ndarray, input_shape) -> Path:
    """An ONNX graph: images (input_shape) -> output = tensor + 0 * sum(images)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    const = helper.make_node("Constant", [], ["yolo"],
                             value=numpy_helper.from_array(tensor.astype(np.float32), "yolo_v"))
    total = helper.make_node("ReduceSum", ["images"], ["total"], keepdims=0)
    zero = helper.make_node("Constant", [], ["zero"],
                            value=numpy_helper.from_array(np.array(0, np.float32), "zero_v"))
    nothing = helper.make_node("Mul", ["total", "zero"], ["nothing"])
    out = helper.make_node("Add", ["yolo", "nothing"], ["output0"])
    graph = helper.make_graph(
        [const, total, zero, nothing, out], "tiny_yolo",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, input_shape)],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, list(tensor.shape))])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def test_onnx_yolov8_end_to_end(tmp_path):
    pytest.importorskip("onnx")
    out = np.zeros((1, 6, 40), np.float32)  # 2 classes, 40 anchors (auto: yolov8)
    out[0, :, 0] = [160, 160, 40, 80, 0.9, 0.05]   # a person
    out[0, :, 1] = [162, 160, 40, 80, 0.7, 0.05]   # its duplicate
    out[0, :, 2] = [60, 100, 20, 40, 0.1, 0.8]     # class 1: filtered out
    model = _constant_model(tmp_path / "v8.onnx", out, [1, 3, 320, 320])
    det = create_detector(model)
    assert isinstance(det, ONNXYOLODetector) and det.input_size == (320, 320)
    res = det(np.zeros((480, 640, 3), np.uint8))
    # r = 0.5, pad_y = 40: (140, 120, 180, 200) -> (280, 160, 360, 320)
    assert np.allclose(res.boxes_xyxy, [[280, 160, 360, 320]], atol=1e-4)
    assert np.allclose(res.scores, [0.9], atol=1e-6) and res.classes.tolist() == [0]


def test_onnx_yolov5_dynamic_input_uses_config_size(tmp_path):
    pytest.importorskip("onnx")
    out = np.zeros((1, 30, 7), np.float32)  # yolov5: 5 + 2 classes, 30 anchors
    out[0, 0] = [32, 32, 16, 32, 0.9, 0.1, 0.9]   # class 1 at score 0.81
    model = _constant_model(tmp_path / "v5.onnx", out, ["batch", 3, "height", "width"])
    det = create_detector(model, {"input_size": "64x64", "classes": "1", "layout": "yolov5"})
    assert det.input_size == (64, 64)
    res = det(np.zeros((64, 64, 3), np.uint8))
    assert np.allclose(res.boxes_xyxy, [[24, 16, 40, 48]], atol=1e-4)
    assert np.allclose(res.scores, [0.81], atol=1e-6) and res.classes.tolist() == [1]


def test_onnx_errors_name_the_problem(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such ONNX model"):
        create_detector(tmp_path / "missing.onnx")
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model")
    with pytest.raises(ValueError, match="cannot load"):
        ONNXYOLODetector(bad)
    with pytest.raises(ValueError, match="min_score"):
        YOLOConfig(min_score=2.0)
