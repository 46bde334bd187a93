"""Measure a retargeted motion against the CMU motion it came from.

The numbers (degrees, metres, mm) go into the embedded data file's metadata and what
``posebench data build-embedded`` prints: segment directions of the one-to-one bones (exact up to
float rounding), how far elbows and knees are from pure hinge rotations, flexion ranges, foot
heights on standing frames, a uniform-scale joint error, and the constant rest offsets that
direction matching bakes into the local rotations (see :mod:`posebench.rebuild.retarget`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy.spatial.transform import Rotation

from posebench.body.base import SMPL22_JOINT_NAMES, BodyModel
from posebench.rebuild.asfamc import Kinematics, Motion, Skeleton, forward_kinematics
from posebench.rebuild.retarget import (
    HINGES,
    JOINT_INDEX,
    JOINT_POINTS,
    ONE_TO_ONE,
    SEGMENT_CHILD,
    SOURCE_BONES,
    BodyTrack,
    RestFrames,
    angle_deg,
    body_track,
    leg_scale,
    local_rotations,
    planted_frames,
    rest_frames,
    rotation_angle_deg,
)


def _stats(values: np.ndarray) -> dict[str, float]:
    return {"mean": float(np.mean(values)), "max": float(np.max(values))}


def segment_direction_errors(
    body_joints: np.ndarray, kin: Kinematics, skeleton: Skeleton
) -> dict[str, dict[str, float]]:
    """Angle (degrees, mean and max over frames) between each body segment and the CMU segment
    driving it: the one-to-one bones, plus ``neck`` (merged from two CMU bones, so not exact).
    """
    out = {}
    for joint in (*ONE_TO_ONE, "neck"):
        j, c = JOINT_INDEX[joint], JOINT_INDEX[SEGMENT_CHILD[joint]]
        body_dir = body_joints[:, c] - body_joints[:, j]
        if joint == "neck":
            cmu_dir = (
                kin.bone_end[:, skeleton.index("upperneck")]
                - kin.bone_start[:, skeleton.index("lowerneck")]
            )
        else:
            b = skeleton.index(SOURCE_BONES[joint][0])
            cmu_dir = kin.bone_end[:, b] - kin.bone_start[:, b]
        out[joint] = _stats(angle_deg(body_dir, cmu_dir))
    return out


def hinge_residuals(
    pose_body: np.ndarray, hinge_axes: Mapping[str, np.ndarray]
) -> dict[str, dict[str, float]]:
    """Per elbow and knee: how far (degrees) its local rotation is from a pure rotation about the
    body's hinge axis (the angle the rotation moves the axis by: the swing of a swing-twist
    split), and the range of the hinge (twist) angle itself.
    """
    out = {}
    for joint, axis in hinge_axes.items():
        R = Rotation.from_rotvec(pose_body[:, JOINT_INDEX[joint] - 1]).as_matrix()
        moved = R @ axis
        off = angle_deg(moved, np.broadcast_to(axis, moved.shape))
        rotvec = Rotation.from_matrix(R).as_rotvec()
        twist = np.degrees(rotvec @ axis)
        out[joint] = {
            **{f"off_hinge_{k}": v for k, v in _stats(off).items()},
            "hinge_angle_min": float(twist.min()),
            "hinge_angle_max": float(twist.max()),
        }
    return out


def flexion_ranges(body_joints: np.ndarray) -> dict[str, dict[str, float]]:
    """Elbow and knee flexion (degrees, 0 = straight) from the body's joint positions."""
    out = {}
    for hinge in HINGES:
        u, j = JOINT_INDEX[hinge.upper], JOINT_INDEX[hinge.joint]
        c = JOINT_INDEX[SEGMENT_CHILD[hinge.joint]]
        flex = angle_deg(
            body_joints[:, j] - body_joints[:, u], body_joints[:, c] - body_joints[:, j]
        )
        out[hinge.joint] = {"min": float(flex.min()), "max": float(flex.max())}
    return out


def foot_heights(track: BodyTrack, fps: float) -> dict[str, float]:
    """Lowest-vertex height (metres) on standing frames (a foot planted) and overall."""
    standing = planted_frames(track.joints, fps)
    low = track.lowest_vertex
    on = low[standing] if standing.any() else low
    p1, p99 = np.percentile(on, [1.0, 99.0])
    return {
        "standing_frames": int(standing.sum()),
        "standing_min": float(on.min()),
        "standing_p1": float(p1),
        "standing_median": float(np.median(on)),
        "standing_p99": float(p99),
        "standing_max": float(on.max()),
        "standing_outside_5cm": int((np.abs(on) > 0.05).sum()),
        "all_min": float(low.min()),
        "all_max": float(low.max()),
        "above_5cm_frames": int((low > 0.05).sum()),
    }


def cmu_joint_positions(kin: Kinematics, skeleton: Skeleton) -> np.ndarray:
    """CMU points (F, 22, 3) corresponding to the SMPL-22 joints (see :data:`JOINT_POINTS`)."""
    points = []
    for joint in SMPL22_JOINT_NAMES:
        bone, end = JOINT_POINTS[joint]
        source = kin.bone_start if end == "start" else kin.bone_end
        points.append(source[:, skeleton.index(bone)])
    return np.stack(points, axis=1)


def uniform_scale_mpjpe(
    body_joints: np.ndarray, kin: Kinematics, skeleton: Skeleton, scale: float
) -> dict[str, Any]:
    """Joint error (mm) between the body and the CMU skeleton scaled by ``scale``, hip centres
    aligned per frame. Dominated by where each skeleton places its joints, not by the motion.
    """
    cmu = scale * cmu_joint_positions(kin, skeleton)
    hips = [JOINT_INDEX["left_hip"], JOINT_INDEX["right_hip"]]
    cmu = (
        cmu - cmu[:, hips].mean(axis=1, keepdims=True) + body_joints[:, hips].mean(axis=1)[:, None]
    )
    error = 1000.0 * np.linalg.norm(body_joints - cmu, axis=-1)  # (F, 22)
    return {
        "mean_mm": float(error.mean()),
        "max_mm": float(error.max()),
        "per_joint_mean_mm": {
            n: float(e) for n, e in zip(SMPL22_JOINT_NAMES, error.mean(axis=0), strict=True)
        },
    }


def baked_offsets(pose_body: np.ndarray, frames: RestFrames) -> dict[str, dict[str, float]]:
    """The constant part direction matching bakes into each local rotation: the body pose (deg)
    when the CMU skeleton stands in its own rest pose (``O_parentᵀ O_j``), and the clip's
    median / min / max of each joint's local rotation angle.
    """
    G_rest = frames.offsets[None]  # CMU rest: identity global rotations
    rest_local = local_rotations(G_rest)[0, 1:]
    rest_angle = rotation_angle_deg(rest_local)
    clip_angle = np.degrees(np.linalg.norm(pose_body, axis=-1))
    return {
        name: {
            "rest": float(rest_angle[k]),
            "clip_median": float(np.median(clip_angle[:, k])),
            "clip_min": float(clip_angle[:, k].min()),
            "clip_max": float(clip_angle[:, k].max()),
        }
        for k, name in enumerate(SMPL22_JOINT_NAMES[1:])
    }


@dataclass
class RetargetReport:
    """The retargeting's numbers (degrees, metres, mm) for the data file and the README."""

    frames: int
    fps: float
    scale: float
    floor_offset_m: float
    segment_direction_deg: dict[str, dict[str, float]]  # one-to-one bones + neck (merged)
    one_to_one_max_deg: float
    hinge: dict[str, dict[str, float]]  # elbows and knees: off-hinge residual and hinge angle
    off_hinge_max_deg: float
    flexion_deg: dict[str, dict[str, float]]
    feet: dict[str, float]
    pelvis_height_m: dict[str, float]
    uniform_scale_mpjpe: dict[str, Any]
    rest_offset_deg: dict[str, float]  # |O_j| per joint: rest frame differences
    baked_offset_deg: dict[str, dict[str, float]]

    def as_dict(self, digits: int = 6) -> dict[str, Any]:
        """JSON-ready, numbers rounded to ``digits`` significant digits (stable text in the data
        file; tiny errors such as 1e-5° keep their size instead of rounding to 0).
        """
        return _rounded(asdict(self), digits)

    def summary_lines(self) -> list[str]:
        """A short human-readable summary (for the command line)."""
        mp = self.uniform_scale_mpjpe
        f = self.feet
        return [
            f"{self.frames} frames at {self.fps:g} Hz, CMU scaled x{self.scale:.3f} by leg length",
            f"segment direction, one-to-one bones: max {self.one_to_one_max_deg:.2e} deg; neck "
            f"(merged) mean {self.segment_direction_deg['neck']['mean']:.2f} / max "
            f"{self.segment_direction_deg['neck']['max']:.2f} deg",
            f"elbow/knee off-hinge: max {self.off_hinge_max_deg:.2e} deg",
            f"feet on {f['standing_frames']} standing frames: lowest vertex p1..p99 "
            f"{100 * f['standing_p1']:+.1f} .. {100 * f['standing_p99']:+.1f} cm, min/max "
            f"{100 * f['standing_min']:+.1f} / {100 * f['standing_max']:+.1f} cm "
            f"(floor offset {100 * self.floor_offset_m:+.2f} cm)",
            f"uniform-scale joint error: mean {mp['mean_mm']:.0f} mm, max {mp['max_mm']:.0f} mm "
            "(joint placement differs between the skeletons)",
            "constant offsets baked in (deg at CMU rest): "
            + ", ".join(
                f"{j} {self.baked_offset_deg[j]['rest']:.1f}"
                for j in ("left_collar", "right_collar", "spine1", "neck", "head")
            ),
        ]


def _rounded(value: Any, digits: int) -> Any:
    if isinstance(value, float):
        return float(f"{value:.{digits}g}")
    if isinstance(value, dict):
        return {k: _rounded(v, digits) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_rounded(v, digits) for v in value]
    return value


def check_retarget(
    skeleton: Skeleton,
    motion: Motion,
    pose_body: np.ndarray,
    root_orient: np.ndarray,
    trans: np.ndarray,
    body: BodyModel,
    scale: float | None = None,
    floor_offset: float = 0.0,
) -> RetargetReport:
    """Measure a retargeted motion (e.g. as stored, float32) against the CMU motion it came from."""
    rest_joints = body.rest_joints.detach().double().cpu().numpy()
    frames = rest_frames(skeleton, rest_joints)
    scale = leg_scale(skeleton, rest_joints) if scale is None else scale
    kin = forward_kinematics(skeleton, motion)
    pose64, root64, trans64 = (
        np.asarray(a, dtype=np.float64) for a in (pose_body, root_orient, trans)
    )
    track = body_track(body, pose64, root64, trans64)
    segments = segment_direction_errors(track.joints, kin, skeleton)
    hinge = hinge_residuals(pose64, frames.hinge_axes)
    pelvis_y = track.joints[:, 0, 1]
    return RetargetReport(
        frames=len(pose64),
        fps=float(motion.fps),
        scale=float(scale),
        floor_offset_m=float(floor_offset),
        segment_direction_deg=segments,
        one_to_one_max_deg=max(segments[j]["max"] for j in ONE_TO_ONE),
        hinge=hinge,
        off_hinge_max_deg=max(h["off_hinge_max"] for h in hinge.values()),
        flexion_deg=flexion_ranges(track.joints),
        feet=foot_heights(track, motion.fps),
        pelvis_height_m={
            "min": float(pelvis_y.min()),
            "median": float(np.median(pelvis_y)),
            "max": float(pelvis_y.max()),
        },
        uniform_scale_mpjpe=uniform_scale_mpjpe(track.joints, kin, skeleton, scale),
        rest_offset_deg={
            n: float(a)
            for n, a in zip(SMPL22_JOINT_NAMES, rotation_angle_deg(frames.offsets), strict=True)
        },
        baked_offset_deg=baked_offsets(pose64, frames),
    )
