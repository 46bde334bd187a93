"""NRDF's geometry on 21 unit quaternions, checked against definitions written out here."""

from __future__ import annotations

import math

import torch

from posebench.body.rotations import axis_angle_to_quat
from posebench.priors.nrdf.geometry import (
    canonical,
    geodesic_distance,
    perturb,
    random_starts,
    riemannian_step,
)


def generator(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_distance_is_the_mean_half_angle_and_ignores_the_quaternion_sign():
    rest = axis_angle_to_quat(torch.zeros(1, 21, 3))
    turned = torch.zeros(1, 21, 3)
    turned[0, :, 2] = torch.linspace(0.0, 2.0, 21)  # joint j turned by its angle about z
    quat = axis_angle_to_quat(turned)
    expected = torch.linspace(0.0, 2.0, 21).mean() / 2
    assert torch.allclose(geodesic_distance(quat, rest), expected[None], atol=1e-6)
    assert torch.allclose(geodesic_distance(-quat, rest), expected[None], atol=1e-6)


def test_perturbation_moves_a_pose_by_half_the_drawn_distance():
    start = canonical(random_starts(256, 1.0, generator(1)).double())  # float64: arccos near 1
    distance = torch.rand(256, generator=generator(2), dtype=torch.float64) * 0.1
    moved = perturb(start, distance, generator(3))  # joint angles stay below π
    assert torch.allclose(moved.norm(dim=-1), torch.ones(256, 21, dtype=torch.float64))
    assert torch.allclose(geodesic_distance(moved, start), distance / 2, atol=1e-7)
    backwards = perturb(start, -distance, generator(3))
    assert torch.allclose(geodesic_distance(backwards, start), distance / 2, atol=1e-7)


def test_starts_are_unit_quaternions_in_the_upper_hemisphere_spread_as_asked():
    starts = random_starts(4096, 1.0, generator(4))
    assert starts.shape == (4096, 21, 4)
    assert torch.allclose(starts.norm(dim=-1), torch.ones(4096, 21), atol=1e-5)
    assert (starts[..., 0] >= 0).all()
    rest = torch.zeros(1, 21, 4)
    rest[..., 0] = 1.0
    spread = geodesic_distance(starts, rest)  # |d| / 2 with d ~ N(0, 1) (angles below π)
    assert abs(float(spread.mean()) - math.sqrt(2 / math.pi) / 2) < 0.02


def test_riemannian_descent_keeps_unit_quaternions_and_approaches_a_known_pose():
    target = random_starts(64, 1.0, generator(5))
    pose = canonical(perturb(target, torch.full((64,), 1.0), generator(6)))

    def field(quat):  # the true distance to the target pose, kept differentiable at 0
        dots = (quat * target).sum(dim=-1).abs().clamp(max=1 - 1e-7)
        return torch.arccos(dots).mean(dim=-1)

    before = geodesic_distance(pose, target)
    for _ in range(300):
        query = pose.clone().requires_grad_(True)
        distance = field(query)
        (gradient,) = torch.autograd.grad(distance.sum(), query)
        pose = riemannian_step(pose, gradient, distance.detach(), step_size=0.05)
        assert torch.allclose(pose.norm(dim=-1), torch.ones(64, 21), atol=1e-5)
        assert (pose[..., 0] >= 0).all()
    after = geodesic_distance(pose, target)
    assert (after < before).all()
    assert float(after.mean()) < 0.05 * float(before.mean())


def test_a_step_is_proportional_to_the_predicted_distance():
    pose = random_starts(8, 1.0, generator(7))
    gradient = torch.randn(8, 21, 4, generator=generator(8))
    near = riemannian_step(pose, gradient, torch.full((8,), 0.01), step_size=1.0)
    far = riemannian_step(pose, gradient, torch.full((8,), 0.1), step_size=1.0)
    moved_near, moved_far = geodesic_distance(near, pose), geodesic_distance(far, pose)
    assert torch.allclose(moved_far, 10 * moved_near, rtol=1e-2)
    still = riemannian_step(pose, gradient, torch.zeros(8), step_size=1.0)
    assert torch.allclose(still, pose, atol=1e-6)
