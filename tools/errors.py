"""Failures as one line for the user: what, where (the option that named the file) and how to
fix it. Used by the command line and by the batch runner's summaries."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Mapping


def path_key(path: str | os.PathLike) -> str:
    """A path's identity for comparisons (resolved, case-normalised)."""
    return os.path.normcase(os.path.realpath(path))


def describe_error(e: BaseException, options: dict | None = None) -> str:
    """One line for the user: what, where and how to fix (the messages raised by cosmot say it;
    OS errors get the option that named the file; anything else keeps its type)."""
    if isinstance(e, OSError):
        return describe_os_error(e, options)
    if isinstance(e, (ValueError, FileNotFoundError)):
        return str(e)
    return f"{type(e).__name__}: {e} (unexpected; rerun with --debug for the traceback)"


def describe_os_error(e: OSError, options: Mapping[str, str] | None = None) -> str:
    """An ``OSError`` as one line naming the option of its file when known, with a hint."""
    name = e.filename
    label = ""
    if name is not None and options:
        for path, opt in options.items():
            if path_key(Path(path)) == path_key(Path(os.fspath(name))):
                label = f"{opt} "
                break
    what = e.strerror or str(e)
    where = f"{label}{name}: " if name is not None else ""
    hint = {errno.ENOSPC: "the disk is full: free space or write the output elsewhere",
            errno.EDQUOT: "the disk quota is exceeded: free space or write elsewhere",
            errno.ENOTDIR: "a parent of the path is a file, not a folder",
            errno.EACCES: "no permission: choose a path you can write",
            errno.EROFS: "the file system is read-only: write elsewhere"}.get(e.errno)
    if name is None and e.strerror is None:
        return str(e)
    return f"{where}{what}" + (f" ({hint})" if hint else "")
