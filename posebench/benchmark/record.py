"""A task result plus everything needed to trust and compare it: the result record."""

from __future__ import annotations

from typing import cast

from posebench.benchmark.setup import Prepared
from posebench.core.device import describe_device
from posebench.core.errors import PosebenchError
from posebench.results import DeviceRecord, PriorRecord, ResultRecord, TimingsRecord
from posebench.tasks.base import Task, TaskResult


def check_metrics(task: Task, result: TaskResult, plugin: str) -> None:
    """A task must report exactly the metrics it declares."""
    missing = set(task.metrics) - set(result.metrics)
    undeclared = set(result.metrics) - set(task.metrics)
    if missing or undeclared:
        raise PosebenchError(
            f"task '{task.name}' from plugin '{plugin}' returned metrics that do not match its "
            f"declaration (missing: {sorted(missing)}, undeclared: {sorted(undeclared)})"
        )


def build_record(
    ready: Prepared, prior: PriorRecord, result: TaskResult, timings: TimingsRecord
) -> ResultRecord:
    """The result record of ``result``, which ``ready``'s task gave for ``prior``."""
    task, config, spec = ready.task, ready.config, ready.spec
    return ResultRecord(
        prior=prior,
        task={
            "name": task.name,
            "version": task.version,
            "protocol": config["protocol"],
            "config": dict(config),
            "main_metric": task.main_metric,
            "metrics": {
                name: {
                    "unit": m.unit,
                    "higher_is_better": m.higher_is_better,
                    "description": m.description,
                    "describes_input": m.describes_input,
                }
                for name, m in task.metrics.items()
            },
        },
        dataset={
            "name": spec.dataset,
            "version": ready.dataset.version,
            "split": config.get("split", task.eval_split),
            "content_hash": ready.dataset.content_hash(),
            "provenance": ready.dataset.provenance,
        },
        body_model={"name": spec.body_model, "version": ready.body.version},
        seed=spec.seed,
        size=spec.size,
        device=cast(DeviceRecord, describe_device(ready.device)),
        metrics=result.metrics,
        timings=timings,
        inputs_hash=result.inputs_hash,
        not_supported=result.not_supported,
        details=result.details,
        data_rows=result.data_rows,
        baseline_rows=result.baseline_rows,
        per_unit=result.per_unit,
    )
