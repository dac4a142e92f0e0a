"""cosmot inside other detection pipelines: supervision, ultralytics and numpy (boxmot's layout).

    import supervision as sv
    from cosmot.integrations import DeepSortTracker

    tracker = DeepSortTracker()                     # shipped encoder, its calibrated gate
    for frame in sv.get_video_frames_generator("in.mp4"):
        detections = sv.Detections.from_ultralytics(model(frame)[0])
        detections = tracker.update_with_detections(detections, frame)
        # detections.tracker_id: the track ids, as supervision's ByteTrack gives them

The same tracker takes numpy arrays (``update(dets (N, 6) [x1, y1, x2, y2, score, class], frame)``
-> ``(M, 8) [x1, y1, x2, y2, id, score, class, detection index]``, boxmot's convention) and
ultralytics results objects (``update_with_results``). Each call is one frame; the returned
detections are the input rows matched to a confirmed track this frame (their own boxes), in
the order of the tracks. ``frame`` (BGR, as OpenCV and supervision read it) is needed for the
appearance encoder and camera-motion compensation; without an encoder (``encoder=None``) it may
be None. supervision and ultralytics are imported only by the calls that take their objects.
"""

from __future__ import annotations

import numpy as np

from cosmot.pipeline.camera_motion import CameraMotionEstimator
from cosmot.pipeline.foreground import ForegroundShare
from cosmot.pipeline.gate import with_encoder_gate
from cosmot.tracker import Tracker, TrackerConfig


class DeepSortTracker:
    """A :class:`cosmot.Tracker` with its appearance encoder, for per-frame calls.

    config: tracker settings (default ``TrackerConfig(fps=fps)``; a ``max_cosine_distance``
        of None takes the encoder's calibrated gate).
    encoder: a name or path for :func:`cosmot.appearance.load_encoder`, an encoder object, or
        None for motion only.
    cmc: camera-motion compensation ("none" or "sparse"; "auto": sparse with an encoder, as
        ``cosmot track`` does).
    fps: the stream's frame rate (the lost-track gallery counts seconds).
    """

    def __init__(self, config: TrackerConfig | None = None, encoder="default",
                 cmc: str = "auto", fps: float = 30.0):
        if isinstance(encoder, str):
            from cosmot.appearance import load_encoder

            encoder = None if encoder == "none" else load_encoder(encoder)
        self.encoder = encoder
        config = config if config is not None else TrackerConfig(fps=fps)
        self.tracker = Tracker(with_encoder_gate(config, encoder))
        if cmc == "auto":
            cmc = "sparse" if encoder is not None else "none"
        self._cmc_method = cmc
        self.camera_motion = CameraMotionEstimator(cmc) if cmc != "none" else None
        # the moving share of each box, for config.min_foreground (a background model)
        self.foreground = (ForegroundShare() if self.tracker.config.min_foreground > float("-inf")
                           else None)

    def reset(self) -> None:
        """Forget every track (a new video); ids start again at 1."""
        self.tracker.reset()
        if self.camera_motion is not None:
            self.camera_motion = CameraMotionEstimator(self._cmc_method)
        if self.foreground is not None:
            self.foreground.reset()

    def _step(self, xyxy, scores, classes, frame):
        xyxy = np.asarray(xyxy, np.float64).reshape(-1, 4)
        needs_frame = (self.encoder is not None or self.camera_motion is not None
                       or self.foreground is not None)
        if needs_frame and frame is None:
            raise ValueError("frame is None: the appearance encoder, camera-motion "
                             "compensation and min_foreground's background model need the "
                             "image (or make the tracker with encoder=None, cmc='none' and "
                             "min_foreground off)")
        emb = (self.encoder.embed(frame, xyxy) if self.encoder is not None and len(xyxy)
               else None)
        warp = self.camera_motion(frame, xyxy) if self.camera_motion is not None else None
        fg = self.foreground(frame, xyxy) if self.foreground is not None else None
        return self.tracker.update(xyxy, scores, emb, classes, warp=warp, foreground=fg)

    def step(self, boxes_xyxy, scores, classes=None, frame: np.ndarray | None = None):
        """One frame in cosmot's own terms: the :class:`cosmot.TrackedObjects` of
        ``Tracker.update`` (Kalman-filtered ``xyxy``, as ``cosmot track`` writes them, and the
        matched detections' ``det_xyxy``)."""
        return self._step(boxes_xyxy, scores, classes, frame)

    def update(self, dets: np.ndarray, frame: np.ndarray | None = None) -> np.ndarray:
        """``dets`` (N, 6) ``[x1, y1, x2, y2, score, class]`` (or (N, 5) without the class)
        -> (M, 8) ``[x1, y1, x2, y2, track id, score, class, detection index]`` of the
        detections matched to a confirmed track this frame."""
        dets = np.asarray(dets, np.float64)
        if dets.size == 0:
            dets = dets.reshape(0, 6)
        if dets.ndim != 2 or dets.shape[1] not in (5, 6):
            raise ValueError(f"dets: expected shape (N, 6) [x1, y1, x2, y2, score, class] "
                             f"(or (N, 5)), got {dets.shape}")
        classes = dets[:, 5] if dets.shape[1] == 6 else None
        out = self._step(dets[:, :4], dets[:, 4], classes, frame)
        idx = out.det_index
        cls = dets[idx, 5] if classes is not None else np.full(len(idx), -1.0)
        return np.c_[dets[idx, :4], out.track_id, dets[idx, 4], cls, idx].astype(np.float64)

    def update_with_detections(self, detections, frame: np.ndarray | None = None):
        """A ``supervision.Detections`` in, the ones matched to a confirmed track out, with
        ``tracker_id`` set (supervision's ByteTrack convention)."""
        scores = (detections.confidence if detections.confidence is not None
                  else np.ones(len(detections)))
        out = self._step(detections.xyxy, scores, detections.class_id, frame)
        tracked = detections[out.det_index]
        tracked.tracker_id = out.track_id.astype(int)
        return tracked

    def update_with_results(self, results, frame: np.ndarray | None = None) -> np.ndarray:
        """An ultralytics ``Results`` (one image: ``model(frame)[0]``) in, the (M, 8) array of
        :meth:`update` out; ``frame`` defaults to the image the results carry."""
        boxes = results.boxes

        def host(x):
            return x.cpu().numpy() if hasattr(x, "cpu") else np.asarray(x)

        dets = np.c_[host(boxes.xyxy), host(boxes.conf), host(boxes.cls)]
        return self.update(dets, frame if frame is not None else getattr(results, "orig_img",
                                                                          None))
