"""Marker fit on synthetic captures: markers fixed to the segments of a hand-made, posed skeleton
(placed the way the joint-centre rules read them) must give back its joint centres and segment
rotations exactly; a disturbed or missing marker must get its frame rejected."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from posebench.body.base import SMPL22_JOINT_NAMES
from posebench.core.errors import InputError
from posebench.rebuild.csm import CSM_TO_POSEBENCH, Markers, read_csm
from posebench.rebuild.markers import (
    ANKLE_OFFSET,
    JOINTS,
    KNEE_OFFSET,
    MARKER_PROFILE,
    MAX_MARKER_ERROR,
    PARENTS,
    SHOULDER_DROP,
    Subject,
    chord_centre,
    face_forward,
    facing_yaw,
    fit_markers,
    fit_residual,
    kept_runs,
    markers_to_clip,
    rejected_frames,
    subject_constants,
    yaw_rotation,
)

# The capture's marker order (ThomasFechten.csm).
NAMES = (
    "LFHD", "RFHD", "LBHD", "RBHD", "C7", "T10", "CLAV", "STRN", "RBAC", "LSHO", "LUPA", "LELB",
    "LFRM", "LWRA", "LWRB", "LFIN", "RSHO", "RUPA", "RELB", "RFRM", "RWRA", "RWRB", "RFIN",
    "LFWT", "RFWT", "LPel", "RPel", "LBWT", "RBWT", "LTHI", "LKNE", "LSHN", "LANK", "LHEL",
    "LTOE", "LMT5", "RTHI", "RKNE", "RSHN", "RANK", "RHEL", "RTOE", "RMT5",
)  # fmt: skip
# Subject constants; Harrington by hand: x = -0.24·0.16 - 0.0099, y = -0.16·0.24 - 0.04·0.85
# - 0.0071, z = 0.28·0.16 + 0.16·0.24 + 0.0079.
SUBJECT = Subject(pelvic_width=0.24, pelvic_depth=0.16, leg_length=0.85, biacromial=0.36)
HIP = np.array([-0.0483, -0.0795, 0.0911])
H = HIP[2]  # half the distance between the hip centres

# T-pose (pelvis at the origin, facing +z, left at +x): left side; the right mirrors x.
LEFT = {
    "hip": (H, 0, 0), "knee": (H, -0.42, 0), "ankle": (H, -0.82, 0), "toe": (H, -0.82, 0.15),
    "collar": (0, 0.47, 0), "shoulder": (0.18, 0.47, 0), "elbow": (0.46, 0.47, 0),
    "wrist": (0.71, 0.47, 0), "hand": (0.79, 0.47, 0),
}  # fmt: skip
REST = {"pelvis": (0, 0, 0), "thorax": (0, 0.25, 0), "neck": (0, 0.47, 0), "head": (0, 0.67, 0)}
for _joint, (_x, _y, _z) in LEFT.items():
    REST |= {f"left_{_joint}": (_x, _y, _z), f"right_{_joint}": (-_x, _y, _z)}
REST_ARRAY = np.array([REST[j] for j in JOINTS], dtype=float)

# Markers at rest: (segment carrying it, position). Pelvis markers put the Harrington hip on
# the skeleton's hips: mid-FWT is at (0, -y, -x) from the pelvis joint.
ASIS = (0.0, -HIP[1], -HIP[0])  # mid-FWT
MARKERS_AT_REST: dict[str, tuple[str, tuple[float, float, float]]] = {
    "LFWT": ("pelvis", (ASIS[0] + 0.12, ASIS[1], ASIS[2])),
    "RFWT": ("pelvis", (ASIS[0] - 0.12, ASIS[1], ASIS[2])),
    "LBWT": ("pelvis", (ASIS[0] + 0.05, ASIS[1], ASIS[2] - 0.16)),
    "RBWT": ("pelvis", (ASIS[0] - 0.05, ASIS[1], ASIS[2] - 0.16)),
    "LPel": ("pelvis", (0.14, 0.03, 0.0)),
    "RPel": ("pelvis", (-0.14, 0.03, 0.0)),
    "T10": ("thorax", (0, 0.25, -0.09)),
    "STRN": ("thorax", (0, 0.25, 0.09)),
    "C7": ("thorax", (0, 0.47, -0.06)),
    "CLAV": ("thorax", (0, 0.47, 0.06)),
    "RBAC": ("thorax", (-0.08, 0.38, -0.1)),
    "LFHD": ("neck", (0.07, 0.67, 0.09)),
    "RFHD": ("neck", (-0.07, 0.67, 0.09)),
    "LBHD": ("neck", (0.07, 0.67, -0.09)),
    "RBHD": ("neck", (-0.07, 0.67, -0.09)),
}
for _side, _s, _m in (("left", "L", 1.0), ("right", "R", -1.0)):
    for _name, _segment, (_x, _y, _z) in (
        ("THI", "hip", (H + 0.075, -0.25, 0)),  # lateral of the hip-knee line
        ("KNE", "hip", (H + KNEE_OFFSET, -0.42, 0)),
        ("SHN", "knee", (H + 0.06, -0.62, 0)),
        ("ANK", "knee", (H + ANKLE_OFFSET, -0.82, 0)),
        ("TOE", "ankle", (H - 0.025, -0.82, 0.15)),
        ("MT5", "ankle", (H + 0.025, -0.82, 0.15)),
        ("HEL", "ankle", (H, -0.87, -0.07)),
        ("UPA", "shoulder", (0.32, 0.47, -0.045)),
        ("ELB", "shoulder", (0.46, 0.47, 0)),
        ("FRM", "elbow", (0.58, 0.5, 0)),
        ("WRA", "elbow", (0.71, 0.47, 0.03)),  # thumb side, forward at rest
        ("WRB", "elbow", (0.71, 0.47, -0.03)),
        ("FIN", "wrist", (0.79, 0.47, 0)),
    ):
        MARKERS_AT_REST[_s + _name] = (f"{_side}_{_segment}", (_m * _x, _y, _z))


def rot(rotvec) -> np.ndarray:
    return Rotation.from_rotvec(np.asarray(rotvec, dtype=float)).as_matrix()


def random_pose(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Global segment rotations. Collars turn only about the thorax's forward axis, forearms
    bend about the elbow hinge (forward at rest) then twist, hands turn about the forearm's
    forward axis: the directions the frames are built from then stay fixed to the segments."""
    small = lambda size: rot(rng.uniform(-size, size, 3))  # noqa: E731
    g = {"pelvis": rot([0, rng.uniform(-0.4, 0.4), 0]) @ small(0.2)}
    g["thorax"] = g["pelvis"] @ small(0.3)
    g["neck"] = g["thorax"] @ small(0.3)
    for side, m in (("left", 1.0), ("right", -1.0)):
        g[f"{side}_collar"] = g["thorax"] @ rot([0, 0, rng.uniform(-0.2, 0.2)])
        g[f"{side}_shoulder"] = g[f"{side}_collar"] @ small(0.8)
        bend = rot([0, -m * rng.uniform(0.5, 1.8), 0])  # +x (left) turns towards +z
        twist = rot([m * rng.uniform(-0.8, 0.8), 0, 0])
        g[f"{side}_elbow"] = g[f"{side}_shoulder"] @ bend @ twist
        g[f"{side}_wrist"] = g[f"{side}_elbow"] @ rot([0, 0, rng.uniform(-0.4, 0.4)])
        g[f"{side}_hip"] = g["pelvis"] @ small(0.6)
        g[f"{side}_knee"] = g[f"{side}_hip"] @ rot([rng.uniform(0.1, 1.2), 0, 0])
        g[f"{side}_ankle"] = g[f"{side}_knee"] @ small(0.3)
    return g


def carrier(joint: str) -> str:
    """The segment whose rotation a joint's rotation is (end joints carry their parent's)."""
    return {"left_toe": "left_ankle", "right_toe": "right_ankle", "head": "neck"}.get(
        joint, joint.replace("_hand", "_wrist")
    )


def parent_of(joint: str) -> str:
    parent = PARENTS[joint]
    assert parent is not None
    return parent


#: The elbow bend of frame 0 (radians): the upper arm's roll is read from the plane of the arm,
#: so a perfectly straight arm whose elbow marker sits on the shoulder-wrist line has none.
BEND = 0.6
FOREARMS = ("left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hand", "right_hand")


def rest_pose_with_bent_elbows() -> dict[str, np.ndarray]:
    g = {carrier(j): np.eye(3) for j in JOINTS}
    for side, m in (("left", 1.0), ("right", -1.0)):
        g[f"{side}_elbow"] = g[f"{side}_wrist"] = rot([0, -m * BEND, 0])
    return g


def synthetic(n_frames: int = 8, seed: int = 0) -> tuple[Markers, np.ndarray, np.ndarray]:
    """Markers (posebench axes) of a posed skeleton, its joint positions (F, J, 3) and the
    segment rotations each joint carries (F, J, 3, 3). Frame 0 is the T-pose with the elbows
    bent forward by BEND."""
    rng = np.random.default_rng(seed)
    positions = np.zeros((n_frames, len(JOINTS), 3))
    rotations = np.zeros((n_frames, len(JOINTS), 3, 3))
    markers = np.zeros((n_frames, len(NAMES), 3))
    for f in range(n_frames):
        g = random_pose(rng) if f else rest_pose_with_bent_elbows()
        p = {"pelvis": np.array([0.1, 0.95, -0.2]) + rng.uniform(-0.3, 0.3, 3) * (f > 0)}
        for joint in JOINTS[1:]:
            parent = parent_of(joint)
            p[joint] = p[parent] + g[parent] @ (np.array(REST[joint]) - REST[parent])
        for m, name in enumerate(NAMES):
            if name.endswith("SHO"):  # the shoulder rule: SHO above the centre along the thorax
                side = "left" if name[0] == "L" else "right"
                up = g["thorax"] @ [0, 1, 0]
                markers[f, m] = p[f"{side}_shoulder"] + SHOULDER_DROP * SUBJECT.biacromial * up
                continue
            segment, at_rest = MARKERS_AT_REST[name]
            markers[f, m] = p[segment] + g[segment] @ (np.array(at_rest) - REST[segment])
        positions[f] = [p[j] for j in JOINTS]
        rotations[f] = [g[carrier(j)] for j in JOINTS]
    return Markers(names=NAMES, positions=markers, fps=120.0), positions, rotations


def with_marker(markers: Markers, name: str, frame: int, value: np.ndarray) -> Markers:
    positions = markers.positions.copy()
    positions[frame, markers.index(name)] = value
    return Markers(names=markers.names, positions=positions, fps=markers.fps)


# --------------------------------------------------------------------------- rules


def test_harrington_hip_by_hand() -> None:
    np.testing.assert_allclose(SUBJECT.hip, HIP, atol=1e-12)


def test_chord_centre_by_hand() -> None:
    # Centre at the origin: 0.1 from the marker, at a right angle to the proximal joint, on the
    # side of the proximal-marker line away from the wand; the wand only picks plane and side.
    marker, proximal = np.array([0.1, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])
    for wand in ([0.15, 0.5, 0.0], [0.3, 0.2, 0.0], [0.2, -0.3, 0.0]):
        centre = chord_centre(proximal, np.array(wand), marker, 0.1)
        np.testing.assert_allclose(centre, [0, 0, 0], atol=1e-12)


def test_subject_constants_are_medians_over_the_clip() -> None:
    markers, _, _ = synthetic()
    subject = subject_constants(markers)
    assert subject.pelvic_width == pytest.approx(0.24)
    assert subject.pelvic_depth == pytest.approx(0.16)
    # T-pose (frame 0): FWT (0.12, 0.0795, 0.0483) to ANK (H + 0.042, -0.82, 0).
    rest = subject_constants(Markers(NAMES, markers.positions[:1], 120.0))
    expected = np.linalg.norm([0.12 - H - ANKLE_OFFSET, 0.0795 + 0.82, 0.0483])
    assert rest.leg_length == pytest.approx(expected)
    assert rest.biacromial == pytest.approx(2 * 0.18)


# --------------------------------------------------------------------------- the fit


def test_recovers_joint_centres_rotations_and_rest() -> None:
    markers, positions, rotations = synthetic()
    fit = fit_markers(markers, SUBJECT)
    assert fit.defined.all() and fit.joints == JOINTS
    np.testing.assert_allclose(fit.positions, positions, atol=1e-9)
    np.testing.assert_allclose(fit.rotations, rotations, atol=1e-9)
    np.testing.assert_allclose(fit.rest, REST_ARRAY, atol=1e-9)
    # Frame 0 is the T-pose but for the elbows: the identity, and forearms turned about -y (left)
    # and +y (right), their hinge axes at rest.
    for j, joint in enumerate(JOINTS):
        expected = (
            np.eye(3)
            if joint not in FOREARMS
            else rot([0, (-1 if "left" in joint else 1) * BEND, 0])
        )
        np.testing.assert_allclose(fit.rotations[0, j], expected, atol=1e-9)
    # Bone lengths are those of the skeleton in every frame.
    lengths = np.linalg.norm(REST_ARRAY - REST_ARRAY[[max(p, 0) for p in fit.parents]], axis=-1)
    np.testing.assert_allclose(
        fit.bone_lengths(), np.broadcast_to(lengths, (8, len(JOINTS))), atol=1e-9
    )


def test_clip_follows_the_source_clip_convention() -> None:
    markers, _, _ = synthetic()
    clip = fit_markers(markers, SUBJECT).clip()
    assert clip.n_frames == 8 and clip.fps == 120.0
    MARKER_PROFILE.check(clip)
    # A point fixed to a segment at rest: positions[f, j] + rotations[f, j] @ (p - rest[j]).
    for j, parent in enumerate(clip.parents):
        if parent < 0:
            continue
        moved = clip.positions[:, parent] + clip.rotations[:, parent] @ (
            clip.rest[j] - clip.rest[parent]
        )
        np.testing.assert_allclose(clip.positions[:, j], moved, atol=1e-9)


def test_residual_is_zero_for_rigid_segments() -> None:
    markers, _, _ = synthetic()
    fit = fit_markers(markers, SUBJECT)
    residual = fit_residual(markers, fit)
    # The acromion markers follow the thorax's long axis (the shoulder rule) while the collars
    # turn: the only markers not rigid on their segment.
    shoulders = [NAMES.index("LSHO"), NAMES.index("RSHO")]
    assert np.delete(residual.marker_error, shoulders, axis=1).max() < 1e-9
    assert residual.marker_error[:, shoulders].max() < 0.02 and residual.rms.max() < 0.005
    assert not rejected_frames(fit, residual).any()
    np.testing.assert_allclose(residual.models["left_knee"][1], [0.4, ANKLE_OFFSET, 0], atol=1e-9)


def test_a_disturbed_marker_raises_the_residual_and_is_rejected() -> None:
    markers, _, _ = synthetic()
    push = markers.get("LFRM")[3] + [0.0, 0.1, 0.0]  # 10 cm off its forearm
    disturbed = with_marker(markers, "LFRM", 3, push)
    fit = fit_markers(disturbed, SUBJECT)
    residual = fit_residual(disturbed, fit)
    assert residual.marker_error[3, NAMES.index("LFRM")] == pytest.approx(0.1)
    assert residual.max_error[3] > MAX_MARKER_ERROR and residual.rms[3] > 0.01
    assert rejected_frames(fit, residual).tolist() == [f == 3 for f in range(8)]
    # A looser bound keeps it: the bound is what decides.
    assert not rejected_frames(fit, residual, max_marker=0.2).any()


def test_swapped_knee_markers_are_rejected() -> None:
    markers, _, _ = synthetic()
    left, right = markers.get("LKNE")[5].copy(), markers.get("RKNE")[5].copy()
    swapped = with_marker(with_marker(markers, "LKNE", 5, right), "RKNE", 5, left)
    fit = fit_markers(swapped, SUBJECT)
    residual = fit_residual(swapped, fit)
    assert residual.rms[5] > residual.rms[np.arange(8) != 5].max() + 0.01
    assert rejected_frames(fit, residual).tolist() == [f == 5 for f in range(8)]


def test_missing_markers() -> None:
    markers, positions, _ = synthetic()
    gaps = with_marker(markers, "LTHI", 2, np.full(3, np.nan))  # needed: no left knee centre
    gaps = with_marker(gaps, "LPel", 4, np.full(3, np.nan))  # only checks the residual
    fit = fit_markers(gaps, SUBJECT)
    assert fit.defined.tolist() == [f != 2 for f in range(8)]
    assert np.isnan(fit.positions[2, JOINTS.index("left_knee")]).all()
    residual = fit_residual(gaps, fit)
    assert np.isnan(residual.rms[2]) and np.isnan(residual.marker_error[4, NAMES.index("LPel")])
    assert residual.rms[4] < 0.005
    rejected = rejected_frames(fit, residual)
    assert rejected.tolist() == [f == 2 for f in range(8)]
    clip = fit.clip(~rejected)
    assert clip.n_frames == 7
    np.testing.assert_allclose(clip.positions, np.delete(positions, 2, axis=0), atol=1e-9)
    assert kept_runs(~rejected) == [(0, 2), (3, 8)]


def test_straight_arm_with_the_elbow_marker_on_its_line_has_no_roll() -> None:
    markers, _, _ = synthetic(n_frames=2)
    positions = markers.positions.copy()
    positions[1] = positions[0]
    elbow = positions[1, NAMES.index("LELB")]
    for name in ("LWRA", "LWRB", "LFRM", "LFIN"):  # straighten the left arm of frame 1
        m = NAMES.index(name)
        positions[1, m] = elbow + rot([0, BEND, 0]) @ (positions[1, m] - elbow)
    fit = fit_markers(Markers(NAMES, positions, 120.0), SUBJECT)
    wrist = fit.positions[1, JOINTS.index("left_wrist")]
    np.testing.assert_allclose(wrist[1:], [0.47 + 0.95, -0.2], atol=1e-9)  # on the arm's line
    assert fit.defined.tolist() == [True, False]


def test_lacking_marker_set_is_one_line() -> None:
    markers, _, _ = synthetic()
    names = tuple("LKNX" if n == "LKNE" else n for n in NAMES)
    with pytest.raises(InputError, match="lacks the markers LKNE; .*Plug-in-Gait"):
        fit_markers(Markers(names=names, positions=markers.positions, fps=120.0))


# --------------------------------------------------------------------------- facing


def test_face_forward_is_one_turn_about_the_vertical() -> None:
    markers, positions, _ = synthetic()
    turned = markers.rotated(yaw_rotation(2.0))  # the capture faces elsewhere
    assert facing_yaw(turned) == pytest.approx(2.0)
    faced, angle = face_forward(turned)
    assert angle == pytest.approx(-2.0)
    np.testing.assert_allclose(faced.positions, markers.positions, atol=1e-12)
    np.testing.assert_allclose(fit_markers(faced, SUBJECT).positions, positions, atol=1e-9)


def test_mirrored_capture_is_refused() -> None:
    markers, _, _ = synthetic()
    mirrored = Markers(NAMES, markers.positions * [-1.0, 1.0, 1.0], 120.0, path="m.csm")
    with pytest.raises(InputError, match="m.csm: .*mirrored"):
        face_forward(mirrored)


# --------------------------------------------------------------------------- end to end


def write_csm(path: Path, markers: Markers) -> None:
    """A .csm file (z up, millimetres) holding the markers."""
    raw = markers.positions @ CSM_TO_POSEBENCH * 1000.0  # inverse of the reader's rotation
    rows = [
        f"{f + 1} " + " ".join(f"{v:.6f}" for v in frame.ravel()) for f, frame in enumerate(raw)
    ]
    header = f"$Rate 120\n$Order\n{' '.join(markers.names)}\n$Points\n"
    path.write_text(header + "\n".join(rows) + "\n")


def test_csm_file_to_clip(tmp_path: Path) -> None:
    markers, positions, rotations = synthetic(n_frames=6)
    turned = markers.rotated(yaw_rotation(-0.7))
    write_csm(tmp_path / "synthetic.csm", turned)
    clip = markers_to_clip(read_csm(tmp_path / "synthetic.csm"))
    assert clip.n_frames == 6 and clip.path.endswith("synthetic.csm")
    MARKER_PROFILE.check(clip)
    # Turned back to face +z; rules that need no subject constant are exact.
    for joint in ("head", "neck", "thorax", "left_wrist", "right_toe"):
        j = JOINTS.index(joint)
        np.testing.assert_allclose(clip.positions[:, j], positions[:, j], atol=1e-7)
    j = JOINTS.index("neck")
    np.testing.assert_allclose(clip.rotations[:, j], rotations[:, j], atol=1e-7)


def test_profile_names_smpl_joints() -> None:
    smpl = set(SMPL22_JOINT_NAMES)
    assert set(MARKER_PROFILE.drive) <= smpl
    chained = {j for chain in MARKER_PROFILE.chains.values() for j in chain}
    assert chained <= smpl and set(MARKER_PROFILE.chains) <= set(MARKER_PROFILE.drive)
    assert smpl - set(MARKER_PROFILE.drive) - chained == {"left_foot", "right_foot"}
    assert set(MARKER_PROFILE.required_joints()) <= set(JOINTS)
    assert set(MARKER_PROFILE.hinges) == {"left_elbow", "right_elbow", "left_knee", "right_knee"}


SOURCES = os.environ.get("POSEBENCH_SOURCES_DIR")


@pytest.mark.skipif(not SOURCES, reason="set POSEBENCH_SOURCES_DIR to a folder like /work/sources")
def test_real_thomas_fechten() -> None:
    path = Path(str(SOURCES)) / "assimp/usr/share/assimp/models/CSM/ThomasFechten.csm"
    faced, angle = face_forward(read_csm(path))
    assert abs(np.degrees(angle)) < 5  # already faces about -y in the file, so +z here
    fit = fit_markers(faced)
    assert fit.defined.all()
    residual = fit_residual(faced, fit)
    rejected = rejected_frames(fit, residual)
    # The right ankle marker slides down the shank for the first ~9 s, the sternum marker for
    # the first 5 s: those frames go; the rest is one run of about 11.7 s.
    assert kept_runs(~rejected) == [(1035, 2439)]
    kept = ~rejected
    assert np.median(residual.rms[kept]) < 0.012 and residual.rms[kept].max() < MAX_MARKER_ERROR
    lengths = fit.bone_lengths()[kept]
    for joint in ("left_knee", "right_knee", "left_ankle", "left_hand"):
        assert lengths[:, JOINTS.index(joint)].std() < 0.008, joint
    clip = markers_to_clip(read_csm(path))
    assert clip.n_frames == 1404
    MARKER_PROFILE.check(clip)
