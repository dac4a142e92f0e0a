"""Greedy non-maximum suppression (kept in the tracker core, ``tracker.geometry.nms``, which
the tracker's ``nms_max_overlap`` also uses); re-exported here for the detectors."""

from __future__ import annotations

from cosmot.tracker.geometry import nms

__all__ = ["nms"]
