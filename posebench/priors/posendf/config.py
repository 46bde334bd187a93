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
from posebench.priors.base import merged_config
from posebench.priors.posendf import official

DEFAULT_CONFIG = packaged_config("priors/posendf.yaml")
#: The network's precisions, by their config name (``dtype``).
DTYPES = {"float32": torch.float32, "float64": torch.float64}


def official_source(config: Mapping[str, Any] | str | Path | None) -> str | None:
    """Where an official config came from (its path, or "(mapping)"), None for posebench's own."""
    if config is None or not official.is_official_config(config):
        return None
    return str(config) if isinstance(config, (str, Path)) else "(mapping)"


def resolve_config(config: Mapping[str, Any] | str | Path | None) -> dict[str, Any]:
    """Pose-NDF's full config for ``config`` (overrides, a YAML file of them, or an official
    config); one-line ConfigError for an unknown key or dtype."""
    if official_source(config) is not None:
        config = official.translate_config(config)  # type: ignore[arg-type]
    merged = merged_config("posendf", DEFAULT_CONFIG, config)
    if merged["dtype"] not in DTYPES:
        raise ConfigError(
            f"prior 'posendf' config dtype is {merged['dtype']!r}; use float32 or float64"
        )
    return merged
