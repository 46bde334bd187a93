"""An orbit camera for pictures of poses: a pinhole looking at a point from an azimuth and an
elevation (y up, body facing +z). Not the camera that image fitting estimates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class OrbitCamera:
    """Pinhole camera ``distance`` metres from its target; azimuth 0 looks at the body's front.

    The defaults frame a 1.8 m body with its arms out (2.4 m across at the target) in a square
    image, from slightly above and to the body's left, as in the usual pose-prior figures.
    """

    width: int = 512
    height: int = 512
    fov_deg: float = 30.0
    distance: float = 4.5
    azimuth_deg: float = 20.0
    elevation_deg: float = 10.0

    @property
    def focal(self) -> float:
        """Focal length in pixels (square pixels, vertical field of view ``fov_deg``)."""
        return 0.5 * self.height / math.tan(math.radians(self.fov_deg) / 2)

    def scaled(self, factor: int) -> OrbitCamera:
        """The same view at ``factor`` times the resolution (for supersampling)."""
        return OrbitCamera(
            self.width * factor, self.height * factor, self.fov_deg, self.distance,
            self.azimuth_deg, self.elevation_deg,
        )  # fmt: skip

    def axes(self, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """(3, 3) rows: image right, image down, viewing direction, in world coordinates."""
        azimuth, elevation = math.radians(self.azimuth_deg), math.radians(self.elevation_deg)
        offset = torch.tensor(
            [
                math.sin(azimuth) * math.cos(elevation),
                math.sin(elevation),
                math.cos(azimuth) * math.cos(elevation),
            ],
            dtype=torch.float64,
        )
        forward = -offset
        right = torch.linalg.cross(forward, torch.tensor([0.0, 1.0, 0.0], dtype=torch.float64))
        right = right / right.norm()
        down = torch.linalg.cross(forward, right)
        return torch.stack([right, down, forward]).to(dtype)

    def position(self, target: torch.Tensor) -> torch.Tensor:
        """(3,) where the camera stands for ``target``."""
        return target - self.distance * self.axes(target.dtype).to(target.device)[2]

    def project(self, points: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """(..., 3) pixel x (right), pixel y (down) and depth in metres of world ``points``."""
        axes = self.axes(points.dtype).to(points.device)
        local = (points - self.position(target)) @ axes.T
        depth = local[..., 2].clamp_min(1e-6)
        x = 0.5 * self.width + self.focal * local[..., 0] / depth
        y = 0.5 * self.height + self.focal * local[..., 1] / depth
        return torch.stack([x, y, local[..., 2]], dim=-1)
