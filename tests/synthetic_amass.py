"""Synthetic AMASS-format folders of any size, for tests and the scaling benchmark.

The values are random (the format is what matters, not plausibility): SMPL+H ``*_poses.npz``
files with ``poses`` (F, 156), ``trans``, ``betas``, ``gender`` and ``mocap_framerate``, in the
sub-dataset folders of each split, written one file at a time so that generating a large folder
needs no more memory than one file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from posebench.datasets.amass import KEEP_RATE

#: Sub-dataset folders the generated poses go to: train (most), val and test (a fixed share).
TRAIN_FOLDERS = ("CMU", "KIT", "BMLrub")
HELD_OUT_FOLDERS = ("HumanEva", "Transitions")
FPS = 120.0


def frames_for_poses(train_poses: int) -> int:
    """Source frames whose VPoser sample (``KEEP_RATE`` of the middle 80 %) is about
    ``train_poses`` training poses."""
    return int(np.ceil(train_poses / (KEEP_RATE * 0.8)))


def write_synthetic_amass(
    root: Path, train_poses: int, frames_per_file: int = 3000, held_out_frames: int = 12000,
    seed: int = 0,
) -> dict[str, int]:  # fmt: skip
    """Write an AMASS-format folder under ``root`` with about ``train_poses`` training poses
    (after preparation) and ``held_out_frames`` frames of val/test motion; returns counts."""
    rng = np.random.default_rng(seed)
    counts = {"files": 0, "frames": 0}

    def write(folder: str, index: int, frames: int) -> None:
        path = root / folder / f"s{index // 50:03d}" / f"take{index:05d}_poses.npz"
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(
            path,
            poses=rng.normal(0.0, 0.3, (frames, 156)).astype(np.float32),
            trans=rng.normal(0.0, 1.0, (frames, 3)).astype(np.float32),
            betas=np.zeros(16, dtype=np.float32),
            gender=np.array("neutral"),
            mocap_framerate=np.array(FPS),
        )
        counts["files"] += 1
        counts["frames"] += frames

    remaining, index = frames_for_poses(train_poses), 0
    while remaining > 0:
        frames = min(frames_per_file, remaining)
        write(TRAIN_FOLDERS[index % len(TRAIN_FOLDERS)], index, max(frames, 10))
        remaining -= frames
        index += 1
    for folder in HELD_OUT_FOLDERS:
        for part in range(0, held_out_frames // 2, frames_per_file):
            write(folder, index, min(frames_per_file, held_out_frames // 2 - part))
            index += 1
    return counts
