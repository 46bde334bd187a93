"""Calibrated cameras: undistortion, triangulation and the QTM calibration reader, on cameras
and points the tests make."""

from __future__ import annotations

import numpy as np
import pytest
import roma
import torch

from posebench.body.multiview import CalibratedCamera, reproject, triangulate
from posebench.core.errors import InputError
from posebench.rebuild.qualisys import parse_qca

DISTORTION = (-0.046, 0.14, 0.0006, 0.0007)  # the demo calibration's size of coefficients
PORTRAIT = (1088, 1920, 1680.0, 1679.0, 540.0, 960.0)  # width, height, fx, fy, cx, cy


def ring_cameras(count: int = 4, radius: float = 4.0) -> list[CalibratedCamera]:
    """Portrait cameras on a circle 1.5 m up, looking at the origin (world z up)."""
    cameras = []
    for k in range(count):
        angle = 2 * np.pi * k / count
        centre = np.array([radius * np.cos(angle), radius * np.sin(angle), 1.5])
        forward = -centre / np.linalg.norm(centre)
        right = np.cross(forward, [0.0, 0.0, 1.0])
        right /= np.linalg.norm(right)
        down = np.cross(forward, right)
        rotation = np.stack([right, down, forward])  # rows: camera axes in the world
        camera = CalibratedCamera(f"cam{k}", *PORTRAIT, DISTORTION, rotation, -rotation @ centre)
        cameras.append(camera)
    return cameras


def observe(cameras: list[CalibratedCamera], points: np.ndarray) -> np.ndarray:
    """(V, K, 3) ideal-image keypoints of world points with confidence 1."""
    projections = np.stack([c.projection() for c in cameras])
    xy = reproject(projections, points)
    return np.concatenate([xy, np.ones((*xy.shape[:2], 1))], axis=2)


def test_undistort_inverts_the_lens_model():
    camera = ring_cameras(1)[0]
    rng = np.random.default_rng(0)
    ideal = rng.uniform([0, 0], [1088, 1920], size=(200, 2))
    detected = camera.distort(ideal)
    assert np.abs(detected - ideal).max() > 5  # the corners move: the test can fail
    assert np.abs(camera.undistort(detected) - ideal).max() < 1e-6


def test_triangulation_recovers_points_and_drops_a_wrong_view():
    cameras = ring_cameras()
    rng = np.random.default_rng(1)
    points = rng.uniform(-0.4, 0.4, size=(25, 3)) + np.array([0.0, 0.0, 1.0])
    keypoints = observe(cameras, points)
    exact = triangulate(cameras, keypoints, 0.3, 15.0)
    assert np.abs(exact.points - points).max() < 1e-6
    assert exact.used.all() and exact.mean_error_px() < 1e-4

    keypoints[2, 0, :2] += 60.0  # one view misplaces keypoint 0
    keypoints[:3, 1, 2] = 0.1  # keypoint 1: only one confident view
    result = triangulate(cameras, keypoints, 0.3, 15.0)
    assert np.abs(result.points[0] - points[0]).max() < 1e-6
    assert result.used[:, 0].tolist() == [True, True, False, True]
    assert result.error_px[2, 0] == pytest.approx(60.0 * 2**0.5, abs=1.0)  # still reported
    assert np.isnan(result.points[1]).all() and not result.valid[1]
    assert result.valid.sum() == 24


def test_camera_arrays_round_trip_and_bad_rotations_are_refused():
    camera = ring_cameras()[1]
    again = CalibratedCamera.from_arrays(camera.name, camera.to_arrays(), "here")
    assert np.allclose(again.projection(), camera.projection())
    arrays = camera.to_arrays()
    arrays["rotation"] = 2 * arrays["rotation"]
    with pytest.raises(InputError, match="here: camera cam1 has a rotation"):
        CalibratedCamera.from_arrays(camera.name, arrays, "here")


def qca_text(centre_mm: np.ndarray, orientation: np.ndarray, left: int = 0) -> str:
    """A one-camera QTM calibration file (1/64-pixel sensor units)."""
    rows = {f"r{i + 1}{j + 1}": orientation[i, j] for i in range(3) for j in range(3)}
    transform = " ".join(f'{k}="{float(v)!r}"' for k, v in rows.items())
    x, y, z = centre_mm
    return f"""<?xml version='1.0' encoding='ASCII'?>
<calibration><cameras>
<camera active="1" serial="camA">
  <fov_video bottom="1919" left="{left}" right="{left + 1087}" top="0"/>
  <transform {transform} x="{x}" y="{y}" z="{z}"/>
  <intrinsic centerPointU="{(540 + left) * 64}" centerPointV="{960 * 64}"
    focalLengthU="{1680 * 64}" focalLengthV="{1679 * 64}" radialDistortion1="-0.04"
    radialDistortion2="0.1" tangentalDistortion1="0.001" tangentalDistortion2="0.002"/>
</camera>
<camera active="0" serial="off"/>
</cameras></calibration>"""


def test_qca_reader_converts_sensor_units_and_qtm_axes():
    """M's rows are the QTM camera's axes in the world, and it looks down its -z with y up: a
    point straight ahead of it lands on the principal point, one 30 cm along its +y above it."""
    orientation = roma.rotvec_to_rotmat(torch.tensor([0.3, -0.2, 0.5], dtype=torch.float64))
    orientation = orientation.numpy()
    centre = np.array([1000.0, -2000.0, 1500.0])
    (camera,) = parse_qca(qca_text(centre, orientation, left=8), "calib.qca.txt")
    assert (camera.name, camera.width, camera.height) == ("camA", 1088, 1920)
    assert (camera.fx, camera.fy, camera.cx, camera.cy) == (1680.0, 1679.0, 540.0, 960.0)
    assert camera.distortion == (-0.04, 0.1, 0.001, 0.002)
    ahead = centre / 1000 - 2.0 * orientation[2]  # 2 m along the QTM camera's -z (row 3 of M)
    up = ahead + 0.3 * orientation[1]  # 30 cm along its +y (row 2)
    projections = camera.projection()[None]
    (centre_px, up_px) = reproject(projections, np.stack([ahead, up]))[0]
    assert np.allclose(centre_px, [540.0, 960.0]) and camera.to_camera(ahead)[2] > 0
    assert up_px[1] < 960.0 - 100 and abs(up_px[0] - 540.0) < 1e-6


def test_qca_reader_errors_are_one_line():
    with pytest.raises(InputError, match="calib.txt: not a QTM calibration"):
        parse_qca("<calibration", "calib.txt")
    with pytest.raises(InputError, match="no active <camera>"):
        parse_qca("<calibration><cameras/></calibration>", "calib.txt")
    broken = qca_text(np.zeros(3), np.eye(3)).replace('focalLengthU="107520"', "")
    assert broken != qca_text(np.zeros(3), np.eye(3))
    with pytest.raises(InputError, match="camera camA: missing or unreadable focalLengthU"):
        parse_qca(broken, "calib.txt")
