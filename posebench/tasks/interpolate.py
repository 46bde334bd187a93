"""Pose interpolation: each prior's own path between test poses, scored for plausibility along
the path (dNN), smoothness (largest step, jerk) and how close it ends to the target pose.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import torch

from posebench.benchmark.config import packaged_config
from posebench.benchmark.progress import Progress
from posebench.benchmark.seeding import make_generator
from posebench.body.base import BodyModel
from posebench.datasets.base import Dataset
from posebench.errors import InputError
from posebench.hashing import hash_arrays
from posebench.priors.base import Prior
from posebench.tasks.base import Metric, Task, TaskResult
from posebench.tasks.metrics import nearest_neighbour_geodesic
from posebench.tasks.sample import DNN_DEFINITION, rest_joints


def choose_pairs(
    poses: torch.Tensor, n_pairs: int, min_separation: float, seed: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """``n_pairs`` (start, end) poses from a seeded stream, at least ``min_separation`` apart."""
    generator = make_generator(seed, "interpolate-pairs")
    starts, ends = [], []
    for _ in range(50 * n_pairs):
        i, j = torch.randint(len(poses), (2,), generator=generator).tolist()
        distance = nearest_neighbour_geodesic(poses[i : i + 1], poses[j : j + 1]).item()
        if distance >= min_separation:
            starts.append(i)
            ends.append(j)
        if len(starts) == n_pairs:
            return poses[starts], poses[ends]
    raise InputError(
        f"found only {len(starts)} of {n_pairs} test pose pairs at least {min_separation} rad "
        "apart; lower min_separation or n_pairs with --task-config"
    )


class InterpolateTask(Task):
    """K start/end pairs, M steps each, through the prior's ``interpolate``."""

    name = "interpolate"
    version = "1"
    protocols = ("default",)
    metrics: ClassVar[dict[str, Metric]] = {
        "path_dnn_mean": Metric("rad", False, "mean dNN of the poses along the paths"),
        "path_dnn_max": Metric("rad", False, "largest dNN along the paths, mean over pairs"),
        "max_step_mm": Metric(
            "mm", False, "largest joint displacement of one step, mean over pairs"
        ),
        "jerk": Metric("mm/step³", False, "mean magnitude of the joints' third differences"),
        "endpoint_error_mm": Metric(
            "mm", False, "mean joint distance from the path's end to the target"
        ),
    }
    main_metric = "path_dnn_mean"
    default_config = packaged_config("tasks/interpolate.yaml")

    def run(
        self,
        prior: Prior,
        dataset: Dataset,
        body: BodyModel,
        config: Mapping[str, Any],
        device: torch.device,
        seed: int,
        progress: Progress,
    ) -> TaskResult:
        test = dataset.poses(config["split"]).to(device)
        reference = dataset.poses(config["reference_split"]).to(device)
        start, end = choose_pairs(test, config["n_pairs"], config["min_separation"], seed)
        steps = config["steps"]
        path = prior.interpolate(start, end, steps).detach()  # (M + 1, K, 21, 3)
        if path.shape != (steps + 1, *start.shape):
            raise InputError(
                f"prior '{prior.name}' returned an interpolation path of shape "
                f"{tuple(path.shape)}; expected {(steps + 1, *start.shape)}"
            )
        n_pairs = len(start)
        dnn = nearest_neighbour_geodesic(path.reshape(-1, 21, 3), reference).reshape(
            steps + 1, n_pairs
        )
        joints = rest_joints(body, path.reshape(-1, 21, 3)).reshape(steps + 1, n_pairs, 22, 3)
        step = (joints[1:] - joints[:-1]).norm(dim=-1)  # (M, K, 22)
        third = joints[3:] - 3 * joints[2:-1] + 3 * joints[1:-2] - joints[:-3]
        target = rest_joints(body, end)
        return TaskResult(
            metrics={
                "path_dnn_mean": float(dnn.mean()),
                "path_dnn_max": float(dnn.max(dim=0).values.mean()),
                "max_step_mm": float(1000 * step.amax(dim=(0, 2)).mean()),
                "jerk": float(1000 * third.norm(dim=-1).mean()) if steps >= 3 else None,
                "endpoint_error_mm": float(1000 * (joints[-1] - target).norm(dim=-1).mean()),
            },
            details={
                "n_pairs": n_pairs,
                "steps": steps,
                "dnn_definition": DNN_DEFINITION,
                "pairs_hash": hash_arrays(start, end),
            },
            inputs_hash=hash_arrays(start, end),
        )
