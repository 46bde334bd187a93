"""Contract tests for plugin authors: run them in your own test suite against your component.

    from posebench.testing import check_prior

    def test_my_prior_keeps_the_contract():
        check_prior(MyPrior())

Each check raises ``AssertionError`` with a message saying which promise was broken.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from posebench.core.errors import CapabilityNotSupported, ConfigError, InputError
from posebench.core.schema import Schema, check_config, dotted_keys


def check_config_declarations(
    what: str, config: Mapping[str, Any], defaults: Mapping[str, Any], schema: Schema
) -> None:
    """A component's own config follows its declarations (:mod:`posebench.core.schema`), and
    every declared key (``*`` aside) is a key of its defaults: a misspelt declaration checks
    nothing."""
    try:
        check_config(config, defaults, schema, what)
    except ConfigError as exc:
        raise AssertionError(f"{exc} (its own default config)") from None
    known = dotted_keys(defaults)
    stray = sorted(key for key in schema if "*" not in key and key not in known)
    assert not stray, f"{what}: config_schema declares keys its defaults lack: {', '.join(stray)}"


def _random_poses(n: int, seed: int, scale: float = 0.4) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return scale * torch.randn(n, 21, 3, generator=generator)


def check_prior(prior: Any, n: int = 8, seed: int = 0) -> None:
    """The Prior contract: metadata, energy (shape, finiteness, gradients, bad input), the term
    fits minimise, the start pose of fits (deterministic, one pose), and the optional
    capabilities (projection, sampling) when the prior has them.
    """
    from posebench.priors.base import Prior

    assert isinstance(prior, Prior), f"{prior!r} is not a posebench.priors.base.Prior"
    assert isinstance(prior.name, str) and prior.name, "a prior needs a non-empty string name"
    assert isinstance(prior.version, str), f"prior '{prior.name}': version must be a string"
    device = prior.device
    poses = torch.cat([torch.zeros(1, 21, 3), _random_poses(n - 1, seed)]).to(device)
    near_pi = torch.zeros(1, 21, 3, device=device)
    near_pi[..., 0] = torch.pi - 1e-4
    poses = torch.cat([poses, near_pi])

    poses.requires_grad_(True)
    energy = prior.energy(poses)
    assert energy.shape == (len(poses),), (
        f"prior '{prior.name}': energy of {len(poses)} poses has shape {tuple(energy.shape)}, "
        f"expected ({len(poses)},)"
    )
    assert torch.isfinite(energy).all(), f"prior '{prior.name}': energy is not finite"
    (grad,) = torch.autograd.grad(energy.sum(), poses, allow_unused=True)
    assert grad is not None and torch.isfinite(grad).all(), (
        f"prior '{prior.name}': energy has no finite gradient with respect to the pose "
        "(including at the zero pose and near pi)"
    )
    again = prior.energy(poses.detach())
    assert torch.allclose(again, energy.detach(), rtol=1e-5, atol=1e-6), (
        f"prior '{prior.name}': energy is not deterministic"
    )
    check_fitting_energy(prior, poses.detach(), energy.detach())
    for bad, why in (
        (torch.zeros(2, 20, 3, device=device), "shape (2, 20, 3)"),
        (torch.full((2, 21, 3), float("nan"), device=device), "NaN values"),
    ):
        try:
            prior.energy(bad)
        except InputError:
            pass
        else:
            raise AssertionError(
                f"prior '{prior.name}': energy accepted a pose with {why}; raise "
                "posebench.core.errors.InputError (posebench.priors.base.check_pose does it)"
            )

    try:
        projected = prior.project(poses.detach(), steps=5)
    except CapabilityNotSupported:
        pass
    else:
        assert projected.shape == poses.shape, (
            f"prior '{prior.name}': project returned shape {tuple(projected.shape)}, "
            f"expected {tuple(poses.shape)}"
        )
        assert torch.isfinite(projected).all(), f"prior '{prior.name}': projection is not finite"

    try:
        first = prior.sample(n, torch.Generator(device=device).manual_seed(seed))
    except CapabilityNotSupported:
        pass
    else:
        second = prior.sample(n, torch.Generator(device=device).manual_seed(seed))
        assert first.shape == (n, 21, 3), (
            f"prior '{prior.name}': sample({n}) has shape {tuple(first.shape)}, "
            f"expected ({n}, 21, 3)"
        )
        assert torch.isfinite(first).all(), f"prior '{prior.name}': samples are not finite"
        assert torch.equal(first, second), (
            f"prior '{prior.name}': two samples with equally seeded generators differ"
        )

    start = prior.initial_pose(3)
    assert isinstance(start, torch.Tensor) and start.shape == (3, 21, 3), (
        f"prior '{prior.name}': initial_pose(3) must be a (3, 21, 3) tensor"
    )
    assert torch.isfinite(start).all(), f"prior '{prior.name}': initial_pose is not finite"
    assert torch.equal(start, prior.initial_pose(3)) and torch.equal(start[:1], start[1:2]), (
        f"prior '{prior.name}': initial_pose must be deterministic, the same pose in every row"
    )
    assert isinstance(prior.initial_pose_description, str) and prior.initial_pose_description, (
        f"prior '{prior.name}': initial_pose_description must be a non-empty string"
    )

    from posebench.priors.base import ENERGY_WEIGHT_SCHEMA

    defaults = type(prior).default_config
    schema = {**ENERGY_WEIGHT_SCHEMA, **prior.config_schema}
    check_config_declarations(f"prior '{prior.name}'", defaults, defaults, schema)

    weight, source = prior.energy_weight("denoise")
    assert isinstance(weight, float) and source in ("tuned", "default", "untuned"), (
        f"prior '{prior.name}': energy_weight must return (float, 'tuned'|'default'|'untuned')"
    )


def check_fitting_energy(prior: Any, poses: torch.Tensor, energy: torch.Tensor) -> None:
    """The term fits minimise (``Prior.fitting_energy``): ``(B,)``, finite, with a finite gradient
    at the start, middle and end of a fit, deterministic for the same arguments, and equal to the
    energy for a prior that keeps the default."""
    from posebench.priors.base import Prior

    for progress in (0.0, 0.5, 1.0):
        pose = poses.clone().requires_grad_(True)
        term = prior.fitting_energy(pose, progress, "denoise")
        assert term.shape == (len(poses),), (
            f"prior '{prior.name}': fitting_energy of {len(poses)} poses has shape "
            f"{tuple(term.shape)}, expected ({len(poses)},)"
        )
        assert torch.isfinite(term).all(), f"prior '{prior.name}': fitting_energy is not finite"
        if term.requires_grad:
            (grad,) = torch.autograd.grad(term.sum(), pose, allow_unused=True)
            assert grad is not None and torch.isfinite(grad).all(), (
                f"prior '{prior.name}': fitting_energy has no finite gradient at progress "
                f"{progress}"
            )
        again = prior.fitting_energy(poses, progress, "denoise")
        assert torch.allclose(again, term.detach(), rtol=1e-5, atol=1e-6), (
            f"prior '{prior.name}': fitting_energy is not deterministic (progress {progress}); "
            "seed its randomness from its arguments"
        )
    if type(prior).fitting_energy is Prior.fitting_energy:
        assert torch.allclose(prior.fitting_energy(poses, 0.5, "denoise"), energy), (
            f"prior '{prior.name}': the default fitting_energy must be the energy"
        )


def check_dataset(dataset: Any) -> None:
    """The Dataset contract: each split's poses are finite ``(N, 21, 3)`` with an aligned
    ``(N, 22)`` observed mask (a split with nothing in it may instead be refused with a one-line
    InputError, but at least one split serves poses); the hash is stable.
    """
    from posebench.core.errors import InputError
    from posebench.datasets.base import Dataset

    assert isinstance(dataset, Dataset), f"{dataset!r} is not a posebench.datasets.base.Dataset"
    served = 0
    for split in dataset.splits:
        try:
            poses = dataset.poses(split)
        except InputError:  # an empty split (e.g. missing AMASS sub-datasets) is refused
            continue
        served += 1
        assert poses.ndim == 3 and poses.shape[1:] == (21, 3), (
            f"dataset '{dataset.name}' split {split}: poses have shape {tuple(poses.shape)}"
        )
        assert torch.isfinite(poses).all(), f"dataset '{dataset.name}' split {split}: not finite"
        observed = dataset.observed(split)
        assert observed.dtype == torch.bool and observed.shape == (len(poses), 22), (
            f"dataset '{dataset.name}' split {split}: observed must be (N, 22) bool aligned with "
            f"poses, got {tuple(observed.shape)} {observed.dtype}"
        )
    assert served, f"dataset '{dataset.name}' serves poses for none of its splits"
    first, second = dataset.content_hash(), dataset.content_hash()
    assert isinstance(first, str) and first == second, (
        f"dataset '{dataset.name}': content_hash must be a stable string"
    )


def check_body_model(body: Any, batch: int = 3) -> None:
    """The BodyModel contract: joints ``(B, 22, 3)``, valid parents, a differentiable forward."""
    from posebench.body.base import BodyModel

    assert isinstance(body, BodyModel), f"{body!r} is not a posebench.body.base.BodyModel"
    parents = body.parents.tolist()
    assert len(parents) == 22 and parents[0] == -1, f"body '{body.name}': bad parent table"
    assert all(0 <= p < j for j, p in enumerate(parents) if j), (
        f"body '{body.name}': every joint's parent must come before it"
    )
    pose = _random_poses(batch, 1).requires_grad_(True)
    out = body(pose)
    assert out.joints.shape == (batch, 22, 3), (
        f"body '{body.name}': joints have shape {tuple(out.joints.shape)}, "
        f"expected ({batch}, 22, 3)"
    )
    (grad,) = torch.autograd.grad(out.joints.sum(), pose)
    assert torch.isfinite(grad).all(), f"body '{body.name}': joints are not differentiable"
    assert isinstance(body.device, torch.device) and isinstance(body.dtype, torch.dtype), (
        f"body '{body.name}': device and dtype must be a torch.device and a torch.dtype"
    )
    assert isinstance(body.num_betas, int) and body.num_betas >= 0, (
        f"body '{body.name}': num_betas must be a non-negative int"
    )
    batched = body.forward_batched(pose.detach()[None], chunk=2)
    assert batched.joints.shape == (1, batch, 22, 3), (
        f"body '{body.name}': forward_batched must keep the leading shape"
    )
    assert torch.allclose(batched.joints[0], out.joints.detach(), atol=1e-5), (
        f"body '{body.name}': forward_batched disagrees with forward"
    )
    skeleton = body.forward_skeleton(pose.detach())
    assert skeleton.vertices is None and torch.allclose(
        skeleton.joints, out.joints.detach(), atol=1e-5
    ), f"body '{body.name}': forward_skeleton must give forward's joints and no vertices"
    if out.body25 is not None:
        assert skeleton.body25 is not None and torch.allclose(
            skeleton.body25, out.body25.detach(), atol=1e-5
        ), f"body '{body.name}': forward_skeleton must give forward's BODY_25 keypoints"


def check_task(task: Any, prior: Any, dataset: Any, body: Any, seed: int = 0) -> None:
    """The Task contract: declared metadata, every protocol's config following its declarations,
    every declared metric reported, deterministic."""
    from posebench.core.progress import NullProgress
    from posebench.tasks.base import Task, TaskResult

    assert isinstance(task, Task), f"{task!r} is not a posebench.tasks.base.Task"
    assert task.protocols, f"task '{task.name}' declares no protocols"
    assert task.main_metric in task.metrics, (
        f"task '{task.name}': main_metric '{task.main_metric}' is not among its metrics"
    )
    for protocol in task.protocols:
        for quick in (False, True):
            full = {k: v for k, v in task.config(protocol, quick=quick).items() if k != "protocol"}
            where = f"task '{task.name}' protocol {protocol}{' (quick)' if quick else ''}"
            check_config_declarations(where, full, task.base_config(), task.config_schema)
    device = torch.device("cpu")
    config = task.config(task.protocols[0], quick=True)
    results = [
        task.run(prior, dataset, body, config, device, seed, NullProgress()) for _ in range(2)
    ]
    for result in results:
        assert isinstance(result, TaskResult), f"task '{task.name}': run must return a TaskResult"
        assert set(result.metrics) == set(task.metrics), (
            f"task '{task.name}' reported {sorted(result.metrics)}, declared {sorted(task.metrics)}"
        )
    assert results[0].metrics == results[1].metrics, (
        f"task '{task.name}': two runs with seed {seed} gave different metrics"
    )
