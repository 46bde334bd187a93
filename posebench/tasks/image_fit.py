"""Image fitting: fit the body to OpenPose BODY_25 keypoints, with every prior the same way.

Protocols:

* ``synthetic`` (default): the embedded synthetic set (:mod:`posebench.datasets.image_synth`)
  built in memory from ``n_views`` poses of the dataset's test split (chosen with a seeded
  stream, the same for every prior), with known cameras and 3D ground truth.
* ``multiview``: real photographs: a calibrated four-camera recording, each view fitted alone
  and scored against keypoints triangulated from all views
  (:mod:`posebench.tasks.image_fit_multiview`, whose docstring defines its metrics).
* ``folder``: a user's folder (config ``images``) of ``<name>.jpg|png`` with
  ``<name>_keypoints.json`` or ``<name>.json``, or of ``<name>_keypoints.json`` alone
  (keypoints-only, e.g. a written synthetic set). No 3D ground truth: only the 2D metric.

The fitter is :func:`posebench.fitting.keypoints2d.fit_all` (SMPLify-style, staged, robust
2D term, prior energy, bending prior, shape prior for bodies with shape). The body pose starts at
the prior's own start (:meth:`~posebench.priors.base.Prior.initial_pose`, e.g. the GMM's mean
pose or VPoser's z = 0), recorded in ``details["start"]``. Metrics:

* ``kp2d_error_px``: per view, the mean over the keypoints the fitter uses (detected, c > 0, and
  not in ``fit.ignore_keypoints``) of ‖projected − detected‖ in pixels; mean over views.
* ``kp2d_error_clean_px`` (synthetic): the same keypoints' distance to the noise-free detector
  keypoints, over every keypoint inside the image (dropped ones too).
* ``mpjpe_mm``: 22 SMPL joints in camera coordinates after subtracting each skeleton's pelvis
  (root-relative, as is standard for monocular fitting: absolute depth is not observable).
* ``pa_mpjpe_mm``: the 22 joints after a similarity Procrustes alignment (scale, rotation,
  translation) per view. Always the 22 skeleton joints, for every body model.
* Both joint errors (and the alignment) use only the joints whose positions the view's source
  motion determines: a joint below one the source did not capture is left out (per view count in
  ``per_view.scored_joints``); 22 for fully captured motion.
* ``mpvpe_mm``: every mesh vertex after subtracting the pelvis joint, over fully captured views.
* ``failure_rate``: percentage of views with PA-MPJPE above ``failure_mm``.

Camera for user folders: see :mod:`posebench.datasets.image_folder`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import roma
import torch

from posebench.body.base import BodyModel
from posebench.body.camera import project
from posebench.body.keypoints import BODY25_NAMES
from posebench.core.config import packaged_config
from posebench.core.errors import InputError
from posebench.core.hashing import hash_arrays
from posebench.core.progress import Progress
from posebench.core.schema import (
    Rule,
    above,
    at_least,
    between,
    integer,
    items,
    number,
    one_of,
    path,
)
from posebench.core.seeding import numpy_rng
from posebench.datasets.base import Dataset
from posebench.datasets.image_synth import View, definition_record, make_synthetic_views, views_hash
from posebench.datasets.multiview import load_multiview
from posebench.fitting.keypoints2d import (
    ImageFit,
    Observations,
    body25_of,
    fit_all,
    fit_folder,
    fitted_mask,
    keypoint_error_px,
    observations,
)
from posebench.priors.base import Prior
from posebench.tasks.base import Metric, Task, TaskResult
from posebench.tasks.image_fit_multiview import run_multiview
from posebench.tasks.metrics import finite_mean, mpjpe_mm, position_joints, procrustes_align

_KEYPOINT = one_of(*BODY25_NAMES)
_SPAN = items(number(), length=2)  # [low, high] of a uniform draw
#: Ranges and choices of the image_fit config (:mod:`posebench.core.schema`).
CONFIG_SCHEMA: dict[str, Rule] = {
    "n_views": at_least(1),
    "batch_views": at_least(1),
    "images": path(),
    "image_size": items(integer(min=1), length=2),  # [W, H]
    "focal_length": number(above=0),
    "person_index": integer(min=0),
    "synthetic.image_sizes": items(items(integer(min=1), length=2), min_length=1),
    "synthetic.focal_scale": items(number(above=0), length=2),
    "synthetic.person_height": items(number(above=0), length=2),
    "synthetic.centre_jitter": at_least(0),
    "synthetic.yaw_deg": _SPAN,
    "synthetic.pitch_deg": _SPAN,
    "synthetic.roll_deg": _SPAN,
    "synthetic.noise.pixel_sigma": at_least(0),
    "synthetic.noise.min_confidence": between(0, 1),
    "synthetic.noise.drop_rate": between(0, 1),
    "fit.ignore_keypoints": items(_KEYPOINT),
    "fit.data_sigma_px": above(0),  # the data term divides by 2 s^2
    "fit.gmof_sigma_px": above(0),
    "fit.camera.keypoints": items(_KEYPOINT, min_length=1),
    "fit.camera.orientations": at_least(1),
    "fit.camera.depth_weight": at_least(0),
    "fit.camera.side_view_ratio": at_least(0),
    "fit.camera.steps": at_least(0),
    "fit.camera.lr": at_least(0),
    "fit.stages.prior_scale": items(at_least(0), min_length=1),
    "fit.stages.bending": items(at_least(0), min_length=1),
    "fit.stages.shape": items(at_least(0), min_length=1),
    "fit.stages.steps": at_least(0),
    "fit.stages.lr": at_least(0),
    "failure_mm": above(0),
    "multiview.file": path(),
    "multiview.frame_step": at_least(1),
    "multiview.max_frames": integer(min=1),
    "multiview.floor_steps": at_least(0),
}


def _shape_note(body: BodyModel) -> str:
    if body.num_betas:
        return f"fitted: {body.num_betas} shape parameters with an L2 prior"
    return f"not applicable: body '{body.name}' has no shape parameters"


def _angle_deg(rotvec: torch.Tensor, other: torch.Tensor) -> torch.Tensor:
    """(B,) angle in degrees between two batches of axis-angle rotations."""
    rotations = roma.rotvec_to_rotmat(rotvec), roma.rotvec_to_rotmat(other)
    return torch.rad2deg(roma.rotmat_geodesic_distance(*rotations))


# --------------------------------------------------------------------------- the task


class ImageFitTask(Task):
    """Fit the body to 2D keypoints SMPLify-style; 2D error always, 3D errors with ground truth."""

    name = "image_fit"
    #: 2: the body pose starts at the prior's initial_pose (was the rest pose for every prior).
    version = "2"
    protocols = ("synthetic", "folder", "multiview")
    metrics: ClassVar[dict[str, Metric]] = {
        "kp2d_error_px": Metric("px", False, "fitted keypoints vs detections (c > 0), mean"),
        "kp2d_error_clean_px": Metric("px", False, "fitted vs noise-free keypoints (synthetic)"),
        "mpjpe_mm": Metric(
            "mm",
            False,
            "3D joint error, root-aligned (synthetic: captured of 22 joints, "
            "pelvis; multiview: triangulated BODY_25 keypoints, centroid)",
        ),
        "pa_mpjpe_mm": Metric(
            "mm",
            False,
            "3D joint error after similarity Procrustes (synthetic: captured of "
            "22 joints; multiview: triangulated BODY_25 keypoints)",
        ),
        "mpvpe_mm": Metric("mm", False, "mesh vertex error, pelvis-aligned"),
        "failure_rate": Metric("%", False, "views with PA-MPJPE above failure_mm"),
        "view_disagreement_mm": Metric(
            "mm", False, "PA-MPJPE between fits of one frame from different views (multiview)"
        ),
    }
    main_metric = "pa_mpjpe_mm"
    default_config = packaged_config("tasks/image_fit.yaml")
    config_schema: ClassVar[dict[str, Rule]] = CONFIG_SCHEMA
    #: The prior's energy is weighed against the 2D term, so ``posebench tune`` (on main) may
    #: tune its weight on the ``val`` split (the config's ``split`` key).
    weighs_prior_energy: ClassVar[bool] = True

    def check_inputs(self, config: Mapping[str, Any]) -> None:
        """The multi-view protocol's recording must load (a user's ``multiview.file`` may not)."""
        if config["protocol"] == "multiview":
            load_multiview(config["multiview"]["file"])

    def run(
        self,
        prior: Prior,
        dataset: Dataset,
        body: BodyModel,
        config: Mapping[str, Any],
        device: torch.device,
        seed: int,
        progress: Progress,
    ) -> TaskResult:
        if config["protocol"] == "folder":
            return self._run_folder(prior, body, config, device, progress)
        if config["protocol"] == "multiview":
            weight, source = prior.energy_weight(self.name)
            result = run_multiview(prior, weight, body, config, device, progress)
            result.metrics = {key: result.metrics.get(key) for key in self.metrics}
            result.details["shape_prior"] = _shape_note(body)
            result.details["start"] = prior.initial_pose_description
            result.energy_weight_source = source
            return result
        return self._run_synthetic(prior, dataset, body, config, device, seed, progress)

    # --- synthetic ---------------------------------------------------------------------------

    def synthetic_views(
        self, dataset: Dataset, body: BodyModel, config: Mapping[str, Any], seed: int
    ) -> tuple[list[View], list[int]]:
        """The protocol's views (the same for every prior) and the pose indices they use."""
        poses = dataset.poses(config["split"])
        n = min(int(config["n_views"]), len(poses))
        if n < 1:
            raise InputError(f"dataset '{dataset.name}' split {config['split']} has no poses")
        rng = numpy_rng(seed, "image_fit", "views")
        chosen = sorted(int(i) for i in rng.choice(len(poses), size=n, replace=False))
        views = make_synthetic_views(poses[chosen], body, seed, config["synthetic"])
        return views, chosen

    def _run_synthetic(
        self,
        prior: Prior,
        dataset: Dataset,
        body: BodyModel,
        config: Mapping[str, Any],
        device: torch.device,
        seed: int,
        progress: Progress,
    ) -> TaskResult:
        started = time.perf_counter()
        views, chosen = self.synthetic_views(dataset, body, config, seed)
        fitted_views = [v for v in views if v.detected]
        weight, source = prior.energy_weight(self.name)
        details: dict[str, Any] = {
            "views": len(views),
            "pose_indices": chosen,
            "view_names": [v.name for v in views],
            "no_person": [v.name for v in views if not v.detected],
            "shape_prior": _shape_note(body),
            "start": prior.initial_pose_description,
            "synthetic": {**definition_record(), "config": dict(config["synthetic"])},
            "alignment": {
                "mpjpe_mm": "the captured of the 22 joints, pelvis subtracted",
                "pa_mpjpe_mm": "the captured of the 22 joints, similarity Procrustes per view",
                "kp2d_error_px": "detected (c > 0) keypoints not in fit.ignore_keypoints",
            },
        }
        metrics: dict[str, float | None] = dict.fromkeys(self.metrics)
        if fitted_views:
            observed = observations(
                [v.keypoints for v in fitted_views], [v.camera for v in fitted_views], device
            )
            fit = fit_all(prior, weight, body, observed, config, progress)
            detected = [v.detected for v in views]
            captured = dataset.observed(config["split"])[chosen][detected].to(device)
            per_view = self._score_synthetic(
                body, fit, fitted_views, observed, config, device, captured
            )
            metrics.update(per_view.pop("metrics"))
            details.update(per_view)
            details.update(_run_record(fit, len(fitted_views)))
        details["wall_time_s"] = time.perf_counter() - started
        return TaskResult(
            metrics=metrics,
            details=details,
            inputs_hash=views_hash(views),
            energy_weight=weight,
            energy_weight_source=source,
            per_unit=_per_clip(dataset, config["split"], views, chosen, details.get("per_view")),
        )

    def _score_synthetic(
        self,
        body: BodyModel,
        fit: ImageFit,
        views: list[View],
        observed: Observations,
        config: Mapping[str, Any],
        device: torch.device,
        captured: torch.Tensor,
    ) -> dict[str, Any]:
        """Metrics and per-view numbers of a fit against the views' ground truth, on the joints
        whose positions the rotations each view's source captured (``captured``, (V, 22) bool)
        determine; vertex errors on fully captured views only.
        """
        scored = position_joints(captured)

        def stack(key: str) -> torch.Tensor:
            return torch.tensor(
                np.stack([getattr(v, key) for v in views]), dtype=torch.float32, device=device
            )

        fitted = body.forward_batched(fit.pose, fit.root_orient, fit.transl, fit.shape, chunk=128)
        joints, vertices = fitted.joints, fitted.vertices
        truth = body.forward_batched(
            stack("pose"), stack("root_orient"), stack("transl"), chunk=128
        )
        gt_joints = stack("joints")
        clean = stack("clean")
        projected = project(body25_of(fitted), observed.camera)
        used = fitted_mask(observed.keypoints, config)
        in_image = (clean[..., 2] > 0) & fitted_mask(torch.ones_like(clean), config)
        kp2d = keypoint_error_px(projected, observed.keypoints, used)
        kp2d_clean = keypoint_error_px(projected, clean, in_image)
        # where the body stages started: the prior's start pose, the camera stage's root
        start = body.forward_batched(
            fit.init_pose, fit.init_root_orient, fit.init_transl, chunk=128
        )
        init_kp2d = keypoint_error_px(
            project(body25_of(start), observed.camera), observed.keypoints, used
        )
        mpjpe = mpjpe_mm(joints - joints[:, :1], gt_joints - gt_joints[:, :1], scored)
        pa = mpjpe_mm(procrustes_align(joints, gt_joints, scored), gt_joints, scored)
        mpvpe = None
        complete = captured.all(dim=1)  # vertices move with every joint: complete views only
        if vertices is not None and truth.vertices is not None and bool(complete.any()):
            mpvpe = mpjpe_mm(
                (vertices - joints[:, :1])[complete],
                (truth.vertices - truth.joints[:, :1])[complete],
            )
        truth_body25 = body25_of(truth)
        gap_px = keypoint_error_px(project(truth_body25, observed.camera), clean, clean[..., 2] > 0)
        gap_mm = mpjpe_mm(truth_body25, stack("points3d"))
        depth_error = (fit.init_depth - gt_joints[:, 0, 2]).abs() / gt_joints[:, 0, 2]
        root_error = _angle_deg(fit.root_orient, stack("root_orient"))
        init_root_error = _angle_deg(fit.init_root_orient, stack("root_orient"))
        failure = float(config["failure_mm"])
        return {
            "metrics": {
                "kp2d_error_px": finite_mean(kp2d),
                "kp2d_error_clean_px": finite_mean(kp2d_clean),
                "mpjpe_mm": finite_mean(mpjpe),
                "pa_mpjpe_mm": finite_mean(pa),
                "mpvpe_mm": None if mpvpe is None else finite_mean(mpvpe),
                "failure_rate": 100.0 * float((pa > failure).float().mean()),
            },
            "per_view": {
                "name": [v.name for v in views],
                "kp2d_error_px": kp2d.tolist(),
                "kp2d_error_clean_px": kp2d_clean.tolist(),
                "init_kp2d_error_px": init_kp2d.tolist(),
                "mpjpe_mm": mpjpe.tolist(),
                "pa_mpjpe_mm": pa.tolist(),
                "root_orient_error_deg": root_error.tolist(),
                "init_root_orient_error_deg": init_root_error.tolist(),
                "fitted_twice": fit.fitted_twice.tolist(),
                "turned": fit.turned.tolist(),
                "init_depth_rel_error": depth_error.tolist(),
                "scored_joints": scored.sum(dim=1).tolist(),
            },
            "init_kp2d_error_px": finite_mean(init_kp2d),
            "init_depth_rel_error": finite_mean(depth_error),
            "root_orient_error_deg": finite_mean(root_error),
            "init_root_orient_error_deg": finite_mean(init_root_error),
            "definition_gap": {
                "what": "detector keypoints vs the fitter's BODY_25 regressor on the true pose",
                "px": finite_mean(gap_px),
                "mm": finite_mean(gap_mm),
            },
        }

    # --- folder ------------------------------------------------------------------------------

    def _run_folder(
        self,
        prior: Prior,
        body: BodyModel,
        config: Mapping[str, Any],
        device: torch.device,
        progress: Progress,
    ) -> TaskResult:
        if not config.get("images"):
            raise InputError(
                "task image_fit protocol folder needs images: DIR (set it with --task-config)"
            )
        started = time.perf_counter()
        weight, source = prior.energy_weight(self.name)
        result = fit_folder(prior, weight, body, config["images"], config, device, progress)
        metrics: dict[str, float | None] = dict.fromkeys(self.metrics)
        details: dict[str, Any] = {
            "images": str(config["images"]),
            "per_image": result.per_image(),
            "shape_prior": _shape_note(body),
            "start": prior.initial_pose_description,
        }
        if result.fit is not None and result.errors is not None:
            metrics["kp2d_error_px"] = finite_mean(result.errors)
            details.update(_run_record(result.fit, len(result.people)))
        details["wall_time_s"] = time.perf_counter() - started
        keypoints = result.people_keypoints
        return TaskResult(
            metrics=metrics,
            details=details,
            inputs_hash=hash_arrays(np.stack(keypoints)) if keypoints else None,
            energy_weight=weight,
            energy_weight_source=source,
        )


def _run_record(fit: ImageFit, n_views: int) -> dict[str, Any]:
    """What a fit cost: optimiser steps, seconds (in all and per view) and the stage losses."""
    return {
        "iterations": fit.steps,
        "fit_seconds": fit.seconds,
        "seconds_per_view": fit.seconds / max(n_views, 1),
        "stage_losses": fit.stage_losses,
    }


def _per_clip(
    dataset: Dataset,
    split: str,
    views: list[View],
    chosen: list[int],
    per_view: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """PA-MPJPE of the fitted views grouped by the clip their pose came from (views of one clip
    are not independent), or one unit per view when the dataset names no clips."""
    if not per_view:
        return {}
    clips = dataset.pose_clips(split)
    by_name = dict(zip(per_view["name"], per_view["pa_mpjpe_mm"], strict=True))
    values: dict[str, list[float]] = {}
    for view, pose_index in zip(views, chosen, strict=True):
        error = by_name.get(view.name)
        if error is None or not math.isfinite(error):
            continue  # not fitted (no person) or nothing scored
        unit = clips[pose_index] if clips is not None else view.name
        values.setdefault(unit, []).append(float(error))
    return {"unit": "clip" if clips is not None else "view", "item": "view", "values": values}
