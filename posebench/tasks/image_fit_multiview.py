"""Image fitting on real photographs: the ``multiview`` protocol of the ``image_fit`` task.

Data: a calibrated four-camera recording of one person (:mod:`posebench.datasets.multiview`),
with detected OpenPose BODY_25 keypoints per view and a 3D reference triangulated from all four
views. **The reference is triangulated detector output, not motion capture**: its own error is
the detector's and the calibration's (its reprojection error is reported beside the priors as the
``data: triangulated reference`` row).

Each prior fits each view *alone*, from that view's keypoints (undistorted) and its intrinsics,
exactly as the ``synthetic`` protocol fits a view; the other views are used only to build the
reference. Frames: the kept frames of the recording, every ``multiview.frame_step``-th, at most
``multiview.max_frames`` evenly spaced (null: all), plus the frames that have pictures.

Metrics, per fitted view, on the *scored* keypoints: those triangulated in the frame and not in
``fit.ignore_keypoints`` (whose detector and body definitions differ):

* ``pa_mpjpe_mm``: the fitted body's BODY_25 keypoints against the reference in the view's camera
  frame after a similarity Procrustes alignment (scale included: the body's shape is the
  embedded body's, not the person's).
* ``mpjpe_mm``: the same after removing translation only (both centroids of the scored keypoints
  at the origin): it includes the body's size and the depth-direction errors of one view.
* ``kp2d_error_px``: as in every protocol, the fitted keypoints against the view's detections.
* ``failure_rate``: views with PA-MPJPE above ``failure_mm``.
* ``view_disagreement_mm``: per frame, the PA-MPJPE between the fits of every two of its views,
  mean over pairs and frames: how much a prior's answer depends on where the camera stood
  (reference-free).

Uncertainty: there is one recording, so the units are its cameras (``per_unit``: PA-MPJPE per
frame, grouped by camera): an interval over four viewpoints of one motion, not over people.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from posebench.body.base import NUM_BODY_JOINTS, BodyModel
from posebench.body.camera import project
from posebench.core.errors import InputError
from posebench.core.hashing import hash_arrays
from posebench.core.progress import Progress
from posebench.datasets.multiview import MultiviewRecording, load_multiview
from posebench.fitting.keypoints2d import (
    ImageFit,
    body25_of,
    fit_all,
    fitted_keypoints,
    fitted_mask,
    keypoint_error_px,
    observations,
)
from posebench.priors.base import Prior
from posebench.tasks.base import TaskResult
from posebench.tasks.metrics import finite_mean, mpjpe_mm, procrustes_align

#: The reference rows: the reference's own reprojection error, and the body fitted to it in 3D.
REFERENCE_ROW = "triangulated reference"
FLOOR_ROW = "body fitted to the reference in 3D"
#: Adam's step size for the 3D floor fit (axis-angle radians).
FLOOR_LR = 0.05


def evaluated_frames(recording: MultiviewRecording, config: Mapping[str, Any]) -> list[int]:
    """The frames the protocol fits: kept, every ``frame_step``-th, at most ``max_frames``
    evenly spaced, plus the picture frames (the same for every prior)."""
    settings = config["multiview"]
    kept = np.flatnonzero(recording.kept)[:: int(settings["frame_step"])]
    limit = settings.get("max_frames")
    if limit is not None and len(kept) > int(limit):
        kept = kept[np.round(np.linspace(0, len(kept) - 1, int(limit))).astype(int)]
    pictured = [int(f) for f in recording.picture_frames if recording.kept[f]]
    return sorted({*(int(f) for f in kept), *pictured})


def _centred(points: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """(B, K, 3) points minus the centroid of their masked keypoints."""
    weights = mask.to(points)[..., None]
    centroid = (points * weights).sum(dim=1, keepdim=True) / weights.sum(dim=1, keepdim=True)
    return points - centroid


def run_multiview(
    prior: Prior,
    weight: float,
    body: BodyModel,
    config: Mapping[str, Any],
    device: torch.device,
    progress: Progress,
) -> TaskResult:
    """Fit every evaluated (frame, view) and score it: the metrics above, the reference row, the
    per-camera units, the input hash and the fits of the views that have pictures."""
    started = time.perf_counter()
    recording = load_multiview(config["multiview"]["file"])
    frames = evaluated_frames(recording, config)
    items = [(f, v) for f in frames for v in range(len(recording.cameras))]
    ideal = recording.ideal_keypoints
    keypoints = [ideal[f, v] for f, v in items]
    cameras = [recording.cameras[v].pinhole() for _, v in items]
    observed = observations(keypoints, cameras, device)
    detected = (observed.keypoints[..., 2] > 0).any(dim=1)
    if not bool(detected.all()):
        missing = [items[i] for i in torch.nonzero(~detected).flatten().tolist()]
        raise InputError(
            f"multi-view file {recording.path}: no keypoints in (frame, view) {missing[:3]}; "
            "rebuild it with posebench data build-multiview"
        )
    fit = fit_all(prior, weight, body, observed, config, progress)
    fitted = fitted_keypoints(body, fit)
    reference = torch.tensor(
        np.stack([recording.reference_in_view(f, v) for f, v in items]),
        dtype=torch.float32,
        device=device,
    )
    not_ignored = fitted_mask(torch.ones_like(reference), config)
    scored = torch.isfinite(reference).all(dim=-1) & not_ignored
    reference = torch.nan_to_num(reference)
    pa = mpjpe_mm(procrustes_align(fitted, reference, scored), reference, scored)
    mpjpe = mpjpe_mm(_centred(fitted, scored), _centred(reference, scored), scored)
    used = fitted_mask(observed.keypoints, config)
    kp2d = keypoint_error_px(project(fitted, observed.camera), observed.keypoints, used)
    disagreement = _view_disagreement(fitted, scored, items)
    world = torch.tensor(recording.points3d[frames], dtype=torch.float32, device=device)
    world_scored = torch.isfinite(world).all(dim=-1) & not_ignored[:1]
    with torch.enable_grad():
        floor = body_floor_mm(
            body, torch.nan_to_num(world), world_scored, int(config["multiview"]["floor_steps"])
        )
    failure = float(config["failure_mm"])
    metrics: dict[str, float | None] = {
        "kp2d_error_px": finite_mean(kp2d),
        "mpjpe_mm": finite_mean(mpjpe),
        "pa_mpjpe_mm": finite_mean(pa),
        "failure_rate": 100.0 * float((pa > failure).float().mean()),
        "view_disagreement_mm": finite_mean(disagreement),
    }
    reference_error = _reference_error(recording, frames)
    names = [c.name for c in recording.cameras]
    triangulation = recording.meta["triangulation"]
    details = {
        "data": {
            "file": recording.path,
            "source": recording.meta["source"],
            "detector": recording.meta["detector"],
            "sync": recording.meta["sync"],
        },
        "reference": "keypoints triangulated from the 4 views' detections (not motion capture)",
        "triangulation": {
            **triangulation,
            "kept_share": triangulation["kept"] / triangulation["frames"],
            "mean_error_px_evaluated": reference_error,
        },
        "frames": frames,
        "views": len(items),
        "floor": {
            "what": FLOOR_ROW + ": its pose fitted to each frame's reference directly, no prior; "
            "the PA-MPJPE no fit from images can beat with this body",
            "steps": int(config["multiview"]["floor_steps"]),
            "pa_mpjpe_mm_per_frame": floor.tolist(),
        },
        "scored_keypoints": "triangulated in the frame and not in fit.ignore_keypoints",
        "alignment": {
            "pa_mpjpe_mm": "similarity Procrustes per view on the scored keypoints",
            "mpjpe_mm": "centroids of the scored keypoints subtracted (translation only)",
        },
        "per_view": {
            "frame": [f for f, _ in items],
            "camera": [names[v] for _, v in items],
            "kp2d_error_px": kp2d.tolist(),
            "mpjpe_mm": mpjpe.tolist(),
            "pa_mpjpe_mm": pa.tolist(),
            "scored_keypoints": scored.sum(dim=1).tolist(),
        },
        "iterations": fit.steps,
        "fit_seconds": fit.seconds,
        "seconds_per_view": fit.seconds / len(items),
        "stage_losses": fit.stage_losses,
        "wall_time_s": time.perf_counter() - started,
    }
    per_camera: dict[str, list[float]] = {name: [] for name in names}
    for (_, view), value in zip(items, pa.tolist(), strict=True):
        per_camera[names[view]].append(float(value))
    return TaskResult(
        metrics=metrics,
        details=details,
        inputs_hash=hash_arrays(observed.keypoints.cpu().numpy(), reference.cpu().numpy()),
        data_rows={
            REFERENCE_ROW: {"kp2d_error_px": reference_error},
            FLOOR_ROW: {"pa_mpjpe_mm": finite_mean(floor)},
        },
        per_unit={"unit": "camera", "item": "frame", "values": per_camera},
        arrays=_picture_fits(recording, fit, items),
        energy_weight=weight,
    )


def body_floor_mm(
    body: BodyModel, reference: torch.Tensor, scored: torch.Tensor, steps: int
) -> torch.Tensor:
    """(F,) the lowest PA-MPJPE the body reaches on each frame's reference (F, 25, 3) when its
    pose is fitted to it directly in 3D (no prior, closed-form similarity alignment at every
    step): what the body's own keypoint definitions and proportions leave over, a floor for
    every prior's PA-MPJPE. Adam from the rest pose, ``steps`` steps."""
    pose = torch.zeros(reference.shape[0], NUM_BODY_JOINTS, 3, device=reference.device)
    pose.requires_grad_(True)
    optimiser = torch.optim.Adam([pose], lr=FLOOR_LR)
    weights = scored.to(reference)[..., None]
    for _ in range(steps):
        optimiser.zero_grad()
        keypoints = body25_of(body.forward_skeleton(pose))
        aligned = procrustes_align(keypoints, reference, scored)
        loss = (((aligned - reference) ** 2) * weights).sum() / weights.sum()
        loss.backward()
        optimiser.step()
    with torch.no_grad():
        keypoints = body25_of(body.forward_skeleton(pose))
        return mpjpe_mm(procrustes_align(keypoints, reference, scored), reference, scored)


def _view_disagreement(
    fitted: torch.Tensor, scored: torch.Tensor, items: list[tuple[int, int]]
) -> torch.Tensor:
    """(frames,) mean over pairs of a frame's views of the PA-MPJPE between their fits."""
    by_frame: dict[int, list[int]] = {}
    for index, (frame, _) in enumerate(items):
        by_frame.setdefault(frame, []).append(index)
    pairs = [p for rows in by_frame.values() for p in itertools.combinations(rows, 2)]
    if not pairs:
        return torch.empty(0)
    a, b = (torch.tensor(side, device=fitted.device) for side in zip(*pairs, strict=True))
    mask = scored[a] & scored[b]
    error = mpjpe_mm(procrustes_align(fitted[a], fitted[b], mask), fitted[b], mask)
    frames = torch.tensor([items[i][0] for i in a.tolist()], device=fitted.device)
    return torch.stack([error[frames == f].mean() for f in by_frame])


def _reference_error(recording: MultiviewRecording, frames: list[int]) -> float:
    """Mean reprojection error (px) of the reference over the views each point was built from."""
    errors = recording.reprojection_error_px[frames][recording.used[frames]]
    return float(errors.mean())


def _picture_fits(
    recording: MultiviewRecording, fit: ImageFit, items: list[tuple[int, int]]
) -> dict[str, np.ndarray]:
    """The fitted parameters of the views that have pictures (drawn by the leaderboard)."""
    where = {item: i for i, item in enumerate(items)}
    chosen = [
        (p, v, where[(int(frame), v)])
        for p, frame in enumerate(recording.picture_frames)
        for v in range(len(recording.cameras))
        if (int(frame), v) in where
    ]
    if not chosen:
        return {}
    rows = torch.tensor([i for _, _, i in chosen])
    arrays = {
        "picture_view": np.array([(p, v) for p, v, _ in chosen], dtype=np.int64),
        "picture_pose": fit.pose[rows].detach().cpu().numpy(),
        "picture_root_orient": fit.root_orient[rows].detach().cpu().numpy(),
        "picture_transl": fit.transl[rows].detach().cpu().numpy(),
    }
    if fit.shape is not None:
        arrays["picture_shape"] = fit.shape[rows].detach().cpu().numpy()
    return arrays
