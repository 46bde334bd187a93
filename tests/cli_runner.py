"""Run ``posebench`` in-process, as the tests of every command do."""

from __future__ import annotations

from typing import Any

from posebench.cli.main import main


def cli(capsys: Any, *argv: str) -> tuple[int, str, str]:
    """``posebench ARGV``: (exit status, stdout, stderr); argparse's exits are statuses too."""
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = exc.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err
