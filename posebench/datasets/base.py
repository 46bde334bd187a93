"""The Dataset contract: named splits of poses and motion, with provenance and a content hash."""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch

from posebench.core.errors import CapabilityNotSupported, InputError, UnknownNameError, suggest

SPLITS: tuple[str, ...] = ("train", "val", "test")


@dataclass
class MotionSequence:
    """One motion: per-frame body pose, root orientation and translation at ``fps`` frames/s."""

    pose_body: torch.Tensor  # (T, 21, 3) local axis-angle
    root_orient: torch.Tensor  # (T, 3) axis-angle
    trans: torch.Tensor  # (T, 3) metres
    fps: float
    name: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.pose_body.shape[0])


class Dataset(abc.ABC):
    """A dataset. Subclasses set ``name`` and ``version`` and implement :meth:`poses` and
    :meth:`content_hash`; motion datasets also implement :meth:`sequences`.
    """

    name: ClassVar[str]
    version: ClassVar[str] = "0"
    splits: ClassVar[tuple[str, ...]] = SPLITS
    #: Frames (at the window rate) between the starts of motion tasks' windows when the task
    #: config leaves ``window.stride`` unset; None: windows do not overlap.
    window_stride: ClassVar[int | None] = None

    def check_split(self, split: str) -> str:
        """``split`` if this dataset has it, else a one-line error."""
        if split not in self.splits:
            raise UnknownNameError(
                f"dataset '{self.name}' has no split '{split}'{suggest(split, self.splits)}; "
                f"its splits: {', '.join(self.splits)}"
            )
        return split

    @abc.abstractmethod
    def poses(self, split: str) -> torch.Tensor:
        """All body poses of a split, ``(N, 21, 3)`` local axis-angle, float32."""

    def sequences(self, split: str) -> list[MotionSequence]:
        """The motion sequences of a split (for motion tasks). A sequence whose source did not
        capture every joint carries its (T, 22) bool mask as ``meta["observed"]``.
        """
        raise CapabilityNotSupported("dataset", self.name, "motion sequences")

    def native_sequences(self, split: str) -> list[MotionSequence]:
        """Every motion sequence of a split at its own rate, for windows taken at each source's
        native rate (``window.fps: null``). Default: :meth:`sequences`; a dataset whose
        :meth:`sequences` leaves out rates it cannot resample to the usual window rate serves
        them here too.
        """
        return self.sequences(split)

    def pose_clips(self, split: str) -> list[str] | None:
        """The clip each pose of :meth:`poses` comes from (poses of one clip are not independent
        of each other), or None when the dataset does not say (then each pose is its own unit).
        """
        return None

    def observed(self, split: str) -> torch.Tensor:
        """(N, 22) bool aligned with :meth:`poses`: the joints the source captured in each pose
        (SMPL-22 order, pelvis first). Default: every joint.
        """
        return torch.ones(len(self.poses(split)), 22, dtype=torch.bool)

    def observed_joints(self, split: str) -> torch.Tensor:
        """(22,) bool: the joints captured in every pose of a split; metrics use only these."""
        return self.observed(split).all(dim=0)

    @property
    def provenance(self) -> dict[str, Any]:
        """Where the data came from: source, licence, how it was built."""
        return {}

    def describe(self) -> list[dict[str, Any]]:
        """One record per clip (at least ``id``, ``package``, ``file``, ``licence``, ``motion``,
        ``frames``, ``fps``, ``seconds`` and ``split``), for ``posebench data describe``.
        """
        raise CapabilityNotSupported("dataset", self.name, "a per-clip description")

    @abc.abstractmethod
    def content_hash(self) -> str:
        """A hash of the data itself, stored in results so runs on different data never mix."""


def windows(
    sequence: MotionSequence, length: int, fps: float, stride: int | None = None
) -> list[MotionSequence]:
    """Cut ``sequence`` into windows of ``length`` frames at ``fps`` (an integer divisor of its
    rate), starting every ``stride`` frames (default: ``length``, no overlap).
    """
    ratio = sequence.fps / fps
    if ratio < 1 or abs(ratio - round(ratio)) > 1e-6:
        raise InputError(
            f"motion '{sequence.name}' at {sequence.fps} Hz cannot be resampled to {fps} Hz by "
            "dropping frames; choose a rate that divides it"
        )
    step = round(ratio)
    stride = stride or length
    pose, root, trans = (
        t[::step] for t in (sequence.pose_body, sequence.root_orient, sequence.trans)
    )
    out = []
    for start in range(0, int(pose.shape[0]) - length + 1, stride):
        part = slice(start, start + length)
        meta = {**sequence.meta, "start_frame": start * step, "source_fps": sequence.fps}
        out.append(
            MotionSequence(
                pose[part], root[part], trans[part], fps, f"{sequence.name}@{start}", meta
            )
        )
    return out
