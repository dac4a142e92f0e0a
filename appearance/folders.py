"""Loaders for re-identification image folders into ``CropSet``s.

- col780 / PKU-Reid-like: ``<root>/train/<pid>/<cam>_<k>.png``, ``<root>/val/query/<pid>/...``
  and ``<root>/val/gallery/<pid>/...`` (cam and k are integers).
- Market-1501-like: one folder of ``<pid>_c<cam>...jpg`` files (pid -1 = junk, 0000 =
  distractor; both are skipped).
- CUHK03 / CUHK01 in Market-1501 naming (``load_cuhk``): ``cuhk03/labeled`` and
  ``cuhk03/detected`` hold the same people (detected pids 1-743 = labeled pids 1-743), so they
  become sources ``cuhk03#labeled`` and ``cuhk03#detected`` of one identity space ``cuhk03``
  (see ``crops.identity_space``); ``cuhk01`` has its own.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import cv2
import numpy as np

from .crops import CROP_HW, SPACE_SEP, CropSet, concat, resize_crop_rgb

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")
_MARKET_NAME = re.compile(r"^(-?\d+)_c(\d+)")
_COL780_NAME = re.compile(r"^(\d+)_(\d+)$")


def _read_rgb(path: Path, size_hw: tuple[int, int]) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise OSError(f"{path}: cannot be read as an image")
    return resize_crop_rgb(image[:, :, ::-1], size_hw)


def _pack(rows: list[tuple[Path, int, int]], source: str, size_hw: tuple[int, int]) -> CropSet:
    if not rows:
        return CropSet.empty(size_hw)
    images = np.stack([_read_rgb(p, size_hw) for p, _, _ in rows])
    pids = np.array([r[1] for r in rows], np.int64)
    cams = np.array([r[2] for r in rows], np.int64)
    n = len(rows)
    return CropSet(images, pids, cams, np.zeros(n, np.int64), np.full(n, -1, np.int64),
                   (source,), (0.0,))


def load_pid_folders(folder: str | os.PathLike, source: str,
                     size_hw: tuple[int, int] = CROP_HW) -> CropSet:
    """Read ``folder/<pid>/<cam>_<k>.<ext>`` images (col780 layout)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder (expected <pid>/<cam>_<k>.png inside)")
    rows = []
    for pid_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
        if not pid_dir.name.isdigit():
            raise ValueError(f"{pid_dir}: identity folder names must be integers")
        for f in sorted(pid_dir.iterdir()):
            if f.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            m = _COL780_NAME.match(f.stem)
            if not m:
                raise ValueError(f"{f}: file name must be <cam>_<k>{f.suffix} with integers")
            rows.append((f, int(pid_dir.name), int(m.group(1))))
    if not rows:
        raise FileNotFoundError(f"{folder}: no images in <pid>/ subfolders")
    return _pack(rows, source, size_hw)


def load_col780(root: str | os.PathLike, size_hw: tuple[int, int] = CROP_HW
                ) -> tuple[CropSet, CropSet, CropSet]:
    """(train, val_query, val_gallery) of a col780-style folder; sources are named
    "col780/train", "col780/query" and "col780/gallery" (query and gallery share identities)."""
    root = Path(root)
    return (load_pid_folders(root / "train", "col780/train", size_hw),
            load_pid_folders(root / "val" / "query", "col780/query", size_hw),
            load_pid_folders(root / "val" / "gallery", "col780/gallery", size_hw))


def load_market_folder(folder: str | os.PathLike, source: str,
                       size_hw: tuple[int, int] = CROP_HW) -> CropSet:
    """Read a Market-1501-style folder of ``<pid>_c<cam>...`` images (pids <= 0 skipped)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder")
    rows = []
    for f in sorted(folder.iterdir()):
        if f.suffix.lower() not in IMAGE_SUFFIXES:
            continue
        m = _MARKET_NAME.match(f.name)
        if not m:
            raise ValueError(f"{f}: name must start with <pid>_c<cam> (Market-1501 style)")
        pid = int(m.group(1))
        if pid > 0:
            rows.append((f, pid, int(m.group(2))))
    if not rows:
        raise FileNotFoundError(f"{folder}: no <pid>_c<cam> images with pid > 0")
    return _pack(rows, source, size_hw)


# (sub-folder of the reid data folder, source name); sources before "#" share identities
CUHK_FOLDERS = (("cuhk03/labeled", "cuhk03" + SPACE_SEP + "labeled"),
                ("cuhk03/detected", "cuhk03" + SPACE_SEP + "detected"),
                ("cuhk01", "cuhk01"))


def load_cuhk(reid_root: str | os.PathLike, size_hw: tuple[int, int] = CROP_HW,
              parts: tuple[str, ...] = ("cuhk03/labeled", "cuhk03/detected", "cuhk01")
              ) -> CropSet:
    """CUHK03 (hand-drawn and detector boxes, one identity space) and CUHK01 from
    ``reid_root``; ``parts`` picks folders of ``CUHK_FOLDERS``. Research-use data: weights
    trained on it must say so."""
    names = dict(CUHK_FOLDERS)
    unknown = [p for p in parts if p not in names]
    if unknown:
        raise ValueError(f"parts {unknown}: allowed {list(names)}")
    return concat([load_market_folder(Path(reid_root) / p, names[p], size_hw) for p in parts])
