"""The ``cosmot`` command line: one entry point with subcommands.

Each subcommand lives in its own module of ``cosmot.cli`` that exposes ``register(subparsers)``;
``register`` adds an argparse sub-parser and sets ``func`` to the function that runs it
(``func(args) -> int`` exit code).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys


#: optional module -> the extra that installs it
EXTRAS = {"torch": "train", "onnx": "train", "trackeval": "eval", "matplotlib": "eval",
          "ray": "ray", "pytest": "test", "hypothesis": "test"}


def missing_extra_message(e: ModuleNotFoundError) -> str | None:
    """What to install when an optional dependency is missing, or None for other modules."""
    top = (e.name or "").split(".")[0]
    extra = EXTRAS.get(top)
    if extra is None:
        return None
    return f"this needs the '{top}' package, which is not installed: pip install 'cosmot[{extra}]'"


def limit_blas_threads() -> None:
    """One BLAS thread unless the user set one: the tracker's matrices are tiny and BLAS threads
    only fight the detector and encoder for the cores (seen: a 10x slowdown on 2 cores).
    Effective only before numpy is first imported, so ``main`` calls it before any command
    module loads; library users keep whatever their process set."""
    for var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")

# Modules that add subcommands, in the order they appear in ``cosmot --help``.
COMMAND_MODULES = (
    "cosmot.cli.track",
    "cosmot.cli.mot",
    "cosmot.cli.eval",
    "cosmot.cli.tune",
    "cosmot.cli.calibrate",
    "cosmot.cli.reid",
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
    limit_blas_threads()
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except ModuleNotFoundError as e:
        hint = missing_extra_message(e)
        if hint is None:
            raise
        print(f"cosmot {args.command}: error: {hint}", file=sys.stderr)
        return 1
    except (FileNotFoundError, ValueError, OSError) as e:
        print(f"cosmot {args.command}: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"cosmot {args.command}: interrupted; results written so far are kept",
              file=sys.stderr)
        return 130
