"""Bar charts of a leaderboard (matplotlib, the optional extra ``report``), as inline SVG.

One figure per task: a panel per metric, a bar per prior (in leaderboard order, one colour per
prior across all figures), its value printed at its end, error bars of one standard deviation
over runs (trained models × evaluation seeds) where there are several, the unit and the better
direction in each panel's title. A panel whose values span more than :data:`LOG_SPAN_DECADES`
orders of magnitude has a log axis (symmetric log where some are zero or negative), said on the
axis, so that small bars beside large ones do not vanish.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable
from typing import Any

import pandas as pd

from posebench.core.errors import PosebenchError
from posebench.core.version import extra_hint

REPORT_EXTRA_HINT = f"install the optional extra: {extra_hint('report')}"


def matplotlib_available() -> bool:
    """Whether the plots can be drawn here."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


#: The priors' colours, handed out in sorted order of their names (no grey: that is for rows
#: that are not priors); more priors than colours start the palette again.
PALETTE = ("#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3",
           "#CCB974", "#64B5CD")  # fmt: skip
#: Orders of magnitude between a panel's smallest and largest value above which it is drawn on
#: a log axis.
LOG_SPAN_DECADES = 1.5

#: The one colour of every reference row (real data, baselines): neutral, so no prior's.
REFERENCE_COLOR = "#A0A0A0"


def prior_colors(priors: Iterable[str], references: Iterable[str] = ()) -> dict[str, str]:
    """One colour per name: priors by their place among all the priors' sorted names (pass
    every prior of the page, so a prior keeps its colour in every chart), reference rows grey."""
    names = sorted(set(priors))
    colors = dict.fromkeys(references, REFERENCE_COLOR)
    colors.update({prior: PALETTE[i % len(PALETTE)] for i, prior in enumerate(names)})
    return colors


def value_scale(values: Iterable[float]) -> str:
    """The y axis for a panel's values: "linear", unless the non-zero ones span more than
    :data:`LOG_SPAN_DECADES` orders of magnitude: then "log", or "symlog" where some value is
    zero or negative (a log axis cannot show those)."""
    finite = [v for v in values if math.isfinite(v)]
    magnitudes = [abs(v) for v in finite if v != 0]
    if len(magnitudes) < 2 or math.log10(max(magnitudes) / min(magnitudes)) <= LOG_SPAN_DECADES:
        return "linear"
    return "log" if all(v > 0 for v in finite) else "symlog"


def _draw_panel(axis: Any, priors: list[str], values: pd.DataFrame, colors: dict[str, str]) -> None:
    """One metric's bars, their error bars and value labels, on the scale its values need."""
    means = values["mean"].astype(float).to_numpy()
    errors = values["std"].astype(float).where(values["n"] > 1).fillna(0).to_numpy()
    scale = value_scale(means)
    bottom = 0.0
    if scale == "log":  # bars rise from a power of ten below the smallest value
        bottom = 10 ** math.floor(math.log10(min(m for m in means if math.isfinite(m))))
        axis.set_yscale("log")
        axis.set_ylabel("log scale", fontsize=7)
    elif scale == "symlog":  # linear within ± the smallest magnitude, logarithmic beyond
        smallest = min(abs(m) for m in means if math.isfinite(m) and m != 0)
        axis.set_yscale("symlog", linthresh=smallest)
        axis.set_ylabel(f"symlog scale (linear within ±{smallest:.2g})", fontsize=6.5)
    heights = [m - bottom if math.isfinite(m) else 0.0 for m in means]
    axis.bar(
        range(len(priors)), heights, bottom=bottom, color=[colors[p] for p in priors],
        yerr=errors, capsize=3, error_kw={"elinewidth": 1},
    )  # fmt: skip
    for x, (mean, error) in enumerate(zip(means, errors, strict=True)):
        if not math.isfinite(mean):
            axis.text(x, bottom, "n/a", ha="center", va="bottom", fontsize=7, color="#666666")
            continue
        end, below = (mean - error, True) if mean < 0 else (mean + error, False)
        axis.annotate(
            f"{mean:.3g}", (x, end), xytext=(0, -2 if below else 2), textcoords="offset points",
            ha="center", va="top" if below else "bottom", fontsize=6.5,
        )  # fmt: skip
    axis.margins(y=0.15)  # room for the labels


def task_chart(stats: pd.DataFrame, order: list[str], colors: dict[str, str]) -> str:
    """SVG of one task's metrics: ``stats`` rows (prior, metric, unit, direction, mean, std, n)."""
    try:  # a Figure without pyplot: no backend, no global state
        import matplotlib
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise PosebenchError(f"leaderboard plots need matplotlib; {REPORT_EXTRA_HINT}") from exc

    defined = stats.groupby("metric")["mean"].transform(lambda m: m.notna().any())
    stats = stats[defined.astype(bool)]  # a metric no prior has (n/a everywhere) gets no panel
    metrics = stats.sort_values(["main", "metric"], ascending=[False, True])["metric"].unique()
    if len(metrics) == 0:
        return ""
    columns = min(3, len(metrics))
    rows = math.ceil(len(metrics) / columns)
    figure = Figure(figsize=(3.4 * columns, 2.6 * rows), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for axis, metric in zip(axes, metrics, strict=False):
        rows_of_metric = stats[stats["metric"] == metric].set_index("prior")
        priors = [p for p in order if p in rows_of_metric.index]
        values = rows_of_metric.loc[priors]
        _draw_panel(axis, priors, values, colors)
        first = values.iloc[0]
        unit = f" ({first['unit']})" if first["unit"] else ""
        arrow = "↑ better" if first["higher_is_better"] else "↓ better"
        star = " ★" if first["main"] else ""
        axis.set_title(f"{metric}{unit}{star}\n{arrow}", fontsize=9)
        axis.set_xticks(range(len(priors)), priors, rotation=30, ha="right", fontsize=8)
        axis.tick_params(axis="y", labelsize=8)
        axis.spines[["top", "right"]].set_visible(False)
    for axis in axes[len(metrics) :]:
        axis.set_visible(False)
    buffer = io.StringIO()
    # same input, same bytes: no date, and element ids hashed with a fixed salt (not a random one)
    with matplotlib.rc_context({"svg.hashsalt": "posebench"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    svg = buffer.getvalue()
    return svg[svg.index("<svg") :]  # drop the XML prologue: the SVG sits inside HTML
