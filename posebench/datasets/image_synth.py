"""The embedded image-fitting set: posed bodies seen by known pinhole cameras and a noisy detector.

No image is rendered: a fitter only needs the keypoints. Each view is built from one test pose:

1. **Placement.** The body is posed with the dataset's pose and a random root orientation (yaw
   about the body's vertical axis in ``yaw_deg``, then a camera elevation ``pitch_deg`` and roll
   ``roll_deg``) and put in front of the camera at the distance where a standing body would span
   ``person_height`` of the image height, its pelvis projected near the image centre
   (``centre_jitter``).
2. **Camera.** OpenCV pinhole (:class:`~posebench.body.camera.PinholeCamera`), everything in
   camera coordinates: x right, y down, z forward (the camera looks along +z), pixels with
   (0, 0) at the top-left corner; ``f = s · diag`` (``s`` in ``focal_scale``, ``diag`` the image
   diagonal in pixels), principal point at the image centre, no distortion, extrinsics R = I,
   t = 0 (the body's root orientation and translation carry the pose relative to the camera).
   Image sizes come from ``image_sizes``.
3. **Keypoints (avoiding the inverse crime).** The 2D targets are NOT the fitter's BODY_25
   regressor (``BodyOutput.body25``). They are :class:`DetectorKeypoints`, a second definition
   meant to look like what a detector marks: for shoulders, elbows, wrists, hips, knees and
   ankles the skeleton joint centre moved part of the way (``alpha``) towards a small patch of
   skin on one side (top of the shoulder, olecranon, back of the wrist, greater trochanter,
   kneecap, malleolus); for nose, eyes, ears, toes and heels the mean of a few mesh vertices;
   Neck and MidHip the midpoints of the shoulders and of the hips (OpenPose's own placement).
   The patches are chosen on the rest mesh by the rule in :data:`DETECTOR_POINTS` and then
   follow the skin. The two definitions differ by a few centimetres (the image_fit task records
   the gap on the true poses, in mm and px, as ``definition_gap``), so a perfect fit of the
   body's own keypoints cannot reach zero 2D error. The shoulder's skin patch is the one above
   and slightly medial of the joint, which follows the collar rather than the arm, so that the
   torso length (the depth cue) stays close to the fitter's whatever the arms do.
4. **Detector noise.** Per keypoint k, Gaussian pixel noise with
   ``σ_k = pixel_sigma · h · κ_k / mean(κ)``, h the height of the person's 2D keypoint box and κ
   the COCO OKS per-keypoint sigmas (feet use the ankle's); confidence
   ``c = min_conf + (1 − min_conf) · exp(−‖ε‖² / (4 σ_k²))`` in (min_conf, 1], lower when the
   noise moved the point further; a fraction ``drop_rate`` of keypoints dropped at random, and
   every keypoint behind the camera or outside the image dropped, written as OpenPose writes a
   miss: ``0, 0, 0``. Coordinates are rounded to 1/1000 px and confidences to 1e-4, so the
   files and the in-memory set are the same numbers.

Everything is drawn from ``numpy_rng(seed, "image_synth")``: the same poses, body, seed and
config give byte-identical files.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np
import roma
import torch

from posebench.body.base import SMPL22_JOINT_NAMES, BodyModel
from posebench.body.camera import PinholeCamera
from posebench.body.keypoints import BODY25_NAMES
from posebench.core.atomic import atomic_path, atomic_write_json
from posebench.core.config import merge_config, packaged_config
from posebench.core.errors import InputError
from posebench.core.hashing import hash_arrays
from posebench.core.seeding import numpy_rng
from posebench.datasets.openpose import write_openpose

#: Bump when the generated numbers change for the same inputs.
GENERATOR_VERSION = "1"

#: COCO OKS per-keypoint sigmas (MS-COCO keypoint evaluation), in BODY_25 order; Neck and MidHip
#: average their two parts, the six foot points use the ankle's value.
COCO_SIGMAS: tuple[float, ...] = (
    0.026, 0.079, 0.079, 0.072, 0.062, 0.079, 0.072, 0.062, 0.107, 0.107, 0.087, 0.089, 0.107,
    0.087, 0.089, 0.025, 0.025, 0.035, 0.035, 0.089, 0.089, 0.089, 0.089, 0.089, 0.089,
)  # fmt: skip


@dataclass(frozen=True)
class PointRule:
    """How one detector keypoint is placed on the rest body and carried by the pose.

    The patch is the ``k`` rest-mesh vertices nearest to ``joint + offset`` (rest pose, metres,
    y up, facing +z; for right-side points x is mirrored). The posed keypoint is
    ``J + alpha · (mean(patch) − J)`` with J the posed joint centre: alpha = 1 puts it on the
    skin, smaller values between the joint centre and the skin.
    """

    joint: str  # anchor: SMPL-22 joint name, with "{side}" for left/right
    offset: tuple[float, float, float]  # rest-frame offset of the patch target, left-side x
    k: int
    alpha: float


#: The detector keypoint rules, for the left side (the right side mirrors x). Limb points use a
#: target 12 cm outside the joint centre (so its nearest vertices are the skin on that side) and
#: stay between centre and skin; face and foot points are skin points.
DETECTOR_POINTS: dict[str, PointRule] = {
    "Nose": PointRule("head", (0.0, 0.0, 0.3), 3, 1.0),
    "Shoulder": PointRule("{side}_shoulder", (-0.03, 0.12, 0.0), 8, 0.5),  # top, follows collar
    "Elbow": PointRule("{side}_elbow", (0.0, 0.0, -0.12), 8, 0.3),  # back (olecranon)
    "Wrist": PointRule("{side}_wrist", (0.0, 0.12, 0.0), 8, 0.3),  # back of the wrist
    "Hip": PointRule("{side}_hip", (0.11, -0.05, 0.0), 8, 0.35),  # lateral (greater trochanter)
    "Knee": PointRule("{side}_knee", (0.0, 0.0, 0.12), 8, 0.5),  # front (kneecap)
    "Ankle": PointRule("{side}_ankle", (0.12, 0.0, 0.0), 8, 0.5),  # lateral (malleolus)
    "Eye": PointRule("head", (0.032, 0.045, 0.12), 3, 1.0),
    "Ear": PointRule("head", (0.15, 0.02, 0.0), 3, 1.0),
    "BigToe": PointRule("{side}_ankle", (-0.03, -0.07, 0.5), 3, 1.0),
    "SmallToe": PointRule("{side}_ankle", (0.1, -0.07, 0.25), 3, 1.0),
    "Heel": PointRule("{side}_ankle", (0.0, -0.06, -0.3), 3, 1.0),
}


def _rule_for(name: str) -> tuple[PointRule, float] | None:
    """The rule of a BODY_25 keypoint and its side's x sign; None for Neck and MidHip."""
    if name in DETECTOR_POINTS:
        return DETECTOR_POINTS[name], 1.0
    side, part = name[0], name[1:]
    if side in "LR" and part in DETECTOR_POINTS:
        rule = DETECTOR_POINTS[part]
        sign = 1.0 if side == "L" else -1.0
        joint = rule.joint.format(side="left" if side == "L" else "right")
        return PointRule(joint, rule.offset, rule.k, rule.alpha), sign
    return None


class DetectorKeypoints:
    """BODY_25 keypoints "as a detector marks them", a definition independent of the fitter's.

    Built once from a body's rest mesh (see :data:`DETECTOR_POINTS`); call it on a posed
    :class:`~posebench.body.base.BodyOutput` to get (B, 25, 3) points.
    """

    def __init__(self, body: BodyModel) -> None:
        with torch.no_grad():
            rest = body(torch.zeros(1, 21, 3, device=body.device))
        if rest.vertices is None:
            raise InputError(
                f"the synthetic image set needs a body with a mesh; body '{body.name}' has no "
                "vertices (use the embedded body 'anny' or 'smpl')"
            )
        vertices, joints = rest.vertices[0].double(), rest.joints[0].double()
        self.anchors: list[int] = []
        self.patches: list[torch.Tensor] = []
        self.alphas: list[float] = []
        for name in BODY25_NAMES:
            found = _rule_for(name)
            if found is None:
                continue
            rule, sign = found
            anchor = SMPL22_JOINT_NAMES.index(rule.joint)
            offset = torch.tensor(rule.offset, dtype=torch.float64) * torch.tensor([sign, 1, 1])
            target = joints[anchor] + offset.to(joints.device)
            patch = (vertices - target).norm(dim=1).topk(rule.k, largest=False).indices
            self.anchors.append(anchor)
            self.patches.append(patch.sort().values)
            self.alphas.append(rule.alpha)
        self._named = [n for n in BODY25_NAMES if _rule_for(n) is not None]

    def __call__(self, joints: torch.Tensor, vertices: torch.Tensor) -> torch.Tensor:
        """(B, 25, 3) detector keypoints of posed ``joints`` (B, 22, 3), ``vertices`` (B, V, 3)."""
        points: dict[str, torch.Tensor] = {}
        for name, anchor, patch, alpha in zip(
            self._named, self.anchors, self.patches, self.alphas, strict=True
        ):
            centre = joints[:, anchor]
            skin = vertices[:, patch.to(vertices.device)].mean(dim=1)
            points[name] = centre + alpha * (skin - centre)
        points["Neck"] = 0.5 * (points["LShoulder"] + points["RShoulder"])
        points["MidHip"] = 0.5 * (points["LHip"] + points["RHip"])
        return torch.stack([points[n] for n in BODY25_NAMES], dim=1)


def definition_record() -> dict[str, Any]:
    """The detector keypoint definition and generator version, for result files."""
    return {
        "generator_version": GENERATOR_VERSION,
        "keypoints": "posebench detector keypoints (not the fitter's BODY_25 regressor)",
        "rules": {
            name: {"joint": r.joint, "offset_m": list(r.offset), "k": r.k, "alpha": r.alpha}
            for name, r in DETECTOR_POINTS.items()
        },
        "neck_midhip": "midpoints of the shoulders / of the hips",
    }


@dataclass
class View:
    """One synthetic view: what the detector wrote, the camera, and the 3D ground truth."""

    name: str
    keypoints: np.ndarray  # (25, 3) x, y, confidence as written to JSON (0, 0, 0 = missing)
    clean: np.ndarray  # (25, 3) noise-free x, y and 1 where the point is in the image, else 0
    camera: PinholeCamera
    pose: np.ndarray  # (21, 3) body pose (axis-angle)
    root_orient: np.ndarray  # (3,) in camera coordinates
    transl: np.ndarray  # (3,)
    joints: np.ndarray  # (22, 3) SMPL-22 joints in camera coordinates, metres
    points3d: np.ndarray  # (25, 3) detector keypoints in camera coordinates, metres
    info: dict[str, Any] = field(default_factory=dict)  # yaw, pitch, distance, noise, drops

    @property
    def detected(self) -> bool:
        """False when no keypoint survived (the file then lists no people)."""
        return bool((self.keypoints[:, 2] > 0).any())


def default_config() -> dict[str, Any]:
    """The generator's defaults: the ``synthetic`` section of the image_fit task config."""
    return packaged_config("tasks/image_fit.yaml")["synthetic"]


def _uniform(rng: np.random.Generator, bounds: Sequence[float], n: int) -> np.ndarray:
    low, high = (float(b) for b in bounds)
    return rng.uniform(low, high, size=n)


def _root_rotations(yaw: np.ndarray, pitch: np.ndarray, roll: np.ndarray) -> np.ndarray:
    """(N, 3, 3) body-to-camera rotations: yaw about the body's up axis, the flip from y-up
    facing +z to the camera's y-down (the body faces the camera at yaw 0), then elevation
    (about the camera x axis) and roll (about the optical axis)."""

    def axis(angle: np.ndarray, index: int) -> torch.Tensor:
        vec = np.zeros((len(angle), 3))
        vec[:, index] = angle
        return roma.rotvec_to_rotmat(torch.from_numpy(vec))

    flip = axis(np.full(len(yaw), math.pi), 0)
    rotation = axis(pitch, 0) @ axis(roll, 2) @ flip @ axis(yaw, 1)
    return rotation.numpy()


def make_synthetic_views(
    poses: torch.Tensor,
    body: BodyModel,
    seed: int,
    config: Mapping[str, Any] | None = None,
    prefix: str = "view",
) -> list[View]:
    """One synthetic view per pose (N, 21, 3): camera, detector keypoints with noise, ground truth.

    ``config`` overrides :func:`default_config` (unknown keys are errors). Deterministic for
    (poses, body, seed, config).
    """
    cfg = merge_config(default_config(), config or {}, where="synthetic image set config")
    poses = torch.as_tensor(poses, dtype=torch.float32).detach().cpu()
    if poses.ndim != 3 or poses.shape[1:] != (21, 3) or len(poses) == 0:
        raise InputError(f"poses must have shape (N, 21, 3) with N > 0, got {tuple(poses.shape)}")
    n = len(poses)
    rng = numpy_rng(seed, "image_synth")
    detector = DetectorKeypoints(body)
    device = body.device

    with torch.no_grad():
        rest = body(torch.zeros(1, 21, 3, device=device))
    assert rest.vertices is not None  # DetectorKeypoints has checked that the body has a mesh
    rest_vertices = rest.vertices[0].double().cpu().numpy()
    rest_height = float(rest_vertices[:, 1].max() - rest_vertices[:, 1].min())
    pelvis_rest = rest.joints[0, 0].double().cpu().numpy()

    sizes = np.asarray(cfg["image_sizes"], dtype=np.int64).reshape(-1, 2)
    size_index = rng.integers(0, len(sizes), size=n)
    focal_scale = _uniform(rng, cfg["focal_scale"], n)
    share = _uniform(rng, cfg["person_height"], n)
    jitter = rng.uniform(-cfg["centre_jitter"], cfg["centre_jitter"], size=(n, 2))
    yaw, pitch, roll = (
        np.deg2rad(_uniform(rng, cfg[key], n)) for key in ("yaw_deg", "pitch_deg", "roll_deg")
    )
    rotations = _root_rotations(yaw, pitch, roll)

    cameras, roots, transls, distances = [], [], [], []
    for i in range(n):
        width, height = (int(v) for v in sizes[size_index[i]])
        focal = float(focal_scale[i] * math.hypot(width, height))
        camera = PinholeCamera.centred(focal, width, height)
        distance = focal * rest_height / (share[i] * height)
        pelvis = np.array(
            [jitter[i, 0] * width * distance / focal, jitter[i, 1] * height * distance / focal,
             distance]
        )  # fmt: skip
        cameras.append(camera)
        roots.append(roma.rotmat_to_rotvec(torch.from_numpy(rotations[i])).numpy())
        transls.append(pelvis - pelvis_rest)
        distances.append(distance)
    root = torch.tensor(np.stack(roots), dtype=torch.float32)
    transl = torch.tensor(np.stack(transls), dtype=torch.float32)

    posed = body.forward_batched(poses.to(device), root.to(device), transl.to(device), chunk=128)
    assert posed.vertices is not None
    joints = posed.joints.double()
    points = detector(joints, posed.vertices.double()).cpu().numpy()
    joints_array = joints.cpu().numpy()
    noise = cfg["noise"]
    views = []
    digits = max(4, len(str(n - 1)))
    for i in range(n):
        keypoints, clean, record = _detect(points[i], cameras[i], noise, rng)
        info = {
            "yaw_deg": float(np.rad2deg(yaw[i])),
            "pitch_deg": float(np.rad2deg(pitch[i])),
            "roll_deg": float(np.rad2deg(roll[i])),
            "distance_m": float(distances[i]),
            **record,
        }
        views.append(
            View(
                name=f"{prefix}_{i:0{digits}d}",
                keypoints=keypoints,
                clean=clean,
                camera=cameras[i],
                pose=poses[i].double().numpy(),
                root_orient=root[i].double().numpy(),
                transl=transl[i].double().numpy(),
                joints=joints_array[i],
                points3d=points[i],
                info=info,
            )
        )
    return views


def _detect(
    points: np.ndarray, camera: PinholeCamera, noise: Mapping[str, Any], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """The detector's output for one view: noisy (25, 3) keypoints, clean ones, and a record."""
    in_front = points[:, 2] > 0.05
    clean_xy = camera.project(np.where(in_front[:, None], points, 1.0))
    inside = in_front & camera.contains(clean_xy)
    box = clean_xy[inside]
    box_height = float(box[:, 1].max() - box[:, 1].min()) if len(box) > 1 else 0.0
    kappa = np.asarray(COCO_SIGMAS)
    sigma = float(noise["pixel_sigma"]) * box_height * kappa / kappa.mean()
    epsilon = rng.normal(size=(25, 2)) * sigma[:, None]
    noisy = clean_xy + epsilon
    min_conf = float(noise["min_confidence"])
    squared = (epsilon**2).sum(axis=1) / np.maximum(4 * sigma**2, 1e-12)
    confidence = min_conf + (1.0 - min_conf) * np.exp(-squared)
    dropped = rng.random(25) < float(noise["drop_rate"])
    keep = inside & camera.contains(noisy) & ~dropped
    keypoints = np.zeros((25, 3))
    keypoints[keep, :2] = np.round(noisy[keep], 3)
    keypoints[keep, 2] = np.maximum(np.round(confidence[keep], 4), min_conf + 1e-4)
    clean = np.zeros((25, 3))
    clean[inside, :2] = clean_xy[inside]
    clean[inside, 2] = 1.0
    record = {
        "box_height_px": box_height,
        "sigma_px_mean": float(sigma.mean()),
        "dropped_random": int((inside & dropped).sum()),
        "outside_image": int((~inside).sum()),
        "detected": int(keep.sum()),
    }
    return keypoints, clean, record


def views_hash(views: Sequence[View]) -> str:
    """Content hash of what a fitter sees: every view's keypoints and camera intrinsics."""
    keypoints = np.stack([v.keypoints for v in views])
    cameras = np.array(
        [[v.camera.focal, v.camera.cx, v.camera.cy, v.camera.width, v.camera.height] for v in views]
    )
    return hash_arrays(keypoints, cameras)


def write_synthetic_set(
    views: Sequence[View], out_dir: str | Path, meta: Mapping[str, Any] | None = None
) -> Path:
    """Write the set to ``out_dir``, every file atomically, and return the folder.

    Per view: ``<name>_keypoints.json`` (OpenPose BODY_25; no people when nothing was detected)
    and ``<name>_camera.json`` (:meth:`PinholeCamera.to_json`). For the set: ``ground_truth.npz``
    (names, pose, root_orient, transl, joints (22, 3) and detector points (25, 3) in camera
    coordinates, clean and noisy keypoints) and ``synthetic_set.json`` (generator version,
    content hash, per-view info, and ``meta``).
    """
    if not views:
        raise InputError("no views to write")
    out = Path(out_dir)
    for view in views:
        people = [view.keypoints] if view.detected else []
        write_openpose(out / f"{view.name}_keypoints.json", people)
        atomic_write_json(out / f"{view.name}_camera.json", view.camera.to_json())
    arrays = {
        "names": np.array([v.name for v in views]),
        "pose": np.stack([v.pose for v in views]),
        "root_orient": np.stack([v.root_orient for v in views]),
        "transl": np.stack([v.transl for v in views]),
        "joints": np.stack([v.joints for v in views]),
        "points3d": np.stack([v.points3d for v in views]),
        "keypoints": np.stack([v.keypoints for v in views]),
        "clean_keypoints": np.stack([v.clean for v in views]),
    }
    with atomic_path(out / "ground_truth.npz") as tmp, open(tmp, "wb") as handle:
        # cast: numpy's stub could bind a **kwargs key to its allow_pickle: bool parameter
        np.savez(handle, **cast(dict[str, Any], arrays))
    atomic_write_json(
        out / "synthetic_set.json",
        {
            "generator_version": GENERATOR_VERSION,
            "views": len(views),
            "inputs_hash": views_hash(views),
            "definition": definition_record(),
            "per_view": {v.name: v.info for v in views},
            **json.loads(json.dumps(dict(meta or {}))),
        },
    )
    return out
