"""The HTML leaderboard: one self-contained page with the tables, bar charts, pose pictures and
pictures of real fits."""

from __future__ import annotations

import base64
import html
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

import posebench.leaderboard.plots as plots
from posebench.core.errors import PosebenchError
from posebench.leaderboard.board import BOLD, INPUT_LABEL, LEGEND_LABEL, Leaderboard
from posebench.leaderboard.table import INPUT_KIND

if TYPE_CHECKING:
    from posebench.body.base import BodyModel

#: Makes the body model of a name (what draws the pictures of sampled poses).
BodyFactory = Callable[[str], "BodyModel"]

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1200px; color: #222; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f3f3f3; }
.caption, .note, .legend { color: #555; font-size: 0.9rem; }
.warning { color: #8a5300; }
figure { margin: 0.5rem 0 1.5rem; }
figure img { max-width: 100%; }
figcaption { font-size: 0.85rem; color: #444; }
.swatch { display: inline-block; width: 0.8em; height: 0.8em; margin: 0 0.3em 0 0.8em; }
"""


#: No scripts, nothing fetched: only the page's own <style> and inline styles (the SVG charts
#: carry style attributes) and the pose pictures, which are data: URIs.
CSP = (
    "default-src 'none'; script-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "base-uri 'none'; form-action 'none'"
)


def _table(frame: pd.DataFrame) -> str:
    """The frame as an HTML table; every name and cell is escaped, only the best-value marks
    (``BOLD["html"]``, which the table put around numbers) stay markup."""
    cells = {
        html.escape(str(column)): [
            html.escape(str(v)) if column == "prior" else _html_cell(str(v)) for v in frame[column]
        ]
        for column in frame.columns
    }
    return pd.DataFrame(cells).to_html(index=False, escape=False, border=0)


def _html_cell(text: str) -> str:
    """A metric cell, escaped, bold again where the table marked the best value."""
    start, end = BOLD["html"]
    if text.startswith(start) and text.endswith(end) and len(text) >= len(start) + len(end):
        return start + html.escape(text[len(start) : len(text) - len(end)]) + end
    return html.escape(text)


def _task_section(board: Leaderboard, task: str, colors: dict[str, str], plot: bool) -> str:
    frame = board.per_task[task]
    parts = [f"<h3>{html.escape(task)}</h3>", _table(frame)]
    if board.inputs.get(task):
        parts.append(f"<p class='note'>{INPUT_LABEL}: {html.escape(board.inputs[task])}</p>")
    if board.legends.get(task):
        items = "".join(f"<li>{html.escape(note.text())}</li>" for note in board.legends[task])
        parts.append(f"<p class='legend'>{LEGEND_LABEL}:</p><ul class='legend'>{items}</ul>")
    if board.comparisons.get(task):
        items = "".join(f"<li>{html.escape(line)}</li>" for line in board.comparisons[task])
        parts.append(
            "<p class='note'>Pairwise differences of the main metric (95 % paired bootstrap):"
            f"</p><ul class='note'>{items}</ul>"
        )
    if plot:
        stats = board.stats[(board.stats["task"] == task) & (board.stats["kind"] != INPUT_KIND)]
        order = [str(p) for p in frame["prior"]]
        parts.append(
            f"<figure class='chart'>{plots.task_chart(stats, order, colors)}"
            "<figcaption>Bars: mean over runs (trained models × evaluation seeds), the value at "
            "each bar's end; error bars: one standard deviation over runs (shown where there are "
            "several); a panel whose values "
            "span more than 1.5 orders of magnitude has a log axis, said on the axis."
            "</figcaption></figure>"
        )
    return "\n".join(parts)


def page_colors(boards: list[Leaderboard]) -> dict[str, str]:
    """The colour of every row name on the page: each prior one colour from the palette by its
    place among all the page's priors (so it keeps it in every section), reference rows grey."""
    rows = pd.concat([b.stats[["prior", "kind"]] for b in boards]).drop_duplicates()
    priors = rows[rows["kind"] == "prior"]["prior"].astype(str)
    references = rows[~rows["kind"].isin(["prior", INPUT_KIND])]["prior"].astype(str)
    return plots.prior_colors(priors, references)


def _color_key(colors: dict[str, str], references: bool) -> str:
    """The page's one colour legend: a swatch per prior, one grey swatch for reference rows."""
    items = [
        (color, html.escape(name))
        for name, color in colors.items()
        if color != plots.REFERENCE_COLOR
    ]
    if references:
        items.append((plots.REFERENCE_COLOR, "reference rows (not priors)"))
    swatches = "".join(
        f"<span class='swatch' style='background: {color}'></span>{name}" for color, name in items
    )
    return f"<p class='legend'>Colours in every chart:{swatches}</p>"


def _figure(png: bytes, alt: str, name: str, caption: str) -> str:
    """A PNG as a data: URI figure, its caption ``name`` in bold then ``caption`` (escaped)."""
    return (
        f"<figure><img alt='{html.escape(alt)}' "
        f"src='data:image/png;base64,{base64.b64encode(png).decode()}'>"
        f"<figcaption><b>{html.escape(name)}</b>{html.escape(caption)}</figcaption></figure>"
    )


def _poses_section(board: Leaderboard, body_model: BodyFactory | None) -> str:
    files = next((f for task, f in board.arrays.items() if task.startswith("sample@")), None)
    if not files or body_model is None:
        return ""
    from posebench.leaderboard.poses import sample_rows  # torch: only when there are pictures

    order = [str(p) for p in board.display["prior"]]
    try:
        rows = sample_rows(files, body_model(board.body_model), order)
    except PosebenchError as exc:
        return f"<h3>Sampled poses</h3><p class='note'>No pictures: {html.escape(str(exc))}</p>"
    figures = "".join(
        _figure(
            row.png,
            f"samples of {row.prior}",
            row.prior,
            f": the first {row.shown} samples of its lowest seed ({_shown_path(row.source)}), "
            f"body model {board.body_model}",
        )
        for row in rows
    )
    return f"<h3>Sampled poses</h3>\n{figures}"


def _fits_section(board: Leaderboard, body_model: BodyFactory | None) -> str:
    files = board.arrays.get("image_fit@multiview")
    if not files or body_model is None:
        return ""
    from posebench.leaderboard.fits import fit_rows  # torch: only when there are pictures

    title = "<h3>Real photographs: each prior's fits (image_fit@multiview)</h3>"
    order = [str(p) for p in board.display["prior"]]
    try:
        rows = fit_rows(files, body_model(board.body_model), order)
    except PosebenchError as exc:
        return f"{title}<p class='note'>No pictures: {html.escape(str(exc))}</p>"
    figures = "".join(
        _figure(
            row.png,
            f"fits of {row.prior}",
            row.prior,
            f": frame {row.frame} seen by the four cameras, each view fitted alone "
            f"({_shown_path(row.source)}) and labelled with its PA-MPJPE; green: the detected "
            "keypoints, red: the fitted body's",
        )
        for row in rows
    )
    return f"{title}\n{figures}"


def html_document(
    boards: list[Leaderboard], title: str = "posebench leaderboard",
    body_model: BodyFactory | None = None,
) -> str:  # fmt: skip
    """A standalone HTML page: per table its caption, summary, warnings, tasks, charts, and
    pictures of sampled poses and of real fits drawn with ``body_model(name)`` (none without
    it)."""
    plot = plots.matplotlib_available()
    colors = page_colors(boards) if boards else {}
    sections = []
    for board in boards:
        heading = f"{board.dataset} · {board.body_model} · {board.size}"
        warnings = "".join(f"<p class='warning'>⚠ {html.escape(w)}</p>" for w in board.warnings)
        tasks = "\n".join(_task_section(board, task, colors, plot) for task in board.per_task)
        sections.append(
            f"<section><h2>{html.escape(heading)}</h2>\n"
            f"<p class='caption'>{html.escape(board.caption)}</p>\n{_table(board.display)}\n"
            f"{warnings}\n{tasks}\n{_poses_section(board, body_model)}\n"
            f"{_fits_section(board, body_model)}</section>"
        )
    references = plots.REFERENCE_COLOR in colors.values()
    note = (
        _color_key(colors, references)
        if plot
        else f"<p class='note'>Charts need matplotlib: {html.escape(plots.REPORT_EXTRA_HINT)}.</p>"
    )
    return (
        "<!DOCTYPE html>\n<html lang='en'>\n<head><meta charset='utf-8'>"
        f"<meta http-equiv='Content-Security-Policy' content=\"{CSP}\">"
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>\n"
        f"<body>\n<h1>{html.escape(title)}</h1>\n{note}\n"
        + "\n".join(sections)
        + "\n</body>\n</html>\n"
    )


def _shown_path(path: Path) -> str:
    """``seed0.npz``, or ``train1/seed0.npz`` for a run of a training seed's model."""
    return f"{path.parent.name}/{path.name}" if path.parent.name.startswith("train") else path.name
