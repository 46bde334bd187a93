"""``posebench plugins``: what every plugin registered, as a table or JSON."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from posebench.cli import options as opt

COLUMNS = ("kind", "name", "version", "plugin", "summary")


def add_parsers(commands: opt.Commands) -> None:
    """Register ``plugins``."""
    p = commands.add_parser("plugins", help="list registered priors, tasks, datasets and bodies")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(handler=cmd_plugins)


def cmd_plugins(args: argparse.Namespace) -> int:
    """List what every plugin registered."""
    from posebench.plugins import failed_plugins, get_registry

    entries = [entry.as_dict() for entry in get_registry().entries()]
    warn_failed_plugins(failed_plugins)
    if args.json:
        print(json.dumps(entries, indent=2))
        return 0
    from rich.table import Table

    from posebench.cli.console import stdout

    table = Table(title="posebench plugins")
    for column in COLUMNS:
        table.add_column(column)
    for entry in entries:
        table.add_row(*(str(entry[c] or "") for c in COLUMNS))
    stdout.print(table)
    return 0


def warn_failed_plugins(failed: Sequence[tuple[str, str]]) -> None:
    """One warning line on stderr per installed plugin that could not be loaded."""
    for name, reason in failed:
        sys.stderr.write(
            f"posebench: warning: plugin '{name}' failed to load and was skipped ({reason})\n"
        )
