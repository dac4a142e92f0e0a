"""Shared fixtures: the development data folder (skips cleanly when it is absent)."""

from __future__ import annotations

import pytest

from tools.paths import data_dir


@pytest.fixture(scope="session")
def data():
    d = data_dir()
    if not (d / "mot").is_dir():
        pytest.skip(f"development data not found at {d} (set COSMOT_DATA)")
    return d


@pytest.fixture(scope="session")
def mot_dir(data):
    return data / "mot"
