"""2D drawing into (H, W, 3) uint8 pictures, in numpy: round-capped segments, discs, tinted masks.

Enough for keypoint skeletons over a photo; everything is clipped at the picture's borders and
drawn in place.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

Colour = tuple[int, int, int]


def draw_segment(
    image: np.ndarray,
    a: Sequence[float],
    b: Sequence[float],
    radius: float,
    colour: Colour,
) -> None:
    """Fill every pixel whose centre lies within ``radius`` of the segment a-b (pixel x, y)."""
    ax, ay, bx, by = float(a[0]), float(a[1]), float(b[0]), float(b[1])
    if not all(np.isfinite((ax, ay, bx, by))):
        return
    height, width = image.shape[:2]
    x0, x1 = max(int(min(ax, bx) - radius), 0), min(int(max(ax, bx) + radius) + 2, width)
    y0, y1 = max(int(min(ay, by) - radius), 0), min(int(max(ay, by) + radius) + 2, height)
    if x0 >= x1 or y0 >= y1:
        return
    ys, xs = np.mgrid[y0:y1, x0:x1] + 0.5
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    t = np.zeros_like(xs) if length2 < 1e-12 else ((xs - ax) * dx + (ys - ay) * dy) / length2
    t = np.clip(t, 0.0, 1.0)
    inside = (xs - ax - t * dx) ** 2 + (ys - ay - t * dy) ** 2 <= radius * radius
    image[y0:y1, x0:x1][inside] = colour


def draw_disc(image: np.ndarray, centre: Sequence[float], radius: float, colour: Colour) -> None:
    """Fill a disc of ``radius`` pixels around ``centre`` (pixel x, y)."""
    draw_segment(image, centre, centre, radius, colour)


def tint(image: np.ndarray, mask: np.ndarray, colour: np.ndarray, alpha: float) -> None:
    """Mix ``colour`` (H, W, 3) floats in 0..1, or one RGB triple, into ``image`` where ``mask``
    (H, W) is set, with weight ``alpha``."""
    if not mask.any():
        return
    colour = np.broadcast_to(np.asarray(colour, dtype=np.float32), image.shape)
    mixed = (1 - alpha) * image[mask].astype(np.float32) + alpha * 255 * colour[mask]
    image[mask] = np.clip(mixed + 0.5, 0, 255).astype(np.uint8)
