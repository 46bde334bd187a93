"""How pictures are drawn: mode, size, camera angles, supersampling (no torch to import)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from posebench.core.errors import ConfigError

if TYPE_CHECKING:
    from posebench.render.camera import OrbitCamera

MODES = ("mesh", "skeleton")


@dataclass(frozen=True)
class RenderSettings:
    """How to draw: ``mesh`` or ``skeleton``, image size and camera angles, supersampling."""

    mode: str = "mesh"
    size: int = 384
    azimuth_deg: float = 20.0
    elevation_deg: float = 10.0
    supersample: int = 2

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ConfigError(f"unknown render mode '{self.mode}'; choose {' or '.join(MODES)}")
        if not 16 <= self.size <= 4096:
            raise ConfigError(f"render size must be 16..4096 pixels, not {self.size}")
        if self.supersample not in (1, 2, 3, 4):
            raise ConfigError(f"supersample must be 1..4, not {self.supersample}")

    @property
    def camera(self) -> OrbitCamera:
        """The camera these settings describe (before supersampling)."""
        from posebench.render.camera import OrbitCamera

        return OrbitCamera(
            self.size, self.size, azimuth_deg=self.azimuth_deg, elevation_deg=self.elevation_deg
        )
