"""The denoise task end to end on the test plugin's motion, and its motion-fitting pieces."""

from __future__ import annotations

import pytest
import roma
import torch

import posebench
from posebench.core.progress import NullProgress
from posebench.fitting.motion import rigid_root_init
from posebench.tasks.denoise import DenoiseTask
from posebench.testing import check_task


@pytest.fixture
def parts(toy_plugin):
    return toy_plugin.ToyPoses(), toy_plugin.ToyStickBody(), toy_plugin.ToyGaussPrior()


def run(task, prior, dataset, body, protocol, seed=0, **overrides):
    config = task.config(protocol, overrides, quick=True)
    return task.run(prior, dataset, body, config, torch.device("cpu"), seed, NullProgress())


def test_rigid_root_init_recovers_a_known_root(parts):
    _, body, _ = parts
    root = torch.tensor([[0.3, 2.5, -0.2], [0.0, -1.0, 0.1]])
    trans = torch.tensor([[1.0, 0.1, -2.0], [0.0, 0.0, 0.5]])
    joints = body(torch.zeros(2, 21, 3), root, trans).joints
    found_root, found_trans = rigid_root_init(body, joints)
    torch.testing.assert_close(
        roma.rotvec_to_rotmat(found_root), roma.rotvec_to_rotmat(root), atol=1e-5, rtol=0
    )
    torch.testing.assert_close(found_trans, trans, atol=1e-5, rtol=0)


def test_humor_protocol_denoises_joint_noise(parts):
    dataset, body, _ = parts
    task = DenoiseTask()
    result = run(task, posebench.load_prior("none"), dataset, body, "humor",
                 optimiser={"root_steps": 30, "frame_steps": 60, "steps": 60})  # fmt: skip
    metrics = result.metrics
    assert 35 < metrics["noisy_mpjpe_mm"] < 80  # σ = 40 mm per axis: E‖ε‖ ≈ 64 mm
    assert metrics["mpjpe_mm"] < 0.8 * metrics["noisy_mpjpe_mm"]
    assert metrics["accel_error"] < 0.2 * metrics["noisy_accel_error"]
    assert metrics["mpvpe_mm"] is None  # a skeleton-only body has no vertices
    assert metrics["mpjpe_vs_none_mm"] == 0.0
    assert result.details["windows"] == 2 and result.inputs_hash
    assert result.details["noise"]["params"] == {"sigma": 0.04}


def test_rotation_protocol_keeps_the_root_and_starts_from_the_noisy_pose(parts):
    dataset, body, prior = parts
    task = DenoiseTask()
    result = run(task, prior, dataset, body, "rotation-0.5", compare_to_none=True)
    assert result.details["noise"]["params"] == {"sigma": 0.5}
    assert result.metrics["noisy_mpjpe_mm"] > result.metrics["mpjpe_mm"]
    low, high = result.details["mpjpe_vs_none_ci95_mm"]
    assert low <= result.metrics["mpjpe_vs_none_mm"] <= high


def test_noise_depends_on_seed_and_protocol(parts):
    dataset, body, _ = parts
    task, prior = DenoiseTask(), posebench.load_prior("none")
    few = {"optimiser": {"root_steps": 1, "frame_steps": 1, "steps": 1}}
    first = run(task, prior, dataset, body, "humor", seed=0, **few)
    assert run(task, prior, dataset, body, "humor", seed=0, **few).inputs_hash == first.inputs_hash
    assert run(task, prior, dataset, body, "humor", seed=1, **few).inputs_hash != first.inputs_hash


@pytest.mark.slow
def test_denoise_keeps_the_task_contract(parts):
    dataset, body, prior = parts
    check_task(DenoiseTask(), prior, dataset, body)


def test_too_short_motion_is_a_clear_error(parts):
    dataset, body, prior = parts
    with pytest.raises(posebench.core.errors.InputError, match="no sequence of 600 frames"):
        run(DenoiseTask(), prior, dataset, body, "humor", window={"length": 600})
