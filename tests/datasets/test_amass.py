"""AMASS: split tables and aliases, VPoser sampling, HuMoR motion, preparation, the dataset plugin.

AMASS itself is licence-restricted: every test writes a small fake tree in AMASS's format.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import roma
import torch

from posebench import plugins
from posebench.cli.main import main
from posebench.core.errors import InputError
from posebench.core.seeding import numpy_rng
from posebench.datasets.amass import (
    ALIASES,
    ENV_VAR,
    MANIFEST_NAME,
    MOTION_SPLITS,
    POSE_SPLITS,
    AmassDataset,
    canonicalize,
    humor_windows,
    read_amass_file,
    resample_indices,
    sample_frames,
    split_of,
)
from posebench.datasets.amass_prepare import prepare_amass, summary_lines
from posebench.datasets.base import MotionSequence
from posebench.testing import check_dataset

# (relative path, frames, columns, fps, frame-rate key); folder names mix old and current ones.
MOTIONS: list[tuple[str, int, int, float, str]] = [
    ("CMU/01/01_01_poses.npz", 200, 156, 120.0, "mocap_framerate"),
    ("CMU/02/02_05_poses.npz", 57, 156, 120.0, "mocap_framerate"),
    ("BMLrub/rub001/0001_walk_stageii.npz", 150, 165, 120.0, "mocap_frame_rate"),
    ("PosePrior/03099/lar1_stageii.npz", 90, 165, 120.0, "mocap_frame_rate"),
    ("HumanEva/S1/Walking_1_poses.npz", 400, 156, 120.0, "mocap_framerate"),
    ("HumanEva/S1/Box_1_poses.npz", 300, 156, 120.0, "mocap_framerate"),
    ("MPI_HDM05/bk/HDM_bk_01_poses.npz", 500, 156, 120.0, "mocap_framerate"),
    ("MoSh/50002/jumping_stageii.npz", 600, 165, 100.0, "mocap_frame_rate"),
    ("Transitions/mazen_c3d/walk_turn_stageii.npz", 300, 165, 60.0, "mocap_frame_rate"),
    ("SSM_synced/20160330/punch_poses.npz", 120, 156, 120.0, "mocap_framerate"),
    ("SFU/0005/short_poses.npz", 40, 156, 120.0, "mocap_framerate"),  # < 1 s once trimmed
]
SHAPES = ["CMU/01/shape.npz", "PosePrior/03099/neutral_stagei.npz", "CMU/02/betas_only.npz"]
UNASSIGNED = ["DanceDB/Andria/varying_poses.npz"]


def write_motion(
    path: Path,
    frames: int,
    columns: int = 156,
    fps: float = 120.0,
    rate_key: str = "mocap_framerate",
    seed: int = 0,
    **overrides: Any,
) -> Path:
    """An AMASS-format npz with random values; ``overrides`` replace (None: remove) keys."""
    rng = np.random.default_rng(seed)
    data: dict[str, Any] = {
        "poses": rng.normal(0.0, 0.4, (frames, columns)),
        "trans": rng.normal(0.0, 1.0, (frames, 3)),
        "betas": rng.normal(0.0, 1.0, 16),
        "gender": np.array("female"),
        rate_key: np.array(fps),
    }
    data.update(overrides)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **{k: v for k, v in data.items() if v is not None})
    return path


def make_tree(root: Path) -> Path:
    for i, (relative, frames, columns, fps, key) in enumerate(MOTIONS):
        write_motion(root / relative, frames, columns, fps, key, seed=i)
    for relative in SHAPES:  # the stagei file even has motion arrays: skipped by its name
        if relative.endswith("_stagei.npz"):
            write_motion(root / relative, 30, 165, 120.0, "mocap_frame_rate")
            continue
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        np.savez(root / relative, betas=np.zeros(16), gender=np.array("neutral"))
    for relative in UNASSIGNED:
        write_motion(root / relative, 100)
    return root


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, Any]]:
    amass = make_tree(tmp_path_factory.mktemp("amass"))
    out = tmp_path_factory.mktemp("prepared")
    return amass, out, prepare_amass(amass, out, seed=0)


def source_poses(amass: Path, relative: str) -> np.ndarray:
    with np.load(amass / relative) as data:
        return data["poses"]


# --- tables -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("folder", "pose_split", "motion_split"),
    [
        ("BioMotionLab_NTroje", "train", "train"),
        ("BMLrub", "train", "train"),
        ("bmlrub", "train", "train"),
        ("PosePrior", "train", "train"),
        ("TCDHands", "train", None),
        ("BMLhandball", "train", None),
        ("HumanEva", "val", "test"),
        ("HDM05", "val", "val"),
        ("MoSh", "val", "val"),
        ("Transitions", "test", "test"),
        ("Transitions_mocap", "test", "test"),
        ("SSM", "test", None),
        ("DanceDB", None, None),
        ("DFaust", None, None),
    ],
)
def test_split_of_accepts_old_and_current_folder_names(
    folder: str, pose_split: str | None, motion_split: str | None
) -> None:
    assert split_of(folder, POSE_SPLITS) == pose_split
    assert split_of(folder, MOTION_SPLITS) == motion_split


def test_split_tables_are_disjoint_and_never_leak_evaluation_data_into_training() -> None:
    for table in (POSE_SPLITS, MOTION_SPLITS):
        names = [n for members in table.values() for n in members]
        assert len(names) == len(set(names))
    tables = (POSE_SPLITS, MOTION_SPLITS)
    held_out = {n for table in tables for split in ("val", "test") for n in table[split]}
    assert not held_out & set(POSE_SPLITS["train"])
    assert not held_out & set(MOTION_SPLITS["train"])
    split_names = {n for table in (POSE_SPLITS, MOTION_SPLITS) for m in table.values() for n in m}
    assert set(ALIASES.values()) - split_names == {"DFaust_67"}


# --- sampling and resampling --------------------------------------------------------------------


@pytest.mark.parametrize("frames", [1, 4, 5, 57, 100, 1001])
def test_sample_frames_takes_30_percent_of_the_middle_80_percent(frames: int) -> None:
    picked = sample_frames(frames, numpy_rng(0, "amass-sampling", "x"))
    assert len(picked) == int(0.3 * 0.8 * frames)
    assert len(np.unique(picked)) == len(picked)
    assert np.all(np.diff(picked) > 0)
    if len(picked):
        assert picked.min() >= int(0.1 * frames) and picked.max() < int(0.9 * frames)


def test_sample_frames_is_deterministic_per_seed_and_differs_across_seeds() -> None:
    def pick(seed: int) -> np.ndarray:
        return sample_frames(1000, numpy_rng(seed, "amass-sampling", "CMU/01/01_01_poses.npz"))

    assert np.array_equal(pick(0), pick(0))
    assert not np.array_equal(pick(0), pick(1))


def test_resample_indices_to_30_hz() -> None:
    assert np.array_equal(resample_indices(10, 30.0), np.arange(10))
    assert np.array_equal(resample_indices(400, 120.0), np.arange(0, 400, 4))
    assert np.array_equal(resample_indices(401, 60.0), np.arange(0, 401, 2))
    # 100 Hz does not divide: the frame nearest each 30 Hz instant, at most half a frame off.
    picked = resample_indices(1000, 100.0)
    instants = np.arange(len(picked)) / 30.0
    assert len(picked) == 300
    assert np.abs(picked / 100.0 - instants).max() <= 0.5 / 100.0 + 1e-12
    assert len(resample_indices(100, 25.0)) == 0  # no upsampling by repeating frames


# --- canonicalisation ---------------------------------------------------------------------------


def random_motion(frames: int = 12, seed: int = 0) -> MotionSequence:
    g = torch.Generator().manual_seed(seed)
    upright = roma.rotvec_to_rotmat(torch.tensor([math.pi / 2, 0.0, 0.0]))  # y-up model, z-up
    wobble = roma.rotvec_to_rotmat(0.3 * torch.randn(frames, 3, generator=g))
    root = roma.rotmat_to_rotvec(upright @ wobble)
    return MotionSequence(
        0.3 * torch.randn(frames, 21, 3, generator=g),
        root.float(),
        torch.randn(frames, 3, generator=g),
        30.0,
        "m",
    )


def body_point(sequence: MotionSequence, local: torch.Tensor) -> torch.Tensor:
    """World positions of a point rigidly attached to the pelvis."""
    rot = roma.rotvec_to_rotmat(sequence.root_orient.double())
    return rot @ local.double() + sequence.trans.double()


def test_canonicalize_turns_frame_0_to_face_plus_y_at_the_origin() -> None:
    sequence = random_motion()
    canonical = canonicalize(sequence)
    rot0 = roma.rotvec_to_rotmat(canonical.root_orient[0].double())
    right = -rot0[:, 0]
    assert torch.allclose(right[1], torch.zeros((), dtype=torch.float64), atol=1e-5)
    assert right[0] > 0
    assert rot0[1, 2] > 0  # the model's forward axis (+z) points along +y
    assert torch.allclose(canonical.trans[0, :2], torch.zeros(2), atol=1e-6)
    assert torch.allclose(canonical.trans[:, 2], sequence.trans[:, 2], atol=1e-6)
    assert torch.equal(canonical.pose_body, sequence.pose_body)


def test_canonicalize_is_a_rigid_vertical_turn_and_ignores_heading_and_position() -> None:
    sequence = random_motion(seed=3)
    turn = roma.rotvec_to_rotmat(torch.tensor([0.0, 0.0, 2.1]))
    moved = MotionSequence(
        sequence.pose_body,
        roma.rotmat_to_rotvec(turn @ roma.rotvec_to_rotmat(sequence.root_orient)),
        sequence.trans @ turn.T + torch.tensor([5.0, -3.0, 0.0]),
        30.0,
        "m",
    )
    a, b = canonicalize(sequence), canonicalize(moved)
    assert torch.allclose(a.trans, b.trans, atol=1e-4)
    rot_a, rot_b = (roma.rotvec_to_rotmat(s.root_orient) for s in (a, b))
    assert torch.allclose(rot_a, rot_b, atol=1e-5)
    local = torch.tensor([0.1, -0.2, 0.05])
    before, after = body_point(sequence, local), body_point(a, local)
    assert torch.allclose(torch.cdist(before, before), torch.cdist(after, after), atol=1e-5)
    assert torch.allclose(before[:, 2], after[:, 2], atol=1e-5)


# --- reading files ------------------------------------------------------------------------------


def test_read_amass_file_takes_body_pose_and_root_from_both_layouts(tmp_path: Path) -> None:
    for columns, key, model in (
        (156, "mocap_framerate", "smplh"),
        (165, "mocap_frame_rate", "smplx"),
    ):
        path = write_motion(tmp_path / f"m{columns}.npz", 20, columns, 60.0, key)
        motion = read_amass_file(path)
        poses = source_poses(tmp_path, path.name)
        assert motion is not None and motion.model == model and motion.fps == 60.0
        assert motion.pose_body.shape == (20, 21, 3) and motion.pose_body.dtype == np.float32
        assert np.array_equal(motion.pose_body.reshape(20, 63), poses[:, 3:66].astype(np.float32))
        assert np.array_equal(motion.root_orient, poses[:, :3].astype(np.float32))
        assert motion.gender == "female" and motion.betas is not None


def test_shape_only_files_are_not_motion(tmp_path: Path) -> None:
    np.savez(tmp_path / "shape.npz", betas=np.zeros(16))
    assert read_amass_file(tmp_path / "shape.npz") is None


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"trans": None}, "no 'trans'"),
        ({"poses": np.zeros((20, 150))}, "(20, 150)"),
        ({"poses": np.full((20, 156), np.nan)}, "NaN"),
        ({"trans": np.zeros((19, 3))}, "'trans' has shape"),
        ({"mocap_framerate": None}, "mocap_framerate"),
        ({"mocap_framerate": np.array(-5.0)}, "positive"),
        ({"poses": None, "betas": None}, "no 'poses'"),
        ({"poses": np.zeros((0, 156)), "trans": np.zeros((0, 3))}, "no frames"),
    ],
)
def test_malformed_files_give_one_line_naming_the_file(
    tmp_path: Path, overrides: dict[str, Any], message: str
) -> None:
    path = write_motion(tmp_path / "CMU" / "bad_poses.npz", 20, **overrides)
    with pytest.raises(InputError) as info:
        read_amass_file(path)
    text = str(info.value)
    assert str(path) in text and message in text and "\n" not in text


@pytest.mark.parametrize("content", [b"not a zip at all", b"PK\x03\x04 truncated"])
def test_unreadable_npz_gives_one_line_naming_the_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "broken_poses.npz"
    path.write_bytes(content)
    with pytest.raises(InputError, match="cannot be read") as info:
        read_amass_file(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_an_npy_array_under_an_npz_name_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "array_poses.npz"
    with open(path, "wb") as handle:
        np.save(handle, np.zeros((3, 156)))
    with pytest.raises(InputError, match="not an .npz archive"):
        read_amass_file(path)


# --- preparation --------------------------------------------------------------------------------


def expected_counts() -> dict[str, int]:
    counts = {"train": 0, "val": 0, "test": 0}
    for relative, frames, *_ in MOTIONS:
        counts[split_of(relative.split("/")[0], POSE_SPLITS)] += int(0.3 * 0.8 * frames)
    return counts


def test_prepare_counts_poses_per_split_and_reports_what_it_skipped(prepared) -> None:
    _, out, summary = prepared
    assert summary["counts"]["poses_total"] == expected_counts()
    by_dataset = summary["counts"]["poses"]
    assert set(by_dataset["train"]) == {"BioMotionLab_NTroje", "CMU", "MPI_Limits"}
    assert set(by_dataset["val"]) == {"HumanEva", "MPI_HDM05", "MPI_mosh", "SFU"}
    assert set(by_dataset["test"]) == {"SSM_synced", "Transitions_mocap"}
    assert summary["counts"]["files_read"] == len(MOTIONS)
    assert summary["skipped"]["shape_files"] == len(SHAPES)
    assert summary["skipped"]["unassigned_files"] == {"DanceDB": 1}
    assert summary["skipped"]["motion_dropped"] == {"shorter than 1 s": 1}  # SFU short file
    assert summary["model_types"] == {"smplh": 7, "smplx": 4}
    manifest = json.loads((out / MANIFEST_NAME).read_text())
    assert manifest["seed"] == 0 and manifest["posebench_version"]
    assert len(manifest["files"]) == len(MOTIONS)
    assert all({"size", "mtime_ns", "dataset"} <= set(entry) for entry in manifest["files"])


def test_prepared_poses_load_with_mmap_and_equal_the_source_frames(prepared) -> None:
    amass, out, _ = prepared
    manifest = json.loads((out / MANIFEST_NAME).read_text())
    for split, total in expected_counts().items():
        poses = np.load(out / f"poses_{split}.npy", mmap_mode="r")
        index = np.load(out / f"index_{split}.npy", mmap_mode="r")
        assert isinstance(poses, np.memmap) and poses.shape == (total, 21, 3)
        assert poses.dtype == np.float32 and index.shape == (total, 2)
        for row in (0, total // 2, total - 1):  # pick frames and compare with the npz
            file_id, frame = index[row]
            source = source_poses(amass, manifest["files"][file_id]["path"])
            assert np.array_equal(poses[row].reshape(63), source[frame, 3:66].astype(np.float32))
            low, high = int(0.1 * len(source)), int(0.9 * len(source))
            assert low <= frame < high


def test_prepare_is_deterministic_per_seed_and_differs_across_seeds(prepared, tmp_path) -> None:
    amass, out, summary = prepared
    again = prepare_amass(amass, tmp_path / "again", seed=0)
    other = prepare_amass(amass, tmp_path / "other", seed=1)
    again_bytes = (tmp_path / "again" / "poses_train.npy").read_bytes()
    assert (out / "poses_train.npy").read_bytes() == again_bytes
    assert again["content_hash"] == summary["content_hash"]
    assert other["counts"]["poses_total"] == summary["counts"]["poses_total"]
    assert other["content_hash"] != summary["content_hash"]
    first = np.load(out / "index_train.npy")
    assert not np.array_equal(first, np.load(tmp_path / "other/index_train.npy"))


def test_old_and_current_folder_names_give_the_same_sample(tmp_path: Path) -> None:
    results = []
    for folder in ("BioMotionLab_NTroje", "BMLrub"):
        write_motion(tmp_path / folder / folder / "rub001" / "walk_poses.npz", 300, seed=7)
        prepare_amass(tmp_path / folder, tmp_path / f"out-{folder}", seed=0)
        results.append(np.load(tmp_path / f"out-{folder}" / "poses_train.npy"))
    assert np.array_equal(*results)


def test_two_folders_of_one_sub_dataset_are_refused(tmp_path: Path) -> None:
    write_motion(tmp_path / "amass" / "BMLrub" / "a" / "x_poses.npz", 50)
    write_motion(tmp_path / "amass" / "BioMotionLab_NTroje" / "a" / "x_poses.npz", 50)
    with pytest.raises(InputError, match="same AMASS sub-dataset"):
        prepare_amass(tmp_path / "amass", tmp_path / "out")


def test_a_bad_file_stops_prepare_by_default_and_is_listed_when_skipping(tmp_path: Path) -> None:
    amass = tmp_path / "amass"
    write_motion(amass / "CMU" / "01" / "good_poses.npz", 100)
    bad = write_motion(amass / "CMU" / "01" / "nan_poses.npz", 100, trans=np.full((100, 3), np.inf))
    with pytest.raises(InputError, match="nan_poses.npz") as info:
        prepare_amass(amass, tmp_path / "out")
    assert "\n" not in str(info.value)
    summary = prepare_amass(amass, tmp_path / "out", skip_bad_files=True)
    assert [entry["path"] for entry in summary["skipped"]["bad_files"]] == [
        bad.relative_to(amass).as_posix()
    ]
    assert summary["counts"]["poses_total"]["train"] == int(0.3 * 0.8 * 100)


def test_a_failed_prepare_leaves_no_manifest_and_no_temporary_files(tmp_path: Path) -> None:
    amass = tmp_path / "amass"
    write_motion(amass / "CMU" / "01" / "good_poses.npz", 100)
    prepare_amass(amass, tmp_path / "out")
    write_motion(amass / "CMU" / "02" / "bad_poses.npz", 10, poses=np.zeros((10, 99)))
    with pytest.raises(InputError):
        prepare_amass(amass, tmp_path / "out")
    assert not (tmp_path / "out" / MANIFEST_NAME).exists()
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.endswith(".tmp")]
    with pytest.raises(InputError, match="not a prepared AMASS folder"):
        AmassDataset(tmp_path / "out")


def test_prepare_refuses_a_folder_without_amass_files(tmp_path: Path) -> None:
    write_motion(tmp_path / "amass" / "DanceDB" / "x_poses.npz", 50)
    with pytest.raises(InputError, match="no AMASS motion files"):
        prepare_amass(tmp_path / "amass", tmp_path / "out")
    with pytest.raises(InputError, match="does not exist"):
        prepare_amass(tmp_path / "missing", tmp_path / "out")


class RecordingProgress:
    def __init__(self) -> None:
        self.tracked: list[tuple[str, int | None]] = []
        self.lines: list[str] = []

    def track(self, iterable, description, total=None):
        self.tracked.append((description, total))
        yield from iterable

    def log(self, message: str) -> None:
        self.lines.append(message)


def test_prepare_reports_progress_and_unused_sub_datasets(prepared, tmp_path: Path) -> None:
    amass, _, _ = prepared
    progress = RecordingProgress()
    prepare_amass(amass, tmp_path / "out", progress=progress)
    assert progress.tracked == [("AMASS files", len(MOTIONS) + len(SHAPES))]
    assert any("DanceDB" in line and "no split" in line for line in progress.lines)


# --- the dataset --------------------------------------------------------------------------------


def test_dataset_keeps_the_contract_and_serves_the_prepared_poses(prepared) -> None:
    _, out, summary = prepared
    dataset = AmassDataset(out)
    check_dataset(dataset)
    poses = dataset.poses("val")
    assert poses.dtype == torch.float32 and poses.shape == (expected_counts()["val"], 21, 3)
    assert torch.equal(poses, torch.from_numpy(np.load(out / "poses_val.npy")))
    assert dataset.content_hash() == summary["content_hash"]
    provenance = dataset.provenance
    assert "AMASS" in provenance["citation"] and provenance["seed"] == 0
    assert provenance["pose_sub_datasets"]["test"] == ["SSM_synced", "Transitions_mocap"]
    assert provenance["motion_sub_datasets"]["test"] == ["HumanEva", "Transitions_mocap"]


def test_test_sequences_are_humor_test_motion_at_30_hz(prepared) -> None:
    amass, out, _ = prepared
    sequences = {s.name: s for s in AmassDataset(out).sequences("test")}
    walk = "HumanEva/S1/Walking_1_poses"
    turn = "Transitions_mocap/mazen_c3d/walk_turn_stageii"
    assert set(sequences) == {walk, turn, "HumanEva/S1/Box_1_poses"}
    assert sequences["HumanEva/S1/Box_1_poses"].meta["humor_eval_excluded"] is True
    assert not sequences[walk].meta["humor_eval_excluded"]
    for name, relative, frames, step in (
        (walk, "HumanEva/S1/Walking_1_poses.npz", 400, 4),  # 120 Hz
        (turn, "Transitions/mazen_c3d/walk_turn_stageii.npz", 300, 2),  # 60 Hz
    ):
        sequence = sequences[name]
        low, high = int(0.1 * frames), int(0.9 * frames)
        source = source_poses(amass, relative)[low:high:step]
        assert sequence.fps == 30.0 and len(sequence) == len(source)
        expected = source[:, 3:66].astype(np.float32)
        assert np.array_equal(sequence.pose_body.reshape(-1, 63).numpy(), expected)
        assert torch.allclose(sequence.trans[0, :2], torch.zeros(2), atol=1e-6)


def test_humor_windows_are_non_overlapping_and_canonical(prepared) -> None:
    _, out, _ = prepared
    sequences = AmassDataset(out).sequences("test")
    windows = humor_windows(sequences, length=30)
    assert len(windows) == sum(len(s) // 30 for s in sequences)
    for window in windows:
        assert len(window) == 30 and window.fps == 30.0
        assert torch.allclose(window.trans[0, :2], torch.zeros(2), atol=1e-5)
    walk = [w for w in windows if w.name.startswith("HumanEva/S1/Walking_1")]
    assert [w.meta["start_frame"] for w in walk] == [0, 30]  # 80 frames -> two windows
    (whole,) = [s for s in sequences if s.name == "HumanEva/S1/Walking_1_poses"]
    assert torch.equal(walk[1].pose_body, whole.pose_body[30:60])


def test_a_100_hz_source_is_resampled_to_the_nearest_frames(prepared) -> None:
    amass, out, _ = prepared
    (mosh,) = [s for s in AmassDataset(out).sequences("val") if s.name.startswith("MPI_mosh")]
    source = source_poses(amass, "MoSh/50002/jumping_stageii.npz")[60:540]
    picked = resample_indices(480, 100.0)
    assert len(mosh) == len(picked) == 144
    expected = source[picked, 3:66].astype(np.float32)
    assert np.array_equal(mosh.pose_body.reshape(-1, 63).numpy(), expected)


def test_motion_of_an_unprepared_split_is_a_clear_error(prepared, tmp_path: Path) -> None:
    amass, out, _ = prepared
    with pytest.raises(InputError, match="motion for val, test only"):
        AmassDataset(out).sequences("train")
    prepare_amass(amass, tmp_path / "train", motion_splits=["train"])
    dataset = AmassDataset(tmp_path / "train")
    # CMU 02_05 and PosePrior's 90 frames are under 1 s at 30 Hz once trimmed
    names = [s.name for s in dataset.sequences("train")]
    assert names == ["BioMotionLab_NTroje/rub001/0001_walk_stageii", "CMU/01/01_01_poses"]
    with pytest.raises(InputError, match="motion for train only"):
        dataset.sequences("test")
    with pytest.raises(InputError, match="unknown motion split"):
        prepare_amass(amass, tmp_path / "bad", motion_splits=["tset"])


def test_summary_lines_name_counts_and_skips(prepared) -> None:
    _, _, summary = prepared
    text = "\n".join(summary_lines(summary))
    assert "poses: train" in text and "DanceDB" in text and "3 shape files" in text


def test_an_empty_split_is_a_one_line_error_naming_the_missing_sub_datasets(
    tmp_path: Path, capsys
) -> None:
    write_motion(tmp_path / "amass" / "CMU" / "01" / "a_poses.npz", 100)
    summary = prepare_amass(tmp_path / "amass", tmp_path / "out")
    warnings = [line for line in summary_lines(summary) if line.startswith("warning:")]
    assert any("pose split test is empty: none of SSM_synced, Transitions_mocap" in w
               for w in warnings)  # fmt: skip
    dataset = AmassDataset(tmp_path / "out")
    check_dataset(dataset)  # train still serves
    with pytest.raises(InputError, match="empty pose split 'test'.*SSM_synced, Transitions_mocap"):
        dataset.poses("test")
    with pytest.raises(InputError, match="empty motion split 'test'.*HumanEva, Transitions_mocap"):
        dataset.sequences("test")
    for task in ("sample", "interpolate"):  # these ended in a torch.cat traceback before
        code = main(["run", "--prior", "none", "--task", task, "--dataset", "amass",
                     "--amass-dir", str(tmp_path / "out"), "--quick", "--quiet",
                     "--out", str(tmp_path / "results")])  # fmt: skip
        err = capsys.readouterr().err
        assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1
        assert "empty" in err and "posebench data prepare amass" in err


def test_dataset_without_a_folder_says_where_to_get_amass(monkeypatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    with pytest.raises(InputError) as info:
        AmassDataset()
    assert str(info.value) == (
        "dataset 'amass' needs --amass-dir DIR or POSEBENCH_AMASS_DIR (AMASS is "
        "licence-restricted: download it from https://amass.is.tue.mpg.de)"
    )


def test_dataset_reads_the_environment_variable(prepared, monkeypatch) -> None:
    _, out, summary = prepared
    monkeypatch.setenv(ENV_VAR, str(out))
    assert AmassDataset().content_hash() == summary["content_hash"]


def test_a_raw_amass_folder_is_refused_with_the_prepare_command(prepared) -> None:
    amass, _, _ = prepared
    with pytest.raises(InputError, match="raw AMASS folder") as info:
        AmassDataset(amass)
    assert f"posebench data prepare amass --amass-dir {amass} --out DIR" in str(info.value)


def test_a_prepared_folder_with_a_damaged_array_is_refused(prepared, tmp_path: Path) -> None:
    amass, _, _ = prepared
    out = tmp_path / "out"
    prepare_amass(amass, out)
    data = (out / "poses_train.npy").read_bytes()
    (out / "poses_train.npy").write_bytes(data[: len(data) - 252])
    with pytest.raises(InputError, match="prepare"):
        AmassDataset(out).poses("train")


def test_amass_is_a_registered_dataset(prepared) -> None:
    import posebench

    assert "amass" in plugins.get_registry().names("dataset")
    _, out, _ = prepared
    dataset = posebench.load_dataset("amass", amass_dir=out)
    assert isinstance(dataset, AmassDataset)


def test_command_line_prepares_and_runs_on_amass(tmp_path: Path, capsys, toy_plugin) -> None:
    """`posebench data prepare amass` then `posebench run --dataset amass --amass-dir`."""
    from posebench.cli.main import main

    amass = make_tree(tmp_path / "amass")
    out = tmp_path / "prepared"
    assert (
        main(["data", "prepare", "amass", "--amass-dir", str(amass), "--out", str(out), "--quiet"])
        == 0
    )
    assert f"--amass-dir {out}" in capsys.readouterr().out
    code = main(["run", "--prior", "none", "--task", "toy-energy-gap", "--dataset", "amass",
                 "--amass-dir", str(out), "--body-model", "toy-stick", "--out", str(tmp_path / "r"), "--quiet"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert list((tmp_path / "r" / "amass").rglob("seed0.json"))
    code = main(["run", "--prior", "none", "--task", "toy-energy-gap", "--dataset", "amass",
                 "--amass-dir", str(amass), "--body-model", "toy-stick", "--out", str(tmp_path / "r")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "posebench data prepare amass" in err
