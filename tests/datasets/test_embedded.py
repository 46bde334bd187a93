"""The shipped embedded dataset: licence-clean real motion split by whole clips, its observed
mask, provenance, windows and data file.
"""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from posebench import plugins
from posebench.benchmark import components
from posebench.body.anny import AnnyBody
from posebench.core.errors import InputError
from posebench.core.npzio import write_reproducible_npz
from posebench.datasets import embedded
from posebench.datasets.base import windows
from posebench.datasets.embedded import (
    CLIP_KEYS,
    DEFAULT_PATH,
    EmbeddedDataset,
    EmbeddedExtendedDataset,
    mirror_pose,
)
from posebench.rebuild import retarget as rt
from posebench.rebuild import retarget_report as measure
from posebench.testing import check_dataset


@pytest.fixture(scope="module")
def dataset() -> EmbeddedDataset:
    return EmbeddedDataset()


def test_shipped_file_loads_fast_with_per_clip_provenance(dataset: EmbeddedDataset) -> None:
    start = time.perf_counter()
    EmbeddedDataset()
    assert time.perf_counter() - start < 1.0
    assert DEFAULT_PATH.stat().st_size < 4 * 1024 * 1024
    records = dataset.meta["clips"]
    for record in records:
        assert all(record[k] not in (None, "") for k in CLIP_KEYS if k != "start"), record["id"]
        assert len(record["sha256"]) == 64 and len(record["package_sha256"]) == 64
        assert record["frames"] == pytest.approx(record["seconds"] * record["fps"], abs=1)
    # Tier A: at least 5 files from at least 3 sources, at least 15 motion kinds
    assert len({r["file"] for r in records}) >= 5
    assert len({r["package"] for r in records}) >= 3
    assert len({r["motion"] for r in records}) >= 15
    assert sum(r["seconds"] for r in records) > 130
    credited = [r for r in records if "cmu" in r["id"]]
    assert all("mocap.cs.cmu.edu" in r["credit"] for r in credited)


def test_splits_hold_whole_clips_and_no_test_motion_kind_is_in_train(
    dataset: EmbeddedDataset,
) -> None:
    split_of = {c.id: c.split for c in dataset.clips}
    assert len(split_of) == len(dataset.clips)  # one split per clip, never a time block
    kinds = {s: {c.motion for c in dataset.clips_of(s)} for s in dataset.splits}
    assert not kinds["test"] & kinds["train"]
    assert len(kinds["val"]) >= 3 and len(kinds["test"]) >= 3
    sources = {s: {c.record["package"] for c in dataset.clips_of(s)} for s in dataset.splits}
    assert sources["test"] - sources["train"] and sources["val"] - sources["train"]
    # train holds only fully observed clips: the shipped priors cannot ignore a joint
    assert bool(dataset.observed("train").all())
    assert not bool(dataset.observed_joints("test").all())  # DeepMimic: no collars, wrists, toes


def test_poses_sample_every_clip_at_up_to_30_hz_with_an_aligned_mask(
    dataset: EmbeddedDataset,
) -> None:
    for split in dataset.splits:
        clips = dataset.clips_of(split)
        expected = sum(len(range(0, c.frames, max(1, round(c.fps / 30)))) for c in clips)
        poses, observed = dataset.poses(split), dataset.observed(split)
        assert poses.shape == (expected, 21, 3) and observed.shape == (expected, 22)
        first = clips[0]
        torch.testing.assert_close(
            poses[:3], dataset._arrays["pose_body"][first.rows][:: first.pose_step()][:3]
        )
    # unobserved joints hold the identity local rotation
    test, mask = dataset.poses("test"), dataset.observed("test")
    assert float(test[~mask[:, 1:]].abs().max()) == 0.0


def test_windows_do_not_overlap_and_stay_inside_their_clip(dataset: EmbeddedDataset) -> None:
    total = 0
    for split in dataset.splits:
        for sequence in dataset.sequences(split):
            clip = next(c for c in dataset.clips if c.id == sequence.name)
            assert clip.has_motion() and sequence.fps % 30 == 0
            cut = windows(sequence, 60, 30, dataset.window_stride)
            starts = [w.meta["start_frame"] for w in cut]
            step = round(sequence.fps / 30)
            assert all(b - a >= 60 * step for a, b in itertools.pairwise(starts))
            assert all(s + 59 * step < clip.frames for s in starts)
            total += len(cut)
    assert total >= 10
    rates = {c.fps for c in dataset.clips if not c.has_motion()}
    assert rates and all(r % 30 for r in rates)  # 10, 16, 24 Hz clips give poses only


def test_contract_registry_and_hash(dataset: EmbeddedDataset) -> None:
    check_dataset(dataset)
    assert "embedded" in plugins.get_registry().names("dataset")
    loaded = components.load_dataset("embedded")
    assert isinstance(loaded, EmbeddedDataset)
    assert loaded.content_hash() == dataset.content_hash()
    assert EmbeddedDataset(mirror_train=True).content_hash() != dataset.content_hash()


def test_describe_lists_every_clip_with_the_keys_scripts_rely_on(dataset: EmbeddedDataset) -> None:
    described = dataset.describe()
    assert [d["id"] for d in described] == [c.id for c in dataset.clips]
    for d in described:
        assert {"package", "file", "licence", "motion", "frames", "fps", "split"} <= set(d)
    deepmimic = next(d for d in described if d["id"].startswith("deepmimic"))
    assert set(deepmimic["unobserved"]) == {
        "left_collar", "right_collar", "left_wrist", "right_wrist", "left_foot", "right_foot"
    }  # fmt: skip


def test_mirrored_train_split_reflects_the_body(dataset: EmbeddedDataset) -> None:
    """The mirrored pose's joints are the x-reflected joints of the original, left and right
    swapped; val and test are never mirrored.
    """
    mirrored = EmbeddedDataset(mirror_train=True)
    assert len(mirrored.poses("train")) == 2 * len(dataset.poses("train"))
    assert len(mirrored.sequences("test")) == len(dataset.sequences("test"))
    original, flipped = dataset.poses("train")[::97], mirror_pose(dataset.poses("train")[::97])
    body = AnnyBody()
    out, out_m = body(original), body(flipped)
    swap = list(range(22))
    for left, right in embedded._MIRROR_PAIRS:
        swap[left], swap[right] = right, left
    expected = out.joints[:, swap] * torch.tensor([-1.0, 1.0, 1.0])
    torch.testing.assert_close(out_m.joints, expected, atol=1e-5, rtol=0)
    torch.testing.assert_close(mirror_pose(flipped), original)


def test_every_clip_is_retargeted_exactly_and_stands_on_the_floor(
    dataset: EmbeddedDataset,
) -> None:
    """The build's own measurements, stored per clip: one-to-one segments within 0.2°, the median
    standing frame's lowest vertex within 1 cm of y = 0; elbows and knees hinges within 1° for
    every source with hinge joints (CMU, DeepMimic, the Biped). Segment frames built from markers
    carry forearm twist and knee axial rotation: reported, not removed.
    """
    for record in dataset.meta["clips"]:
        report = record["retarget_report"]
        assert report["one_to_one_max_deg"] < 0.2, record["id"]
        assert abs(report["feet"]["standing_median"]) < 0.01, record["id"]
        if record["retarget"]["profile"] != "markers":
            assert report["off_hinge_max_deg"] < 1.0, record["id"]


def test_shipped_elbows_and_knees_are_pure_hinges(dataset: EmbeddedDataset) -> None:
    """Recomputed from the stored float32 poses (not the build's report), train split."""
    body = AnnyBody()
    axes = {h.joint: rt.body_hinge_axis(body.rest_joints.double().numpy(), h) for h in rt.HINGES}
    pose = dataset.poses("train").double().numpy()
    residuals = measure.hinge_residuals(pose, axes)
    for joint, r in residuals.items():
        assert r["off_hinge_max"] < 1.0, joint
        assert r["hinge_angle_max"] > 100  # the elbows and knees do bend


def test_damaged_or_missing_file_gives_one_clear_line(tmp_path: Path) -> None:
    arrays, meta = embedded.load_embedded(DEFAULT_PATH)
    arrays["trans"] = arrays["trans"] + np.float32(0.01)
    damaged = tmp_path / "damaged.npz"
    write_reproducible_npz(damaged, {"meta": np.asarray(json.dumps(meta)), **arrays})
    with pytest.raises(InputError, match="corrupt .*build-embedded"):
        EmbeddedDataset(damaged)
    arrays, meta = embedded.load_embedded(DEFAULT_PATH)
    meta["clips"][1]["start"] += 1
    shifted = tmp_path / "shifted.npz"
    write_reproducible_npz(shifted, {"meta": np.asarray(json.dumps(meta)), **arrays})
    with pytest.raises(InputError, match="bad record"):
        EmbeddedDataset(shifted)
    with pytest.raises(InputError, match="does not exist"):
        EmbeddedDataset(tmp_path / "missing.npz")


def test_extended_dataset_adds_train_clips_and_keeps_val_and_test(
    dataset: EmbeddedDataset,
) -> None:
    extended = components.load_dataset("embedded-extended")
    assert isinstance(extended, EmbeddedExtendedDataset)
    check_dataset(extended)
    added = [c for c in extended.clips if c.id not in {d.id for d in dataset.clips}]
    assert [c.id for c in added] == ["boxing_toes"] and added[0].split == "train"
    assert "origin not stated" in added[0].record["licence"]
    for split in ("val", "test"):
        torch.testing.assert_close(extended.poses(split), dataset.poses(split), rtol=0, atol=0)
    assert len(extended.poses("train")) > len(dataset.poses("train"))
    assert bool(extended.observed("train").all())
    assert extended.content_hash() != dataset.content_hash()
    assert len(extended.describe()) == len(dataset.describe()) + 1
    assert set(extended.provenance["files"]) == {"embedded_motion.npz", "embedded_extended.npz"}
