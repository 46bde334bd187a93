"""Retargeting onto the anny body, on a small CMU-like ASF skeleton written here (known bends,
the 30° humerus roll of CMU's skeleton): segment directions, hinges, offsets, placement.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from posebench.body.anny import AnnyBody
from posebench.body.base import SMPL22_JOINT_NAMES
from posebench.core.errors import InputError
from posebench.rebuild import retarget as rt
from posebench.rebuild import retarget_report as measure
from posebench.rebuild.asfamc import Motion, forward_kinematics, read_amc, read_asf
from posebench.rebuild.cmu_asf import CMU_ASF_PROFILE, asf_clip, hinge_axis
from posebench.rebuild.source import SourceClip

J = {name: k for k, name in enumerate(SMPL22_JOINT_NAMES)}
PROFILE = CMU_ASF_PROFILE

# --------------------------------------------------------------------------- a CMU-like skeleton

# name, parent, direction, length (units of 0.45 inch, as CMU's), axis (deg, XYZ), dofs, limits
_BONES = [
    ("lhipjoint", "root", (0.57, -0.75, 0.35), 2.4, (0, 0, 0), "", None),
    ("lfemur", "lhipjoint", (0.34202, -0.939693, 0), 7.2, (0, 0, 20), "rx ry rz", None),
    ("ltibia", "lfemur", (0.34202, -0.939693, 0), 7.5, (0, 0, 20), "rx", (-10, 170)),
    ("lfoot", "ltibia", (0.07, -0.18, 0.98), 2.4, (-90, 0, 20), "rx rz", None),
    ("ltoes", "lfoot", (0, 0, 1), 1.2, (-90, 0, 20), "rx", None),
    ("rhipjoint", "root", (-0.57, -0.75, 0.35), 2.4, (0, 0, 0), "", None),
    ("rfemur", "rhipjoint", (-0.34202, -0.939693, 0), 7.2, (0, 0, -20), "rx ry rz", None),
    ("rtibia", "rfemur", (-0.34202, -0.939693, 0), 7.5, (0, 0, -20), "rx", (-10, 170)),
    ("rfoot", "rtibia", (-0.07, -0.18, 0.98), 2.4, (-90, 0, -20), "rx rz", None),
    ("rtoes", "rfoot", (0, 0, 1), 1.2, (-90, 0, -20), "rx", None),
    ("lowerback", "root", (0.01, 0.995, -0.09), 2.0, (0, 0, 0), "rx ry rz", None),
    ("upperback", "lowerback", (0.03, 1.0, -0.02), 2.0, (0, 0, 0), "rx ry rz", None),
    ("thorax", "upperback", (0.02, 1.0, 0.02), 2.0, (0, 0, 0), "rx ry rz", None),
    ("lowerneck", "thorax", (-0.03, 0.99, 0.1), 1.5, (0, 0, 0), "rx ry rz", None),
    ("upperneck", "lowerneck", (0.06, 0.99, -0.07), 1.5, (0, 0, 0), "rx ry rz", None),
    ("head", "upperneck", (0.02, 1.0, -0.035), 1.5, (0, 0, 0), "rx ry rz", None),
    ("lclavicle", "thorax", (0.94, 0.33, -0.09), 3.5, (0, 0, 0), "ry rz", None),
    ("lhumerus", "lclavicle", (1, 0, 0), 5.0, (180, -30, -90), "rx ry rz", None),
    ("lradius", "lhumerus", (1, 0, 0), 3.5, (180, -30, -90), "rx", (-10, 170)),
    ("lwrist", "lradius", (1, 0, 0), 1.7, (0, 90, 90), "ry", None),
    ("rclavicle", "thorax", (-0.94, 0.33, -0.09), 3.5, (0, 0, 0), "ry rz", None),
    ("rhumerus", "rclavicle", (-1, 0, 0), 5.0, (180, 30, 90), "rx ry rz", None),
    ("rradius", "rhumerus", (-1, 0, 0), 3.5, (180, 30, 90), "rx", (-10, 170)),
    ("rwrist", "rradius", (-1, 0, 0), 1.7, (0, -90, -90), "ry", None),
]
_DOFS = {name: dofs.split() for name, _, _, _, _, dofs, _ in _BONES}
_DOFS["root"] = ["tx", "ty", "tz", "rx", "ry", "rz"]

# frame -> bone -> values (degrees; root translation in inches); missing bones are zero
FRAMES: list[dict[str, tuple[float, ...]]] = [
    {"root": (0, 16, 0, 0, 0, 0)},  # the rest pose
    {  # known bends: left elbow 90, right elbow 45, left knee 60, right knee 30
        "root": (4, 15, -2, 5, 90, -3),
        "lradius": (90,),
        "rradius": (45,),
        "ltibia": (60,),
        "rtibia": (30,),
        "lhumerus": (20, -30, 40),
        "lfemur": (-30, 10, 5),
    },
    {  # everything moving
        "root": (-3, 14, 6, -10, -40, 8),
        "lowerback": (10, 5, -4),
        "upperback": (-6, 8, 3),
        "thorax": (4, -12, 6),
        "lowerneck": (-15, 6, 9),
        "upperneck": (20, -5, -4),
        "head": (8, 12, -6),
        "lclavicle": (5, 10),
        "rclavicle": (-8, 4),
        "lhumerus": (-35, 25, 60),
        "rhumerus": (30, -20, -70),
        "lradius": (120,),
        "rradius": (15,),
        "lwrist": (-40,),
        "rwrist": (-70,),
        "lfemur": (-60, 20, -10),
        "rfemur": (15, -15, 25),
        "ltibia": (100,),
        "rtibia": (5,),
        "lfoot": (20, -10),
        "rfoot": (-25, 15),
        "ltoes": (-30,),
        "rtoes": (10,),
    },
]


def _asf_text() -> str:
    lines = [
        ":version 1.10",
        ":name synthetic",
        ":units",
        "  mass 1.0",
        "  length 0.45",
        "  angle deg",
        ":root",
        "  order TX TY TZ RX RY RZ",
        "  axis XYZ",
        "  position 0 0 0",
        "  orientation 0 0 0",
        ":bonedata",
    ]
    for k, (name, _, direction, length, axis, dofs, limits) in enumerate(_BONES, start=1):
        lines += [
            "  begin",
            f"    id {k}",
            f"    name {name}",
            f"    direction {' '.join(map(str, direction))}",
            f"    length {length}",
            f"    axis {' '.join(map(str, axis))} XYZ",
        ]
        if dofs:
            lines.append(f"    dof {dofs}")
            if limits is not None:
                lines.append(f"    limits ({limits[0]} {limits[1]})")
        lines.append("  end")
    lines += [":hierarchy", "  begin"]
    children: dict[str, list[str]] = {}
    for name, parent, *_ in _BONES:
        children.setdefault(parent, []).append(name)
    lines += [f"    {parent} {' '.join(kids)}" for parent, kids in children.items()]
    lines += ["  end"]
    return "\n".join(lines) + "\n"


def _amc_text() -> str:
    lines = [":FULLY-SPECIFIED", ":DEGREES"]
    for number, values in enumerate(FRAMES, start=1):
        lines.append(str(number))
        for bone, dofs in _DOFS.items():
            if dofs:
                row = values.get(bone, (0.0,) * len(dofs))
                lines.append(f"{bone} {' '.join(map(str, row))}")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    folder = tmp_path_factory.mktemp("cmu_like")
    (folder / "s.asf").write_text(_asf_text())
    (folder / "s.amc").write_text(_amc_text())
    skeleton = read_asf(folder / "s.asf")
    motion = read_amc(folder / "s.amc", skeleton)
    return skeleton, motion, asf_clip(skeleton, motion)


@pytest.fixture(scope="module")
def synthetic_retarget(synthetic: tuple, body64: AnnyBody) -> rt.Retargeted:
    return rt.retarget(synthetic[2], PROFILE, body64)


def _body_joints(body: AnnyBody, result: rt.Retargeted) -> np.ndarray:
    return rt.body_track(body, result.pose_body, result.root_orient, result.trans).joints


# --------------------------------------------------------------------------- retarget


def test_hinge_axis_matches_forward_kinematics(synthetic: tuple) -> None:
    """The hinge axis from the ASF is the axis FK rotates the forearm about, flexion positive."""
    skeleton, _, _ = synthetic
    motion = Motion(
        dofs={
            name: np.zeros((1, len(dofs))) if name != "lradius" else np.full((1, 1), 0.7)
            for name, dofs in _DOFS.items()
            if dofs
        },
        frame_numbers=np.array([1]),
    )
    kin = forward_kinematics(skeleton, motion)
    G = kin.global_rotation[0]
    local = G[skeleton.index("lhumerus")].T @ G[skeleton.index("lradius")]
    axis = hinge_axis(skeleton, "lradius")
    expected = rt.Rotation.from_rotvec(0.7 * axis).as_matrix()
    np.testing.assert_allclose(local, expected, atol=1e-12)
    # CMU's rest arm is rolled 30°: the hinge axis is (0, -cos 30°, sin 30°), not -y
    np.testing.assert_allclose(axis, [0, -np.cos(np.pi / 6), 0.5], atol=1e-9)


def test_segment_directions_and_hinges_on_synthetic(
    synthetic: tuple, synthetic_retarget: rt.Retargeted, body64: AnnyBody
) -> None:
    joints = _body_joints(body64, synthetic_retarget)
    errors = measure.segment_direction_errors(joints, synthetic[2], PROFILE)
    assert max(errors[j]["max"] for j in measure.one_to_one(PROFILE)) < 0.1
    assert "neck" not in measure.one_to_one(PROFILE)
    assert errors["neck"]["max"] < 10.0  # merged from two CMU bones: close, not exact
    residuals = measure.hinge_residuals(
        synthetic_retarget.pose_body, synthetic_retarget.frames.hinge_axes
    )
    assert max(r["off_hinge_max"] for r in residuals.values()) < 1.0


def test_known_bends_come_out_as_forward_elbow_and_backward_knee_hinges(
    synthetic_retarget: rt.Retargeted, body64: AnnyBody
) -> None:
    """Frame 2 bends the left elbow 90°, the right 45°, the knees 60° and 30° (CMU hinge dofs)."""
    joints = _body_joints(body64, synthetic_retarget)
    flexion = measure.flexion_ranges(joints[1:2])
    for joint, angle in [("left_elbow", 90), ("right_elbow", 45), ("left_knee", 60)]:
        assert flexion[joint]["min"] == pytest.approx(angle, abs=1e-6)
    # posebench's convention: the T-pose elbow flexes forward, about -y (left) and +y (right)
    pose = synthetic_retarget.pose_body[1]
    np.testing.assert_allclose(pose[J["left_elbow"] - 1], [0, -np.pi / 2, 0], atol=1e-9)
    np.testing.assert_allclose(pose[J["right_elbow"] - 1], [0, np.pi / 4, 0], atol=1e-9)
    # the knee is a hinge about the body's own knee axis (about +x: the shank swings back), by
    # the CMU flexion less the body's rest bend
    axis = synthetic_retarget.frames.hinge_axes["left_knee"]
    rest = body64.rest_joints.numpy()
    bend = rt.angle_deg(
        rest[J["left_knee"]] - rest[J["left_hip"]], rest[J["left_ankle"]] - rest[J["left_knee"]]
    )
    assert axis[0] > 0.98  # within 9° of lateral (the rest bend has a 1° sideways part)
    np.testing.assert_allclose(pose[J["left_knee"] - 1], np.radians(60 - bend) * axis, atol=1e-6)


def swing_only_offsets(frames: rt.RestFrames, joints: tuple[str, ...]) -> rt.RestFrames:
    """The same frames with the given joints' offsets replaced by the minimal rotation between
    the segment directions (no roll alignment): the trap the hinge check exists to catch.
    """
    offsets = frames.offsets.copy()
    for joint in joints:
        k = J[joint]
        d_smpl, d_cmu = frames.body[k][:, 0], frames.source[k][:, 0]
        axis = np.cross(d_smpl, d_cmu)
        angle = np.arctan2(np.linalg.norm(axis), d_smpl @ d_cmu)
        rotvec = (
            np.zeros(3) if np.linalg.norm(axis) < 1e-12 else axis / np.linalg.norm(axis) * angle
        )
        offsets[k] = rt.Rotation.from_rotvec(rotvec).as_matrix()
    return rt.RestFrames(
        frames.source, frames.body, offsets, frames.hinge_axes, frames.source_hinge_axes
    )


def test_swing_only_offsets_pass_positions_but_fail_the_hinge_check(
    synthetic: tuple, synthetic_retarget: rt.Retargeted, body64: AnnyBody
) -> None:
    """The trap: matching directions only gives identical joints but elbows ~30° off-hinge."""
    arms = ("left_shoulder", "right_shoulder", "left_elbow", "right_elbow")
    swing = swing_only_offsets(synthetic_retarget.frames, arms)
    naive = rt.retarget(synthetic[2], PROFILE, body64, frames=swing)
    np.testing.assert_allclose(
        _body_joints(body64, naive), _body_joints(body64, synthetic_retarget), atol=1e-9
    )
    residuals = measure.hinge_residuals(naive.pose_body, naive.frames.hinge_axes)
    assert residuals["left_elbow"]["off_hinge_max"] > 20.0


def test_rest_pose_bakes_constant_offsets_and_root_follows_cmu(
    synthetic_retarget: rt.Retargeted,
) -> None:
    """At CMU's rest the body pose is the documented constant offsets; the root is CMU's root."""
    offsets = measure.baked_offsets(synthetic_retarget.pose_body[:1], synthetic_retarget.frames)
    rest = np.degrees(np.linalg.norm(synthetic_retarget.pose_body[0], axis=-1))
    for k, joint in enumerate(SMPL22_JOINT_NAMES[1:]):
        assert rest[k] == pytest.approx(offsets[joint]["rest"], abs=1e-6)
    assert offsets["left_collar"]["rest"] > 20.0  # CMU clavicles rise, the body's slope down
    assert offsets["left_elbow"]["rest"] == pytest.approx(0.0, abs=1e-6)
    # the synthetic hip line is symmetric, so the pelvis offset is the identity and the root
    # orientation is CMU's: rx ry rz = 5, 90, -3 degrees about fixed axes (Rz·Ry·Rx)
    root = rt.Rotation.from_rotvec(synthetic_retarget.root_orient[1]).as_matrix()
    expected = rt.Rotation.from_euler("xyz", [5, 90, -3], degrees=True).as_matrix()
    np.testing.assert_allclose(root, expected, atol=1e-9)


def test_hip_centres_match_after_leg_length_scaling(
    synthetic: tuple, synthetic_retarget: rt.Retargeted, body64: AnnyBody
) -> None:
    joints = _body_joints(body64, synthetic_retarget)
    cmu = synthetic_retarget.scale * rt.hip_centre(synthetic[2], PROFILE)
    cmu[:, 1] += synthetic_retarget.floor_offset
    body = joints[:, [J["left_hip"], J["right_hip"]]].mean(axis=1)
    np.testing.assert_allclose(body, cmu, atol=1e-9)
    report = measure.uniform_scale_mpjpe(joints, synthetic[2], PROFILE, synthetic_retarget.scale)
    assert 0 < report["mean_mm"] < 150  # placement differences only


def test_missing_bones_are_refused(tmp_path: Path, synthetic: tuple, body64: AnnyBody) -> None:
    text = (
        _asf_text()
        .replace("name lradius", "name lforearm")
        .replace("lhumerus lradius", "lhumerus lforearm")
    )
    (tmp_path / "bad.asf").write_text(text.replace("lradius lwrist", "lforearm lwrist"))
    skeleton = read_asf(tmp_path / "bad.asf")
    with pytest.raises(InputError, match="lacks the CMU bones .*lradius"):
        asf_clip(skeleton, synthetic[1])


# --------------------------------------------------------------------------- any source


def _without_hinge_axes(clip: SourceClip) -> SourceClip:
    return dataclasses.replace(clip, hinge_axes={})


def test_hinge_axes_estimated_from_motion_match_the_declared_ones(
    synthetic: tuple, synthetic_retarget: rt.Retargeted, body64: AnnyBody
) -> None:
    """A source that does not declare its hinges (BVH, VRML) gets them from the motion: on pure
    hinge motion the estimate is the declared axis, and the retarget is the same.
    """
    clip = synthetic[2]
    for hinge in rt.HINGES:
        bone = PROFILE.hinges[hinge.joint]
        estimate = rt.estimate_hinge_axis(clip, bone, np.asarray(hinge.flexion))
        np.testing.assert_allclose(estimate, clip.hinge_axes[bone], atol=1e-9)
    estimated = rt.retarget(_without_hinge_axes(clip), PROFILE, body64)
    assert set(estimated.frames.estimated_hinges) == {h.joint for h in rt.HINGES}
    np.testing.assert_allclose(estimated.pose_body, synthetic_retarget.pose_body, atol=1e-9)


def test_a_hinge_that_never_bends_cannot_be_estimated(synthetic: tuple, body64: AnnyBody) -> None:
    rest = _without_hinge_axes(synthetic[2]).select(slice(0, 1))  # only the rest frame
    with pytest.raises(InputError, match="too little to find its hinge axis"):
        rt.retarget(rest, PROFILE, body64)


def test_chains_split_evenly_and_undriven_joints_stay_at_rest(
    synthetic: tuple, synthetic_retarget: rt.Retargeted, body64: AnnyBody
) -> None:
    """A source with one chest joint for three spine joints, and no collars or wrists: the
    spine's total rotation is kept and split evenly; the others hold the identity and are
    marked unobserved.
    """
    drive = {k: v for k, v in PROFILE.drive.items() if k not in ("spine1", "spine2")}
    for joint in ("left_collar", "right_collar", "left_wrist", "right_wrist"):
        drive.pop(joint)
    profile = dataclasses.replace(
        PROFILE, drive=drive, chains={"spine3": ("spine1", "spine2", "spine3")}
    )
    result = rt.retarget(synthetic[2], profile, body64)
    rot = rt.Rotation.from_rotvec
    local = {
        j: rot(result.pose_body[:, J[j] - 1]).as_matrix() for j in ("spine1", "spine2", "spine3")
    }
    np.testing.assert_allclose(local["spine1"], local["spine2"], atol=1e-9)
    np.testing.assert_allclose(local["spine2"], local["spine3"], atol=1e-9)
    full = {
        j: rot(synthetic_retarget.pose_body[:, J[j] - 1]).as_matrix()
        for j in ("spine1", "spine2", "spine3")
    }
    np.testing.assert_allclose(  # the chain's total equals the fully driven spine's
        local["spine1"] @ local["spine2"] @ local["spine3"],
        full["spine1"] @ full["spine2"] @ full["spine3"],
        atol=1e-9,
    )
    for joint in ("left_collar", "left_wrist"):
        np.testing.assert_allclose(result.pose_body[:, J[joint] - 1], 0.0, atol=1e-12)
    expected = [
        n not in ("left_collar", "right_collar", "left_wrist", "right_wrist")
        for n in SMPL22_JOINT_NAMES
    ]
    assert result.observed.shape == (3, 22)
    assert (result.observed == np.array(expected)).all()


def test_a_profile_naming_joints_the_clip_lacks_is_one_line(
    synthetic: tuple, body64: AnnyBody
) -> None:
    profile = dataclasses.replace(PROFILE, hips=("lfemur", "no_such_hip"))
    with pytest.raises(InputError, match="lacks the joints no_such_hip .*CMU ASF"):
        rt.retarget(synthetic[2], profile, body64)
