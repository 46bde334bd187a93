"""Fitted bodies over their photos: the ``<name>_overlay.png`` pictures of ``posebench fit-image``.

Each shows the fitted mesh, shaded and half transparent, projected with the fit's own pinhole
camera; the observed OpenPose keypoints with OpenPose's limbs (green); the fitted body's
projected keypoints and limbs (red); and a legend with the 2D error. It is drawn over the photo
when the photo can be read, else on a blank canvas of the image size: Pillow reads any PNG or
JPEG and is used when installed (the ``report`` and ``viz`` extras bring it); without it only
PNG files as posebench writes them are read, since posebench adds no imaging dependency.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from posebench.body.camera import PinholeCamera
from posebench.body.keypoints import BODY25_LIMBS
from posebench.core.errors import InputError
from posebench.render.draw import Colour, draw_disc, draw_segment, tint
from posebench.render.font import draw_text
from posebench.render.png import decode_png
from posebench.render.raster import shade_projected
from posebench.render.scene import MESH_COLOR

OBSERVED: Colour = (30, 170, 60)
FITTED: Colour = (215, 40, 40)
TEXT: Colour = (20, 20, 20)
BLANK: Colour = (236, 236, 236)
LEGEND_BOX: Colour = (255, 255, 255)
MESH_ALPHA = 0.55
#: The mesh is rasterised at most this many pixels on a side and scaled up (large photos).
MAX_MESH_SIDE = 2048

#: Why an overlay has no photo behind it (what ``summary.json`` records).
PHOTO = "photo"
NO_IMAGE = "blank: no image in the folder (keypoints only)"
NEEDS_PILLOW = "blank: reading this image needs Pillow (pip install pillow)"
UNREADABLE = "blank: the image could not be read"


def read_photo(path: Path | None, camera: PinholeCamera) -> tuple[np.ndarray | None, str]:
    """The photo at ``path`` as (H, W, 3) uint8 and :data:`PHOTO`, or None and why not (no
    image, no reader for it, unreadable, or a size that is not the camera's)."""
    if path is None:
        return None, NO_IMAGE
    try:
        photo = _read_with_pillow(path)
    except ImportError:
        photo = _read_own_png(path)
        if photo is None:
            return None, NEEDS_PILLOW
    if photo is None:
        return None, UNREADABLE
    height, width = photo.shape[:2]
    if (width, height) != (camera.width, camera.height):
        return None, (
            f"blank: the image is {width}x{height} px but its camera {camera.width}x"
            f"{camera.height} px"
        )
    return photo, PHOTO


def _read_with_pillow(path: Path) -> np.ndarray | None:
    """The image through Pillow (ImportError without it), or None when Pillow cannot read it."""
    from PIL import Image

    try:
        with Image.open(path) as picture:
            return np.asarray(picture.convert("RGB"), dtype=np.uint8).copy()
    except Exception:  # Pillow raises many kinds for broken files; the overlay goes blank
        return None


def _read_own_png(path: Path) -> np.ndarray | None:
    """A PNG as posebench writes it (8-bit RGB, no filters), without Pillow; None otherwise."""
    try:
        return decode_png(path.read_bytes())
    except (OSError, InputError, ValueError):
        return None


def draw_fit_overlay(
    background: np.ndarray | None,
    camera: PinholeCamera,
    observed: np.ndarray,
    fitted: np.ndarray,
    vertices: torch.Tensor | None = None,
    faces: torch.Tensor | None = None,
    error_px: float | None = None,
    note: str | None = None,
) -> np.ndarray:
    """(H, W, 3) uint8: ``background`` (or a blank canvas of the camera's size) with the fitted
    mesh ``vertices`` (V, 3, camera frame), the ``observed`` keypoints (25, 3: x, y,
    confidence; 0 = missing) and the ``fitted`` ones (25, 2, pixels) drawn over it; the legend
    ends with the 2D error and ``note`` when given."""
    height, width = camera.height, camera.width
    if background is not None:
        canvas = np.array(background, dtype=np.uint8)
    else:
        canvas = np.empty((height, width, 3), np.uint8)
        canvas[:] = BLANK
    if vertices is not None and faces is not None:
        colour, covered = _mesh(vertices, faces, camera)
        tint(canvas, covered, colour, MESH_ALPHA)
    side = min(height, width)
    radius = max(1.0, side / 400)
    seen = observed[:, 2] > 0
    _skeleton(canvas, observed[:, :2], seen, OBSERVED, radius)
    _skeleton(canvas, fitted, np.isfinite(fitted).all(axis=1), FITTED, radius)
    scale = max(1, round(side / 320))
    legend = [("observed", OBSERVED), ("fitted", FITTED)]
    if error_px is not None:
        legend.append((f"error {error_px:.1f} px", TEXT))
    if note:
        legend.append((note, TEXT))
    y = 2 * scale
    for text, colour_of_text in legend:
        _, line_height = draw_text(canvas, text, 2 * scale, y, scale, colour_of_text, LEGEND_BOX)
        y += line_height
    return canvas


def _mesh(
    vertices: torch.Tensor, faces: torch.Tensor, camera: PinholeCamera
) -> tuple[np.ndarray, np.ndarray]:
    """(H, W, 3) shaded colour in 0..1 and (H, W) coverage of the mesh through ``camera``."""
    height, width = camera.height, camera.width
    factor = min(1.0, MAX_MESH_SIDE / max(height, width))
    small_h, small_w = max(1, round(height * factor)), max(1, round(width * factor))
    local = vertices.detach().double().cpu()
    depth = local[:, 2].clamp_min(1e-6)
    x = (camera.focal * local[:, 0] / depth + camera.cx) * (small_w / width)
    y = (camera.focal * local[:, 1] / depth + camera.cy) * (small_h / height)
    screen = torch.stack([x, y, local[:, 2]], dim=1)
    colour, covered = shade_projected(local, screen, faces.cpu(), small_h, small_w, MESH_COLOR)
    rows = (np.arange(height) * small_h // height).clip(max=small_h - 1)
    columns = (np.arange(width) * small_w // width).clip(max=small_w - 1)
    pick = np.ix_(rows, columns)
    return colour.numpy()[pick], covered.numpy()[pick]


def _skeleton(
    canvas: np.ndarray, points: np.ndarray, shown: np.ndarray, colour: Colour, radius: float
) -> None:
    """BODY_25 limbs between shown keypoints, then a disc on each."""
    for a, b in BODY25_LIMBS:
        if shown[a] and shown[b]:
            draw_segment(canvas, points[a], points[b], radius, colour)
    for index in np.nonzero(shown)[0]:
        draw_disc(canvas, points[index], 2.2 * radius, colour)
