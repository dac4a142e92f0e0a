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


@pytest.fixture
def cut_video(tmp_path) -> tuple[Path, Path]:
    """``(full, cut)``: a 40-frame Motion-JPEG AVI (64x48, 10 fps, seeded noise) and a copy
    cut at half its bytes, as an interrupted copy or recording leaves it."""
    import cv2
    import numpy as np

    full = tmp_path / "full.avi"
    writer = cv2.VideoWriter(str(full), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 48))
    rng = np.random.default_rng(0)
    for _ in range(40):
        writer.write(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8))
    writer.release()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    return full, cut
