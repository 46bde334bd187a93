"""Pose-NDF's configuration: the packaged defaults with a user's overrides or an official config.

An official Pose-NDF config file (or mapping) is translated into posebench's keys first; the
result is the prior's full config, the same whether the prior is built or only its settings are
needed (preparing training targets).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from posebench.core.config import packaged_config
from posebench.core.errors import ConfigError
from posebench.core.schema import Rule, above, at_least, integer, items, number, one_of, path, under
from posebench.priors.base import merged_config
from posebench.priors.posendf import official
from posebench.priors.posendf.model import ACTIVATIONS, INITS, PARENT_TABLES
from posebench.priors.posendf.starts import STARTS

DEFAULT_CONFIG = packaged_config("priors/posendf.yaml")
#: The network's precisions, by their config name (``dtype``).
DTYPES = {"float32": torch.float32, "float64": torch.float64}
#: How training targets' noisy poses are drawn (``targets.noise``; the YAML says how).
NOISE_SCHEMES = ("shared_additive", "per_sample_additive", "per_sample_gaussian")
#: How their nearest manifold poses are found (``targets.search``).
SEARCHES = ("exact", "candidates")
#: The distance losses of training (``train.loss``).
LOSSES = ("l1", "l2")

_RULES: dict[str, Rule] = {
    "model.parents": one_of(*PARENT_TABLES),
    "model.encoder_act": one_of(*ACTIVATIONS),
    "model.act": one_of(*ACTIVATIONS),
    "model.beta": above(0),  # softplus divides by it
    "model.encoder_beta": above(0),
    "model.dims": items(integer(min=1), min_length=1),
    "model.hidden": at_least(1),
    "model.feature": at_least(1),
    "model.init": one_of(*INITS),
    "dtype": one_of(*DTYPES),
    "projection.steps": at_least(0),
    "projection.tol": number(min=0),
    "projection.chunk_size": at_least(1),
    "sample.init": one_of(*STARTS),
    "sample.rest_sigma": at_least(0),
    "sample.steps": at_least(0),
    "interpolate.step_size": above(0),
    "interpolate.project_steps": integer(min=0),
    "interpolate.tol": at_least(0, nullable=True),  # passed on to projection, where null: never
    "targets.sigmas": items(at_least(0), min_length=1),
    "targets.per_sigma": at_least(1),
    "targets.noise": one_of(*NOISE_SCHEMES),
    "targets.group_size": at_least(1),
    "targets.num_random": at_least(0),
    "targets.random_init": one_of(*STARTS),
    "targets.k": at_least(1),
    "targets.search": one_of(*SEARCHES),
    "targets.candidates": at_least(1),
    "targets.rerank": at_least(1),
    "targets.manifold_chunk": at_least(1),
    "train.targets_dir": path(),
    "train.steps": at_least(1),
    "train.batch_noisy": at_least(1),
    "train.batch_manifold": at_least(1),
    "train.lr": at_least(0),
    "train.weight_decay": at_least(0),
    "train.loss": one_of(*LOSSES),
    "train.weights.dist": at_least(0),
    "train.weights.man": at_least(0),
    "train.weights.eikonal": at_least(0),
    "train.checkpoint_every": at_least(0),  # 0 counts as 1 (every step)
    "train.log_every": at_least(0),
    "train.val_size": at_least(1),
    "train.mine.every": at_least(0),  # 0: no mining
    "train.mine.starts": at_least(1),
    "train.mine.record_steps": items(at_least(0)),
}
#: Ranges and choices of Pose-NDF's config (:mod:`posebench.core.schema`); ``quick_overrides``
#: takes the same keys and ranges.
CONFIG_SCHEMA: dict[str, Rule] = {
    **_RULES,
    **under("quick_overrides", _RULES, DEFAULT_CONFIG["quick_overrides"]),
}


def official_source(config: Mapping[str, Any] | str | Path | None) -> str | None:
    """Where an official config came from (its path, or "(mapping)"), None for posebench's own."""
    if config is None or not official.is_official_config(config):
        return None
    return str(config) if isinstance(config, (str, Path)) else "(mapping)"


def resolve_config(config: Mapping[str, Any] | str | Path | None) -> dict[str, Any]:
    """Pose-NDF's full config for ``config`` (overrides, a YAML file of them, or an official
    config); one-line ConfigError for an unknown key or a value of the wrong type or range."""
    where = None
    if (source := official_source(config)) is not None:
        config = official.translate_config(config)  # type: ignore[arg-type]
        where = f"official Pose-NDF config {source}"
    merged = merged_config("posendf", DEFAULT_CONFIG, config, CONFIG_SCHEMA, where)
    if merged["dtype"] not in DTYPES:
        raise ConfigError(
            f"prior 'posendf' config dtype is {merged['dtype']!r}; use float32 or float64"
        )
    return merged
