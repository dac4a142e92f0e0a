"""Checkpoints of a tracking run over one input, for ``--checkpoint-every N`` and ``--resume``.

A checkpoint lies next to the run's primary output: ``OUT.txt`` -> ``OUT.txt.ckpt.npz``. It
holds the tracker's state (:mod:`cosmot.tracker.state`, no pickle), the last frame done, the
byte length of each text output at that frame, and a description of the run (input, detector,
encoder, options) that a resumed run must match. It is written atomically after a frame's
outputs are flushed, so outputs and checkpoint always agree on the frame.

One flag, ``--resume``, covers both cases of a batch of inputs: an input whose output exists
without a checkpoint is finished (skipped); one with a checkpoint continues from it (its
outputs are cut back to the checkpoint's frame, then appended to); one with neither starts.
A run writes a checkpoint at frame 0 when it starts (with or without ``--checkpoint-every``) and
removes it when it ends as asked, so an output without a checkpoint is finished: a run that
failed or was interrupted is never taken for finished (it restarts from its last checkpoint).
The description holds the state of every input file (:func:`input_state`): an input edited or
replaced since the checkpoint refuses the resume, naming the file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from cosmot.tracker import Tracker
from cosmot.tracker.state import load_state, save_state

SUFFIX = ".ckpt.npz"
#: files up to this size are identified by their SHA-256 (det files), larger ones (videos) by
#: size and modification time
HASH_LIMIT = 64 << 20


def input_state(path: str | os.PathLike) -> str:
    """A string that changes when the input at ``path`` changes: a small file's SHA-256, a
    large file's size and modification time, a folder's images, videos and seqinfo.ini (names,
    sizes, modification times; other files, e.g. outputs written beside them, do not count)."""
    import hashlib

    from cosmot.sources.frames import IMAGE_EXTENSIONS
    from cosmot.sources.motchallenge import VIDEO_EXTENSIONS

    path = Path(path)
    if path.is_file():
        st = path.stat()
        if st.st_size <= HASH_LIMIT:
            return "sha256 " + hashlib.sha256(path.read_bytes()).hexdigest()
        return f"{st.st_size} bytes, modified {st.st_mtime_ns}"
    if not path.is_dir():
        return "missing"
    h = hashlib.sha256()
    wanted = set(IMAGE_EXTENSIONS) | set(VIDEO_EXTENSIONS)
    for root, dirs, files in os.walk(path):
        dirs.sort()
        for name in sorted(files):
            if Path(name).suffix.lower() in wanted or name == "seqinfo.ini":
                st = (Path(root) / name).stat()
                rel = os.path.relpath(Path(root) / name, path)
                h.update(f"{rel}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    return "files " + h.hexdigest()


def checkpoint_path(output: str | os.PathLike) -> Path:
    """Where the checkpoint of the run writing ``output`` lies."""
    output = Path(output)
    return output.with_name(output.name + SUFFIX)


def save_checkpoint(path: str | os.PathLike, tracker: Tracker, frame: int,
                    sizes: dict[str, int], run: dict) -> None:
    """Write the checkpoint of ``frame`` (outputs of ``sizes`` bytes, ``run`` description)."""
    save_state(tracker, path, extra={
        "frame": np.int64(frame),
        "sizes": np.array(json.dumps(sizes, sort_keys=True)),
        "run": np.array(json.dumps(run, sort_keys=True)),
    })


def load_checkpoint(path: str | os.PathLike, run: dict) -> tuple[Tracker, int, dict[str, int]]:
    """``(tracker, frame, sizes)`` from a checkpoint; ``ValueError`` naming the file and the
    first setting that differs when ``run`` is not the run that wrote it."""
    tracker, extra = load_state(path)
    try:
        frame = int(extra["frame"])
        sizes = json.loads(str(extra["sizes"]))
        saved = json.loads(str(extra["run"]))
    except (KeyError, ValueError) as e:
        raise ValueError(f"{path}: not a cosmot run checkpoint ({e}); remove it to start "
                         f"afresh") from None
    if frame != tracker.frame_count:
        raise ValueError(f"{path}: its frame {frame} is not the frame its tracker state is at "
                         f"({tracker.frame_count}); the checkpoint was damaged or edited: "
                         f"remove it to start afresh")
    for key in sorted(set(saved) | set(run)):
        if saved.get(key) != run.get(key):
            was, now = _first_difference(key, saved.get(key), run.get(key))
            raise ValueError(f"{path}: written by a run with {was}, this run has {now}; "
                             f"resume with the same input and options, or remove the "
                             f"checkpoint to start afresh")
    return tracker, frame, sizes


def _first_difference(key: str, saved, run) -> tuple[str, str]:
    """``key = value`` of the saved and the new run; for a JSON object (the tracker config),
    only the first field that differs (the whole config is hundreds of characters)."""
    try:
        a, b = json.loads(saved), json.loads(run)
    except (TypeError, ValueError):
        a = b = None
    if isinstance(a, dict) and isinstance(b, dict):
        field = next(f for f in sorted(set(a) | set(b)) if a.get(f) != b.get(f))
        return f"{key} {field} = {a.get(field)!r}", f"{field} = {b.get(field)!r}"
    return f"{key} = {saved!r}", repr(run)


def cut_outputs(paths: dict[str, str | os.PathLike], sizes: dict[str, int],
                checkpoint: str | os.PathLike) -> None:
    """Cut each output back to its length at the checkpoint (rows after it are redone)."""
    for key, p in paths.items():
        if key not in sizes:
            raise ValueError(f"{checkpoint}: has no position for the {key} output {p}; it was "
                             f"written without it: resume with the same outputs")
        p = Path(p)
        have = p.stat().st_size if p.exists() else -1
        if have < sizes[key]:
            raise ValueError(f"{p}: {max(have, 0)} bytes, shorter than the {sizes[key]} bytes "
                             f"the checkpoint {checkpoint} recorded; the output was changed "
                             f"since: remove the checkpoint to start afresh")
        os.truncate(p, sizes[key])
