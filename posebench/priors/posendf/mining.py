"""Hard-negative mining for Pose-NDF training: poses where projection ends, with true targets.

The published training data are noisy copies of the training poses and random poses; nothing
covers the places projection actually visits on its way from a random start, and a network
trained on that data alone can say "distance ~0" there (spurious zeros, see
:mod:`posebench.priors.posendf.calibration`). Every ``train.mine.every`` steps the current
network projects ``starts`` random starts (the sampling starts); the poses after each of
``record_steps`` steps join the training queries with their true targets (mean distance to the
k nearest training poses), so wherever the network's own projection goes, it learns the true
distance. This is posebench's addition; ``every: 0`` trains on the published data alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from posebench.core.seeding import make_generator
from posebench.priors.posendf.projection import project_quaternions
from posebench.priors.posendf.starts import random_starts
from posebench.priors.posendf.targets import knn_targets


def mine_projected_starts(
    model: nn.Module,
    manifold: torch.Tensor,
    config: Mapping[str, Any],
    sample_config: Mapping[str, Any],
    k: int,
    seed: int,
    step: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(N, 21, 4)`` projected poses and their ``(N,)`` true targets for one mining round
    (its own seeded stream per training step, so a resumed run mines the same poses)."""
    record_steps: Sequence[int] = sorted({int(s) for s in config["record_steps"]})
    generator = make_generator(seed, "posendf-mine", str(step))
    starts = random_starts(
        int(config["starts"]), sample_config["init"], generator, float(sample_config["rest_sigma"])
    ).to(device=manifold.device, dtype=manifold.dtype)
    kept: list[torch.Tensor] = []

    def keep(index: int, quat: torch.Tensor) -> None:
        if index in record_steps:
            kept.append(quat.detach().clone())

    was_training = model.training
    model.eval()
    project_quaternions(model, starts, steps=max(record_steps), on_step=keep)
    model.train(was_training)
    queries = torch.cat(kept)
    distances, _ = knn_targets(queries, manifold, k=k)
    return queries, distances.mean(dim=1).to(queries.dtype)
