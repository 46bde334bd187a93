"""The result file: one JSON document per run, its schema, its path layout, atomic writing.

Path layout (one file per dataset, body, task@protocol, prior, seed and size, so nothing
overwrites anything else)::

    <out>/<dataset>/<body>/<task>@<protocol>/<prior>/[train<t>/]seed<k>[.quick].json

``train<t>`` is there when the run scored the prior's model of training seed t (a suite with
training seeds), so several trained models of one prior never overwrite each other.
"""

from __future__ import annotations

import json
import math
import platform
import subprocess
import sys
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, TypedDict

from posebench.core.atomic import atomic_write_json
from posebench.core.errors import InputError
from posebench.core.paths import PACKAGE_DIR

#: Bump when a field is added, removed or changes meaning; readers refuse newer versions.
SCHEMA_VERSION = 1
SIZES = ("quick", "full")


class _PriorRecord(TypedDict):
    name: str
    version: str
    plugin: str
    checkpoint: str | None
    checkpoint_sha256: str | None
    config: dict[str, Any]
    energy_weight: float | None
    energy_weight_source: str | None


class PriorRecord(_PriorRecord, total=False):
    """The prior (or outside method) that made the numbers, with the energy weight it used.

    A scored outside method has plugin ``external``, its predictions file as ``checkpoint`` and
    no ``energy_weight_file``; a run records the tuned-weight file it used there (or null).
    ``training_seed`` is the seed the scored model was trained with when the run asked for one
    (null or absent: the given or shipped checkpoint, whatever its seed).
    """

    energy_weight_file: str | None
    training_seed: int | None


class _MetricRecord(TypedDict):
    unit: str
    higher_is_better: bool


class MetricRecord(_MetricRecord, total=False):
    """A declared metric: its unit, which direction is better, what it is, and whether it
    describes the task's input rather than the prior (files before these two keys lack them)."""

    description: str
    describes_input: bool


class TaskRecord(TypedDict):
    """The task, its protocol and full config, and every metric it declares."""

    name: str
    version: str
    protocol: str
    config: dict[str, Any]
    main_metric: str
    metrics: dict[str, MetricRecord]


class DatasetRecord(TypedDict):
    """The data: the split scored, the content hash that keeps different data apart, provenance."""

    name: str
    version: str
    split: str
    content_hash: str
    provenance: dict[str, Any]


class BodyModelRecord(TypedDict):
    """The body model that turned poses into joints and vertices."""

    name: str
    version: str


class _DeviceRecord(TypedDict):
    type: str
    name: str


class DeviceRecord(_DeviceRecord, total=False):
    """Where it ran: ``cuda`` with the GPU's model and ``index``, or ``cpu`` with ``threads``."""

    index: int
    threads: int


class TimingsRecord(TypedDict, total=False):
    """Seconds spent loading the parts (runs only) and running or scoring the task."""

    load_s: float
    run_s: float


class GitRecord(TypedDict):
    """The posebench checkout's commit and dirty flag (null for an installed package)."""

    commit: str | None
    dirty: bool | None


class EnvironmentRecord(TypedDict):
    """Versions that can change numbers, and the command line's arguments."""

    python: str
    torch: str
    numpy: str
    platform: str
    argv: list[str]


@dataclass
class ResultRecord:
    """Everything needed to trust, compare and reproduce one run's numbers."""

    prior: PriorRecord
    task: TaskRecord
    dataset: DatasetRecord
    body_model: BodyModelRecord
    seed: int
    size: str  # "quick" or "full"
    device: DeviceRecord
    metrics: dict[str, float | None]
    timings: TimingsRecord = field(default_factory=TimingsRecord)
    inputs_hash: str | None = None
    not_supported: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    #: real data scored like the prior's output (name -> metric -> value), e.g. training poses
    #: scored as samples; the same for every prior of a (task, seed)
    data_rows: dict[str, dict[str, float | None]] = field(default_factory=dict)
    #: prior-free methods scored on the same inputs (name -> metric -> value), e.g. a moving
    #: average of the noisy joints; the same for every prior of a (task, seed)
    baseline_rows: dict[str, dict[str, float | None]] = field(default_factory=dict)
    #: the main metric per independent unit: {"unit": "clip", "item": "window", "values":
    #: {unit id: [item values]}}; empty when the task has no units finer than its seed
    per_unit: dict[str, Any] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION
    posebench_version: str = ""
    #: git and environment: filled by ``__post_init__`` (this checkout, this machine) when not given
    git: GitRecord | None = None
    created: str = ""
    environment: EnvironmentRecord | None = None

    def __post_init__(self) -> None:
        if not self.posebench_version:
            from posebench.core.version import __version__

            self.posebench_version = __version__
        if not self.created:
            self.created = datetime.now(timezone.utc).isoformat(timespec="seconds")
        if not self.git:
            self.git = git_info()
        if not self.environment:
            self.environment = environment_info()

    def path(self, out: str | Path) -> Path:
        """Where this record lives under ``out``."""
        return result_path(
            out,
            dataset=self.dataset["name"],
            body=self.body_model["name"],
            task=self.task["name"],
            protocol=self.task["protocol"],
            prior=self.prior["name"],
            seed=self.seed,
            quick=self.size == "quick",
            training_seed=self.prior.get("training_seed"),
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON document (schema_version first); non-finite metrics become null."""
        data = asdict(self)
        ordered = {"schema_version": data.pop("schema_version"), **data}
        ordered["metrics"] = {k: _finite_or_none(v) for k, v in self.metrics.items()}
        for rows in ("data_rows", "baseline_rows"):
            ordered[rows] = {
                name: {k: _finite_or_none(v) for k, v in row.items()}
                for name, row in getattr(self, rows).items()
            }
        return ordered

    def write(self, out: str | Path) -> Path:
        """Write atomically under ``out``; return the path."""
        path = self.path(out)
        atomic_write_json(path, self.to_dict())
        return path


def _finite_or_none(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def result_path(
    out: str | Path,
    *,
    dataset: str,
    body: str,
    task: str,
    protocol: str,
    prior: str,
    seed: int,
    quick: bool,
    training_seed: int | None = None,
) -> Path:
    """``<out>/<dataset>/<body>/<task>@<protocol>/<prior>/[train<t>/]seed<k>[.quick].json``."""
    suffix = ".quick" if quick else ""
    folder = Path(out) / dataset / body / f"{task}@{protocol}" / prior
    if training_seed is not None:
        folder = folder / f"train{training_seed}"
    return folder / f"seed{seed}{suffix}.json"


_REQUIRED = {f.name for f in fields(ResultRecord)} - {
    "timings", "inputs_hash", "not_supported", "details", "git", "environment", "created",
    "data_rows", "baseline_rows", "per_unit",
}  # fmt: skip


def read_result(path: str | Path) -> ResultRecord:
    """Read and check a result file; one-line errors for anything malformed or too new."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputError(f"result file {path} does not exist") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(
            f"result file {path} is not valid JSON ({exc}); delete or re-run it"
        ) from exc
    if not isinstance(data, dict):
        raise InputError(f"result file {path} does not hold a JSON object; delete or re-run it")
    version = data.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise InputError(f"result file {path} has no schema_version; it is not a posebench result")
    if version > SCHEMA_VERSION:
        raise InputError(
            f"result file {path} has schema_version {version}, newer than this posebench reads "
            f"({SCHEMA_VERSION}); upgrade posebench"
        )
    missing = sorted(_REQUIRED - set(data))
    if missing:
        raise InputError(f"result file {path} lacks the fields {', '.join(missing)}; re-run it")
    problem = _field_problem(data)
    if problem:
        raise InputError(f"result file {path} {problem}; delete or re-run it")
    known = {f.name for f in fields(ResultRecord)}
    return ResultRecord(**{k: v for k, v in data.items() if k in known})


def _short(value: Any) -> str:
    """A value as one short line for an error message (a hostile file may hold anything)."""
    text = json.dumps(value, ensure_ascii=True)
    return text if len(text) <= 60 else text[:57] + "..."


def _is_number(value: Any) -> bool:
    """A JSON number (bool is not one, though Python counts it as an int)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _field_problem(data: dict[str, Any]) -> str:
    """What is wrong with the types of the fields readers rely on ('' when nothing is), so a
    hand-edited or damaged file is refused with a reason instead of failing later."""
    problem = _sections_problem(data) or _task_problem(data["task"])
    if problem:
        return problem
    metrics = data["metrics"]
    if not isinstance(metrics, dict):
        return f"has metrics {_short(metrics)}; expected an object of metric name -> number"
    for metric, value in metrics.items():
        if value is not None and not _is_number(value):
            return f"has metric {_short(metric)} = {_short(value)}; expected a number or null"
    units = data.get("per_unit", {})
    if not isinstance(units, dict) or not isinstance(units.get("values", {}), dict):
        return f"has per_unit {_short(units)}; expected an object with unit and values"
    for key, label in (("data_rows", "data row"), ("baseline_rows", "baseline row")):
        problem = _rows_problem(data.get(key, {}), key, label)
        if problem:
            return problem
    if not isinstance(data["seed"], int) or isinstance(data["seed"], bool):
        return f"has seed {_short(data['seed'])}; expected an integer"
    if data["size"] not in SIZES:
        return f"has size {_short(data['size'])}; expected quick or full"
    if not isinstance(data["posebench_version"], str):
        return f"has posebench_version {_short(data['posebench_version'])}; expected a string"
    return ""


def _rows_problem(rows: Any, key: str, label: str) -> str:
    """What is wrong with a reference-rows field (name -> metric -> number or null), or ''."""
    if not isinstance(rows, dict) or not all(isinstance(r, dict) for r in rows.values()):
        return f"has {key} {_short(rows)}; expected an object of name -> metrics"
    for name, row in rows.items():
        for metric, value in row.items():
            if value is not None and not _is_number(value):
                return (
                    f"has {label} {_short(name)} metric {_short(metric)} = {_short(value)}; "
                    "expected a number or null"
                )
    return ""


def _sections_problem(data: dict[str, Any]) -> str:
    """The prior, task, dataset, body model and device must be objects with string names."""
    for section in ("prior", "task", "dataset", "body_model", "device"):
        value = data[section]
        if not isinstance(value, dict):
            return f"has {section} {_short(value)}; expected an object"
        if section in ("prior", "dataset", "body_model") and "name" not in value:
            return f"has a {section} without a name"
        if not isinstance(value.get("name", ""), str):
            return f"has {section} name {_short(value['name'])}; expected a string"
    training_seed = data["prior"].get("training_seed")
    if training_seed is not None and (
        not isinstance(training_seed, int) or isinstance(training_seed, bool)
    ):
        return f"has prior training_seed {_short(training_seed)}; expected an integer or null"
    return ""


def _task_problem(task: dict[str, Any]) -> str:
    """The task's name, protocol, main metric, version and metric declarations."""
    for key in ("name", "protocol", "main_metric"):
        if not isinstance(task.get(key), str):
            return f"has task {key} {_short(task.get(key))}; expected a string"
    version = task.get("version")
    if not isinstance(version, str | int | float) or isinstance(version, bool):
        return f"has task version {_short(version)}; expected a string"
    declared = task.get("metrics")
    if not isinstance(declared, dict):
        return f"has task metrics {_short(declared)}; expected an object of metric declarations"
    for metric, spec in declared.items():
        name = _short(metric)
        if not isinstance(spec, dict):
            return f"declares metric {name} as {_short(spec)}; expected an object"
        if not isinstance(spec.get("unit", ""), str):
            return f"declares metric {name} with unit {_short(spec['unit'])}; expected a string"
        for key in ("higher_is_better", "describes_input"):
            if not isinstance(spec.get(key, False), bool):
                return f"declares metric {name} with {key} {_short(spec[key])}; expected true/false"
        if not isinstance(spec.get("description", ""), str):
            text = _short(spec["description"])
            return f"declares metric {name} with description {text}; expected a string"
    return ""


@lru_cache(maxsize=1)
def git_info() -> GitRecord:
    """The posebench checkout's commit and dirty flag, or nulls for an installed package."""
    package_dir = PACKAGE_DIR
    try:
        top = subprocess.run(
            ["git", "-C", str(package_dir), "rev-parse", "--show-toplevel", "HEAD"],
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout.split()  # fmt: skip
        if len(top) != 2 or Path(top[0]).resolve() != package_dir.parent:
            return {"commit": None, "dirty": None}
        status = subprocess.run(
            ["git", "-C", top[0], "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    return {"commit": top[1], "dirty": bool(status.strip())}


@lru_cache(maxsize=1)
def environment_info() -> EnvironmentRecord:
    """Versions that can change numbers: python, torch, numpy, the platform."""
    import numpy
    import torch

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "platform": platform.platform(),
        "argv": sys.argv[1:],
    }
