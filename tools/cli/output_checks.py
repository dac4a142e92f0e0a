"""Checks of a command's output paths before any work: no output overwrites an input or another
output, and every output can be created where it is asked for. Errors name the option."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

from cosmot.errors import path_key as _key


def _same(a: Path, b: Path) -> bool:
    if _key(a) == _key(b):
        return True
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)  # hard links
    except OSError:
        return False


def _no_trailing_separator(option: str, path: str | os.PathLike) -> None:
    text = os.fspath(path)
    if text.endswith(("/", os.sep)):
        raise ValueError(f"{option} {text}: names a folder (it ends with {text[-1]}); give a "
                         f"file name, e.g. {text}results.txt")


def check_writable(option: str, path: str | os.PathLike) -> None:
    """Raise ``ValueError`` naming ``option`` when ``path`` cannot be written as a file: it is a
    folder, a parent is a file, or the nearest existing parent is not writable."""
    p = Path(path)
    if p.is_dir():
        raise ValueError(f"{option} {p}: is a folder; give a file name")
    _no_trailing_separator(option, path)
    if p.exists():
        if not os.access(p, os.W_OK):
            raise ValueError(f"{option} {p}: no permission to write it")
        return
    parent = p.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise ValueError(f"{option} {p}: {parent} is a file, not a folder; choose another "
                         f"path (or remove the file {parent})")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ValueError(f"{option} {p}: no permission to write in {parent}")


def check_outputs(outputs: Mapping[str, str | os.PathLike | None],
                  inputs: Mapping[str, str | os.PathLike | None]) -> None:
    """Refuse, before any work, outputs that would overwrite an input or each other.

    outputs, inputs: option label (e.g. ``"--out-mot"``, ``"INPUT"``) -> path (None: not given).
    Raises ``ValueError`` naming both options and the path.
    """
    for k, v in outputs.items():
        if v is not None:
            _no_trailing_separator(k, v)
    outs = [(k, Path(v)) for k, v in outputs.items() if v is not None]
    ins = [(k, Path(v)) for k, v in inputs.items() if v is not None]
    for k, p in outs:
        check_writable(k, p)
    for i, (k, p) in enumerate(outs):
        for k2, p2 in outs[i + 1:]:
            if _same(p, p2):
                raise ValueError(f"{k} and {k2} are the same file {p}; give each output its "
                                 f"own path")
        for k2, p2 in ins:
            if _same(p, p2):
                raise ValueError(f"{k} {p} is the {k2}; writing it would destroy the input: "
                                 f"choose another output path")
