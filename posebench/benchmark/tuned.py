"""Tuned energy-weight files: where ``posebench tune`` writes them, how runs and YAMLs use them.

A tuned file ``<out>/tuned/<dataset>/<prior>/<key>.json`` (``<key>.quick.json`` when tuned with
``--quick``; the key is the task's name, or a protocol's own weight key such as
``denoise-posendf``) holds the best weight of a grid search on the validation split, with the
content hash of the data it was tuned on. A run uses only the file of its own size: a weight tuned
on the quick sizes says nothing about the full protocol, and the reverse.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import yaml

from posebench.core.atomic import atomic_write
from posebench.core.errors import ConfigError, InputError, PosebenchError
from posebench.datasets.base import Dataset
from posebench.priors.base import Prior


def tuned_path(out: str | Path, dataset: str, prior: str, key: str, quick: bool = False) -> Path:
    """Where the tuned weight of ``prior`` for weight ``key`` (a task's name or a protocol's own
    key) on ``dataset`` lives under ``out``."""
    return Path(out) / "tuned" / dataset / prior / f"{key}{'.quick' if quick else ''}.json"


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


def use_tuned_weight(
    prior: Prior, out: str | Path, dataset: str, key: str, quick: bool = False
) -> Path | None:
    """Use the weight ``posebench tune`` wrote under ``<out>/tuned/`` for this prior, weight key and
    size (quick or full); refuse a file whose recorded size is the other one."""
    path = tuned_path(out, dataset, prior.name, key, quick)
    if not path.is_file():
        return None
    data = read_tuned(path)
    size = "quick" if quick else "full"
    if data.get("size", size) != size:
        raise PosebenchError(
            f"tuned weight file {path} was tuned with {data['size']} sizes, but this run is "
            f"{size}; re-run posebench tune {'with' if quick else 'without'} --quick, or delete it"
        )
    prior.config["energy_weights"][key] = {"value": data["weight"], "source": "tuned"}
    return path


def check_tuned_data(path: Path, dataset: Dataset) -> None:
    """Refuse a tuned weight that was tuned on other data than the run's dataset."""
    tuned_hash = read_tuned(path).get("dataset_content_hash")
    if tuned_hash != dataset.content_hash():
        raise PosebenchError(
            f"tuned weight file {path} was tuned on other data than dataset '{dataset.name}' has "
            "now; re-run posebench tune or delete the file"
        )


def installed_package_file(path: Path) -> bool:
    """True for a file inside an installed package (site-packages or dist-packages)."""
    return any(part in ("site-packages", "dist-packages") for part in path.resolve().parts)


def apply_tuned(tuned_file: str | Path, prior_yaml: str | Path) -> float:
    """Write a tuned weight into a prior's YAML defaults (``energy_weights.<task>``), atomically."""
    tuned_file, prior_yaml = Path(tuned_file), Path(prior_yaml)
    if installed_package_file(prior_yaml):
        raise ConfigError(
            f"{prior_yaml} belongs to an installed package, where edits are lost on the next "
            "install; copy it and use the copy (--prior-config COPY), or keep the tuned file "
            f"where runs find it: posebench run --out DIR uses DIR/tuned/ (from tune --out DIR)"
        )
    data = read_tuned(tuned_file)
    missing = [k for k in ("task", "dataset", "split", "size", "seed") if k not in data]
    if missing:
        raise InputError(
            f"tuned weight file {tuned_file} lacks {', '.join(missing)}; it was not written by "
            "posebench tune: re-run posebench tune"
        )
    try:
        text = prior_yaml.read_text(encoding="utf-8")
        config = yaml.safe_load(text) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read prior config {prior_yaml} ({exc})") from exc
    if not isinstance(config, dict):
        raise ConfigError(
            f"prior config {prior_yaml} holds {type(config).__name__}, not a YAML mapping; "
            "give a prior's YAML (posebench/configs/priors/<prior>.yaml or a copy)"
        )
    if "energy_weights" not in config or not isinstance(config["energy_weights"], dict | None):
        raise ConfigError(f"prior config {prior_yaml} has no 'energy_weights' section")
    weights = config["energy_weights"] or {}
    weights[data.get("weight_key", data["task"])] = {
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
