"""The outputs of a run, one place: :data:`FORMATS` (the registry the command line builds its
``--out-*`` flags and ``--outputs`` kinds from) and :class:`TrackOutputs` (the fan-out that
writes each processed frame to every output asked for).

Adding an output format: a writer class here, an entry in :data:`FORMATS`, and its branch in
:class:`TrackOutputs` (``__init__``, ``_write_files``, ``sizes``).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from cosmot.tracker import TrackedObjects
from cosmot.tracker.geometry import xyxy_to_tlwh
from cosmot.writers.drawing import Trails, draw_tracks
from cosmot.writers.json_tracks import JSONTracksWriter
from cosmot.writers.mot import DetWriter, MOTWriter, write_det_metadata
from cosmot.writers.video import VideoFileWriter
from cosmot.writers.writer_thread import WriterThread


@dataclass(frozen=True)
class OutputFormat:
    """kind: the name in ``--outputs`` and TrackOutputs' keyword; flag: the single-input
    option; suffix: the file name ending under ``--out-dir``; text: whether the file is
    appended to on ``--resume`` (cut back to the checkpoint) rather than rewritten."""

    kind: str
    flag: str
    suffix: str
    help: str
    text: bool = True


#: Every output ``cosmot track`` can write, in the order of its flags.
FORMATS: dict[str, OutputFormat] = {f.kind: f for f in (
    OutputFormat("video", "--out-video", ".mp4",
                 "annotated video (.mp4, .avi, .mkv, ...)", text=False),
    OutputFormat("mot", "--out-mot", ".txt",
                 "MOTChallenge results (name it <sequence>.txt for cosmot eval)"),
    OutputFormat("json", "--out-json", ".jsonl", "JSON lines, one per frame"),
    OutputFormat("det", "--out-det", ".det.txt",
                 "the detections tracked (after --min-score) as MOT det rows "
                 "(frame,-1,x,y,w,h,score,class) and DET.json beside them: cosmot mot or "
                 "--detections replays the run from them, peers can be fed the same boxes"),
)}


class TrackOutputs:
    """The outputs of a run, any of them optional; a context manager that closes all of them.

    Args:
        video: annotated video path (``.mp4``, ``.avi``, ...), boxes and ids drawn on frames.
        mot: MOTChallenge results path (``frame,id,left,top,width,height,score,-1,-1,-1``).
        json: JSON-lines path (see :mod:`cosmot.writers.json_tracks`).
        det: the detections tracked (after the score filter) as det rows
            (:class:`~cosmot.writers.mot.DetWriter`), to replay the run or score the detector.
        fps: frame rate of the annotated video.
        trails: length in frames of the motion trails drawn (0: none).
        output_box: ``"kalman"`` writes the filtered boxes, ``"detection"`` the matched ones.
        class_names: names of the class ids (e.g. COCO's); the JSON lines then carry each
            track's ``"label"``.
        draw_class_names: also write the class name beside the id on the video (for runs that
            track several classes).
        append: append to the MOT and JSON files (a resumed run) instead of replacing them.
        background: write in a thread (:class:`~cosmot.writers.writer_thread.WriterThread`): the
            video frame is encoded while the next frame is tracked. Each frame's video frame,
            MOT rows and JSON line are written together, in order, so the files always agree
            with each other; :meth:`sizes` and :meth:`close` wait for what is queued. At most
            two frames wait in the queue besides the one being written: a hard kill loses at
            most those three.
        collector: also hand each frame's rows (frame, ids, tlwh, scores) to this
            :class:`~cosmot.tracker.offline.TrackCollector` (offline post-processing).
        det_source: ``(detector name, birth_score, nsa_kalman)`` recorded beside ``det`` as
            ``DET.json`` (:func:`~cosmot.writers.mot.write_det_metadata`), so a replay of the
            file tracks as this run did.
    """

    def __init__(self, video: str | os.PathLike | None = None, mot: str | os.PathLike | None = None,
                 json: str | os.PathLike | None = None, fps: float = 25.0, trails: int = 0,
                 output_box: str = "kalman", class_names: Sequence[str] | None = None,
                 draw_class_names: bool = False, append: bool = False, background: bool = True,
                 det: str | os.PathLike | None = None, collector=None,
                 det_source: tuple[str, float | None] | None = None):
        if output_box not in ("kalman", "detection"):
            raise ValueError(f"output_box = {output_box!r}: must be 'kalman' or 'detection'")
        if draw_class_names and not class_names:
            raise ValueError("draw_class_names needs class_names")
        self.output_box = output_box
        self.class_names = tuple(class_names) if class_names else None
        self.draw_class_names = draw_class_names
        self.trails = Trails(trails) if trails else None
        self._collector = collector
        self._video = self._mot = self._json = self._det = None
        self._thread = None
        # seconds drawing (caller's thread) and writing (writer's thread): one counter each
        self._draw_seconds = self._write_seconds = 0.0
        try:
            self._video = VideoFileWriter(video, fps) if video else None
            self._mot = MOTWriter(mot, append) if mot else None
            self._json = JSONTracksWriter(json, append) if json else None
            self._det = DetWriter(det, append) if det else None
            if det and det_source is not None:
                write_det_metadata(det, *det_source)
            self._thread = WriterThread() if background else None
        except Exception:
            self.close()
            raise

    def write(self, step) -> None:
        """Write one processed frame (a :class:`cosmot.pipeline.TrackStep`: ``frame``,
        ``image``, ``detections``, ``tracks``) to every output."""
        t0 = time.perf_counter()
        t = step.tracks
        box = t.xyxy if self.output_box == "kalman" else t.det_xyxy
        frame = None
        if self._video is not None:
            if self.trails is not None:
                self.trails.update(t.track_id, box)
            frame = draw_tracks(step.image.copy(), t.track_id, box, self.trails,
                                labels=self._labels(t.class_id) if self.draw_class_names
                                else None)
        labels = self._labels(t.class_id) if self._json is not None and self.class_names \
            else None
        self._draw_seconds += time.perf_counter() - t0
        if self._thread is not None:
            self._thread.submit(self._write_files, step.frame, t, box, labels, frame,
                                step.detections)
        else:
            self._write_files(step.frame, t, box, labels, frame, step.detections)

    def _write_files(self, frame_number: int, t: TrackedObjects, box: np.ndarray,
                     labels: list[str] | None, frame: np.ndarray | None,
                     dets) -> None:
        t0 = time.perf_counter()
        if self._det is not None:
            self._det.write(frame_number, dets.boxes_xyxy, dets.scores, dets.classes)
        if self._video is not None:
            self._video.write(frame)
        if self._mot is not None or self._collector is not None:
            tlwh = xyxy_to_tlwh(box)
            if self._mot is not None:
                self._mot.write(frame_number, t.track_id, tlwh, t.score)
            if self._collector is not None:
                self._collector.add(frame_number, t.track_id, tlwh, t.score)
        if self._json is not None:
            self._json.write(frame_number, t.track_id, box, t.score, t.class_id, labels=labels)
        self._write_seconds += time.perf_counter() - t0

    @property
    def seconds(self) -> float:
        """Seconds spent drawing and writing so far, in the caller's and the writer's thread."""
        return self._draw_seconds + self._write_seconds

    def _labels(self, class_ids: np.ndarray) -> list[str]:
        names = self.class_names
        return [names[c] if 0 <= c < len(names) else str(c) for c in class_ids.tolist()]

    def sizes(self) -> dict[str, int]:
        """Bytes written so far to the MOT, JSON and det files (keys ``"mot"``, ``"json"``,
        ``"det"``), once every frame handed to :meth:`write` is written."""
        if self._thread is not None:
            self._thread.flush()
        return {k: w.tell() for k, w in (("mot", self._mot), ("json", self._json),
                                         ("det", self._det)) if w is not None}

    def close(self) -> None:
        """Write what is queued, then close every output, even when one of them fails (the
        first error is raised)."""
        error = None
        for w in (self._thread, self._mot, self._json, self._det, self._video):
            if w is not None:
                try:
                    w.close()
                except BaseException as e:  # noqa: BLE001 - close the others first (Ctrl-C too)
                    error = error or e
        if error is not None:
            raise error

    def __enter__(self) -> "TrackOutputs":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
