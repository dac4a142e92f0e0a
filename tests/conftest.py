"""Shared fixtures: the committed sample clips and the development data (tests that need the
data skip cleanly when it is absent)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Maintainer scripts (tools/scripts/, not installed) are tested too: importable by module name.
SCRIPTS = ROOT / "tools" / "scripts"
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))

from cosmot.paths import data_dir  # noqa: E402

SAMPLES = ROOT / "sample_videos"


@pytest.fixture(scope="session")
def data():
    d = data_dir()
    if not (d / "mot").is_dir():
        pytest.skip(f"development data not found at {d} (set COSMOT_DATA)")
    return d


@pytest.fixture(scope="session")
def mot_dir(data):
    return data / "mot"


@pytest.fixture(scope="session")
def mot_data(mot_dir) -> Path:
    """``$COSMOT_DATA/mot`` with PETS09-S2L1's ground truth in it."""
    if not (mot_dir / "PETS09-S2L1" / "gt" / "gt.txt").is_file():
        pytest.skip(f"PETS09-S2L1 not found under {mot_dir} (set COSMOT_DATA)")
    return mot_dir


@pytest.fixture(scope="session")
def synthetic_seq() -> Path:
    return SAMPLES / "synthetic-crossing"


@pytest.fixture(scope="session")
def pets_clip() -> Path:
    return SAMPLES / "PETS09-S2L1-clip"
