"""VRML97 reader: a hand-made two-Transform hierarchy whose FK is computable by hand, and errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from posebench.core.errors import InputError
from posebench.rebuild.vrml import (
    global_matrices,
    interpolate,
    local_matrices,
    parse_vrml,
    read_vrml,
)

# An arm 2 units right of the root, turning about z by an interpolator (0 -> 90° -> 180° over
# a 2 s cycle), with a hand 1 unit further along its x axis; geometry and a ROUTE inside a node
# body as 3ds Max writes them.
ARM = """#VRML V2.0 utf8
# a comment { with a brace
DEF Root Transform {
  translation 1 2 3
  children [
    DEF Clock TimeSensor { loop TRUE cycleInterval 2 },
    DEF Arm-ROT OrientationInterpolator {
      key [0, 0.5, 1]
      keyValue [0 0 1 0, 0 0 1 1.5707963, 0 0 1 3.1415927] },
    DEF Arm Transform {
      translation 2 0 0
      children [
        Shape {
          appearance Appearance { material Material { diffuseColor 1 0 0 } }
          geometry DEF Arm-FACES IndexedFaceSet {
            coord DEF Arm-COORD Coordinate { point [0 0 0, 1 0 0, 0 1 0] }
            coordIndex [0, 1, 2, -1]
          }
        }
        DEF Hand Transform { translation 1 0 0 }
      ]
    }
  ]
  ROUTE Clock.fraction_changed TO Arm-ROT.set_fraction
}
ROUTE Arm-ROT.value_changed TO Arm.set_rotation
"""


def _rz(angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def test_hierarchy_routes_and_timers() -> None:
    scene = parse_vrml(ARM, "arm.wrl")
    assert scene.names == ("Root", "Arm", "Hand")
    assert scene.parents == (-1, 0, 1)
    assert scene.drivers == {("Arm", "rotation"): "Arm-ROT"}
    assert scene.clocks == {"Arm-ROT": "Clock"}
    assert scene.timers["Clock"].cycle_interval == 2.0 and scene.timers["Clock"].loop
    assert scene.animated("Arm") == ("rotation",) and scene.animated("Hand") == ()


def test_forward_kinematics_by_hand() -> None:
    scene = parse_vrml(ARM, "arm.wrl")
    # t = 0.5 s is fraction 0.25: halfway to the 90° key, so 45°; t = 1 s: 90°; t = 2 s: 180°
    matrices = global_matrices(scene, np.array([0.0, 0.5, 1.0, 2.0]))
    for f, angle in enumerate([0.0, np.pi / 4, np.pi / 2, np.pi]):
        arm, hand = matrices[f, 1], matrices[f, 2]
        np.testing.assert_allclose(arm[:3, 3], [3.0, 2.0, 3.0], atol=1e-9)
        np.testing.assert_allclose(arm[:3, :3], _rz(angle), atol=1e-6)
        np.testing.assert_allclose(
            hand[:3, 3], [3.0 + np.cos(angle), 2.0 + np.sin(angle), 3.0], atol=1e-6
        )
    # as written: the Transform fields (no rotation field on Arm: identity)
    np.testing.assert_allclose(global_matrices(scene)[0, 2, :3, 3], [4.0, 2.0, 3.0])


def test_orientation_takes_the_shortest_arc() -> None:
    text = ARM.replace("0 0 1 1.5707963, 0 0 1 3.1415927", "0 0 1 3.0, 0 0 1 -3.0")
    interpolator = parse_vrml(text).interpolators["Arm-ROT"]
    # between 3.0 and -3.0 rad the short way passes through pi, not through 0
    value = interpolate(interpolator, np.array([0.75]))[0]
    rotation = local_matrices(
        {
            "translation": np.zeros(3),
            "rotation": value,
            "scale": np.ones(3),
            "scaleOrientation": np.array([0.0, 0.0, 1.0, 0.0]),
            "center": np.zeros(3),
        }
    )[:3, :3]
    np.testing.assert_allclose(rotation, _rz(np.pi), atol=1e-9)
    # before the first and after the last key the end values hold
    np.testing.assert_allclose(interpolate(interpolator, np.array([-1.0, 2.0]))[:, 3], [0.0, -3.0])


def test_local_matrix_order_with_scale_and_center() -> None:
    """T·C·R·SR·S·SR⁻¹·C⁻¹: scale along axes turned by SR, rotation about the centre."""
    fields = {
        "translation": np.array([10.0, 0.0, 0.0]),
        "rotation": np.array([0.0, 0.0, 1.0, np.pi / 2]),
        "scale": np.array([2.0, 1.0, 1.0]),
        "scaleOrientation": np.array([0.0, 0.0, 1.0, np.pi / 2]),  # the 2x scale acts along y
        "center": np.array([1.0, 0.0, 0.0]),
    }
    matrix = local_matrices(fields)
    point = np.array([1.0, 1.0, 0.0, 1.0])  # 1 above the centre: scaled to 2 above, turned to -x
    np.testing.assert_allclose(matrix @ point, [10.0 + 1.0 - 2.0, 0.0, 0.0, 1.0], atol=1e-12)


def test_children_inherit_non_uniform_scale() -> None:
    text = """#VRML V2.0 utf8
    DEF Box Transform { scale 5 2 1 children [ DEF Tip Transform { translation 1 1 0 } ] }
    """
    np.testing.assert_allclose(global_matrices(parse_vrml(text))[0, 1, :3, 3], [5.0, 2.0, 0.0])


def test_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "arm.wrl"
    path.write_text(ARM)
    assert read_vrml(path).path == str(path)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "key [0, 0.5, 1]",
            "key [0, 1]",
            r"arm\.wrl, line 7: .*Arm-ROT has 2 keys but 3 keyValues",
        ),
        ("0 0 1 1.5707963,", "0 0 1 1.5x,", r"line 9: .*keyValue has a non-numeric value '1\.5x'"),
        ("translation 2 0 0", "translation 2 nan 0", r"line 11: .*non-finite value 'nan'"),
        (
            "translation 2 0 0",
            "translation 2 0",
            r"line 11: Arm translation needs 3 numbers, found 2",
        ),
        ("ROUTE Arm-ROT.value_changed TO Arm.set_rotation", "}", r"line 26: '}' without a match"),
        (
            "TO Arm.set_rotation",
            "TO Leg.set_rotation",
            r"line 26: .*'Leg' is not a DEF'd Transform",
        ),
        ("DEF Hand", "DEF Arm", r"line 20: DEF Arm is used twice \(also line 10\)"),
        ("loop TRUE", "loop maybe", r"line 6: loop must be TRUE or FALSE"),
    ],
)
def test_malformed_input_is_one_line_with_its_line(old: str, new: str, message: str) -> None:
    assert old in ARM
    with pytest.raises(InputError, match=message) as info:
        parse_vrml(ARM.replace(old, new, 1), "arm.wrl")
    assert "\n" not in str(info.value)


def test_truncated_file_names_the_open_brace() -> None:
    with pytest.raises(InputError, match=r"line 3: the '\{' of Transform Root is never closed"):
        parse_vrml(ARM[: ARM.index("  ROUTE Clock")], "arm.wrl")


def test_not_vrml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not start with '#VRML V2.0'"):
        parse_vrml("#Inventor V2.1 ascii\n", "x.iv")
    with pytest.raises(InputError, match=r"cannot read .*nope\.wrl.*check the path"):
        read_vrml(tmp_path / "nope.wrl")
