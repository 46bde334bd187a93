"""Measure a retargeted motion against the source motion it came from.

The numbers (degrees, metres, mm) go into the embedded data file's metadata, per clip, and what
``posebench data build-embedded`` prints: segment directions of the one-to-one segments (exact up
to float rounding), how far elbows and knees are from pure hinge rotations, flexion ranges, foot
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
from posebench.rebuild.retarget import (
    HINGES,
    JOINT_INDEX,
    SEGMENT_CHILD,
    BodyTrack,
    RestFrames,
    angle_deg,
    body_track,
    floor_frames,
    leg_scale,
    local_rotations,
    observed_joints,
    rest_frames,
    rotation_angle_deg,
    upright_height,
)
from posebench.rebuild.source import SourceClip, SourceProfile


def _stats(values: np.ndarray) -> dict[str, float]:
    return {"mean": float(np.mean(values)), "max": float(np.max(values))}


def one_to_one(profile: SourceProfile) -> tuple[str, ...]:
    """SMPL joints whose segment is turned by exactly one source joint that starts it: their
    directions must agree exactly after retargeting.
    """
    return tuple(
        j
        for j in SEGMENT_CHILD
        if j in profile.segments
        and len(profile.drive.get(j, ())) == 1
        and profile.segments[j][0] == profile.drive[j][0]
    )


def segment_direction_errors(
    body_joints: np.ndarray, clip: SourceClip, profile: SourceProfile
) -> dict[str, dict[str, float]]:
    """Angle (degrees, mean and max over frames) between each body segment and the source segment
    driving it: exact for :func:`one_to_one` segments, not for merged ones (CMU's neck).
    """
    out = {}
    for joint in SEGMENT_CHILD:
        if joint not in profile.segments or joint not in profile.drive:
            continue
        j, c = JOINT_INDEX[joint], JOINT_INDEX[SEGMENT_CHILD[joint]]
        start, end = (clip.index(name) for name in profile.segments[joint])
        body_dir = body_joints[:, c] - body_joints[:, j]
        source_dir = clip.positions[:, end] - clip.positions[:, start]
        out[joint] = _stats(angle_deg(body_dir, source_dir))
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


#: Elbow and knee limits a frame is counted against (degrees of flexion from straight).
HYPEREXTENSION_LIMIT_DEG = -10.0
FLEXION_LIMIT_DEG = 160.0


def limit_violations(
    pose_body: np.ndarray, hinge_axes: Mapping[str, np.ndarray], rest_joints: np.ndarray
) -> dict[str, int]:
    """Per elbow and knee, the frames bent backwards more than 10° or forwards more than 160°:
    the rotation about the body's hinge axis plus the joint's bend at the body's rest pose.
    """
    out = {}
    for hinge in HINGES:
        if hinge.joint not in hinge_axes:
            continue
        u, j = JOINT_INDEX[hinge.upper], JOINT_INDEX[hinge.joint]
        c = JOINT_INDEX[SEGMENT_CHILD[hinge.joint]]
        rest_bend = float(
            angle_deg(rest_joints[j] - rest_joints[u], rest_joints[c] - rest_joints[j])
        )
        rotvec = pose_body[:, j - 1]
        flexion = np.degrees(rotvec @ hinge_axes[hinge.joint]) + rest_bend
        bad = (flexion < HYPEREXTENSION_LIMIT_DEG) | (flexion > FLEXION_LIMIT_DEG)
        out[hinge.joint] = int(bad.sum())
    return out


def foot_heights(track: BodyTrack, fps: float, standing_height: float) -> dict[str, float]:
    """Lowest-vertex height (metres) on standing frames (a foot planted while upright, see
    :func:`~posebench.rebuild.retarget.floor_frames`) and overall.
    """
    standing = floor_frames(track, fps, standing_height)
    low = track.lowest_vertex
    on = low[standing]
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


def source_joint_points(clip: SourceClip, profile: SourceProfile) -> dict[str, np.ndarray]:
    """Source points (F, 3) at the SMPL joints they correspond to: the start of each joint's
    segment, and the pelvis's source joint.
    """
    points = {"pelvis": clip.positions[:, clip.index(profile.drive["pelvis"][0])]}
    for joint, (start, _) in profile.segments.items():
        points[joint] = clip.positions[:, clip.index(start)]
    return points


def uniform_scale_mpjpe(
    body_joints: np.ndarray, clip: SourceClip, profile: SourceProfile, scale: float
) -> dict[str, Any]:
    """Joint error (mm) between the body and the source skeleton scaled by ``scale``, hip centres
    aligned per frame, over the joints with a source point. Dominated by where each skeleton
    places its joints, not by the motion.
    """
    points = source_joint_points(clip, profile)
    names = [n for n in SMPL22_JOINT_NAMES if n in points]
    source = scale * np.stack([points[n] for n in names], axis=1)
    hips = [JOINT_INDEX["left_hip"], JOINT_INDEX["right_hip"]]
    left, right = (clip.positions[:, clip.index(h)] for h in profile.hips)
    source_hips = scale * 0.5 * (left + right)
    body = body_joints[:, [JOINT_INDEX[n] for n in names]]
    source = source - source_hips[:, None] + body_joints[:, hips].mean(axis=1)[:, None]
    error = 1000.0 * np.linalg.norm(body - source, axis=-1)  # (F, joints)
    return {
        "mean_mm": float(error.mean()),
        "max_mm": float(error.max()),
        "per_joint_mean_mm": {n: float(e) for n, e in zip(names, error.mean(axis=0), strict=True)},
    }


def baked_offsets(pose_body: np.ndarray, frames: RestFrames) -> dict[str, dict[str, float]]:
    """The constant part direction matching bakes into each local rotation: the body pose (deg)
    when the source skeleton stands in its own rest pose (``O_parentᵀ O_j``), and the clip's
    median / min / max of each joint's local rotation angle.
    """
    G_rest = frames.offsets[None]  # source rest: identity global rotations
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
    observed_joints: list[str]  # SMPL joints the source captures; the others stay at rest
    segment_direction_deg: dict[str, dict[str, float]]  # one-to-one segments + merged ones
    one_to_one_max_deg: float
    hinge_axes_estimated: list[str]  # hinges whose source axis came from the motion
    hinge: dict[str, dict[str, float]]  # elbows and knees: off-hinge residual and hinge angle
    limit_violations: dict[str, int]  # frames past the elbow/knee limits (see limit_violations)
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
            f"{self.frames} frames at {self.fps:g} Hz, source scaled x{self.scale:.3f} by leg "
            f"length; {len(self.observed_joints)} of 22 joints observed",
            f"segment direction, one-to-one segments: max {self.one_to_one_max_deg:.2e} deg",
            f"elbow/knee off-hinge: max {self.off_hinge_max_deg:.2e} deg"
            + (
                f" (axes estimated from the motion: {', '.join(self.hinge_axes_estimated)})"
                if self.hinge_axes_estimated
                else ""
            ),
            "elbow/knee frames past -10 / 160 deg flexion: "
            + ", ".join(f"{j} {n}" for j, n in self.limit_violations.items()),
            f"feet on {f['standing_frames']} standing frames: lowest vertex p1..p99 "
            f"{100 * f['standing_p1']:+.1f} .. {100 * f['standing_p99']:+.1f} cm, min/max "
            f"{100 * f['standing_min']:+.1f} / {100 * f['standing_max']:+.1f} cm "
            f"(floor offset {100 * self.floor_offset_m:+.2f} cm)",
            f"uniform-scale joint error: mean {mp['mean_mm']:.0f} mm, max {mp['max_mm']:.0f} mm "
            "(joint placement differs between the skeletons)",
            "constant offsets baked in (deg at the source's rest): "
            + ", ".join(
                f"{j} {self.baked_offset_deg[j]['rest']:.1f}"
                for j in ("left_collar", "right_collar", "spine1", "neck", "head")
                if j in self.observed_joints
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
    clip: SourceClip,
    profile: SourceProfile,
    pose_body: np.ndarray,
    root_orient: np.ndarray,
    trans: np.ndarray,
    body: BodyModel,
    scale: float | None = None,
    floor_offset: float = 0.0,
) -> RetargetReport:
    """Measure a retargeted motion (e.g. as stored, float32) against the source clip."""
    rest_joints = body.rest_joints.detach().double().cpu().numpy()
    frames = rest_frames(clip, profile, rest_joints)
    scale = leg_scale(clip, profile, rest_joints) if scale is None else scale
    pose64, root64, trans64 = (
        np.asarray(a, dtype=np.float64) for a in (pose_body, root_orient, trans)
    )
    track = body_track(body, pose64, root64, trans64)
    segments = segment_direction_errors(track.joints, clip, profile)
    exact = one_to_one(profile)
    hinge = hinge_residuals(pose64, frames.hinge_axes)
    pelvis_y = track.joints[:, 0, 1]
    observed = observed_joints(profile)
    return RetargetReport(
        frames=len(pose64),
        fps=float(clip.fps),
        scale=float(scale),
        floor_offset_m=float(floor_offset),
        observed_joints=[n for n, seen in zip(SMPL22_JOINT_NAMES, observed, strict=True) if seen],
        segment_direction_deg=segments,
        one_to_one_max_deg=max(segments[j]["max"] for j in exact),
        hinge_axes_estimated=list(frames.estimated_hinges),
        hinge=hinge,
        limit_violations=limit_violations(pose64, frames.hinge_axes, rest_joints),
        off_hinge_max_deg=max((h["off_hinge_max"] for h in hinge.values()), default=0.0),
        flexion_deg=flexion_ranges(track.joints),
        feet=foot_heights(track, clip.fps, upright_height(body)),
        pelvis_height_m={
            "min": float(pelvis_y.min()),
            "median": float(np.median(pelvis_y)),
            "max": float(pelvis_y.max()),
        },
        uniform_scale_mpjpe=uniform_scale_mpjpe(track.joints, clip, profile, scale),
        rest_offset_deg={
            n: float(a)
            for n, a in zip(SMPL22_JOINT_NAMES, rotation_angle_deg(frames.offsets), strict=True)
        },
        baked_offset_deg=baked_offsets(pose64, frames),
    )
