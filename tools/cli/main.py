"""The ``cosmot`` command line: one entry point with subcommands.

Each subcommand lives in its own module of ``cosmot.cli`` that exposes ``register(subparsers)``;
``register`` adds an argparse sub-parser and sets ``func`` to the function that runs it
(``func(args) -> int`` exit code).
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import os
import sys
import traceback
import warnings

from cosmot.errors import describe_error


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


# Modules that add subcommands, in the order they appear in ``cosmot --help``.
COMMAND_MODULES = (
    "cosmot.cli.track",
    "cosmot.cli.mot",
    "cosmot.cli.eval",
    "cosmot.cli.tune",
    "cosmot.cli.calibrate",
    "cosmot.cli.reid",
)


class CosmotParser(argparse.ArgumentParser):
    """No abbreviated options (``--trail`` is not taken for ``--trails``); subcommand parsers
    are of this class too."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)


def _command_parser(parser: argparse.ArgumentParser, args: argparse.Namespace
                    ) -> argparse.ArgumentParser:
    """The (sub)parser of the command ``args`` ran (``cosmot reid train`` -> its parser)."""
    current = parser
    while True:
        subs = [a for a in current._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs:
            return current
        chosen = getattr(args, subs[0].dest, None)
        if chosen is None or chosen not in subs[0].choices:
            return current
        current = subs[0].choices[chosen]


def unknown_arguments_message(command: argparse.ArgumentParser, extra: list[str]) -> str:
    """``unrecognized arguments: X`` with the closest option of ``command`` when one is near."""
    options = [o for a in command._actions for o in a.option_strings]
    hints = []
    for arg in extra:
        if arg.startswith("-"):
            close = difflib.get_close_matches(arg.split("=")[0], options, n=1, cutoff=0.6)
            if close:
                hints.append(f"{arg}: did you mean {close[0]}?")
    return (f"unrecognized arguments: {' '.join(extra)}"
            + (f" ({'; '.join(hints)})" if hints else "")
            + f" (see {command.prog} --help)")


def build_parser() -> argparse.ArgumentParser:
    parser = CosmotParser(
        prog="cosmot",
        description="Deep SORT-style multi-object tracking with a learned appearance metric.")
    parser.add_argument("--debug", action="store_true",
                        help="on errors, print the full traceback (also: anywhere on the "
                             "command line, or COSMOT_DEBUG=1)")
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


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings as one line: ``cosmot: warning: <message>`` (no source line)."""
    print(f"cosmot: warning: {message}", file=sys.stderr if file is None else file)


def main(argv: list[str] | None = None) -> int:
    from cosmot.runtime import limit_blas_threads

    limit_blas_threads()
    from cosmot.cli import signals

    signals.install()
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv or os.environ.get("COSMOT_DEBUG", "") not in ("", "0")
    argv = [a for a in argv if a != "--debug"]
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:  # the command's own usage and the nearest option, not the top-level usage
        command = _command_parser(parser, args)
        command.error(unknown_arguments_message(command, extra))
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    old_show = warnings.showwarning
    warnings.showwarning = _show_warning
    try:
        return int(args.func(args) or 0)
    except ModuleNotFoundError as e:  # an optional dependency: name the extra to install
        if debug:
            traceback.print_exc()
        hint = missing_extra_message(e) or describe_error(e, getattr(args, "paths", None))
        print(f"cosmot {args.command}: error: {hint}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as e:
        # the command's cleanup is done: a further Ctrl-C while the interpreter shuts down
        # (joining reader threads) must not print a traceback over the message below
        signals.ignore_further_stops()
        signum = signals.stop_signal(e)
        code = signals.exit_code(e)
        what = "Ctrl-C" if signum is None else f"signal {signum}"
        print(f"cosmot {args.command}: interrupted ({what}); results written so far are kept",
              file=sys.stderr)
        return code
    except Exception as e:  # every failure ends as one message (the traceback with --debug)
        if debug:
            traceback.print_exc()
        print(f"cosmot {args.command}: error: {describe_error(e, getattr(args, 'paths', None))}",
              file=sys.stderr)
        return 1
    finally:
        warnings.showwarning = old_show
