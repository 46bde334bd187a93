"""What ``posebench view --input`` shows: bodies over frames, read from files or a dataset.

One input gives one or more bodies that share its frame axis:

* a projection-steps file (``posebench project --save-steps``: ``steps_pose_body`` (S+1, N, 63))
  or an interpolation file (``path_pose_body``): one body per pose, frames are the steps;
* an AMASS file (``poses``, ``trans``, ``mocap_framerate``): one body, z up;
* a motion or pose file (``pose_body``/``pose`` with optional ``root_orient``, ``trans``,
  ``joints``): one body whose frames are the file's rows; ``joints`` alone is a skeleton; a
  ``posebench fit-image`` file is one pose whose root is in the camera's frame (y down).

Files are read by :func:`posebench.datasets.pose_files.read_pose_file`, as ``posebench render``
reads them, so both accept the same files.
* a dataset name (``embedded``): one motion sequence of a split.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import torch

from posebench.core.errors import ConfigError, InputError

Up = Literal["auto", "y", "z"]


@dataclass
class Body:
    """One body over frames: axis-angle poses (with optional root), or joints alone."""

    label: str
    pose_body: torch.Tensor | None  # (T, 21, 3)
    root_orient: torch.Tensor | None = None  # (T, 3)
    trans: torch.Tensor | None = None  # (T, 3) metres
    joints: torch.Tensor | None = None  # (T, 22, 3), drawn as a skeleton when no poses
    world: str = "y"  # where root_orient/trans/joints live: a key of pose_files.WORLDS

    @property
    def z_up(self) -> bool:
        """Whether the body's world has z up (AMASS)."""
        return self.world == "z"

    def __len__(self) -> int:
        source = self.pose_body if self.pose_body is not None else self.joints
        return int(source.shape[0]) if source is not None else 0


@dataclass
class ViewInput:
    """The bodies of one ``--input``, with its frame rate and what a frame is ('frame', 'step')."""

    name: str
    bodies: list[Body]
    fps: float | None
    unit: str = "frame"


def read_input(
    spec: str, split: str = "test", sequence: int = 0, up: Up = "auto", max_bodies: int = 8
) -> ViewInput:
    """An existing file at ``spec``, else the dataset of that name; one-line errors otherwise."""
    path = Path(spec)
    if path.is_file():
        return read_file(path, up, max_bodies)
    from posebench.plugins import get_registry

    datasets = get_registry().names("dataset")
    if spec in datasets:
        return read_dataset(spec, split, sequence, up)
    raise InputError(
        f"input file {spec} does not exist; check --input (or name a dataset: "
        f"{', '.join(datasets)})"
    )


def read_file(path: Path, up: Up = "auto", max_bodies: int = 8) -> ViewInput:
    """The bodies of one npz file (see the module docstring for the kinds of file)."""
    from posebench.datasets.pose_files import file_meta, read_pose_file

    source = read_pose_file(path)
    if source.sequence is not None:
        return _steps(path, source.sequence[1], max_bodies)
    motion = source.motion
    assert motion is not None  # a file without a sequence is a motion
    if motion.frames == 0:
        raise InputError(f"{path} holds no poses")
    fps = motion.fps if motion.fps is not None else _positive(file_meta(source.arrays).get("fps"))
    world = motion.world if up == "auto" else up
    body = Body(path.name, motion.pose_body, motion.root_orient, motion.trans, motion.joints, world)
    return ViewInput(path.name, [body], fps)


def read_dataset(name: str, split: str, sequence: int, up: Up = "auto") -> ViewInput:
    """Motion sequence ``sequence`` of a dataset's ``split`` (AMASS is z up, the rest y up)."""
    from posebench.benchmark import components

    dataset = components.load_dataset(name)
    sequences = dataset.sequences(dataset.check_split(split))
    if not 0 <= sequence < len(sequences):
        raise ConfigError(
            f"--sequence {sequence} is out of range: dataset '{name}' has {len(sequences)} "
            f"motion sequences in split '{split}'"
        )
    seq = sequences[sequence]
    label = f"{name} {split}" + (f" ({seq.name})" if seq.name else "")
    world = "z" if up == "z" or (up == "auto" and name == "amass") else "y"
    body = Body(label, seq.pose_body, seq.root_orient, seq.trans, world=world)
    return ViewInput(label, [body], float(seq.fps))


def _steps(path: Path, pose: torch.Tensor, max_bodies: int) -> ViewInput:
    """One body per pose of a (S, N, 21, 3) steps or path sequence; frames are the steps."""
    total = pose.shape[1]
    count = min(total, max_bodies)
    bodies = [Body(f"{path.name} #{i}", pose[:, i].contiguous()) for i in range(count)]
    name = path.name if count == total else f"{path.name} (first {count} of {total} poses)"
    return ViewInput(name, bodies, None, unit="step")


def _positive(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and value > 0 else None
