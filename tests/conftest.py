"""Shared fixtures: paths of the committed sample clips and of the development data."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SAMPLES = ROOT / "sample_videos"


@pytest.fixture(scope="session")
def synthetic_seq() -> Path:
    return SAMPLES / "synthetic-crossing"


@pytest.fixture(scope="session")
def pets_clip() -> Path:
    return SAMPLES / "PETS09-S2L1-clip"


@pytest.fixture(scope="session")
def mot_data() -> Path:
    """``$COSMOT_DATA/mot``; the test is skipped when the development data is absent."""
    from tools.paths import data_dir

    path = data_dir() / "mot"
    if not (path / "PETS09-S2L1" / "gt" / "gt.txt").is_file():
        pytest.skip(f"development data not found at {path} (set COSMOT_DATA)")
    return path
