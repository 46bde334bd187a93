"""Tune a prior's energy weight for a task on the validation split (never on test).

``posebench tune --prior P --task T`` runs the task on the dataset's ``val`` split for each
weight of a grid (by default the prior's declared weight times 10^-3 ... 10^3), keeps the best
main metric, and writes ``<out>/tuned/<dataset>/<prior>/<task>.json``. ``posebench run`` then
uses that weight (recorded with source ``tuned`` and the file's path). Shipped defaults in
``posebench/configs/priors/<prior>.yaml`` are updated from such a file with
``posebench tune --prior P --task T --apply FILE --to posebench/configs/priors/P.yaml``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from posebench.benchmark import components
from posebench.core.atomic import atomic_write, atomic_write_json
from posebench.core.device import resolve_device
from posebench.core.errors import ConfigError, InputError, PosebenchError
from posebench.core.progress import NullProgress, Progress
from posebench.core.seeding import seed_everything

TUNE_SPLIT = "val"
DEFAULT_FACTORS = (1e-3, 1e-2, 1e-1, 1.0, 1e1, 1e2, 1e3)


def tuned_path(out: str | Path, dataset: str, prior: str, task: str) -> Path:
    """Where the tuned weight of ``prior`` for ``task`` on ``dataset`` lives under ``out``."""
    return Path(out) / "tuned" / dataset / prior / f"{task}.json"


def read_tuned(path: Path) -> dict[str, Any]:
    """A tuned-weight file, checked; one-line errors when it is malformed."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        weight = float(data["weight"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(
            f"tuned weight file {path} is unreadable ({exc}); delete it or re-run posebench tune"
        ) from exc
    if not math.isfinite(weight) or weight < 0:
        raise InputError(f"tuned weight file {path} holds weight {weight}; re-run posebench tune")
    return data


def tune(
    prior: str,
    task: str,
    *,
    protocol: str | None = None,
    dataset: str = "embedded",
    body_model: str = "anny",
    body_model_path: str | Path | None = None,
    checkpoint: str | Path | None = None,
    prior_config: str | Path | Mapping[str, Any] | None = None,
    task_config: str | Path | Mapping[str, Any] | None = None,
    dataset_options: Mapping[str, Any] | None = None,
    grid: Sequence[float] | None = None,
    seed: int = 0,
    device: str = "auto",
    quick: bool = False,
    out: str | Path = "results",
    progress: Progress | None = None,
) -> tuple[Path, dict[str, Any]]:
    """Grid-search the energy weight on the validation split; write and return the tuned file."""
    progress = progress or NullProgress()
    task_obj = components.load_task(task)
    if not getattr(task_obj, "weighs_prior_energy", False):
        raise PosebenchError(
            f"task '{task}' does not weigh a prior's energy against data; there is nothing to tune"
        )
    protocol = task_obj.protocol(protocol)
    config = task_obj.config(protocol, task_config, quick=quick)
    if "split" not in config:
        raise PosebenchError(
            f"task '{task}' has no 'split' setting, so it cannot run on {TUNE_SPLIT}"
        )
    config["split"] = TUNE_SPLIT
    seed_everything(seed)
    torch_device = resolve_device(device)
    prior_obj = components.load_prior(prior, checkpoint, prior_config, str(torch_device))
    dataset_obj = components.load_dataset(dataset, **dict(dataset_options or {}))
    dataset_obj.check_split(TUNE_SPLIT)
    body_obj = components.load_body_model(body_model, body_model_path, str(torch_device))
    base_weight, base_source = prior_obj.energy_weight(task)
    weights = list(grid) if grid else [base_weight * f for f in DEFAULT_FACTORS]
    if not weights or any(not math.isfinite(w) or w < 0 for w in weights):
        raise ConfigError(f"the weight grid must hold non-negative numbers, got {weights}")
    metric = task_obj.metrics[task_obj.main_metric]
    results = []
    for weight in progress.track(weights, f"tuning {prior} on {task} ({TUNE_SPLIT})"):
        prior_obj.config.setdefault("energy_weights", {})[task] = {
            "value": float(weight),
            "source": "tuned",
        }
        result = task_obj.run(
            prior_obj, dataset_obj, body_obj, config, torch_device, seed, progress
        )
        value = result.metrics[task_obj.main_metric]
        results.append({"weight": float(weight), task_obj.main_metric: value})
        progress.log(f"weight {weight:.4g}: {task_obj.main_metric} = {value:.4g}")
    scored = [r for r in results if r[task_obj.main_metric] is not None]
    if not scored:
        raise PosebenchError(f"prior '{prior}' produced no {task_obj.main_metric} at any weight")
    sign = -1.0 if metric.higher_is_better else 1.0
    best = min(scored, key=lambda r: sign * r[task_obj.main_metric])
    document = {
        "prior": prior,
        "task": task,
        "protocol": protocol,
        "dataset": dataset,
        "dataset_content_hash": dataset_obj.content_hash(),
        "split": TUNE_SPLIT,
        "body_model": body_model,
        "weight": best["weight"],
        "main_metric": task_obj.main_metric,
        "higher_is_better": metric.higher_is_better,
        "grid": results,
        "previous_weight": {"value": base_weight, "source": base_source},
        "seed": seed,
        "size": "quick" if quick else "full",
        "task_version": task_obj.version,
        "posebench_version": _version(),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    path = tuned_path(out, dataset, prior, task)
    atomic_write_json(path, document)
    return path, document


def apply_tuned(tuned_file: str | Path, prior_yaml: str | Path) -> float:
    """Write a tuned weight into a prior's YAML defaults (``energy_weights.<task>``), atomically."""
    tuned_file, prior_yaml = Path(tuned_file), Path(prior_yaml)
    data = read_tuned(tuned_file)
    try:
        text = prior_yaml.read_text(encoding="utf-8")
        config = yaml.safe_load(text) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read prior config {prior_yaml} ({exc})") from exc
    if "energy_weights" not in config:
        raise ConfigError(f"prior config {prior_yaml} has no 'energy_weights' section")
    weights = config["energy_weights"] or {}
    weights[data["task"]] = {
        "value": data["weight"],
        "source": "tuned",
        "tuned_on": f"{data['dataset']}/{data['split']} ({data['size']}, seed {data['seed']})",
    }
    head, marker, tail = text.rpartition("\nenergy_weights:")
    if not marker or any(line and not line[0].isspace() for line in tail.splitlines()[1:]):
        raise ConfigError(
            f"prior config {prior_yaml}: 'energy_weights:' must be the last top-level key "
            "(posebench tune --apply rewrites that block)"
        )
    block = yaml.safe_dump({"energy_weights": weights}, sort_keys=True)
    atomic_write(prior_yaml, lambda handle: handle.write(f"{head}\n{block}"))
    return float(data["weight"])


def _version() -> str:
    from posebench.core.version import __version__

    return __version__
