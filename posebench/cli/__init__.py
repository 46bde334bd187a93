"""The ``posebench`` command line: :mod:`.main` builds the parser and dispatches to one module per
command group; :mod:`.options` defines the shared options once."""
