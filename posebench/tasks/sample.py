"""Pose sampling: draw from each prior and score diversity (APD) and realism (FID, precision,
recall, dNN, share of plausible samples) against real poses the priors never trained on.

The reference is a held-out split (``reference_split``, test by default): scoring against the
training split would reward a prior for copying the training moments (an EM-fitted GMM
reproduces the training mean and covariance exactly, so its FID against them is ~0 by
construction). Real poses are scored the same way beside the priors (``data_rows``): the
training poses show what a prior that reproduced its training data perfectly would score, a
second held-out split what unseen real motion scores.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from posebench.body.base import SMPL22_JOINT_NAMES, BodyModel
from posebench.core.config import packaged_config
from posebench.core.errors import InputError
from posebench.core.hashing import hash_arrays
from posebench.core.progress import Progress
from posebench.core.resources import require_memory
from posebench.core.schema import Rule, at_least, between
from posebench.core.seeding import make_generator
from posebench.datasets.base import Dataset
from posebench.priors.base import Prior
from posebench.tasks.base import Metric, Task, TaskResult
from posebench.tasks.metrics import (
    average_pairwise_distance_cm,
    frechet_distance,
    nearest_neighbour_geodesic,
    position_joints,
    precision_recall,
)

#: Samples kept beside the result file (``seed<k>.npz``) for the leaderboard's pictures.
KEPT_SAMPLES = 16

DNN_DEFINITION = "min over reference poses of sum over the scored joints of 2 arccos|<q, q'>| (rad)"

#: Peak memory per sample, measured on the embedded data (1.0 GB at 5,000 samples, 2.1 GB at
#: 40,000, distance blocks bounded by ``metrics.MATRIX_ENTRIES``): 32 KiB, an upper bound that
#: includes the transient blocks.
BYTES_PER_SAMPLE = 32 * 1024


def subset(poses: torch.Tensor, n: int, seed: int, stream: str) -> torch.Tensor:
    """At most ``n`` poses, chosen without replacement by a seeded stream (all if fewer)."""
    if len(poses) <= n:
        return poses
    index = torch.randperm(len(poses), generator=make_generator(seed, stream))[:n]
    return poses[index.sort().values]


def shuffled(poses: torch.Tensor, n: int, seed: int, stream: str) -> torch.Tensor:
    """At most ``n`` poses in a seeded random order, so that any prefix is a random subset too
    (APD uses the first ``n_apd``; consecutive frames of one clip would understate diversity)."""
    order = torch.randperm(len(poses), generator=make_generator(seed, stream))
    return poses[order[:n]]


@dataclass
class Reference:
    """The held-out poses samples are compared with, and what is derived from them once."""

    split: str
    poses: torch.Tensor  # (N, 21, 3)
    rotations: torch.Tensor  # (21,) bool: the body joints scored (captured by the real splits)
    positions: torch.Tensor  # (22,) bool: the joints whose positions those rotations determine
    rotation_stats: tuple[np.ndarray, np.ndarray]  # mean, covariance of the axis-angle features
    position_stats: tuple[np.ndarray, np.ndarray]  # mean, covariance of the position features
    real: torch.Tensor  # (≤ n_reference, 3k) the precision/recall reference set
    calibration_split: str
    threshold: float  # plausible dNN: the quantile of the calibration poses' dNN
    calibration_pass_rate: float  # share of calibration poses within it (≈ the quantile)


def rotation_features(poses: torch.Tensor, rotations: torch.Tensor) -> torch.Tensor:
    """(N, 3k) axis-angle of the k scored body joints (the 63-D vector when all are scored)."""
    return poses[:, rotations.to(poses.device)].reshape(len(poses), -1)


def position_features(poses: torch.Tensor, positions: torch.Tensor, body: BodyModel) -> np.ndarray:
    """(N, 3m) positions in metres of the m determined joints other than the pelvis, posed by
    the body pose alone (no root rotation or translation), float64."""
    keep = positions.clone()
    keep[0] = False  # the pelvis sits at the same place in every pose: no information
    joints = body.forward_batched(poses, mesh=False).joints[:, keep.to(poses.device)]
    return joints.reshape(len(poses), -1).double().cpu().numpy()


def _moments(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return features.mean(axis=0), np.cov(features, rowvar=False)


def build_reference(
    dataset: Dataset, body: BodyModel, config: Mapping[str, Any], device: torch.device,
    seed: int,
) -> Reference:  # fmt: skip
    """The reference split's statistics and the plausible threshold calibrated on a second
    held-out split, on the joints both captured."""
    split, calibration_split = config["reference_split"], config["calibration_split"]
    if split == calibration_split:
        raise InputError(
            f"sample: reference_split and calibration_split are both '{split}'; the plausible "
            "threshold must be calibrated on a different split (--task-config)"
        )
    captured = dataset.observed_joints(split) & dataset.observed_joints(calibration_split)
    rotations = captured[1:].to(device)
    positions = position_joints(captured).to(device)
    poses = dataset.poses(split).to(device)
    calibration = dataset.poses(calibration_split).to(device)
    if len(poses) < 2 or len(calibration) < 2:
        raise InputError(
            f"sample: dataset '{dataset.name}' has {len(poses)} {split} and {len(calibration)} "
            f"{calibration_split} poses; the task needs at least two of each"
        )
    calibration_dnn = nearest_neighbour_geodesic(calibration, poses, joints=rotations)
    threshold = float(torch.quantile(calibration_dnn, config["plausible_quantile"]))
    real = subset(poses, config["n_reference"], seed, "sample-reference")
    return Reference(
        split=split,
        poses=poses,
        rotations=rotations,
        positions=positions,
        rotation_stats=_moments(rotation_features(poses, rotations).double().cpu().numpy()),
        position_stats=_moments(position_features(poses, positions, body)),
        real=rotation_features(real, rotations),
        calibration_split=calibration_split,
        threshold=threshold,
        calibration_pass_rate=float((calibration_dnn <= threshold).double().mean()),
    )


def score_poses(
    poses: torch.Tensor, reference: Reference, body: BodyModel, config: Mapping[str, Any]
) -> dict[str, float | None]:
    """The sampling metrics of any set of poses (a prior's samples or real data) against the
    reference. APD uses the first ``n_apd`` poses, so pass them in random order."""
    features = rotation_features(poses, reference.rotations)
    apd = average_pairwise_distance_cm(
        body.forward_batched(poses[: config["n_apd"]], mesh=False).joints
    )
    precision, recall = precision_recall(reference.real, features, k=config["k"])
    dnn = nearest_neighbour_geodesic(poses, reference.poses, joints=reference.rotations)
    return {
        "apd_cm": apd,
        "fid": frechet_distance(features.double().cpu().numpy(), *reference.rotation_stats),
        "fid_joints": frechet_distance(
            position_features(poses, reference.positions, body), *reference.position_stats
        ),
        "precision": precision,
        "recall": recall,
        "dnn": float(dnn.mean()),
        "frac_plausible": float((dnn <= reference.threshold).double().mean()),
    }


class SampleTask(Task):
    """N samples per prior; APD on the first 500, distribution metrics on all, against a
    held-out reference; real poses scored the same way beside them."""

    name = "sample"
    version = "2"
    protocols = ("default",)
    metrics: ClassVar[dict[str, Metric]] = {
        "apd_cm": Metric("cm", True, "average pairwise joint distance (diversity)"),
        "fid": Metric("", False, "Fréchet distance on the scored joints' axis-angle to held-out"),
        "fid_joints": Metric("", False, "Fréchet distance on joint positions (m) to held-out"),
        "precision": Metric("", True, "share of samples inside the held-out poses' 3-NN balls"),
        "recall": Metric("", True, "share of held-out poses inside the samples' 3-NN balls"),
        "dnn": Metric("rad", False, "mean geodesic distance to the nearest held-out pose"),
        "frac_plausible": Metric(
            "", True, "share of samples as close to held-out poses as 95 % of real val poses"
        ),
    }
    main_metric = "fid"
    default_config = packaged_config("tasks/sample.yaml")
    config_schema: ClassVar[dict[str, Rule]] = {
        "n_apd": at_least(2),  # APD averages over pairs
        "n_samples": at_least(2),  # FID fits a covariance
        "n_reference": at_least(2),
        "k": at_least(1),
        "plausible_quantile": between(0, 1),
    }

    def check_resources(self, config: Mapping[str, Any]) -> None:
        """The samples and their scoring must fit in memory (:data:`BYTES_PER_SAMPLE` each)."""
        n = max(config["n_samples"], config["n_apd"])
        require_memory(
            n * BYTES_PER_SAMPLE, f"task 'sample' with {n:,} samples",
            "lower n_samples and n_apd (--task-config)",
        )  # fmt: skip

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
        n = max(config["n_samples"], config["n_apd"])
        generator = make_generator(seed, "sample")
        samples = torch.cat(
            [
                prior.sample(min(256, n - start), generator).to(device)
                for start in progress.track(range(0, n, 256), "sampling", total=-(-n // 256))
            ]
        ).detach()
        result = self._score(samples, dataset, body, config, seed)
        kept = samples[:KEPT_SAMPLES].reshape(-1, 63).float().cpu().numpy()
        result.arrays = {"pose_body": kept}  # for pictures: the leaderboard's pose grid
        return result

    def _score(
        self, samples: torch.Tensor, dataset: Dataset, body: BodyModel, config: Mapping[str, Any],
        seed: int,
    ) -> TaskResult:  # fmt: skip
        device = samples.device
        reference = build_reference(dataset, body, config, device, seed)
        n = max(config["n_samples"], config["n_apd"])
        data_rows: dict[str, dict[str, float | None]] = {}
        data_sizes: dict[str, int] = {}
        for split in config["data_rows"]:
            real = shuffled(dataset.poses(split).to(device), n, seed, f"sample-data-{split}")
            data_rows[split] = score_poses(real, reference, body, config)
            data_sizes[split] = len(real)
        return TaskResult(
            metrics=score_poses(samples, reference, body, config),
            details={
                "n_samples": len(samples),
                "reference_split": reference.split,
                "n_reference_poses": len(reference.poses),
                "n_precision_recall_reference": len(reference.real),
                "scored_joints": _joint_names(reference.rotations),
                "fid_features": (
                    f"axis-angle of the {int(reference.rotations.sum())} scored body joints"
                ),
                "fid_joints_features": (
                    f"positions (m) of the {int(reference.positions[1:].sum())} determined "
                    "joints other than the pelvis, body pose only"
                ),
                "dnn_definition": DNN_DEFINITION,
                "plausible": {
                    "calibration_split": reference.calibration_split,
                    "quantile": config["plausible_quantile"],
                    "dnn_threshold": reference.threshold,
                    "calibration_pass_rate": reference.calibration_pass_rate,
                },
                "data_row_sizes": data_sizes,
                "samples_hash": hash_arrays(samples),
            },
            data_rows=data_rows,
        )

    def export_inputs(
        self, dataset: Dataset, body: BodyModel, config: Mapping[str, Any], device: torch.device,
        seed: int,
    ) -> tuple[dict[str, Any], str]:  # fmt: skip
        n = max(config["n_samples"], config["n_apd"])
        return {"n_samples": n}, hash_arrays(np.array([n]))

    def score(
        self, predictions: Mapping[str, Any], dataset: Dataset, body: BodyModel,
        config: Mapping[str, Any], device: torch.device, seed: int,
    ) -> TaskResult:  # fmt: skip
        """Score ``pose_body`` (N, 63) samples (at least the configured count)."""
        from posebench.datasets.pose_files import axis_angle_from_arrays

        samples = axis_angle_from_arrays(dict(predictions), Path("predictions"))
        n = max(config["n_samples"], config["n_apd"])
        if len(samples) < n:
            raise InputError(f"predictions hold {len(samples)} samples; the task needs {n}")
        return self._score(samples[:n].to(device), dataset, body, config, seed)


def _joint_names(body_joints: torch.Tensor) -> list[str] | str:
    """The body joints a (21,) mask keeps, or "all 21"."""
    if bool(body_joints.all()):
        return "all 21"
    kept = body_joints.tolist()
    return [n for n, keep in zip(SMPL22_JOINT_NAMES[1:], kept, strict=True) if keep]
