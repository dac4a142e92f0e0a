"""Checksums of model files and the JSON records shipped beside them (no torch needed)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from cosmot.runtime import sha256_file


def check_sha256(path: str | os.PathLike, expected: str) -> None:
    """ValueError naming the file when its SHA-256 is not ``expected``."""
    got = sha256_file(path)
    if got != expected:
        raise ValueError(f"{path}: SHA-256 {got} does not match the recorded {expected}; the "
                         f"file is damaged or was replaced (reinstall cosmot, or pass your own "
                         f"model file instead)")


def read_weights_record(json_path: str | os.PathLike) -> dict:
    """The JSON record shipped beside a weights file (must hold ``file`` and ``sha256``)."""
    json_path = Path(json_path)
    try:
        record = json.loads(json_path.read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f"{json_path}: not valid JSON ({e})") from None
    for key in ("file", "sha256"):
        if key not in record:
            raise ValueError(f"{json_path}: missing key {key!r}")
    return record


class UncheckedModelWarning(UserWarning):
    """A model file was loaded without any checksum to compare its bytes against."""


def checksum_beside(path: str | os.PathLike) -> str | None:
    """The SHA-256 recorded in ``PATH.sha256`` beside a model file (``sha256sum``'s format,
    ``HEX  name``, or the bare hex), or None when there is no such file. ValueError naming it
    when it holds no SHA-256."""
    side = Path(f"{os.fspath(path)}.sha256")
    if not side.is_file():
        return None
    text = side.read_text().strip().split()
    digest = text[0].lower() if text else ""
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise ValueError(f"{side}: holds no SHA-256 (64 hex digits, as 'sha256sum "
                         f"{Path(path).name} > {side.name}' writes); fix or remove it")
    return digest


def write_checksum_beside(path: str | os.PathLike) -> Path:
    """Write ``PATH.sha256`` (``sha256sum`` format) so that later loads check the file."""
    side = Path(f"{os.fspath(path)}.sha256")
    side.write_text(f"{sha256_file(path)}  {Path(path).name}\n")
    return side


def check_beside_or_warn(path: str | os.PathLike, what: str) -> bool:
    """Check a user's model file against ``PATH.sha256`` when there is one (ValueError naming
    the file on a mismatch) and return True; else warn once that ``what`` was not checked and
    return False."""
    expected = checksum_beside(path)
    if expected is not None:
        check_sha256(path, expected)
        return True
    import warnings

    warnings.warn(UncheckedModelWarning(
        f"{path}: {what} not checked: no checksum is stored in it and there is no "
        f"{Path(path).name}.sha256 beside it (write one with 'sha256sum {Path(path).name} > "
        f"{Path(path).name}.sha256' to have damaged copies refused)"), stacklevel=3)
    return False

