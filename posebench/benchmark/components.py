"""Turn registered names into ready objects: priors, tasks, datasets and body models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from posebench.core.errors import InputError, PosebenchError
from posebench.plugins import Entry, get_registry


def _class_of(entry: Entry, base: type) -> type:
    target = entry.load()
    if not (isinstance(target, type) and issubclass(target, base)):
        raise PosebenchError(
            f"plugin '{entry.plugin.name}' registered {entry.kind.replace('_', ' ')} "
            f"'{entry.name}' "
            f"as {target!r}, which is not a subclass of {base.__module__}.{base.__name__}"
        )
    return target


def load_prior(
    name: str,
    checkpoint: str | Path | None = None,
    config: str | Path | dict[str, Any] | None = None,
    device: str = "cpu",
    pretrained: bool = True,
) -> Any:
    """A prior by name with ``checkpoint``, else (if ``pretrained``) the shipped one."""
    from posebench.core.device import resolve_device
    from posebench.priors.base import Prior

    cls = _class_of(get_registry().get("prior", name), Prior)
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


def load_task(name: str) -> Any:
    """A task by name."""
    from posebench.tasks.base import Task

    return _class_of(get_registry().get("task", name), Task)()


def load_dataset(name: str, **options: Any) -> Any:
    """A dataset by name; ``options`` (e.g. ``amass_dir``) go to its constructor."""
    from posebench.datasets.base import Dataset

    return _class_of(get_registry().get("dataset", name), Dataset)(**options)


def load_body_model(name: str, path: str | Path | None = None, device: str = "cpu") -> Any:
    """A body model by name; ``path`` points at model files for bodies that need them (SMPL)."""
    from posebench.body.base import BodyModel
    from posebench.core.device import resolve_device

    cls = _class_of(get_registry().get("body_model", name), BodyModel)
    return cls(path=path, device=resolve_device(device))
