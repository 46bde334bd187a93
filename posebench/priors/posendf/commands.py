"""Functions behind Pose-NDF's command-line work, for the CLI to call: preparing the training
targets, projection with saved steps, and interpolation along the manifold."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from posebench.core.config import merge_config
from posebench.core.progress import Progress
from posebench.priors.base import Prior, check_pose
from posebench.priors.posendf.quat import canonical, pose_to_network_input, quat_to_axis_angle


def prepare_posendf_targets(
    dataset: Any,
    out_dir: str | Path,
    prior_config: str | Path | Mapping[str, Any] | None = None,
    seed: int = 0,
    device: torch.device | str = "cpu",
    quick: bool = False,
    progress: Progress | None = None,
) -> Path:
    """``posebench data prepare posendf-targets``: build the training set of ``dataset``'s
    train split into ``out_dir`` with the prior config's ``targets`` section (``quick``: the
    CI-sized ``quick_overrides``). Returns ``out_dir``; pass it as ``train.targets_dir``."""
    from posebench.priors.posendf.prior import PoseNDFPrior
    from posebench.priors.posendf.targets import prepare_targets

    config = PoseNDFPrior(prior_config).config
    if quick:
        config = merge_config(config, config["quick_overrides"], where="quick_overrides")
    source = {"dataset": getattr(dataset, "name", type(dataset).__name__)}
    return prepare_targets(
        dataset.poses("train"), out_dir, config["targets"], seed, device, progress, source
    )


def projection_trajectory(
    prior: Any, pose: torch.Tensor, steps: int | None = None, tol: float | None = None
) -> torch.Tensor:
    """``posebench project --save-steps``: ``(S + 1, B, 21, 3)`` poses after each projection
    step (index 0 = the input, canonicalised), for a Pose-NDF prior."""
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
    """``posebench interpolate``: the fork's reading of the paper (spec §6.2), for any prior
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
