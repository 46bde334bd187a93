"""The published denoising objectives (posendf, dposer protocols): terms, weights, setups."""

from __future__ import annotations

import pytest
import torch

import posebench
from posebench.core.errors import ConfigError
from posebench.core.progress import NullProgress
from posebench.datasets.embedded import EmbeddedDataset
from posebench.fitting.motion import fit_windows
from posebench.fitting.published import (
    PublishedObjective,
    data_cost,
    fit_published,
    prior_cost,
    published_loss,
    temporal_cost,
)
from posebench.priors.gmm.mixture import Mixture
from posebench.priors.gmm.prior import GMMPrior
from posebench.tasks.denoise import DenoiseTask, motion_windows

FEW = {"objective": {"outer_iterations": 2, "steps": 5}}


@pytest.fixture
def parts(toy_plugin):
    return toy_plugin.ToyPoses(), toy_plugin.ToyStickBody(), toy_plugin.ToyGaussPrior()


def objective(protocol: str = "posendf", **overrides) -> PublishedObjective:
    config = DenoiseTask().config(protocol, {"objective": overrides} if overrides else None)
    return PublishedObjective.from_config(config["objective"])


def test_the_protocols_carry_the_published_schedules():
    posendf, dposer = objective("posendf"), objective("dposer")
    assert (posendf.outer_iterations, posendf.steps, posendf.lr) == (5, 50, 0.03)
    assert (dposer.outer_iterations, dposer.steps, dposer.lr) == (3, 60, 0.03)
    assert posendf.adam_betas == dposer.adam_betas == (0.9, 0.999)
    assert posendf.prior_power == dposer.prior_power == 2
    config = DenoiseTask().config("dposer")
    assert config["window"]["fps"] is None and config["pose_only"] and not config["fit_root"]
    assert config["noise"] == {"model": "humor", "sigma": 0.04}
    assert DenoiseTask().config("humor")["objective"]["form"] == "posebench"


def test_weights_per_outer_iteration():
    fit = objective()
    weights = [fit.weights(it, 1e5) for it in range(5)]
    assert weights == [
        (10.0, 100.0, 1e5),
        (20.0, 50.0, 2e5),
        (30.0, 20.0, 3e5),
        (40.0, 10.0, 4e5),
        (50.0, 100.0 / 17, 5e5),
    ]


def test_terms_on_hand_checkable_inputs():
    # one window, two frames, 22 joints: every joint 3-4-0 (5 m) from its observation in
    # frame 0 and on it in frame 1; the points move by (0, 0, 2) between the frames
    observed = torch.zeros(1, 2, 22, 3)
    joints = observed.clone()
    joints[0, 0] = torch.tensor([3.0, 4.0, 0.0])
    assert data_cost(joints, observed).tolist() == [2.5]  # mean of 5 and 0: unsquared
    points = torch.zeros(1, 2, 5, 3)
    points[0, 1, :, 2] = 2.0
    assert temporal_cost(points).tolist() == [2.0]
    energy = torch.tensor([[1.0, 3.0]])
    assert prior_cost(energy, floor=0.0).tolist() == [2.0]
    assert prior_cost(energy, floor=2.0).tolist() == [0.5]  # (0 clamped, 1) -> 0.5

    fit = objective()
    loss, costs = published_loss(fit, 1, 10.0, joints, points, observed, energy)
    # it = 1: 20 · 2 + 50 · 2.5 + (10 · 2) · 2² = 40 + 125 + 80
    assert float(loss) == pytest.approx(245.0)
    assert set(costs) == {"temporal", "data", "prior"}


def test_the_prior_term_is_squared_and_the_data_term_is_not():
    fit = objective()
    observed = torch.zeros(1, 3, 22, 3)
    still = torch.zeros(1, 3, 4, 3)
    energy = torch.full((1, 3), 0.5)

    def prior_part(e: torch.Tensor) -> float:
        with_prior, _ = published_loss(fit, 0, 7.0, observed, still, observed, e)
        without, _ = published_loss(fit, 0, 0.0, observed, still, observed, e)
        return float(with_prior - without)

    assert prior_part(2 * energy) == pytest.approx(4 * prior_part(energy))

    def data_part(offset: float) -> float:
        loss, _ = published_loss(fit, 0, 0.0, observed + offset, still, observed, None)
        return float(loss)

    assert data_part(0.2) == pytest.approx(2 * data_part(0.1))


def test_a_negative_energy_is_clamped_not_squared():
    assert prior_cost(torch.tensor([[-3.0, -1.0]]), floor=0.0).tolist() == [0.0]
    energy = torch.tensor([[-3.0, 1.0]], requires_grad=True)
    prior_cost(energy, floor=0.0).pow(2).sum().backward()
    assert energy.grad is not None and energy.grad[0, 0] == 0.0 and energy.grad[0, 1] > 0


def test_gmm_energy_infimum_is_its_smallest_energy():
    prior = GMMPrior()
    means = torch.stack([torch.zeros(63), torch.full((63,), 0.3)]).double()
    covars = torch.stack([torch.eye(63), 0.5 * torch.eye(63)]).double()
    prior.mixture = Mixture(means, covars, torch.tensor([0.3, 0.7]).double())
    infimum = prior.energy_infimum()
    assert infimum is not None and infimum > 50  # includes D/2 log 2π
    at_means = prior.energy(means.float().reshape(2, 21, 3))
    assert float(at_means.min()) == pytest.approx(infimum, rel=1e-6)
    poses = 0.3 * torch.randn(64, 21, 3, generator=torch.Generator().manual_seed(0))
    assert bool((prior.energy(poses) >= infimum - 1e-4).all())


def test_published_config_is_checked():
    config = DenoiseTask().config("posendf")
    config["objective"]["adam_state"] = "reset"
    with pytest.raises(ConfigError, match="adam_state"):
        PublishedObjective.from_config(config["objective"])
    config = DenoiseTask().config("humor", {"objective": {"form": "published"}})
    with pytest.raises(ConfigError, match="needs outer_iterations"):
        PublishedObjective.from_config(config["objective"])


def test_windows_are_fitted_independently_and_adam_state_matters(parts):
    _, body, prior = parts
    generator = torch.Generator().manual_seed(0)
    init = 0.2 * torch.randn(2, 6, 21, 3, generator=generator)
    root = (torch.zeros(2, 6, 3), torch.zeros(2, 6, 3))
    observed = body(init.reshape(-1, 21, 3)).joints.reshape(2, 6, 22, 3) + 0.01
    fit = objective(outer_iterations=2, steps=3)
    both = fit_published(prior, 1.0, body, observed, fit, init, root).pose_body
    first = fit_published(prior, 1.0, body, observed[:1], fit, init[:1], (root[0][:1],
                          root[1][:1])).pose_body  # fmt: skip
    torch.testing.assert_close(both[:1], first, atol=1e-6, rtol=0)
    fresh = objective(outer_iterations=2, steps=3, adam_state="fresh")
    other = fit_published(prior, 1.0, body, observed, fresh, init, root).pose_body
    assert not torch.allclose(other, both)


def test_native_rate_windows_have_the_source_rate(parts):
    dataset, _, _ = parts
    config = DenoiseTask().config("dposer")
    windows = motion_windows(dataset, config)
    assert len(windows) == 4 and {w.fps for w in windows} == {60.0}  # 2 × 150 frames at 60 Hz
    assert all(len(w) == 60 for w in windows)
    house = motion_windows(dataset, DenoiseTask().config("humor"))
    assert {w.fps for w in house} == {30.0}


def test_embedded_native_rate_windows_include_every_rate():
    dataset = EmbeddedDataset()
    config = DenoiseTask().config("dposer")
    rates = {w.fps for w in motion_windows(dataset, config)}
    assert 24.0 in rates and 120.0 in rates  # the 24 Hz clip has no 30 Hz windows
    assert all(s.fps % 30 == 0 for s in dataset.sequences("test"))


def test_dposer_poses_without_root_and_keeps_it_zero(parts):
    dataset, body, prior = parts
    task = DenoiseTask()
    config = task.config("dposer", FEW, quick=True)
    inputs = task.prepare(dataset, body, config, torch.device("cpu"), 0)
    assert inputs.root is not None
    assert not inputs.root[0].any() and not inputs.root[1].any()
    rest_pelvis = body(torch.zeros(1, 21, 3)).joints[0, 0]
    torch.testing.assert_close(inputs.gt.joints[:, :, 0], rest_pelvis.expand_as(
        inputs.gt.joints[:, :, 0]))  # fmt: skip
    assert inputs.init_pose is not None and 0.005 < float(inputs.init_pose.std()) < 0.015
    fit, _ = fit_windows(prior, 1.0, body, inputs.noisy_out.joints, config,
                         inputs.init_pose, inputs.root)  # fmt: skip
    assert not fit.root_orient.any() and not fit.trans.any()
    assert fit.steps == 10


@pytest.mark.parametrize("protocol", ["posendf", "dposer"])
def test_published_protocols_run_end_to_end(parts, protocol):
    dataset, body, _ = parts
    task = DenoiseTask()
    config = task.config(protocol, FEW, quick=True)
    result = task.run(
        posebench.load_prior("none"), dataset, body, config, torch.device("cpu"), 0,
        NullProgress(),
    )  # fmt: skip
    metrics = result.metrics
    assert metrics["mpjpe_mm"] < 0.9 * metrics["noisy_mpjpe_mm"]
    assert result.energy_weight == 0.0 and result.details["energy_weight_key"] == (
        "denoise-posendf"
    )
    assert result.details["iterations"]["adam_steps_per_batch"] == 10
    assert result.details["windows"] == 2
