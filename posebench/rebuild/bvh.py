"""BVH (Biovision hierarchy) motion reader: a :class:`~posebench.rebuild.source.SourceClip`, and the
profile of CMU's cgspeed BVH conversion (:data:`CMU_BVH_PROFILE`).

Conventions (the Biovision format as written by MotionBuilder and the cgspeed CMU conversion):

* ``HIERARCHY``: one ``ROOT`` and nested ``JOINT`` blocks, each with an ``OFFSET`` (the joint's
  position in its parent's frame) and ``CHANNELS n name...``; an ``End Site`` block holds only an
  ``OFFSET`` (a segment's tip; kept in :attr:`Bvh.end_sites`, not a joint of the clip).
* ``MOTION``: ``Frames: N``, ``Frame Time: seconds``, then N rows, one value per channel in the
  order the CHANNELS lines appear (depth first). More rows than N are an error unless
  ``allow_extra_rows`` (assimp's ``Boxing_Toes.bvh`` declares 3069 and holds 3070).
* Rotation channels are Euler angles in degrees applied in the order listed, about the joint's
  own (rotating) axes: ``Zrotation Xrotation Yrotation`` gives the local rotation Rz·Rx·Ry.
* Every joint frame is world-aligned at zero channels, so the global rotation is the product of
  the locals from the root down and the rest pose (all channels zero) is the OFFSET pose: a
  joint is at ``parent + G_parent·(OFFSET + position channels)``; the root's parent is the world
  origin. (Readers differ on whether a root's position channels add to its OFFSET or replace it;
  the files read here have a zero root OFFSET, where the two agree.)
* Lengths: metres = value × ``length_unit``. The cgspeed CMU files keep the lengths of CMU's ASF
  skeletons (``:units length 0.45``: inches × 0.45), so :data:`CGSPEED_UNIT` = 0.0254 / 0.45.
  Other files need their own unit (e.g. 0.01 for centimetres).
* Axes: no change. The cgspeed CMU files are y up with the subject facing +z and its left at +x
  at rest, like CMU's ASF and posebench.
* cgspeed files start with one reference pose (near T-pose, same root position as the next row)
  that is not part of the take: ``clip.select(slice(CGSPEED_REFERENCE_FRAMES, None))`` drops it.
  The rest of a cgspeed file is CMU's ASF/AMC take frame for frame, with the same rest pose and
  global rotations, except that the conversion drops the lengths of ``thorax`` and the wrists:
  Neck and the shoulders sit at Spine1 (the upper body is 11.7 cm lower for subject 01), the
  finger bases at the hands.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from posebench.core.errors import InputError
from posebench.rebuild.asfamc import INCH
from posebench.rebuild.source import SourceClip, SourceProfile, file_error

#: Metres per length value in the cgspeed CMU BVH files (the ASF's inches × 0.45).
CGSPEED_UNIT = INCH / 0.45
#: Leading rows of a cgspeed CMU BVH file that hold its reference pose, not the take.
CGSPEED_REFERENCE_FRAMES = 1

POSITION_CHANNELS = ("Xposition", "Yposition", "Zposition")
ROTATION_CHANNELS = ("Xrotation", "Yrotation", "Zrotation")
_CHANNELS = {name.lower(): name for name in (*POSITION_CHANNELS, *ROTATION_CHANNELS)}
_FRAMES = re.compile(r"frames\s*:\s*(\S+)", re.IGNORECASE)
_FRAME_TIME = re.compile(r"frame\s+time\s*:\s*(\S+)", re.IGNORECASE)


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class BvhJoint:
    """One joint of the hierarchy, in file units: its parent, OFFSET and channels."""

    name: str
    parent: int  # index of the parent joint, -1 for the root
    offset: np.ndarray  # (3,) position in the parent's frame, file units
    channels: tuple[str, ...]  # e.g. ("Zrotation", "Xrotation", "Yrotation"), file order
    column: int  # index of its first channel in a motion row


@dataclass(frozen=True)
class Bvh:
    """A parsed BVH file: joints in file order (parents first) and the raw motion rows."""

    joints: tuple[BvhJoint, ...]
    end_sites: Mapping[str, np.ndarray]  # joint name -> its End Site OFFSET, file units
    frame_time: float  # seconds
    motion: np.ndarray  # (F, channels) as written: file length units and degrees
    path: str = ""
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {j.name: i for i, j in enumerate(self.joints)})

    @property
    def joint_names(self) -> tuple[str, ...]:
        """Joint names in array order (root first)."""
        return tuple(j.name for j in self.joints)

    @property
    def parents(self) -> tuple[int, ...]:
        """Parent index of each joint (-1 for the root); parents come before children."""
        return tuple(j.parent for j in self.joints)

    @property
    def n_frames(self) -> int:
        """Number of motion rows."""
        return int(self.motion.shape[0])

    @property
    def fps(self) -> float:
        """Frames per second from the frame time; snapped to a whole number within 0.01 %,
        since files print the frame time rounded (0.0083333 s is 120 fps)."""
        fps = 1.0 / self.frame_time
        whole = round(fps)
        return float(whole) if whole > 0 and abs(fps - whole) <= 1e-4 * fps else fps

    def index(self, name: str) -> int:
        """Array index of a joint, or a one-line error naming the file."""
        if name not in self._index:
            raise InputError(f"{self.path or 'BVH file'}: has no joint '{name}'")
        return self._index[name]


# --------------------------------------------------------------------------- tokenising


@dataclass(frozen=True)
class _Token:
    text: str
    line: int  # 1-based


_error = file_error


class _Tokens:
    """The hierarchy's words with their line numbers, read front to back."""

    def __init__(self, path: Path, tokens: list[_Token], end_line: int) -> None:
        self.path, self.tokens, self.end_line, self.at = path, tokens, end_line, 0

    def peek(self) -> _Token | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self, what: str) -> _Token:
        token = self.peek()
        if token is None:
            raise _error(self.path, self.end_line, f"the hierarchy ends where {what} should be")
        self.at += 1
        return token

    def expect(self, word: str, what: str) -> _Token:
        token = self.take(what)
        if token.text.lower() != word.lower():
            raise _error(self.path, token.line, f"expected {what}, found {token.text!r}")
        return token

    def name(self, keyword: _Token) -> str:
        """The joint name after ROOT/JOINT: the rest of its line (names may hold spaces)."""
        words = []
        while (token := self.peek()) is not None and token.line == keyword.line:
            if token.text == "{":
                break
            words.append(self.take("a name").text)
        if not words:
            raise _error(self.path, keyword.line, f"{keyword.text} has no joint name")
        return " ".join(words)

    def numbers(self, count: int, what: str) -> np.ndarray:
        values = [self.take(what) for _ in range(count)]
        return _floats(self.path, values[0].line, [v.text for v in values], what)


def _floats(path: Path, line: int, words: list[str], what: str) -> np.ndarray:
    """The words as finite floats, else a one-line error naming file and line."""
    try:
        values = np.array([float(w) for w in words], dtype=np.float64)
    except ValueError:
        raise _error(path, line, f"{what} has a non-numeric value in {' '.join(words)!r}") from None
    if not np.isfinite(values).all():
        raise _error(path, line, f"{what} has NaN or infinite values")
    return values


def _read_text(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8-sig", errors="replace").splitlines()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}; check the path") from exc


# --------------------------------------------------------------------------- HIERARCHY


@dataclass
class _Hierarchy:
    joints: list[BvhJoint] = field(default_factory=list)
    end_sites: dict[str, np.ndarray] = field(default_factory=dict)
    columns: int = 0


def _channels(tokens: _Tokens, joint: str) -> tuple[str, ...]:
    count_token = tokens.take(f"the channel count of {joint}")
    if not count_token.text.isdigit():
        raise _error(tokens.path, count_token.line, f"{joint}: CHANNELS needs a count first")
    names = []
    for _ in range(int(count_token.text)):
        token = tokens.take(f"a channel name of {joint}")
        if token.text.lower() not in _CHANNELS:
            raise _error(
                tokens.path,
                token.line,
                f"{joint}: unknown channel {token.text!r}; expected X/Y/Z position or rotation",
            )
        names.append(_CHANNELS[token.text.lower()])
    if len(set(names)) != len(names):
        raise _error(tokens.path, count_token.line, f"{joint}: a channel is listed twice")
    return tuple(names)


def _end_site(tokens: _Tokens, joint: str, out: _Hierarchy) -> None:
    keyword = tokens.take("End Site")
    tokens.expect("Site", "'Site' after 'End'")
    if joint in out.end_sites:
        raise _error(tokens.path, keyword.line, f"{joint} has a second End Site")
    tokens.expect("{", f"'{{' opening the End Site of {joint}")
    tokens.expect("OFFSET", f"OFFSET in the End Site of {joint}")
    out.end_sites[joint] = tokens.numbers(3, f"the End Site OFFSET of {joint}")
    tokens.expect("}", f"'}}' closing the End Site of {joint}")


def _joint(tokens: _Tokens, keyword: _Token, parent: int, out: _Hierarchy) -> None:
    """One ROOT/JOINT block and, recursively, its children."""
    name = tokens.name(keyword)
    if any(j.name == name for j in out.joints):
        raise _error(tokens.path, keyword.line, f"joint {name!r} appears twice")
    tokens.expect("{", f"'{{' after {keyword.text} {name}")
    offset: np.ndarray | None = None
    channels: tuple[str, ...] | None = None
    index = len(out.joints)
    out.joints.append(BvhJoint(name, parent, np.zeros(3), (), 0))  # placeholder: keeps order
    while True:
        token = tokens.peek()
        if token is None:
            raise _error(
                tokens.path, tokens.end_line, f"the hierarchy ends inside {name}; a '}}' is missing"
            )
        word = token.text.lower()
        if word == "offset":
            if offset is not None:
                raise _error(tokens.path, token.line, f"{name} has a second OFFSET")
            tokens.take("OFFSET")
            offset = tokens.numbers(3, f"the OFFSET of {name}")
        elif word == "channels":
            if channels is not None:
                raise _error(tokens.path, token.line, f"{name} has a second CHANNELS")
            tokens.take("CHANNELS")
            channels = _channels(tokens, name)  # values come in the order channels are declared
            out.joints[index] = BvhJoint(name, parent, np.zeros(3), channels, out.columns)
            out.columns += len(channels)
        elif word == "joint":
            _joint(tokens, tokens.take("JOINT"), index, out)
        elif word == "end":
            _end_site(tokens, name, out)
        elif word == "}":
            close = tokens.take("}")
            break
        else:
            raise _error(
                tokens.path,
                token.line,
                f"unknown keyword {token.text!r} in {name}; expected OFFSET, CHANNELS, JOINT, "
                "End Site or '}'",
            )
    if offset is None or channels is None:
        missing = "OFFSET" if offset is None else "CHANNELS"
        raise _error(tokens.path, close.line, f"joint {name} has no {missing} line")
    joint = out.joints[index]
    out.joints[index] = BvhJoint(name, parent, offset, joint.channels, joint.column)


def _parse_hierarchy(path: Path, lines: list[str], motion_line: int) -> _Hierarchy:
    """The joints of lines[: motion_line - 1] (HIERARCHY, one ROOT block)."""
    tokens = _Tokens(
        path,
        [
            _Token(word, number)
            for number, line in enumerate(lines[: motion_line - 1], start=1)
            for word in line.replace("{", " { ").replace("}", " } ").split()
        ],
        motion_line,
    )
    tokens.expect("HIERARCHY", "'HIERARCHY' at the start of a BVH file")
    out = _Hierarchy()
    _joint(tokens, tokens.expect("ROOT", "'ROOT' after HIERARCHY"), -1, out)
    extra = tokens.peek()
    if extra is not None:
        message = (
            "a second ROOT; only one skeleton per file is read"
            if extra.text.lower() == "root"
            else f"unexpected {extra.text!r} after the ROOT block; expected MOTION"
        )
        raise _error(path, extra.line, message)
    if out.columns == 0:
        raise _error(path, motion_line, "the hierarchy has no channels, so no motion")
    return out


# --------------------------------------------------------------------------- MOTION


def _header(path: Path, lines: list[str], at: int, pattern: re.Pattern[str], what: str) -> str:
    """The value of the `what:` line at 0-based `at` (blank lines skipped by the caller)."""
    if at >= len(lines):
        raise _error(path, len(lines), f"the file ends before the '{what}' line")
    match = pattern.fullmatch(lines[at].strip())
    if match is None:
        raise _error(path, at + 1, f"expected '{what} <number>', found {lines[at].strip()!r}")
    return match.group(1)


def _next_content(lines: list[str], at: int) -> int:
    while at < len(lines) and not lines[at].strip():
        at += 1
    return at


def _parse_motion(
    path: Path, lines: list[str], motion_line: int, columns: int, allow_extra_rows: bool
) -> tuple[float, np.ndarray]:
    """Frame time and the (F, columns) rows after the MOTION line (1-based `motion_line`)."""
    at = _next_content(lines, motion_line)
    text = _header(path, lines, at, _FRAMES, "Frames:")
    if not text.isdigit():
        raise _error(path, at + 1, f"Frames: needs a whole number, found {text!r}")
    count = int(text)
    if count == 0:
        raise _error(path, at + 1, "Frames: 0; the file has no motion")
    at = _next_content(lines, at + 1)
    text = _header(path, lines, at, _FRAME_TIME, "Frame Time:")
    frame_time = _floats(path, at + 1, [text], "Frame Time")[0]
    if not frame_time > 0:
        raise _error(path, at + 1, f"Frame Time must be a positive number of seconds, not {text}")
    rows = [(n, line.split()) for n, line in enumerate(lines[at + 1 :], start=at + 2)]
    rows = [(n, words) for n, words in rows if words]
    motion = np.empty((min(count, len(rows)), columns))
    for k, (n, words) in enumerate(rows[:count]):
        if len(words) != columns:
            raise _error(
                path,
                n,
                f"a motion row needs {columns} values (one per channel), found {len(words)}",
            )
        try:
            motion[k] = np.asarray(words, dtype=np.float64)
        except ValueError:
            motion[k] = _floats(path, n, words, "a motion row")  # raises with the line
    if len(rows) < count or (len(rows) > count and not allow_extra_rows):
        line = rows[-1][0] if rows else at + 1
        hint = (
            "; is the file truncated?"
            if len(rows) < count
            else (f"; allow_extra_rows=True reads the first {count}")
        )
        raise _error(
            path, line, f"Frames: says {count} but the file has {len(rows)} motion rows{hint}"
        )
    bad = ~np.isfinite(motion).all(axis=1)
    if bad.any():
        raise _error(path, rows[int(np.argmax(bad))][0], "a motion row has NaN or infinite values")
    return float(frame_time), motion


def parse_bvh(path: str | Path, allow_extra_rows: bool = False) -> Bvh:
    """Read a BVH file as written (file units, degrees); :func:`read_bvh` gives the clip.
    Rows beyond the ``Frames:`` count are an error unless `allow_extra_rows` (then dropped)."""
    path = Path(path)
    lines = _read_text(path)
    motion_line = next(
        (n for n, line in enumerate(lines, start=1) if line.strip().upper() == "MOTION"), None
    )
    if motion_line is None:
        raise _error(path, None, "no MOTION line; is this a BVH motion file?")
    hierarchy = _parse_hierarchy(path, lines, motion_line)
    frame_time, motion = _parse_motion(
        path, lines, motion_line, hierarchy.columns, allow_extra_rows
    )
    return Bvh(
        joints=tuple(hierarchy.joints),
        end_sites=hierarchy.end_sites,
        frame_time=frame_time,
        motion=motion,
        path=str(path),
    )


# --------------------------------------------------------------------------- kinematics


def _axis_rotation(axis: int, degrees: np.ndarray) -> np.ndarray:
    """Rotations (F, 3, 3) by `degrees` (F,) about world axis 0 (x), 1 (y) or 2 (z)."""
    angle = np.deg2rad(degrees)
    c, s = np.cos(angle), np.sin(angle)
    i, j = [(1, 2), (2, 0), (0, 1)][axis]  # the plane turned: i towards j
    result = np.zeros((len(angle), 3, 3))
    result[:, axis, axis] = 1.0
    result[:, i, i] = result[:, j, j] = c
    result[:, j, i], result[:, i, j] = s, -s
    return result


def local_rotations(joint: BvhJoint, motion: np.ndarray) -> np.ndarray:
    """(F, 3, 3) local rotation of a joint: its rotation channels composed in listed order."""
    result = np.broadcast_to(np.eye(3), (motion.shape[0], 3, 3))
    for k, channel in enumerate(joint.channels):
        if channel in ROTATION_CHANNELS:
            axis = ROTATION_CHANNELS.index(channel)
            result = result @ _axis_rotation(axis, motion[:, joint.column + k])
    return np.array(result)


def _translation(joint: BvhJoint, motion: np.ndarray) -> np.ndarray:
    """(F, 3) OFFSET plus the joint's position channels, file units."""
    result = np.tile(joint.offset, (motion.shape[0], 1))
    for k, channel in enumerate(joint.channels):
        if channel in POSITION_CHANNELS:
            result[:, POSITION_CHANNELS.index(channel)] += motion[:, joint.column + k]
    return result


def forward_kinematics(bvh: Bvh, motion: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Joint positions (F, J, 3) in file units and global rotations (F, J, 3, 3) of `motion`
    (default: the file's rows); an all-zero row gives the rest (OFFSET) pose."""
    rows = bvh.motion if motion is None else motion
    count = len(bvh.joints)
    positions = np.zeros((rows.shape[0], count, 3))
    rotations = np.zeros((rows.shape[0], count, 3, 3))
    for i, joint in enumerate(bvh.joints):
        local = local_rotations(joint, rows)
        step = _translation(joint, rows)
        if joint.parent < 0:
            positions[:, i], rotations[:, i] = step, local
            continue
        parent = rotations[:, joint.parent]
        positions[:, i] = positions[:, joint.parent] + np.einsum("fab,fb->fa", parent, step)
        rotations[:, i] = parent @ local
    return positions, rotations


def rest_positions(bvh: Bvh) -> np.ndarray:
    """(J, 3) joint positions of the rest pose (every channel zero), file units."""
    return forward_kinematics(bvh, np.zeros((1, bvh.motion.shape[1])))[0][0]


def to_clip(bvh: Bvh, length_unit: float = CGSPEED_UNIT) -> SourceClip:
    """The parsed file as a clip in metres (lengths × `length_unit`), posebench axes."""
    if not (np.isfinite(length_unit) and length_unit > 0):
        raise InputError(f"{bvh.path}: length unit {length_unit} must be a positive number")
    positions, rotations = forward_kinematics(bvh)
    return SourceClip(
        joints=bvh.joint_names,
        parents=bvh.parents,
        rest=rest_positions(bvh) * length_unit,
        positions=positions * length_unit,
        rotations=rotations,
        fps=bvh.fps,
        path=bvh.path,
    )


def read_bvh(
    path: str | Path, length_unit: float = CGSPEED_UNIT, allow_extra_rows: bool = False
) -> SourceClip:
    """Read a BVH file as a :class:`SourceClip` in metres (`length_unit`: metres per file unit;
    the default suits the cgspeed CMU conversion, use 0.01 for centimetres)."""
    return to_clip(parse_bvh(path, allow_extra_rows), length_unit)


# --------------------------------------------------------------------------- CMU profile


def _mirror(name: str) -> str:
    """The right-side counterpart of a left joint name (left_x, LeftX)."""
    for left, right in (("left_", "right_"), ("Left", "Right")):
        if name.startswith(left):
            return right + name[len(left) :]
    return name


def _sides(table: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """The table plus the mirrored right-side entry of every left one."""
    result = dict(table)
    for smpl, joints in table.items():
        if smpl.startswith("left_"):
            result[_mirror(smpl)] = tuple(_mirror(j) for j in joints)
    return result


#: SMPL joint -> the BVH joint(s) driving it (ASF bone -> BVH joint, see CMU_BVH_PROFILE).
_CMU_DRIVE = _sides(
    {
        "pelvis": ("Hips",),
        "left_hip": ("LeftUpLeg",),
        "spine1": ("LowerBack",),
        "left_knee": ("LeftLeg",),
        "spine2": ("Spine",),
        "left_ankle": ("LeftFoot",),
        "spine3": ("Spine1",),
        "left_foot": ("LeftToeBase",),
        "neck": ("Neck", "Neck1"),
        "left_collar": ("LeftShoulder",),
        "head": ("Head",),
        "left_shoulder": ("LeftArm",),
        "left_elbow": ("LeftForeArm",),
        "left_wrist": ("LeftHand",),
    }
)

#: SMPL joint -> (start, end) BVH joints of the segment it turns, at rest.
_CMU_SEGMENTS = _sides(
    {
        "left_hip": ("LeftUpLeg", "LeftLeg"),
        "left_knee": ("LeftLeg", "LeftFoot"),
        "left_ankle": ("LeftFoot", "LeftToeBase"),
        "spine1": ("LowerBack", "Spine"),
        "spine2": ("Spine", "Spine1"),
        "spine3": ("Spine", "Spine1"),  # Spine1 -> Neck has zero length (see the profile)
        "neck": ("Neck", "Head"),
        "left_collar": ("LeftShoulder", "LeftArm"),
        "left_shoulder": ("LeftArm", "LeftForeArm"),
        "left_elbow": ("LeftForeArm", "LeftHand"),
    }
)

#: cgspeed's CMU BVH skeleton driving SMPL-22, mirroring the ASF mapping of
#: :mod:`posebench.rebuild.retarget` (ASF bone -> BVH joint: root -> Hips, lhipjoint ->
#: LHipJoint, lfemur -> LeftUpLeg, ltibia -> LeftLeg, lfoot -> LeftFoot, ltoes -> LeftToeBase,
#: lowerback -> LowerBack, upperback -> Spine, thorax -> Spine1, lowerneck -> Neck, upperneck ->
#: Neck1, head -> Head, lclavicle -> LeftShoulder, lhumerus -> LeftArm, lradius -> LeftForeArm,
#: lwrist -> LeftHand). A BVH joint turns the segment from it to its child as an ASF bone turns
#: its own. The conversion drops the thorax's length (Neck and the shoulders sit at Spine1), so
#: spine3 takes its rest direction from Spine -> Spine1 (the thorax's is 2.5° away in CMU 01).
#: No hinge axes: BVH knees and elbows have three dofs, so the retargeting estimates them.
CMU_BVH_PROFILE = SourceProfile(
    name="CMU BVH (cgspeed)",
    drive=_CMU_DRIVE,
    segments={k: (v[0], v[1]) for k, v in _CMU_SEGMENTS.items()},
    hips=("LeftUpLeg", "RightUpLeg"),
    knees=("LeftLeg", "RightLeg"),
    ankles=("LeftFoot", "RightFoot"),
    hinges={
        "left_elbow": "LeftForeArm",
        "right_elbow": "RightForeArm",
        "left_knee": "LeftLeg",
        "right_knee": "RightLeg",
    },
)


# --------------------------------------------------------------------------- 21-joint profile

#: The 21-joint skeleton of assimp's ``BVH/Boxing_Toes.bvh`` (centimetres, a clean T-pose): two
#: spine joints for SMPL's three, so ``Chest`` drives spine3 and its rotation relative to ``Ab``
#: is split evenly over spine2 and spine3; head, wrists and toes end in End Sites, whose T-pose
#: directions are the body's.
BOXING_PROFILE = SourceProfile(
    name="21-joint BVH (Boxing_Toes)",
    drive={
        "pelvis": ("Hips",),
        "spine1": ("Ab",),
        "spine3": ("Chest",),
        "neck": ("Neck",),
        "head": ("Head",),
        **_sides(
            {
                "left_collar": ("LeftCollar",),
                "left_shoulder": ("LeftShoulder",),
                "left_elbow": ("LeftElbow",),
                "left_wrist": ("LeftWrist",),
                "left_hip": ("LeftHip",),
                "left_knee": ("LeftKnee",),
                "left_ankle": ("LeftAnkle",),
                "left_foot": ("LeftToes",),
            }
        ),
    },
    segments={
        "spine1": ("Ab", "Chest"),
        "spine3": ("Chest", "Neck"),
        "neck": ("Neck", "Head"),
        **{
            k: (v[0], v[1])
            for k, v in _sides(
                {
                    "left_collar": ("LeftCollar", "LeftShoulder"),
                    "left_shoulder": ("LeftShoulder", "LeftElbow"),
                    "left_elbow": ("LeftElbow", "LeftWrist"),
                    "left_hip": ("LeftHip", "LeftKnee"),
                    "left_knee": ("LeftKnee", "LeftAnkle"),
                    "left_ankle": ("LeftAnkle", "LeftToes"),
                }
            ).items()
        },
    },
    chains={"spine3": ("spine2", "spine3")},
    hips=("LeftHip", "RightHip"),
    knees=("LeftKnee", "RightKnee"),
    ankles=("LeftAnkle", "RightAnkle"),
    hinges={
        "left_elbow": "LeftElbow",
        "right_elbow": "RightElbow",
        "left_knee": "LeftKnee",
        "right_knee": "RightKnee",
    },
)
