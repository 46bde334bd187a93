"""One leaderboard table and how its best values are marked (the data the outputs share)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

#: How the best value of a column is marked, per output.
BOLD = {"md": ("**", "**"), "html": ("<b>", "</b>"), "rich": ("[bold]", "[/bold]")}

#: What introduces a task's input metrics under its table, and its legend, in every output.
INPUT_LABEL = "Input (the same for every prior, not ranked)"
LEGEND_LABEL = "Metrics"


@dataclass(frozen=True)
class MetricNote:
    """One line of a task's legend: a metric it reports, as its task declares it."""

    metric: str
    unit: str
    higher_is_better: bool
    main: bool
    describes_input: bool
    description: str

    def text(self) -> str:
        """The line as plain text: name, unit, which direction is better, what it is."""
        facts = [self.unit] if self.unit else []
        if self.describes_input:
            facts.append("of the input itself, not ranked")
        else:
            facts.append("higher is better" if self.higher_is_better else "lower is better")
        if self.main:
            facts.append("★ main metric")
        description = self.description or "no description declared"
        return f"{self.metric} ({'; '.join(facts)}): {description}"


@dataclass
class Leaderboard:
    """One table: its caption, the numbers (tidy), the display frame and warnings."""

    dataset: str
    body_model: str
    size: str
    caption: str
    stats: pd.DataFrame  # prior, task, metric, unit, higher_is_better, main, mean, std, n, rank,
    # kind (prior, a reference kind such as data, or input), ci_low, ci_high, ci_unit, n_units,
    # n_models (trained models: training seeds)
    display: pd.DataFrame  # priors as rows: rank and every task's main metric
    per_task: dict[str, pd.DataFrame] = field(default_factory=dict)  # all metrics of each task
    warnings: list[str] = field(default_factory=list)
    #: task -> prior -> the arrays file (``seed<k>.npz``) of the prior's lowest seed with one
    arrays: dict[str, dict[str, Path]] = field(default_factory=dict)
    #: task -> one line per pair of priors: the main metric's paired difference and whether
    #: it is significant (tasks that report per-unit values only)
    comparisons: dict[str, list[str]] = field(default_factory=dict)
    #: task -> its metrics that describe the input (the same for every prior), formatted once:
    #: "noisy_mpjpe_mm 64.06 mm, ..." (tasks with such metrics only)
    inputs: dict[str, str] = field(default_factory=dict)
    #: task -> one note per metric column, then per input metric: what the task declares
    legends: dict[str, list[MetricNote]] = field(default_factory=dict)
