"""Run one prior on one task and record the result; the suite runs many such pairs."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from posebench.benchmark import components
from posebench.benchmark.tune import read_tuned, tuned_path
from posebench.core.device import describe_device, resolve_device
from posebench.core.errors import CapabilityNotSupported, PosebenchError
from posebench.core.hashing import hash_file
from posebench.core.npzio import write_npz
from posebench.core.progress import NullProgress, Progress
from posebench.core.seeding import seed_everything
from posebench.plugins import get_registry
from posebench.results import ResultRecord, result_path

DEFAULT_DATASET = "embedded"
DEFAULT_BODY_MODEL = "anny"
DEFAULT_OUT = "results"


@dataclass
class RunOutcome:
    """A finished (or skipped) run: where its result file is and what it holds."""

    path: Path
    record: ResultRecord | None  # None when skipped
    skipped: bool = False


def use_tuned_weight(prior: Any, out: str | Path, dataset: str, task: str) -> Path | None:
    """Use the weight ``posebench tune`` wrote under ``<out>/tuned/`` for this prior and task."""
    path = tuned_path(out, dataset, prior.name, task)
    if not path.is_file():
        return None
    prior.config["energy_weights"][task] = {"value": read_tuned(path)["weight"], "source": "tuned"}
    return path


def check_tuned_data(path: Path, dataset: Any) -> None:
    """Refuse a tuned weight that was tuned on other data than the run's dataset."""
    tuned_hash = read_tuned(path).get("dataset_content_hash")
    if tuned_hash != dataset.content_hash():
        raise PosebenchError(
            f"tuned weight file {path} was tuned on other data than dataset '{dataset.name}' has "
            "now; re-run posebench tune or delete the file"
        )


def run(
    prior: str,
    task: str,
    *,
    protocol: str | None = None,
    dataset: str = DEFAULT_DATASET,
    body_model: str = DEFAULT_BODY_MODEL,
    body_model_path: str | Path | None = None,
    checkpoint: str | Path | None = None,
    prior_config: str | Path | Mapping[str, Any] | None = None,
    task_config: str | Path | Mapping[str, Any] | None = None,
    dataset_options: Mapping[str, Any] | None = None,
    seed: int = 0,
    device: str = "auto",
    quick: bool = False,
    out: str | Path = DEFAULT_OUT,
    force: bool = True,
    progress: Progress | None = None,
) -> RunOutcome:
    """Run ``prior`` on ``task`` and write the result file atomically.

    Every name is checked before anything heavy loads. With ``force=False`` an existing result
    file is kept and the run skipped (what ``posebench suite`` does).
    """
    progress = progress or NullProgress()
    registry = get_registry()
    entries = {
        "prior": registry.get("prior", prior),
        "task": registry.get("task", task),
        "dataset": registry.get("dataset", dataset),
        "body_model": registry.get("body_model", body_model),
    }
    task_obj = components.load_task(task)
    protocol = task_obj.protocol(protocol)
    config = task_obj.config(protocol, task_config, quick=quick)
    path = result_path(
        out, dataset=dataset, body=body_model, task=task, protocol=protocol, prior=prior,
        seed=seed, quick=quick,
    )  # fmt: skip
    if path.exists() and not force:
        return RunOutcome(path, None, skipped=True)

    seed_everything(seed)
    torch_device = resolve_device(device)
    started = time.perf_counter()
    prior_obj = components.load_prior(prior, checkpoint, prior_config, str(torch_device))
    weight_file = use_tuned_weight(prior_obj, out, dataset, task)
    dataset_obj = components.load_dataset(dataset, **dict(dataset_options or {}))
    if weight_file is not None:
        check_tuned_data(weight_file, dataset_obj)
    body_obj = components.load_body_model(body_model, body_model_path, str(torch_device))
    load_s = time.perf_counter() - started

    started = time.perf_counter()
    try:
        result = task_obj.run(
            prior_obj, dataset_obj, body_obj, config, torch_device, seed, progress
        )
    except CapabilityNotSupported as exc:
        if exc.component != "prior":
            raise
        from posebench.tasks.base import TaskResult

        result = TaskResult(metrics=dict.fromkeys(task_obj.metrics), not_supported=str(exc))
    run_s = time.perf_counter() - started
    check_metrics(task_obj, result, entries["task"].plugin.name)
    weight, source = result.energy_weight, result.energy_weight_source
    if weight is None:
        weight, source = prior_obj.energy_weight(task)
    checkpoint_path = getattr(prior_obj, "checkpoint", None)
    prior_info = {
        "name": prior,
        "version": prior_obj.version,
        "plugin": entries["prior"].as_dict()["plugin"],
        "checkpoint": str(checkpoint_path) if checkpoint_path else None,
        "checkpoint_sha256": hash_file(checkpoint_path) if checkpoint_path else None,
        "config": prior_obj.config,
        "energy_weight": weight,
        "energy_weight_source": source,
        "energy_weight_file": str(weight_file) if weight_file else None,
    }
    record = build_record(
        prior_info, task_obj, config, (dataset, dataset_obj), (body_model, body_obj), seed,
        quick, torch_device, result, {"load_s": round(load_s, 4), "run_s": round(run_s, 4)},
    )  # fmt: skip
    if result.arrays:  # first the arrays, then the JSON that says the run is complete
        arrays_path = record.path(out).with_suffix(".npz")
        write_npz(arrays_path, result.arrays, {"result": record.path(out).name})
        record.details["arrays"] = arrays_path.name
    return RunOutcome(record.write(out), record)


def check_metrics(task: Any, result: Any, plugin: str) -> None:
    """A task must report exactly the metrics it declares."""
    missing = set(task.metrics) - set(result.metrics)
    undeclared = set(result.metrics) - set(task.metrics)
    if missing or undeclared:
        raise PosebenchError(
            f"task '{task.name}' from plugin '{plugin}' returned metrics that do not match its "
            f"declaration (missing: {sorted(missing)}, undeclared: {sorted(undeclared)})"
        )


def build_record(
    prior_info: dict[str, Any],
    task: Any,
    config: Mapping[str, Any],
    dataset: tuple[str, Any],
    body: tuple[str, Any],
    seed: int,
    quick: bool,
    device: Any,
    result: Any,
    timings: dict[str, float],
) -> ResultRecord:
    """The result record of one task result, with everything needed to trust and compare it.

    ``dataset`` and ``body`` are (registered name, object) pairs.
    """
    (dataset_name, dataset), (body_name, body) = dataset, body
    return ResultRecord(
        prior=prior_info,
        task={
            "name": task.name,
            "version": task.version,
            "protocol": config["protocol"],
            "config": dict(config),
            "main_metric": task.main_metric,
            "metrics": {
                name: {"unit": m.unit, "higher_is_better": m.higher_is_better}
                for name, m in task.metrics.items()
            },
        },
        dataset={
            "name": dataset_name,
            "version": dataset.version,
            "split": config.get("split", task.eval_split),
            "content_hash": dataset.content_hash(),
            "provenance": dataset.provenance,
        },
        body_model={"name": body_name, "version": body.version},
        seed=seed,
        size="quick" if quick else "full",
        device=describe_device(device),
        metrics=result.metrics,
        timings=timings,
        inputs_hash=result.inputs_hash,
        not_supported=result.not_supported,
        details=result.details,
    )
