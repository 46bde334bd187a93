"""The ``posebench`` command line: the parser of every command, dispatch, and error handling.

Every error a user can cause is one line on stderr and exit status 2; results go to stdout as
rich tables (or JSON), progress to stderr. Building the parser imports no torch: each command's
handler imports what it needs.
"""

from __future__ import annotations

import argparse
import functools
import sys
import warnings
from collections.abc import Sequence
from typing import Any, TextIO

from posebench.cli import build, data, detect, leaderboard, plugins, poses, render, run, view
from posebench.cli.options import EXIT_USER_ERROR, OneLineErrorParser, subcommands
from posebench.core.errors import PosebenchError, PosebenchWarning
from posebench.core.version import DISTRIBUTION, __version__, clashing_distribution


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = OneLineErrorParser(
        prog="posebench",
        description="Benchmark and toolkit for 3D human pose priors.",
        epilog="Errors a user can cause print one line and exit with status 2.",
    )
    parser.add_argument("--version", action="version", version=f"posebench {__version__}")
    commands = subcommands(parser, "command", "COMMAND")
    plugins.add_parsers(commands)
    run.add_parsers(commands)
    data_commands = data.add_parsers(commands)
    build.add_parsers(commands, data_commands)
    poses.add_parsers(commands)
    render.add_parsers(commands)
    detect.add_parsers(commands)
    view.add_parsers(commands)
    leaderboard.add_parsers(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``posebench`` console script."""
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    clash = clashing_distribution()
    if clash:
        sys.stderr.write(
            f"posebench: warning: the distribution {clash} is installed beside {DISTRIBUTION} "
            "and shares its import package 'posebench'; run 'pip uninstall posebench', then "
            f"reinstall {DISTRIBUTION} ('pip install --force-reinstall .' in its clone)\n"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always", PosebenchWarning)
            warnings.showwarning = functools.partial(_show_warning, warnings.showwarning)
            return int(args.handler(args) or 0)
    except PosebenchError as exc:
        message = " ".join(str(exc).split())
        sys.stderr.write(f"posebench: error: {message}\n")
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        sys.stderr.write("posebench: interrupted\n")
        return 130


def _show_warning(
    default: Any, message: Warning | str, category: type[Warning], filename: str, lineno: int,
    file: TextIO | None = None, line: str | None = None,
) -> None:  # fmt: skip
    """posebench's own warnings as one line, like its errors; others as Python shows them.
    (Python passes every argument positionally, ``file`` and ``line`` included.)"""
    if not issubclass(category, PosebenchWarning):
        default(message, category, filename, lineno, file, line)
        return
    (file or sys.stderr).write(f"posebench: warning: {' '.join(str(message).split())}\n")


if __name__ == "__main__":
    raise SystemExit(main())
