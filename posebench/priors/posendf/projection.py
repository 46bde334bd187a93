"""Projection onto the zero level set: x <- canonical(x - f(x) * grad/|grad|), and what is built
on it (the projection's trajectory, the original project's interpolation).

The update is the official one (step length = predicted distance, gradient normalised over all
84 dimensions, flip to w >= 0 and per-joint renormalisation after every step). Unlike the
official loop no second-order graph is built. Poses are processed in chunks, and with ``tol`` a
pose stops moving once its distance is below it (each pose's path is independent of the others
in its chunk, so results do not depend on the chunk size). See docs/posendf.md.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any, Protocol, runtime_checkable

import torch
from torch import nn

from posebench.priors.base import Prior, check_pose
from posebench.priors.posendf.quat import canonical, pose_to_network_input, quat_to_axis_angle

StepCallback = Callable[[int, torch.Tensor], None]


@runtime_checkable
class _Freezable(Protocol):
    """A model with a ``frozen()`` context for many forward passes without weight gradients."""

    def frozen(self) -> contextlib.AbstractContextManager[None]: ...


def autocast_context(enabled: bool, device: torch.device) -> contextlib.AbstractContextManager:
    """bf16 autocast on ``device`` when ``enabled``, else a no-op context."""
    if not enabled:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


def distance_and_gradient(
    model: nn.Module, quat: torch.Tensor, bf16: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(B,)`` distances and their ``(B, 21, 4)`` input gradients, first order only."""
    with torch.enable_grad():
        x = quat.detach().requires_grad_(True)
        with autocast_context(bf16, quat.device):
            dist = model(x)
        dist = dist.to(quat.dtype)
        (grad,) = torch.autograd.grad(dist.sum(), x)
    return dist.detach(), grad


def projection_step(
    model: nn.Module, quat: torch.Tensor, bf16: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """One official update of ``(B, 21, 4)`` canonical quaternions; returns (new, distance)."""
    dist, grad = distance_and_gradient(model, quat, bf16)
    flat = grad.reshape(len(grad), -1)
    direction = flat / flat.norm(dim=1, keepdim=True).clamp_min(1e-12)
    moved = quat - (dist[:, None] * direction).reshape(quat.shape)
    return canonical(moved), dist


def _chunks(n: int, size: int) -> Iterator[slice]:
    for start in range(0, n, size):
        yield slice(start, min(start + size, n))


def project_quaternions(
    model: nn.Module,
    quat: torch.Tensor,
    steps: int = 100,
    tol: float | None = None,
    chunk_size: int = 4096,
    bf16: bool = False,
    on_step: StepCallback | None = None,
) -> torch.Tensor:
    """Project ``(B, 21, 4)`` quaternions for ``steps`` updates (fewer with ``tol``).

    ``on_step(step, quat)`` (optional) sees the whole batch after each step (step 0 = the start);
    it is only available without chunking, so it forces one chunk.
    """
    quat = canonical(quat.detach())
    if on_step is not None:
        chunk_size = max(len(quat), 1)
        on_step(0, quat)
    out = torch.empty_like(quat)
    frozen = model.frozen() if isinstance(model, _Freezable) else contextlib.nullcontext()
    with frozen:
        for cut in _chunks(len(quat), max(int(chunk_size), 1)):
            out[cut] = _project_chunk(model, quat[cut], steps, tol, bf16, on_step)
    return out


def _project_chunk(
    model: nn.Module,
    x: torch.Tensor,
    steps: int,
    tol: float | None,
    bf16: bool,
    on_step: StepCallback | None,
) -> torch.Tensor:
    active = torch.arange(len(x), device=x.device)
    for step in range(int(steps)):
        if tol is None:
            x, _ = projection_step(model, x, bf16)
        else:
            moved, dist = projection_step(model, x[active], bf16)
            keep = dist >= tol  # already within tol: this pose stops where it is
            x = x.clone()
            x[active[keep]] = moved[keep]
            active = active[keep]
        if on_step is not None:
            on_step(step + 1, x)
        if tol is not None and len(active) == 0:
            break
    return x


def projection_trajectory(
    prior: Any, pose: torch.Tensor, steps: int | None = None, tol: float | None = None
) -> torch.Tensor:
    """``(S + 1, B, 21, 3)`` poses after each projection step (index 0 = the input,
    canonicalised), for a Pose-NDF prior (``posebench project --save-steps``)."""
    check_pose(pose)
    frames: list[torch.Tensor] = []
    prior.project(pose, steps=steps, tol=tol, on_step=lambda _, q: frames.append(q.clone()))
    return torch.stack([quat_to_axis_angle(q) for q in frames]).to(pose.dtype)


def interpolate(
    prior: Prior,
    start: torch.Tensor,
    end: torch.Tensor,
    steps: int = 20,
    step_size: float = 0.1,
    project_steps: int | None = None,
    tol: float | None = 1e-3,
) -> torch.Tensor:
    """The original project's interpolation (the fork's reading of the paper), for any prior
    that projects. Project both ends; then ``steps`` times blend the current pose towards the
    end pose, p <- (1 - a) p + a p_end on the (w, x, y, z) quaternion arrays (a = step_size),
    and project the blend. Returns ``(steps + 1, B, 21, 3)`` (index 0 = projected start)."""
    check_pose(start, "start pose")
    check_pose(end, "end pose")
    current = prior.project(start, steps=project_steps, tol=tol)
    target = pose_to_network_input(prior.project(end, steps=project_steps, tol=tol))
    path = [current]
    for _ in range(int(steps)):
        blend = canonical((1.0 - step_size) * pose_to_network_input(current) + step_size * target)
        current = prior.project(quat_to_axis_angle(blend), steps=project_steps, tol=tol)
        path.append(current)
    return torch.stack(path)
