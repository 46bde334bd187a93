"""Pictures of real fits for the HTML leaderboard: each prior's fitted bodies drawn over the
multi-view recording's photographs (``image_fit@multiview``), with the fit-image overlay. The
pictures are the shipped recording's: runs on another recording (``multiview.file``) would be
drawn over the wrong photographs, so a board of such runs should be read without them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from posebench.body.base import BodyModel
from posebench.body.camera import project
from posebench.core.errors import PosebenchError
from posebench.core.npzio import read_npz
from posebench.datasets.multiview import MultiviewRecording, load_multiview
from posebench.render.overlay import draw_fit_overlay
from posebench.render.png import encode_png
from posebench.render.scene import tile

_FIT_KEYS = ("picture_view", "picture_pose", "picture_root_orient", "picture_transl")


@dataclass
class FitRow:
    """One prior's row of pictures: PNG bytes, the recording's frame shown and its source."""

    prior: str
    png: bytes
    frame: int
    source: Path


def _view_errors(result: Path) -> dict[tuple[int, str], float]:
    """(frame, camera) -> PA-MPJPE of each fitted view, from the run's result file (empty when
    it cannot be read: the pictures then go without their numbers)."""
    try:
        per_view = json.loads(result.read_text())["details"]["per_view"]
        keys = zip(per_view["frame"], per_view["camera"], strict=True)
        return dict(zip(keys, per_view["pa_mpjpe_mm"], strict=True))
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def _overlays(
    recording: MultiviewRecording,
    fits: dict[str, np.ndarray],
    body: BodyModel,
    index: int,
    errors: dict[tuple[int, str], float],
) -> list[np.ndarray]:
    """The fitted body over each view's picture ``index`` (views the run did not fit: none),
    each labelled with its PA-MPJPE where ``errors`` has it."""
    pictures = []
    frame = int(recording.picture_frames[index])
    for row, (picture, view) in enumerate(fits["picture_view"].tolist()):
        if picture != index:
            continue
        shape = fits.get("picture_shape")
        with torch.no_grad():
            posed = body(
                torch.as_tensor(fits["picture_pose"][row : row + 1], dtype=torch.float32),
                torch.as_tensor(fits["picture_root_orient"][row : row + 1], dtype=torch.float32),
                torch.as_tensor(fits["picture_transl"][row : row + 1], dtype=torch.float32),
                None if shape is None else torch.as_tensor(shape[row : row + 1]).float(),
            )
        camera = recording.picture_camera(index, view)
        assert posed.body25 is not None, "image fitting runs only bodies with BODY_25 keypoints"
        projected = project(posed.body25, torch.tensor([camera.intrinsics]))[0].numpy()
        vertices = None if posed.vertices is None else posed.vertices[0]
        observed = recording.picture_keypoints(index, view)
        background = recording.pictures[index, view]
        error = errors.get((frame, recording.cameras[view].name))
        note = None if error is None else f"pa-mpjpe {error:.0f} mm"  # the font: lower case
        pictures.append(
            draw_fit_overlay(
                background, camera, observed, projected, vertices, body.faces, note=note
            )
        )
    return pictures


def fit_rows(
    files: dict[str, Path], body: BodyModel, order: list[str], index: int = 0
) -> list[FitRow]:
    """One PNG row per prior in ``order`` with arrays: its fits of picture ``index``'s views."""
    recording = load_multiview()
    rows = []
    for prior in order:
        if prior not in files:
            continue
        try:
            fits = read_npz(files[prior], "arrays file", "run the task again", _FIT_KEYS)
        except PosebenchError:
            continue  # a damaged arrays file costs a picture, not the leaderboard
        errors = _view_errors(files[prior].with_suffix(".json"))
        pictures = _overlays(recording, fits, body, index, errors)
        if pictures:
            frame = int(recording.picture_frames[index])
            rows.append(FitRow(prior, encode_png(tile(pictures, columns=len(pictures))), frame,
                               files[prior]))  # fmt: skip
    return rows
