"""Image fitting: fit the body to OpenPose BODY_25 keypoints, with every prior the same way.

Protocols:

* ``synthetic`` (default): the embedded synthetic set (:mod:`posebench.datasets.image_synth`)
  built in memory from ``n_views`` poses of the dataset's test split (chosen with a seeded
  stream, the same for every prior), with known cameras and 3D ground truth.
* ``folder``: a user's folder (config ``images``) of ``<name>.jpg|png`` with
  ``<name>_keypoints.json`` or ``<name>.json``, or of ``<name>_keypoints.json`` alone
  (keypoints-only, e.g. a written synthetic set). No 3D ground truth: only the 2D metric.

The fitter is :func:`posebench.fitting.keypoints2d.fit_views` (SMPLify-style, staged, robust
2D term, prior energy, bending prior, shape prior for bodies with shape). Metrics:

* ``kp2d_error_px``: per view, the mean over the keypoints the fitter uses (detected, c > 0, and
  not in ``fit.ignore_keypoints``) of ‖projected − detected‖ in pixels; mean over views.
* ``kp2d_error_clean_px`` (synthetic): the same keypoints' distance to the noise-free detector
  keypoints, over every keypoint inside the image (dropped ones too).
* ``mpjpe_mm``: 22 SMPL joints in camera coordinates after subtracting each skeleton's pelvis
  (root-relative, as is standard for monocular fitting: absolute depth is not observable).
* ``pa_mpjpe_mm``: the 22 joints after a similarity Procrustes alignment (scale, rotation,
  translation) per view. Always the 22 skeleton joints, for every body model.
* ``mpvpe_mm``: every mesh vertex after subtracting the pelvis joint.
* ``failure_rate``: percentage of views with PA-MPJPE above ``failure_mm``.

Camera for user folders: ``<name>_camera.json`` when present (as the synthetic writer makes);
else the image size from the image (PNG/JPEG header) or config ``image_size``, principal point
at the centre and focal length ``focal_length`` or, by default, the image diagonal
``sqrt(W² + H²)`` (a ~53° diagonal field of view, DPoser's choice for full images; SMPLify-X's
5000 px suits only tight crops).
"""

from __future__ import annotations

import json
import math
import struct
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import roma
import torch

from posebench.body.base import BodyModel
from posebench.core.atomic import atomic_path, atomic_write_json
from posebench.core.config import packaged_config
from posebench.core.errors import InputError
from posebench.core.hashing import hash_arrays
from posebench.core.progress import NullProgress, Progress
from posebench.core.seeding import numpy_rng
from posebench.datasets.base import Dataset
from posebench.datasets.image_synth import (
    Camera,
    View,
    definition_record,
    make_synthetic_views,
    views_hash,
)
from posebench.datasets.openpose import IMAGE_SUFFIXES, read_folder, read_openpose, to_body25
from posebench.fitting.keypoints2d import (
    ImageFit,
    Observations,
    keypoint_indices,
    project,
)
from posebench.fitting.keypoints2d import fit_views as _fit_batch
from posebench.priors.base import Prior
from posebench.tasks.base import Metric, Task, TaskResult
from posebench.tasks.metrics import mpjpe_mm, procrustes_align

NO_PERSON = "no person detected"


# --------------------------------------------------------------------------- user folders


@dataclass
class FolderItem:
    """One image (or keypoint file) of a user's folder: its detection and camera."""

    name: str
    keypoints_path: Path
    image: Path | None
    keypoints: np.ndarray | None  # (25, 3) BODY_25; None when no person was detected
    camera: Camera


def image_size(path: str | Path) -> tuple[int, int]:
    """(width, height) of a PNG or JPEG file from its header; one-line InputError otherwise."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            head = handle.read(26)
            if head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR":
                width, height = struct.unpack(">II", head[16:24])
                return int(width), int(height)
            if head[:2] == b"\xff\xd8":
                handle.seek(2)
                return _jpeg_size(handle, path)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    raise InputError(f"{path}: not a PNG or JPEG image; convert it or set image_size")


def _jpeg_size(handle: Any, path: Path) -> tuple[int, int]:
    """Walk the JPEG markers to the first start-of-frame and read its size."""
    while True:
        marker = handle.read(2)
        if len(marker) < 2 or marker[0] != 0xFF:
            break
        kind = marker[1]
        if kind in (0xD8, 0x01) or 0xD0 <= kind <= 0xD7:
            continue
        length_bytes = handle.read(2)
        if len(length_bytes) < 2:
            break
        (length,) = struct.unpack(">H", length_bytes)
        if 0xC0 <= kind <= 0xCF and kind not in (0xC4, 0xC8, 0xCC):
            data = handle.read(5)
            if len(data) < 5:
                break
            height, width = struct.unpack(">HH", data[1:5])
            return int(width), int(height)
        handle.seek(length - 2, 1)
    raise InputError(f"{path}: a JPEG without a readable frame header; re-save the image")


def _read_camera(path: Path) -> Camera:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: malformed JSON ({exc})") from None
    return Camera.from_json(data, str(path))


def _camera_for(name: str, folder: Path, image: Path | None, config: Mapping[str, Any]) -> Camera:
    """The camera of one item: its camera file, else image size + default intrinsics."""
    camera_file = folder / f"{name}_camera.json"
    focal = config.get("focal_length")
    if camera_file.is_file():
        camera = _read_camera(camera_file)
        if focal is None:
            return camera
        width, height = camera.width, camera.height
    elif image is not None:
        width, height = image_size(image)
    elif config.get("image_size"):
        width, height = (int(v) for v in config["image_size"])
    else:
        raise InputError(
            f"{folder / (name + '_keypoints.json')}: no image and no {camera_file.name}, so the "
            "image size is unknown; set image_size: [W, H] in the task config (--task-config)"
        )
    focal = float(focal) if focal is not None else math.hypot(width, height)
    if not focal > 0:
        raise InputError(f"focal_length must be positive, got {focal}")
    return Camera(focal, width / 2.0, height / 2.0, width, height)


def read_keypoint_folder(folder: str | Path, config: Mapping[str, Any]) -> list[FolderItem]:
    """Every image of ``folder`` with its keypoints, or, in a folder without images (the
    keypoints-only mode), every ``<name>_keypoints.json``; sorted by name. Bad files raise a
    one-line InputError; files without people give items with ``keypoints=None``.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder} is not a folder; pass the folder of images or keypoints")
    has_images = any(p.suffix.lower() in IMAGE_SUFFIXES for p in folder.iterdir())
    if has_images:
        entries = [
            (f.image.stem, f.keypoints_path, f.image, f.detection) for f in read_folder(folder)
        ]
    else:
        files = sorted(folder.glob("*_keypoints.json"))
        if not files:
            raise InputError(
                f"{folder}: no .jpg/.png images and no *_keypoints.json files; run OpenPose with "
                "--write_json into this folder"
            )
        entries = [(f.name[: -len("_keypoints.json")], f, None, read_openpose(f)) for f in files]
    items = []
    for name, path, image, detection in entries:
        person = detection.select(config.get("person_index"))
        keypoints = None if person is None else to_body25(person.keypoints)
        if keypoints is not None and not (keypoints[:, 2] > 0).any():
            keypoints = None
        items.append(
            FolderItem(name, path, image, keypoints, _camera_for(name, folder, image, config))
        )
    return items


# --------------------------------------------------------------------------- fitting helpers


def _observations(
    keypoints: Sequence[np.ndarray], cameras: Sequence[Camera], device: torch.device
) -> Observations:
    return Observations(
        keypoints=torch.tensor(np.stack(keypoints), dtype=torch.float32, device=device),
        camera=torch.tensor(
            [[c.focal, c.cx, c.cy] for c in cameras], dtype=torch.float32, device=device
        ),
        height=torch.tensor([float(c.height) for c in cameras], device=device),
    )


def fit_all(
    prior: Prior,
    weight: float,
    body: BodyModel,
    observed: Observations,
    config: Mapping[str, Any],
    progress: Progress,
) -> ImageFit:
    """Fit every view in batches of ``batch_views``; one ImageFit for all of them."""
    size = int(config["batch_views"])
    n = observed.keypoints.shape[0]
    parts = []
    for start in range(0, n, size):
        part = slice(start, start + size)
        batch = Observations(observed.keypoints[part], observed.camera[part], observed.height[part])
        description = f"image fit views {start + 1}-{min(start + size, n)}"
        parts.append(_fit_batch(prior, weight, body, batch, config, progress, description))
    return _concat(parts)


def _concat(parts: list[ImageFit]) -> ImageFit:
    def cat(key: str) -> Any:
        values = [getattr(p, key) for p in parts]
        return None if values[0] is None else torch.cat(values)

    return ImageFit(
        **{
            k: cat(k)
            for k in (
                "pose",
                "root_orient",
                "transl",
                "shape",
                "init_depth",
                "init_root_orient",
                "init_transl",
                "orientation_start_deg",
                "fitted_twice",
                "turned",
            )
        },
        stage_losses=[
            float(np.mean(x)) for x in zip(*(p.stage_losses for p in parts), strict=True)
        ],
        steps=sum(p.steps for p in parts),
        seconds=sum(p.seconds for p in parts),
    )


def _forward(
    body: BodyModel,
    pose: torch.Tensor,
    root: torch.Tensor,
    transl: torch.Tensor,
    shape: torch.Tensor | None = None,
    chunk: int = 128,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """Joints (B, 22, 3), BODY_25 (B, 25, 3) and vertices (or None), chunked, without grad."""
    joints, body25, vertices = [], [], []
    with torch.no_grad():
        for start in range(0, len(pose), chunk):
            part = slice(start, start + chunk)
            out = body(pose[part], root[part], transl[part], None if shape is None else shape[part])
            joints.append(out.joints)
            body25.append(out.body25)
            if out.vertices is not None:
                vertices.append(out.vertices)
    return torch.cat(joints), torch.cat(body25), torch.cat(vertices) if vertices else None


def keypoint_error_px(
    projected: torch.Tensor, target: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """(B,) mean over masked keypoints of the 2D distance in pixels (NaN for an empty mask)."""
    distance = (projected - target[..., :2]).norm(dim=-1)
    mask = mask.float()
    return (distance * mask).sum(dim=1) / mask.sum(dim=1)


def _fitted_mask(keypoints: torch.Tensor, config: Mapping[str, Any]) -> torch.Tensor:
    """(B, 25) keypoints the fitter uses: detected and not ignored."""
    used = torch.ones(25, dtype=torch.bool, device=keypoints.device)
    used[keypoint_indices(config["fit"]["ignore_keypoints"], "image_fit fit.ignore_keypoints")] = (
        False
    )
    return (keypoints[..., 2] > 0) & used[None]


def _task_weight(prior: Prior, task: str) -> tuple[float, str]:
    weight, source = prior.energy_weight(task)
    if prior.name == "none":
        return 0.0, "default"
    return weight, source


def _shape_note(body: BodyModel) -> str:
    n_betas = int(getattr(body, "num_betas", 0) or 0)
    if n_betas:
        return f"fitted: {n_betas} shape parameters with an L2 prior"
    return f"not applicable: body '{body.name}' has no shape parameters"


def _angle_deg(rotvec: torch.Tensor, other: torch.Tensor) -> torch.Tensor:
    """(B,) angle in degrees between two batches of axis-angle rotations."""
    rotations = roma.rotvec_to_rotmat(rotvec), roma.rotvec_to_rotmat(other)
    return torch.rad2deg(roma.rotmat_geodesic_distance(*rotations))


def _mean(values: torch.Tensor) -> float | None:
    values = values[torch.isfinite(values)]
    return float(values.mean()) if values.numel() else None


# --------------------------------------------------------------------------- the task


class ImageFitTask(Task):
    """Fit the body to 2D keypoints SMPLify-style; 2D error always, 3D errors with ground truth."""

    name = "image_fit"
    version = "1"
    protocols = ("synthetic", "folder")
    metrics: ClassVar[dict[str, Metric]] = {
        "kp2d_error_px": Metric("px", False, "fitted keypoints vs detections (c > 0), mean"),
        "kp2d_error_clean_px": Metric("px", False, "fitted vs noise-free keypoints (synthetic)"),
        "mpjpe_mm": Metric("mm", False, "22 joints, pelvis-aligned, camera frame"),
        "pa_mpjpe_mm": Metric("mm", False, "22 joints after similarity Procrustes"),
        "mpvpe_mm": Metric("mm", False, "mesh vertices, pelvis-aligned"),
        "failure_rate": Metric("%", False, "views with PA-MPJPE above failure_mm"),
    }
    main_metric = "pa_mpjpe_mm"
    default_config = packaged_config("tasks/image_fit.yaml")
    #: The prior's energy is weighed against the 2D term, so ``posebench tune`` (on main) may
    #: tune its weight on the ``val`` split (the config's ``split`` key).
    weighs_prior_energy: ClassVar[bool] = True

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
        weight, source = _task_weight(prior, self.name)
        details: dict[str, Any] = {
            "views": len(views),
            "pose_indices": chosen,
            "view_names": [v.name for v in views],
            "no_person": [v.name for v in views if not v.detected],
            "shape_prior": _shape_note(body),
            "synthetic": {**definition_record(), "config": dict(config["synthetic"])},
            "alignment": {
                "mpjpe_mm": "22 joints, pelvis subtracted",
                "pa_mpjpe_mm": "22 joints, similarity Procrustes per view",
                "kp2d_error_px": "detected (c > 0) keypoints not in fit.ignore_keypoints",
            },
        }
        metrics: dict[str, float | None] = dict.fromkeys(self.metrics)
        if fitted_views:
            observed = _observations(
                [v.keypoints for v in fitted_views], [v.camera for v in fitted_views], device
            )
            fit = fit_all(prior, weight, body, observed, config, progress)
            per_view = self._score_synthetic(body, fit, fitted_views, observed, config, device)
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
        )

    def _score_synthetic(
        self,
        body: BodyModel,
        fit: ImageFit,
        views: list[View],
        observed: Observations,
        config: Mapping[str, Any],
        device: torch.device,
    ) -> dict[str, Any]:
        """Metrics and per-view numbers of a fit against the views' ground truth."""

        def stack(key: str) -> torch.Tensor:
            return torch.tensor(
                np.stack([getattr(v, key) for v in views]), dtype=torch.float32, device=device
            )

        joints, body25, vertices = _forward(body, fit.pose, fit.root_orient, fit.transl, fit.shape)
        gt_joints_out, gt_body25, gt_vertices = _forward(
            body, stack("pose"), stack("root_orient"), stack("transl")
        )
        gt_joints = stack("joints")
        clean = stack("clean")
        projected = project(body25, observed.camera)
        used = _fitted_mask(observed.keypoints, config)
        in_image = (clean[..., 2] > 0) & _fitted_mask(torch.ones_like(clean), config)
        kp2d = keypoint_error_px(projected, observed.keypoints, used)
        kp2d_clean = keypoint_error_px(projected, clean, in_image)
        _, init_body25, _ = _forward(
            body, torch.zeros_like(fit.pose), fit.init_root_orient, fit.init_transl
        )
        init_kp2d = keypoint_error_px(
            project(init_body25, observed.camera), observed.keypoints, used
        )
        mpjpe = mpjpe_mm(joints - joints[:, :1], gt_joints - gt_joints[:, :1])
        pa = mpjpe_mm(procrustes_align(joints, gt_joints), gt_joints)
        mpvpe = None
        if vertices is not None and gt_vertices is not None:
            mpvpe = mpjpe_mm(vertices - joints[:, :1], gt_vertices - gt_joints_out[:, :1])
        gap_px = keypoint_error_px(project(gt_body25, observed.camera), clean, clean[..., 2] > 0)
        gap_mm = mpjpe_mm(gt_body25, stack("points3d"))
        depth_error = (fit.init_depth - gt_joints[:, 0, 2]).abs() / gt_joints[:, 0, 2]
        root_error = _angle_deg(fit.root_orient, stack("root_orient"))
        init_root_error = _angle_deg(fit.init_root_orient, stack("root_orient"))
        failure = float(config["failure_mm"])
        return {
            "metrics": {
                "kp2d_error_px": _mean(kp2d),
                "kp2d_error_clean_px": _mean(kp2d_clean),
                "mpjpe_mm": _mean(mpjpe),
                "pa_mpjpe_mm": _mean(pa),
                "mpvpe_mm": None if mpvpe is None else _mean(mpvpe),
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
            },
            "init_kp2d_error_px": _mean(init_kp2d),
            "init_depth_rel_error": _mean(depth_error),
            "root_orient_error_deg": _mean(root_error),
            "init_root_orient_error_deg": _mean(init_root_error),
            "definition_gap": {
                "what": "detector keypoints vs the fitter's BODY_25 regressor on the true pose",
                "px": _mean(gap_px),
                "mm": _mean(gap_mm),
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
        weight, source = _task_weight(prior, self.name)
        result = fit_folder(prior, weight, body, config, device, progress)
        metrics: dict[str, float | None] = dict.fromkeys(self.metrics)
        details: dict[str, Any] = {
            "images": str(config["images"]),
            "per_image": _per_image(result),
            "shape_prior": _shape_note(body),
        }
        if result.fit is not None and result.errors is not None:
            metrics["kp2d_error_px"] = _mean(result.errors)
            details.update(_run_record(result.fit, len(result.people)))
        details["wall_time_s"] = time.perf_counter() - started
        keypoints = [i.keypoints for i in result.people]
        return TaskResult(
            metrics=metrics,
            details=details,
            inputs_hash=hash_arrays(np.stack(keypoints)) if keypoints else None,
            energy_weight=weight,
            energy_weight_source=source,
        )


def _run_record(fit: ImageFit, n_views: int) -> dict[str, Any]:
    return {
        "iterations": fit.steps,
        "fit_seconds": fit.seconds,
        "seconds_per_view": fit.seconds / max(n_views, 1),
        "stage_losses": fit.stage_losses,
    }


def _per_image(result: FolderFit) -> list[dict[str, Any]]:
    """One entry per item: fitted (with its 2D error) or "no person detected"."""
    out, k, errors = [], 0, result.errors
    for item in result.items:
        entry: dict[str, Any] = {"name": item.name, "keypoints": str(item.keypoints_path)}
        if item.keypoints is None:
            entry["status"] = NO_PERSON
        else:
            entry["status"] = "fitted"
            entry["kp2d_error_px"] = float(errors[k]) if errors is not None else None
            k += 1
        out.append(entry)
    return out


@dataclass
class FolderFit:
    """A fitted folder: every item, and for the items with a person the fit (in item order),
    the fitted keypoints' projections (P, 25, 2) and their 2D errors (P,)."""

    items: list[FolderItem]
    fit: ImageFit | None = None
    projected: torch.Tensor | None = None
    errors: torch.Tensor | None = None

    @property
    def people(self) -> list[FolderItem]:
        """The items with a detected person, in the order of the fit's rows."""
        return [i for i in self.items if i.keypoints is not None]


def fit_folder(
    prior: Prior,
    weight: float,
    body: BodyModel,
    config: Mapping[str, Any],
    device: torch.device,
    progress: Progress,
) -> FolderFit:
    """Read ``config["images"]`` and fit every image with a person in it."""
    result = FolderFit(read_keypoint_folder(config["images"], config))
    people = result.people
    if not people:
        return result
    observed = _observations([i.keypoints for i in people], [i.camera for i in people], device)
    result.fit = fit_all(prior, weight, body, observed, config, progress)
    fit = result.fit
    _, body25, _ = _forward(body, fit.pose, fit.root_orient, fit.transl, fit.shape)
    result.projected = project(body25, observed.camera)
    mask = _fitted_mask(observed.keypoints, config)
    result.errors = keypoint_error_px(result.projected, observed.keypoints, mask)
    return result


# --------------------------------------------------------------------------- user command


def fit_images(
    prior: Prior,
    body: BodyModel,
    images_dir: str | Path,
    out_dir: str | Path,
    config: Mapping[str, Any] | str | None = None,
    device: torch.device | str = "cpu",
    progress: Progress | None = None,
) -> dict[str, Any]:
    """``posebench fit-image``: fit every image of ``images_dir`` and write, atomically, one
    ``<name>_fit.npz`` per fitted image (pose, root_orient, transl, shape if any, camera
    [f, cx, cy], image_size, projected and observed keypoints, kp2d_error_px) and
    ``summary.json`` (per image: fitted or "no person detected", its 2D error; the prior, its
    energy weight and the config). ``config`` overrides the task's ``folder`` protocol config
    (a mapping or a YAML file). Returns the summary.
    """
    progress = progress or NullProgress()
    device = torch.device(device)
    task = ImageFitTask()
    cfg = task.config("folder", config, quick=False)
    cfg["images"] = str(images_dir)
    weight, source = _task_weight(prior, task.name)
    result = fit_folder(prior, weight, body, cfg, device, progress)
    out = Path(out_dir)
    fit, errors, people = result.fit, result.errors, result.people
    for k, item in enumerate(people):
        assert fit is not None and errors is not None and result.projected is not None
        arrays = {
            "pose": fit.pose[k].cpu().numpy(),
            "root_orient": fit.root_orient[k].cpu().numpy(),
            "transl": fit.transl[k].cpu().numpy(),
            "camera": np.array([item.camera.focal, item.camera.cx, item.camera.cy]),
            "image_size": np.array([item.camera.width, item.camera.height]),
            "keypoints_fitted": result.projected[k].cpu().numpy(),
            "keypoints_observed": item.keypoints,
            "kp2d_error_px": np.array(float(errors[k])),
        }
        if fit.shape is not None:
            arrays["shape"] = fit.shape[k].cpu().numpy()
        with atomic_path(out / f"{item.name}_fit.npz") as tmp, open(tmp, "wb") as handle:
            np.savez(handle, **arrays)
    summary = {
        "images": str(images_dir),
        "prior": {"name": prior.name, "version": prior.version},
        "body_model": body.name,
        "energy_weight": weight,
        "energy_weight_source": source,
        "fitted": len(people),
        "no_person": len(result.items) - len(people),
        "kp2d_error_px": None if errors is None else _mean(errors),
        "per_image": _per_image(result),
        "seconds": None if fit is None else fit.seconds,
        "iterations": None if fit is None else fit.steps,
        "config": json.loads(json.dumps(cfg, default=str)),
    }
    atomic_write_json(out / "summary.json", summary)
    return summary
