"""NRDF's projection: Riemannian gradient descent with steps scaled by the predicted distance."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from posebench.priors.nrdf.geometry import canonical, riemannian_step

#: Called after every step with the step number (1-based) and the (B, 21, 4) quaternions.
StepCallback = Callable[[int, torch.Tensor], None]


def project_quaternions(
    model: nn.Module,
    quat: torch.Tensor,
    steps: int,
    step_size: float,
    chunk_size: int = 4096,
    on_step: StepCallback | None = None,
) -> torch.Tensor:
    """``steps`` Riemannian steps of every pose of ``quat`` (B, 21, 4) towards the network's
    zero level set, ``chunk_size`` poses at a time; canonical quaternions out."""
    out = []
    for start in range(0, len(quat), chunk_size):
        current = canonical(quat[start : start + chunk_size].detach())
        for step in range(steps):
            query = current.clone().requires_grad_(True)
            with torch.enable_grad():
                distance = model(query).reshape(-1)
                (gradient,) = torch.autograd.grad(distance.sum(), query)
            current = riemannian_step(current, gradient, distance.detach(), step_size)
            if on_step is not None and len(quat) <= chunk_size:
                on_step(step + 1, current)
        out.append(current.detach())
    return torch.cat(out) if out else canonical(quat)
