"""``posebench fit-image``'s writer: fit a user's folder of keypoints and write one file per image.

The fitting itself is the image_fit task's ``folder`` protocol
(:func:`posebench.fitting.keypoints2d.fit_folder` with the task's config and the prior's
image_fit energy weight); this module only writes what it found.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch

from posebench.benchmark import components
from posebench.body.base import BodyModel
from posebench.core.atomic import atomic_path, atomic_write_json
from posebench.core.progress import NullProgress, Progress
from posebench.fitting.keypoints2d import FolderFit, fit_folder
from posebench.priors.base import Prior
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
    """Fit every image of ``images_dir`` and write, atomically, one ``<name>_fit.npz`` per fitted
    image (pose, root_orient, transl, shape if any, camera [f, cx, cy], image_size, projected and
    observed keypoints, kp2d_error_px) and ``summary.json`` (per image: fitted or "no person
    detected", its 2D error; the prior, its energy weight, the pose the fit started from
    (``start``, the prior's ``initial_pose_description``) and the config). ``config`` overrides
    the task's ``folder`` protocol config (a mapping or a YAML file). Returns the summary.
    """
    progress = progress or NullProgress()
    device = torch.device(device)
    task = components.load_task("image_fit")
    cfg = task.config("folder", config, quick=False)
    cfg["images"] = str(images_dir)
    weight, source = prior.energy_weight(task.name)
    result = fit_folder(prior, weight, body, images_dir, cfg, device, progress)
    out = Path(out_dir)
    _write_fits(result, out)
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
        "per_image": result.per_image(),
        "seconds": None if fit is None else fit.seconds,
        "iterations": None if fit is None else fit.steps,
        "config": json.loads(json.dumps(cfg, default=str)),
    }
    atomic_write_json(out / "summary.json", summary)
    return summary


def _write_fits(result: FolderFit, out: Path) -> None:
    """One ``<name>_fit.npz`` per item with a person, in the fit's row order."""
    fit, errors, projected = result.fit, result.errors, result.projected
    for k, item in enumerate(result.people):
        assert fit is not None and errors is not None and projected is not None
        assert item.keypoints is not None  # people are the items with keypoints
        arrays = {
            "pose": fit.pose[k].cpu().numpy(),
            "root_orient": fit.root_orient[k].cpu().numpy(),
            "transl": fit.transl[k].cpu().numpy(),
            "camera": np.array(item.camera.intrinsics),
            "image_size": np.array([item.camera.width, item.camera.height]),
            "keypoints_fitted": projected[k].cpu().numpy(),
            "keypoints_observed": item.keypoints,
            "kp2d_error_px": np.array(float(errors[k])),
        }
        if fit.shape is not None:
            arrays["shape"] = fit.shape[k].cpu().numpy()
        with atomic_path(out / f"{item.name}_fit.npz") as tmp, open(tmp, "wb") as handle:
            # cast: numpy's stub could bind a **kwargs key to its allow_pickle: bool parameter
            np.savez(handle, **cast(dict[str, Any], arrays))
