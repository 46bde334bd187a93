"""Users' pose and motion files (npz): read with one-line errors, write atomically.

Pose files hold ``pose_body`` (N, 63) or (N, 21, 3) axis-angle, or ``pose`` (N, 21, 4) unit
quaternions (w, x, y, z; Pose-NDF's own files). Motion files hold ``pose_body`` (T, 63) with
optional ``root_orient`` (T, 3) and ``trans`` (T, 3) (``transl`` is read as ``trans``), or
HuMoR-style joint observations ``joints`` (T, 22, 3). What posebench writes, it reads back:
``posebench fit-image``'s ``<name>_fit.npz`` is a one-pose motion file whose root is in the
camera's frame (:data:`FIT_KEYS` mark it). :func:`read_pose_file` also reads AMASS motion files,
for ``posebench render`` and ``posebench view`` alike.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from posebench.body.rotations import (
    axis_angle_to_matrix,
    axis_angle_to_quat,
    matrix_to_axis_angle,
    quat_to_axis_angle,
)
from posebench.core.errors import InputError, PosebenchWarning
from posebench.core.npzio import read_npz, write_npz

POSE_KEYS = ("pose_body", "pose")
#: Arrays only ``posebench fit-image``'s files hold: their root_orient and transl are in the
#: camera's frame (OpenCV: x right, y down, z forward), not in a y-up world.
FIT_KEYS = ("camera", "keypoints_fitted")
#: What an old fit file's ``pose`` (axis-angle, before it was renamed pose_body) looks like.
_OLD_FIT_POSE_SHAPES = ((21, 3), (63,), (1, 63), (1, 21, 3))

#: Rotations from the world a file's roots and joints live in onto posebench's (y up, bodies
#: facing +z): ``y`` as is; ``z`` (AMASS) (x, y, z) -> (x, z, -y); ``camera`` (fit-image's
#: OpenCV camera frame, y down, the body facing the camera) a half turn about x.
WORLDS: dict[str, np.ndarray] = {
    "y": np.eye(3, dtype=np.float32),
    "z": np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]], dtype=np.float32),
    "camera": np.diag([1.0, -1.0, -1.0]).astype(np.float32),
}


def _load_npz(path: str | Path) -> dict[str, np.ndarray]:
    return upgrade_old_fit(read_npz(path, "input file", "check --input"), Path(path))


def is_fit_file(arrays: dict[str, np.ndarray]) -> bool:
    """Whether ``arrays`` are a ``posebench fit-image`` output (root in the camera's frame)."""
    return all(key in arrays for key in FIT_KEYS)


def upgrade_old_fit(arrays: dict[str, np.ndarray], path: Path) -> dict[str, np.ndarray]:
    """An old ``fit-image`` file's arrays as today's, with a one-line :class:`PosebenchWarning`;
    any other file's unchanged.

    Before pose_body, ``fit-image`` wrote one axis-angle pose under ``pose`` ((21, 3)), the key
    pose files keep for (N, 21, 4) quaternions, and root_orient / transl as (3,). Such a file is
    unambiguous (:data:`FIT_KEYS`, and no quaternion array has these shapes), so it is read as
    the one pose it holds rather than refused.
    """
    pose = arrays.get("pose")
    if (
        pose is None
        or "pose_body" in arrays
        or not is_fit_file(arrays)
        or pose.shape not in _OLD_FIT_POSE_SHAPES
    ):
        return arrays
    warnings.warn(
        f"{path} is an old posebench fit-image file: its 'pose' {pose.shape} is axis-angle, not "
        "quaternions, and is read as pose_body; rerun fit-image or rename the key to pose_body "
        "to silence this",
        PosebenchWarning,
        stacklevel=2,
    )
    upgraded = {key: value for key, value in arrays.items() if key != "pose"}
    upgraded["pose_body"] = pose.reshape(1, 63)
    for key in ("root_orient", "transl"):
        if key in arrays and arrays[key].shape == (3,):
            upgraded[key] = arrays[key].reshape(1, 3)
    return upgraded


#: Largest magnitude float32 holds: posebench computes in float32, so larger values are refused
#: as out of range rather than turned into infinities.
FLOAT32_MAX = float(np.finfo(np.float32).max)


def finite_numbers(array: np.ndarray, key: str, path: Path) -> np.ndarray:
    """``array`` if it holds finite real numbers float32 can hold; else a one-line error naming
    the key and file."""
    if not np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.complexfloating):
        raise InputError(f"{path}: '{key}' holds {array.dtype}, not real numbers")
    if not np.isfinite(array).all():
        raise InputError(f"{path}: '{key}' contains NaN or infinite values")
    largest = float(np.abs(array).max()) if array.size else 0.0
    if largest > FLOAT32_MAX:
        raise InputError(
            f"{path}: '{key}' holds values up to {largest:.3g}, beyond float32's range "
            f"(±{FLOAT32_MAX:.3g})"
        )
    return array


def axis_angle_from_arrays(
    arrays: dict[str, np.ndarray], path: Path, frames: str = "N"
) -> torch.Tensor:
    """(N, 21, 3) axis-angle from ``pose_body`` or ``pose`` (wxyz quaternions), checked."""
    if "pose_body" in arrays:
        pose = finite_numbers(arrays["pose_body"], "pose_body", path)
        if pose.ndim == 2 and pose.shape[1] == 63:
            pose = pose.reshape(-1, 21, 3)
        if pose.ndim != 3 or pose.shape[1:] != (21, 3):
            raise InputError(
                f"{path}: 'pose_body' has shape {pose.shape}; expected ({frames}, 63) or "
                f"({frames}, 21, 3) axis-angle of the 21 body joints"
            )
        return torch.from_numpy(pose.astype(np.float32))
    if "pose" in arrays:
        quat = finite_numbers(arrays["pose"], "pose", path)
        if quat.ndim == 2 and quat.shape[1] == 84:
            quat = quat.reshape(-1, 21, 4)
        if quat.ndim != 3 or quat.shape[1:] != (21, 4):
            axis_angle = quat.shape[-1:] == (3,) or quat.shape[-1:] == (63,)
            raise InputError(
                f"{path}: 'pose' has shape {quat.shape}; expected ({frames}, 21, 4) quaternions "
                "(w, x, y, z)"
                + ("; axis-angle poses go under pose_body (N, 63)" if axis_angle else "")
            )
        norms = np.linalg.norm(quat, axis=-1)
        if (norms < 1e-6).any():
            raise InputError(f"{path}: 'pose' holds zero-length quaternions")
        return quat_to_axis_angle(torch.from_numpy(quat.astype(np.float64))).float()
    raise InputError(
        f"{path} has none of {', '.join(POSE_KEYS)} "
        f"(it has {', '.join(sorted(arrays)) or 'nothing'}); "
        "store poses as pose_body (N, 63) axis-angle or pose (N, 21, 4) quaternions"
    )


def read_poses(path: str | Path) -> torch.Tensor:
    """(N, 21, 3) axis-angle body poses from a pose file."""
    path = Path(path)
    pose = axis_angle_from_arrays(_load_npz(path), path)
    if len(pose) == 0:
        raise InputError(f"{path} holds no poses")
    return pose


#: Pose sequences written by posebench's commands, (S, K, 63): K poses (or paths) over S steps.
SEQUENCE_KEYS = {
    "steps_pose_body": "projection steps (posebench project --save-steps)",
    "path_pose_body": "interpolation paths (posebench interpolate)",
}


def read_sequence(arrays: dict[str, np.ndarray], path: Path) -> tuple[str, torch.Tensor] | None:
    """(key, (S, K, 21, 3) axis-angle) of a projection-steps or interpolation-path file, checked;
    None when the file holds neither.
    """
    key = next((k for k in SEQUENCE_KEYS if k in arrays), None)
    if key is None:
        return None
    steps = finite_numbers(arrays[key], key, path)
    if steps.ndim == 3 and steps.shape[2] == 63:
        steps = steps.reshape(*steps.shape[:2], 21, 3)
    if steps.ndim != 4 or steps.shape[2:] != (21, 3):
        raise InputError(
            f"{path}: '{key}' has shape {steps.shape}; expected (S+1, N, 63) axis-angle "
            f"{SEQUENCE_KEYS[key]}"
        )
    if steps.shape[0] == 0 or steps.shape[1] == 0:
        raise InputError(f"{path}: '{key}' holds no poses")
    return key, torch.from_numpy(steps.astype(np.float32))


def file_meta(arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """The JSON ``meta`` posebench writes into its npz files; {} when absent or not a mapping."""
    if "meta" not in arrays:
        return {}
    try:
        meta = json.loads(str(arrays["meta"]))
    except ValueError:
        return {}
    return meta if isinstance(meta, dict) else {}


#: Per-step energies stored beside a sequence, (S, K): ``project --save-steps`` writes them.
SEQUENCE_ENERGY_KEYS = {"steps_pose_body": "steps_energy"}


def read_sequence_energies(
    arrays: dict[str, np.ndarray], path: Path, key: str, shape: tuple[int, int]
) -> np.ndarray | None:
    """(S, K) prior energies of a sequence's poses at each step (``steps_energy`` beside
    ``steps_pose_body``), checked against the sequence's (S, K); None when the file has none."""
    energy_key = SEQUENCE_ENERGY_KEYS.get(key)
    if energy_key is None or energy_key not in arrays:
        return None
    energies = finite_numbers(arrays[energy_key], energy_key, path)
    if energies.shape != shape:
        raise InputError(
            f"{path}: '{energy_key}' has shape {energies.shape}; expected {shape}, one energy per "
            f"step and pose of '{key}'"
        )
    return energies.astype(np.float64)


def quaternions_wxyz(pose: torch.Tensor) -> np.ndarray:
    """(N, 21, 4) unit quaternions (w, x, y, z) with w >= 0 for axis-angle poses."""
    return axis_angle_to_quat(pose.detach().cpu().double()).float().numpy()


def write_poses(path: str | Path, pose: torch.Tensor, meta: dict[str, Any], **extra: Any) -> Path:
    """A pose file posebench and Pose-NDF's tools read: pose_body (N, 63) and pose (N, 21, 4)."""
    pose = pose.detach().cpu().float()
    arrays = {
        "pose_body": pose.reshape(len(pose), 63).numpy(),
        "pose": quaternions_wxyz(pose),
        **{
            k: v.detach().cpu().numpy() if hasattr(v, "detach") else np.asarray(v)
            for k, v in extra.items()
        },
    }
    return write_npz(path, arrays, meta)


@dataclass
class MotionInput:
    """A user's motion: poses with optional root, or joint observations only."""

    pose_body: torch.Tensor | None  # (T, 21, 3)
    root_orient: torch.Tensor | None  # (T, 3)
    trans: torch.Tensor | None  # (T, 3)
    joints: torch.Tensor | None  # (T, 22, 3) observations
    fps: float | None
    world: str = "y"  # where root_orient, trans and joints live: a key of WORLDS

    @property
    def frames(self) -> int:
        """Number of frames: of ``pose_body``, else of ``joints`` (one of them is always set)."""
        source = self.pose_body if self.pose_body is not None else self.joints
        assert source is not None, "a MotionInput holds pose_body or joints"
        return len(source)


def read_motion(path: str | Path) -> MotionInput:
    """A motion file: ``pose_body`` (+ ``root_orient``, ``trans``) or ``joints`` (T, 22, 3)."""
    path = Path(path)
    motion = motion_from_arrays(_load_npz(path), path)
    frames = motion.frames
    if frames < 3:
        raise InputError(f"{path} holds {frames} frames; denoising needs at least 3")
    return motion


def motion_from_arrays(arrays: dict[str, np.ndarray], path: Path) -> MotionInput:
    """A motion from a motion file's arrays, checked; any number of frames (the viewer's too)."""
    joints = None
    if "joints" in arrays:
        joints_array = finite_numbers(arrays["joints"], "joints", path)
        if joints_array.ndim != 3 or joints_array.shape[1:] != (22, 3):
            raise InputError(
                f"{path}: 'joints' has shape {joints_array.shape}; expected (T, 22, 3)"
            )
        joints = torch.from_numpy(joints_array.astype(np.float32))
    pose = (
        axis_angle_from_arrays(arrays, path, "T") if any(k in arrays for k in POSE_KEYS) else None
    )
    if pose is not None:
        frames = len(pose)
    elif joints is not None:
        frames = len(joints)
    else:
        raise InputError(
            f"{path} has neither pose_body (T, 63) nor joints (T, 22, 3); it has "
            f"{', '.join(sorted(arrays)) or 'nothing'}"
        )
    extra = {}
    for key, stored in (("root_orient", "root_orient"), ("trans", "trans"), ("trans", "transl")):
        if stored in arrays and key not in extra:
            value = finite_numbers(arrays[stored], stored, path)
            if value.shape != (frames, 3):
                raise InputError(
                    f"{path}: '{stored}' has shape {value.shape}; expected ({frames}, 3)"
                )
            extra[key] = torch.from_numpy(value.astype(np.float32))
    if joints is not None and len(joints) != frames:
        raise InputError(f"{path}: 'joints' has {len(joints)} frames but 'pose_body' has {frames}")
    rate_key = next((k for k in ("fps", "mocap_framerate", "mocap_frame_rate") if k in arrays), "")
    fps = frame_rate(arrays[rate_key], rate_key, path) if rate_key else None
    world = "camera" if is_fit_file(arrays) else "y"
    return MotionInput(pose, extra.get("root_orient"), extra.get("trans"), joints, fps, world)


def frame_rate(value: np.ndarray, key: str, path: Path | str) -> float:
    """A motion file's frame rate: one finite positive number, else a one-line error."""
    array = np.asarray(value)
    if array.size != 1 or array.dtype.kind not in "iuf":
        raise InputError(
            f"{path}: '{key}' is {array.dtype} of shape {array.shape}; expected one number "
            "(frames per second)"
        )
    rate = float(array.reshape(()))
    if not np.isfinite(rate) or rate <= 0:
        raise InputError(f"{path}: '{key}' is {rate}; expected a positive frame rate")
    return rate


def upright_root(root_orient: torch.Tensor | None, world: str, frames: int) -> torch.Tensor | None:
    """(T, 3) root orientations turned from ``world`` onto posebench's y-up axes (None stays
    None in a y-up world: the body's own rest orientation)."""
    if world == "y":
        return root_orient
    if root_orient is None:
        root_orient = torch.zeros(frames, 3)
    turn = torch.from_numpy(WORLDS[world]).to(root_orient)
    return matrix_to_axis_angle(turn @ axis_angle_to_matrix(root_orient))


@dataclass
class PoseFile:
    """A user's npz as ``posebench render`` and ``posebench view`` read it: projection steps or
    interpolation paths (``sequence``), or one motion (a pose, motion, fit or AMASS file)."""

    path: Path
    arrays: dict[str, np.ndarray]
    sequence: tuple[str, torch.Tensor] | None  # (key, (S, K, 21, 3)) of SEQUENCE_KEYS
    motion: MotionInput | None  # set when sequence is None


def read_pose_file(path: str | Path) -> PoseFile:
    """Any file render and view draw, checked: a steps or path file, an AMASS motion (``poses``
    (T, 72|156|165), ``trans``, ``mocap_framerate``; z up), or a pose or motion file."""
    path = Path(path)
    arrays = _load_npz(path)
    sequence = read_sequence(arrays, path)
    if sequence is not None:
        return PoseFile(path, arrays, sequence, None)
    if "poses" in arrays:  # AMASS's SMPL-X files also hold pose_body: poses decides
        from posebench.datasets.amass import parse_amass

        amass = parse_amass(path, arrays)
        if amass is None:
            raise InputError(f"{path} is an AMASS shape file (betas, no poses): nothing to show")
        motion = MotionInput(
            torch.from_numpy(amass.pose_body), torch.from_numpy(amass.root_orient),
            torch.from_numpy(amass.trans), None, amass.fps, "z",
        )  # fmt: skip
        return PoseFile(path, arrays, None, motion)
    return PoseFile(path, arrays, None, motion_from_arrays(arrays, path))
