"""The pinhole camera of image fitting: OpenCV convention, no distortion, extrinsics R = I.

Camera coordinates are x right, y down, z forward (the camera looks along +z); pixels have
(0, 0) at the top-left corner. A point (x, y, z) projects to ``(f x / z + cx, f y / z + cy)``.
The body's root orientation and translation carry its pose relative to the camera, so the
camera itself needs only its intrinsics (focal length f, principal point (cx, cy)) and the
image size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from posebench.core.errors import InputError

#: How a camera file describes its convention.
CONVENTION = "opencv: x right, y down, z forward; pixels from the top-left corner"


@dataclass(frozen=True)
class PinholeCamera:
    """A pinhole camera in OpenCV convention, no distortion. ``rotation``/``translation`` map
    world to camera coordinates; posebench works in camera coordinates (identity, zero).
    """

    focal: float
    cx: float
    cy: float
    width: int
    height: int
    rotation: tuple[tuple[float, ...], ...] = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))
    translation: tuple[float, float, float] = (0.0, 0.0, 0.0)

    @classmethod
    def centred(cls, focal: float, width: int, height: int) -> PinholeCamera:
        """A camera with its principal point at the image centre."""
        return cls(focal, width / 2.0, height / 2.0, width, height)

    @property
    def intrinsics(self) -> tuple[float, float, float]:
        """(f, cx, cy) in pixels: what :func:`project` takes per view."""
        return (self.focal, self.cx, self.cy)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready mapping (also what ``<name>_camera.json`` holds)."""
        return {
            "focal_length": self.focal,
            "principal_point": [self.cx, self.cy],
            "image_size": [self.width, self.height],
            "rotation": [list(r) for r in self.rotation],
            "translation": list(self.translation),
            "convention": CONVENTION,
        }

    @classmethod
    def from_json(cls, data: Any, where: str) -> PinholeCamera:
        """A camera from :meth:`to_json`'s mapping; one-line InputError when malformed."""
        try:
            width, height = (int(v) for v in data["image_size"])
            cx, cy = (float(v) for v in data["principal_point"])
            camera = cls(float(data["focal_length"]), cx, cy, width, height)
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(
                f"{where}: not a camera file (needs focal_length, principal_point, image_size; "
                f"problem: {exc!r})"
            ) from None
        if not (camera.focal > 0 and width > 0 and height > 0):
            raise InputError(f"{where}: focal length and image size must be positive")
        if "rotation" in data and not np.allclose(data["rotation"], np.eye(3)):
            raise InputError(f"{where}: only cameras with identity rotation are supported")
        return camera

    def project(self, points: np.ndarray) -> np.ndarray:
        """(..., 3) camera-frame points -> (..., 2) pixels (exact: points must be in front)."""
        z = points[..., 2:3]
        return self.focal * points[..., :2] / z + np.array([self.cx, self.cy])

    def contains(self, xy: np.ndarray) -> np.ndarray:
        """(N,) whether pixel positions (N, 2) lie inside the image."""
        return (
            (xy[:, 0] >= 0) & (xy[:, 0] < self.width) & (xy[:, 1] >= 0) & (xy[:, 1] < self.height)
        )


def intrinsics(cameras: Sequence[PinholeCamera], device: torch.device | str) -> torch.Tensor:
    """(B, 3) float32 tensor of the cameras' (f, cx, cy), the batched form :func:`project` takes."""
    return torch.tensor([c.intrinsics for c in cameras], dtype=torch.float32, device=device)


def project(points: torch.Tensor, camera: torch.Tensor) -> torch.Tensor:
    """(B, K, 3) camera-frame points -> (B, K, 2) pixels; ``camera`` is (B, 3): f, cx, cy.

    Depths are clamped at 1 cm so that a point that wanders behind the camera during fitting
    gives a large finite residual rather than an infinity.
    """
    z = points[..., 2:3].clamp_min(0.01)
    return camera[:, None, :1] * points[..., :2] / z + camera[:, None, 1:]
