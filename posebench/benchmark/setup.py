"""The one setup every benchmark command shares: names, task config, seed, device, parts.

:func:`configure` is the cheap half (every name checked, the task and its config); :func:`prepare`
seeds, picks the device and loads the prior, dataset and body, always in that order, so the same
spec gives the same random streams in ``run``, ``tune``, ``export`` and ``score``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

import torch

from posebench.benchmark import components
from posebench.benchmark.spec import RunSpec
from posebench.body.base import BodyModel
from posebench.core.device import resolve_device
from posebench.core.errors import ConfigError
from posebench.core.seeding import seed_everything
from posebench.datasets.base import Dataset
from posebench.plugins import Entry, Kind, get_registry
from posebench.priors.base import Prior
from posebench.priors.training_seeds import checkpoint_for_seed
from posebench.tasks.base import Task


@dataclass(frozen=True)
class TaskSetup:
    """A spec's task, its full config (protocol resolved) and the registry entries it names."""

    spec: RunSpec
    task: Task
    config: dict[str, Any]
    entries: dict[Kind, Entry]

    @property
    def protocol(self) -> str:
        """The protocol the config was built for."""
        return str(self.config["protocol"])


@dataclass(frozen=True)
class Prepared(TaskSetup):
    """Everything a task needs to run or score, loaded once from a spec: the setup and its parts."""

    device: torch.device
    prior: Prior | None
    dataset: Dataset
    body: BodyModel
    load_s: float


def configure(spec: RunSpec) -> TaskSetup:
    """Check every name in ``spec`` (one-line errors before anything heavy loads), then build
    the task's config for its protocol and size and check the prior's config."""
    registry = get_registry()
    named: list[tuple[Kind, str | None]] = [
        ("prior", spec.prior), ("task", spec.task), ("dataset", spec.dataset),
        ("body_model", spec.body_model),
    ]  # fmt: skip
    entries = {kind: registry.get(kind, name) for kind, name in named if name is not None}
    task = components.load_task(spec.task)
    config = task.config(task.protocol(spec.protocol), spec.task_config, quick=spec.quick)
    if spec.prior is not None:
        components.prior_config(spec.prior, spec.prior_config)
    return TaskSetup(spec, task, config, entries)


def with_training_checkpoint(spec: RunSpec) -> RunSpec:
    """``spec`` with the checkpoint of its training seed (unchanged without one): the shipped
    model when it was trained with that seed, else the one ``posebench train`` left under
    ``spec.train_out``; a one-line error names the command that trains a missing one."""
    if spec.training_seed is None or spec.prior is None:
        return spec
    if spec.checkpoint is not None:
        raise ConfigError(
            f"a run takes a checkpoint or a training seed, not both (checkpoint {spec.checkpoint},"
            f" training seed {spec.training_seed})"
        )
    prior = components.load_prior(spec.prior, config=spec.prior_config, pretrained=False)
    checkpoint = checkpoint_for_seed(
        prior, spec.prior, spec.dataset, spec.training_seed, spec.train_out
    )
    return replace(spec, checkpoint=checkpoint)


def prepare(spec: RunSpec, setup: TaskSetup | None = None) -> Prepared:
    """Seed every stream, pick the device, load the prior (when the spec names one), the dataset
    and the body; ``setup`` is :func:`configure`'s result when the caller already has it."""
    setup = setup or configure(spec)
    seed_everything(spec.seed)
    device = resolve_device(spec.device)
    started = time.perf_counter()
    prior = None
    if spec.prior is not None:
        prior = components.load_prior(spec.prior, spec.checkpoint, spec.prior_config, str(device))
    dataset = components.load_dataset(spec.dataset, **spec.dataset_kwargs())
    body = components.load_body_model(spec.body_model, spec.body_model_path, str(device))
    return Prepared(
        spec, setup.task, setup.config, setup.entries, device, prior, dataset, body,
        time.perf_counter() - started,
    )  # fmt: skip
