"""Retarget any motion source onto the embedded body's SMPL-22 skeleton.

Every reader ends in a :class:`~posebench.rebuild.source.SourceClip` (the source's joints, rest
pose and per-frame global rotations, in posebench's axes) and names a
:class:`~posebench.rebuild.source.SourceProfile` (which source joints drive which body joints).
One method then serves every source (docs/embedded_data.md#retargeting):

* Each driven SMPL joint takes over its source joint's global rotation with a constant rest
  offset, ``G_body = G_source · O`` with ``O = F_source · F_bodyᵀ``, where ``F`` is an orthonormal
  frame built in each skeleton's rest pose from the segment direction and a roll reference. Both
  rest poses have identity rotations, so the segment directions then agree on every frame.
  A joint driven by two source joints takes the rotation halfway (slerp ½) between them.
* Roll: elbows and knees take their frames from one hinge axis shared by the upper and lower
  limb. The source's axis is declared by the file (ASF's radius/tibia ``rx``, DeepMimic's revolute
  joints) or estimated from the motion: the principal axis of the lower limb's rotations relative
  to the upper limb. The body's is the axis about which its own elbow/knee bends. The body's elbow
  and knee rotations then come out as hinges. Other roll references: the world's lateral axis (x)
  for the spine, neck, head, ankles and feet; forward (z) for the collars and hands; the pelvis
  frame is the hip line with the world's up axis.
* Chains: where a source has one joint for several SMPL joints (one chest for three spine joints),
  the last SMPL joint is driven and the chain's rotation is split evenly (slerp) over the joints.
* Joints the source does not capture keep the identity local rotation and are marked unobserved.
* Translation: the source is scaled by the ratio of leg lengths (thigh + shank) and the body's hip
  centre put on the scaled source hip centre; then one vertical offset puts the body's lowest
  vertex on y = 0 (the median over standing frames: a foot planted while the body is upright,
  so that lying and crawling frames, where a thicker or thinner torso than the source's touches
  the floor, do not set it).

Direction matching bakes constant offsets into the local rotations where the rest poses differ
(e.g. CMU's clavicles rise at rest); :func:`posebench.rebuild.retarget_report.baked_offsets`
measures them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from scipy.spatial.transform import Rotation

from posebench.body.base import SMPL22_JOINT_NAMES, SMPL22_PARENTS, BodyModel
from posebench.core.errors import InputError
from posebench.rebuild.source import SourceClip, SourceProfile

X_AXIS = np.array([1.0, 0.0, 0.0])
Y_AXIS = np.array([0.0, 1.0, 0.0])
Z_AXIS = np.array([0.0, 0.0, 1.0])

#: SMPL joint -> the child joint that ends the segment it rotates.
SEGMENT_CHILD: dict[str, str] = {
    "left_hip": "left_knee",
    "right_hip": "right_knee",
    "spine1": "spine2",
    "left_knee": "left_ankle",
    "right_knee": "right_ankle",
    "spine2": "spine3",
    "left_ankle": "left_foot",
    "right_ankle": "right_foot",
    "spine3": "neck",
    "neck": "head",
    "left_collar": "left_shoulder",
    "right_collar": "right_shoulder",
    "left_shoulder": "left_elbow",
    "right_shoulder": "right_elbow",
    "left_elbow": "left_wrist",
    "right_elbow": "right_wrist",
}

#: Joints without a child segment in SMPL-22: the direction their segment points in the body's
#: T-pose (head up, toes forward, hands along the arm); also a source's, unless its profile says.
END_DIRECTION: dict[str, np.ndarray] = {
    "head": Y_AXIS,
    "left_foot": Z_AXIS,
    "right_foot": Z_AXIS,
    "left_wrist": X_AXIS,
    "right_wrist": -X_AXIS,
}

#: Roll reference of each joint's frame (hinge limbs are set by HINGES instead; pelvis: up).
ROLL_REFERENCE: dict[str, np.ndarray] = {
    "pelvis": Y_AXIS,
    "spine1": X_AXIS,
    "spine2": X_AXIS,
    "spine3": X_AXIS,
    "neck": X_AXIS,
    "head": X_AXIS,
    "left_ankle": X_AXIS,
    "right_ankle": X_AXIS,
    "left_foot": X_AXIS,
    "right_foot": X_AXIS,
    "left_collar": Z_AXIS,
    "right_collar": Z_AXIS,
    "left_wrist": Z_AXIS,
    "right_wrist": Z_AXIS,
}


@dataclass(frozen=True)
class Hinge:
    """A hinge joint (elbow, knee): the joint, its parent limb joint and the direction the distal
    segment moves when the body's joint flexes (elbows forward, knees back).
    """

    joint: str
    upper: str
    flexion: tuple[float, float, float]


HINGES: tuple[Hinge, ...] = (
    Hinge("left_elbow", "left_shoulder", (0.0, 0.0, 1.0)),
    Hinge("right_elbow", "right_shoulder", (0.0, 0.0, 1.0)),
    Hinge("left_knee", "left_hip", (0.0, 0.0, -1.0)),
    Hinge("right_knee", "right_hip", (0.0, 0.0, -1.0)),
)

#: SMPL-22 joint name -> index.
JOINT_INDEX = {name: k for k, name in enumerate(SMPL22_JOINT_NAMES)}

#: Planted-foot threshold: a foot joint slower than this (m/s) counts as on the ground.
PLANTED_SPEED = 0.25
#: Upright: the pelvis at least this fraction of its standing height above the lowest vertex.
UPRIGHT = 0.6

#: A hinge estimated from motion needs at least this much bending (degrees) to fix its axis.
MIN_HINGE_RANGE_DEG = 20.0


# --------------------------------------------------------------------------- small geometry


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def frame(direction: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Orthonormal frame (columns): the direction, the reference made orthogonal, their cross."""
    e1 = _unit(np.asarray(direction, dtype=np.float64))
    r = np.asarray(reference, dtype=np.float64)
    e2 = r - (r @ e1) * e1
    if np.linalg.norm(e2) < 1e-6:
        raise InputError("a roll reference is parallel to its segment; the skeleton is degenerate")
    e2 = _unit(e2)
    return np.stack([e1, e2, np.cross(e1, e2)], axis=-1)


def angle_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angle in degrees between vectors (..., 3), robust near 0° and 180°."""
    cross = np.linalg.norm(np.cross(a, b), axis=-1)
    dot = np.sum(a * b, axis=-1)
    return np.degrees(np.arctan2(cross, dot))


def rotation_angle_deg(R: np.ndarray) -> np.ndarray:
    """Rotation angle in degrees of matrices (..., 3, 3)."""
    flat = R.reshape(-1, 3, 3)
    return np.degrees(np.linalg.norm(Rotation.from_matrix(flat).as_rotvec(), axis=-1)).reshape(
        R.shape[:-2]
    )


def _halfway(Ra: np.ndarray, Rb: np.ndarray) -> np.ndarray:
    """The rotation halfway (slerp ½) between two batches of rotation matrices (F, 3, 3)."""
    relative = Rotation.from_matrix(np.swapaxes(Ra, -1, -2) @ Rb).as_rotvec()
    return Ra @ Rotation.from_rotvec(0.5 * relative).as_matrix()


def _power(R: np.ndarray, fraction: float) -> np.ndarray:
    """``R`` to a fractional power (same axis, ``fraction`` of the angle), (F, 3, 3)."""
    return Rotation.from_rotvec(fraction * Rotation.from_matrix(R).as_rotvec()).as_matrix()


# --------------------------------------------------------------------------- rest frames


@dataclass(frozen=True)
class RestFrames:
    """Per SMPL joint: the source and body rest frames and the rest offset ``O = F_src F_bodyᵀ``
    (identity for joints the source does not drive), and the hinge axes (rest, world).
    """

    source: np.ndarray  # (22, 3, 3)
    body: np.ndarray  # (22, 3, 3)
    offsets: np.ndarray  # (22, 3, 3)
    hinge_axes: dict[str, np.ndarray]  # body hinge axis of each elbow and knee
    source_hinge_axes: dict[str, np.ndarray]  # the source's, declared or estimated
    estimated_hinges: tuple[str, ...] = ()  # which source hinge axes came from the motion


def source_rest_direction(clip: SourceClip, profile: SourceProfile, joint: str) -> np.ndarray:
    """Direction of the source segment that drives ``joint``, in the source's rest pose."""
    rest = clip.rest
    if joint == "pelvis":  # the hip line, right to left
        left, right = profile.hips
        return rest[clip.index(left)] - rest[clip.index(right)]
    if joint in profile.segments:
        start, end = profile.segments[joint]
        return rest[clip.index(end)] - rest[clip.index(start)]
    if joint in END_DIRECTION:
        return END_DIRECTION[joint]
    raise InputError(
        f"{clip.path or 'motion source'}: the '{profile.name}' profile drives {joint} but gives "
        "no segment for it"
    )


def body_rest_direction(rest_joints: np.ndarray, joint: str) -> np.ndarray:
    """Direction of the body segment a joint rotates, at the body's zero pose."""
    if joint == "pelvis":
        return rest_joints[JOINT_INDEX["left_hip"]] - rest_joints[JOINT_INDEX["right_hip"]]
    if joint in SEGMENT_CHILD:
        return rest_joints[JOINT_INDEX[SEGMENT_CHILD[joint]]] - rest_joints[JOINT_INDEX[joint]]
    return END_DIRECTION[joint]


def body_hinge_axis(rest_joints: np.ndarray, hinge: Hinge) -> np.ndarray:
    """The body's hinge axis: the axis of its rest bend when bent, else from the flexion side."""
    upper = _unit(body_rest_direction(rest_joints, hinge.upper))
    lower = _unit(body_rest_direction(rest_joints, hinge.joint))
    from_flexion = _unit(np.cross(lower, np.asarray(hinge.flexion)))
    bend = np.cross(upper, lower)
    if np.linalg.norm(bend) < np.sin(np.radians(1.0)):  # straight (the T-pose elbow)
        return from_flexion
    axis = _unit(bend)
    return axis if axis @ from_flexion > 0 else -axis


def _parent_source_joint(clip: SourceClip, joint: str) -> int:
    parent = clip.parents[clip.index(joint)]
    if parent < 0:
        raise InputError(f"{clip.path or 'motion source'}: hinge joint {joint} has no parent")
    return parent


def estimate_hinge_axis(clip: SourceClip, joint: str, flexion: np.ndarray) -> np.ndarray:
    """The source hinge axis of ``joint`` (world, rest) from its motion: the principal axis of its
    rotations relative to its parent segment, signed so that flexion moves the distal segment
    towards ``flexion``. One-line error if the joint barely bends in the clip.
    """
    j = clip.index(joint)
    p = _parent_source_joint(clip, joint)
    local = np.swapaxes(clip.rotations[:, p], -1, -2) @ clip.rotations[:, j]
    rotvec = Rotation.from_matrix(local).as_rotvec()
    if np.degrees(np.linalg.norm(rotvec, axis=-1).max()) < MIN_HINGE_RANGE_DEG:
        raise InputError(
            f"{clip.path or 'motion source'}: {joint} bends less than {MIN_HINGE_RANGE_DEG:g} deg "
            "in the clip, too little to find its hinge axis; declare it in the reader"
        )
    axis = np.linalg.eigh(rotvec.T @ rotvec)[1][:, -1]
    children = [k for k, q in enumerate(clip.parents) if q == j]
    distal = clip.rest[children[0]] - clip.rest[j] if children else clip.rest[j] - clip.rest[p]
    return axis if np.cross(axis, distal) @ flexion > 0 else -axis


def rest_frames(clip: SourceClip, profile: SourceProfile, rest_joints: np.ndarray) -> RestFrames:
    """Both skeletons' rest frames, the per-joint rest offsets and the hinge axes."""
    profile.check(clip)
    rest_joints = np.asarray(rest_joints, dtype=np.float64)
    eye = np.broadcast_to(np.eye(3), (22, 3, 3))
    source, body = eye.copy(), eye.copy()
    for joint in SMPL22_JOINT_NAMES:
        if joint in ROLL_REFERENCE and joint in profile.drive:
            k = JOINT_INDEX[joint]
            ref = ROLL_REFERENCE[joint]
            source[k] = frame(source_rest_direction(clip, profile, joint), ref)
            body[k] = frame(body_rest_direction(rest_joints, joint), ref)
    hinge_axes, source_axes, estimated = {}, {}, []
    for hinge in HINGES:
        if hinge.joint not in profile.drive:
            continue
        bends = profile.hinges[hinge.joint]
        if bends in clip.hinge_axes:
            a_src = _unit(np.asarray(clip.hinge_axes[bends], dtype=np.float64))
        else:
            a_src = estimate_hinge_axis(clip, bends, np.asarray(hinge.flexion))
            estimated.append(hinge.joint)
        a_body = body_hinge_axis(rest_joints, hinge)
        hinge_axes[hinge.joint], source_axes[hinge.joint] = a_body, a_src
        for joint in (hinge.upper, hinge.joint):
            k = JOINT_INDEX[joint]
            d_src = _unit(source_rest_direction(clip, profile, joint))
            d_body = _unit(body_rest_direction(rest_joints, joint))
            # reference = the flexion direction (axis x direction) so that e3 is the hinge axis
            source[k] = frame(d_src, np.cross(a_src, d_src))
            body[k] = frame(d_body, np.cross(a_body, d_body))
    offsets = source @ np.swapaxes(body, -1, -2)
    for joint in SMPL22_JOINT_NAMES:
        if joint not in profile.drive:
            offsets[JOINT_INDEX[joint]] = np.eye(3)
    return RestFrames(source, body, offsets, hinge_axes, source_axes, tuple(estimated))


# --------------------------------------------------------------------------- retarget


@dataclass
class Retargeted:
    """Motion on the body: local axis-angle ``pose_body`` (T, 21, 3), ``root_orient`` (T, 3),
    ``trans`` (T, 3) in metres (float64), at ``fps``; which joints the source observed
    (``observed``, (T, 22) bool); and what the retargeting chose.
    """

    pose_body: np.ndarray
    root_orient: np.ndarray
    trans: np.ndarray
    observed: np.ndarray
    fps: float
    scale: float  # body leg length / source leg length
    floor_offset: float  # metres added to trans[:, 1] to put the feet on y = 0
    standing_frames: int  # frames the floor offset was taken over
    frames: RestFrames = field(repr=False)


def observed_joints(profile: SourceProfile) -> np.ndarray:
    """(22,) bool: the SMPL joints a profile's source captures (driven, or in a driven chain)."""
    seen = set(profile.drive) | {j for chain in profile.chains.values() for j in chain}
    return np.array([name in seen for name in SMPL22_JOINT_NAMES])


def leg_scale(clip: SourceClip, profile: SourceProfile, rest_joints: np.ndarray) -> float:
    """Body leg length / source leg length (thigh + shank, mean of both sides)."""
    j = np.asarray(rest_joints, dtype=np.float64)

    def leg(points: list[np.ndarray]) -> float:
        return float(np.linalg.norm(points[1] - points[0]) + np.linalg.norm(points[2] - points[1]))

    body = sum(
        leg([j[JOINT_INDEX[f"{side}_{n}"]] for n in ("hip", "knee", "ankle")])
        for side in ("left", "right")
    )
    source = sum(
        leg([clip.rest[clip.index(name)] for name in names])
        for names in zip(profile.hips, profile.knees, profile.ankles, strict=True)
    )
    return body / source


def global_rotations(clip: SourceClip, profile: SourceProfile, frames: RestFrames) -> np.ndarray:
    """The body's global joint rotations (F, 22, 3, 3): each driven joint's source rotation · its
    offset, chains split evenly, undriven joints at the identity local rotation.
    """
    out = np.zeros((clip.n_frames, 22, 3, 3))
    driven = {}
    for joint, sources in profile.drive.items():
        rots = [clip.rotations[:, clip.index(s)] for s in sources]
        rotation = rots[0] if len(rots) == 1 else _halfway(rots[0], rots[1])
        driven[joint] = rotation @ frames.offsets[JOINT_INDEX[joint]]
    chained = {j: end for end, chain in profile.chains.items() for j in chain}
    for k, joint in enumerate(SMPL22_JOINT_NAMES):
        parent = SMPL22_PARENTS[k]
        if joint in chained and joint != chained[joint]:
            continue  # set with its chain's end below
        if joint in driven:
            out[:, k] = driven[joint]
        elif parent < 0:
            raise InputError(f"the '{profile.name}' profile does not drive the pelvis")
        else:
            out[:, k] = out[:, parent]
        if joint in profile.chains:
            chain = profile.chains[joint]
            base = out[:, SMPL22_PARENTS[JOINT_INDEX[chain[0]]]]
            total = np.swapaxes(base, -1, -2) @ out[:, k]
            for n, member in enumerate(chain[:-1], start=1):
                out[:, JOINT_INDEX[member]] = base @ _power(total, n / len(chain))
    return out


def local_rotations(G: np.ndarray) -> np.ndarray:
    """Parent-relative rotations (F, 22, 3, 3) from global ones; joint 0 keeps its global."""
    local = G.copy()
    parents = np.array(SMPL22_PARENTS[1:])
    local[:, 1:] = np.swapaxes(G[:, parents], -1, -2) @ G[:, 1:]
    return local


def _to_axis_angle(R: np.ndarray) -> np.ndarray:
    return Rotation.from_matrix(R.reshape(-1, 3, 3)).as_rotvec().reshape(*R.shape[:-2], 3)


def hip_centre(clip: SourceClip, profile: SourceProfile) -> np.ndarray:
    """The source hip centre (F, 3): the midpoint of its two hip joints."""
    left, right = (clip.positions[:, clip.index(name)] for name in profile.hips)
    return 0.5 * (left + right)


@dataclass
class BodyTrack:
    """Body forward of a retargeted motion (float64): joints and each frame's lowest vertex."""

    joints: np.ndarray  # (T, 22, 3)
    lowest_vertex: np.ndarray  # (T,) lowest vertex height (y) per frame


def body_track(
    body: BodyModel,
    pose_body: np.ndarray,
    root_orient: np.ndarray,
    trans: np.ndarray,
    chunk: int = 256,
) -> BodyTrack:
    """Run the body over a motion in chunks; keep joints and the lowest vertex of each frame."""
    pose_t, root_t, trans_t = (
        torch.as_tensor(a, dtype=body.dtype, device=body.device)
        for a in (pose_body, root_orient, trans)
    )
    out = body.forward_batched(pose_t, root_t, trans_t, chunk=chunk)
    source = out.vertices if out.vertices is not None else out.joints
    return BodyTrack(
        out.joints.double().cpu().numpy(), source[..., 1].amin(dim=1).double().cpu().numpy()
    )


def planted_frames(joints: np.ndarray, fps: float, speed: float = PLANTED_SPEED) -> np.ndarray:
    """Frames (bool, T) where at least one foot (ankle and ball joints) moves slower than
    ``speed`` m/s: the body stands on it. Central differences; end frames use one side.
    """
    feet = (
        joints[:, [JOINT_INDEX[n] for n in ("left_ankle", "left_foot")]],
        joints[:, [JOINT_INDEX[n] for n in ("right_ankle", "right_foot")]],
    )
    if len(joints) < 2:
        return np.ones(len(joints), dtype=bool)
    planted = np.zeros(len(joints), dtype=bool)
    for foot in feet:
        velocity = np.gradient(foot, 1.0 / fps, axis=0)
        planted |= np.linalg.norm(velocity, axis=-1).max(axis=-1) < speed
    return planted


def upright_height(body: BodyModel) -> float:
    """Height of the body's pelvis above its lowest vertex at the zero pose (standing), metres."""
    zeros = np.zeros((1, 21, 3)), np.zeros((1, 3)), np.zeros((1, 3))
    rest = body_track(body, *zeros)
    return float(rest.joints[0, 0, 1] - rest.lowest_vertex[0])


def floor_frames(track: BodyTrack, fps: float, standing_height: float) -> np.ndarray:
    """The frames the floor is taken over (bool, T): a foot planted (:func:`planted_frames`)
    while the body is upright (pelvis above its lowest vertex by at least ``UPRIGHT`` of
    ``standing_height``); else planted frames (a clip that never stands up: crawling); else all.
    """
    planted = planted_frames(track.joints, fps)
    upright = track.joints[:, 0, 1] - track.lowest_vertex > UPRIGHT * standing_height
    for frames in (planted & upright, planted):
        if frames.any():
            return frames
    return np.ones_like(planted)


def retarget(
    clip: SourceClip,
    profile: SourceProfile,
    body: BodyModel,
    frames: RestFrames | None = None,
) -> Retargeted:
    """Retarget a source clip onto ``body`` (the body's rest joints set the offsets and the
    scale; its mesh sets the floor). ``body`` should be a float64 copy for reproducible numbers;
    ``frames`` overrides the rest offsets (default: :func:`rest_frames`, hinge-aligned).
    """
    rest_joints = body.rest_joints.detach().double().cpu().numpy()
    frames = rest_frames(clip, profile, rest_joints) if frames is None else frames
    G = global_rotations(clip, profile, frames)
    local = local_rotations(G)
    pose_body = _to_axis_angle(local[:, 1:])
    root_orient = _to_axis_angle(local[:, 0])
    scale = leg_scale(clip, profile, rest_joints)
    pelvis = rest_joints[0]
    body_hips = 0.5 * (rest_joints[JOINT_INDEX["left_hip"]] + rest_joints[JOINT_INDEX["right_hip"]])
    # body: hip centre = pelvis + trans + G_pelvis (hips - pelvis); put it on the scaled source one
    trans = scale * hip_centre(clip, profile) - pelvis - G[:, 0] @ (body_hips - pelvis)
    track = body_track(body, pose_body, root_orient, trans)
    standing = floor_frames(track, clip.fps, upright_height(body))
    # rounded to 0.1 mm so that float noise across library versions cannot change the bytes
    floor_offset = round(-float(np.median(track.lowest_vertex[standing])), 4)
    trans[:, 1] += floor_offset
    observed = np.broadcast_to(observed_joints(profile), (clip.n_frames, 22)).copy()
    return Retargeted(
        pose_body=pose_body,
        root_orient=root_orient,
        trans=trans,
        observed=observed,
        fps=float(clip.fps),
        scale=scale,
        floor_offset=floor_offset,
        standing_frames=int(standing.sum()),
        frames=frames,
    )
