"""Pose interpolation: each prior's own path between test poses, scored for plausibility along
the path (dNN), smoothness (largest step, jerk) and how close it ends to the target pose.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import torch

from posebench.body.base import BodyModel
from posebench.core.config import packaged_config
from posebench.core.errors import InputError
from posebench.core.hashing import hash_arrays
from posebench.core.progress import Progress
from posebench.core.seeding import make_generator
from posebench.datasets.base import Dataset
from posebench.priors.base import Prior
from posebench.tasks.base import Metric, Task, TaskResult
from posebench.tasks.metrics import nearest_neighbour_geodesic, position_joints
from posebench.tasks.sample import DNN_DEFINITION


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
        start, end = self._pairs(dataset, config, device, seed)
        path = prior.interpolate(start, end, config["steps"]).detach()  # (M + 1, K, 21, 3)
        return self._score(path, start, end, dataset, body, config)

    def _pairs(
        self, dataset: Dataset, config: Mapping[str, Any], device: torch.device, seed: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        test = dataset.poses(config["split"]).to(device)
        return choose_pairs(test, config["n_pairs"], config["min_separation"], seed)

    def _score(
        self, path: torch.Tensor, start: torch.Tensor, end: torch.Tensor, dataset: Dataset,
        body: BodyModel, config: Mapping[str, Any],
    ) -> TaskResult:  # fmt: skip
        steps = config["steps"]
        reference = dataset.poses(config["reference_split"]).to(path.device)
        if path.shape != (steps + 1, *start.shape):
            raise InputError(
                f"the interpolation path has shape {tuple(path.shape)}; expected "
                f"{(steps + 1, *start.shape)}"
            )
        n_pairs = len(start)
        # the endpoints' source may not capture every joint: score the captured ones only
        captured = dataset.observed_joints(config["split"]) & dataset.observed_joints(
            config["reference_split"]
        )
        rotations = captured[1:].to(path.device)
        positions = position_joints(captured).to(path.device)
        dnn = nearest_neighbour_geodesic(
            path.reshape(-1, 21, 3), reference, joints=None if bool(rotations.all()) else rotations
        ).reshape(steps + 1, n_pairs)
        all_joints = body.forward_batched(path).joints  # (M + 1, K, 22, 3), no root
        joints = all_joints[..., positions, :]
        step = (joints[1:] - joints[:-1]).norm(dim=-1)  # (M, K, J)
        third = joints[3:] - 3 * joints[2:-1] + 3 * joints[1:-2] - joints[:-3]
        target = body.forward_batched(end).joints[..., positions, :]
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
                "scored_joints": int(positions.sum()),
            },
            inputs_hash=hash_arrays(start, end),
            per_unit={  # pairs are independent draws of two test poses
                "unit": "pair",
                "item": "pair",
                "values": {f"pair{k}": [v] for k, v in enumerate(dnn.mean(dim=0).tolist())},
            },
        )

    def export_inputs(
        self, dataset: Dataset, body: BodyModel, config: Mapping[str, Any], device: torch.device,
        seed: int,
    ) -> tuple[dict[str, Any], str]:  # fmt: skip
        start, end = self._pairs(dataset, config, device, seed)
        arrays = {
            "start_pose_body": start.reshape(-1, 63).cpu().numpy(),
            "end_pose_body": end.reshape(-1, 63).cpu().numpy(),
            "steps": config["steps"],
        }
        return arrays, hash_arrays(start, end)

    def score(
        self, predictions: Mapping[str, Any], dataset: Dataset, body: BodyModel,
        config: Mapping[str, Any], device: torch.device, seed: int,
    ) -> TaskResult:  # fmt: skip
        """Score ``path_pose_body`` (M + 1, K, 63) paths for the exported pairs."""
        start, end = self._pairs(dataset, config, device, seed)
        if "path_pose_body" not in predictions:
            raise InputError("predictions lack 'path_pose_body' (steps + 1, pairs, 63)")
        path = torch.as_tensor(predictions["path_pose_body"], dtype=torch.float32, device=device)
        if path.ndim != 3 or path.shape[-1] != 63 or not torch.isfinite(path).all():
            raise InputError(
                f"predictions 'path_pose_body' have shape {tuple(path.shape)} or non-finite "
                "values; expected finite (steps + 1, pairs, 63)"
            )
        return self._score(path.reshape(*path.shape[:2], 21, 3), start, end, dataset, body, config)
