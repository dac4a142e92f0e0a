"""Config dataclass fields set from text: ``--set KEY=VALUE`` (``TrackerConfig``), ``--det-set
KEY=VALUE`` (the detectors' configs), ``create_detector(name, options)``.

A field's text is read by its annotated type: ``bool`` (1/true/yes/on, 0/false/no/off),
``int``, ``float``, ``tuple`` of ints (``"8,16"`` or ``"8x16"``), else kept as text; an optional
field (``float | None``) also takes ``none``. The
config's own checks (``__post_init__``) then validate the values.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Mapping


def parse_field(cls: type, name: str, text: str):
    """The value of field ``name`` of dataclass ``cls`` written as ``text``."""
    kind = typing.get_type_hints(cls)[name]
    where = f"{cls.__name__}.{name}={text}"
    args = typing.get_args(kind)
    if type(None) in args and len(args) == 2:  # Optional[X]: "none" or X's text
        if text.strip().lower() == "none":
            return None
        kind = next(a for a in args if a is not type(None))
    if kind is bool:
        low = text.lower()
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"{where}: expected true or false")
    try:
        if kind is int:
            return int(text)
        if kind is float:
            return float(text)
        if typing.get_origin(kind) is tuple:
            parts = [p for p in text.replace("x", ",").split(",") if p.strip()]
            return tuple(int(p) for p in parts)
    except ValueError:
        expected = {int: "a whole number", float: "a number"}.get(
            kind, "whole numbers separated by commas")
        raise ValueError(f"{where}: expected {expected}") from None
    return text


def key_values(items, option: str) -> dict[str, str]:
    """``["KEY=VALUE", ...]`` as given to a repeatable option -> ``{KEY: VALUE}`` (stripped);
    ``ValueError`` naming ``option`` for an item without ``=``."""
    out = {}
    for item in items:
        if "=" not in item:
            raise ValueError(f"{option} {item!r}: expected KEY=VALUE")
        key, value = item.split("=", 1)
        out[key.strip()] = value.strip()
    return out


def with_fields(config, options: Mapping[str, str] | None, label: str):
    """A copy of the frozen dataclass ``config`` with ``options`` (field name -> text) parsed
    in; ``ValueError`` starting with ``label`` names an unknown field (listing the known ones)
    or a value that does not parse."""
    if not options:
        return config
    cls = type(config)
    fields = {f.name for f in dataclasses.fields(config)}
    changes = {}
    for key, text in options.items():
        if key not in fields:
            raise ValueError(f"{label} {key!r} is not a field of {cls.__name__}; known: "
                             f"{sorted(fields)}")
        try:
            changes[key] = parse_field(cls, key, str(text))
        except ValueError as e:
            raise ValueError(f"{label} {key}={text}: {e}") from None
    return dataclasses.replace(config, **changes)
