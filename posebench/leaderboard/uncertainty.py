"""Intervals and pairwise significance over independent units (clips, pairs), not seeds.

A task that reports its main metric per unit (``per_unit`` in the result file: clips with their
windows for denoising, pairs for interpolation) gets, per prior, a 95 % percentile bootstrap
interval that resamples whole units, each unit's items averaged over the evaluation seeds
first; two priors are compared by the same bootstrap on their paired differences (same units,
same items). Ranks then show ties: a prior's rank is 1 + the number of priors significantly
better than it, so two priors whose difference is not significant share a rank.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from posebench.tasks.metrics import cluster_bootstrap_mean

#: Resamples and seed of every leaderboard bootstrap (the leaderboard is a pure function).
RESAMPLES, SEED, LEVEL = 2000, 0, 0.95

Units = dict[str, np.ndarray]  # unit id -> item values, averaged over seeds


@dataclass(frozen=True)
class Interval:
    """A mean with its bootstrap interval over ``n_units`` units of kind ``unit``."""

    mean: float
    low: float
    high: float
    unit: str
    n_units: int


@dataclass(frozen=True)
class Comparison:
    """``better`` minus ``other`` on one task's main metric, over their common units."""

    first: str
    second: str
    difference: Interval
    significant: bool


def seed_averaged(records: Iterable[Mapping[str, Any]]) -> tuple[str, Units] | None:
    """Average the per-unit items of several seeds' ``per_unit`` records (the same units and
    item counts in each, as the same task config gives); None when any run lacks them or
    they disagree."""
    records = list(records)
    if not records or any(not r or not r.get("values") for r in records):
        return None
    unit = str(records[0].get("unit", "unit"))
    keys = set(records[0]["values"])
    if any(str(r.get("unit")) != unit or set(r["values"]) != keys for r in records):
        return None
    averaged: Units = {}
    for key in sorted(keys):
        stacked = [np.asarray(r["values"][key], dtype=np.float64) for r in records]
        if len({len(s) for s in stacked}) != 1 or not all(np.isfinite(s).all() for s in stacked):
            return None
        averaged[key] = np.mean(stacked, axis=0)
    return unit, averaged


def interval(unit: str, units: Units) -> Interval:
    """The mean over items and its bootstrap interval over units."""
    mean, low, high = cluster_bootstrap_mean(units, SEED, RESAMPLES, LEVEL)
    return Interval(mean, low, high, unit, len(units))


def compare(first: str, a: Units, second: str, b: Units, unit: str) -> Comparison | None:
    """``first`` − ``second`` over their common units (paired items); None without any."""
    common = [k for k in a if k in b and len(a[k]) == len(b[k])]
    if not common:
        return None
    difference = interval(unit, {k: a[k] - b[k] for k in common})
    significant = difference.low > 0 or difference.high < 0
    return Comparison(first, second, difference, significant)


def tie_aware_ranks(
    units: Mapping[str, Units], unit: str, higher_is_better: bool
) -> tuple[dict[str, int], list[Comparison]]:
    """Per prior: 1 + the number of priors significantly better; and every pairwise comparison."""
    names = sorted(units)
    comparisons = []
    beaten_by: dict[str, int] = dict.fromkeys(names, 0)
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            result = compare(first, units[first], second, units[second], unit)
            if result is None:
                continue
            comparisons.append(result)
            if result.significant:
                first_better = (result.difference.mean > 0) == higher_is_better
                beaten_by[second if first_better else first] += 1
    return {name: 1 + beaten_by[name] for name in names}, comparisons
