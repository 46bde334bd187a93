"""The range-of-motion take reader: a hand-made Biped leg whose FK is computable by hand, the
recording-error rule on synthetic clips, the profile, and (opt-in) the real file."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from posebench.body.base import SMPL22_JOINT_NAMES
from posebench.core.errors import InputError
from posebench.rebuild.rom_take import (
    BIPED_JOINTS,
    INCH,
    MARGIN,
    MAX_JOINT_SPEED,
    ROM_PROFILE,
    SOURCE_FILE,
    SPINE_CHAIN,
    read_rom_take,
    recording_errors,
    spine_kinks,
)
from posebench.rebuild.source import SourceClip

# A left leg as the Max exporter writes a Biped: boxes scaled by the Transforms (the thigh is 20
# inches, the shank 0.9 of that), children one box length along the parent's axis, the knee a
# hinge about x keyed at 0.2, 0.7, 1.2 rad at 0, 0.1, 0.2 s; a last key at 0.35 s is off the
# 10 Hz grid.
LEG = """#VRML V2.0 utf8
DEF Bip01 Transform {
  translation 0 40 0
  children [
    DEF Bip01-TIMER TimeSensor { loop TRUE cycleInterval 0.35 },
    DEF Bip01_L_Oberschenkel Transform {
      scale 20 20 20
      children [
        DEF Bip01_L_Unterschenkel Transform {
          translation 0 -1 0
          rotation 1 0 0 0.2
          scale 0.9 0.9 0.9
          children [
            DEF Bip01_L_Unterschenkel-ROT-INTERP OrientationInterpolator {
              key [0, 0.2857, 0.5714, 1]
              keyValue [1 0 0 0.2, 1 0 0 0.7, 1 0 0 1.2, 1 0 0 1.2]
            }
            DEF Bip01_L_Fu_ Transform { translation 0 -1 0 }
          ]
        }
      ]
    }
  ]
}
ROUTE Bip01-TIMER.fraction_changed TO Bip01_L_Unterschenkel-ROT-INTERP.set_fraction
ROUTE Bip01_L_Unterschenkel-ROT-INTERP.value_changed TO Bip01_L_Unterschenkel.set_rotation
"""


def _rx(angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def _leg(tmp_path: Path, text: str = LEG) -> SourceClip:
    path = tmp_path / "leg.wrl"
    path.write_text(text)
    return read_rom_take(path)


def test_leg_forward_kinematics_by_hand(tmp_path: Path) -> None:
    clip = _leg(tmp_path)
    assert clip.joints == ("Bip01", "Bip01_L_Oberschenkel", "Bip01_L_Unterschenkel", "Bip01_L_Fu_")
    assert clip.fps == 10.0 and clip.n_frames == 3  # the 0.35 s key is off the grid
    hip, knee, ankle = 1, 2, 3
    # rest = the Transform fields: knee 20 in below the hip, ankle 18 in along the bent shank
    np.testing.assert_allclose(clip.rest[hip], [0.0, 40 * INCH, 0.0])
    np.testing.assert_allclose(clip.rest[knee], [0.0, 20 * INCH, 0.0], atol=1e-12)
    for f, angle in enumerate([0.2, 0.7, 1.2]):
        ankle_at = np.array([0.0, 20 - 18 * np.cos(angle), -18 * np.sin(angle)]) * INCH
        np.testing.assert_allclose(clip.positions[f, ankle], ankle_at, atol=1e-4 * INCH)
        # scale is gone from the rotations, which are relative to the rest
        np.testing.assert_allclose(clip.rotations[f, hip], np.eye(3), atol=1e-12)
        np.testing.assert_allclose(clip.rotations[f, knee], _rx(angle - 0.2), atol=1e-4)
        np.testing.assert_allclose(clip.rotations[f, ankle], _rx(angle - 0.2), atol=1e-4)
        # a point fixed to the shank at rest (the ankle) moves with the shank's rotation
        moved = clip.positions[f, knee] + clip.rotations[f, knee] @ (
            clip.rest[ankle] - clip.rest[knee]
        )
        np.testing.assert_allclose(moved, clip.positions[f, ankle], atol=1e-4 * INCH)
    # the knee is a hinge about x; bending it swings the shank back (-z), so flexion is +x
    np.testing.assert_allclose(clip.hinge_axes["left_knee"], [1.0, 0.0, 0.0], atol=1e-9)


def test_sheared_frames_are_refused(tmp_path: Path) -> None:
    """A hinge turning inside a parent scaled unequally across it is not a rotation and a scale."""
    with pytest.raises(
        InputError, match=r"leg\.wrl: Bip01_L_Unterschenkel is sheared in frame 1 \(axes 0\.59"
    ):
        _leg(tmp_path, LEG.replace("scale 20 20 20", "scale 20 10 20"))


def test_keys_off_a_fixed_rate_are_refused(tmp_path: Path) -> None:
    # keys at 0, 0.1, 0.3 s: a frame is missing, so no fixed rate fits them one per frame
    with pytest.raises(InputError, match=r"leg\.wrl: .*keys do not fall one per frame on a 10 Hz"):
        _leg(tmp_path, LEG.replace("key [0, 0.2857, 0.5714, 1]", "key [0, 0.2857, 0.8571, 1]"))


# --------------------------------------------------------------------------- recording errors


ARM = 5


def _synthetic(n: int = 100, fps: float = 10.0) -> SourceClip:
    """Root, the Biped spine chain standing straight, and an arm turning slowly (10°/s)."""
    joints = ("Bip01", *SPINE_CHAIN, "Bip01_L_Oberarm")
    parents = (-1, 0, 1, 2, 3, 3)
    rest = np.array(
        [[0, 0.9, 0], [0, 0.95, 0], [0, 1.05, 0], [0, 1.25, 0], [0, 1.45, 0], [0.2, 1.4, 0]]
    )
    rotations = np.tile(np.eye(3), (n, len(joints), 1, 1))
    rotations[:, ARM] = [_rx(np.radians(10.0) * f / fps) for f in range(n)]
    positions = np.tile(rest, (n, 1, 1))
    return SourceClip(joints, parents, rest, positions, rotations, fps)


def _replace(
    clip: SourceClip, rotations: np.ndarray | None = None, positions: np.ndarray | None = None
) -> SourceClip:
    return SourceClip(
        clip.joints,
        clip.parents,
        clip.rest,
        clip.positions if positions is None else positions,
        clip.rotations if rotations is None else rotations,
        clip.fps,
    )


def test_clean_clip_loses_nothing() -> None:
    assert not recording_errors(_synthetic()).any()


def test_a_flipped_bone_drops_its_stretch_with_a_margin() -> None:
    clip = _synthetic()
    rotations = clip.rotations.copy()
    rotations[50:53, ARM] = rotations[50:53, ARM] @ _rx(np.pi)  # the arm flips for three frames
    drop = recording_errors(_replace(clip, rotations))
    margin = round(MARGIN * clip.fps)
    # the jumps into frame 50 and out of frame 52 (180° in 0.1 s >> MAX_JOINT_SPEED) mark 49..53
    assert 180.0 * clip.fps > MAX_JOINT_SPEED
    np.testing.assert_array_equal(np.flatnonzero(drop), np.arange(49 - margin, 53 + margin + 1))


def test_bad_frames_close_together_are_one_stretch() -> None:
    clip = _synthetic()
    rotations = clip.rotations.copy()
    rotations[30, ARM] = rotations[30, ARM] @ _rx(np.pi)
    rotations[50, ARM] = rotations[50, ARM] @ _rx(np.pi)  # 2 s later: within MERGE_GAP
    rotations[90, ARM] = rotations[90, ARM] @ _rx(np.pi)  # 4 s later: a stretch of its own
    drop = recording_errors(_replace(clip, rotations))
    margin = round(MARGIN * clip.fps)
    expected = np.zeros(clip.n_frames, bool)
    expected[29 - margin : 51 + margin + 1] = True
    expected[89 - margin : 91 + margin + 1] = True
    np.testing.assert_array_equal(drop, expected)


def test_a_folded_spine_is_an_error() -> None:
    clip = _synthetic()
    positions = clip.positions.copy()
    positions[20:23, 3] = [0.2, 1.05, 0.0]  # Wirbels_ule2 beside Wirbels_ule1: a 90° fold
    positions[20:23, 4] = [0.2, 1.25, 0.0]
    folded = _replace(clip, positions=positions)
    assert spine_kinks(folded)[21].max() == pytest.approx(90.0)
    margin = round(MARGIN * clip.fps)
    np.testing.assert_array_equal(
        np.flatnonzero(recording_errors(folded)), np.arange(20 - margin, 23 + margin)
    )


# --------------------------------------------------------------------------- profile


def test_profile_maps_smpl_joints_to_biped_bones() -> None:
    assert set(ROM_PROFILE.drive) == set(SMPL22_JOINT_NAMES) - {"neck"}  # Hals has no keys
    assert set(ROM_PROFILE.required_joints()) <= set(BIPED_JOINTS)
    assert ROM_PROFILE.drive["pelvis"] == ("Bip01_Becken",)
    assert ROM_PROFILE.segments["left_knee"] == ("Bip01_L_Unterschenkel", "Bip01_L_Fu_")
    assert ROM_PROFILE.hinges["right_elbow"] == "Bip01_R_Unterarm"


# --------------------------------------------------------------------------- the real file

SOURCES = os.environ.get("POSEBENCH_SOURCES_DIR")


@pytest.mark.skipif(not SOURCES, reason="set POSEBENCH_SOURCES_DIR to check the real take")
def test_real_take() -> None:
    clip = read_rom_take(Path(str(SOURCES)) / SOURCE_FILE)
    assert clip.joints == BIPED_JOINTS
    assert (clip.n_frames, clip.fps) == (453, 10.0)
    ROM_PROFILE.check(clip)
    index = clip.index
    rest = clip.rest
    # metres, y up: the head's end 1.75 m up, the toes near the floor; facing +z, left at +x
    assert rest[index("Bip01_KopfNub"), 1] == pytest.approx(1.746, abs=0.005)
    assert 0.0 < clip.positions[..., 1].min() < 0.03
    assert rest[index("Bip01_L_Oberschenkel"), 0] - rest[index("Bip01_R_Oberschenkel"), 0] > 0.25
    toes = rest[index("Bip01_L_Zeh0")] - rest[index("Bip01_L_Fu_")]
    assert toes[2] > 0.1
    np.testing.assert_allclose(clip.rotations[0], np.tile(np.eye(3), (30, 1, 1)), atol=1e-5)
    # each joint moves with its parent's segment (to the exporter's 4-digit rounding)
    for j, p in enumerate(clip.parents):
        if p >= 0:
            moved = clip.positions[:, p] + clip.rotations[:, p] @ (rest[j] - rest[p])
            assert np.abs(moved - clip.positions[:, j]).max() < 0.003, clip.joints[j]
    # elbows bend about the vertical at rest (arms out), knees about the lateral axis
    assert clip.hinge_axes["left_elbow"][1] < -0.9 and clip.hinge_axes["right_elbow"][1] > 0.9
    assert clip.hinge_axes["left_knee"][0] > 0.8 and clip.hinge_axes["right_knee"][0] > 0.8
    # the recording errors: one stretch, 19.7 s to 39.7 s
    drop = recording_errors(clip)
    np.testing.assert_array_equal(np.flatnonzero(drop), np.arange(197, 398))
