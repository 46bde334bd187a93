"""What every motion source becomes before retargeting: a :class:`SourceClip` on its own skeleton,
and the :class:`SourceProfile` that says which of its joints drive which of the body's.

Each reader (ASF/AMC, BVH, the VRML range-of-motion take, DeepMimic JSON, Character Studio
markers) ends in a ``SourceClip``; :mod:`posebench.rebuild.retarget` turns any clip into body
motion with one method, so the sources differ only in how they are read and named.

Conventions shared by every clip:

* posebench's world axes: y up, the subject facing +z at rest, its left at +x; metres;
* a *rest pose* in which every rotation is the identity, given by ``rest`` (joint positions);
* ``rotations[f, j]`` is the global rotation of the segment that starts at joint ``j``, relative
  to the rest pose: a point ``p`` fixed to that segment at rest is at
  ``positions[f, j] + rotations[f, j] @ (p - rest[j])`` in frame ``f``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from posebench.core.errors import InputError


def file_error(path: str | Path, line: int | None, message: str) -> InputError:
    """The readers' one-line error: the file (and line, when known), then what is wrong."""
    where = f"{path}, line {line}" if line is not None else str(path)
    return InputError(f"{where}: {message}")


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) ranges of consecutive true frames, in order (kept or dropped stretches)."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], np.asarray(mask, dtype=int), [0]])))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


@dataclass(frozen=True)
class SourceClip:
    """A captured motion on the source's own skeleton, after forward kinematics (see module)."""

    joints: tuple[str, ...]
    parents: tuple[int, ...]  # index of each joint's parent, -1 for the root
    rest: np.ndarray  # (J, 3) joint positions in the rest pose, metres
    positions: np.ndarray  # (F, J, 3) joint positions, metres
    rotations: np.ndarray  # (F, J, 3, 3) global segment rotations relative to the rest pose
    fps: float
    path: str = ""
    #: Lower-limb joints the file itself declares one-dof hinges (elbows, knees): the hinge axis in
    #: world axes at rest, signed so that flexion is a positive rotation. Hinges not listed here
    #: are estimated from the motion by the retargeting.
    hinge_axes: Mapping[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        where = self.path or "motion source"
        count = len(self.joints)
        n = self.positions.shape[0] if self.positions.ndim == 3 else -1
        if (
            len(self.parents) != count
            or self.rest.shape != (count, 3)
            or self.positions.shape != (n, count, 3)
            or self.rotations.shape != (n, count, 3, 3)
        ):
            raise InputError(
                f"{where}: inconsistent skeleton arrays ({count} joints, rest {self.rest.shape}, "
                f"positions {self.positions.shape}, rotations {self.rotations.shape})"
            )
        if n == 0:
            raise InputError(f"{where}: the motion has no frames")
        if not (np.isfinite(self.positions).all() and np.isfinite(self.rotations).all()):
            raise InputError(f"{where}: the motion has non-finite values")
        if not self.fps > 0:
            raise InputError(f"{where}: frame rate {self.fps} is not positive")

    @property
    def n_frames(self) -> int:
        """Number of frames."""
        return int(self.positions.shape[0])

    def index(self, name: str) -> int:
        """Index of a joint, or a one-line error naming the file."""
        try:
            return self.joints.index(name)
        except ValueError:
            raise InputError(f"{self.path or 'motion source'}: has no joint '{name}'") from None

    def select(self, frames: np.ndarray | slice) -> SourceClip:
        """The same clip restricted to some frames (a boolean mask, indices or a slice)."""
        return SourceClip(
            joints=self.joints,
            parents=self.parents,
            rest=self.rest,
            positions=self.positions[frames],
            rotations=self.rotations[frames],
            fps=self.fps,
            path=self.path,
            hinge_axes=self.hinge_axes,
        )


@dataclass(frozen=True)
class SourceProfile:
    """How one kind of source skeleton drives the body's SMPL-22 joints.

    * ``drive``: SMPL joint -> the source joint(s) whose rotation it takes over (two: the
      rotation halfway between them). SMPL joints not driven and not in a chain are *unobserved*:
      they keep the identity local rotation and are marked so in the data.
    * ``segments``: SMPL joint -> (start, end) source joints whose rest direction is the segment
      the SMPL joint turns (the retargeting matches it to the body's). Joints at the end of a
      chain (head, feet, hands) use the fixed directions of the T-pose instead.
    * ``chains``: a driven SMPL joint -> the SMPL joints from just below its parent's level down to
      it, when the source has one joint where SMPL has several (one chest for three spine joints):
      the chain's total rotation is split evenly (by slerp) over them.
    * ``hips``, ``knees``, ``ankles``: (left, right) source joints; the hip line orients the pelvis,
      the hip centre places the body, thigh + shank lengths set the scale.
    * ``hinges``: SMPL elbow/knee -> the source joint that bends there.
    """

    name: str
    drive: Mapping[str, tuple[str, ...]]
    segments: Mapping[str, tuple[str, str]]
    hips: tuple[str, str]
    knees: tuple[str, str]
    ankles: tuple[str, str]
    hinges: Mapping[str, str]
    chains: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def required_joints(self) -> tuple[str, ...]:
        """Every source joint the profile names (a clip must have all of them)."""
        names = {j for joints in self.drive.values() for j in joints}
        names |= {j for pair in self.segments.values() for j in pair}
        names |= set(self.hips) | set(self.knees) | set(self.ankles) | set(self.hinges.values())
        return tuple(sorted(names))

    def check(self, clip: SourceClip) -> None:
        """A one-line error if ``clip`` lacks a joint this profile needs."""
        missing = [j for j in self.required_joints() if j not in clip.joints]
        if missing:
            raise InputError(
                f"{clip.path or 'motion source'}: lacks the joints {', '.join(missing)} that "
                f"the '{self.name}' retargeting needs; is it a {self.name} skeleton?"
            )
