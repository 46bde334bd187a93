"""Pictures of each prior's samples for the HTML leaderboard, drawn with posebench's renderer."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from posebench.body.base import BodyModel
from posebench.core.errors import PosebenchError
from posebench.datasets.pose_files import read_poses
from posebench.render.png import encode_png
from posebench.render.scene import render_poses, tile
from posebench.render.settings import RenderSettings


@dataclass
class PoseRow:
    """One prior's row of pictures: PNG bytes, and how many of how many samples it shows."""

    prior: str
    png: bytes
    shown: int
    source: Path


def sample_rows(
    files: dict[str, Path], body: BodyModel, order: list[str], per_prior: int = 8,
    size: int = 144,
) -> list[PoseRow]:  # fmt: skip
    """The first ``per_prior`` kept samples of each prior in ``order``, as one PNG row each."""
    settings = RenderSettings(size=size)
    rows = []
    for prior in order:
        if prior not in files:
            continue
        try:
            pose = read_poses(files[prior])[:per_prior]
        except PosebenchError:
            continue  # a damaged arrays file costs a picture, not the leaderboard
        images = render_poses(body, pose, settings=settings)
        rows.append(PoseRow(prior, encode_png(tile(images, columns=per_prior)), len(pose),
                            files[prior]))  # fmt: skip
    return rows
