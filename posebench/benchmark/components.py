"""Turn registered names into ready objects: priors, tasks, datasets and body models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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


def load_prior(
    name: str,
    checkpoint: str | Path | None = None,
    config: str | Path | dict[str, Any] | None = None,
    device: str = "cpu",
    pretrained: bool = True,
) -> Prior:
    """A prior by name with ``checkpoint``, else (if ``pretrained``) the shipped one."""
    cls = get_registry().get("prior", name).load_class(Prior)
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


def load_task(name: str) -> Task:
    """A task by name."""
    return get_registry().get("task", name).load_class(Task)()


def load_dataset(name: str, **options: Any) -> Dataset:
    """A dataset by name; ``options`` (e.g. ``amass_dir``) go to its constructor."""
    return get_registry().get("dataset", name).load_class(Dataset)(**options)


def load_body_model(name: str, path: str | Path | None = None, device: str = "cpu") -> BodyModel:
    """A body model by name; ``path`` points at model files for bodies that need them (SMPL)."""
    cls = get_registry().get("body_model", name).load_class(BodyModel)
    return cls(path=path, device=resolve_device(device))
