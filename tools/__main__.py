"""``python -m cosmot`` runs the ``cosmot`` command line."""

from cosmot.cli.main import main

raise SystemExit(main())
