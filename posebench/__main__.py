"""``python -m posebench`` runs the command line."""

from posebench.cli.main import main

raise SystemExit(main())
