"""``python -m posebench`` runs the command line."""

from posebench.benchmark.cli import main

raise SystemExit(main())
