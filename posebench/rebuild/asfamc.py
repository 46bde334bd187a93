"""Acclaim ASF/AMC motion capture reader and forward kinematics (CMU mocap format).

Conventions (the Acclaim ASF v1.10 text and VICON's notes; docs/embedded_data.md):

* ``axis a b c ORDER`` gives a bone's frame C: the angles a, b, c are about X, Y and Z, applied
  about fixed axes in ORDER, so ``XYZ`` means C = Rz·Ry·Rx.
* AMC values follow the bone's ``dof`` list (the root's ``order`` list); rotations are applied
  about fixed axes in that list's order, so ``rx ry rz`` gives M = Rz·Ry·Rx.
* A bone's world-aligned local rotation is L = C·M·C⁻¹ and its global rotation G = G_parent·L.
  Each bone starts at its parent's end and ends at start + G·direction·length.
* Root: translation = ``position`` + the AMC translation; rotation = O·M, where O comes from the
  root's ``orientation`` in its ``axis`` order (VICON always writes zeros there).
* Lengths: metres = value / ``units length`` × ``length_unit`` (CMU/VICON files: inches, 0.0254).
  Angles follow ``units angle`` (``deg`` or ``rad``); an AMC ``:DEGREES``/``:RADIANS`` header wins.

Everything returned is in metres and radians, in the file's world frame (CMU: Y up, faces +Z).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import NamedTuple

import numpy as np

from posebench.core.errors import InputError
from posebench.rebuild.source import file_error

INCH = 0.0254
ROTATION_DOFS = ("rx", "ry", "rz")
TRANSLATION_DOFS = ("tx", "ty", "tz")
BONE_DOFS = (*ROTATION_DOFS, *TRANSLATION_DOFS, "l")
_BONE_KEYWORDS = {
    "id",
    "name",
    "direction",
    "length",
    "axis",
    "dof",
    "limits",
    "bodymass",
    "cofmass",
}


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Units:
    """The ASF ``:units`` block and the metres one local length unit stands for."""

    mass: float = 1.0
    length: float = 1.0
    angle: str = "deg"
    length_unit: float = INCH

    @property
    def metres_per_value(self) -> float:
        """Multiply a file length by this to get metres."""
        return self.length_unit / self.length

    @property
    def radians_per_value(self) -> float:
        """Multiply a file angle by this to get radians."""
        return np.pi / 180.0 if self.angle == "deg" else 1.0


@dataclass(frozen=True)
class Bone:
    """One ASF bone in SI units. The root is a bone too: zero length, dofs from its ``order``."""

    name: str
    parent: str | None
    direction: np.ndarray  # (3,) unit vector in the world rest frame (as written when ~unit)
    length: float  # metres
    axis: np.ndarray  # (3,) radians about X, Y, Z
    axis_order: str  # e.g. "XYZ": the order the axis angles are applied in
    dofs: tuple[str, ...]  # e.g. ("rx", "ry", "rz"), the order of the AMC values
    limits: np.ndarray  # (len(dofs), 2) radians or metres; ±inf where the file gives none
    id: int | None = None


@dataclass(frozen=True)
class Skeleton:
    """A parsed ASF file: bones in file order with the root first, parents before children."""

    name: str
    units: Units
    bones: tuple[Bone, ...]
    root_position: np.ndarray  # (3,) metres, the root's preset ``position``
    path: str = ""
    version: str = ""
    documentation: str = ""
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {b.name: i for i, b in enumerate(self.bones)})

    @property
    def bone_names(self) -> tuple[str, ...]:
        """Bone names in array order (root first)."""
        return tuple(b.name for b in self.bones)

    @property
    def parents(self) -> np.ndarray:
        """Parent index of each bone (-1 for the root); parents always come before children."""
        return np.array([-1 if b.parent is None else self._index[b.parent] for b in self.bones])

    def index(self, name: str) -> int:
        """Array index of a bone by name."""
        return self._index[name]

    def bone(self, name: str) -> Bone:
        """A bone by name."""
        return self.bones[self._index[name]]


@dataclass(frozen=True)
class Motion:
    """A parsed AMC file: per-bone dof values (F, ndof) in radians / metres, in dof order."""

    dofs: dict[str, np.ndarray]
    frame_numbers: np.ndarray  # (F,) as written in the file
    fps: float = 120.0
    path: str = ""

    @property
    def n_frames(self) -> int:
        """Number of frames."""
        return len(self.frame_numbers)


class Kinematics(NamedTuple):
    """FK output: bone start and end points (F, B, 3) in metres, global rotations (F, B, 3, 3)."""

    bone_start: np.ndarray
    bone_end: np.ndarray
    global_rotation: np.ndarray


# --------------------------------------------------------------------------- tokenising


@dataclass
class _Line:
    number: int  # 1-based
    tokens: list[str]


def _read_lines(path: Path) -> list[_Line]:
    """Non-empty lines as tokens; '#' starts a comment, commas and parentheses are spaces."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}; check the path") from exc
    table = str.maketrans({",": " ", "(": " ", ")": " "})
    lines = []
    for number, raw in enumerate(text.splitlines(), start=1):
        tokens = raw.split("#", 1)[0].translate(table).split()
        if tokens:
            lines.append(_Line(number, tokens))
    return lines


_error = file_error


def _floats(path: Path, line: int, tokens: Sequence[str], count: int, what: str) -> np.ndarray:
    """Exactly `count` finite-or-infinite floats, else an InputError naming file and line."""
    if len(tokens) != count:
        raise _error(path, line, f"{what} needs {count} numbers, found {len(tokens)}")
    try:
        values = np.array([float(t) for t in tokens], dtype=np.float64)
    except ValueError:
        raise _error(
            path, line, f"{what} has a non-numeric value in {' '.join(tokens)!r}"
        ) from None
    if np.isnan(values).any():
        raise _error(path, line, f"{what} contains NaN")
    return values


# --------------------------------------------------------------------------- ASF


def _sections(path: Path, lines: list[_Line]) -> dict[str, tuple[_Line, list[_Line]]]:
    """Split the file at ':keyword' lines: keyword -> (its line, the lines up to the next one)."""
    sections: dict[str, tuple[_Line, list[_Line]]] = {}
    current: list[_Line] | None = None
    for line in lines:
        head = line.tokens[0]
        if head.startswith(":"):
            key = head[1:].lower()
            if key in sections:
                raise _error(path, line.number, f"section ':{key}' appears twice")
            current = []
            sections[key] = (line, current)
        elif current is None:
            raise _error(path, line.number, "text before the first ':keyword' section")
        else:
            current.append(line)
    return sections


def _parse_units(path: Path, body: list[_Line], length_unit: float) -> Units:
    values: dict[str, str] = {}
    for line in body:
        if len(line.tokens) != 2:
            raise _error(path, line.number, "a :units line must be 'mass|length|angle VALUE'")
        values[line.tokens[0].lower()] = line.tokens[1]
        if line.tokens[0].lower() in ("mass", "length"):
            number = _floats(path, line.number, line.tokens[1:], 1, f"units {line.tokens[0]}")[0]
            if not np.isfinite(number) or number <= 0:
                raise _error(path, line.number, f"units {line.tokens[0]} must be positive")
    angle = values.get("angle", "deg").lower()
    if angle not in ("deg", "rad"):
        raise _error(path, None, f"units angle must be 'deg' or 'rad', not {angle!r}")
    return Units(
        mass=float(values.get("mass", 1.0)),
        length=float(values.get("length", 1.0)),
        angle=angle,
        length_unit=length_unit,
    )


def _axis_order(path: Path, line: int, token: str) -> str:
    order = token.upper()
    if sorted(order) != ["X", "Y", "Z"]:
        raise _error(path, line, f"axis order must be a permutation of XYZ, not {token!r}")
    return order


def _parse_root(
    path: Path, header: _Line, body: list[_Line], units: Units
) -> tuple[Bone, np.ndarray]:
    """The root as a zero-length bone, and its preset position in metres."""
    fields = {line.tokens[0].lower(): line for line in body}
    if "order" not in fields:
        raise _error(
            path, header.number, ":root has no 'order' line; add e.g. 'order TX TY TZ RX RY RZ'"
        )
    order_line = fields["order"]
    dofs = tuple(t.lower() for t in order_line.tokens[1:])
    allowed = (*ROTATION_DOFS, *TRANSLATION_DOFS)
    bad = [d for d in dofs if d not in allowed]
    if bad or len(set(dofs)) != len(dofs):
        raise _error(path, order_line.number, f"root order must name distinct TX..RZ, not {dofs}")
    axis_order = "XYZ"
    if "axis" in fields:
        axis_order = _axis_order(path, fields["axis"].number, "".join(fields["axis"].tokens[1:]))
    vectors = {}
    for key in ("position", "orientation"):
        line = fields.get(key)
        vectors[key] = (
            np.zeros(3)
            if line is None
            else _floats(path, line.number, line.tokens[1:], 3, f"root {key}")
        )
    root = Bone(
        name="root",
        parent=None,
        direction=np.zeros(3),
        length=0.0,
        axis=vectors["orientation"] * units.radians_per_value,
        axis_order=axis_order,
        dofs=dofs,
        limits=np.tile([-np.inf, np.inf], (len(dofs), 1)),
    )
    return root, vectors["position"] * units.metres_per_value


def _bone_blocks(path: Path, body: list[_Line]) -> list[list[_Line]]:
    """The 'begin' ... 'end' blocks of :bonedata."""
    blocks: list[list[_Line]] = []
    current: list[_Line] | None = None
    for line in body:
        word = line.tokens[0].lower()
        if word == "begin":
            if current is not None:
                raise _error(
                    path, line.number, "'begin' inside a bone; the previous bone lacks 'end'"
                )
            current = []
        elif word == "end":
            if current is None:
                raise _error(path, line.number, "'end' without 'begin'")
            blocks.append(current)
            current = None
        elif current is None:
            raise _error(path, line.number, "bone data outside a 'begin' ... 'end' block")
        else:
            current.append(line)
    if current is not None:
        raise _error(path, body[-1].number, "the last bone has no 'end'")
    return blocks


def _bone_fields(path: Path, block: list[_Line]) -> dict[str, tuple[int, list[str]]]:
    """keyword -> (line of the keyword, its value tokens); values may continue on later lines."""
    fields: dict[str, tuple[int, list[str]]] = {}
    key: str | None = None
    for line in block:
        tokens = line.tokens
        if tokens[0].lower() in _BONE_KEYWORDS:
            key = tokens[0].lower()
            if key in fields:
                raise _error(path, line.number, f"'{key}' appears twice in one bone")
            fields[key] = (line.number, [])
            tokens = tokens[1:]
            if key == "name":  # a name is one token, whatever it spells
                fields[key][1].extend(tokens)
                key = None
                continue
        if key is None:
            raise _error(path, line.number, f"unexpected {tokens[0]!r} in bone data")
        fields[key][1].extend(tokens)
    return fields


def _parse_bone(path: Path, block: list[_Line], units: Units) -> Bone:
    first = block[0].number if block else None
    fields = _bone_fields(path, block)
    for required in ("name", "direction", "length"):
        if required not in fields:
            raise _error(path, first, f"a bone has no '{required}'")
    line, tokens = fields["name"]
    if len(tokens) != 1:
        raise _error(path, line, "'name' needs exactly one word")
    name = tokens[0]
    line, tokens = fields["direction"]
    direction = _floats(path, line, tokens, 3, f"bone {name} direction")
    norm = np.linalg.norm(direction)
    if not np.isfinite(norm):
        raise _error(path, line, f"bone {name} direction is not finite")
    if norm > 0 and abs(norm - 1.0) > 1e-3:  # unit as written (6 digits) is kept, to match others
        direction = direction / norm
    line, tokens = fields["length"]
    length = _floats(path, line, tokens, 1, f"bone {name} length")[0]
    if not np.isfinite(length) or length < 0:
        raise _error(path, line, f"bone {name} length must be finite and >= 0")
    axis, axis_order = np.zeros(3), "XYZ"
    if "axis" in fields:
        line, tokens = fields["axis"]
        if len(tokens) == 4:
            axis_order = _axis_order(path, line, tokens[3])
            tokens = tokens[:3]
        axis = _floats(path, line, tokens, 3, f"bone {name} axis")
    dofs: tuple[str, ...] = ()
    if "dof" in fields:
        line, tokens = fields["dof"]
        dofs = tuple(t.lower() for t in tokens)
        bad = [d for d in dofs if d not in BONE_DOFS]
        if bad or len(set(dofs)) != len(dofs):
            raise _error(path, line, f"bone {name} dof must be distinct names from {BONE_DOFS}")
    limits = np.tile([-np.inf, np.inf], (len(dofs), 1))
    if "limits" in fields:
        line, tokens = fields["limits"]
        limits = _floats(path, line, tokens, 2 * len(dofs), f"bone {name} limits").reshape(-1, 2)
        limits = limits * np.array([_dof_scale(d, units) for d in dofs])[:, None]
    bone_id = None
    if "id" in fields:
        line, tokens = fields["id"]
        bone_id = int(_floats(path, line, tokens, 1, f"bone {name} id")[0])
    return Bone(
        name=name,
        parent=None,
        direction=direction,
        length=float(length) * units.metres_per_value,
        axis=axis * units.radians_per_value,
        axis_order=axis_order,
        dofs=dofs,
        limits=limits,
        id=bone_id,
    )


def _dof_scale(dof: str, units: Units) -> float:
    """File value -> SI: radians for rotations, metres for translations and length."""
    return units.radians_per_value if dof in ROTATION_DOFS else units.metres_per_value


def _parse_hierarchy(path: Path, body: list[_Line], names: set[str]) -> dict[str, tuple[str, int]]:
    """child -> (parent, line) from the :hierarchy block."""
    parents: dict[str, tuple[str, int]] = {}
    for line in body:
        word = line.tokens[0].lower()
        if word in ("begin", "end"):
            continue
        for name in line.tokens:
            if name not in names:
                raise _error(path, line.number, f"unknown bone {name!r} in :hierarchy")
        if len(line.tokens) < 2:
            raise _error(path, line.number, "a :hierarchy line must be 'parent child [child ...]'")
        for child in line.tokens[1:]:
            if child == "root" or child in parents:
                raise _error(path, line.number, f"bone {child!r} is given a parent twice")
            parents[child] = (line.tokens[0], line.number)
    return parents


def _topological(path: Path, root: Bone, bones: list[Bone], parents: dict) -> tuple[Bone, ...]:
    """Root first, then bones in file order but each after its parent; cycles fail."""
    for bone in bones:
        if bone.name not in parents:
            raise _error(path, None, f"bone {bone.name!r} has no parent in :hierarchy")
    placed: dict[str, Bone] = {"root": root}
    pending = list(bones)
    while pending:
        remaining = []
        for bone in pending:
            parent = parents[bone.name][0]
            if parent in placed:
                placed[bone.name] = replace(bone, parent=parent)
            else:
                remaining.append(bone)
        if len(remaining) == len(pending):
            line = parents[remaining[0].name][1]
            raise _error(path, line, f"bone {remaining[0].name!r} is in a cycle in :hierarchy")
        pending = remaining
    return tuple(placed.values())


def read_asf(path: str | Path, length_unit: float = INCH) -> Skeleton:
    """Read an ASF skeleton; `length_unit` is metres per local unit (CMU/VICON ASF: inches)."""
    path = Path(path)
    if not length_unit > 0:
        raise InputError(f"{path}: length_unit must be positive metres per file unit")
    sections = _sections(path, _read_lines(path))
    if "root" not in sections:
        raise _error(path, None, "no ':root' section; is this an ASF skeleton file?")
    units = (
        _parse_units(path, sections["units"][1], length_unit)
        if "units" in sections
        else Units(length_unit=length_unit)
    )
    root, root_position = _parse_root(path, *sections["root"], units)
    bones = [
        _parse_bone(path, block, units)
        for block in _bone_blocks(path, sections.get("bonedata", (None, []))[1])
    ]
    names = [b.name for b in bones]
    duplicate = next((n for n in names if names.count(n) > 1 or n == "root"), None)
    if duplicate is not None:
        raise _error(path, None, f"bone name {duplicate!r} is used twice")
    parents = _parse_hierarchy(path, sections.get("hierarchy", (None, []))[1], {"root", *names})
    meta = {
        key: " ".join(sections[key][0].tokens[1:]) for key in ("name", "version") if key in sections
    }
    documentation = "\n".join(
        " ".join(line.tokens) for line in sections.get("documentation", (None, []))[1]
    )
    return Skeleton(
        name=meta.get("name", ""),
        units=units,
        bones=_topological(path, root, bones, parents),
        root_position=root_position,
        path=str(path),
        version=meta.get("version", ""),
        documentation=documentation,
    )


# --------------------------------------------------------------------------- AMC


def _amc_angle_scale(path: Path, headers: dict[str, int], skeleton: Skeleton) -> float:
    """Radians per AMC angle value: the file's :DEGREES/:RADIANS header, else the ASF units."""
    if "degrees" in headers and "radians" in headers:
        raise _error(path, headers["radians"], "both :DEGREES and :RADIANS are given")
    if "degrees" in headers:
        return np.pi / 180.0
    if "radians" in headers:
        return 1.0
    return skeleton.units.radians_per_value


def _amc_frames(
    path: Path, lines: list[_Line], skeleton: Skeleton
) -> tuple[dict[str, int], list[tuple[int, int, dict[str, list[float]]]]]:
    """Headers (name -> line) and frames as (frame number, line, bone -> raw values)."""
    headers: dict[str, int] = {}
    frames: list[tuple[int, int, dict[str, list[float]]]] = []
    known = {b.name: len(b.dofs) for b in skeleton.bones}
    for line in lines:
        tokens = line.tokens
        if tokens[0].startswith(":"):
            if frames:
                raise _error(path, line.number, f"header {tokens[0]} after the first frame")
            headers[tokens[0][1:].lower()] = line.number
            continue
        if len(tokens) == 1 and tokens[0] not in known:
            try:
                frames.append((int(tokens[0]), line.number, {}))
            except ValueError:
                raise _error(
                    path, line.number, f"unknown bone {tokens[0]!r} (not in the ASF)"
                ) from None
            continue
        name, values = tokens[0], tokens[1:]
        if name not in known:
            raise _error(path, line.number, f"unknown bone {name!r} (not in the ASF)")
        if not frames:
            raise _error(path, line.number, "bone values before the first frame number")
        if len(values) != known[name]:
            raise _error(
                path, line.number, f"bone {name} needs {known[name]} values, found {len(values)}"
            )
        bones = frames[-1][2]
        if name in bones:
            raise _error(path, line.number, f"bone {name} appears twice in frame {frames[-1][0]}")
        try:
            bones[name] = [float(v) for v in values]
        except ValueError:
            raise _error(path, line.number, f"non-numeric value for bone {name}") from None
    return headers, frames


def read_amc(path: str | Path, skeleton: Skeleton, fps: float = 120.0) -> Motion:
    """Read an AMC motion for `skeleton`; values come back in radians and metres, dof order."""
    path = Path(path)
    headers, frames = _amc_frames(path, _read_lines(path), skeleton)
    if not frames:
        raise _error(path, None, "no frames; is this an AMC motion file?")
    animated = [b for b in skeleton.bones if b.dofs]
    dofs = {b.name: np.empty((len(frames), len(b.dofs))) for b in animated}
    for i, (number, line, bones) in enumerate(frames):
        for bone in animated:
            if bone.name not in bones:
                raise _error(path, line, f"frame {number} has no values for bone {bone.name}")
            dofs[bone.name][i] = bones[bone.name]
    angle = _amc_angle_scale(path, headers, skeleton)
    for bone in animated:
        rotation = np.array([d in ROTATION_DOFS for d in bone.dofs])
        scale = np.where(rotation, angle, skeleton.units.metres_per_value)
        dofs[bone.name] = dofs[bone.name] * scale
        if not np.isfinite(dofs[bone.name]).all():
            raise _error(path, None, f"bone {bone.name} has NaN or infinite values")
    numbers = np.array([f[0] for f in frames])
    return Motion(dofs=dofs, frame_numbers=numbers, fps=float(fps), path=str(path))


def rest_motion(skeleton: Skeleton, n_frames: int = 1, fps: float = 120.0) -> Motion:
    """A motion with every dof at zero: forward kinematics of it gives the rest skeleton."""
    dofs = {b.name: np.zeros((n_frames, len(b.dofs))) for b in skeleton.bones if b.dofs}
    return Motion(dofs=dofs, frame_numbers=np.arange(1, n_frames + 1), fps=fps)


# --------------------------------------------------------------------------- kinematics


def _axis_rotation(letter: str, angle: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) about the X, Y or Z axis by `angle` radians (...)."""
    c, s = np.cos(angle), np.sin(angle)
    one, zero = np.ones_like(angle), np.zeros_like(angle)
    rows = {
        "x": ((one, zero, zero), (zero, c, -s), (zero, s, c)),
        "y": ((c, zero, s), (zero, one, zero), (-s, zero, c)),
        "z": ((c, -s, zero), (s, c, zero), (zero, zero, one)),
    }[letter.lower()]
    return np.stack([np.stack(row, axis=-1) for row in rows], axis=-2)


def _fixed_axes(letters: Sequence[str], angles: np.ndarray) -> np.ndarray:
    """Rotations about fixed axes applied in `letters` order: R = R_last ... R_first."""
    result = np.broadcast_to(np.eye(3), (*angles.shape[:-1], 3, 3))
    for k, letter in enumerate(letters):
        result = _axis_rotation(letter, angles[..., k]) @ result
    return result


def _axis_frame(bone: Bone) -> np.ndarray:
    """C from the bone's axis angles (about X, Y, Z), applied in its axis order."""
    slot = {"X": 0, "Y": 1, "Z": 2}
    return _fixed_axes(bone.axis_order, np.array([bone.axis[slot[a]] for a in bone.axis_order]))


def _dof_rotation(bone: Bone, values: np.ndarray | None, n: int) -> np.ndarray:
    """M (n, 3, 3) from the bone's rotation dofs, in dof order."""
    picks = [(k, d[1]) for k, d in enumerate(bone.dofs) if d in ROTATION_DOFS]
    if values is None or not picks:
        return np.broadcast_to(np.eye(3), (n, 3, 3))
    return _fixed_axes([a for _, a in picks], values[:, [k for k, _ in picks]])


def _root_translation(
    skeleton: Skeleton, bone: Bone, values: np.ndarray | None, n: int
) -> np.ndarray:
    translation = np.broadcast_to(skeleton.root_position, (n, 3)).copy()
    for k, dof in enumerate(bone.dofs):
        if dof in TRANSLATION_DOFS and values is not None:
            translation[:, TRANSLATION_DOFS.index(dof)] += values[:, k]
    return translation


def forward_kinematics(
    skeleton: Skeleton, motion: Motion, frames: Sequence[int] | slice | np.ndarray | None = None
) -> Kinematics:
    """Bone start/end points (F, B, 3) in metres and global rotations (F, B, 3, 3), bone order."""
    selection = slice(None) if frames is None else frames
    n = len(np.arange(motion.n_frames)[selection])
    count = len(skeleton.bones)
    start = np.zeros((n, count, 3))
    end = np.zeros((n, count, 3))
    rotation = np.zeros((n, count, 3, 3))
    for i, bone in enumerate(skeleton.bones):
        values = motion.dofs.get(bone.name)
        if bone.dofs and values is None:
            raise InputError(f"{motion.path or 'motion'}: no values for bone {bone.name}")
        values = None if values is None else np.asarray(values)[selection]
        frame = _axis_frame(bone)
        moving = _dof_rotation(bone, values, n)
        if bone.parent is None:
            rotation[:, i] = frame @ moving
            start[:, i] = end[:, i] = _root_translation(skeleton, bone, values, n)
            continue
        if any(d not in ROTATION_DOFS for d in bone.dofs):
            raise InputError(
                f"{skeleton.path or 'skeleton'}: bone {bone.name} has translation or length dofs, "
                "which forward_kinematics does not support; only the root may translate"
            )
        p = skeleton.index(bone.parent)
        rotation[:, i] = rotation[:, p] @ frame @ moving @ frame.T
        start[:, i] = end[:, p]
        end[:, i] = start[:, i] + rotation[:, i] @ (bone.direction * bone.length)
    return Kinematics(start, end, rotation)
