"""The none prior keeps the contract; the contract checks catch broken priors."""

from __future__ import annotations

import math

import pytest
import torch

import posebench
from posebench.core.errors import CapabilityNotSupported, InputError
from posebench.priors.base import Prior, check_pose
from posebench.priors.none import uniform_rotations
from posebench.testing import check_prior


def test_none_prior_keeps_the_contract():
    check_prior(posebench.load_prior("none"))


def test_none_prior_energy_is_zero_with_zero_gradient():
    prior = posebench.load_prior("none")
    pose = torch.randn(4, 21, 3, requires_grad=True)
    energy = prior.energy(pose)
    energy.sum().backward()
    assert torch.equal(energy, torch.zeros(4)) and torch.equal(pose.grad, torch.zeros(4, 21, 3))
    assert torch.equal(prior.project(pose.detach()), pose.detach())


def test_none_prior_cannot_train_and_says_so(tmp_path):
    prior = posebench.load_prior("none")
    with pytest.raises(CapabilityNotSupported, match="prior 'none' does not support training"):
        prior.fit(None, {}, tmp_path, torch.device("cpu"))


def test_uniform_rotations_follow_the_haar_measure():
    """Under the Haar measure the angle has density (1 - cos θ)/π: mean θ = π/2 + 2/π."""
    angles = uniform_rotations(200_000, torch.Generator().manual_seed(0)).norm(dim=-1)
    assert angles.max() <= math.pi + 1e-5
    assert abs(angles.mean().item() - (math.pi / 2 + 2 / math.pi)) < 0.01
    # P(θ < π/2) = (π/2 - 1)/π
    assert abs((angles < math.pi / 2).float().mean().item() - (math.pi / 2 - 1) / math.pi) < 0.005


def test_check_pose_rejects_bad_input_in_one_line():
    with pytest.raises(InputError, match=r"shape \(2, 63\); expected \(B, 21, 3\)"):
        check_pose(torch.zeros(2, 63))
    with pytest.raises(InputError, match="NaN or infinite values in 1 of 2 poses"):
        check_pose(torch.tensor([[[0.0] * 3] * 21, [[float("inf")] * 3] * 21]))


class WrongShapePrior(Prior):
    name = "wrong-shape"

    def energy(self, pose):
        return pose.sum(dim=2)  # (B, 21): breaks the contract


class NoValidationPrior(Prior):
    name = "no-validation"

    def energy(self, pose):
        return pose.pow(2).sum(dim=(-1, -2))  # accepts anything


def test_contract_checks_catch_a_wrong_energy_shape():
    with pytest.raises(AssertionError, match="energy of 9 poses has shape"):
        check_prior(WrongShapePrior())


def test_contract_checks_catch_missing_input_validation():
    with pytest.raises(AssertionError, match="accepted a pose with shape"):
        check_prior(NoValidationPrior())


class RandomGuidancePrior(Prior):
    name = "random-guidance"

    def energy(self, pose):
        return check_pose(pose).pow(2).sum(dim=(-1, -2))

    def fitting_energy(self, pose, progress, task=None):
        noise = torch.randn(pose.shape)  # unseeded: a fit under it cannot be reproduced
        return (pose - noise).pow(2).sum(dim=(-1, -2))


def test_contract_checks_catch_a_fitting_energy_that_is_not_reproducible():
    with pytest.raises(AssertionError, match="fitting_energy is not deterministic"):
        check_prior(RandomGuidancePrior())


def test_the_default_fitting_energy_is_the_energy():
    prior = posebench.load_prior("gmm")
    pose = 0.3 * torch.randn(5, 21, 3)
    assert torch.equal(prior.fitting_energy(pose, 0.7, "denoise"), prior.energy(pose))


def test_energy_weight_defaults_to_untuned_and_reads_config():
    prior = NoValidationPrior()
    assert prior.energy_weight("denoise") == (1.0, "untuned")

    class Weighted(NoValidationPrior):
        default_config = {"energy_weights": {}}

    weighted = Weighted(config={"energy_weights": {"denoise": {"value": 0.3, "source": "tuned"}}})
    assert weighted.energy_weight("denoise") == (0.3, "tuned")
