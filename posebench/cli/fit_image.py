"""``posebench fit-image``'s writer: fit a user's folder of keypoints and write, per image, the fit
and a picture of it.

The fitting itself is the image_fit task's ``folder`` protocol
(:func:`posebench.fitting.keypoints2d.fit_folder` with the task's config and the prior's
image_fit energy weight); this module only writes what it found, and draws it
(:mod:`posebench.render.overlay`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from posebench.benchmark import components
from posebench.body.base import BodyModel
from posebench.body.camera import CONVENTION
from posebench.core.atomic import atomic_write_json
from posebench.core.npzio import write_npz
from posebench.core.progress import NullProgress, Progress
from posebench.fitting.keypoints2d import FolderFit, fit_folder
from posebench.priors.base import Prior
from posebench.render.overlay import draw_fit_overlay, read_photo
from posebench.render.png import write_png
from posebench.tasks.metrics import finite_mean


def fit_images(
    prior: Prior,
    body: BodyModel,
    images_dir: str | Path,
    out_dir: str | Path,
    config: Mapping[str, Any] | str | None = None,
    device: torch.device | str = "cpu",
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Fit every image of ``images_dir`` and write, atomically, one ``<name>_fit.npz`` and one
    ``<name>_overlay.png`` per fitted image and ``summary.json`` (per image: fitted or "no person
    detected", its 2D error, its overlay and what is behind it (the photo, or why a blank
    canvas); the prior, its energy weight, the pose the fit started from (``start``, the prior's
    ``initial_pose_description``) and the config). ``config`` overrides the task's ``folder``
    protocol config (a mapping or a YAML file). Returns the summary.

    A fit file is a one-pose pose file that ``posebench render`` and ``view`` read as it is:
    ``pose_body`` (1, 63) axis-angle, ``root_orient`` (1, 3) and ``transl`` (1, 3) in the camera's
    frame (OpenCV: x right, y down, z forward), ``shape`` (1, B) for bodies with shape, and for
    the picture ``camera`` [f, cx, cy], ``image_size`` [W, H], ``keypoints_fitted`` (25, 2),
    ``keypoints_observed`` (25, 3) and ``kp2d_error_px``.
    """
    progress = progress or NullProgress()
    device = torch.device(device)
    task = components.load_task("image_fit")
    cfg = task.config("folder", config, quick=False)
    cfg["images"] = str(images_dir)
    weight, source = prior.energy_weight(task.name)
    result = fit_folder(prior, weight, body, images_dir, cfg, device, progress)
    out = Path(out_dir)
    _write_fits(result, out, {"prior": prior.name, "body_model": body.name})
    overlays = _write_overlays(result, body, out)
    per_image = result.per_image()
    for entry in per_image:
        if entry["name"] in overlays:
            entry["overlay"], entry["overlay_background"] = overlays[entry["name"]]
    fit, errors = result.fit, result.errors
    summary = {
        "images": str(images_dir),
        "prior": {"name": prior.name, "version": prior.version},
        "body_model": body.name,
        "energy_weight": weight,
        "energy_weight_source": source,
        "start": prior.initial_pose_description,
        "fitted": len(result.people),
        "no_person": len(result.items) - len(result.people),
        "kp2d_error_px": None if errors is None else finite_mean(errors),
        "per_image": per_image,
        "seconds": None if fit is None else fit.seconds,
        "iterations": None if fit is None else fit.steps,
        "config": json.loads(json.dumps(cfg, default=str)),
    }
    atomic_write_json(out / "summary.json", summary)
    return summary


def _write_fits(result: FolderFit, out: Path, meta: dict[str, Any]) -> None:
    """One ``<name>_fit.npz`` per item with a person, in the fit's row order."""
    fit, errors, projected = result.fit, result.errors, result.projected
    for k, item in enumerate(result.people):
        assert fit is not None and errors is not None and projected is not None
        assert item.keypoints is not None  # people are the items with keypoints
        arrays = {
            "pose_body": fit.pose[k].reshape(1, 63).cpu().numpy(),
            "root_orient": fit.root_orient[k].reshape(1, 3).cpu().numpy(),
            "transl": fit.transl[k].reshape(1, 3).cpu().numpy(),
            "camera": np.array(item.camera.intrinsics),
            "image_size": np.array([item.camera.width, item.camera.height]),
            "keypoints_fitted": projected[k].cpu().numpy(),
            "keypoints_observed": item.keypoints,
            "kp2d_error_px": np.array(float(errors[k])),
        }
        if fit.shape is not None:
            arrays["shape"] = fit.shape[k].reshape(1, -1).cpu().numpy()
        write_npz(
            out / f"{item.name}_fit.npz", arrays, {**meta, "image": item.name, "frame": CONVENTION}
        )


def _write_overlays(result: FolderFit, body: BodyModel, out: Path) -> dict[str, tuple[str, str]]:
    """One ``<name>_overlay.png`` per item with a person: the fitted mesh and both keypoint sets
    over the photo (or a blank canvas); returns name -> (file name, what is behind it)."""
    fit, errors, projected = result.fit, result.errors, result.projected
    written = {}
    for k, item in enumerate(result.people):
        assert fit is not None and errors is not None and projected is not None
        assert item.keypoints is not None  # people are the items with keypoints
        with torch.no_grad():
            shape = None if fit.shape is None else fit.shape[k : k + 1]
            posed = body(fit.pose[k : k + 1], fit.root_orient[k : k + 1],
                         fit.transl[k : k + 1], shape)  # fmt: skip
        vertices = None if posed.vertices is None else posed.vertices[0]
        photo, background = read_photo(item.image, item.camera)
        picture = draw_fit_overlay(
            photo, item.camera, item.keypoints, projected[k].cpu().numpy(), vertices,
            body.faces, float(errors[k]),
        )  # fmt: skip
        path = write_png(out / f"{item.name}_overlay.png", picture)
        written[item.name] = (path.name, background)
    return written
