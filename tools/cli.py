"""The ``cosmot`` command line: one entry point with subcommands.

Each subcommand lives in its own module of ``tools`` that exposes ``register(subparsers)``;
``register`` adds an argparse sub-parser and sets ``func`` to the function that runs it
(``func(args) -> int`` exit code).
"""

from __future__ import annotations

import argparse
import importlib
import sys

# Modules that add subcommands, in the order they appear in ``cosmot --help``.
COMMAND_MODULES = (
    "tools.track_command",
    "tools.mot_command",
    "tools.eval_command",
    "tools.tune_command",
    "tools.calibrate_command",
    "tools.reid_command",
    "tools.bench_command",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cosmot",
        description="Deep SORT-style multi-object tracking with a learned appearance metric.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name == name:  # a subcommand not written yet
                continue
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except (FileNotFoundError, ValueError, OSError) as e:
        print(f"cosmot {args.command}: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"cosmot {args.command}: interrupted; results written so far are kept",
              file=sys.stderr)
        return 130
