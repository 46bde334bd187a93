"""Scoring methods that are not plugins: export a task's frozen inputs, score predictions.

``posebench export --task T --out inputs.npz`` writes the inputs (arrays) with the task, protocol,
config, dataset content hash, seed and the inputs' hash. A method anywhere produces predictions in
the task's format; ``posebench score --task T --predictions F --method NAME`` turns them into a
standard result file, scored on exactly the same inputs (they are rebuilt from the seed and
checked against the hash recorded in the predictions, when present).
"""

from __future__ import annotations

import dataclasses
import re
import time
from pathlib import Path

import numpy as np

from posebench.benchmark.record import build_record, check_metrics
from posebench.benchmark.setup import Prepared, prepare
from posebench.benchmark.spec import RunSpec
from posebench.core.errors import InputError
from posebench.core.npzio import read_npz, write_npz
from posebench.core.version import __version__
from posebench.plugins import get_registry
from posebench.results import PriorRecord, ResultRecord

_METHOD_RE = re.compile(r"^[a-z0-9][a-z0-9_.\-]*$")


def _prepare(spec: RunSpec) -> Prepared:
    """The spec's task, data and body; an outside method needs no prior."""
    return prepare(dataclasses.replace(spec, prior=None))


def export_inputs(spec: RunSpec, out: str | Path) -> tuple[Path, str]:
    """Write ``spec.task``'s frozen inputs to ``out`` (npz); return the path and their hash."""
    ready = _prepare(spec)
    arrays, inputs_hash = ready.task.export_inputs(
        ready.dataset, ready.body, ready.config, ready.device, spec.seed
    )
    meta = {
        "task": spec.task,
        "task_version": ready.task.version,
        "protocol": ready.config["protocol"],
        "config": ready.config,
        "dataset": spec.dataset,
        "dataset_content_hash": ready.dataset.content_hash(),
        "body_model": spec.body_model,
        "seed": spec.seed,
        "size": spec.size,
        "inputs_hash": inputs_hash,
        "posebench_version": __version__,
    }
    return write_npz(out, {k: np.asarray(v) for k, v in arrays.items()}, meta), inputs_hash


def read_predictions(path: str | Path) -> dict[str, np.ndarray]:
    """The arrays of a predictions npz (one-line errors for a missing or unreadable file)."""
    return read_npz(path, "predictions file", "check --predictions")


def score_predictions(
    spec: RunSpec, predictions: str | Path, method: str
) -> tuple[Path, ResultRecord]:
    """Score a method's predictions for ``spec.task`` and write the standard result file."""
    if not _METHOD_RE.match(method):
        raise InputError(
            f"method name {method!r} must be lower case letters, digits, '_', '-' and '.'"
        )
    if method in get_registry().names("prior"):
        raise InputError(
            f"method name '{method}' is a registered prior's; choose another so results never mix"
        )
    arrays = read_predictions(predictions)
    ready = _prepare(spec)
    started = time.perf_counter()
    result = ready.task.score(arrays, ready.dataset, ready.body, ready.config, ready.device,
                              spec.seed)  # fmt: skip
    declared = str(arrays["inputs_hash"]) if "inputs_hash" in arrays else None
    if declared is not None and declared != result.inputs_hash:
        raise InputError(
            f"predictions {predictions} were made for other inputs (inputs_hash {declared[:12]}, "
            f"this task's is {str(result.inputs_hash)[:12]}); export the inputs again"
        )
    check_metrics(ready.task, result, "posebench")
    prior: PriorRecord = {
        "name": method,
        "version": "external",
        "plugin": "external",
        "checkpoint": str(predictions),
        "checkpoint_sha256": None,
        "config": {},
        "energy_weight": None,
        "energy_weight_source": None,
    }
    record = build_record(ready, prior, result, {"run_s": round(time.perf_counter() - started, 4)})
    return record.write(spec.out), record
