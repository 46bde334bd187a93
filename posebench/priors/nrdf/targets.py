"""NRDF's training points: each a training pose moved by a drawn geodesic distance, with its
true distance to the training poses under NRDF's metric (:mod:`.geometry`).

The moved pose's nearest training pose is searched among the ``candidates`` nearest under
Pose-NDF's metric (exact, chunked) and the pose it was moved from, then re-ranked with NRDF's
distance in float64; the pose it came from is always a candidate, so a target is never more than
the distance it was moved.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from posebench.core.progress import NullProgress, Progress
from posebench.core.seeding import make_generator
from posebench.priors.nrdf.geometry import canonical, geodesic_distance, perturb
from posebench.priors.posendf.targets import knn_targets

#: Queries handled per search block (bounded memory on any number of them).
BLOCK = 4096


def nearest_distance(
    query: torch.Tensor, manifold: torch.Tensor, source: torch.Tensor, candidates: int
) -> torch.Tensor:
    """``(Q,)`` NRDF distance from each query to its nearest manifold pose (float64), searched
    among its ``candidates`` nearest by Pose-NDF's metric and the pose it came from (``source``
    rows)."""
    _, rows = knn_targets(query, manifold, k=min(candidates, len(manifold)), search="exact")
    rows = torch.cat([rows, source[:, None]], dim=1)  # (Q, C + 1)
    near = manifold.double()[rows]  # (Q, C + 1, 21, 4)
    return geodesic_distance(query.double()[:, None], near).min(dim=1).values


def training_points(
    manifold: torch.Tensor,
    config: Mapping[str, Any],
    seed: int,
    progress: Progress | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(N, 21, 4)`` canonical queries and their ``(N,)`` target distances (float32):
    ``per_pose`` × the manifold's size, each from a training pose drawn with replacement, moved
    by d ~ N(0, ``sigma``)."""
    progress = progress or NullProgress()
    generator = make_generator(seed, "nrdf-training-points")
    total = int(config["per_pose"]) * len(manifold)
    sources = torch.randint(len(manifold), (total,), generator=generator)
    distances = torch.randn(total, generator=generator) * float(config["sigma"])
    queries, targets = [], []
    blocks = range(0, total, BLOCK)
    for start in progress.track(blocks, "nrdf targets", total=len(blocks)):
        rows = sources[start : start + BLOCK]
        moved = canonical(perturb(manifold[rows], distances[start : start + BLOCK], generator))
        queries.append(moved)
        targets.append(nearest_distance(moved, manifold, rows, int(config["candidates"])))
    return torch.cat(queries), torch.cat(targets).float()
