"""Where data and caches lie.

- Development data (MOTChallenge sequences under ``mot/``, ReID crops under ``reid/``, models
  under ``models/``): ``$COSMOT_DATA``; else, in a source checkout, ``../shared/data`` beside
  it; else the user data folder (``~/.local/share/cosmot/data`` on Linux). Commands that read
  it also take the folder as an option.
- Caches (crop sets, teacher embeddings): ``$COSMOT_CACHE``, else the platform's user cache
  folder (``~/.cache/cosmot`` on Linux). Nothing is ever written into the installed package.
"""

from __future__ import annotations

import os
from pathlib import Path

#: The source checkout holding this package (meaningful for an editable install only).
REPO_ROOT = Path(__file__).resolve().parents[1]


def in_checkout() -> bool:
    """True when the package runs from a source checkout (editable install or tests)."""
    return (REPO_ROOT / "pyproject.toml").is_file() and (REPO_ROOT / "tracker").is_dir()


def data_dir() -> Path:
    """The data folder (MOT sequences under ``mot/``, ReID crops under ``reid/``, ``models/``)."""
    env = os.environ.get("COSMOT_DATA")
    if env:
        return Path(env)
    if in_checkout():
        return (REPO_ROOT.parent / "shared" / "data").resolve()
    import platformdirs

    return platformdirs.user_data_path("cosmot") / "data"


def cache_dir(*parts: str) -> Path:
    """``$COSMOT_CACHE`` or the user cache folder, joined with ``parts`` (not created)."""
    env = os.environ.get("COSMOT_CACHE")
    if env:
        return Path(env).joinpath(*parts)
    import platformdirs

    return platformdirs.user_cache_path("cosmot").joinpath(*parts)


def mot_sequence(name: str) -> Path:
    """``data_dir()/mot/<name>``."""
    return data_dir() / "mot" / name
