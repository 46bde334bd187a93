"""Bar charts of a leaderboard (matplotlib, the optional extra ``report``), as inline SVG.

One figure per task: a panel per metric, a bar per prior (in leaderboard order, one colour per
prior across all figures), error bars of one standard deviation over seeds where there are
several seeds, the unit and the better direction in each panel's title.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable

import pandas as pd

from posebench.core.errors import PosebenchError

REPORT_EXTRA_HINT = "install the optional extra: pip install 'posebench[report]'"


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
#: The one colour of every reference row (real data, baselines): neutral, so no prior's.
REFERENCE_COLOR = "#A0A0A0"


def prior_colors(priors: Iterable[str], references: Iterable[str] = ()) -> dict[str, str]:
    """One colour per name: priors by their place among all the priors' sorted names (pass
    every prior of the page, so a prior keeps its colour in every chart), reference rows grey."""
    names = sorted(set(priors))
    colors = dict.fromkeys(references, REFERENCE_COLOR)
    colors.update({prior: PALETTE[i % len(PALETTE)] for i, prior in enumerate(names)})
    return colors


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
        means = values["mean"].astype(float)
        errors = values["std"].astype(float).where(values["n"] > 1)
        axis.bar(
            range(len(priors)), means.fillna(0).to_numpy(), color=[colors[p] for p in priors],
            yerr=errors.fillna(0).to_numpy(), capsize=3, error_kw={"elinewidth": 1},
        )  # fmt: skip
        for x, mean in enumerate(means):
            if math.isnan(mean):
                axis.text(x, 0, "n/a", ha="center", va="bottom", fontsize=7, color="#666666")
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
