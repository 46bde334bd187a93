"""CMU's ASF/AMC skeleton as a retargeting source: the clip adapter and the CMU bone profile.

Every SMPL-22 joint is driven by the CMU bone that rotates the same segment: SMPL's
``left_elbow`` turns the elbow->wrist segment, which is CMU's ``lradius`` (CMU's ``lwrist`` is the
hand; the wrist joint is the end of ``lradius``). The neck takes the rotation halfway between
``lowerneck`` and ``upperneck``. Each bone becomes a clip joint at its start; bones with no child
also get an end joint (``<bone>_end``) so that every segment has two points.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from posebench.core.errors import InputError
from posebench.rebuild.asfamc import Motion, Skeleton, forward_kinematics, rest_motion
from posebench.rebuild.source import SourceClip, SourceProfile

#: SMPL-22 joint -> the CMU bone(s) whose global rotation drives it (two: halfway between them).
_DRIVE: dict[str, tuple[str, ...]] = {
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

CMU_ASF_PROFILE = SourceProfile(
    name="CMU ASF",
    drive=_DRIVE,
    segments={
        **{
            joint: (bones[0], f"{bones[0]}_end")
            for joint, bones in _DRIVE.items()
            if joint not in ("pelvis", "neck")
        },
        "neck": ("lowerneck", "head"),  # the chord over both neck bones
    },
    hips=("lfemur", "rfemur"),
    knees=("ltibia", "rtibia"),
    ankles=("lfoot", "rfoot"),
    hinges={
        "left_elbow": "lradius",
        "right_elbow": "rradius",
        "left_knee": "ltibia",
        "right_knee": "rtibia",
    },
)


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


def asf_clip(skeleton: Skeleton, motion: Motion) -> SourceClip:
    """The CMU motion as a :class:`SourceClip`: a joint at each bone's start and one at its end
    (``<bone>_end``); the elbow and knee hinge axes come from the ASF.
    """
    missing = [b for b in CMU_ASF_PROFILE.required_joints() if not _has(skeleton, b)]
    if missing:
        raise InputError(
            f"{skeleton.path or 'skeleton'}: lacks the CMU bones {', '.join(missing)}; "
            "retargeting needs a CMU 31-bone ASF skeleton"
        )
    kin = forward_kinematics(skeleton, motion)
    parents = [int(p) for p in skeleton.parents]
    bones = list(range(len(parents)))
    names = [*skeleton.bone_names, *(f"{name}_end" for name in skeleton.bone_names)]
    positions = np.concatenate([kin.bone_start, kin.bone_end], axis=1)
    rotations = np.concatenate([kin.global_rotation, kin.global_rotation], axis=1)
    rest_kin = forward_kinematics(skeleton, rest_motion(skeleton, fps=motion.fps))
    rest = np.concatenate([rest_kin.bone_start[0], rest_kin.bone_end[0]], axis=0)
    hinge_bones = CMU_ASF_PROFILE.hinges.values()
    return SourceClip(
        joints=tuple(names),
        parents=(*parents, *bones),
        rest=rest,
        positions=positions,
        rotations=rotations,
        fps=float(motion.fps),
        path=motion.path,
        hinge_axes={b: hinge_axis(skeleton, b) for b in hinge_bones},
    )


def _has(skeleton: Skeleton, name: str) -> bool:
    if name.endswith("_end"):
        name = name[: -len("_end")]
    return name in skeleton.bone_names
