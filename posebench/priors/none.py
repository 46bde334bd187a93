"""The ``none`` prior: no knowledge of plausible poses, the floor every table shows."""

from __future__ import annotations

import torch

from posebench.core.config import packaged_config
from posebench.priors.base import Prior, check_pose


def uniform_rotations(
    n: int, generator: torch.Generator | None = None, device: torch.device | str = "cpu"
) -> torch.Tensor:
    """``(n, 3)`` axis-angle rotations drawn uniformly (Haar measure) from SO(3)."""
    quat = torch.randn(n, 4, generator=generator, dtype=torch.float64)
    quat = quat / quat.norm(dim=-1, keepdim=True)
    quat = torch.where(quat[:, :1] < 0, -quat, quat)  # w >= 0: angle in [0, pi]
    w, xyz = quat[:, :1], quat[:, 1:]
    sin_half = xyz.norm(dim=-1, keepdim=True)
    angle = 2.0 * torch.atan2(sin_half, w)
    axis = xyz / sin_half.clamp_min(1e-12)
    return (axis * angle).to(device=device, dtype=torch.float32)


class NonePrior(Prior):
    """Zero energy, identity projection, uniform random joint rotations for sampling."""

    name = "none"
    version = "1"
    default_config = packaged_config("priors/none.yaml")

    def energy(self, pose: torch.Tensor) -> torch.Tensor:
        check_pose(pose)
        return (pose * 0.0).sum(dim=(1, 2))  # zero, but part of the graph: gradients are zero

    def project(
        self, pose: torch.Tensor, steps: int | None = None, tol: float | None = None
    ) -> torch.Tensor:
        return check_pose(pose).clone()

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return uniform_rotations(n * 21, generator, self.device).reshape(n, 21, 3)
