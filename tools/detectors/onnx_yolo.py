"""Detectors exported to ONNX from YOLOv5/v8-style models, run with onnxruntime (weights are the
user's: none ship with cosmot).

Pre-processing is the YOLO letterbox: resize keeping the aspect ratio so the image fits the
network input, pad the rest with grey (114) split evenly on both sides, BGR -> RGB, scale to
[0, 1], NCHW float. Outputs understood (one image, batch axis first):

- ``"yolov5"``: (1, N, 5 + C) rows ``cx, cy, w, h, objectness, p_1 .. p_C``; score =
  objectness x class probability;
- ``"yolov8"``: (1, 4 + C, N) columns ``cx, cy, w, h, p_1 .. p_C`` (no objectness);
- ``"auto"``: yolov8 when axis 1 is shorter than axis 2 (N anchors far outnumber channels),
  else yolov5.

Boxes are in network-input pixels; they are mapped back through the letterbox, clipped to the
frame, filtered by class and score, and reduced by per-class NMS. Graphs that already contain
NMS (``end2end`` exports) are not supported.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from cosmot.detectors.base import FrameDetections
from cosmot.tracker.geometry import nms

LAYOUTS = ("auto", "yolov5", "yolov8")


@dataclass(frozen=True)
class YOLOConfig:
    """Parameters of :class:`ONNXYOLODetector`.

    input_size: (width, height) of the network input when the model's is dynamic.
    layout: output layout (see the module docstring).
    classes: class ids to keep (COCO 0 = person); empty keeps all.
    min_score: keep detections with score >= this, in [0, 1].
    nms_iou: per-class NMS IoU threshold.
    max_detections: at most this many per frame (highest scores).
    threads: onnxruntime intra-op threads (0: the cores this process may use).
    """

    input_size: tuple[int, int] = (640, 640)
    layout: Literal["auto", "yolov5", "yolov8"] = "auto"
    classes: tuple[int, ...] = (0,)
    min_score: float = 0.25
    nms_iou: float = 0.45
    max_detections: int = 300
    threads: int = 0

    def __post_init__(self) -> None:
        w, h = self.input_size
        if not (isinstance(w, int) and isinstance(h, int) and w >= 32 and h >= 32):
            raise ValueError(f"YOLOConfig.input_size = {self.input_size!r}: need two ints >= 32")
        if self.layout not in LAYOUTS:
            raise ValueError(f"YOLOConfig.layout = {self.layout!r}: must be one of {LAYOUTS}")
        if not 0.0 <= self.min_score <= 1.0:
            raise ValueError(f"YOLOConfig.min_score = {self.min_score!r} is outside [0, 1]")
        if not 0.0 <= self.nms_iou <= 1.0:
            raise ValueError(f"YOLOConfig.nms_iou = {self.nms_iou!r} is outside [0, 1]")
        if not (isinstance(self.max_detections, int) and self.max_detections >= 1):
            raise ValueError(f"YOLOConfig.max_detections = {self.max_detections!r}: must be an "
                             f"int >= 1")
        if not (isinstance(self.threads, int) and self.threads >= 0):
            raise ValueError(f"YOLOConfig.threads = {self.threads!r}: must be an int >= 0")


@dataclass(frozen=True)
class Letterbox:
    """How a frame was fitted into the network input: ``input = frame * ratio + (pad_x, pad_y)``."""

    ratio: float
    pad_x: float
    pad_y: float

    def to_frame(self, boxes_xyxy: np.ndarray) -> np.ndarray:
        """(N, 4) boxes in input pixels -> frame pixels."""
        b = np.asarray(boxes_xyxy, np.float64).reshape(-1, 4)
        pad = np.array([self.pad_x, self.pad_y, self.pad_x, self.pad_y])
        return (b - pad) / self.ratio


def letterbox(frame_bgr: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, Letterbox]:
    """Fit a BGR frame into ``size = (width, height)``.

    Returns ``(tensor (1, 3, height, width) float32 RGB in [0, 1], Letterbox)``.
    """
    h, w = frame_bgr.shape[:2]
    tw, th = size
    r = min(tw / w, th / h)
    nw, nh = int(round(w * r)), int(round(h * r))
    pad_x, pad_y = (tw - nw) / 2, (th - nh) / 2
    left, top = int(round(pad_x - 0.1)), int(round(pad_y - 0.1))
    resized = frame_bgr if (nw, nh) == (w, h) else cv2.resize(
        frame_bgr, (nw, nh), interpolation=cv2.INTER_LINEAR)
    canvas = np.full((th, tw, 3), 114, np.uint8)
    canvas[top:top + nh, left:left + nw] = resized
    tensor = canvas[:, :, ::-1].transpose(2, 0, 1)[None].astype(np.float32) / 255.0
    return np.ascontiguousarray(tensor), Letterbox(r, float(left), float(top))


def decode_yolo(output: np.ndarray, layout: str = "auto") -> tuple[np.ndarray, np.ndarray,
                                                                   np.ndarray]:
    """Decode one image's raw YOLO output.

    Args:
        output: (1, N, 5 + C) for yolov5, (1, 4 + C, N) for yolov8 (or without the batch axis).
        layout: ``"yolov5"``, ``"yolov8"`` or ``"auto"``.

    Returns:
        ``(boxes_xyxy (N, 4) in input pixels, scores (N,), classes (N,) int64)``: for each
        candidate its best class and that class's score (x objectness for yolov5).
    """
    out = np.asarray(output, np.float32)
    if out.ndim == 3:
        if out.shape[0] != 1:
            raise ValueError(f"YOLO output has batch {out.shape[0]}; one image at a time")
        out = out[0]
    if out.ndim != 2:
        raise ValueError(f"YOLO output of shape {np.shape(output)}: expected (1, N, 5+C) "
                         f"(yolov5) or (1, 4+C, N) (yolov8)")
    if layout == "auto":
        layout = "yolov8" if out.shape[0] < out.shape[1] else "yolov5"
    if layout == "yolov8":
        rows = out.T
        if rows.shape[1] < 5:
            raise ValueError(f"yolov8 output needs 4 + C >= 5 channels on axis 1, got "
                             f"{rows.shape[1]}")
        cls_prob = rows[:, 4:]
    elif layout == "yolov5":
        rows = out
        if rows.shape[1] < 6:
            raise ValueError(f"yolov5 output needs 5 + C >= 6 values on the last axis, got "
                             f"{rows.shape[1]}")
        cls_prob = rows[:, 5:] * rows[:, 4:5]
    else:
        raise ValueError(f"layout = {layout!r}: must be one of {LAYOUTS}")
    classes = cls_prob.argmax(axis=1).astype(np.int64)
    scores = cls_prob[np.arange(rows.shape[0]), classes].astype(np.float64)
    c, wh = rows[:, 0:2].astype(np.float64), rows[:, 2:4].astype(np.float64)
    boxes = np.concatenate([c - wh / 2, c + wh / 2], axis=1)
    return boxes, scores, classes


def postprocess(boxes_xyxy: np.ndarray, scores: np.ndarray, classes: np.ndarray,
                config: YOLOConfig, box: Letterbox, frame_shape: tuple[int, ...]
                ) -> FrameDetections:
    """Score and class filter, map to frame pixels, clip, per-class NMS, cap."""
    keep = scores >= config.min_score
    if config.classes:
        keep &= np.isin(classes, np.asarray(config.classes))
    b = box.to_frame(boxes_xyxy[keep])
    h, w = frame_shape[:2]
    b[:, 0::2] = b[:, 0::2].clip(0, w)
    b[:, 1::2] = b[:, 1::2].clip(0, h)
    s, c = scores[keep], classes[keep]
    area = (b[:, 2] > b[:, 0]) & (b[:, 3] > b[:, 1])
    b, s, c = b[area], s[area], c[area]
    k = nms(b, s, config.nms_iou, classes=c, max_output=config.max_detections)
    return FrameDetections(b[k], s[k], c[k])


class ONNXYOLODetector:
    """A YOLOv5/v8-style ONNX model run with onnxruntime on the CPU (or another provider)."""

    def __init__(self, path: str | os.PathLike, config: YOLOConfig = YOLOConfig(),
                 providers: list[str] | None = None):
        import onnxruntime as ort

        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"{self.path}: no such ONNX model file")
        if not isinstance(config, YOLOConfig):
            raise ValueError(f"config must be a YOLOConfig, got {type(config).__name__}")
        self.config = config
        from cosmot.detectors.yolox import session_options

        opts = session_options(config.threads)  # no spin-waiting, as the shipped detector
        try:
            self._session = ort.InferenceSession(str(self.path), opts,
                                                 providers=providers or ["CPUExecutionProvider"])
        except Exception as e:  # onnxruntime raises its own exception types
            raise ValueError(f"{self.path}: onnxruntime cannot load it as a model: {e}") from None
        inputs = self._session.get_inputs()
        if len(inputs) != 1 or len(inputs[0].shape) != 4:
            raise ValueError(f"{self.path}: expected one NCHW image input, got "
                             f"{[(i.name, i.shape) for i in inputs]}")
        inp = inputs[0]
        self._input_name = inp.name
        self._half = inp.type == "tensor(float16)"
        h, w = inp.shape[2], inp.shape[3]
        static = isinstance(h, int) and isinstance(w, int)
        self.input_size = (w, h) if static else config.input_size
        out = self._session.get_outputs()[0].shape
        if len(out) != 3:  # (1, N, 5 + C) or (1, 4 + C, N): checked now, not at the first frame
            raise ValueError(f"{self.path}: output shape {out} is not a YOLO detector's "
                             f"(1, boxes, 5 + classes) or (1, 4 + classes, boxes)"
                             + (" (it looks like an appearance encoder: give it to --encoder)"
                                if len(out) == 2 else ""))

    def __call__(self, frame_bgr: np.ndarray) -> FrameDetections:
        tensor, box = letterbox(frame_bgr, self.input_size)
        if self._half:
            tensor = tensor.astype(np.float16)
        output = self._session.run(None, {self._input_name: tensor})[0]
        boxes, scores, classes = decode_yolo(output, self.config.layout)
        return postprocess(boxes, scores, classes, self.config, box, frame_bgr.shape)

    def reset(self) -> None:
        """Nothing to forget: each frame is detected on its own."""
