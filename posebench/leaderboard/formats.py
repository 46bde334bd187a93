"""Leaderboard tables as one document: Markdown, an HTML page, or tidy CSV."""

from __future__ import annotations

from typing import Any

import pandas as pd

from posebench.core.errors import InputError
from posebench.leaderboard.board import INPUT_LABEL, LEGEND_LABEL, Leaderboard
from posebench.leaderboard.html_page import BodyFactory, html_document

FORMATS = ("md", "html", "csv")


def render(boards: list[Leaderboard], fmt: str, body_model: BodyFactory | None = None) -> str:
    """All tables in one document: ``md``, ``html`` (a page with charts, and pictures of sampled
    poses drawn with ``body_model(name)`` when it is given) or ``csv`` (tidy numbers). Build the
    boards with ``bold=BOLD[fmt]`` so best values show as such.
    """
    if fmt not in FORMATS:
        raise InputError(f"unknown leaderboard format '{fmt}'; use one of {', '.join(FORMATS)}")
    if fmt == "csv":
        frames = [
            b.stats.assign(dataset=b.dataset, body_model=b.body_model, size=b.size) for b in boards
        ]
        return pd.concat(frames, ignore_index=True).to_csv(index=False)
    if fmt == "html":
        return html_document(boards, body_model=body_model)
    parts = []
    for board in boards:
        title = _line(f"{board.dataset} · {board.body_model} · {board.size}")
        notes = "".join(f"\n\n> ⚠ {_line(w)}" for w in board.warnings)
        tasks = "".join(
            f"\n\n#### {_line(task)}\n\n{_markdown(frame)}{_inputs(board, task)}"
            f"{_legend(board, task)}{_comparisons(board, task)}"
            for task, frame in board.per_task.items()
        )
        caption = _line(board.caption)
        parts.append(f"### {title}\n\n{caption}\n\n{_markdown(board.display)}{notes}{tasks}")
    return "\n\n".join(parts) + "\n"


def _inputs(board: Leaderboard, task: str) -> str:
    """The task's input metrics, once, as a line under its table ('' if it has none)."""
    line = board.inputs.get(task)
    return f"\n\n{INPUT_LABEL}: {_line(line)}" if line else ""


def _legend(board: Leaderboard, task: str) -> str:
    """What each of the task's metrics is, as its task declares it, as a Markdown list."""
    notes = board.legends.get(task)
    if not notes:
        return ""
    items = "".join(f"\n- {_line(note.text())}" for note in notes)
    return f"\n\n{LEGEND_LABEL}:\n{items}"


def _comparisons(board: Leaderboard, task: str) -> str:
    """The task's pairwise differences on its main metric as a Markdown list ('' if none)."""
    lines = board.comparisons.get(task)
    if not lines:
        return ""
    items = "".join(f"\n- {_line(line)}" for line in lines)
    return f"\n\nPairwise differences of the main metric (95 % paired bootstrap):\n{items}"


def _line(text: str) -> str:
    """Text from result files as one Markdown line: a newline in a name cannot end a heading,
    quote or table row early."""
    return " ".join(str(text).splitlines())


def _markdown(table: pd.DataFrame) -> str:
    def cell(value: Any) -> str:
        return _line(str(value)).replace("|", "\\|")

    header = "| " + " | ".join(cell(c) for c in table.columns) + " |"
    rule = "| " + " | ".join("---" for _ in table.columns) + " |"
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join([header, rule, *body])
