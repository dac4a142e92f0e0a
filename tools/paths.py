"""Where the development data lies: ``$COSMOT_DATA``, else ``../shared/data`` beside the checkout."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def data_dir() -> Path:
    """The data folder (MOT sequences under ``mot/``, ReID crops under ``reid/``, ``models/``)."""
    env = os.environ.get("COSMOT_DATA")
    return Path(env) if env else (REPO_ROOT.parent / "shared" / "data").resolve()


def mot_sequence(name: str) -> Path:
    """``data_dir()/mot/<name>``."""
    return data_dir() / "mot" / name
