"""The original project's commands for any prior: sample, project, interpolate, denoise."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from cli_runner import cli

from posebench.body.anny import AnnyBody
from posebench.datasets.pose_files import read_motion, read_poses, write_poses
from posebench.priors.gmm.mixture import Mixture
from posebench.priors.gmm.prior import GMMPrior


@pytest.fixture
def gmm_file(tmp_path):
    generator = torch.Generator().manual_seed(0)
    means = 0.2 * torch.randn(2, 63, generator=generator, dtype=torch.float64)
    covars = 0.01 * torch.eye(63, dtype=torch.float64).expand(2, 63, 63).clone()
    prior = GMMPrior()
    prior.mixture = Mixture(means, covars, torch.tensor([0.5, 0.5], dtype=torch.float64))
    prior.plausible_energy = -1e9  # project all the way: nothing counts as plausible
    path = tmp_path / "gmm.pkl"
    prior.save(path)
    return path


def test_sample_then_project_with_saved_steps(capsys, tmp_path, gmm_file):
    samples, projected = tmp_path / "s.npz", tmp_path / "p.npz"
    code, _out, err = cli(capsys, "sample", "--prior", "gmm", "--checkpoint", str(gmm_file),
                         "--n", "6", "--out", str(samples), "--seed", "3")  # fmt: skip
    assert code == 0, err
    data = np.load(samples)
    assert data["pose_body"].shape == (6, 63) and data["pose"].shape == (6, 21, 4)
    assert (data["pose"][..., 0] >= 0).all() and data["energy"].shape == (6,)
    assert json.loads(str(data["meta"]))["checkpoint"] == str(gmm_file)
    torch.testing.assert_close(
        read_poses(samples), torch.from_numpy(data["pose_body"]).reshape(6, 21, 3)
    )

    code, _, err = cli(capsys, "project", "--prior", "gmm", "--checkpoint", str(gmm_file),
                       "--input", str(samples), "--out", str(projected), "--steps", "5", "--save-steps")  # fmt: skip
    assert code == 0, err
    result = np.load(projected)
    assert result["steps_pose_body"].shape == (6, 6, 63)
    np.testing.assert_allclose(result["steps_pose_body"][-1], result["pose_body"], atol=1e-6)
    assert (np.diff(result["steps_energy"], axis=0) <= 1e-3).all()  # energy never rises
    assert (result["energy"] <= result["energy_before"]).all()


def test_quaternion_input_is_read_like_axis_angle(tmp_path):
    pose = 0.4 * torch.randn(3, 21, 3, generator=torch.Generator().manual_seed(0))
    write_poses(tmp_path / "a.npz", pose, {})
    np.savez(tmp_path / "q.npz", pose=np.load(tmp_path / "a.npz")["pose"])
    torch.testing.assert_close(read_poses(tmp_path / "q.npz"), pose, atol=1e-5, rtol=0)


def test_interpolate_pairs(capsys, tmp_path):
    pose = 0.3 * torch.randn(4, 21, 3, generator=torch.Generator().manual_seed(1))
    write_poses(tmp_path / "pairs.npz", pose, {})
    code, _, err = cli(capsys, "interpolate", "--prior", "none", "--input", str(tmp_path / "pairs.npz"),
                       "--out", str(tmp_path / "i.npz"), "--steps", "4")  # fmt: skip
    assert code == 0, err
    path = np.load(tmp_path / "i.npz")["path_pose_body"].reshape(5, 2, 21, 3)
    np.testing.assert_allclose(path[0], pose[0::2].numpy(), atol=1e-5)
    np.testing.assert_allclose(path[-1], pose[1::2].numpy(), atol=1e-5)


@pytest.mark.slow
def test_denoise_a_users_motion(capsys, tmp_path):
    body = AnnyBody()
    time = torch.arange(40.0)[:, None, None] / 30
    clean = 0.3 * torch.sin(2 * time + torch.linspace(0, 3, 63).reshape(1, 21, 3))
    with torch.no_grad():
        joints = body(clean).joints
    noisy = joints + 0.02 * torch.randn(joints.shape, generator=torch.Generator().manual_seed(0))
    np.savez(tmp_path / "motion.npz", joints=noisy.numpy(), fps=30.0)
    config = tmp_path / "fast.yaml"
    config.write_text("optimiser: {root_steps: 20, frame_steps: 60, steps: 40}\n")
    code, _out, err = cli(capsys, "denoise", "--prior", "none", "--input", str(tmp_path / "motion.npz"),
                         "--out", str(tmp_path / "d.npz"), "--task-config", str(config), "--quiet")  # fmt: skip
    assert code == 0, err
    result = np.load(tmp_path / "d.npz")
    assert result["pose_body"].shape == (40, 63) and result["joints"].shape == (40, 22, 3)
    before = np.linalg.norm(noisy.numpy() - joints.numpy(), axis=-1).mean()
    after = np.linalg.norm(result["joints"] - joints.numpy(), axis=-1).mean()
    assert after < before


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"pose_body": np.zeros((5, 60))}, "expected (N, 63)"),
        ({"pose_body": np.full((5, 63), np.nan)}, "NaN"),
        ({"poses": np.zeros((5, 63))}, "has none of pose_body, pose"),
        ({"pose": np.zeros((5, 21, 4))}, "zero-length quaternions"),
    ],
)
def test_bad_pose_files_are_one_line_errors(capsys, tmp_path, arrays, message):
    np.savez(tmp_path / "bad.npz", **arrays)
    code, _, err = cli(capsys, "project", "--prior", "none", "--input", str(tmp_path / "bad.npz"),
                       "--out", str(tmp_path / "o.npz"))  # fmt: skip
    assert (
        code == 2 and err.count("\n") == 1 and message in err and str(tmp_path / "bad.npz") in err
    )
    assert not (tmp_path / "o.npz").exists()


def test_bad_motion_files(tmp_path):
    np.savez(tmp_path / "m.npz", pose_body=np.zeros((10, 63)), trans=np.zeros((9, 3)))
    with pytest.raises(Exception, match=r"'trans' has shape \(9, 3\); expected \(10, 3\)"):
        read_motion(tmp_path / "m.npz")
    (tmp_path / "junk.npz").write_bytes(b"junk")
    with pytest.raises(Exception, match="not a readable .npz"):
        read_motion(tmp_path / "junk.npz")


def test_odd_number_of_poses_cannot_be_paired(capsys, tmp_path):
    write_poses(tmp_path / "three.npz", torch.zeros(3, 21, 3), {})
    code, _, err = cli(capsys, "interpolate", "--prior", "none", "--input", str(tmp_path / "three.npz"),
                       "--out", str(tmp_path / "o.npz"))  # fmt: skip
    assert code == 2 and "start-end pairs" in err
