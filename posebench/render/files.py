"""Pose, path and motion files to PNG pictures: what ``posebench render`` and ``--render`` write.

A file with ``steps_pose_body`` (projection steps) or ``path_pose_body`` (interpolation paths),
both (S, K, 63), becomes one strip per pose or path, a few steps from first to last, each picture
labelled with its step and, where the file holds them (``steps_energy``, written by ``project
--save-steps``), the prior's distance ``d`` (Pose-NDF) or energy ``E`` of that pose; any other
pose, motion, fit or AMASS file becomes one picture per pose (with its ``root_orient`` where it
has one, turned upright from AMASS's z up or a fit's camera frame). Either way ``grid.png``
shows everything in one image. Files are read by
:func:`~posebench.datasets.pose_files.read_pose_file`, as ``posebench view`` reads them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from posebench.body.base import BodyModel
from posebench.core.errors import ConfigError, InputError
from posebench.datasets.pose_files import (
    file_meta,
    read_pose_file,
    read_sequence_energies,
    upright_root,
)
from posebench.priors.base import DISTANCE_PRIORS
from posebench.render.png import write_png
from posebench.render.scene import RenderSettings, label, render_poses, tile


@dataclass
class Rendered:
    """What was written: the pictures, the grid, and how many items were left out by ``limit``."""

    pictures: list[Path]
    grid: Path
    left_out: int


def strip_indices(length: int, count: int) -> list[int]:
    """Up to ``count`` indices spread evenly over ``range(length)``, first and last included."""
    if length <= count:
        return list(range(length))
    return sorted({round(i * (length - 1) / (count - 1)) for i in range(count)})


def step_label(step: int, energy: float | None = None, symbol: str = "d") -> list[str]:
    """The label lines of one picture of a strip: its step, and the pose's distance or energy."""
    return [f"step {step}"] + ([] if energy is None else [f"{symbol}={energy:.3g}"])


def render_file(
    source: str | Path,
    out_dir: str | Path,
    body: BodyModel,
    settings: RenderSettings | None = None,
    *,
    limit: int = 64,
    every: int = 1,
    frames: int = 6,
    columns: int = 8,
    device: torch.device | str = "cpu",
) -> Rendered:
    """Render the poses in ``source`` to PNG files in ``out_dir`` (see the module docstring)."""
    if limit < 1 or every < 1 or frames < 2 or columns < 1:
        raise ConfigError("--limit, --every and --columns must be at least 1, --frames at least 2")
    source, out_dir = Path(source), Path(out_dir)
    settings = settings or RenderSettings()
    pose_file = read_pose_file(source)
    pictures: list[Path] = []
    if pose_file.sequence is not None:
        key, poses = pose_file.sequence
        kind = key.split("_")[0]  # steps_pose_body -> steps_0000.png, path_pose_body -> path_...
        chosen = strip_indices(len(poses), frames)
        items = list(range(0, poses.shape[1], every))
        left_out = max(0, len(items) - limit)
        items = items[:limit]
        shape = (int(poses.shape[0]), int(poses.shape[1]))
        energies = read_sequence_energies(pose_file.arrays, source, key, shape)
        symbol = "d" if file_meta(pose_file.arrays).get("prior") in DISTANCE_PRIORS else "E"
        strips = []
        for item in items:
            images = render_poses(body, poses[chosen, item].to(device), settings=settings)
            for step, image in zip(chosen, images, strict=True):
                energy = None if energies is None else float(energies[step, item])
                label(image, step_label(step, energy, symbol))
            strips.append(tile(images, columns=len(images)))
            pictures.append(write_png(out_dir / f"{kind}_{item:04d}.png", strips[-1]))
        grid = tile(strips, columns=1)
    else:
        motion = pose_file.motion
        assert motion is not None  # a file without a sequence is a motion
        pose = motion.pose_body
        if pose is None or len(pose) == 0:
            raise InputError(f"{source} holds no poses (pose_body or pose) to draw")
        root = upright_root(motion.root_orient, motion.world, len(pose))
        items = list(range(0, len(pose), every))
        left_out = max(0, len(items) - limit)
        items = items[:limit]
        images = render_poses(
            body,
            pose[items].to(device),
            None if root is None else root[items].to(device),
            settings=settings,
        )
        for item, image in zip(items, images, strict=True):
            pictures.append(write_png(out_dir / f"pose_{item:04d}.png", image))
        grid = tile(images, columns=columns)
    return Rendered(pictures, write_png(out_dir / "grid.png", grid), left_out)
