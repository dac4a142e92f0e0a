"""Frame-to-frame camera motion estimated with OpenCV, for ``Tracker.update(..., warp=...)``.

Two methods, both on downscaled grey frames:

- ``"sparse"``: corners (``goodFeaturesToTrack``) of the previous frame, outside the detection
  boxes (people move on their own), followed with pyramidal Lucas-Kanade optical flow; a
  similarity transform (rotation, uniform scale, translation) fitted with RANSAC
  (``estimateAffinePartial2D``). Fast; the default.
- ``"ecc"``: ``findTransformECC`` (Evangelidis & Psarakis 2008) with a Euclidean motion model on
  the whole frame. Slower, robust on low-texture frames.

The result is a 2x3 matrix mapping previous-frame pixel coordinates to current-frame ones
(identity on the first frame or when the estimate fails).
"""

from __future__ import annotations

import cv2
import numpy as np

METHODS = ("sparse", "ecc")


#: ``cmc`` choices of ``cosmot track``/``mot`` and :func:`cosmot.track_video`
CMC_CHOICES = ("auto", "none", "sparse", "ecc")


def resolve_cmc(choice: str, encoder) -> str:
    """``"auto"`` -> ``"sparse"`` with an encoder (frames are decoded anyway), ``"none"``
    without; other choices unchanged (ValueError for an unknown one)."""
    if choice not in CMC_CHOICES:
        raise ValueError(f"cmc={choice!r}: allowed {', '.join(CMC_CHOICES)}")
    if choice == "auto":
        return "sparse" if encoder is not None else "none"
    return choice


class CameraMotionEstimator:
    """Estimate the image motion between consecutive frames of one stream.

    Args:
        method: ``"sparse"`` or ``"ecc"``.
        max_side: frames are downscaled so that their longer side is at most this (pixels).
        max_corners: ``"sparse"``: at most this many corners are followed.
        window: ``"sparse"``: side in pixels of the Lucas-Kanade window (odd, >= 5).
        half_res_corners: ``"sparse"``: look for corners on the frame at half that resolution
            (then follow them at full); corner search was the costliest step on textured
            640x480 frames.

    The ``"sparse"`` defaults (640, 300 corners found at half resolution, 15 px window) were
    chosen for speed at about equal accuracy (``python tools/scripts/bench_components.py cmc
    SEQ``; figures in docs/scale.md, section 2.4).
    """

    def __init__(self, method: str = "sparse", max_side: int = 640, max_corners: int = 300,
                 window: int = 15, half_res_corners: bool = True):
        if method not in METHODS:
            raise ValueError(f"method = {method!r}: choose one of {METHODS}")
        if max_side < 64:
            raise ValueError(f"max_side = {max_side}: must be >= 64")
        if max_corners < 8:
            raise ValueError(f"max_corners = {max_corners}: must be >= 8 (a transform needs "
                             f"at least 8 followed corners here)")
        if window < 5 or window % 2 == 0:
            raise ValueError(f"window = {window}: must be an odd number >= 5")
        self.method = method
        self.max_side = int(max_side)
        self.max_corners = int(max_corners)
        self.window = int(window)
        self.half_res_corners = bool(half_res_corners)
        self.reset()

    def __repr__(self) -> str:
        """Names the method and every setting (caches of estimated warps are keyed by it)."""
        extra = (f", max_corners={self.max_corners}, window={self.window}, "
                 f"half_res_corners={self.half_res_corners}" if self.method == "sparse" else "")
        return (f"CameraMotionEstimator({self.method!r}, max_side={self.max_side}{extra})")

    def reset(self) -> None:
        self._prev: np.ndarray | None = None
        self._prev_mask: np.ndarray | None = None

    def _prepare(self, frame_bgr: np.ndarray) -> tuple[np.ndarray, float]:
        h, w = frame_bgr.shape[:2]
        scale = min(1.0, self.max_side / max(h, w))
        grey = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2GRAY) if frame_bgr.ndim == 3 else frame_bgr
        if scale < 1.0:
            grey = cv2.resize(grey, (round(w * scale), round(h * scale)),
                              interpolation=cv2.INTER_AREA)
        return grey, scale

    def __call__(self, frame_bgr: np.ndarray, boxes_xyxy: np.ndarray | None = None) -> np.ndarray:
        """The 2x3 transform from the previous frame (given to the last call) to this one."""
        grey, scale = self._prepare(frame_bgr)
        mask = np.full(grey.shape, 255, np.uint8)
        if boxes_xyxy is not None and len(boxes_xyxy):
            b = np.round(np.asarray(boxes_xyxy, dtype=np.float64) * scale).astype(int)
            b[:, [0, 2]] = b[:, [0, 2]].clip(0, grey.shape[1])
            b[:, [1, 3]] = b[:, [1, 3]].clip(0, grey.shape[0])
            for x1, y1, x2, y2 in b:
                mask[y1:y2, x1:x2] = 0
        warp = np.eye(2, 3)
        if self._prev is not None and self._prev.shape == grey.shape:
            small = (self._sparse(self._prev, grey, self._prev_mask) if self.method == "sparse"
                     else self._ecc(self._prev, grey))
            if small is not None:
                warp = small.copy()
                warp[:, 2] /= scale  # rotation/scale part is the same at every resolution
        self._prev, self._prev_mask = grey, mask
        return warp

    def _sparse(self, prev: np.ndarray, cur: np.ndarray, mask: np.ndarray) -> np.ndarray | None:
        if self.half_res_corners:
            small = cv2.pyrDown(prev)
            h, w = small.shape
            pts = cv2.goodFeaturesToTrack(small, maxCorners=self.max_corners, qualityLevel=0.01,
                                          minDistance=3, blockSize=3,
                                          mask=np.ascontiguousarray(mask[::2, ::2][:h, :w]))
            if pts is not None:  # half-resolution pixels -> full resolution
                pts = pts * np.float32(2.0)  # pyrDown keeps the even rows and columns
        else:
            pts = cv2.goodFeaturesToTrack(prev, maxCorners=self.max_corners, qualityLevel=0.01,
                                          minDistance=5, blockSize=3, mask=mask)
        if pts is None or len(pts) < 8:
            return None
        nxt, status, _ = cv2.calcOpticalFlowPyrLK(prev, cur, pts, None,
                                                  winSize=(self.window, self.window), maxLevel=3)
        ok = status.reshape(-1) == 1
        if ok.sum() < 8:
            return None
        warp, inliers = cv2.estimateAffinePartial2D(pts[ok], nxt[ok], method=cv2.RANSAC,
                                                    ransacReprojThreshold=1.0)
        if warp is None or inliers is None or inliers.sum() < 8:
            return None
        return warp

    @staticmethod
    def _ecc(prev: np.ndarray, cur: np.ndarray) -> np.ndarray | None:
        warp = np.eye(2, 3, dtype=np.float32)
        criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 50, 1e-4)
        try:
            # template prev, input cur: prev(x) ~ cur(W x), so W maps previous to current
            _, warp = cv2.findTransformECC(prev, cur, warp, cv2.MOTION_EUCLIDEAN, criteria,
                                           None, 1)
        except cv2.error:
            return None
        return warp.astype(np.float64)
