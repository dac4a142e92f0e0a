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
