"""posebench: a plugin-based benchmark and toolkit for 3D human pose priors.

The public API: ``load_prior``, ``load_task``, ``load_dataset``, ``load_body_model``, ``run``,
and ``hookimpl`` for plugins. Heavy modules (torch models) are imported only when used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from posebench.core.version import __version__
from posebench.hookspecs import hookimpl

if TYPE_CHECKING:
    from posebench.benchmark.runner import RunOutcome
    from posebench.body.base import BodyModel
    from posebench.datasets.base import Dataset
    from posebench.priors.base import Prior
    from posebench.tasks.base import Task

__all__ = [
    "__version__",
    "hookimpl",
    "load_body_model",
    "load_dataset",
    "load_prior",
    "load_task",
    "run",
]


def load_prior(
    name: str,
    checkpoint: str | None = None,
    config: str | dict[str, Any] | None = None,
    device: str = "cpu",
) -> Prior:
    """A ready prior: ``checkpoint`` (or the shipped one when None) loaded on ``device``."""
    from posebench.benchmark.components import load_prior as _load

    return _load(name, checkpoint=checkpoint, config=config, device=device)


def load_task(name: str) -> Task:
    """A task instance by registered name."""
    from posebench.benchmark.components import load_task as _load

    return _load(name)


def load_dataset(name: str, **options: Any) -> Dataset:
    """A dataset instance by registered name (``options`` go to its constructor)."""
    from posebench.benchmark.components import load_dataset as _load

    return _load(name, **options)


def load_body_model(name: str, path: str | None = None, device: str = "cpu") -> BodyModel:
    """A body model by registered name (``path``: model files, for bodies that need them)."""
    from posebench.benchmark.components import load_body_model as _load

    return _load(name, path=path, device=device)


def run(prior: str, task: str, **options: Any) -> RunOutcome:
    """Run one prior on one task and write its result file; return where it is and what it holds.

    ``options`` are the fields of :class:`posebench.benchmark.spec.RunSpec` (dataset, seed,
    out, ...), plus ``force`` (default True: re-run an existing result) and ``progress``.
    """
    from posebench.benchmark.runner import run as _run
    from posebench.benchmark.spec import RunSpec

    force = options.pop("force", True)
    progress = options.pop("progress", None)
    return _run(RunSpec(prior=prior, task=task, **options), force=force, progress=progress)
