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


def combine_seeds(records: Iterable[Mapping[str, Any]]) -> tuple[str, Units] | None:
    """One set of per-unit items from several seeds' ``per_unit`` records (pass them in seed
    order). Seeds that share their units and item counts (the same windows with other noise)
    are averaged item by item; seeds that drew other items (other pairs, other views) have
    their items pooled within each unit. None when any run lacks per-unit values, the records
    name different kinds of unit, or a value is not finite."""
    records = list(records)
    if not records or any(not r or not r.get("values") for r in records):
        return None
    unit = str(records[0].get("unit", "unit"))
    if any(str(r.get("unit")) != unit for r in records):
        return None
    stacked = [
        {key: np.asarray(items, dtype=np.float64) for key, items in r["values"].items()}
        for r in records
    ]
    if not all(np.isfinite(v).all() for values in stacked for v in values.values()):
        return None
    shapes = [{key: len(v) for key, v in values.items()} for values in stacked]
    if all(shape == shapes[0] for shape in shapes):
        return unit, {key: np.mean([s[key] for s in stacked], axis=0) for key in sorted(shapes[0])}
    keys = sorted({key for values in stacked for key in values})
    return unit, {key: np.concatenate([s[key] for s in stacked if key in s]) for key in keys}


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
