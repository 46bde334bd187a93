"""YAML configuration: reading files, the packaged defaults, and strict merging of overrides.

Overrides may only use keys the defaults define (a misspelt key is an error with "did you mean"),
except under a key whose default is an empty mapping, which is open (e.g. per-task weights).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from posebench.core.errors import ConfigError, suggest
from posebench.core.paths import config_path


def read_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping; one-line errors for a missing, malformed or non-mapping file."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist; check the path")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"config file {path} is not valid YAML{where}; fix the syntax") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config file {path} is not UTF-8 text") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"config file {path} must hold a mapping of keys to values, not a {type(data).__name__}"
        )
    return data


def packaged_config(relative: str) -> dict[str, Any]:
    """A default config shipped inside the package, e.g. ``"priors/none.yaml"``."""
    resource = config_path(relative)
    data = yaml.safe_load(resource.read_text(encoding="utf-8"))
    return data or {}


def merge_config(
    defaults: Mapping[str, Any], overrides: Mapping[str, Any] | str | Path, where: str = "config"
) -> dict[str, Any]:
    """Deep-merge ``overrides`` (a mapping or a YAML file) into a copy of ``defaults``, strictly."""
    if isinstance(overrides, (str, Path)):
        where = f"{where} file {overrides}"
        overrides = read_yaml(overrides)
    merged = copy.deepcopy(dict(defaults))
    _merge_into(merged, overrides, where, prefix="")
    return merged


def _merge_into(
    target: dict[str, Any], overrides: Mapping[str, Any], where: str, prefix: str
) -> None:
    for key, value in overrides.items():
        dotted = f"{prefix}{key}"
        if key not in target:
            known = ", ".join(sorted(map(str, target))) or "none"
            raise ConfigError(
                f"unknown key '{dotted}' in {where}{suggest(str(key), map(str, target))}; "
                f"known keys here: {known}"
            )
        current = target[key]
        if isinstance(current, Mapping) and current and isinstance(value, Mapping):
            _merge_into(target[key], value, where, prefix=f"{dotted}.")
        elif isinstance(current, Mapping) and current and value is not None:
            raise ConfigError(
                f"key '{dotted}' in {where} must be a mapping with keys "
                f"{', '.join(sorted(map(str, current)))}, not {value!r}"
            )
        else:
            target[key] = copy.deepcopy(value)
