"""Where fits start under each prior: ``Prior.initial_pose`` (and ``LatentPrior.initial_latent``)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import posebench
from posebench.priors.base import LatentPrior, Prior
from posebench.priors.gmm.mixture import Mixture
from posebench.priors.gmm.prior import GMMPrior
from posebench.priors.vposer.prior import VPoserPrior

pytestmark = pytest.mark.usefixtures("one_thread")


class PlainPrior(Prior):
    """A third-party prior that knows nothing of start poses."""

    name = "plain"

    def energy(self, pose: torch.Tensor) -> torch.Tensor:
        return pose.pow(2).sum(dim=(1, 2))


class PlainLatentPrior(LatentPrior):
    """A third-party latent prior: a fixed linear code of the pose, offset from zero."""

    name = "plain_latent"
    latent_dim = 4

    def energy(self, pose: torch.Tensor) -> torch.Tensor:
        return pose.pow(2).sum(dim=(1, 2))

    def encode(self, pose: torch.Tensor) -> torch.Tensor:
        return pose.reshape(len(pose), 63)[:, :4] + 1.0

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        pose = torch.zeros(len(z), 63)
        pose[:, :4] = z - 1.0
        return pose.reshape(-1, 21, 3)

    def latent_energy(self, z: torch.Tensor) -> torch.Tensor:
        return z.pow(2).sum(dim=1)


def test_default_start_is_the_rest_pose_and_its_code():
    plain = PlainPrior()
    assert torch.equal(plain.initial_pose(3), torch.zeros(3, 21, 3))
    assert plain.initial_pose_description == "rest pose"
    latent = PlainLatentPrior()
    assert torch.equal(latent.initial_latent(2), torch.ones(2, 4))  # encode(rest pose)


def test_none_starts_at_the_rest_pose():
    prior = posebench.load_prior("none")
    assert torch.equal(prior.initial_pose(5), torch.zeros(5, 21, 3))
    assert prior.initial_pose_description == "rest pose"


def test_gmm_starts_at_the_mixture_mean():
    """Σ_k w_k μ_k / Σ_k w_k, computed here with numpy; weights that do not sum to 1 too."""
    rng = np.random.default_rng(3)
    k = 4
    means = rng.normal(0, 0.3, (k, 63))
    covars = np.stack([np.eye(63) * 0.1] * k)
    weights = rng.uniform(0.5, 2.0, k)  # sum != 1: an unnormalised file
    prior = GMMPrior()
    prior.mixture = Mixture(*(torch.from_numpy(a) for a in (means, covars, weights)))
    expected = (weights[:, None] * means).sum(axis=0) / weights.sum()
    start = prior.initial_pose(3)
    assert start.shape == (3, 21, 3) and start.dtype == torch.float32
    for row in start:
        np.testing.assert_allclose(row.reshape(63).numpy(), expected, rtol=1e-6, atol=1e-7)
    assert "mean pose" in prior.initial_pose_description


def test_shipped_gmm_mean_pose_is_more_plausible_than_the_rest_pose():
    prior = posebench.load_prior("gmm")
    mixture = prior.mixture
    assert mixture is not None
    weights, means = mixture.weights.numpy(), mixture.means.numpy()
    expected = (weights @ means / weights.sum()).reshape(21, 3)
    start = prior.initial_pose(2)
    np.testing.assert_allclose(start[1].numpy(), expected, rtol=1e-6, atol=1e-7)
    assert prior.energy(start[:1]) < prior.energy(torch.zeros(1, 21, 3))


def _shipped_vposer() -> VPoserPrior:
    if VPoserPrior().default_checkpoint() is None:
        pytest.skip("no shipped vposer checkpoint")
    prior = posebench.load_prior("vposer")
    assert isinstance(prior, VPoserPrior)
    return prior


def test_vposer_starts_at_the_zero_latent_and_its_decoding():
    prior = _shipped_vposer()
    assert torch.equal(prior.initial_latent(3), torch.zeros(3, 32))
    start = prior.initial_pose(3)
    assert start.shape == (3, 21, 3)
    torch.testing.assert_close(start, prior.decode(torch.zeros(3, 32)))
    assert "z = 0" in prior.initial_pose_description


def test_posendf_start_is_the_projected_rest_pose_deterministic_and_closer():
    prior = posebench.load_prior("posendf")
    start = prior.initial_pose(2)
    assert start.shape == (2, 21, 3) and torch.equal(start[0], start[1])
    assert torch.equal(prior.initial_pose(2), start)  # no randomness
    torch.testing.assert_close(prior.initial_pose(5)[:2], start)  # the batch size plays no part
    torch.testing.assert_close(start[:1], prior.project(torch.zeros(1, 21, 3)))
    rest = torch.zeros(1, 21, 3)
    assert prior.energy(start[:1]) < prior.energy(rest)
    assert not torch.equal(start[:1], rest)
    assert "projected" in prior.initial_pose_description
