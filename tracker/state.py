"""A tracker's whole state as plain numpy arrays, saved without pickle (``.npz``).

``state_dict(tracker)`` holds everything :meth:`Tracker.update` reads: the configuration (as
JSON), the counters, every live track's row (in row order) and the lost-track galleries.
``from_state(state)`` rebuilds a tracker that continues exactly as the original would: the
same ids and, frame after frame, the same output, in this or another process. ``save_state``
and ``load_state`` write and read it as an ``.npz`` file (``allow_pickle=False``), atomically.

The format is versioned (``STATE_FORMAT``); loading checks the version, the keys and the shapes
and raises ``ValueError`` naming the file and the key.
"""

from __future__ import annotations

import dataclasses
import json
import os
import zipfile
from pathlib import Path

import numpy as np

from .config import TrackerConfig
from .lost_tracks import LostTracks
from .track_set import TrackSet

#: /2 added the per-track foreground sum (``TrackerConfig.min_foreground``).
STATE_FORMAT = "cosmot-tracker-state/2"

_TRACK_BASES = TrackSet._BASES  # the arrays that hold every track
#: Larger restored capacities or embedding sizes are refused as damage (they would allocate
#: gigabytes before anything else is checked).
MAX_CAPACITY = 1_000_000
MAX_DIM = 16_384


def state_dict(tracker) -> dict[str, np.ndarray]:
    """The tracker's state: a flat dict of numpy arrays (copies), with no Python objects."""
    t, lost = tracker.tracks, tracker.lost
    cfg = json.dumps(dataclasses.asdict(tracker.config), sort_keys=True)
    uses = tracker._uses_appearance
    out = {
        "format": np.array(STATE_FORMAT),
        "config_json": np.array(cfg),
        "counters": np.array([tracker.frame_count, tracker._next_uid, tracker._next_id,
                              -1 if uses is None else int(uses)], np.int64),
        "tracks_shape": np.array([t.n, t.dim, t.budget, t.capacity], np.int64),
        "lost_track_id": lost.track_id.copy(),
        "lost_expires": lost.expires.copy(),
    }
    for name in _TRACK_BASES:
        out["tracks" + (name if name.startswith("_") else "_" + name)] = \
            getattr(t, name)[: t.n].copy()
    if lost.gallery is not None:
        out["lost_gallery"] = lost.gallery.copy()
    return out


def _get(state, key: str, where: str) -> np.ndarray:
    try:
        return np.asarray(state[key])
    except KeyError:
        raise ValueError(f"{where}: tracker state has no {key!r}; it was not written by "
                         f"Tracker.state_dict() ({STATE_FORMAT})") from None


def from_state(state, where: str = "tracker state"):
    """A new :class:`~cosmot.tracker.Tracker` with the given state (see :func:`state_dict`).

    ``where`` names the source in error messages (e.g. the file)."""
    from .tracker import Tracker

    if isinstance(state, (str, os.PathLike)):
        raise TypeError(f"from_state got a path ({os.fspath(state)!r}), not a state: read a "
                        f"saved file with cosmot.tracker.state.load_state(path)")
    fmt = str(_get(state, "format", where))
    if fmt != STATE_FORMAT:
        older = fmt.startswith("cosmot-tracker-state/")
        raise ValueError(f"{where}: format {fmt!r}, expected {STATE_FORMAT!r}"
                         + ("; it was written by an earlier cosmot: resume with that version, "
                            "or remove the checkpoint to start afresh" if older else ""))
    try:
        fields = json.loads(str(_get(state, "config_json", where)))
        config = TrackerConfig(**fields)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{where}: config_json is not a TrackerConfig: {e}") from None
    tracker = Tracker(config)
    frame_count, next_uid, next_id, uses = (int(v) for v in _get(state, "counters", where))
    if frame_count < 0 or next_uid < 1 or next_id < 1 or uses not in (-1, 0, 1):
        raise ValueError(f"{where}: counters (frame {frame_count}, next uid {next_uid}, next "
                         f"id {next_id}, appearance flag {uses}) are impossible; the state was "
                         f"damaged or edited: remove it to start afresh")
    n, dim, budget, capacity = (int(v) for v in _get(state, "tracks_shape", where))
    if budget != tracker.tracks.budget or not 0 <= n <= capacity or dim < 0:
        raise ValueError(f"{where}: tracks_shape {[n, dim, budget, capacity]} does not fit the "
                         f"configuration (budget {tracker.tracks.budget})")
    if capacity > MAX_CAPACITY or dim > MAX_DIM:
        raise ValueError(f"{where}: tracks_shape {[n, dim, budget, capacity]}: capacity above "
                         f"{MAX_CAPACITY} tracks or embeddings above {MAX_DIM} dimensions; the "
                         f"state was damaged or edited: remove it to start afresh")
    ts = TrackSet(budget=budget, capacity=capacity)
    ts.dim = dim
    ts._alloc(capacity)
    for name in _TRACK_BASES:
        key = "tracks" + (name if name.startswith("_") else "_" + name)
        arr = _get(state, key, where)
        base = getattr(ts, name)
        if arr.shape != (n,) + base.shape[1:] or arr.dtype != base.dtype:
            raise ValueError(f"{where}: {key} has shape {arr.shape} {arr.dtype}, expected "
                             f"{(n,) + base.shape[1:]} {base.dtype}")
        if arr.dtype.kind == "f" and not np.isfinite(arr).all():
            raise ValueError(f"{where}: {key} holds NaN or infinite values; the state was "
                             f"damaged or edited: remove it to start afresh")
        base[:n] = arr
    ts.n = n
    ids = ts.track_id[:n]
    if n and (ids.max() >= next_id or ts.uid[:n].max() >= next_uid):
        raise ValueError(f"{where}: a track's id ({int(ids.max())}) or uid is not below the "
                         f"next one to give ({next_id}, {next_uid}); the state was damaged or "
                         f"edited: remove it to start afresh")
    lost = LostTracks()
    lost.track_id = _get(state, "lost_track_id", where).astype(np.int64)
    lost.expires = _get(state, "lost_expires", where).astype(np.int64)
    if "lost_gallery" in state:
        lost.gallery = np.asarray(state["lost_gallery"], np.float32).copy()
    if len(lost.expires) != len(lost) or (len(lost) and (
            lost.gallery is None or lost.gallery.shape[0] != len(lost))):
        raise ValueError(f"{where}: lost-track arrays disagree in length")
    tracker.tracks, tracker.lost = ts, lost
    tracker.frame_count, tracker._next_uid, tracker._next_id = frame_count, next_uid, next_id
    tracker._uses_appearance = None if uses < 0 else bool(uses)
    return tracker


def save_state(tracker, path: str | os.PathLike, extra: dict[str, np.ndarray] | None = None
               ) -> None:
    """Write the tracker's state (and ``extra`` arrays, keys prefixed ``extra_``) to an
    ``.npz`` file, replacing it atomically (a crash leaves the old file or the new one)."""
    path = Path(path)
    arrays = state_dict(tracker)
    for k, v in (extra or {}).items():
        arrays["extra_" + k] = np.asarray(v)
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:  # disk full, file too large: no .tmp left, the old file kept, named
        tmp.unlink(missing_ok=True)
        raise OSError(e.errno, f"cannot save the tracker state ({e.strerror}); the previous "
                               f"one, if any, is kept", str(path)) from None


def load_state(path: str | os.PathLike):
    """``(tracker, extra)`` from a file written by :func:`save_state` (no pickle is loaded)."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            state = {k: z[k] for k in z.files}
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such tracker state file") from None
    except (ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile) as e:
        raise ValueError(f"{path}: not a readable tracker state (.npz) file: {e}") from None
    tracker = from_state(state, where=str(path))
    extra = {k[len("extra_"):]: v for k, v in state.items() if k.startswith("extra_")}
    return tracker, extra
