"""DeepMimic reader on a hand-made humanoid URDF (scale 1: URDF units are metres) whose forward
kinematics is computable by hand: DeepMimic axes face +x with the right side at +z, posebench's
face +z with the left at +x, so a DeepMimic point (x, y, z) is the posebench point (-z, y, x)."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pytest

from posebench.body.base import SMPL22_JOINT_NAMES
from posebench.core.errors import InputError
from posebench.rebuild.deepmimic import (
    DEEPMIMIC_PROFILE,
    FRAME_LENGTH,
    read_deepmimic,
    read_deepmimic_folder,
    read_deepmimic_motion,
    read_humanoid_urdf,
)


def joint(name: str, kind: str, parent: str, xyz: str, axis: bool = False) -> str:
    """One URDF joint whose child link has the joint's name; odd spacing as in pybullet's file."""
    extra = '\t\t<axis xyz = "0 0 1" />\r\n' if axis else ""
    return (
        f'\t<joint name="{name}" type="{kind}" >\r\n\t\t<parent link = "{parent}" />\r\n'
        f'\t\t<child link="{name}" />\r\n\t\t\t\t<origin rpy = "0 0 0" xyz = "{xyz}" />\r\n'
        f"{extra}\t</joint>\r\n"
    )


def link(name: str, geometry: str = "") -> str:
    if not geometry:
        return f'\t<link name="{name}" />\r\n'
    return (
        f'\t<link name="{name}" >\r\n\t\t<collision>\r\n{geometry}\t\t</collision>\r\n\t</link>\r\n'
    )


HEAD = '\t\t\t<origin rpy = "0 0 0" xyz = "0 0.5 0" />\r\n\t\t\t<geometry><sphere radius = "0.25" /></geometry>\r\n'
FOOT = '\t\t\t<origin rpy = "0 0 0" xyz = "0.5 -0.25 0" />\r\n\t\t\t<geometry><box size="2 0.5 0.5" /></geometry>\r\n'


def urdf_text(skip: str = "") -> str:
    """Root at the base; chest 1 up, neck 1 up (head top 0.75 above it); hips 0.5 to each side,
    thighs and shanks 2, the foot box reaching 1.5 forward and 0.5 down from the ankle; shoulders
    1 up and 1 out from the chest, upper arms and forearms 1."""
    parts = [link("base"), link("root"), joint("root", "fixed", "base", "0 0 0")]
    parts += [link("chest"), joint("chest", "spherical", "root", "0 1 0")]
    parts += [link("neck", HEAD), joint("neck", "spherical", "chest", "0 1 0")]
    for side, z in (("right", "0.5"), ("left", "-0.5")):
        parts += [link(f"{side}_hip"), joint(f"{side}_hip", "spherical", "root", f"0 0 {z}")]
        parts += [
            link(f"{side}_knee"),
            joint(f"{side}_knee", "revolute", f"{side}_hip", "0 -2 0", True),
        ]
        parts += [
            link(f"{side}_ankle", FOOT),
            joint(f"{side}_ankle", "spherical", f"{side}_knee", "0 -2 0"),
        ]
    for side, z in (("right", "1"), ("left", "-1")):
        parts += [
            link(f"{side}_shoulder"),
            joint(f"{side}_shoulder", "spherical", "chest", f"0 1 {z}"),
        ]
        parts += [
            link(f"{side}_elbow"),
            joint(f"{side}_elbow", "revolute", f"{side}_shoulder", "0 -1 0", True),
        ]
        parts += [link(f"{side}_wrist"), joint(f"{side}_wrist", "fixed", f"{side}_elbow", "0 -1 0")]
    kept = [p for p in parts if f'joint name="{skip}"' not in p] if skip else parts
    return '<robot name="dumpUrdf">\r\n' + "".join(kept) + "</robot>\r\n\x00"  # a NUL, as shipped


IDENTITY = [1.0, 0.0, 0.0, 0.0]
SLOTS = {  # name -> first index in the keyframe
    "root_position": 1,
    "root": 4,
    "chest": 8,
    "neck": 12,
    "right_hip": 16,
    "right_knee": 20,
    "right_ankle": 21,
    "right_shoulder": 25,
    "right_elbow": 29,
    "left_hip": 30,
    "left_knee": 34,
    "left_ankle": 35,
    "left_shoulder": 39,
    "left_elbow": 43,
}


def keyframe(duration: float = 1 / 30, **values: list[float] | float) -> list[float]:
    """A 44-number keyframe, every rotation the identity unless given."""
    # root position; root, chest, neck, right hip; knee; ankle, shoulder; elbow; then the left side
    frame = [duration, 0.0, 0.0, 0.0, *IDENTITY * 4, 0.0, *IDENTITY * 2, 0.0]
    frame += [*IDENTITY, 0.0, *IDENTITY * 2, 0.0]
    assert len(frame) == FRAME_LENGTH
    for name, value in values.items():
        start = SLOTS[name]
        items = value if isinstance(value, list) else [value]
        frame[start : start + len(items)] = items
    return frame


def write(
    tmp_path: Path, frames: list, loop: str = "wrap", urdf: str | None = None
) -> tuple[Path, Path]:
    motion = tmp_path / "humanoid3d_test.txt"
    motion.write_text(json.dumps({"Loop": loop, "Frames": frames}))
    path = tmp_path / "humanoid.urdf"
    path.write_bytes((urdf_text() if urdf is None else urdf).encode())
    return motion, path


def read(tmp_path: Path, *frames: list[float], loop: str = "wrap"):
    motion, urdf = write(tmp_path, list(frames), loop)
    return read_deepmimic(motion, urdf, scale=1.0)


def at(clip, name: str, frame: int = 0) -> np.ndarray:
    return clip.positions[frame, clip.index(name)]


def rot_x(angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])


def rot_y(angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])


# --------------------------------------------------------------------------- skeleton


def test_rest_pose_in_posebench_axes(tmp_path: Path) -> None:
    clip = read(tmp_path, keyframe())
    rest = dict(zip(clip.joints, clip.rest, strict=True))
    assert clip.joints[:3] == ("root", "chest", "neck")
    assert {"head_top", "left_toe", "right_toe", "left_wrist", "right_wrist"} <= set(clip.joints)
    np.testing.assert_allclose(rest["left_hip"], [0.5, 0, 0])  # left at +x (DeepMimic z = -0.5)
    np.testing.assert_allclose(rest["right_ankle"], [-0.5, -4, 0])
    np.testing.assert_allclose(rest["right_toe"], [-0.5, -4.5, 1.5])  # feet point forward, +z
    np.testing.assert_allclose(rest["head_top"], [0, 2.75, 0])  # sphere top: 0.5 + 0.25 above neck
    np.testing.assert_allclose(rest["left_shoulder"], [1, 2, 0])
    np.testing.assert_allclose(rest["left_wrist"], [1, 0, 0])  # arms hang down at rest
    np.testing.assert_allclose(clip.positions[0], clip.rest)  # identity pose, root at the origin
    np.testing.assert_allclose(
        clip.rotations[0], np.broadcast_to(np.eye(3), clip.rotations[0].shape)
    )
    parents = [clip.joints[p] if p >= 0 else None for p in clip.parents]
    assert parents[clip.index("right_toe")] == "right_ankle"
    assert parents[clip.index("head_top")] == "neck"
    assert all(p < j for j, p in enumerate(clip.parents))


def test_default_scale_is_a_quarter(tmp_path: Path) -> None:
    _, urdf = write(tmp_path, [keyframe()])
    humanoid = read_humanoid_urdf(urdf)
    rest = humanoid.rest()
    length = np.linalg.norm(rest[humanoid.index("left_knee")] - rest[humanoid.index("left_hip")])
    assert length == pytest.approx(0.5)  # 2 URDF units x 0.25


def test_knee_bend_moves_ankle_and_toe(tmp_path: Path) -> None:
    # DeepMimic knee angles are negative when bent (URDF limits [-3.14, 0]): -90° swings the shank
    # backwards to horizontal. Root at DeepMimic (1, 3, 2) = posebench (-2, 3, 1).
    clip = read(tmp_path, keyframe(root_position=[1.0, 3.0, 2.0], right_knee=-math.pi / 2))
    np.testing.assert_allclose(at(clip, "root"), [-2, 3, 1])
    np.testing.assert_allclose(at(clip, "right_knee"), [-2.5, 1, 1])
    np.testing.assert_allclose(at(clip, "right_ankle"), [-2.5, 1, -1], atol=1e-12)  # 2 behind
    np.testing.assert_allclose(at(clip, "right_toe"), [-2.5, -0.5, -1.5], atol=1e-12)  # sole down
    np.testing.assert_allclose(at(clip, "left_ankle"), [-1.5, -1, 1])  # the other leg is straight
    knee = clip.rotations[0, clip.index("right_knee")]
    np.testing.assert_allclose(knee, rot_x(math.pi / 2), atol=1e-12)  # +90° flexion about +x
    np.testing.assert_allclose(clip.hinge_axes["right_knee"], [1, 0, 0])
    np.testing.assert_allclose(clip.rotations[0, clip.index("right_toe")], knee)  # toe on the foot


def test_elbow_flexes_forwards_about_minus_x(tmp_path: Path) -> None:
    clip = read(tmp_path, keyframe(left_elbow=math.pi / 2))  # elbow limits [0, 3.14]
    np.testing.assert_allclose(at(clip, "left_wrist"), [1, 1, 1], atol=1e-12)  # forearm forward
    np.testing.assert_allclose(clip.hinge_axes["left_elbow"], [-1, 0, 0])
    np.testing.assert_allclose(
        clip.rotations[0, clip.index("left_elbow")], rot_x(-math.pi / 2), atol=1e-12
    )


def test_quaternions_are_w_first_and_root_turns_the_body(tmp_path: Path) -> None:
    half = math.sqrt(0.5)
    clip = read(tmp_path, keyframe(root=[half, 0.0, half, 0.0]))  # w, x, y, z: 90° about y
    np.testing.assert_allclose(clip.rotations[0, 0], rot_y(math.pi / 2), atol=1e-12)
    np.testing.assert_allclose(at(clip, "left_hip"), [0, 0, -0.5], atol=1e-12)
    np.testing.assert_allclose(at(clip, "right_toe"), [1.5, -4.5, 0.5], atol=1e-12)


def test_chest_rotation_carries_head_and_arms(tmp_path: Path) -> None:
    half = math.sqrt(0.5)
    clip = read(tmp_path, keyframe(chest=[half, 0.0, 0.0, -half]))  # -90° about DeepMimic z
    # DeepMimic z is posebench -x: the chest turns +90° about x, pitching forwards.
    np.testing.assert_allclose(at(clip, "chest"), [0, 1, 0])
    np.testing.assert_allclose(at(clip, "neck"), [0, 1, 1], atol=1e-12)
    np.testing.assert_allclose(at(clip, "head_top"), [0, 1, 1.75], atol=1e-12)
    np.testing.assert_allclose(at(clip, "left_shoulder"), [1, 1, 1], atol=1e-12)
    np.testing.assert_allclose(at(clip, "left_hip"), [0.5, 0, 0])  # below the chest: unmoved


def test_positions_follow_the_source_clip_contract(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)

    def random_quaternion() -> list[float]:
        q = rng.normal(size=4)
        return (q / np.linalg.norm(q)).tolist()

    frames = [
        keyframe(
            root_position=rng.normal(size=3).tolist(),
            **{
                n: random_quaternion()
                for n in (
                    "root",
                    "chest",
                    "neck",
                    "left_hip",
                    "right_ankle",
                    "left_shoulder",
                    "right_shoulder",
                )
            },
            left_knee=-1.0,
            right_elbow=0.7,
        )
        for _ in range(3)
    ]
    clip = read(tmp_path, *frames)
    for j, p in enumerate(clip.parents):
        if p >= 0:  # every joint sits on its parent's segment, moved rigidly from rest
            expected = clip.positions[:, p] + clip.rotations[:, p] @ (clip.rest[j] - clip.rest[p])
            np.testing.assert_allclose(clip.positions[:, j], expected, atol=1e-12)
    np.testing.assert_allclose(
        np.einsum("fjik,fjil->fjkl", clip.rotations, clip.rotations),
        np.broadcast_to(np.eye(3), clip.rotations.shape),
        atol=1e-12,
    )


# --------------------------------------------------------------------------- clip


def test_walking_along_deepmimic_x_walks_along_posebench_z(tmp_path: Path) -> None:
    frames = [keyframe(root_position=[0.1 * k, 0.9, 0.0]) for k in range(4)]
    clip = read(tmp_path, *frames)
    np.testing.assert_allclose(
        clip.positions[:, 0], [[0, 0.9, 0.1 * k] for k in range(4)], atol=1e-12
    )


def test_frame_rate_loop_and_last_duration(tmp_path: Path) -> None:
    frames = [keyframe(0.033332) for _ in range(3)] + [keyframe(0.0)]  # as the shipped clips
    motion, urdf = write(tmp_path, frames, loop="none")
    parsed = read_deepmimic_motion(motion)
    assert parsed.fps == 30.0 and parsed.loop == "none" and parsed.n_frames == 4
    assert parsed.inserted == 0
    assert read_deepmimic(motion, urdf).fps == 30.0
    (tmp_path / "noloop.txt").write_text(json.dumps({"Frames": frames}))
    assert read_deepmimic_motion(tmp_path / "noloop.txt").loop == "none"


def test_a_double_length_keyframe_gets_an_interpolated_frame(tmp_path: Path) -> None:
    half = math.sqrt(0.5)
    frames = [
        keyframe(1 / 60),
        keyframe(2 / 60),  # lasts two steps: one frame is inserted after it
        keyframe(
            1 / 60, root_position=[0.3, 0.0, 0.0], root=[half, 0.0, half, 0.0], left_knee=-1.0
        ),
        keyframe(0.0, root_position=[0.3, 0.0, 0.0], root=[half, 0.0, half, 0.0], left_knee=-1.0),
    ]
    motion, urdf = write(tmp_path, frames)
    parsed = read_deepmimic_motion(motion)
    assert parsed.n_frames == 5 and parsed.inserted == 1 and parsed.fps == 60.0
    middle = parsed.frames[2]
    np.testing.assert_allclose(middle[1:4], [0.15, 0, 0])
    np.testing.assert_allclose(middle[4:8], [math.cos(math.pi / 8), 0, math.sin(math.pi / 8), 0])
    assert middle[34] == pytest.approx(-0.5)
    assert read_deepmimic(motion, urdf).n_frames == 5


def test_near_unit_quaternions_are_normalised(tmp_path: Path) -> None:
    half = math.sqrt(0.5)
    unit = read(tmp_path, keyframe(right_hip=[half, half, 0.0, 0.0]))
    scaled = read(tmp_path, keyframe(right_hip=[0.6 * half, 0.6 * half, 0.0, 0.0]))
    np.testing.assert_allclose(scaled.positions, unit.positions, atol=1e-12)


def test_folder_reader_names_clips(tmp_path: Path) -> None:
    write(tmp_path, [keyframe(), keyframe(0.0)])
    clips = read_deepmimic_folder(tmp_path, tmp_path / "humanoid.urdf")
    assert list(clips) == ["test"] and clips["test"].n_frames == 2


def test_profile_drives_the_captured_joints(tmp_path: Path) -> None:
    clip = read(tmp_path, keyframe())
    DEEPMIMIC_PROFILE.check(clip)
    chained = {j for chain in DEEPMIMIC_PROFILE.chains.values() for j in chain}
    assert set(DEEPMIMIC_PROFILE.drive) | chained <= set(SMPL22_JOINT_NAMES)
    unobserved = set(SMPL22_JOINT_NAMES) - set(DEEPMIMIC_PROFILE.drive) - chained
    assert unobserved == {
        f"{s}_{j}" for s in ("left", "right") for j in ("collar", "wrist", "foot")
    }
    assert set(DEEPMIMIC_PROFILE.drive) <= set(DEEPMIMIC_PROFILE.segments)
    assert set(DEEPMIMIC_PROFILE.hinges.values()) == set(clip.hinge_axes)


# --------------------------------------------------------------------------- errors


def test_wrong_frame_length(tmp_path: Path) -> None:
    motion, urdf = write(tmp_path, [keyframe(), keyframe()[:-1]])
    with pytest.raises(InputError, match=r"humanoid3d_test.txt: keyframe 1 has 43 values.*44"):
        read_deepmimic(motion, urdf)


def test_nan_and_non_numeric_values(tmp_path: Path) -> None:
    frame = keyframe()
    frame[2] = float("nan")
    motion, urdf = write(tmp_path, [keyframe(), frame])  # json writes the NaN literal
    with pytest.raises(InputError, match="keyframe 1 has NaN"):
        read_deepmimic(motion, urdf)
    frame[2] = "0.5"
    motion, urdf = write(tmp_path, [frame])
    with pytest.raises(InputError, match="keyframe 0 has a non-numeric value '0.5'"):
        read_deepmimic(motion, urdf)


@pytest.mark.parametrize(
    "quaternion", [[0.0, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0], [0.3, 0.0, 0.0, 0.0]]
)
def test_garbage_quaternion(tmp_path: Path, quaternion: list[float]) -> None:
    motion, urdf = write(tmp_path, [keyframe(left_ankle=quaternion)])
    with pytest.raises(InputError, match="keyframe 0: the left_ankle quaternion has norm"):
        read_deepmimic(motion, urdf)


def test_not_json_and_not_a_motion(tmp_path: Path) -> None:
    motion, urdf = write(tmp_path, [keyframe()])
    motion.write_text("HIERARCHY\nROOT Hips\n")
    with pytest.raises(InputError, match=r"line 1: not valid JSON"):
        read_deepmimic(motion, urdf)
    motion.write_text(json.dumps({"Loop": "wrap"}))
    with pytest.raises(InputError, match="no 'Frames' list"):
        read_deepmimic(motion, urdf)
    motion.write_text(json.dumps({"Loop": "mirror", "Frames": [keyframe()]}))
    with pytest.raises(InputError, match="'Loop' is 'mirror'"):
        read_deepmimic(motion, urdf)
    with pytest.raises(InputError, match="cannot read"):
        read_deepmimic(tmp_path / "missing.txt", urdf)


def test_irregular_durations(tmp_path: Path) -> None:
    motion, urdf = write(tmp_path, [keyframe(0.1), keyframe(0.15), keyframe(0.1), keyframe(0.0)])
    with pytest.raises(InputError, match="keyframe 1 lasts 0.15 s, not a whole number"):
        read_deepmimic(motion, urdf)
    motion, urdf = write(tmp_path, [keyframe(0.0)])
    with pytest.raises(InputError, match="cannot tell the frame rate"):
        read_deepmimic(motion, urdf)


def test_urdf_errors(tmp_path: Path) -> None:
    motion, urdf = write(tmp_path, [keyframe()], urdf=urdf_text(skip="left_elbow"))
    with pytest.raises(InputError, match="humanoid.urdf: has no joint 'left_elbow'"):
        read_deepmimic(motion, urdf)
    urdf.write_text(
        urdf_text().replace('"right_knee" type="revolute"', '"right_knee" type="spherical"')
    )
    with pytest.raises(
        InputError,
        match="joint 'right_knee' is spherical, the DeepMimic humanoid needs it revolute",
    ):
        read_deepmimic(motion, urdf)
    urdf.write_text(urdf_text().replace('joint name="left_wrist"', 'joint name="right_wrist"'))
    with pytest.raises(InputError, match="joint name 'right_wrist' is used twice"):
        read_deepmimic(motion, urdf)
    urdf.write_text(urdf_text().replace("<box", "<cylinder"))
    with pytest.raises(InputError, match="link 'left_ankle' has no <collision> box"):
        read_deepmimic(motion, urdf)
    urdf.write_text(urdf_text()[:200])
    with pytest.raises(InputError, match="humanoid.urdf, line \\d+: malformed XML"):
        read_deepmimic(motion, urdf)
    urdf.write_text(urdf_text().replace('xyz = "0 -2 0"', 'xyz = "0 -2 zero"', 1))
    with pytest.raises(InputError, match="joint 'right_knee' origin xyz has a non-numeric value"):
        read_deepmimic(motion, urdf)


# --------------------------------------------------------------------------- real files


@pytest.mark.skipif("POSEBENCH_SOURCES_DIR" not in os.environ, reason="POSEBENCH_SOURCES_DIR unset")
def test_real_pybullet_clips() -> None:
    motions = Path(os.environ["POSEBENCH_SOURCES_DIR"]) / "pybullet/pybullet_data/data/motions"
    clips = read_deepmimic_folder(motions)
    assert len(clips) == 15
    walk = clips["walk"]
    assert walk.n_frames == 39 and walk.fps == 30.0
    assert read_deepmimic_motion(motions / "humanoid3d_walk.txt").loop == "wrap"
    assert read_deepmimic_motion(motions / "humanoid3d_roll.txt").inserted == 1
    rest = dict(zip(walk.joints, walk.rest, strict=True))
    assert rest["head_top"][1] - rest["left_toe"][1] == pytest.approx(1.619, abs=1e-3)
    travel = walk.positions[-1, 0] - walk.positions[0, 0]
    assert travel[2] == pytest.approx(1.24, abs=0.01) and abs(travel[0]) < 0.01
    toes = walk.positions[:, [walk.index("left_toe"), walk.index("right_toe")], 1]
    assert abs(np.median(toes.min(axis=1))) < 0.02  # a foot on the floor at y = 0
    DEEPMIMIC_PROFILE.check(walk)
