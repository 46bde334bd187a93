"""Intervals and pairwise significance over independent units (clips, pairs) and trained
models, not evaluation seeds.

A task that reports its main metric per unit (``per_unit`` in the result file: clips with their
windows for denoising, pairs for interpolation) gets, per prior, a 95 % percentile bootstrap
interval that resamples whole units, each unit's items averaged over the evaluation seeds
first; a prior scored with several trained models (training seeds) has its models resampled
too, so the interval includes training variance. Two priors are compared by the same bootstrap
on their difference (the same unit draws for both; each prior's models drawn on their own).
Ranks then show ties: a prior's rank is 1 + the number of priors significantly better than it,
so two priors whose difference is not significant share a rank.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Resamples and seed of every leaderboard bootstrap (the leaderboard is a pure function).
RESAMPLES, SEED, LEVEL = 2000, 0, 0.95

Units = dict[str, np.ndarray]  # unit id -> item values, averaged over seeds


@dataclass(frozen=True)
class Interval:
    """A mean with its bootstrap interval over ``n_units`` units of kind ``unit`` and
    ``n_models`` trained models (training seeds; 1: the interval has no training variance)."""

    mean: float
    low: float
    high: float
    unit: str
    n_units: int
    n_models: int = 1


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


def interval(unit: str, models: Sequence[Units]) -> Interval:
    """The mean over items and its bootstrap interval over units and trained models.

    ``models`` holds one set of units per trained model (training seed) of the prior; each
    resample draws the units, then the models, with replacement (a two-stage bootstrap: a new
    training run is as much a draw as a new clip). With one model it is the cluster bootstrap
    over units alone."""
    keys = _unit_keys(models)
    sums, counts = _totals(models, keys)
    rng = np.random.default_rng(SEED)
    units = rng.integers(0, len(keys), size=(RESAMPLES, len(keys)))
    means = _resampled(sums, counts, units, _model_draws(rng, len(models)))
    low, high = _percentiles(means)
    return Interval(_mean(sums, counts), low, high, unit, len(keys), len(models))


def compare(
    first: str, a: Sequence[Units], second: str, b: Sequence[Units], unit: str
) -> Comparison | None:
    """``first`` − ``second`` over the units both have in every model: the same unit draws for
    both (paired), each prior's models drawn on their own (independent training runs); None
    without common units."""
    keys = [k for k in _unit_keys(a) if all(k in m and len(m[k]) for m in [*a, *b])]
    if not keys:
        return None
    sums_a, counts_a = _totals(a, keys)
    sums_b, counts_b = _totals(b, keys)
    rng = np.random.default_rng(SEED)
    units = rng.integers(0, len(keys), size=(RESAMPLES, len(keys)))
    draws_a, draws_b = _model_draws(rng, len(a)), _model_draws(rng, len(b))
    differences = _resampled(sums_a, counts_a, units, draws_a) - _resampled(
        sums_b, counts_b, units, draws_b
    )
    low, high = _percentiles(differences)
    mean = _mean(sums_a, counts_a) - _mean(sums_b, counts_b)
    difference = Interval(mean, low, high, unit, len(keys), max(len(a), len(b)))
    return Comparison(first, second, difference, low > 0 or high < 0)


def tie_aware_ranks(
    units: Mapping[str, Sequence[Units]], unit: str, higher_is_better: bool
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


def _unit_keys(models: Sequence[Units]) -> list[str]:
    """Every unit with items in some model: the first model's in its order, then the others'."""
    keys: dict[str, None] = {}
    for model in models:
        keys.update((k, None) for k, v in model.items() if len(v))
    if not keys:
        raise ValueError("an interval needs at least one unit with items")
    return list(keys)


def _totals(models: Sequence[Units], keys: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Per (model, unit): the sum and the number of its items, (M, U) each (0 where missing)."""
    sums = np.array([[float(np.sum(m[k])) if k in m else 0.0 for k in keys] for m in models])
    counts = np.array([[len(m[k]) if k in m else 0 for k in keys] for m in models], dtype=float)
    return sums, counts


def _model_draws(rng: np.random.Generator, n_models: int) -> np.ndarray:
    """(RESAMPLES, M) model indices; one model is never drawn (it is every resample's)."""
    if n_models == 1:
        return np.zeros((RESAMPLES, 1), dtype=np.int64)
    return rng.integers(0, n_models, size=(RESAMPLES, n_models))


def _resampled(sums: np.ndarray, counts: np.ndarray, units: np.ndarray, models: np.ndarray) -> Any:
    """The item mean of each resample: the drawn models' items in the drawn units."""
    index = (models[:, :, None], units[:, None, :])
    return sums[index].sum(axis=(1, 2)) / counts[index].sum(axis=(1, 2))


def _mean(sums: np.ndarray, counts: np.ndarray) -> float:
    return float(sums.sum() / counts.sum())


def _percentiles(values: np.ndarray) -> tuple[float, float]:
    tail = 100 * (1 - LEVEL) / 2
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)
