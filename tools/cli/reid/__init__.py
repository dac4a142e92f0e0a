"""``cosmot reid``: build crop sets, train, evaluate, export, adapt, benchmark and ship the
appearance encoder; one module per subcommand, each with ``register(subparsers)`` and ``run``.

Crops are cut from MOTChallenge files by ``cosmot.sources.reid_crops``; the appearance package
only sees arrays and frames.
"""

from __future__ import annotations

from cosmot.cli.reid import build_crops, evaluate, train, export, adapt, bench, ship


def register(subparsers) -> None:
    p = subparsers.add_parser("reid", help="appearance encoder: crops, training, evaluation, "
                                           "export, adaptation, benchmark")
    sub = p.add_subparsers(dest="reid_command", metavar="SUBCOMMAND")
    build_crops.register(sub)
    train.register(sub)
    evaluate.register(sub)
    export.register(sub)
    adapt.register(sub)
    bench.register(sub)
    ship.register(sub)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])
