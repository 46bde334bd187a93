"""Poses to pictures: pose the body, frame it, draw it as a shaded mesh or a skeleton, tile them."""

from __future__ import annotations

import numpy as np
import torch

from posebench.body.base import BodyModel
from posebench.core.threads import torch_threads
from posebench.render.font import draw_lines
from posebench.render.raster import shade_mesh, shade_skeleton
from posebench.render.settings import RenderSettings

MESH_COLOR = (0.62, 0.74, 0.90)  # light blue clay
LEFT_COLOR, RIGHT_COLOR, CENTRE_COLOR = (0.20, 0.45, 0.85), (0.85, 0.30, 0.25), (0.35, 0.35, 0.35)
BACKGROUND = (1.0, 1.0, 1.0)
LABEL_COLOUR = (30, 30, 30)
LABEL_BOX = (round(255 * BACKGROUND[0]), round(255 * BACKGROUND[1]), round(255 * BACKGROUND[2]))


def joint_colors(names: tuple[str, ...]) -> torch.Tensor:
    """(J, 3) colours: the body's left blue, right red, the spine grey (as in OpenPose figures)."""
    table = {"left": LEFT_COLOR, "right": RIGHT_COLOR}
    return torch.tensor([table.get(name.split("_")[0], CENTRE_COLOR) for name in names])


def _downsample(image: torch.Tensor, factor: int) -> torch.Tensor:
    if factor == 1:
        return image
    height, width = image.shape[0] // factor, image.shape[1] // factor
    return image.reshape(height, factor, width, factor, -1).mean(dim=(1, 3))


def _compose(colour: torch.Tensor, coverage: torch.Tensor, factor: int) -> np.ndarray:
    """Background where nothing was drawn, box-filtered down by ``factor``, as uint8 RGB."""
    background = torch.tensor(BACKGROUND, dtype=colour.dtype)
    image = torch.where(coverage[..., None], colour, background)
    image = _downsample(image, factor)
    return (image.clamp(0, 1) * 255 + 0.5).to(torch.uint8).numpy()


@torch.no_grad()
def render_poses(
    body: BodyModel,
    pose: torch.Tensor,
    root_orient: torch.Tensor | None = None,
    settings: RenderSettings | None = None,
    batch_size: int = 64,
) -> list[np.ndarray]:
    """One (size, size, 3) uint8 picture per pose in ``pose`` (N, 21, 3), each centred on itself.

    The camera keeps its distance for every pose, so sizes compare across pictures. Bodies
    without a mesh are drawn as skeletons whatever the mode.
    """
    with torch_threads(1):  # small per-picture work: one thread, fast even on a busy machine
        return _render_poses(body, pose, root_orient, settings or RenderSettings(), batch_size)


def _render_poses(
    body: BodyModel,
    pose: torch.Tensor,
    root_orient: torch.Tensor | None,
    settings: RenderSettings,
    batch_size: int,
) -> list[np.ndarray]:
    camera = settings.camera.scaled(settings.supersample)
    images: list[np.ndarray] = []
    faces = body.faces
    mesh_faces = faces if settings.mode == "mesh" else None  # None: draw skeletons
    colors = joint_colors(body.joint_names)
    for start in range(0, len(pose), batch_size):
        chunk = pose[start : start + batch_size]
        root = None if root_orient is None else root_orient[start : start + batch_size]
        output = body(chunk, root, None)
        for index in range(len(chunk)):
            joints = output.joints[index].float()
            if mesh_faces is not None and output.vertices is not None:
                vertices = output.vertices[index].float()
                target = 0.5 * (vertices.amin(dim=0) + vertices.amax(dim=0))
                colour, coverage = shade_mesh(vertices, mesh_faces.to(vertices.device), camera,
                                              target, MESH_COLOR)  # fmt: skip
            else:
                target = 0.5 * (joints.amin(dim=0) + joints.amax(dim=0))
                colour, coverage = shade_skeleton(joints, body.parents, colors, camera, target)
            images.append(_compose(colour, coverage, settings.supersample))
    return images


def tile(images: list[np.ndarray], columns: int, gap: int = 4) -> np.ndarray:
    """Images of one size side by side, ``columns`` per row, on the background colour."""
    if not images:
        raise ValueError("no images to tile")
    columns = max(1, min(columns, len(images)))
    rows = -(-len(images) // columns)
    height, width = images[0].shape[:2]
    fill = np.array([round(255 * c) for c in BACKGROUND], np.uint8)
    canvas = np.empty((rows * height + (rows - 1) * gap, columns * width + (columns - 1) * gap, 3),
                      np.uint8)  # fmt: skip
    canvas[:] = fill
    for index, image in enumerate(images):
        row, column = divmod(index, columns)
        y, x = row * (height + gap), column * (width + gap)
        canvas[y : y + height, x : x + width] = image
    return canvas


def label_scale(image: np.ndarray) -> int:
    """Font pixels per picture pixel for labels: 1 up to 319 px, then one more per 160 px."""
    return max(1, min(image.shape[:2]) // 160)


def label(image: np.ndarray, lines: list[str]) -> np.ndarray:
    """Draw ``lines`` (step, distance) into the top-left corner of a picture, in place, each on
    a box of the background colour so that a body reaching into the corner does not hide them."""
    scale = label_scale(image)
    draw_lines(image, lines, 2 * scale, 2 * scale, scale, LABEL_COLOUR, LABEL_BOX)
    return image
