"""A check that a trained Pose-NDF's zero level set lies on the data: spurious zeros.

A distance field trained on noisy poses near the data has no training signal far from it and
can say "distance ~0" there; projection then lands random starts in those places and sampling
or fitting trusts poses that are nowhere near a real one. The check projects random starts (the
sampling starts) and compares what the network says with the true distance to the training
poses, the training target's own metric: mean over the k nearest training poses of
mean_joints (1 − |⟨q_j, q'_j⟩|). It passes when the projected starts the network puts at least
as close as a real held-out pose (network distance ≤ the median over the validation poses) are
truly no further from the data than ``factor`` × the validation poses' median true distance.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch

from posebench.core.seeding import make_generator
from posebench.priors.posendf.quat import axis_angle_to_quat, canonical
from posebench.priors.posendf.starts import random_starts
from posebench.priors.posendf.targets import knn_targets


@dataclass(frozen=True)
class CalibrationReport:
    """Network and true distances of projected random starts and of validation poses."""

    steps: int
    starts: int
    k: int
    factor: float
    start_network_median: float  # projected starts: what the network says
    start_true_median: float  # projected starts: mean k-NN distance to the training poses
    validation_network_median: float
    validation_true_median: float
    near_zero_share: float  # share of projected starts at or below the validation network median
    near_zero_true_median: float  # their median true distance (nan if there are none)
    ratio: float  # near_zero_true_median / validation_true_median
    passed: bool

    def record(self) -> dict[str, Any]:
        """The report as plain JSON values."""
        return asdict(self)

    def line(self) -> str:
        """One line for a terminal or a training log."""
        verdict = "passes" if self.passed else "FAILS"
        return (
            f"spurious-zero check {verdict}: {self.starts} random starts projected {self.steps} "
            f"steps; network says {self.start_network_median:.4f} (median), true distance to "
            f"the training poses {self.start_true_median:.4f}; validation poses "
            f"{self.validation_network_median:.4f} / {self.validation_true_median:.4f}; where "
            f"the network says near-zero ({100 * self.near_zero_share:.0f} % of starts) the true "
            f"distance is {self.ratio:.2f}x the validation level (limit {self.factor:g}x)"
        )


def _quaternions(poses: torch.Tensor) -> torch.Tensor:
    return canonical(axis_angle_to_quat(poses.double()))


@torch.no_grad()
def true_distance(quat: torch.Tensor, manifold: torch.Tensor, k: int) -> torch.Tensor:
    """Mean distance to the k nearest manifold poses (Pose-NDF's training target), (N,)."""
    distances, _ = knn_targets(quat, manifold, k=k)
    return distances.mean(dim=1)


def spurious_zero_check(
    prior: Any,
    train_poses: torch.Tensor,
    validation_poses: torch.Tensor,
    starts: int = 512,
    steps: int | None = None,
    factor: float = 3.0,
    k: int = 5,
    seed: int = 0,
) -> CalibrationReport:
    """Project ``starts`` random starts (the prior's ``sampling_starts`` when it has them, else
    Pose-NDF's from its ``sample`` config) ``steps`` steps (default: the prior's sampling steps)
    and compare the network's distance with the true one (see the module docstring)."""
    steps = int(steps if steps is not None else prior.config["sample"]["steps"])
    manifold = _quaternions(train_poses).float()
    generator = make_generator(seed, "posendf-calibration")
    starts_of = getattr(prior, "sampling_starts", None)  # the prior's own (NRDF's differ)
    if callable(starts_of):
        begun = starts_of(starts, generator)
    else:
        sample = prior.config["sample"]
        begun = random_starts(starts, sample["init"], generator, float(sample["rest_sigma"]))
    projected = prior.project_quat(begun.to(prior.device), steps=steps).detach().cpu()
    with torch.no_grad():
        network = prior.distance_quat(projected.to(prior.device)).double().cpu()
        validation = _quaternions(validation_poses).float()
        validation_network = prior.distance_quat(validation.to(prior.device)).double().cpu()
    truth = true_distance(projected.float(), manifold, k)
    validation_truth = true_distance(validation, manifold, k)
    level = float(validation_network.median())
    near_zero = network <= level
    near_truth = float(truth[near_zero].median()) if bool(near_zero.any()) else float("nan")
    validation_level = float(validation_truth.median())
    ratio = near_truth / validation_level if bool(near_zero.any()) else float("nan")
    return CalibrationReport(
        steps=steps,
        starts=starts,
        k=k,
        factor=factor,
        start_network_median=float(network.median()),
        start_true_median=float(truth.median()),
        validation_network_median=level,
        validation_true_median=validation_level,
        near_zero_share=float(near_zero.double().mean()),
        near_zero_true_median=near_truth,
        ratio=ratio,
        passed=bool(ratio <= factor),
    )
