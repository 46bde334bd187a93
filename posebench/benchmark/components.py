"""Turn registered names into ready objects: priors, tasks, datasets and body models."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, overload

from posebench.body import load as body_loader
from posebench.body.base import BodyModel
from posebench.core.device import resolve_device
from posebench.core.errors import InputError
from posebench.datasets.base import Dataset
from posebench.plugins import Kind, get_registry
from posebench.priors.base import Prior
from posebench.tasks.base import Task

#: The class every registration of a kind must subclass.
BASES: dict[Kind, type] = {
    "prior": Prior,
    "task": Task,
    "dataset": Dataset,
    "body_model": BodyModel,
}


@overload
def _registered_class(kind: Literal["prior"], name: str) -> type[Prior]: ...
@overload
def _registered_class(kind: Literal["task"], name: str) -> type[Task]: ...
@overload
def _registered_class(kind: Literal["dataset"], name: str) -> type[Dataset]: ...
def _registered_class(kind: Kind, name: str) -> type[Any]:
    """The class registered as ``name``, checked to subclass its kind's base (:data:`BASES`).

    Typed per kind here: ``Entry.load_class(Prior)`` itself is refused by mypy, which allows only
    concrete classes where a ``type[T]`` is expected (the bases are abstract).
    """
    return get_registry().get(kind, name).load_class(BASES[kind])


def load_prior(
    name: str,
    checkpoint: str | Path | None = None,
    config: str | Path | Mapping[str, Any] | None = None,
    device: str = "cpu",
    pretrained: bool = True,
) -> Prior:
    """A prior by name with ``checkpoint``, else (if ``pretrained``) the shipped one."""
    cls = _registered_class("prior", name)
    prior = cls(config=config)
    if checkpoint is not None:
        checkpoint = Path(checkpoint)
        if not checkpoint.is_file():
            raise InputError(f"checkpoint {checkpoint} does not exist; check --checkpoint")
        prior.load(checkpoint)
        prior.checkpoint = checkpoint
    elif pretrained and (shipped := prior.default_checkpoint()) is not None:
        prior.load(shipped)
        prior.checkpoint = Path(shipped)
    return prior.to(resolve_device(device))


def prior_config(name: str, config: str | Path | Mapping[str, Any] | None) -> dict[str, Any]:
    """A prior's full config for the user's ``config``, checked (unknown keys, types, ranges)
    without building the prior: refusals come before anything loads."""
    return _registered_class("prior", name).resolve_config(config)


def load_task(name: str) -> Task:
    """A task by name."""
    return _registered_class("task", name)()


def load_dataset(name: str, **options: Any) -> Dataset:
    """A dataset by name; ``options`` (e.g. ``amass_dir``) go to its constructor."""
    return _registered_class("dataset", name)(**options)


def load_body_model(name: str, path: str | Path | None = None, device: str = "cpu") -> BodyModel:
    """A body model by name; ``path`` points at model files for bodies that need them (SMPL).

    The body layer has the one implementation (priors that pose a body use it too).
    """
    return body_loader.load_body_model(name, path, device)
