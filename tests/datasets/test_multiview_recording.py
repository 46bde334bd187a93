"""The multi-view recording: the shipped file, damaged files, and the builder on a recording the
test makes (cameras, a moving skeleton, a camera started late), without a detector."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from posebench.body.multiview import CalibratedCamera, reproject
from posebench.core.errors import InputError
from posebench.core.hashing import hash_file
from posebench.core.npzio import write_reproducible_npz
from posebench.datasets.multiview import DEFAULT_PATH, load_multiview
from posebench.rebuild.catalogue import Package
from posebench.rebuild.multiview import DemoPackage, build_multiview
from tests.body.test_calibrated_cameras import ring_cameras

FRAMES = 24
LATE = 3  # the third camera started this many frames late


def test_the_shipped_recording_is_usable():
    recording = load_multiview()
    assert len(recording.cameras) == 4 and recording.keypoints.shape[1:] == (4, 25, 3)
    triangulation = recording.meta["triangulation"]
    assert triangulation["kept"] / triangulation["frames"] >= 0.9
    assert triangulation["mean_error_px_kept"] < 10.0
    kept = recording.kept
    errors = recording.reprojection_error_px[kept][recording.used[kept]]
    assert 0 < errors.mean() <= 10.0 and errors.max() <= 15.0
    for view in range(4):  # the person stands in front of every camera
        depth = np.stack([recording.reference_in_view(f, view)[:, 2] for f in np.flatnonzero(kept)])
        assert np.nanmin(depth) > 1.0
    assert recording.pictures.shape[1:] == (4, 256, 128, 3)
    frame = int(recording.picture_frames[0])
    for view in range(4):  # the detections fall inside the picture cut around them
        camera = recording.picture_camera(0, view)
        keypoints = recording.picture_keypoints(0, view)
        seen = keypoints[:, 2] > 0
        assert seen.sum() >= 15 and camera.contains(keypoints[seen, :2]).all()
        reference = recording.reference_in_view(frame, view)  # the camera agrees with the cut
        found = ~np.isnan(reference[:, 0]) & seen
        distance = np.linalg.norm(camera.project(reference[found]) - keypoints[found, :2], axis=1)
        assert np.median(distance) < 5.0  # 7 px of the full image is ~2 px of the picture


def test_damaged_files_are_one_line_errors(tmp_path):
    with pytest.raises(InputError, match="does not exist; reinstall posebench"):
        load_multiview(tmp_path / "missing.npz")
    with np.load(DEFAULT_PATH) as data:
        arrays = {key: data[key] for key in data.files}
    meta = json.loads(str(arrays["meta"]))
    old = tmp_path / "old.npz"
    write_reproducible_npz(
        old, {**arrays, "meta": np.asarray(json.dumps({**meta, "format_version": 0}))}
    )
    with pytest.raises(InputError, match=r"old.npz has format 0, this posebench reads 1"):
        load_multiview(old)
    cut = tmp_path / "cut.npz"
    write_reproducible_npz(cut, {**arrays, "kept": arrays["kept"][:-1]})
    with pytest.raises(InputError, match=r"cut.npz: kept has shape"):
        load_multiview(cut)


def qca_of(cameras: list[CalibratedCamera]) -> str:
    """A QTM calibration file that reads back as ``cameras`` (the reader's conventions)."""
    parts = []
    for camera in cameras:
        orientation = (np.diag([1.0, -1.0, -1.0]) @ camera.rotation).tolist()
        centre = (-camera.rotation.T @ camera.translation * 1000.0).tolist()
        rows = " ".join(
            f'r{i + 1}{j + 1}="{orientation[i][j]!r}"' for i in range(3) for j in range(3)
        )
        k1, k2, p1, p2 = camera.distortion
        parts.append(
            f'<camera active="1" serial="{camera.name}">'
            f'<fov_video left="0" top="0" right="{camera.width - 1}" bottom="{camera.height - 1}"/>'
            f'<transform {rows} x="{centre[0]!r}" y="{centre[1]!r}" z="{centre[2]!r}"/>'
            f'<intrinsic focalLengthU="{camera.fx * 64!r}" focalLengthV="{camera.fy * 64!r}" '
            f'centerPointU="{camera.cx * 64!r}" centerPointV="{camera.cy * 64!r}" '
            f'radialDistortion1="{k1!r}" radialDistortion2="{k2!r}" '
            f'tangentalDistortion1="{p1!r}" tangentalDistortion2="{p2!r}"/></camera>'
        )
    return f"<calibration><cameras>{''.join(parts)}</cameras></calibration>"


def moving_skeleton(frames: int) -> np.ndarray:
    """(frames, 25, 3) world points that move 4 cm a frame (so a late camera shows)."""
    rng = np.random.default_rng(3)
    base = rng.uniform(-0.3, 0.3, size=(25, 3)) * [1, 1, 3] + [0, 0, 1.0]
    path = np.arange(frames)[:, None, None] * np.array([0.04, -0.02, 0.0])
    return base[None] + path


def fake_package(folder: Path, cameras: list[CalibratedCamera]) -> DemoPackage:
    """A wheel-shaped zip holding the calibration and four stand-in video files."""
    videos = tuple(f"demo/videos/{c.name}.mp4" for c in cameras)
    wheel = folder / "demo-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("demo/Calib.qca.txt", qca_of(cameras))
        for member in videos:
            archive.writestr(member, b"not decoded: the test's detector reads the name")
    pinned = Package("demo", "1.0", "the test", wheel.name, hash_file(wheel), "made by the test",
                     "test data")  # fmt: skip
    return DemoPackage(pinned, "demo/Calib.qca.txt", videos, 60.0)


def test_the_builder_synchronises_triangulates_and_is_byte_reproducible(tmp_path):
    cameras = ring_cameras()
    truth = moving_skeleton(FRAMES + LATE)
    package = fake_package(tmp_path, cameras)
    projections = np.stack([c.projection() for c in cameras])

    def detect(video: Path) -> np.ndarray:
        view = [c.name for c in cameras].index(video.stem)
        shown = truth[np.arange(FRAMES) - (LATE if view == 2 else 0)]  # camera 2 lags behind
        ideal = np.stack([reproject(projections[view : view + 1], p)[0] for p in shown])
        detected = cameras[view].distort(ideal)
        return np.concatenate([detected, np.full((FRAMES, 25, 1), 0.9)], axis=2)

    def frames(video: Path):
        picture = np.full((1920, 1088, 3), 90, dtype=np.uint8)
        return (picture for _ in range(FRAMES))

    written = []
    for attempt in range(2):
        out = tmp_path / f"build{attempt}" / "multiview.npz"
        out.parent.mkdir()
        work = tmp_path / f"work{attempt}"
        work.mkdir()
        summary = build_multiview(tmp_path, out, detect, frames, {"name": "test"}, work,
                                  demo=package)  # fmt: skip
        written.append(out.read_bytes())
    assert written[0] == written[1]
    assert summary["sync"]["offsets"] == [0, 0, LATE, 0]
    recording = load_multiview(out)
    assert recording.kept.all() and len(recording.kept) == FRAMES - LATE
    assert np.abs(recording.points3d - truth[: FRAMES - LATE]).max() < 1e-4
    assert recording.video_frames[0].tolist() == [0, 0, LATE, 0]  # frame t: camera 2 frame t + 3
    assert recording.meta["source"]["package"] == package.package.file
    assert recording.pictures.shape[:2] == (2, 4) and (recording.pictures == 90).mean() > 0.5


def test_the_builder_refuses_a_package_that_is_not_the_pinned_one(tmp_path):
    package = fake_package(tmp_path, ring_cameras())
    (tmp_path / package.package.file).write_bytes(b"something else")
    with pytest.raises(InputError, match="not the pinned"):
        build_multiview(tmp_path, tmp_path / "x.npz", None, None, {}, tmp_path, demo=package)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="does not exist; download it"):
        build_multiview(tmp_path / "nowhere", tmp_path / "x.npz", None, None, {}, tmp_path)  # type: ignore[arg-type]
