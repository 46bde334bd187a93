"""The shipped Pose-NDF (trained on the embedded default): it tells clean from noisy poses and
its projection moves noisy poses towards the clean ones."""

from __future__ import annotations

import pytest
import torch

import posebench
from posebench.datasets.noise import rotation_noise
from posebench.tasks.metrics import nearest_neighbour_geodesic


def auroc(positive: torch.Tensor, negative: torch.Tensor) -> float:
    """P(a random negative scores above a random positive), ties counted half (Mann-Whitney)."""
    greater = (negative[None, :] > positive[:, None]).double().mean()
    ties = (negative[None, :] == positive[:, None]).double().mean()
    return float(greater + 0.5 * ties)


def test_auroc_helper_on_hand_made_scores():
    assert auroc(torch.tensor([0.0, 1.0]), torch.tensor([2.0, 3.0])) == 1.0
    assert auroc(torch.tensor([0.0, 2.0]), torch.tensor([1.0, 3.0])) == 0.75


@pytest.mark.slow
def test_shipped_checkpoint_separates_clean_from_noisy_and_projects_towards_clean():
    prior = posebench.load_prior("posendf")
    assert prior.checkpoint is not None and prior.checkpoint.name == "posendf_embedded.pt"
    clean = posebench.load_dataset("embedded").poses("test")
    noisy = rotation_noise(clean, 0, sigma=0.5).noisy
    with torch.no_grad():
        clean_distance, noisy_distance = prior.energy(clean), prior.energy(noisy)
    assert auroc(clean_distance, noisy_distance) >= 0.95
    projected = prior.project(noisy, steps=100)
    before = geodesic_error(noisy, clean)
    after = geodesic_error(projected, clean)
    assert after < before


def geodesic_error(pose: torch.Tensor, target: torch.Tensor) -> float:
    """Mean over poses of the summed per-joint angle to the matching target pose (radians)."""
    return float(
        torch.stack(
            [
                nearest_neighbour_geodesic(p[None], t[None])[0]
                for p, t in zip(pose, target, strict=True)
            ]
        ).mean()
    )


@pytest.mark.slow
def test_shipped_checkpoint_has_no_spurious_zeros():
    """Random sampling starts projected by the shipped network end no further from the training
    poses than 3x the validation poses' distance, where the network says they have arrived."""
    from posebench.priors.posendf.calibration import spurious_zero_check

    prior = posebench.load_prior("posendf")
    dataset = posebench.load_dataset("embedded")
    report = spurious_zero_check(prior, dataset.poses("train"), dataset.poses("val"), starts=128)
    assert report.passed, report.line()
    assert report.near_zero_share > 0.25  # the check is not passed by having no near-zero starts
