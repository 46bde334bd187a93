"""Pictures of poses without a display or a renderer package: a small torch rasteriser to PNG."""

from posebench.render.camera import Camera
from posebench.render.png import decode_png, encode_png, write_png
from posebench.render.scene import RenderSettings, render_poses, tile

__all__ = ["Camera", "RenderSettings", "decode_png", "encode_png", "render_poses", "tile",
           "write_png"]  # fmt: skip
