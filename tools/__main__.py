"""``python -m tools`` runs the ``cosmot`` command line."""

from .cli import main

raise SystemExit(main())
