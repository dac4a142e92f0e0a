"""What ``Tracker.update`` returns (the tracks confirmed and updated in that frame) and what
``Tracker.active_tracks`` returns (every confirmed track still alive, seen or not)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np


@dataclass(frozen=True)
class TrackedObject:
    """One confirmed track matched in this frame.

    track_id: public id (1, 2, ... in order of confirmation; stable over the track's life).
    xyxy: (4,) Kalman-filtered box in pixels. det_xyxy: (4,) the matched detection's raw box.
    det_index: row of the matched detection in the arrays given to ``update`` (-1 for a
    track not matched in this frame, see ``Tracker.active_tracks``).
    score, class_id: the matched detection's score and class (-1 when none was given).
    time_since_update: frames since the track was last matched (0: matched in this frame).
    """

    track_id: int
    xyxy: np.ndarray
    det_xyxy: np.ndarray
    det_index: int
    score: float
    class_id: int
    time_since_update: int = 0

    @property
    def tlwh(self) -> np.ndarray:
        b = self.xyxy
        return np.array([b[0], b[1], b[2] - b[0], b[3] - b[1]])


@dataclass(frozen=True)
class TrackedObjects:
    """All tracks output in one frame, as arrays sorted by ``track_id`` (K rows).

    track_id (K,) int64; xyxy (K, 4) float64 filtered boxes; det_xyxy (K, 4) float64 matched
    detection boxes; det_index (K,) int64; score (K,) float64; class_id (K,) int64;
    time_since_update (K,) int64, frames since each track was last matched (all 0 in what
    ``update`` returns; ``Tracker.active_tracks`` also lists tracks coasting on their
    prediction, whose ``xyxy`` is the predicted box and ``det_xyxy``/``score`` the last match).
    Iterating yields :class:`TrackedObject` records.
    """

    track_id: np.ndarray
    xyxy: np.ndarray
    det_xyxy: np.ndarray
    det_index: np.ndarray
    score: np.ndarray
    class_id: np.ndarray
    time_since_update: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.time_since_update is None:
            object.__setattr__(self, "time_since_update",
                               np.zeros(self.track_id.shape[0], np.int64))

    def __len__(self) -> int:
        return int(self.track_id.shape[0])

    def __iter__(self) -> Iterator[TrackedObject]:
        for i in range(len(self)):
            yield TrackedObject(int(self.track_id[i]), self.xyxy[i], self.det_xyxy[i],
                                int(self.det_index[i]), float(self.score[i]),
                                int(self.class_id[i]), int(self.time_since_update[i]))

    @property
    def tlwh(self) -> np.ndarray:
        """(K, 4) filtered boxes as left, top, width, height."""
        out = self.xyxy.copy()
        out[:, 2:] -= out[:, :2]
        return out

    @staticmethod
    def empty() -> "TrackedObjects":
        z = np.zeros(0, np.int64)
        return TrackedObjects(z, np.zeros((0, 4)), np.zeros((0, 4)), z, np.zeros(0), z)
