"""Pose sampling: draw from each prior and score diversity (APD) and realism (FID, precision,
recall, dNN, share of plausible samples) against the dataset.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
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
from posebench.tasks.metrics import (
    average_pairwise_distance_cm,
    frechet_distance,
    nearest_neighbour_geodesic,
    precision_recall,
)

#: Samples kept beside the result file (``seed<k>.npz``) for the leaderboard's pictures.
KEPT_SAMPLES = 16

DNN_DEFINITION = "min over reference poses of sum over 21 joints of 2 arccos|<q, q'>| (radians)"


def subset(poses: torch.Tensor, n: int, seed: int, stream: str) -> torch.Tensor:
    """At most ``n`` poses, chosen without replacement by a seeded stream (all if fewer)."""
    if len(poses) <= n:
        return poses
    index = torch.randperm(len(poses), generator=make_generator(seed, stream))[:n]
    return poses[index.sort().values]


class SampleTask(Task):
    """N samples per prior; APD on the first 500, distribution metrics on all."""

    name = "sample"
    version = "1"
    protocols = ("default",)
    metrics: ClassVar[dict[str, Metric]] = {
        "apd_cm": Metric("cm", True, "average pairwise joint distance (diversity)"),
        "fid": Metric("", False, "Fréchet distance on 63-D axis-angle to the reference split"),
        "precision": Metric("", True, "share of samples inside the reference's 3-NN balls"),
        "recall": Metric("", True, "share of reference poses inside the samples' 3-NN balls"),
        "dnn": Metric("rad", False, "mean geodesic distance to the nearest reference pose"),
        "frac_plausible": Metric("", True, "share of samples with dNN within test poses' 95 %"),
    }
    main_metric = "fid"
    default_config = packaged_config("tasks/sample.yaml")

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
        reference = dataset.poses(config["reference_split"]).to(device)
        test = dataset.poses("test").to(device)
        n = len(samples)
        apd = average_pairwise_distance_cm(body.forward_batched(samples[: config["n_apd"]]).joints)
        flat_reference = reference.reshape(len(reference), 63).double().cpu().numpy()
        fid = frechet_distance(
            samples.reshape(n, 63).double().cpu().numpy(),
            flat_reference.mean(axis=0),
            np.cov(flat_reference, rowvar=False),
        )
        real = subset(reference, config["n_reference"], seed, "sample-reference").reshape(-1, 63)
        precision, recall = precision_recall(real, samples.reshape(n, 63), k=config["k"])
        dnn = nearest_neighbour_geodesic(samples, reference)
        # the plausibility threshold compares test poses with the reference on the joints both
        # captured; samples are judged on the same joints
        captured = (
            dataset.observed_joints("test") & dataset.observed_joints(config["reference_split"])
        )[1:].to(device)
        threshold = float(
            torch.quantile(
                nearest_neighbour_geodesic(test, reference, joints=captured),
                config["plausible_quantile"],
            )
        )
        judged = (
            dnn
            if bool(captured.all())
            else nearest_neighbour_geodesic(samples, reference, joints=captured)
        )
        return TaskResult(
            metrics={
                "apd_cm": apd,
                "fid": fid,
                "precision": precision,
                "recall": recall,
                "dnn": float(dnn.mean()),
                "frac_plausible": float((judged <= threshold).double().mean()),
            },
            details={
                "n_samples": n,
                "n_reference": len(real),
                "dnn_definition": DNN_DEFINITION,
                "plausible_dnn_threshold": threshold,
                "plausible_joints": _joint_names(captured),
                "samples_hash": hash_arrays(samples),
            },
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
    from posebench.body.base import SMPL22_JOINT_NAMES

    if bool(body_joints.all()):
        return "all 21"
    return [n for n, kept in zip(SMPL22_JOINT_NAMES[1:], body_joints.tolist(), strict=True) if kept]
