"""Retarget CMU ASF/AMC motion onto the embedded body's SMPL-22 skeleton, and measure the result.

Method (see docs/embedded_data.md):

* Every SMPL-22 joint is driven by one CMU bone (the neck by two: the rotation halfway between
  ``lowerneck`` and ``upperneck``). Bones are matched by the *segment* they rotate: SMPL's
  ``left_elbow`` turns the elbow->wrist segment, which is CMU's ``lradius`` (CMU's ``lwrist`` is
  the hand and the wrist joint is the end of ``lradius``).
* Each joint takes over its bone's global orientation with a constant rest offset,
  ``G_smpl = G_cmu · O`` with ``O = F_cmu · F_smplᵀ``, where ``F`` is an orthonormal frame built in
  each skeleton's rest pose from the segment direction and a roll reference. Both skeletons are
  world-aligned at rest (CMU FK gives identity rotations at zero dofs; the body's zero pose is its
  T-pose), so the one-to-one segment directions then agree exactly on every frame.
* Roll: the segment direction leaves the roll about it free. For the arms and legs the roll is
  fixed by the hinge: the CMU elbow/knee hinge axis is ``C·x̂`` of ``radius``/``tibia`` (their only
  dof is ``rx``), the body's is the axis about which its own elbow/knee bends (forward flexion for
  the straight T-pose elbow; for the knee the axis of its small rest bend, which sits off the
  lateral axis because the rest leg is also slightly bow-legged). Both the upper and the lower
  limb segment take their frame from that one hinge axis, so the body's elbow and knee rotations
  come out as pure hinge rotations (a lateral knee axis instead would leave a constant off-hinge
  rotation). Matching directions only (swing) gives the same joint positions but leaves the
  elbows about 30° off their hinge, because the CMU humerus is rolled 30° at rest.
* Other roll references: the world's lateral axis (x) for the spine, neck, head, ankles and
  feet; forward (z) for the collars and the hands (thumb side); the pelvis frame is the hip line
  with the world's up axis as reference.
* Local rotations ``R_j = G_parentᵀ G_j`` become axis-angle in posebench's convention.
* Translation: the CMU skeleton is scaled by the ratio of leg lengths (thigh + shank) and the
  body's hip centre is put on the scaled CMU hip centre; then one vertical offset puts the body's
  lowest vertex on y = 0 (the median over standing frames, where a foot is planted).

Both skeletons use the same world axes (y up, facing +z, left at +x, metres), so no axis change.
Direction matching bakes constant offsets into the local rotations (e.g. the collars carry a
constant rotation because CMU's clavicles rise and have no motion in the clip); they are measured
by :func:`posebench.rebuild.retarget_report.baked_offsets` (recorded in the data file) and
documented rather than removed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from scipy.spatial.transform import Rotation

from posebench.body.base import SMPL22_JOINT_NAMES, SMPL22_PARENTS, BodyModel
from posebench.core.errors import InputError
from posebench.rebuild.asfamc import Kinematics, Motion, Skeleton, forward_kinematics, rest_motion

X_AXIS = np.array([1.0, 0.0, 0.0])
Y_AXIS = np.array([0.0, 1.0, 0.0])
Z_AXIS = np.array([0.0, 0.0, 1.0])

#: SMPL-22 joint -> the CMU bone(s) whose global rotation drives it (two: halfway between them).
SOURCE_BONES: dict[str, tuple[str, ...]] = {
    "pelvis": ("root",),
    "left_hip": ("lfemur",),
    "right_hip": ("rfemur",),
    "spine1": ("lowerback",),
    "left_knee": ("ltibia",),
    "right_knee": ("rtibia",),
    "spine2": ("upperback",),
    "left_ankle": ("lfoot",),
    "right_ankle": ("rfoot",),
    "spine3": ("thorax",),
    "left_foot": ("ltoes",),
    "right_foot": ("rtoes",),
    "neck": ("lowerneck", "upperneck"),
    "left_collar": ("lclavicle",),
    "right_collar": ("rclavicle",),
    "head": ("head",),
    "left_shoulder": ("lhumerus",),
    "right_shoulder": ("rhumerus",),
    "left_elbow": ("lradius",),
    "right_elbow": ("rradius",),
    "left_wrist": ("lwrist",),
    "right_wrist": ("rwrist",),
}

#: SMPL joint -> the child joint that ends the segment it rotates (one-to-one with a CMU bone).
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

#: Joints without a child segment in SMPL-22: the direction their segment points at rest (the
#: CMU bone points the same way at its rest: head up, toes forward, hands along the T-pose arm).
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
    """A hinge joint (elbow, knee): the joint, its parent limb joint, the CMU hinge bone and the
    direction the distal segment moves when the body's joint flexes (elbows forward, knees back).
    """

    joint: str
    upper: str
    cmu_bone: str
    flexion: tuple[float, float, float]


HINGES: tuple[Hinge, ...] = (
    Hinge("left_elbow", "left_shoulder", "lradius", (0.0, 0.0, 1.0)),
    Hinge("right_elbow", "right_shoulder", "rradius", (0.0, 0.0, 1.0)),
    Hinge("left_knee", "left_hip", "ltibia", (0.0, 0.0, -1.0)),
    Hinge("right_knee", "right_hip", "rtibia", (0.0, 0.0, -1.0)),
)

#: SMPL joints whose segment maps one-to-one onto a CMU bone (the segment-direction check).
ONE_TO_ONE: tuple[str, ...] = tuple(j for j in SEGMENT_CHILD if j != "neck")

#: SMPL joint -> CMU point ("start"/"end" of a bone) used for the uniform-scale joint error.
JOINT_POINTS: dict[str, tuple[str, str]] = {
    "pelvis": ("root", "start"),
    "left_hip": ("lfemur", "start"),
    "right_hip": ("rfemur", "start"),
    "spine1": ("lowerback", "start"),
    "left_knee": ("ltibia", "start"),
    "right_knee": ("rtibia", "start"),
    "spine2": ("upperback", "start"),
    "left_ankle": ("lfoot", "start"),
    "right_ankle": ("rfoot", "start"),
    "spine3": ("thorax", "start"),
    "left_foot": ("ltoes", "start"),
    "right_foot": ("rtoes", "start"),
    "neck": ("lowerneck", "start"),
    "left_collar": ("lclavicle", "start"),
    "right_collar": ("rclavicle", "start"),
    "head": ("head", "start"),
    "left_shoulder": ("lhumerus", "start"),
    "right_shoulder": ("rhumerus", "start"),
    "left_elbow": ("lradius", "start"),
    "right_elbow": ("rradius", "start"),
    "left_wrist": ("lradius", "end"),
    "right_wrist": ("rradius", "end"),
}

REQUIRED_BONES: tuple[str, ...] = tuple(
    sorted({b for bones in SOURCE_BONES.values() for b in bones} | {"lhipjoint", "rhipjoint"})
)

#: SMPL-22 joint name -> index.
JOINT_INDEX = {name: k for k, name in enumerate(SMPL22_JOINT_NAMES)}

#: Planted-foot threshold: a foot joint slower than this (m/s) counts as on the ground.
PLANTED_SPEED = 0.25


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


def hinge_axis(skeleton: Skeleton, bone_name: str) -> np.ndarray:
    """World axis (rest pose) of a one-dof ``rx`` hinge bone, signed so that flexion (the larger
    side of its limits) is a positive rotation about it.
    """
    bone = skeleton.bone(bone_name)
    if bone.dofs != ("rx",):
        raise InputError(
            f"{skeleton.path or 'skeleton'}: bone {bone_name} must be a hinge with the one dof "
            f"'rx' (CMU skeletons), found {bone.dofs}; this skeleton cannot be retargeted"
        )
    slot = {"X": 0, "Y": 1, "Z": 2}
    angles = [bone.axis[slot[a]] for a in bone.axis_order]
    C = Rotation.from_euler(bone.axis_order.lower(), angles).as_matrix()  # extrinsic: Rz·Ry·Rx
    axis = C[:, 0]
    low, high = bone.limits[0]
    return axis if not (np.isfinite(low) and np.isfinite(high)) or high >= -low else -axis


# --------------------------------------------------------------------------- rest frames


@dataclass(frozen=True)
class RestFrames:
    """Per SMPL joint: the CMU and body rest frames and the rest offset ``O = F_cmu F_smplᵀ``."""

    cmu: np.ndarray  # (22, 3, 3)
    smpl: np.ndarray  # (22, 3, 3)
    offsets: np.ndarray  # (22, 3, 3)
    hinge_axes: dict[str, np.ndarray]  # body hinge axis (rest, world) of each elbow and knee


def _check_bones(skeleton: Skeleton) -> None:
    missing = [b for b in REQUIRED_BONES if b not in skeleton.bone_names]
    if missing:
        raise InputError(
            f"{skeleton.path or 'skeleton'}: lacks the CMU bones {', '.join(missing)}; "
            "retargeting needs a CMU 31-bone ASF skeleton"
        )


def _cmu_rest_direction(skeleton: Skeleton, rest: Kinematics, joint: str) -> np.ndarray:
    """Direction of the CMU segment that drives ``joint``, in the rest pose."""
    start, end = rest.bone_start[0], rest.bone_end[0]
    if joint == "pelvis":  # the hip line, right to left
        return end[skeleton.index("lhipjoint")] - end[skeleton.index("rhipjoint")]
    if joint == "neck":  # the chord from the lower neck's start to the upper neck's end
        return end[skeleton.index("upperneck")] - start[skeleton.index("lowerneck")]
    return skeleton.bone(SOURCE_BONES[joint][0]).direction


def _smpl_rest_direction(rest_joints: np.ndarray, joint: str) -> np.ndarray:
    """Direction of the body segment a joint rotates, at the body's zero pose."""
    if joint == "pelvis":
        return rest_joints[JOINT_INDEX["left_hip"]] - rest_joints[JOINT_INDEX["right_hip"]]
    if joint in SEGMENT_CHILD:
        return rest_joints[JOINT_INDEX[SEGMENT_CHILD[joint]]] - rest_joints[JOINT_INDEX[joint]]
    return END_DIRECTION[joint]


def _body_hinge_axis(rest_joints: np.ndarray, hinge: Hinge) -> np.ndarray:
    """The body's hinge axis: the axis of its rest bend when bent, else from the flexion side."""
    upper = _unit(_smpl_rest_direction(rest_joints, hinge.upper))
    lower = _unit(_smpl_rest_direction(rest_joints, hinge.joint))
    from_flexion = _unit(np.cross(lower, np.asarray(hinge.flexion)))
    bend = np.cross(upper, lower)
    if np.linalg.norm(bend) < np.sin(np.radians(1.0)):  # straight (the T-pose elbow)
        return from_flexion
    axis = _unit(bend)
    return axis if axis @ from_flexion > 0 else -axis


def rest_frames(skeleton: Skeleton, rest_joints: np.ndarray) -> RestFrames:
    """Both skeletons' rest frames and the per-joint rest offsets."""
    _check_bones(skeleton)
    rest = forward_kinematics(skeleton, rest_motion(skeleton))
    rest_joints = np.asarray(rest_joints, dtype=np.float64)
    cmu = np.zeros((22, 3, 3))
    smpl = np.zeros((22, 3, 3))
    for joint in SMPL22_JOINT_NAMES:
        if joint in ROLL_REFERENCE:
            k = JOINT_INDEX[joint]
            ref = ROLL_REFERENCE[joint]
            cmu[k] = frame(_cmu_rest_direction(skeleton, rest, joint), ref)
            smpl[k] = frame(_smpl_rest_direction(rest_joints, joint), ref)
    hinge_axes = {}
    for hinge in HINGES:
        a_cmu = hinge_axis(skeleton, hinge.cmu_bone)
        a_body = _body_hinge_axis(rest_joints, hinge)
        hinge_axes[hinge.joint] = a_body
        for joint in (hinge.upper, hinge.joint):
            k = JOINT_INDEX[joint]
            d_cmu = _unit(_cmu_rest_direction(skeleton, rest, joint))
            d_body = _unit(_smpl_rest_direction(rest_joints, joint))
            # reference = the flexion direction (axis x direction) so that e3 is the hinge axis
            cmu[k] = frame(d_cmu, np.cross(a_cmu, d_cmu))
            smpl[k] = frame(d_body, np.cross(a_body, d_body))
    offsets = cmu @ np.swapaxes(smpl, -1, -2)
    return RestFrames(cmu=cmu, smpl=smpl, offsets=offsets, hinge_axes=hinge_axes)


# --------------------------------------------------------------------------- retarget


@dataclass
class Retargeted:
    """Motion on the body: local axis-angle ``pose_body`` (T, 21, 3), ``root_orient`` (T, 3),
    ``trans`` (T, 3) in metres (float64), at ``fps``, and what the retargeting chose.
    """

    pose_body: np.ndarray
    root_orient: np.ndarray
    trans: np.ndarray
    fps: float
    scale: float  # body leg length / CMU leg length
    floor_offset: float  # metres added to trans[:, 1] to put the feet on y = 0
    standing_frames: int  # frames the floor offset was taken over
    frames: RestFrames = field(repr=False)


def leg_scale(skeleton: Skeleton, rest_joints: np.ndarray) -> float:
    """Body leg length / CMU leg length (thigh + shank, mean of both sides)."""
    j = np.asarray(rest_joints, dtype=np.float64)

    def body_leg(side: str) -> float:
        hip, knee, ankle = (j[JOINT_INDEX[f"{side}_{n}"]] for n in ("hip", "knee", "ankle"))
        return float(np.linalg.norm(knee - hip) + np.linalg.norm(ankle - knee))

    cmu = [skeleton.bone(f"{s}femur").length + skeleton.bone(f"{s}tibia").length for s in "lr"]
    return (body_leg("left") + body_leg("right")) / float(sum(cmu))


def global_rotations(kin: Kinematics, skeleton: Skeleton, frames: RestFrames) -> np.ndarray:
    """The body's global joint rotations (F, 22, 3, 3): each CMU source rotation · its offset."""
    n = kin.global_rotation.shape[0]
    out = np.zeros((n, 22, 3, 3))
    for joint, bones in SOURCE_BONES.items():
        k = JOINT_INDEX[joint]
        rots = [kin.global_rotation[:, skeleton.index(b)] for b in bones]
        source = rots[0] if len(rots) == 1 else _halfway(rots[0], rots[1])
        out[:, k] = source @ frames.offsets[k]
    return out


def local_rotations(G: np.ndarray) -> np.ndarray:
    """Parent-relative rotations (F, 22, 3, 3) from global ones; joint 0 keeps its global."""
    local = G.copy()
    parents = np.array(SMPL22_PARENTS[1:])
    local[:, 1:] = np.swapaxes(G[:, parents], -1, -2) @ G[:, 1:]
    return local


def _to_axis_angle(R: np.ndarray) -> np.ndarray:
    return Rotation.from_matrix(R.reshape(-1, 3, 3)).as_rotvec().reshape(*R.shape[:-2], 3)


def hip_centre(kin: Kinematics, skeleton: Skeleton) -> np.ndarray:
    """The CMU hip centre (F, 3): the midpoint of the two femur starts."""
    return 0.5 * (
        kin.bone_start[:, skeleton.index("lfemur")] + kin.bone_start[:, skeleton.index("rfemur")]
    )


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


def retarget(
    skeleton: Skeleton, motion: Motion, body: BodyModel, frames: RestFrames | None = None
) -> Retargeted:
    """Retarget a CMU motion onto ``body`` (the body's rest joints set the offsets and the scale;
    its mesh sets the floor). ``body`` should be a float64 copy for reproducible numbers;
    ``frames`` overrides the rest offsets (default: :func:`rest_frames`, hinge-aligned).
    """
    rest_joints = body.rest_joints.detach().double().cpu().numpy()
    frames = rest_frames(skeleton, rest_joints) if frames is None else frames
    kin = forward_kinematics(skeleton, motion)
    G = global_rotations(kin, skeleton, frames)
    local = local_rotations(G)
    pose_body = _to_axis_angle(local[:, 1:])
    root_orient = _to_axis_angle(local[:, 0])
    scale = leg_scale(skeleton, rest_joints)
    pelvis = rest_joints[0]
    body_hips = 0.5 * (rest_joints[JOINT_INDEX["left_hip"]] + rest_joints[JOINT_INDEX["right_hip"]])
    # body: hip centre = pelvis + trans + G_pelvis (hips - pelvis); put it on the scaled CMU one
    trans = scale * hip_centre(kin, skeleton) - pelvis - G[:, 0] @ (body_hips - pelvis)
    track = body_track(body, pose_body, root_orient, trans)
    standing = planted_frames(track.joints, motion.fps)
    if not standing.any():  # e.g. a single frame, or a clip that never touches the ground
        standing = np.ones_like(standing)
    # rounded to 0.1 mm so that float noise across library versions cannot change the bytes
    floor_offset = round(-float(np.median(track.lowest_vertex[standing])), 4)
    trans[:, 1] += floor_offset
    return Retargeted(
        pose_body=pose_body,
        root_orient=root_orient,
        trans=trans,
        fps=float(motion.fps),
        scale=scale,
        floor_offset=floor_offset,
        standing_frames=int(standing.sum()),
        frames=frames,
    )
