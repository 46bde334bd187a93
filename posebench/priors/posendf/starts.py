"""Random starting poses for sampling and for random-pose training data (docs/posendf.md)."""

from __future__ import annotations

import torch

from posebench.body.base import NUM_BODY_JOINTS
from posebench.core.errors import ConfigError
from posebench.priors.posendf.quat import axis_angle_to_quat, canonical

STARTS = ("orthant", "rest", "uniform")


def random_starts(
    n: int, init: str, generator: torch.Generator | None = None, rest_sigma: float = 1.0
) -> torch.Tensor:
    """``(n, 21, 4)`` canonical quaternions (w, x, y, z), drawn on the generator's device.

    orthant: official, each joint Uniform[0,1)^4 normalised. rest: NRDF-style, a total angle
    |N(0, rest_sigma)| split over the joints by Dirichlet(1) weights x 21, random unit axes.
    uniform: each joint Haar-uniform on SO(3).
    """
    device = generator.device if generator is not None else torch.device("cpu")
    shape = (n, NUM_BODY_JOINTS)
    if init == "orthant":
        quat = torch.rand(*shape, 4, generator=generator, device=device)
    elif init == "uniform":
        quat = torch.randn(*shape, 4, generator=generator, device=device)
    elif init == "rest":
        total = (torch.randn(n, 1, generator=generator, device=device) * rest_sigma).abs()
        share = -torch.rand(*shape, generator=generator, device=device).clamp_min(1e-12).log()
        share = share / share.sum(dim=1, keepdim=True)
        axis = torch.randn(*shape, 3, generator=generator, device=device)
        axis = axis / axis.norm(dim=-1, keepdim=True).clamp_min(1e-12)
        quat = axis_angle_to_quat(axis * (total * share * NUM_BODY_JOINTS)[..., None])
    else:
        raise ConfigError(
            f"prior 'posendf' random start {init!r} is unknown; use one of {', '.join(STARTS)}"
        )
    return canonical(quat)
