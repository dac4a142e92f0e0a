"""Command-line options that configure the tracker: ``--preset``, ``--set KEY=VALUE``, ``--cmc``."""

from __future__ import annotations

import argparse
import dataclasses
import typing

from cosmot.tracker import PRESETS, TrackerConfig, preset
from cosmot.pipeline.camera_motion import CMC_CHOICES, resolve_cmc  # noqa: F401 (re-exported)


def add_config_options(p: argparse.ArgumentParser, default_preset: str = "default") -> None:
    p.add_argument("--preset", default=default_preset, choices=sorted(PRESETS),
                   help=f"tracker configuration (default: {default_preset})")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override one TrackerConfig field, e.g. --set max_age=60 (repeatable)")


def _parse_value(field: dataclasses.Field, text: str):
    hints = typing.get_type_hints(TrackerConfig)
    kind = hints[field.name]
    if kind is bool:
        low = text.lower()
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"--set {field.name}={text}: expected true or false")
    if kind is int:
        return int(text)
    if kind is float:
        return float(text)
    return text


def config_from_args(args: argparse.Namespace, **extra) -> TrackerConfig:
    """The preset with ``--set`` overrides and ``extra`` fields applied (validated)."""
    cfg = preset(args.preset)
    fields = {f.name: f for f in dataclasses.fields(TrackerConfig)}
    changes = dict(extra)
    for item in args.overrides:
        if "=" not in item:
            raise ValueError(f"--set {item!r}: expected KEY=VALUE")
        key, value = item.split("=", 1)
        key = key.strip()
        if key not in fields:
            raise ValueError(f"--set {key}: not a TrackerConfig field; known: {sorted(fields)}")
        try:
            changes[key] = _parse_value(fields[key], value.strip())
        except ValueError as e:
            raise ValueError(f"--set {item}: {e}") from None
    return cfg.replace(**changes) if changes else cfg




def add_cmc_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--cmc", choices=CMC_CHOICES, default="auto",
                   help="camera-motion compensation: 'auto' (default) = 'sparse' when an "
                        "appearance encoder runs (frames are decoded anyway), 'none' when "
                        "tracking on motion alone; 'sparse' (optical flow + RANSAC) or 'ecc' "
                        "force it (decoding frames), 'none' turns it off")
