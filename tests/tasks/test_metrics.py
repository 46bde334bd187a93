"""Metric functions on hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
import roma
import torch

from posebench.tasks import metrics


def test_mpjpe_is_the_mean_euclidean_error_in_mm():
    target = torch.zeros(2, 5, 22, 3)
    pred = target + torch.tensor([0.003, 0.004, 0.0])
    torch.testing.assert_close(metrics.mpjpe_mm(pred, target), torch.tensor([5.0, 5.0]))


def test_acceleration_error():
    time = torch.arange(10.0)[None, :, None, None]
    constant_velocity = time * torch.tensor([0.01, 0.0, 0.0])
    assert metrics.accel_error_mm(constant_velocity + 0.5, constant_velocity).item() < 1e-4
    bumped = constant_velocity.clone()
    bumped[0, 5, 0, 1] += 0.001  # 1 mm bump: second differences 1, -2, 1 mm at frames 4, 5, 6
    assert metrics.accel_error_mm(bumped, constant_velocity).item() == pytest.approx(
        4 / 8, rel=1e-5
    )


def test_procrustes_undoes_a_similarity_transform():
    target = torch.randn(3, 14, 3, dtype=torch.float64)
    rotation = roma.random_rotmat(3, dtype=torch.float64)
    moved = 1.7 * target @ rotation.transpose(1, 2) + torch.tensor(
        [0.3, -1.0, 2.0], dtype=torch.float64
    )
    torch.testing.assert_close(metrics.procrustes_align(moved, target), target)


def test_bootstrap_interval_over_single_items():
    constant = {str(i): [2.5] for i in range(10)}
    assert metrics.cluster_bootstrap_mean(constant, seed=0) == (2.5, 2.5, 2.5)
    spread = {str(i): [float(i)] for i in range(100)}
    mean, low, high = metrics.cluster_bootstrap_mean(spread, seed=0)
    assert mean == 49.5 and low < 49.5 < high and high - low == pytest.approx(11.3, abs=1.5)


def test_bootstrap_interval_is_over_clips_not_windows():
    """Two clips of 50 windows each, every window of a clip alike: 100 windows but two units."""
    clips = {"a": [10.0] * 50, "b": [20.0] * 50}
    mean, low, high = metrics.cluster_bootstrap_mean(clips, seed=0)
    assert mean == 15.0 and (low, high) == (10.0, 20.0)  # resampling clips: all-a to all-b
    windows = {str(i): [v] for i, v in enumerate(clips["a"] + clips["b"])}
    _, low_w, high_w = metrics.cluster_bootstrap_mean(windows, seed=0)
    assert high_w - low_w < 0.25 * (high - low)  # treating windows as independent overstates
    unequal = {"a": [1.0] * 3, "b": [4.0]}  # the mean is over windows, not a mean of clip means
    assert metrics.cluster_bootstrap_mean(unequal, seed=0)[0] == 1.75


def test_apd_of_two_poses_one_centimetre_apart():
    joints = torch.zeros(2, 22, 3)
    joints[1, :, 2] = 0.01
    assert metrics.average_pairwise_distance_cm(joints) == pytest.approx(1.0)
    three = torch.zeros(3, 22, 3)
    three[1, :, 0], three[2, :, 0] = 0.01, 0.03  # pair distances 1, 3, 2 cm
    assert metrics.average_pairwise_distance_cm(three) == pytest.approx(2.0)


def test_frechet_distance_of_a_shifted_copy_is_the_squared_shift():
    x = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
    cov = np.cov(x, rowvar=False)
    assert metrics.frechet_distance(x, np.zeros(2), cov) == pytest.approx(0.0, abs=1e-9)
    assert metrics.frechet_distance(x, np.array([3.0, 4.0]), cov) == pytest.approx(25.0)
    # different covariances: FD = tr(S1 + S2 - 2 (S1 S2)^½) for diagonal S: Σ (√a - √b)²
    assert metrics.frechet_distance(x, np.zeros(2), 4 * cov) == pytest.approx(
        2 * (math.sqrt(2 / 3) - 2 * math.sqrt(2 / 3)) ** 2
    )


def test_precision_recall_extremes():
    real = torch.randn(200, 63, generator=torch.Generator().manual_seed(0))
    assert metrics.precision_recall(real, real.clone()) == (1.0, 1.0)
    assert metrics.precision_recall(real, real + 100.0) == (0.0, 0.0)
    half = torch.cat([real[:100], real[:100] + 100.0])
    precision, _ = metrics.precision_recall(real, half)
    assert precision == 0.5


def test_dnn_is_the_summed_joint_angle_to_the_nearest_reference():
    reference = 0.3 * torch.randn(50, 21, 3, generator=torch.Generator().manual_seed(1))
    assert metrics.nearest_neighbour_geodesic(reference[:5], reference).abs().max() < 1e-6
    moved = reference[:1].clone()
    moved[0, 4] = roma.rotvec_composition([moved[0, 4], torch.tensor([0.0, 0.0, 0.25])])
    assert metrics.nearest_neighbour_geodesic(moved, reference).item() == pytest.approx(
        0.25, abs=1e-5
    )


# --------------------------------------------------------------------------- captured joints


def test_joint_positions_below_an_uncaptured_rotation_are_not_scored() -> None:
    """DeepMimic captures no collar: the shoulders, elbows and wrists hang from it."""
    from posebench.body.base import SMPL22_JOINT_NAMES

    captured = torch.ones(22, dtype=torch.bool)
    for name in ("left_collar", "right_collar", "left_wrist", "right_wrist"):
        captured[SMPL22_JOINT_NAMES.index(name)] = False
    positions = metrics.position_joints(captured)
    lost = {n for n, kept in zip(SMPL22_JOINT_NAMES, positions.tolist(), strict=True) if not kept}
    assert lost == {f"{s}_{j}" for s in ("left", "right") for j in ("shoulder", "elbow", "wrist")}
    assert bool(metrics.position_joints(torch.ones(2, 22, dtype=torch.bool)).all())


def test_masked_errors_average_over_the_kept_joints_only() -> None:
    target = torch.zeros(2, 5, 22, 3)
    pred = target.clone()
    pred[..., 3, 0] = 0.5  # a large error on joint 3 only
    pred[..., 0, 0] = 0.01  # 10 mm on the pelvis
    keep = torch.ones(2, 22, dtype=torch.bool)
    keep[1, 3] = False
    error = metrics.mpjpe_mm(pred, target, keep)
    assert error[0] == pytest.approx((500 + 10) / 22)
    assert error[1] == pytest.approx(10 / 21)
    torch.testing.assert_close(metrics.mpjpe_mm(pred, target), metrics.mpjpe_mm(pred, target, None))
    aligned = metrics.procrustes_align(pred[:, 0], target[:, 0], keep)
    assert aligned.shape == (2, 22, 3)


def test_geodesic_neighbour_distance_on_a_joint_subset() -> None:
    generator = torch.Generator().manual_seed(0)
    reference = 0.3 * torch.randn(50, 21, 3, generator=generator)
    poses = reference[:4].clone()
    poses[:, 5] += 1.0  # differ on one joint only
    full = metrics.nearest_neighbour_geodesic(poses, reference)
    keep = torch.ones(21, dtype=torch.bool)
    keep[5] = False
    masked = metrics.nearest_neighbour_geodesic(poses, reference, joints=keep)
    assert bool((full > 0.1).all()) and float(masked.abs().max()) < 1e-5
