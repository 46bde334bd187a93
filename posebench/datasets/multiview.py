"""The real photographs of image fitting: a calibrated four-view recording with a triangulated 3D
reference (the ``image_fit`` task's ``multiview`` protocol).

``posebench/data/multiview_pose2sim.npz`` holds one person walking and waving in pose2sim's demo
recording (four synchronised 60 Hz views, BSD-3): per synchronised frame and view the detected
OpenPose BODY_25 keypoints (distorted pixels, as the detector wrote them), the cameras'
calibrations, the keypoints triangulated from all views with their reprojection errors, which
frames were kept, and a few small pictures of the views for the leaderboard. It is built by
``posebench data build-multiview`` (the ``rebuild`` half; ``docs/image_fitting.md``).

The 3D reference is triangulated detector output, not motion capture.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from posebench.body.camera import PinholeCamera
from posebench.body.multiview import CalibratedCamera
from posebench.core.errors import InputError
from posebench.core.npzio import read_npz
from posebench.core.paths import data_path

FORMAT_VERSION = 1
DEFAULT_PATH = data_path("multiview_pose2sim.npz")
_HINT = "reinstall posebench, or rebuild it with posebench data build-multiview"
_CAMERA_KEYS = ("image_size", "intrinsics", "distortion", "rotation", "translation")
_ARRAYS = (
    "meta", "keypoints", "video_frames", "points3d", "used", "reprojection_error_px", "kept",
    "picture_frames", "picture_boxes", "pictures", *(f"camera_{k}" for k in _CAMERA_KEYS),
)  # fmt: skip


@dataclass(frozen=True)
class MultiviewRecording:
    """A calibrated multi-view recording: detections, cameras and the triangulated reference.

    Shapes: F synchronised frames, V views, 25 BODY_25 keypoints. ``keypoints`` (F, V, 25, 3) as
    detected; ``points3d`` (F, 25, 3) world metres, NaN where not triangulated; ``used`` and
    ``reprojection_error_px`` (F, V, 25); ``kept`` (F,) frames whose reference is good enough;
    ``pictures`` (P, V, h, w, 3) uint8 cut around the person at ``picture_frames`` (P,), from the
    boxes ``picture_boxes`` (P, V, 4: x0, y0, x1, y1 in image pixels).
    """

    cameras: tuple[CalibratedCamera, ...]
    keypoints: np.ndarray
    video_frames: np.ndarray
    points3d: np.ndarray
    used: np.ndarray
    reprojection_error_px: np.ndarray
    kept: np.ndarray
    picture_frames: np.ndarray
    picture_boxes: np.ndarray
    pictures: np.ndarray
    meta: dict[str, Any]
    path: str

    @cached_property
    def ideal_keypoints(self) -> np.ndarray:
        """(F, V, 25, 3) the detections undistorted into each view's ideal pinhole image."""
        views = [c.ideal_keypoints(self.keypoints[:, v]) for v, c in enumerate(self.cameras)]
        return np.stack(views, axis=1)

    def reference_in_view(self, frame: int, view: int) -> np.ndarray:
        """(25, 3) the triangulated keypoints of ``frame`` in view ``view``'s camera frame."""
        return self.cameras[view].to_camera(self.points3d[frame])

    def _picture_crop(self, index: int, view: int) -> tuple[np.ndarray, float]:
        """The picture's top-left corner in image pixels and its scale (picture px per px)."""
        x0, y0, x1, _ = (float(v) for v in self.picture_boxes[index, view])
        return np.array([x0, y0]), self.pictures.shape[3] / (x1 - x0)

    def picture_camera(self, index: int, view: int) -> PinholeCamera:
        """The ideal camera of picture ``index`` of ``view``: the box cut and scaled."""
        corner, scale = self._picture_crop(index, view)
        height, width = self.pictures.shape[2:4]
        ideal = self.cameras[view].pinhole()
        cx, cy = (np.array([ideal.cx, ideal.cy]) - corner) * scale
        return PinholeCamera(ideal.focal * scale, float(cx), float(cy), width, height)

    def picture_keypoints(self, index: int, view: int) -> np.ndarray:
        """(25, 3) the view's undistorted detections at picture ``index``, in its pixels."""
        keypoints = self.ideal_keypoints[int(self.picture_frames[index]), view].copy()
        corner, scale = self._picture_crop(index, view)
        seen = keypoints[:, 2] > 0
        keypoints[seen, :2] = (keypoints[seen, :2] - corner) * scale
        return keypoints


def _check(arrays: dict[str, np.ndarray], path: str) -> None:
    """One line naming the file and the array when shapes disagree or values are not finite."""
    frames, views = arrays["keypoints"].shape[:2]
    expected = {
        "keypoints": (frames, views, 25, 3),
        "video_frames": (frames, views),
        "points3d": (frames, 25, 3),
        "used": (frames, views, 25),
        "reprojection_error_px": (frames, views, 25),
        "kept": (frames,),
        "camera_rotation": (views, 3, 3),
    }
    for key, shape in expected.items():
        if arrays[key].shape != shape:
            raise InputError(
                f"multi-view file {path}: {key} has shape {arrays[key].shape}, expected {shape}; "
                f"{_HINT}"
            )
    if not np.isfinite(arrays["keypoints"]).all():
        raise InputError(f"multi-view file {path}: keypoints contain NaN or infinity; {_HINT}")


def load_multiview(path: str | Path | None = None) -> MultiviewRecording:
    """The recording at ``path`` (default: the shipped one); one-line InputError if unusable."""
    path = Path(path) if path is not None else DEFAULT_PATH
    arrays = read_npz(path, "multi-view file", _HINT, required=_ARRAYS)
    try:
        meta = json.loads(str(arrays["meta"]))
    except json.JSONDecodeError as exc:
        raise InputError(f"multi-view file {path}: unreadable metadata ({exc}); {_HINT}") from None
    if meta.get("format_version") != FORMAT_VERSION:
        raise InputError(
            f"multi-view file {path} has format {meta.get('format_version')}, this posebench "
            f"reads {FORMAT_VERSION}; {_HINT}"
        )
    _check(arrays, str(path))
    names = meta.get("cameras") or [f"view{i + 1}" for i in range(arrays["keypoints"].shape[1])]
    cameras = tuple(
        CalibratedCamera.from_arrays(
            name, {k: arrays[f"camera_{k}"][view] for k in _CAMERA_KEYS}, str(path)
        )
        for view, name in enumerate(names)
    )
    return MultiviewRecording(
        cameras=cameras,
        keypoints=arrays["keypoints"].astype(np.float64),
        video_frames=arrays["video_frames"],
        points3d=arrays["points3d"].astype(np.float64),
        used=arrays["used"].astype(bool),
        reprojection_error_px=arrays["reprojection_error_px"].astype(np.float64),
        kept=arrays["kept"].astype(bool),
        picture_frames=arrays["picture_frames"],
        picture_boxes=arrays["picture_boxes"],
        pictures=arrays["pictures"],
        meta=meta,
        path=str(path),
    )
