"""The synthetic AMASS-format generator the scaling benchmark uses: its folders prepare like
real AMASS ones, to the number of training poses asked for."""

from __future__ import annotations

import numpy as np
from synthetic_amass import frames_for_poses, write_synthetic_amass

from posebench.datasets.amass_prepare import prepare_amass


def test_a_generated_folder_prepares_to_the_asked_training_poses(tmp_path):
    counts = write_synthetic_amass(tmp_path / "amass", 3000, frames_per_file=1000,
                                   held_out_frames=2400)  # fmt: skip
    assert counts["frames"] == frames_for_poses(3000) + 2400
    summary = prepare_amass(tmp_path / "amass", tmp_path / "prepared", seed=0)
    assert summary["counts"]["poses_total"]["train"] == 3000
    assert summary["counts"]["files_read"] == counts["files"]
    poses = np.load(tmp_path / "prepared" / "poses_train.npy", mmap_mode="r")
    assert poses.shape == (3000, 21, 3) and np.isfinite(poses).all()
    assert summary["counts"]["poses_total"]["test"] > 0  # held-out motion kinds too
