"""What result files declare about their metrics, completed for files that predate a key.

A file written since tasks record ``description`` and ``describes_input`` is read as it is. An
older file lacks them: they come from the installed task of the same name and version where
there is one, else the description stays empty and a metric describes the input when its name
starts with ``noisy_`` (the one convention older tasks followed).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from posebench.core.errors import PosebenchError

#: Older files' sign of an input-only metric (the noisy input's own error, in denoising).
LEGACY_INPUT_PREFIX = "noisy_"


@dataclass(frozen=True)
class Declared:
    """One metric's declaration as the leaderboard uses it."""

    unit: str
    higher_is_better: bool
    description: str
    describes_input: bool


class Declarations:
    """Declarations of the metrics of result files' tasks; the installed tasks are looked up
    once per (name, version), and only for files that lack a key."""

    def __init__(self) -> None:
        self._installed: dict[tuple[str, str], Mapping[str, Any] | None] = {}

    def of(self, task: Mapping[str, Any], metric: str) -> Declared:
        """``metric`` of a result file's ``task`` section (unit "" and lower-is-better where the
        file does not say)."""
        spec: Mapping[str, Any] = task["metrics"].get(metric, {})
        description, describes_input = spec.get("description"), spec.get("describes_input")
        if description is None or describes_input is None:
            installed = self._installed_metric(str(task["name"]), str(task["version"]), metric)
            if description is None:
                description = getattr(installed, "description", "")
            if describes_input is None:
                describes_input = (
                    installed.describes_input
                    if installed is not None
                    else metric.startswith(LEGACY_INPUT_PREFIX)
                )
        return Declared(
            unit=str(spec.get("unit", "")),
            higher_is_better=bool(spec.get("higher_is_better", False)),
            description=str(description),
            describes_input=bool(describes_input),
        )

    def _installed_metric(self, name: str, version: str, metric: str) -> Any:
        """The installed task's declaration of ``metric`` (a ``Metric``), or None when no task
        of that name and version is installed or it does not declare the metric."""
        key = (name, version)
        if key not in self._installed:
            self._installed[key] = _installed_metrics(name, version)
        return (self._installed[key] or {}).get(metric)


def _installed_metrics(name: str, version: str) -> Mapping[str, Any] | None:
    from posebench.plugins import get
    from posebench.tasks.base import Task

    try:
        task = get("task", name).load()
    except PosebenchError:  # not installed here, or its plugin is broken: no completion
        return None
    if not (isinstance(task, type) and issubclass(task, Task)):
        return None
    return task.metrics if str(task.version) == version else None
