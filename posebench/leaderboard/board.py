"""One leaderboard table and how its best values are marked (the data the outputs share)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

#: How the best value of a column is marked, per output.
BOLD = {"md": ("**", "**"), "html": ("<b>", "</b>"), "rich": ("[bold]", "[/bold]")}


@dataclass
class Leaderboard:
    """One table: its caption, the numbers (tidy), the display frame and warnings."""

    dataset: str
    body_model: str
    size: str
    caption: str
    stats: pd.DataFrame  # prior, task, metric, unit, higher_is_better, main, mean, std, n, rank,
    # kind (prior or data), ci_low, ci_high, ci_unit, n_units
    display: pd.DataFrame  # priors as rows: rank and every task's main metric
    per_task: dict[str, pd.DataFrame] = field(default_factory=dict)  # all metrics of each task
    warnings: list[str] = field(default_factory=list)
    #: task -> prior -> the arrays file (``seed<k>.npz``) of the prior's lowest seed with one
    arrays: dict[str, dict[str, Path]] = field(default_factory=dict)
    #: task -> one line per pair of priors: the main metric's paired difference and whether
    #: it is significant (tasks that report per-unit values only)
    comparisons: dict[str, list[str]] = field(default_factory=dict)
