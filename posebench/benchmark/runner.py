"""Run one prior on one task and record the result; the suite runs many such pairs."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from posebench.benchmark.record import build_record, check_metrics
from posebench.benchmark.setup import configure, prepare, with_training_checkpoint
from posebench.benchmark.spec import RunSpec
from posebench.benchmark.tuned import check_tuned_data, use_tuned_weight
from posebench.core.errors import CapabilityNotSupported, PosebenchError
from posebench.core.hashing import hash_file
from posebench.core.npzio import write_npz
from posebench.core.progress import NullProgress, Progress
from posebench.results import PriorRecord, ResultRecord, TimingsRecord, result_path
from posebench.tasks.base import TaskResult


@dataclass
class RunOutcome:
    """A finished (or skipped) run: where its result file is and what it holds."""

    path: Path
    record: ResultRecord | None  # None when skipped
    skipped: bool = False


def run(spec: RunSpec, *, force: bool = True, progress: Progress | None = None) -> RunOutcome:
    """Run ``spec.prior`` on ``spec.task`` and write the result file atomically.

    Every name is checked before anything heavy loads. With ``force=False`` an existing result
    file is kept and the run skipped (what ``posebench suite`` does).
    """
    if spec.prior is None:
        raise PosebenchError(f"a run of task '{spec.task}' needs a prior")
    progress = progress or NullProgress()
    setup = configure(spec)
    path = result_path(
        spec.out, dataset=spec.dataset, body=spec.body_model, task=spec.task,
        protocol=setup.protocol, prior=spec.prior, seed=spec.seed, quick=spec.quick,
        training_seed=spec.training_seed,
    )  # fmt: skip
    if path.exists() and not force:
        return RunOutcome(path, None, skipped=True)

    spec = with_training_checkpoint(spec)
    ready = prepare(spec, setup)
    prior = ready.prior
    assert prior is not None  # the spec names one
    started = time.perf_counter()
    key = ready.task.weight_key(ready.config)
    weight_file = use_tuned_weight(prior, spec.out, spec.dataset, key, spec.quick)
    if weight_file is not None:
        check_tuned_data(weight_file, ready.dataset)
    load_s = ready.load_s + time.perf_counter() - started

    task = ready.task
    task.check_inputs(ready.config)
    task.check_resources(ready.config)
    progress.log(
        f"{spec.prior} on {spec.task}@{setup.protocol}: {spec.dataset} data, {spec.body_model} "
        f"body, seed {spec.seed}, {spec.size} sizes, on {ready.device}"
    )
    started = time.perf_counter()
    try:
        result = task.run(
            prior, ready.dataset, ready.body, ready.config, ready.device, spec.seed, progress
        )
    except CapabilityNotSupported as exc:
        if exc.component != "prior":
            raise
        result = TaskResult(metrics=dict.fromkeys(task.metrics), not_supported=str(exc))
    run_s = time.perf_counter() - started
    check_metrics(task, result, ready.entries["task"].plugin.name)
    weight, source = result.energy_weight, result.energy_weight_source
    if weight is None:
        weight, source = prior.energy_weight(spec.task)
    checkpoint = prior.checkpoint
    prior_record: PriorRecord = {
        "name": ready.entries["prior"].name,
        "version": prior.version,
        "plugin": ready.entries["prior"].as_dict()["plugin"],
        "checkpoint": str(checkpoint) if checkpoint else None,
        "checkpoint_sha256": hash_file(checkpoint) if checkpoint else None,
        "config": prior.config,
        "energy_weight": weight,
        "energy_weight_source": source,
        "energy_weight_file": str(weight_file) if weight_file else None,
        "training_seed": spec.training_seed,
    }
    timings: TimingsRecord = {"load_s": round(load_s, 4), "run_s": round(run_s, 4)}
    record = build_record(ready, prior_record, result, timings)
    if result.arrays:  # first the arrays, then the JSON that says the run is complete
        arrays_path = record.path(spec.out).with_suffix(".npz")
        write_npz(arrays_path, result.arrays, {"result": record.path(spec.out).name})
        record.details["arrays"] = arrays_path.name
    return RunOutcome(record.write(spec.out), record)
