"""YOLOX detectors (Ge et al. 2021) exported to ONNX without decoding, run with onnxruntime.

The default detector of ``cosmot track`` is the shipped YOLOX-Nano (COCO, Apache-2.0,
``models/yolox_nano_coco.onnx``, SHA-256 checked when loaded); any YOLOX-family file a user
brings (nano, tiny, s, m, l, x; any class count) runs through the same :class:`YOLOXDetector`.

Pre-processing (as YOLOX's own ``ValTransform``): BGR, 0-255, no mean/std; the frame is resized
keeping its aspect ratio and placed at the top-left corner of the input, the rest filled with
114. The input is rectangular: its long side is ``YOLOXConfig.size`` and the short side the
frame's, rounded up to a multiple of 32 (a 1920x1080 frame at 416 runs at 416x256, not
416x416). The graph's input dimensions are rewritten for each input shape and one onnxruntime
session is kept per shape.

Output (one image): (1, N, 5 + C) rows for every cell of the stride 8, 16 and 32 grids in
row-major order, ``x, y, log w, log h, objectness, p_1 .. p_C``: the box centre is
``(x + grid_x) * stride``, its size ``exp(log w) * stride``; score = objectness x class
probability. Candidates keep their best class among the wanted ones, are mapped back through
the letterbox, clipped to the frame and reduced by class-aware NMS (boxes of different classes
never suppress each other).
"""

from __future__ import annotations

import functools
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from cosmot.runtime import available_cores, sha256_file

from .base import FrameDetections
from cosmot.tracker.geometry import nms

STRIDES = (8, 16, 32)
MODELS_DIR = Path(__file__).resolve().parent / "models"
SHIPPED_RECORD = MODELS_DIR / "yolox_nano_coco.json"

#: The 80 COCO class names in the order of the YOLOX (and YOLOv5/v8) COCO models' outputs.
COCO_CLASSES = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat",
    "traffic light", "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog",
    "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella",
    "handbag", "tie", "suitcase", "frisbee", "skis", "snowboard", "sports ball", "kite",
    "baseball bat", "baseball glove", "skateboard", "surfboard", "tennis racket", "bottle",
    "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple", "sandwich",
    "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch",
    "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote",
    "keyboard", "cell phone", "microwave", "oven", "toaster", "sink", "refrigerator", "book",
    "clock", "vase", "scissors", "teddy bear", "hair drier", "toothbrush")


def parse_classes(text: str, names: tuple[str, ...] = COCO_CLASSES,
                  option: str = "--classes") -> tuple[int, ...]:
    """``"person,car"``, ``"0,2"`` or a mix -> class ids (in the given order, no repeats);
    ``"all"`` -> ``()`` (every class). Names are case-insensitive; ``_`` stands for a space
    (``traffic_light``). ``ValueError`` names the unknown entry and lists the valid names."""
    items = [t.strip() for t in str(text).split(",") if t.strip()]
    if not items:
        raise ValueError(f"{option} {text!r}: empty; give class names or ids, e.g. person,car")
    if len(items) == 1 and items[0].lower() == "all":
        return ()
    lookup = {n.lower(): i for i, n in enumerate(names)}
    out: list[int] = []
    for item in items:
        if item.lstrip("-").isdigit():
            k = int(item)
            if not 0 <= k < len(names):
                raise ValueError(f"{option} {text!r}: class id {k} is outside 0..{len(names) - 1}")
        else:
            key = item.lower().replace("_", " ")
            if key not in lookup:
                raise ValueError(f"{option} {text!r}: unknown class {item!r}; valid names "
                                 f"(or ids 0..{len(names) - 1}): "
                                 f"{', '.join(n.replace(' ', '_') for n in names)}")
            k = lookup[key]
        if k not in out:
            out.append(k)
    return tuple(out)


@dataclass(frozen=True)
class YOLOXConfig:
    """Parameters of :class:`YOLOXDetector`.

    size: long side of the network input in pixels (a multiple of 32); the short side follows
        the frame's aspect ratio. 416 is the default (for speed); 640 with ``min_score`` 0.6
        scores about 2.6 HOTA more on the tuning sequences at about twice the detector time
        (docs/detectors.md).
    classes: class ids to keep (COCO: 0 = person, 2 = car, ...); empty keeps all.
    min_score: keep detections with objectness x class score >= this, in [0, 1].
    nms_iou: IoU above which a lower-scored box of the same class is suppressed.
    max_detections: at most this many per frame (highest scores).
    threads: onnxruntime intra-op threads (0: the cores this process may use).
    """

    # size 416 for the speed goals; min_score chosen for it by `python tools/scripts/select_detector.py`
    # on MOT16-11 + PETS09-S2L1, confirmed on KITTI-17 + TUD-Stadtmitte (docs/detectors.md)
    size: int = 416
    classes: tuple[int, ...] = (0,)
    min_score: float = 0.3
    nms_iou: float = 0.45
    max_detections: int = 300
    threads: int = 0

    def __post_init__(self) -> None:
        if not (isinstance(self.size, int) and self.size >= 32 and self.size % 32 == 0):
            raise ValueError(f"YOLOXConfig.size = {self.size!r}: must be a multiple of 32 "
                             f"(e.g. 416 or 640)")
        if not all(isinstance(c, int) and c >= 0 for c in self.classes):
            raise ValueError(f"YOLOXConfig.classes = {self.classes!r}: must be class ids >= 0")
        if not 0.0 <= self.min_score <= 1.0:
            raise ValueError(f"YOLOXConfig.min_score = {self.min_score!r} is outside [0, 1]")
        if not 0.0 <= self.nms_iou <= 1.0:
            raise ValueError(f"YOLOXConfig.nms_iou = {self.nms_iou!r} is outside [0, 1]")
        if not (isinstance(self.max_detections, int) and self.max_detections >= 1):
            raise ValueError(f"YOLOXConfig.max_detections = {self.max_detections!r}: must be "
                             f"an int >= 1")
        if not (isinstance(self.threads, int) and self.threads >= 0):
            raise ValueError(f"YOLOXConfig.threads = {self.threads!r}: must be an int >= 0")


def input_shape(frame_hw: tuple[int, int], size: int) -> tuple[int, int]:
    """Network input ``(height, width)`` for a frame of ``frame_hw``: long side ``size``, short
    side scaled alike and rounded up to a multiple of 32."""
    h, w = int(frame_hw[0]), int(frame_hw[1])
    r = size / max(h, w)
    return (max(32, math.ceil(h * r / 32) * 32), max(32, math.ceil(w * r / 32) * 32))


def letterbox_top_left(frame_bgr: np.ndarray, input_hw: tuple[int, int]
                       ) -> tuple[np.ndarray, float]:
    """Resize keeping the aspect ratio into ``input_hw`` at the top-left corner, pad with 114.

    Returns ``(tensor (1, 3, H, W) float32 BGR 0-255, ratio)``; input pixel = frame pixel x
    ratio, so frame boxes are input boxes / ratio.
    """
    ih, iw = input_hw
    h, w = frame_bgr.shape[:2]
    r = min(ih / h, iw / w)
    nh, nw = min(ih, int(round(h * r))), min(iw, int(round(w * r)))
    resized = frame_bgr if (nh, nw) == (h, w) else cv2.resize(
        frame_bgr, (nw, nh), interpolation=cv2.INTER_LINEAR)
    canvas = np.full((ih, iw, 3), 114, np.uint8)
    canvas[:nh, :nw] = resized
    return np.ascontiguousarray(canvas.transpose(2, 0, 1)[None], np.float32), r


def grid_cells(input_hw: tuple[int, int], strides: tuple[int, ...] = STRIDES
               ) -> tuple[np.ndarray, np.ndarray]:
    """``(grid (N, 2) float32 x, y cell indices, stride (N, 1) float32)`` for every output row,
    the stride-8 grid first, each grid in row-major order (as YOLOX's head flattens them).
    Made once per input shape (read-only arrays)."""
    return _grid_cells(tuple(int(v) for v in input_hw), tuple(int(s) for s in strides))


@functools.lru_cache(maxsize=16)
def _grid_cells(input_hw: tuple[int, int], strides: tuple[int, ...]
                ) -> tuple[np.ndarray, np.ndarray]:
    ih, iw = input_hw
    grids, steps = [], []
    for s in strides:
        gh, gw = ih // s, iw // s
        yv, xv = np.meshgrid(np.arange(gh), np.arange(gw), indexing="ij")
        grids.append(np.stack([xv, yv], axis=2).reshape(-1, 2))
        steps.append(np.full((gh * gw, 1), s))
    grid, stride = (np.concatenate(grids).astype(np.float32),
                    np.concatenate(steps).astype(np.float32))
    grid.flags.writeable = stride.flags.writeable = False
    return grid, stride


def decode_yolox(output: np.ndarray, input_hw: tuple[int, int],
                 strides: tuple[int, ...] = STRIDES, min_objectness: float | None = None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decode one image's raw YOLOX output.

    Args:
        output: (1, N, 5 + C) or (N, 5 + C) raw rows (see the module docstring).
        input_hw: the network input's (height, width), which fixes the grids.
        min_objectness: decode only the rows whose objectness is at least this (no detection
            scores more than its objectness, so a score threshold can cut here first).

    Returns:
        ``(boxes_xyxy (K, 4) float64 input pixels, objectness (K,), class_prob (K, C))`` for
        the K rows kept (all N without ``min_objectness``), in output order.
    """
    out = np.asarray(output, np.float32)
    if out.ndim == 3:
        if out.shape[0] != 1:
            raise ValueError(f"YOLOX output has batch {out.shape[0]}; one image at a time")
        out = out[0]
    if out.ndim != 2 or out.shape[1] < 6:
        raise ValueError(f"YOLOX output of shape {np.shape(output)}: expected (1, N, 5 + C)")
    grid, stride = grid_cells(input_hw, strides)
    if out.shape[0] != grid.shape[0]:
        raise ValueError(f"YOLOX output has {out.shape[0]} rows but an input of {input_hw[1]}x"
                         f"{input_hw[0]} has {grid.shape[0]} grid cells at strides {strides}: "
                         f"not a YOLOX export without decoding (export with YOLOX's "
                         f"tools/export_onnx.py, without --decode_in_inference)")
    if min_objectness is not None:
        rows = (out[:, 4].astype(np.float64) >= min_objectness).nonzero()[0]
        out, grid, stride = out[rows], grid[rows], stride[rows]
    xy = (out[:, 0:2] + grid) * stride
    wh = np.exp(np.minimum(out[:, 2:4], 20.0)) * stride
    boxes = np.concatenate([xy - wh / 2, xy + wh / 2], axis=1).astype(np.float64)
    return boxes, out[:, 4].astype(np.float64), out[:, 5:].astype(np.float64)


def postprocess(boxes_xyxy: np.ndarray, objectness: np.ndarray, class_prob: np.ndarray,
                config: YOLOXConfig, ratio: float, frame_hw: tuple[int, int]
                ) -> FrameDetections:
    """Best wanted class per candidate (score = objectness x class), score filter, input ->
    frame pixels, clip, class-aware NMS, at most ``max_detections``."""
    wanted = np.asarray(config.classes, np.int64) if config.classes else \
        np.arange(class_prob.shape[1])
    if wanted.size and wanted.max() >= class_prob.shape[1]:
        raise ValueError(f"classes {config.classes}: the model has only {class_prob.shape[1]} "
                         f"classes (ids 0..{class_prob.shape[1] - 1})")
    keep = objectness >= config.min_score  # score <= objectness: a cheap first cut
    sub = class_prob[keep][:, wanted] * objectness[keep, None]
    best = sub.argmax(axis=1) if sub.size else np.zeros(0, np.int64)
    scores = sub[np.arange(sub.shape[0]), best]
    classes = wanted[best]
    ok = scores >= config.min_score
    b = boxes_xyxy[keep][ok] / ratio
    s, c = scores[ok], classes[ok]
    h, w = frame_hw
    b[:, 0::2] = b[:, 0::2].clip(0, w)
    b[:, 1::2] = b[:, 1::2].clip(0, h)
    area = (b[:, 2] > b[:, 0]) & (b[:, 3] > b[:, 1])
    b, s, c = b[area], s[area], c[area]
    k = nms(b, s, config.nms_iou, classes=c, max_output=config.max_detections)
    return FrameDetections(b[k], s[k], c[k].astype(np.int64))


def shipped_model_path(record: str | os.PathLike = SHIPPED_RECORD) -> Path:
    """The shipped YOLOX-Nano file, after checking its SHA-256 against the record beside it.

    ``FileNotFoundError`` / ``ValueError`` say which file is missing or damaged."""
    record = Path(record)
    if not record.is_file():
        raise FileNotFoundError(f"{record}: the shipped detector's record is missing (a broken "
                                f"install?); reinstall cosmot or pass --detector MODEL.onnx")
    meta = json.loads(record.read_text())
    path = record.parent / meta["file"]
    if not path.is_file():
        raise FileNotFoundError(f"{path}: the shipped detector model is missing (a broken "
                                f"install?); reinstall cosmot or pass --detector MODEL.onnx")
    got = sha256_file(path)
    if got != meta["sha256"]:
        raise ValueError(f"{path}: SHA-256 {got} does not match the recorded {meta['sha256']} "
                         f"({record.name}); the file is damaged or was replaced: reinstall "
                         f"cosmot, or use --detector hog (no weights)")
    return path


def session_options(threads: int = 0):
    """onnxruntime options for small CPUs: ``threads`` intra-op threads (0: the cores this
    process may use), one inter-op thread, no spin-waiting (spinning threads made YOLOX several
    times slower on 2 shared cores)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads or available_cores()
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    opts.add_session_config_entry("session.inter_op.allow_spinning", "0")
    return opts


def with_input_shape(model_bytes: bytes, input_hw: tuple[int, int]) -> bytes:
    """The serialized model with its image input's height and width set to ``input_hw`` (the
    shapes of intermediate values and of the output are left for onnxruntime to infer)."""
    import onnx

    model = onnx.load_from_string(model_bytes)
    dims = model.graph.input[0].type.tensor_type.shape.dim
    for d, v in zip((dims[2], dims[3]), input_hw):
        d.Clear()
        d.dim_value = int(v)
    del model.graph.value_info[:]
    for out in model.graph.output:
        for k, d in enumerate(out.type.tensor_type.shape.dim):
            if k > 0:
                d.Clear()
                d.dim_param = f"out_{k}"
    return model.SerializeToString()


#: ``birth_score`` of the shipped YOLOX-Nano's boxes (docs/accuracy.md, issue 19: chosen on
#: PETS09-S2L1 + KITTI-17, confirmed on MOT16-11 + TUD-Stadtmitte).
SHIPPED_BIRTH_SCORE = 0.5


class YOLOXDetector:
    """A YOLOX ONNX model (raw head output) as a detector; ``path=None`` is the shipped
    YOLOX-Nano (SHA-256 checked).

    ``detector(frame_bgr)`` returns :class:`FrameDetections` with ``xyxy`` boxes in frame
    pixels, scores in [0, 1] and class ids (COCO for COCO models).
    """

    def __init__(self, path: str | os.PathLike | None = None,
                 config: YOLOXConfig = YOLOXConfig(), providers: list[str] | None = None):
        import onnxruntime as ort

        if not isinstance(config, YOLOXConfig):
            raise ValueError(f"config must be a YOLOXConfig, got {type(config).__name__}")
        self.path = shipped_model_path() if path is None else Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"--detector {self.path}: no such ONNX model file")
        self.name = "yolox-nano (shipped)" if path is None else self.path.name
        self.config = config
        #: The tracker's ``birth_score`` for this detector's boxes (``TrackerConfig`` None
        #: takes it): 0.5 for the shipped model, chosen by the rule in docs/accuracy.md on its
        #: boxes at 416 >= 0.3; None (off) for other models, whose scores were not measured.
        self.birth_score = SHIPPED_BIRTH_SCORE if path is None else None
        #: The tracker's ``nsa_kalman`` for its boxes: on for the shipped model (chosen by the
        #: same rule, docs/accuracy.md), None (off) for other models.
        self.nsa_kalman = True if path is None else None
        self._ort = ort
        self._bytes = self.path.read_bytes()
        self._providers = providers or ["CPUExecutionProvider"]
        self._opts = session_options(config.threads)
        try:
            first = ort.InferenceSession(self._bytes, self._opts, providers=self._providers)
        except Exception as e:  # onnxruntime raises its own exception types
            raise ValueError(f"{self.path}: onnxruntime cannot load it as a model: {e}") from None
        inputs = first.get_inputs()
        if len(inputs) != 1 or len(inputs[0].shape) != 4:
            raise ValueError(f"{self.path}: expected one NCHW image input, got "
                             f"{[(i.name, i.shape) for i in inputs]}")
        self._input_name = inputs[0].name
        self._half = inputs[0].type == "tensor(float16)"
        h, w = inputs[0].shape[2], inputs[0].shape[3]
        self._static_hw = (h, w) if isinstance(h, int) and isinstance(w, int) else None
        self._sessions: dict[tuple[int, int], object] = {}
        if self._static_hw is not None:
            self._sessions[self._static_hw] = first
        else:
            self._dynamic = first
        n_classes = first.get_outputs()[0].shape[-1]
        self.num_classes = n_classes - 5 if isinstance(n_classes, int) else None
        self.class_names = COCO_CLASSES if self.num_classes in (80, None) else tuple(
            str(k) for k in range(self.num_classes))

    def session(self, input_hw: tuple[int, int]):
        """The onnxruntime session for a network input shape (made once per shape)."""
        s = self._sessions.get(input_hw)
        if s is None:
            if self._static_hw is None:
                s = self._dynamic
            else:
                data = with_input_shape(self._bytes, input_hw)
                try:
                    s = self._ort.InferenceSession(data, self._opts, providers=self._providers)
                except Exception as e:
                    raise ValueError(f"{self.path}: cannot run at input {input_hw[1]}x"
                                     f"{input_hw[0]} (--detector-size {self.config.size}): {e}"
                                     ) from None
            self._sessions[input_hw] = s
        return s

    def raw(self, frame_bgr: np.ndarray) -> tuple[np.ndarray, tuple[int, int], float]:
        """``(raw output (N, 5 + C), input_hw, ratio)`` of one frame."""
        hw = input_shape(frame_bgr.shape[:2], self.config.size)
        tensor, ratio = letterbox_top_left(frame_bgr, hw)
        if self._half:
            tensor = tensor.astype(np.float16)
        out = self.session(hw).run(None, {self._input_name: tensor})[0]
        return np.asarray(out, np.float32), hw, ratio

    def __call__(self, frame_bgr: np.ndarray) -> FrameDetections:
        out, hw, ratio = self.raw(frame_bgr)
        # rows below the score threshold in objectness cannot score above it: not decoded
        boxes, obj, prob = decode_yolox(out, hw, min_objectness=self.config.min_score)
        return postprocess(boxes, obj, prob, self.config, ratio, frame_bgr.shape[:2])

    def reset(self) -> None:
        """Nothing to forget: each frame is detected on its own."""


def looks_like_yolox(path: str | os.PathLike) -> bool:
    """Whether an ONNX file's output has one row per grid cell at strides 8/16/32 (YOLOX raw
    head) rather than three (YOLOv5 anchors) or channels first (YOLOv8). Runs the model once on
    a blank 320x320 input when its shapes are not static."""
    import onnxruntime as ort

    s = ort.InferenceSession(str(path), session_options(1), providers=["CPUExecutionProvider"])
    inp, out = s.get_inputs()[0], s.get_outputs()[0]
    if len(inp.shape) != 4:
        return False
    h, w = inp.shape[2], inp.shape[3]
    shape = out.shape
    if not (isinstance(h, int) and isinstance(w, int)) or not all(
            isinstance(v, int) for v in shape):
        h = h if isinstance(h, int) else 320
        w = w if isinstance(w, int) else 320
        dtype = np.float16 if inp.type == "tensor(float16)" else np.float32
        shape = s.run(None, {inp.name: np.zeros((1, 3, h, w), dtype)})[0].shape
    if len(shape) != 3 or shape[2] < 6:
        return False
    return shape[1] == grid_cells((h, w))[0].shape[0]
