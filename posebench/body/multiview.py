"""Calibrated cameras of a multi-view recording: lens undistortion, projection, triangulation.

A :class:`CalibratedCamera` has OpenCV's pinhole model with radial (k1, k2) and tangential
(p1, p2) distortion and a world-to-camera pose (``x_cam = R x_world + t``, metres; camera axes as
in :mod:`posebench.body.camera`). Detected keypoints are undistorted once into an *ideal* image:
the distortion-free pinhole image with one focal length f = (fx + fy) / 2 and the same principal
point, which :meth:`CalibratedCamera.pinhole` returns, so a view can be fitted with nothing but its
intrinsics. Triangulation (:func:`triangulate`) works in the ideal images of all views.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from posebench.body.camera import PinholeCamera
from posebench.core.errors import InputError

#: Fixed-point iterations of :meth:`CalibratedCamera.undistort` (OpenCV uses 5; lens distortion
#: of ordinary cameras converges to well below 0.01 px in 20).
UNDISTORT_ITERATIONS = 20


@dataclass(frozen=True)
class CalibratedCamera:
    """One calibrated view: image size, intrinsics, distortion (k1, k2, p1, p2) and its pose."""

    name: str
    width: int
    height: int
    fx: float
    fy: float
    cx: float
    cy: float
    distortion: tuple[float, float, float, float]
    rotation: np.ndarray  # (3, 3) world -> camera
    translation: np.ndarray  # (3,) metres

    def pinhole(self) -> PinholeCamera:
        """The view's ideal camera: undistorted image, one focal length, identity pose."""
        return PinholeCamera(0.5 * (self.fx + self.fy), self.cx, self.cy, self.width, self.height)

    def undistort(self, xy: np.ndarray) -> np.ndarray:
        """(..., 2) detected pixel positions -> the same points in the ideal image."""
        k1, k2, p1, p2 = self.distortion
        xd = (xy[..., 0] - self.cx) / self.fx
        yd = (xy[..., 1] - self.cy) / self.fy
        x, y = xd.copy(), yd.copy()
        for _ in range(UNDISTORT_ITERATIONS):
            r2 = x * x + y * y
            radial = 1.0 + k1 * r2 + k2 * r2 * r2
            dx = 2.0 * p1 * x * y + p2 * (r2 + 2.0 * x * x)
            dy = p1 * (r2 + 2.0 * y * y) + 2.0 * p2 * x * y
            x, y = (xd - dx) / radial, (yd - dy) / radial
        ideal = self.pinhole()
        return np.stack([ideal.focal * x + self.cx, ideal.focal * y + self.cy], axis=-1)

    def ideal_keypoints(self, keypoints: np.ndarray) -> np.ndarray:
        """(..., 25, 3) detections (x, y, confidence) -> the same in the ideal image; points not
        detected (confidence 0) stay all zeros, as OpenPose writes them."""
        ideal = keypoints.copy()
        ideal[..., :2] = self.undistort(keypoints[..., :2])
        ideal[keypoints[..., 2] <= 0] = 0.0
        return ideal

    def distort(self, ideal_xy: np.ndarray) -> np.ndarray:
        """(..., 2) ideal-image positions -> where the real lens puts them (undistort's inverse)."""
        k1, k2, p1, p2 = self.distortion
        focal = self.pinhole().focal
        x = (ideal_xy[..., 0] - self.cx) / focal
        y = (ideal_xy[..., 1] - self.cy) / focal
        r2 = x * x + y * y
        radial = 1.0 + k1 * r2 + k2 * r2 * r2
        xd = x * radial + 2.0 * p1 * x * y + p2 * (r2 + 2.0 * x * x)
        yd = y * radial + p1 * (r2 + 2.0 * y * y) + 2.0 * p2 * x * y
        return np.stack([self.fx * xd + self.cx, self.fy * yd + self.cy], axis=-1)

    def to_camera(self, points: np.ndarray) -> np.ndarray:
        """(..., 3) world points (metres) -> the same points in this camera's coordinates."""
        return points @ self.rotation.T + self.translation

    def projection(self) -> np.ndarray:
        """(3, 4) matrix mapping homogeneous world points to the ideal image."""
        ideal = self.pinhole()
        intrinsics = np.array([[ideal.focal, 0, self.cx], [0, ideal.focal, self.cy], [0, 0, 1]])
        return intrinsics @ np.hstack([self.rotation, self.translation[:, None]])

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The camera as named arrays (what the shipped multi-view file stores per view)."""
        return {
            "image_size": np.array([self.width, self.height], dtype=np.int64),
            "intrinsics": np.array([self.fx, self.fy, self.cx, self.cy]),
            "distortion": np.array(self.distortion, dtype=np.float64),
            "rotation": np.asarray(self.rotation, dtype=np.float64),
            "translation": np.asarray(self.translation, dtype=np.float64),
        }

    @classmethod
    def from_arrays(cls, name: str, arrays: dict[str, Any], where: str) -> CalibratedCamera:
        """The inverse of :meth:`to_arrays`; one-line InputError naming ``where`` if malformed."""
        try:
            width, height = (int(v) for v in arrays["image_size"])
            fx, fy, cx, cy = (float(v) for v in arrays["intrinsics"])
            k1, k2, p1, p2 = (float(v) for v in arrays["distortion"])
            rotation = np.asarray(arrays["rotation"], dtype=np.float64).reshape(3, 3)
            translation = np.asarray(arrays["translation"], dtype=np.float64).reshape(3)
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"{where}: camera {name} is malformed ({exc!r})") from None
        if not np.allclose(rotation @ rotation.T, np.eye(3), atol=1e-6):
            raise InputError(f"{where}: camera {name} has a rotation that is not orthonormal")
        return cls(name, width, height, fx, fy, cx, cy, (k1, k2, p1, p2), rotation, translation)


@dataclass(frozen=True)
class Triangulation:
    """Triangulated keypoints of one instant and how well they agree with their views.

    ``points``: (K, 3) world positions, NaN where fewer than two views agree; ``used``: (V, K)
    which views each point was triangulated from; ``error_px``: (V, K) reprojection error in the
    ideal image of every view that detected the point (NaN where it did not).
    """

    points: np.ndarray
    used: np.ndarray
    error_px: np.ndarray

    @property
    def valid(self) -> np.ndarray:
        """(K,) the keypoints that were triangulated."""
        return ~np.isnan(self.points[:, 0])

    def mean_error_px(self) -> float:
        """Mean reprojection error over the views each valid point was triangulated from."""
        errors = self.error_px[self.used]
        return float(errors.mean()) if errors.size else float("nan")


def _dlt(projections: np.ndarray, xy: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """One point from its ideal-image positions in ≥ 2 views: the weighted direct linear
    transform (each view's two equations scaled by its weight, then the least singular vector)."""
    rows = np.concatenate(
        [
            weights[:, None] * (xy[:, :1] * projections[:, 2] - projections[:, 0]),
            weights[:, None] * (xy[:, 1:] * projections[:, 2] - projections[:, 1]),
        ]
    )
    homogeneous = np.linalg.svd(rows)[2][-1]
    return np.asarray(homogeneous[:3] / homogeneous[3])


def reproject(projections: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(V, 3, 4) projections, (K, 3) world points -> (V, K, 2) ideal-image positions."""
    homogeneous = np.concatenate([points, np.ones_like(points[:, :1])], axis=1)
    image = np.einsum("vij,kj->vki", projections, homogeneous)
    return np.asarray(image[..., :2] / image[..., 2:])


def triangulate(
    cameras: Sequence[CalibratedCamera],
    keypoints: np.ndarray,
    min_confidence: float,
    max_error_px: float,
) -> Triangulation:
    """Triangulate (V, K, 3) ideal-image keypoints (x, y, confidence) of one instant.

    Each keypoint uses the views that detected it with confidence ≥ ``min_confidence``, weighted
    by confidence; while a view reprojects farther than ``max_error_px`` and more than two views
    remain, the farthest is dropped and the point triangulated again. A point whose remaining
    views still disagree by more than ``max_error_px``, or that fewer than two views saw, is NaN.
    A point that ends behind a camera it uses is NaN too.
    """
    projections = np.stack([c.projection() for c in cameras])
    n_views, n_points = keypoints.shape[:2]
    points = np.full((n_points, 3), np.nan)
    used = np.zeros((n_views, n_points), dtype=bool)
    for k in range(n_points):
        views = np.flatnonzero(keypoints[:, k, 2] >= min_confidence)
        while len(views) >= 2:
            point = _dlt(projections[views], keypoints[views, k, :2], keypoints[views, k, 2])
            depth = np.einsum("vj,j->v", projections[views, 2], np.append(point, 1.0))
            error = np.linalg.norm(
                reproject(projections[views], point[None])[:, 0] - keypoints[views, k, :2], axis=1
            )
            if (depth > 0).all() and error.max() <= max_error_px:
                points[k], used[views, k] = point, True
                break
            if len(views) == 2:
                break
            views = np.delete(views, int(np.argmax(np.where(depth > 0, error, np.inf))))
    detected = keypoints[..., 2] > 0
    error_px = np.full((n_views, n_points), np.nan)
    valid = ~np.isnan(points[:, 0])
    if valid.any():
        distance = np.linalg.norm(
            reproject(projections, points[valid]) - keypoints[:, valid, :2], axis=2
        )
        error_px[:, valid] = np.where(detected[:, valid], distance, np.nan)
    return Triangulation(points, used, error_px)
