"""Pose interpolation: each prior's own path between test poses, scored for plausibility along
the path (dNN), smoothness (largest step, jerk) and how close it ends to the target pose.

The endpoints are two frames of one test sequence ``gap_s`` apart, so the real motion between
them exists and is scored the same way (the ``real motion`` data row): what real movement
between the same poses scores on each metric.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from posebench.body.base import BodyModel
from posebench.body.rotations import slerp_axis_angle
from posebench.core.config import packaged_config
from posebench.core.errors import CapabilityNotSupported, InputError
from posebench.core.hashing import hash_arrays
from posebench.core.progress import Progress
from posebench.core.resources import require_memory
from posebench.core.schema import Rule, at_least, number
from posebench.core.seeding import make_generator
from posebench.datasets.base import Dataset, MotionSequence
from posebench.priors.base import Prior
from posebench.tasks.base import Metric, Task, TaskResult
from posebench.tasks.metrics import nearest_neighbour_geodesic, position_joints
from posebench.tasks.sample import DNN_DEFINITION

#: Peak memory per pose along the paths, measured on the embedded data (0.59 GB at 32 pairs of
#: 20 steps, 1.44 GB at 2,048): 20 KiB, an upper bound that includes transient blocks.
BYTES_PER_PATH_POSE = 20 * 1024


@dataclass
class Pairs:
    """Start and end poses (K, 21, 3), and the real motion between them when they come from
    one sequence: (M + 1, K, 21, 3) resampled to the path's M steps, else None."""

    start: torch.Tensor
    end: torch.Tensor
    real_path: torch.Tensor | None
    source: str
    clips: list[str] | None = None  # the sequence each pair comes from, when they do


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


def resample_motion(frames: torch.Tensor, steps: int) -> torch.Tensor:
    """``steps + 1`` poses evenly spaced in time along ``frames`` (F, 21, 3): per joint slerp
    between the two frames around each fractional time."""
    position = torch.linspace(0, len(frames) - 1, steps + 1, dtype=torch.float64)
    low = position.floor().long().clamp(max=len(frames) - 2)
    fraction = (position - low).to(frames.dtype)
    return slerp_axis_angle(frames[low], frames[low + 1], fraction[:, None])


def choose_motion_pairs(
    sequences: list[MotionSequence], config: Mapping[str, Any], seed: int
) -> Pairs:
    """Pairs ``gap_s`` seconds apart within one sequence (a uniformly drawn frame of the split,
    the end ``gap_s`` later), at least ``min_separation`` apart, with the real motion between."""
    n_pairs, steps = config["n_pairs"], config["steps"]
    gaps = [round(config["gap_s"] * s.fps) for s in sequences]
    starts = [(k, t) for k, s in enumerate(sequences) for t in range(len(s) - max(gaps[k], 1))]
    if not starts or min(gaps) < 1:
        raise InputError(
            f"no sequence of the {config['split']} split is longer than gap_s = "
            f"{config['gap_s']} s; lower gap_s with --task-config"
        )
    generator = make_generator(seed, "interpolate-pairs")
    chosen: list[tuple[int, int]] = []
    for _ in range(50 * n_pairs):
        k, t = starts[int(torch.randint(len(starts), (1,), generator=generator))]
        motion = sequences[k].pose_body
        separation = nearest_neighbour_geodesic(
            motion[t : t + 1], motion[t + gaps[k] : t + gaps[k] + 1]
        )
        if float(separation) >= config["min_separation"]:
            chosen.append((k, t))
        if len(chosen) == n_pairs:
            break
    if len(chosen) < n_pairs:
        raise InputError(
            f"found only {len(chosen)} of {n_pairs} {config['split']} motion pairs "
            f"{config['gap_s']} s apart and at least {config['min_separation']} rad apart; lower "
            "min_separation or n_pairs, or raise gap_s, with --task-config"
        )
    paths = [
        resample_motion(sequences[k].pose_body[t : t + gaps[k] + 1].float(), steps)
        for k, t in chosen
    ]
    real = torch.stack(paths, dim=1)  # (M + 1, K, 21, 3)
    names = sorted({sequences[k].name for k, _ in chosen})
    source = f"motion {config['gap_s']} s apart in {len(names)} clips"
    return Pairs(real[0], real[-1], real, source, [sequences[k].name for k, _ in chosen])


class InterpolateTask(Task):
    """K start/end pairs, M steps each, through the prior's ``interpolate``."""

    name = "interpolate"
    version = "2"
    protocols = ("default",)
    metrics: ClassVar[dict[str, Metric]] = {
        "path_dnn_mean": Metric(
            "rad",
            False,
            "mean geodesic distance (dNN) of the path's poses to the nearest train pose",
        ),
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
    config_schema: ClassVar[dict[str, Rule]] = {
        "n_pairs": at_least(1),
        "steps": at_least(1),
        "min_separation": at_least(0),
        "gap_s": number(above=0, nullable=True),  # null: random pose pairs
    }

    def check_resources(self, config: Mapping[str, Any]) -> None:
        """The paths and their scoring must fit in memory (:data:`BYTES_PER_PATH_POSE` each)."""
        poses = int(config["n_pairs"]) * (int(config["steps"]) + 1)
        require_memory(
            poses * BYTES_PER_PATH_POSE,
            f"task 'interpolate' with {config['n_pairs']:,} pairs of {config['steps']} steps",
            "lower n_pairs or steps (--task-config)",
        )

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
        self.check_resources(config)
        pairs = self._pairs(dataset, config, device, seed)
        path = prior.interpolate(pairs.start, pairs.end, config["steps"]).detach()  # (M+1, K, ..)
        result = self._score(path, pairs, dataset, body, config)
        if pairs.real_path is not None:  # the same metrics for the real motion between the ends
            real = self._score(pairs.real_path, pairs, dataset, body, config)
            result.data_rows = {"real motion": real.metrics}
        return result

    def _pairs(
        self, dataset: Dataset, config: Mapping[str, Any], device: torch.device, seed: int
    ) -> Pairs:
        """Motion pairs ``gap_s`` apart in one sequence (with the real motion between), or,
        with ``gap_s`` null or a dataset without motion, pairs of random poses of the split."""
        if config["gap_s"] is not None:
            try:
                sequences = dataset.sequences(config["split"])
            except CapabilityNotSupported:
                sequences = []
            if sequences:
                pairs = choose_motion_pairs(sequences, config, seed)
                real = None if pairs.real_path is None else pairs.real_path.to(device)
                return Pairs(
                    pairs.start.to(device), pairs.end.to(device), real, pairs.source, pairs.clips
                )
        test = dataset.poses(config["split"]).to(device)
        start, end = choose_pairs(test, config["n_pairs"], config["min_separation"], seed)
        return Pairs(start, end, None, "random poses of the split (no motion between them)")

    def _score(
        self, path: torch.Tensor, pairs: Pairs, dataset: Dataset, body: BodyModel,
        config: Mapping[str, Any],
    ) -> TaskResult:  # fmt: skip
        start, end = pairs.start, pairs.end
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
        all_joints = body.forward_batched(path, mesh=False).joints  # (M + 1, K, 22, 3), no root
        joints = all_joints[..., positions, :]
        step = (joints[1:] - joints[:-1]).norm(dim=-1)  # (M, K, J)
        third = joints[3:] - 3 * joints[2:-1] + 3 * joints[1:-2] - joints[:-3]
        target = body.forward_batched(end, mesh=False).joints[..., positions, :]
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
                "pairs": pairs.source,
                "steps": steps,
                "dnn_definition": DNN_DEFINITION,
                "pairs_hash": hash_arrays(start, end),
                "scored_joints": int(positions.sum()),
            },
            inputs_hash=hash_arrays(start, end),
            per_unit=_per_unit(dnn.mean(dim=0).tolist(), pairs.clips),
        )

    def export_inputs(
        self, dataset: Dataset, body: BodyModel, config: Mapping[str, Any], device: torch.device,
        seed: int,
    ) -> tuple[dict[str, Any], str]:  # fmt: skip
        pairs = self._pairs(dataset, config, device, seed)
        arrays = {
            "start_pose_body": pairs.start.reshape(-1, 63).cpu().numpy(),
            "end_pose_body": pairs.end.reshape(-1, 63).cpu().numpy(),
            "steps": config["steps"],
        }
        return arrays, hash_arrays(pairs.start, pairs.end)

    def score(
        self, predictions: Mapping[str, Any], dataset: Dataset, body: BodyModel,
        config: Mapping[str, Any], device: torch.device, seed: int,
    ) -> TaskResult:  # fmt: skip
        """Score ``path_pose_body`` (M + 1, K, 63) paths for the exported pairs."""
        pairs = self._pairs(dataset, config, device, seed)
        if "path_pose_body" not in predictions:
            raise InputError("predictions lack 'path_pose_body' (steps + 1, pairs, 63)")
        path = torch.as_tensor(predictions["path_pose_body"], dtype=torch.float32, device=device)
        if path.ndim != 3 or path.shape[-1] != 63 or not torch.isfinite(path).all():
            raise InputError(
                f"predictions 'path_pose_body' have shape {tuple(path.shape)} or non-finite "
                "values; expected finite (steps + 1, pairs, 63)"
            )
        return self._score(path.reshape(*path.shape[:2], 21, 3), pairs, dataset, body, config)


def _per_unit(values: list[float], clips: list[str] | None) -> dict[str, Any]:
    """Per-pair values grouped by the clip the pair comes from (pairs of one clip are not
    independent), or one unit per pair for pairs of random poses."""
    if clips is None:
        return {
            "unit": "pair",
            "item": "pair",
            "values": {f"pair{k}": [v] for k, v in enumerate(values)},
        }
    grouped: dict[str, list[float]] = {}
    for clip, value in zip(clips, values, strict=True):
        grouped.setdefault(clip, []).append(value)
    return {"unit": "clip", "item": "pair", "values": grouped}
