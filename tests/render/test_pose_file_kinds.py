"""Every kind of pose file is read alike by ``posebench render`` and ``posebench view``: fit-image
files (new and old), AMASS motion files, and pose files; each drawn upright."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from cli_runner import cli

from posebench.core.errors import InputError, PosebenchWarning
from posebench.core.npzio import write_npz
from posebench.datasets.pose_files import read_pose_file, read_poses, write_poses
from posebench.render import RenderSettings, decode_png
from posebench.render.files import render_file
from posebench.viz.frames import Track
from posebench.viz.inputs import read_input

pytestmark = pytest.mark.usefixtures("one_thread")

SIZE = 48
HEAD, PELVIS = 15, 0


def bent_pose(n: int = 1) -> torch.Tensor:
    """Arms down and one knee bent, so that upside-down or mirrored pictures differ."""
    pose = torch.zeros(n, 21, 3)
    pose[:, 15, 2], pose[:, 16, 2] = -1.2, 1.2  # shoulders down
    pose[:, 3, 0] = 1.0  # left knee
    return pose


def fit_arrays(pose: torch.Tensor, old: bool = False) -> dict[str, np.ndarray]:
    """A fit-image file's arrays for one pose facing the camera (a half turn about x: the body's
    y up is the camera's y down); ``old`` writes them as fit-image did before pose_body."""
    root = np.array([[math.pi, 0.0, 0.0]], np.float32)
    transl = np.array([[0.0, 0.2, 4.0]], np.float32)
    arrays = {
        "camera": np.array([1000.0, 320.0, 240.0]),
        "image_size": np.array([640, 480]),
        "keypoints_fitted": np.zeros((25, 2), np.float32),
        "keypoints_observed": np.ones((25, 3), np.float32),
        "kp2d_error_px": np.array(3.0),
    }
    if old:
        return {"pose": pose[0].numpy(), "root_orient": root[0], "transl": transl[0], **arrays}
    return {"pose_body": pose.reshape(1, 63).numpy(), "root_orient": root, "transl": transl,
            **arrays}  # fmt: skip


def silhouette(path) -> np.ndarray:
    return (decode_png(path.read_bytes()) < 250).any(axis=-1)


def overlap(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


@pytest.fixture(scope="module")
def reference(body, tmp_path_factory) -> np.ndarray:
    """The silhouette of :func:`bent_pose` in posebench's own axes (no root)."""
    folder = tmp_path_factory.mktemp("reference")
    write_poses(folder / "poses.npz", bent_pose(), {})
    render_file(folder / "poses.npz", folder / "out", body, RenderSettings(size=SIZE))
    return silhouette(folder / "out" / "pose_0000.png")


# --- fit-image files ---------------------------------------------------------------------------


def test_fit_file_is_a_one_pose_file_drawn_upright(body, reference, tmp_path):
    path = tmp_path / "photo_fit.npz"
    write_npz(path, fit_arrays(bent_pose()), {})
    torch.testing.assert_close(read_poses(path), bent_pose())
    source = read_pose_file(path)
    assert source.motion is not None and source.motion.world == "camera"
    assert source.motion.trans is not None  # transl is read as trans
    render_file(path, tmp_path / "out", body, RenderSettings(size=SIZE))
    assert overlap(silhouette(tmp_path / "out" / "pose_0000.png"), reference) > 0.97
    (view_body,) = read_input(str(path)).bodies
    joints = Track(view_body, body, 0.0, None).joints(0)
    assert joints[HEAD, 1] - joints[PELVIS, 1] > 0.3  # upright in the viewer too


def test_old_fit_file_is_read_with_a_one_line_warning(body, capsys, reference, tmp_path):
    path = tmp_path / "old_fit.npz"
    np.savez(path, **fit_arrays(bent_pose(), old=True))
    with pytest.warns(PosebenchWarning, match="old posebench fit-image file.*pose_body"):
        torch.testing.assert_close(read_poses(path), bent_pose())
    code, _, err = cli(capsys, "render", "--input", str(path), "--out", str(tmp_path / "out"),
                       "--size", str(SIZE))  # fmt: skip
    assert code == 0, err
    assert err.startswith("posebench: warning:") and len(err.strip().splitlines()) == 1
    assert "axis-angle" in err and "rename the key to pose_body" in err
    assert overlap(silhouette(tmp_path / "out" / "pose_0000.png"), reference) > 0.97


def test_axis_angle_under_pose_elsewhere_is_a_one_line_error(tmp_path):
    np.savez(tmp_path / "poses.npz", pose=np.zeros((2, 63), np.float32))
    with pytest.raises(InputError, match="axis-angle poses go under pose_body") as error:
        read_poses(tmp_path / "poses.npz")
    assert "\n" not in str(error.value)


# --- AMASS files -------------------------------------------------------------------------------


def amass_file(path, columns: int, rate_key: str = "mocap_framerate", frames: int = 3) -> None:
    """AMASS's layout: the body pose at poses[:, 3:66], the root turned so the body is z up."""
    poses = np.zeros((frames, columns), np.float32)
    poses[:, 3:66] = bent_pose(frames).reshape(frames, 63).numpy()
    poses[:, 0] = math.pi / 2  # +90 deg about x: the body's y up becomes z up
    trans = np.zeros((frames, 3), np.float32)
    trans[:, 2] = 0.9
    np.savez(path, poses=poses, trans=trans, betas=np.zeros(16, np.float32),
             gender=np.array("neutral"), **{rate_key: np.array(120.0)})  # fmt: skip


@pytest.mark.parametrize(
    ("columns", "rate_key"),
    [(156, "mocap_framerate"), (165, "mocap_frame_rate"), (72, "mocap_framerate")],
)
def test_render_draws_amass_files_upright(body, capsys, reference, tmp_path, columns, rate_key):
    amass_file(tmp_path / "walk_poses.npz", columns, rate_key)
    out = tmp_path / "out"
    code, stdout, err = cli(capsys, "render", "--input", str(tmp_path / "walk_poses.npz"),
                            "--out", str(out), "--size", str(SIZE))  # fmt: skip
    assert code == 0, err
    assert "3 pictures" in stdout and (out / "grid.png").is_file()
    assert overlap(silhouette(out / "pose_0002.png"), reference) > 0.97
    # view reads the very same poses and frame rate from it
    view_input = read_input(str(tmp_path / "walk_poses.npz"))
    (view_body,) = view_input.bodies
    assert view_input.fps == 120.0 and view_body.z_up
    assert view_body.pose_body is not None
    torch.testing.assert_close(view_body.pose_body, bent_pose(3))


def test_amass_shape_file_and_bad_columns_are_one_line_render_errors(capsys, tmp_path):
    np.savez(tmp_path / "shape.npz", poses=np.zeros((2, 99), np.float32),
             trans=np.zeros((2, 3), np.float32), mocap_framerate=np.array(60.0))  # fmt: skip
    code, _, err = cli(capsys, "render", "--input", str(tmp_path / "shape.npz"),
                       "--out", str(tmp_path / "out"))  # fmt: skip
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "'poses' has shape (2, 99)" in err and "(T, 72) SMPL" in err
