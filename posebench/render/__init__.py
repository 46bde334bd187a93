"""Pictures of poses without a display or a renderer package: a small torch rasteriser to PNG.

The names below load on first use, so that :mod:`posebench.render.settings` (which the command
line's parser uses) imports no torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from posebench.render.camera import OrbitCamera
    from posebench.render.png import decode_png, encode_png, write_png
    from posebench.render.scene import render_poses, tile
    from posebench.render.settings import RenderSettings

_WHERE = {
    "OrbitCamera": "camera",
    "RenderSettings": "settings",
    "decode_png": "png",
    "encode_png": "png",
    "render_poses": "scene",
    "tile": "scene",
    "write_png": "png",
}

__all__ = ["OrbitCamera", "RenderSettings", "decode_png", "encode_png", "render_poses", "tile",
           "write_png"]  # fmt: skip


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"posebench.render.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'posebench.render' has no attribute {name!r}")
