"""Command-line options that configure the tracker: ``--preset``, ``--set KEY=VALUE``, ``--cmc``."""

from __future__ import annotations

import argparse
import math

from cosmot.settings import key_values, with_fields
from cosmot.tracker import PRESETS, TrackerConfig, preset
from cosmot.pipeline.camera_motion import CMC_CHOICES


def finite_number(text: str) -> float:
    """argparse type: a finite number (``nan`` and ``inf`` would silently drop everything)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r}: give a finite number")
    return value


def positive_number(text: str) -> float:
    """argparse type: a finite number > 0 (frame rates)."""
    value = finite_number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: must be > 0")
    return value


def add_config_options(p: argparse.ArgumentParser, default_preset: str = "default") -> None:
    p.add_argument("--preset", default=default_preset, choices=sorted(PRESETS),
                   help=f"tracker configuration (default: {default_preset})")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override one TrackerConfig field, e.g. --set max_age=60 (repeatable)")


def config_from_args(args: argparse.Namespace, **extra) -> TrackerConfig:
    """The preset with ``--set`` overrides and ``extra`` fields applied (validated)."""
    options = key_values(args.overrides, "--set")
    cfg = with_fields(preset(args.preset), options, "--set")
    return cfg.replace(**extra) if extra else cfg


def add_cmc_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--cmc", choices=CMC_CHOICES, default="auto",
                   help="camera-motion compensation: 'auto' (default) = 'sparse' when an "
                        "appearance encoder runs (frames are decoded anyway), 'none' when "
                        "tracking on motion alone; 'sparse' (optical flow + RANSAC) or 'ecc' "
                        "force it (decoding frames), 'none' turns it off")
