"""Tune a prior's energy weight for a task on the validation split (never on test).

``posebench tune --prior P --task T`` runs the task on the dataset's ``val`` split for each
weight of a grid (by default the prior's declared weight times 10^-3 ... 10^3), keeps the best
main metric, and writes ``<out>/tuned/<dataset>/<prior>/<task>.json``. ``posebench run`` then
uses that weight (recorded with source ``tuned`` and the file's path). Shipped defaults in
``posebench/configs/priors/<prior>.yaml`` are updated from such a file with
``posebench tune --apply FILE --to posebench/configs/priors/P.yaml``
(:func:`posebench.benchmark.tuned.apply_tuned`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from posebench.benchmark.setup import configure, prepare
from posebench.benchmark.spec import RunSpec
from posebench.benchmark.tuned import tuned_path
from posebench.core.atomic import atomic_write_json
from posebench.core.errors import ConfigError, PosebenchError
from posebench.core.progress import NullProgress, Progress
from posebench.core.version import __version__

TUNE_SPLIT = "val"
DEFAULT_FACTORS = (1e-3, 1e-2, 1e-1, 1.0, 1e1, 1e2, 1e3)


def tune(
    spec: RunSpec, *, grid: Sequence[float] | None = None, progress: Progress | None = None
) -> tuple[Path, dict[str, Any]]:
    """Grid-search the energy weight on the validation split; write and return the tuned file."""
    if spec.prior is None:
        raise PosebenchError(f"tuning task '{spec.task}' needs a prior")
    prior, task = spec.prior, spec.task
    progress = progress or NullProgress()
    setup = configure(spec)
    task_obj, config = setup.task, setup.config
    if not task_obj.weighs_prior_energy:
        raise PosebenchError(
            f"task '{task}' does not weigh a prior's energy against data; there is nothing to tune"
        )
    if "split" not in config:
        raise PosebenchError(
            f"task '{task}' has no 'split' setting, so it cannot run on {TUNE_SPLIT}"
        )
    config["split"] = TUNE_SPLIT
    ready = prepare(spec, setup)
    prior_obj, dataset_obj = ready.prior, ready.dataset
    assert prior_obj is not None  # the spec names one
    dataset_obj.check_split(TUNE_SPLIT)
    key = task_obj.weight_key(config)  # e.g. denoise-posendf for the posendf protocol
    base_weight, base_source = prior_obj.energy_weight(key)
    # 12 significant digits: 0.1 x 0.1 is 0.01 in the record, not 0.010000000000000002
    weights = list(grid) if grid else [float(f"{base_weight * f:.12g}") for f in DEFAULT_FACTORS]
    if not weights or any(not math.isfinite(w) or w < 0 for w in weights):
        raise ConfigError(f"the weight grid must hold non-negative numbers, got {weights}")
    metric = task_obj.metrics[task_obj.main_metric]
    results: list[dict[str, float | None]] = []
    for weight in progress.track(weights, f"tuning {prior} on {task} ({TUNE_SPLIT})"):
        prior_obj.config.setdefault("energy_weights", {})[key] = {
            "value": float(weight),
            "source": "tuned",
        }
        result = task_obj.run(
            prior_obj, dataset_obj, ready.body, config, ready.device, spec.seed, progress
        )
        value = result.metrics[task_obj.main_metric]
        results.append({"weight": float(weight), task_obj.main_metric: value})
        shown = "n/a" if value is None else f"{value:.4g}"
        progress.log(f"weight {weight:.4g}: {task_obj.main_metric} = {shown}")
    scored = [r for r in results if r[task_obj.main_metric] is not None]
    if not scored:
        raise PosebenchError(f"prior '{prior}' produced no {task_obj.main_metric} at any weight")
    sign = -1.0 if metric.higher_is_better else 1.0

    def score(record: dict[str, float | None]) -> float:
        value = record[task_obj.main_metric]
        assert value is not None  # scored holds only the weights that produced a value
        return sign * value

    best = min(scored, key=score)
    document = {
        "prior": prior,
        "task": task,
        "protocol": setup.protocol,
        "weight_key": key,
        "dataset": spec.dataset,
        "dataset_content_hash": dataset_obj.content_hash(),
        "split": TUNE_SPLIT,
        "body_model": spec.body_model,
        "weight": best["weight"],
        "main_metric": task_obj.main_metric,
        "higher_is_better": metric.higher_is_better,
        "grid": results,
        "previous_weight": {"value": base_weight, "source": base_source},
        "seed": spec.seed,
        "size": spec.size,
        "task_version": task_obj.version,
        "posebench_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    path = tuned_path(spec.out, spec.dataset, prior, key, spec.quick)
    atomic_write_json(path, document)
    return path, document
