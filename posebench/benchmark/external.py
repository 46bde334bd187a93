"""Scoring methods that are not plugins: export a task's frozen inputs, score predictions.

``posebench export --task T --out inputs.npz`` writes the inputs (arrays) with the task, protocol,
config, dataset content hash, seed and the inputs' hash. A method anywhere produces predictions in
the task's format; ``posebench score --task T --predictions F --method NAME`` turns them into a
standard result file, scored on exactly the same inputs (they are rebuilt from the seed and
checked against the hash recorded in the predictions, when present).
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from posebench.benchmark import components
from posebench.benchmark.runner import build_record, check_metrics
from posebench.core.device import resolve_device
from posebench.core.errors import InputError
from posebench.core.npzio import read_npz, write_npz
from posebench.core.seeding import seed_everything
from posebench.plugins import get_registry
from posebench.results import ResultRecord

_METHOD_RE = re.compile(r"^[a-z0-9][a-z0-9_.\-]*$")


def _setup(task: str, protocol: str | None, dataset: str, body_model: str, task_config: Any,
           quick: bool, seed: int, device: str, body_model_path: Any,
           dataset_options: Mapping[str, Any] | None) -> tuple[Any, ...]:  # fmt: skip
    registry = get_registry()
    for kind, name in (("task", task), ("dataset", dataset), ("body_model", body_model)):
        registry.get(kind, name)
    task_obj = components.load_task(task)
    config = task_obj.config(task_obj.protocol(protocol), task_config, quick=quick)
    seed_everything(seed)
    torch_device = resolve_device(device)
    dataset_obj = components.load_dataset(dataset, **dict(dataset_options or {}))
    body_obj = components.load_body_model(body_model, body_model_path, str(torch_device))
    return task_obj, config, dataset_obj, body_obj, torch_device


def export_inputs(
    task: str,
    out: str | Path,
    *,
    protocol: str | None = None,
    dataset: str = "embedded",
    body_model: str = "anny",
    body_model_path: str | Path | None = None,
    task_config: Any = None,
    dataset_options: Mapping[str, Any] | None = None,
    seed: int = 0,
    quick: bool = False,
    device: str = "cpu",
) -> tuple[Path, str]:
    """Write ``task``'s frozen inputs to ``out`` (npz); returns the path and the inputs' hash."""
    task_obj, config, dataset_obj, body_obj, torch_device = _setup(
        task, protocol, dataset, body_model, task_config, quick, seed, device, body_model_path,
        dataset_options,
    )  # fmt: skip
    arrays, inputs_hash = task_obj.export_inputs(dataset_obj, body_obj, config, torch_device, seed)
    from posebench.core.version import __version__

    meta = {
        "task": task,
        "task_version": task_obj.version,
        "protocol": config["protocol"],
        "config": config,
        "dataset": dataset,
        "dataset_content_hash": dataset_obj.content_hash(),
        "body_model": body_model,
        "seed": seed,
        "size": "quick" if quick else "full",
        "inputs_hash": inputs_hash,
        "posebench_version": __version__,
    }
    return write_npz(out, {k: np.asarray(v) for k, v in arrays.items()}, meta), inputs_hash


def read_predictions(path: str | Path) -> dict[str, np.ndarray]:
    """The arrays of a predictions npz (one-line errors for a missing or unreadable file)."""
    return read_npz(path, "predictions file", "check --predictions")


def score_predictions(
    task: str,
    predictions: str | Path,
    method: str,
    *,
    protocol: str | None = None,
    dataset: str = "embedded",
    body_model: str = "anny",
    body_model_path: str | Path | None = None,
    task_config: Any = None,
    dataset_options: Mapping[str, Any] | None = None,
    seed: int = 0,
    quick: bool = False,
    device: str = "cpu",
    out: str | Path = "results",
) -> tuple[Path, ResultRecord]:
    """Score a method's predictions for ``task`` and write the standard result file."""
    if not _METHOD_RE.match(method):
        raise InputError(
            f"method name {method!r} must be lower case letters, digits, '_', '-' and '.'"
        )
    if method in get_registry().names("prior"):
        raise InputError(
            f"method name '{method}' is a registered prior's; choose another so results never mix"
        )
    arrays = read_predictions(predictions)
    task_obj, config, dataset_obj, body_obj, torch_device = _setup(
        task, protocol, dataset, body_model, task_config, quick, seed, device, body_model_path,
        dataset_options,
    )  # fmt: skip
    started = time.perf_counter()
    result = task_obj.score(arrays, dataset_obj, body_obj, config, torch_device, seed)
    declared = str(arrays["inputs_hash"]) if "inputs_hash" in arrays else None
    if declared is not None and declared != result.inputs_hash:
        raise InputError(
            f"predictions {predictions} were made for other inputs (inputs_hash {declared[:12]}, "
            f"this task's is {str(result.inputs_hash)[:12]}); export the inputs again"
        )
    check_metrics(task_obj, result, "posebench")
    prior_info = {
        "name": method,
        "version": "external",
        "plugin": "external",
        "checkpoint": str(predictions),
        "checkpoint_sha256": None,
        "config": {},
        "energy_weight": None,
        "energy_weight_source": None,
    }
    record = build_record(
        prior_info, task_obj, config, (dataset, dataset_obj), (body_model, body_obj), seed,
        quick, torch_device, result, {"run_s": round(time.perf_counter() - started, 4)},
    )  # fmt: skip
    return record.write(out), record
