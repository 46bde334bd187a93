"""``posebench leaderboard``: the results folder as tables on the terminal, or as a file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from posebench.benchmark.spec import DEFAULT_OUT
from posebench.cli import options as opt

if TYPE_CHECKING:
    from posebench.body.base import BodyModel
    from posebench.leaderboard import Leaderboard


def add_parsers(commands: opt.Commands) -> None:
    """Register ``leaderboard``."""
    p = commands.add_parser("leaderboard", help="tables of results: Markdown, HTML or CSV")
    p.add_argument(
        "--results", default=DEFAULT_OUT, help=f"results folder (default {DEFAULT_OUT}/)"
    )
    p.add_argument(
        "--format", choices=("md", "html", "csv"),
        help="write this format (default: a table on a terminal, Markdown when piped)",
    )  # fmt: skip
    opt.add_out(p, help="file to write (default: stdout)")
    p.set_defaults(handler=cmd_leaderboard)


def cmd_leaderboard(args: argparse.Namespace) -> int:
    """Tables of the results folder: rich on a terminal, or Markdown, HTML or CSV written as
    they are (Markdown too when stdout is a pipe or file: a rich table there would be cut to
    80 columns)."""
    from posebench.leaderboard import BOLD, collect_results, leaderboard_tables, render

    results = collect_results(args.results)
    for reason in results.attrs.get("skipped", ()):
        print(f"posebench: warning: skipped {reason}", file=sys.stderr)
    if args.format is None and args.out is None and sys.stdout.isatty():
        print_tables(leaderboard_tables(results, bold=BOLD["rich"]))
        return 0
    suffix = Path(args.out).suffix if args.out else ""
    fmt = args.format or suffix.lstrip(".").replace("markdown", "md") or "md"
    if fmt == "html":
        from posebench.leaderboard.plots import REPORT_EXTRA_HINT, matplotlib_available

        if not matplotlib_available():
            print(f"posebench: warning: the page has no charts; {REPORT_EXTRA_HINT}",
                  file=sys.stderr)  # fmt: skip
    boards = leaderboard_tables(results, bold=BOLD.get(fmt, BOLD["md"]))
    text = render(boards, fmt, body_model=_body_model)
    if args.out:
        from posebench.core.atomic import atomic_write

        atomic_write(args.out, lambda handle: handle.write(text))
        print(f"leaderboard: {args.out}")
    else:
        sys.stdout.write(text)
    return 0


def _body_model(name: str) -> BodyModel:
    """The body that draws the HTML page's pose pictures (loaded only when there are some)."""
    from posebench.benchmark.components import load_body_model

    return load_body_model(name)


def print_tables(boards: list[Leaderboard]) -> None:
    """Each table as a rich table on stdout, its warnings under it. Names from result files are
    escaped, so only the best-value marks are rich markup; long cells and headers fold onto
    more lines rather than being cut."""
    from rich.markup import escape
    from rich.table import Table

    from posebench.cli.console import stdout
    from posebench.leaderboard import BOLD

    for board in boards:
        table = Table(title=escape(f"{board.dataset} · {board.body_model} · {board.size}"),
                      caption=escape(board.caption))  # fmt: skip
        for column in board.display.columns:
            table.add_column(escape(str(column)), overflow="fold")
        columns = list(board.display.columns)
        for row in board.display.itertuples(index=False):
            table.add_row(
                *(
                    escape(str(v)) if column == "prior" else _rich_cell(str(v), BOLD["rich"])
                    for column, v in zip(columns, row, strict=True)
                )
            )
        stdout.print(table)
        for warning in board.warnings:
            stdout.print(f"⚠ {warning}", markup=False)


def _rich_cell(text: str, bold: tuple[str, str]) -> str:
    """A cell as rich markup: escaped text, bold again where the table marked the best value."""
    from rich.markup import escape

    start, end = bold
    if text.startswith(start) and text.endswith(end) and len(text) >= len(start) + len(end):
        return start + escape(text[len(start) : len(text) - len(end)]) + end
    return escape(text)
