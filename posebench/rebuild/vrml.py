"""A small VRML97 reader for keyframed Transform hierarchies (3ds Max's VRML97 exporter).

What it reads (ISO/IEC 14772-1:1997, the subset such exports use):

* nested ``[DEF name] Transform { translation rotation scale scaleOrientation center children }``
  (``Group`` is a Transform without fields); a Transform's matrix is
  ``T·C·R·SR·S·SR⁻¹·C⁻¹`` and a child's is applied in its parent's frame, so a node's global
  matrix is ``M_parent · M_local``;
* ``TimeSensor`` (``cycleInterval``), ``PositionInterpolator`` and ``OrientationInterpolator``
  (``key``, ``keyValue``), wherever they sit;
* ``ROUTE A.value_changed TO B.set_translation`` (or ``set_rotation``, ``set_scale``,
  ``set_scaleOrientation``, ``set_center``) and ``ROUTE Timer.fraction_changed TO
  A.set_fraction`` lines that animate the Transforms.

Other nodes (``Shape`` and its geometry, which is most of such a file, viewpoints, lights...) are
skipped by matching their braces. Interpolation follows the standard: piecewise linear in the
keys, positions linearly, rotations along the shortest arc (slerp); before the first key the
first value holds, after the last the last. Rotations are ``x y z angle`` (axis, radians).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from posebench.core.errors import InputError

#: Transform fields an interpolator may drive, and the width of their values.
TRANSFORM_FIELDS: dict[str, int] = {
    "translation": 3,
    "rotation": 4,
    "scale": 3,
    "scaleOrientation": 4,
    "center": 3,
}
_DEFAULTS: dict[str, tuple[float, ...]] = {
    "translation": (0.0, 0.0, 0.0),
    "rotation": (0.0, 0.0, 1.0, 0.0),
    "scale": (1.0, 1.0, 1.0),
    "scaleOrientation": (0.0, 0.0, 1.0, 0.0),
    "center": (0.0, 0.0, 0.0),
}
_IGNORED_TRANSFORM_FIELDS = {"bboxCenter", "bboxSize"}
_INTERPOLATORS = {"PositionInterpolator": 3, "OrientationInterpolator": 4}
_TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*|[{}\[\]]|[^\s,{}\[\]"#]+|"')
_OPEN = {"{": "}", "[": "]"}


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class TransformNode:
    """A Transform as written: its DEF name, parent index (-1 at the top) and static fields."""

    name: str
    parent: int
    fields: Mapping[str, np.ndarray]  # every TRANSFORM_FIELDS entry, defaults filled in
    line: int


@dataclass(frozen=True)
class Interpolator:
    """A Position- or OrientationInterpolator: keys (K,) and values (K, 3) or (K, 4)."""

    name: str
    kind: str  # "PositionInterpolator" or "OrientationInterpolator"
    key: np.ndarray
    key_value: np.ndarray
    line: int


@dataclass(frozen=True)
class TimeSensor:
    """A TimeSensor: its cycle in seconds and whether it loops."""

    name: str
    cycle_interval: float
    loop: bool
    line: int


@dataclass(frozen=True)
class Route:
    """``ROUTE source.source_field TO target.target_field``."""

    source: str
    source_field: str
    target: str
    target_field: str
    line: int


@dataclass(frozen=True)
class Scene:
    """A parsed file: Transforms (parents before children), interpolators, timers and routes."""

    transforms: tuple[TransformNode, ...]
    interpolators: Mapping[str, Interpolator]
    timers: Mapping[str, TimeSensor]
    routes: tuple[Route, ...]
    path: str = ""
    #: (transform name, field) -> the interpolator that drives it, from the routes
    drivers: Mapping[tuple[str, str], str] = field(default_factory=dict)
    #: interpolator name -> the TimeSensor whose fraction drives it, from the routes
    clocks: Mapping[str, str] = field(default_factory=dict)

    @property
    def names(self) -> tuple[str, ...]:
        """Transform names in array order."""
        return tuple(t.name for t in self.transforms)

    @property
    def parents(self) -> tuple[int, ...]:
        """Parent index of each Transform, -1 for a top-level one."""
        return tuple(t.parent for t in self.transforms)

    def animated(self, name: str) -> tuple[str, ...]:
        """The fields of Transform ``name`` that an interpolator drives."""
        return tuple(f for f in TRANSFORM_FIELDS if (name, f) in self.drivers)


# --------------------------------------------------------------------------- tokens


class _Tokens:
    """The file's tokens with a cursor; line numbers are found only when needed."""

    def __init__(self, text: str, path: str) -> None:
        self.path = path
        self.items: list[str] = []
        self.offsets: list[int] = []
        self.newlines = [m.start() for m in re.finditer("\n", text)]
        self.pos = 0
        for match in _TOKEN.finditer(text):
            token = match.group()
            if token[0] == "#":
                continue
            self.items.append(token)
            self.offsets.append(match.start())
            if token == '"':
                raise self.error("unterminated string (a string must end on its line)", -1)

    def line(self, index: int | None = None) -> int:
        """1-based line of token ``index`` (default: the current one; past the end: the last)."""
        index = self.pos if index is None else index
        if not self.items:
            return 1
        offset = self.offsets[index if index < 0 else min(index, len(self.items) - 1)]
        return bisect.bisect_left(self.newlines, offset) + 1

    def error(self, message: str, index: int | None = None) -> InputError:
        return InputError(f"{self.path}, line {self.line(index)}: {message}")

    def peek(self) -> str | None:
        return self.items[self.pos] if self.pos < len(self.items) else None

    def next(self, what: str) -> str:
        if self.pos >= len(self.items):
            raise self.error(f"the file ends where {what} was expected; is it truncated?")
        token = self.items[self.pos]
        self.pos += 1
        return token

    def expect(self, token: str, what: str) -> None:
        start = self.pos
        found = self.next(what)
        if found != token:
            raise self.error(f"expected '{token}' {what}, found {found!r}", start)

    def skip_block(self, opening: int) -> None:
        """Skip past the bracket that closes the one at token ``opening`` (already consumed)."""
        stack = [self.items[opening]]
        starts = [opening]
        items, pos, count = self.items, self.pos, len(self.items)
        while stack:
            if pos >= count:
                raise self.error(
                    f"'{stack[-1]}' opened here is never closed; is the file truncated?", starts[-1]
                )
            token = items[pos]
            if token in _OPEN:
                stack.append(token)
                starts.append(pos)
            elif token in ("}", "]"):
                if token != _OPEN[stack[-1]]:
                    raise self.error(f"'{token}' closes the '{stack[-1]}' opened earlier", pos)
                stack.pop()
                starts.pop()
            pos += 1
        self.pos = pos


# --------------------------------------------------------------------------- parsing


def _numbers(tokens: _Tokens, start: int, values: list[str], what: str) -> np.ndarray:
    """The tokens as finite floats, or an error on the line of the first bad one."""
    try:
        array = np.array(values, dtype=np.float64)
    except ValueError:
        bad = next(k for k, v in enumerate(values) if not _is_number(v))
        raise tokens.error(f"{what} has a non-numeric value {values[bad]!r}", start + bad) from None
    if not np.isfinite(array).all():
        bad = int(np.flatnonzero(~np.isfinite(array))[0])
        raise tokens.error(f"{what} has a non-finite value {values[bad]!r}", start + bad)
    return array


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _value_tokens(tokens: _Tokens, what: str) -> tuple[int, list[str]]:
    """A field's plain value: a bracketed list, or the tokens up to the next field or '}'."""
    if tokens.peek() == "[":
        opening = tokens.pos
        tokens.pos += 1
        start = tokens.pos
        try:
            end = tokens.items.index("]", start)
        except ValueError:
            raise tokens.error(f"the '[' of {what} is never closed", opening) from None
        values = tokens.items[start:end]
        for k, value in enumerate(values):
            if value in ("[", "{", "}"):
                raise tokens.error(f"unexpected {value!r} inside the list of {what}", start + k)
        tokens.pos = end + 1
        return start, values
    start = tokens.pos
    values = []
    while (token := tokens.peek()) is not None and (_is_number(token) or token[0] == '"'):
        values.append(token)
        tokens.pos += 1
    return start, values


def _fixed(tokens: _Tokens, width: int, what: str) -> np.ndarray:
    start, values = _value_tokens(tokens, what)
    if len(values) != width:
        raise tokens.error(f"{what} needs {width} numbers, found {len(values)}", start)
    return _numbers(tokens, start, values, what)


def _word(tokens: _Tokens, what: str) -> str:
    start = tokens.pos
    token = tokens.next(what)
    if token in ("{", "}", "[", "]") or token[0] == '"' or _is_number(token):
        raise tokens.error(f"expected {what}, found {token!r}", start)
    return token


class _Parser:
    def __init__(self, tokens: _Tokens) -> None:
        self.t = tokens
        self.transforms: list[TransformNode] = []
        self.interpolators: dict[str, Interpolator] = {}
        self.timers: dict[str, TimeSensor] = {}
        self.routes: list[Route] = []
        self.defined: dict[str, int] = {}  # DEF name -> line

    def statements(self) -> None:
        t = self.t
        while (token := t.peek()) is not None:
            if token == "ROUTE":
                self.route()
            elif token in ("PROTO", "EXTERNPROTO"):
                raise t.error(f"{token} is not supported by this reader")
            elif token in ("}", "]"):
                raise t.error(f"'{token}' without a matching opening bracket")
            else:
                self.node(parent=-1)

    def route(self) -> None:
        t = self.t
        start = t.pos
        t.pos += 1
        source = t.next("a route source 'Node.field'")
        t.expect("TO", "between the two ends of a ROUTE")
        target = t.next("a route target 'Node.field'")
        ends = [end.split(".") for end in (source, target)]
        if any(len(parts) != 2 or not all(parts) for parts in ends):
            raise t.error("a ROUTE must read 'ROUTE Node.field TO Node.field'", start)
        (a, a_field), (b, b_field) = ends
        self.routes.append(Route(a, a_field, b, b_field, t.line(start)))

    def node(self, parent: int) -> None:
        """One node statement: [DEF name] Type { fields } or USE name; ``parent``: its Transform."""
        t = self.t
        start = t.pos
        name = ""
        word = _word(t, "a node")
        if word == "USE":
            _word(t, "the name after USE")
            return
        if word == "DEF":
            name = _word(t, "the name after DEF")
            if name in self.defined:
                raise t.error(
                    f"DEF {name} is used twice (also line {self.defined[name]}); names must be "
                    "unique for routes to be unambiguous",
                    start,
                )
            self.defined[name] = t.line(start)
            word = _word(t, f"the node type after DEF {name}")
        opening = t.pos
        t.expect("{", f"after the node type {word}")
        if word in ("Transform", "Group"):
            self.transform(name, word, parent, opening, t.line(start))
        elif word in _INTERPOLATORS:
            self.interpolator(name, word, opening, t.line(start))
        elif word == "TimeSensor":
            self.time_sensor(name, opening, t.line(start))
        else:
            t.skip_block(opening)

    def body_fields(self, opening: int, node: str) -> Iterator[str]:
        """Yield each field name of a node body; the caller reads its value."""
        t = self.t
        while True:
            token = t.peek()
            if token is None:
                raise t.error(
                    f"the '{{' of {node} is never closed; is the file truncated?", opening
                )
            if token == "}":
                t.pos += 1
                return
            if token == "ROUTE":  # the grammar allows routes inside node bodies
                self.route()
                continue
            yield _word(t, f"a field name in {node}")

    def skip_value(self) -> None:
        """Skip one field value we do not use (numbers, words, a list, a node)."""
        t = self.t
        token = t.peek()
        if token == "[":
            opening = t.pos
            t.pos += 1
            t.skip_block(opening)
            return
        if token is not None and (_is_number(token) or token[0] == '"' or token in _WORDS):
            while (token := t.peek()) is not None and (
                _is_number(token) or token[0] == '"' or token in _WORDS
            ):
                t.pos += 1
            return
        word = _word(t, "a field value")
        if word == "DEF":
            _word(t, "the name after DEF")
            word = _word(t, "a node type")
        opening = t.pos
        t.expect("{", f"after the node type {word}")
        t.skip_block(opening)

    def transform(self, name: str, kind: str, parent: int, opening: int, line: int) -> None:
        """A Transform or Group; its children are parsed with it as their parent."""
        t = self.t
        values = {key: np.array(value) for key, value in _DEFAULTS.items()}
        index = len(self.transforms)
        self.transforms.append(TransformNode(name, parent, values, line))  # children follow it
        for key in self.body_fields(opening, f"{kind} {name}".strip()):
            if key in TRANSFORM_FIELDS and kind == "Transform":
                values[key] = _fixed(t, TRANSFORM_FIELDS[key], f"{name or kind} {key}")
            elif key == "children":
                self.children(index)
            elif key in _IGNORED_TRANSFORM_FIELDS:
                self.skip_value()
            else:
                raise t.error(f"{kind} has no field {key!r} that this reader knows")

    def children(self, parent: int) -> None:
        t = self.t
        if t.peek() != "[":
            self.node(parent)
            return
        opening = t.pos
        t.pos += 1
        while (token := t.peek()) != "]":
            if token is None:
                raise t.error(
                    "the '[' of children is never closed; is the file truncated?", opening
                )
            self.node(parent)
        t.pos += 1

    def interpolator(self, name: str, kind: str, opening: int, line: int) -> None:
        t = self.t
        width = _INTERPOLATORS[kind]
        where = f"{kind} {name}".strip()
        key = np.zeros(0)
        key_value = np.zeros((0, width))
        for field_name in self.body_fields(opening, where):
            if field_name == "key":
                start, values = _value_tokens(t, f"{where} key")
                key = _numbers(t, start, values, f"{where} key")
            elif field_name == "keyValue":
                start, values = _value_tokens(t, f"{where} keyValue")
                if len(values) % width:
                    raise t.error(
                        f"{where} keyValue has {len(values)} numbers, not a multiple of {width}",
                        start,
                    )
                key_value = _numbers(t, start, values, f"{where} keyValue").reshape(-1, width)
            else:
                self.skip_value()
        if len(key) != len(key_value):
            raise InputError(
                f"{t.path}, line {line}: {where} has {len(key)} keys but {len(key_value)} "
                "keyValues; they must match one to one"
            )
        if len(key) == 0:
            raise InputError(f"{t.path}, line {line}: {where} has no keys")
        if np.any(np.diff(key) < 0):
            raise InputError(f"{t.path}, line {line}: {where} keys are not non-decreasing")
        if kind == "OrientationInterpolator":
            _check_axes(key_value, f"{t.path}, line {line}: {where} keyValue")
        self.interpolators[name] = Interpolator(name, kind, key, key_value, line)

    def time_sensor(self, name: str, opening: int, line: int) -> None:
        t = self.t
        cycle, loop = 1.0, False
        for field_name in self.body_fields(opening, f"TimeSensor {name}".strip()):
            if field_name == "cycleInterval":
                cycle = float(_fixed(t, 1, f"TimeSensor {name} cycleInterval")[0])
            elif field_name == "loop":
                start = t.pos
                value = t.next("TRUE or FALSE")
                if value not in _BOOLS:
                    raise t.error(f"loop must be TRUE or FALSE, not {value!r}", start)
                loop = value == "TRUE"
            else:
                self.skip_value()
        if not cycle > 0:
            raise InputError(f"{t.path}, line {line}: TimeSensor {name} cycleInterval must be > 0")
        self.timers[name] = TimeSensor(name, cycle, loop, line)


_BOOLS = ("TRUE", "FALSE")
_WORDS = (*_BOOLS, "NULL")


def _check_axes(rotations: np.ndarray, where: str) -> None:
    """Rotation axes must be non-zero unless the angle is zero."""
    norms = np.linalg.norm(rotations[..., :3], axis=-1)
    bad = (norms < 1e-12) & (rotations[..., 3] != 0)
    if np.any(bad):
        raise InputError(f"{where}: a rotation has a zero axis and a non-zero angle")


def _resolve(parser: _Parser, path: str) -> Scene:
    """Check the routes and index them: which interpolator drives which field, which timer which."""
    transforms = {t.name: t for t in parser.transforms if t.name}
    drivers: dict[tuple[str, str], str] = {}
    clocks: dict[str, str] = {}
    for route in parser.routes:
        where = f"{path}, line {route.line}"
        if route.source in parser.interpolators:
            interpolator = parser.interpolators[route.source]
            if route.source_field != "value_changed":
                raise InputError(f"{where}: an interpolator sends 'value_changed' only")
            if route.target not in transforms:
                raise InputError(
                    f"{where}: ROUTE target {route.target!r} is not a DEF'd Transform in the file"
                )
            target = route.target_field.removeprefix("set_").removesuffix("_changed")
            width = _INTERPOLATORS[interpolator.kind]
            if TRANSFORM_FIELDS.get(target) != width:
                raise InputError(
                    f"{where}: {interpolator.kind} {route.source} cannot drive "
                    f"{route.target}.{route.target_field}"
                )
            if (route.target, target) in drivers:
                raise InputError(f"{where}: {route.target}.{target} is driven twice")
            drivers[(route.target, target)] = route.source
        elif route.source in parser.timers:
            if route.target not in parser.interpolators:
                continue  # a timer may drive other things; they are not ours
            if route.source_field != "fraction_changed" or route.target_field != "set_fraction":
                raise InputError(f"{where}: expected 'Timer.fraction_changed TO X.set_fraction'")
            if route.target in clocks:
                raise InputError(f"{where}: {route.target} is driven by two TimeSensors")
            clocks[route.target] = route.source
        elif route.source not in parser.defined:
            raise InputError(f"{where}: ROUTE source {route.source!r} is not DEF'd in the file")
    return Scene(
        transforms=tuple(parser.transforms),
        interpolators=dict(parser.interpolators),
        timers=dict(parser.timers),
        routes=tuple(parser.routes),
        path=path,
        drivers=drivers,
        clocks=clocks,
    )


def parse_vrml(text: str, path: str = "VRML text") -> Scene:
    """Parse VRML97 text (see the module for the subset); ``path`` names it in errors."""
    if not text.lstrip().startswith("#VRML V2.0"):
        raise InputError(f"{path}: does not start with '#VRML V2.0'; is it a VRML97 file?")
    tokens = _Tokens(text, path)
    parser = _Parser(tokens)
    parser.statements()
    if not parser.transforms:
        raise InputError(f"{path}: has no Transform nodes")
    return _resolve(parser, path)


def read_vrml(path: str | Path) -> Scene:
    """Read a VRML97 file (see the module for the subset it understands)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}; check the path") from exc
    return parse_vrml(text, str(path))


# --------------------------------------------------------------------------- evaluation


def axis_angle_matrix(rotation: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) of VRML rotations (..., 4): axis x y z, angle in radians."""
    rotation = np.asarray(rotation, dtype=np.float64)
    axis = rotation[..., :3]
    norm = np.linalg.norm(axis, axis=-1, keepdims=True)
    axis = np.where(norm > 1e-12, axis / np.where(norm > 1e-12, norm, 1.0), [0.0, 0.0, 1.0])
    x, y, z = axis[..., 0], axis[..., 1], axis[..., 2]
    c, s = np.cos(rotation[..., 3]), np.sin(rotation[..., 3])
    t = 1.0 - c
    rows = (
        (t * x * x + c, t * x * y - s * z, t * x * z + s * y),
        (t * x * y + s * z, t * y * y + c, t * y * z - s * x),
        (t * x * z - s * y, t * y * z + s * x, t * z * z + c),
    )
    return np.stack([np.stack(row, axis=-1) for row in rows], axis=-2)


def _quaternions(rotation: np.ndarray) -> np.ndarray:
    """Unit quaternions (..., 4) as (w, x, y, z) of VRML rotations (..., 4)."""
    axis = rotation[..., :3]
    norm = np.linalg.norm(axis, axis=-1, keepdims=True)
    axis = np.where(norm > 1e-12, axis / np.where(norm > 1e-12, norm, 1.0), 0.0)
    half = rotation[..., 3:] / 2.0
    return np.concatenate([np.cos(half), np.sin(half) * axis], axis=-1)


def _rotations(quaternion: np.ndarray) -> np.ndarray:
    """VRML rotations (..., 4) of unit quaternions (..., 4) in (w, x, y, z)."""
    w = np.clip(quaternion[..., :1], -1.0, 1.0)
    axis = quaternion[..., 1:]
    norm = np.linalg.norm(axis, axis=-1, keepdims=True)
    angle = 2.0 * np.arctan2(norm, w)
    axis = np.where(norm > 1e-12, axis / np.where(norm > 1e-12, norm, 1.0), [0.0, 0.0, 1.0])
    return np.concatenate([axis, angle], axis=-1)


def interpolate(interpolator: Interpolator, fraction: np.ndarray) -> np.ndarray:
    """The interpolator's value at each fraction (F,): positions linearly, rotations by slerp."""
    fraction = np.asarray(fraction, dtype=np.float64)
    key, values = interpolator.key, interpolator.key_value
    if len(key) == 1:
        return np.broadcast_to(values[0], (*fraction.shape, values.shape[1])).copy()
    # the interval [key[i], key[i+1]) holding each fraction; equal keys make a step
    upper = np.clip(np.searchsorted(key, fraction, side="right"), 1, len(key) - 1)
    lower = upper - 1
    span = key[upper] - key[lower]
    weight = np.where(span > 0, (fraction - key[lower]) / np.where(span > 0, span, 1.0), 1.0)
    weight = np.clip(weight, 0.0, 1.0)[..., None]
    if interpolator.kind == "PositionInterpolator":
        return values[lower] * (1.0 - weight) + values[upper] * weight
    q0, q1 = _quaternions(values[lower]), _quaternions(values[upper])
    dot = np.sum(q0 * q1, axis=-1, keepdims=True)
    q1 = np.where(dot < 0, -q1, q1)  # the shortest arc
    dot = np.abs(dot)
    theta = np.arccos(np.clip(dot, -1.0, 1.0))
    small = theta < 1e-8
    sin = np.where(small, 1.0, np.sin(theta))
    a = np.where(small, 1.0 - weight, np.sin((1.0 - weight) * theta) / sin)
    b = np.where(small, weight, np.sin(weight * theta) / sin)
    q = a * q0 + b * q1
    q /= np.linalg.norm(q, axis=-1, keepdims=True)
    # on a key (and outside the keys) the value as written
    exact = np.where(weight == 0.0, values[lower], values[upper])
    return np.where((weight == 0.0) | (weight == 1.0), exact, _rotations(q))


def local_matrices(fields: Mapping[str, np.ndarray]) -> np.ndarray:
    """4×4 matrices (..., 4, 4) ``T·C·R·SR·S·SR⁻¹·C⁻¹`` from (batched) Transform field values."""
    translation = np.asarray(fields["translation"])
    batch = translation.shape[:-1]
    for name in TRANSFORM_FIELDS:
        batch = np.broadcast_shapes(batch, np.asarray(fields[name]).shape[:-1])
    rotation = axis_angle_matrix(fields["rotation"])
    scale_orientation = axis_angle_matrix(fields["scaleOrientation"])
    scale = np.asarray(fields["scale"])
    center = np.asarray(fields["center"])
    # linear part: R·SR·S·SR⁻¹; C⁻¹ and C fold into the translation
    linear = (
        rotation
        @ scale_orientation
        @ (scale[..., :, None] * np.swapaxes(scale_orientation, -1, -2))
    )
    offset = translation + center - (linear @ center[..., None])[..., 0]
    matrix = np.zeros((*batch, 4, 4))
    matrix[..., :3, :3] = linear
    matrix[..., :3, 3] = offset
    matrix[..., 3, 3] = 1.0
    return matrix


def field_values(scene: Scene, index: int, times: np.ndarray | None) -> dict[str, np.ndarray]:
    """Transform ``index``'s field values (F, width) at ``times`` seconds (None: as written)."""
    node = scene.transforms[index]
    if times is None:
        return {k: v[None] for k, v in node.fields.items()}
    values = {}
    for name, static in node.fields.items():
        driver = scene.drivers.get((node.name, name)) if node.name else None
        if driver is None:
            values[name] = np.broadcast_to(static, (len(times), len(static)))
            continue
        values[name] = interpolate(scene.interpolators[driver], fractions(scene, driver, times))
    return values


def fractions(scene: Scene, interpolator: str, times: np.ndarray) -> np.ndarray:
    """The fraction an interpolator receives at ``times`` seconds from its TimeSensor (start 0)."""
    clock = scene.clocks.get(interpolator)
    if clock is None:
        line = scene.interpolators[interpolator].line
        raise InputError(
            f"{scene.path}, line {line}: {interpolator} drives a Transform but no TimeSensor "
            "drives it (no 'ROUTE Timer.fraction_changed TO ...set_fraction')"
        )
    timer = scene.timers[clock]
    t = np.asarray(times, dtype=np.float64) / timer.cycle_interval
    if timer.loop:  # wrap, but keep the end of the first cycle at 1
        wrapped = t - np.floor(t)
        return np.where((wrapped == 0) & (t > 0), 1.0, wrapped)
    return np.clip(t, 0.0, 1.0)


def global_matrices(scene: Scene, times: np.ndarray | None = None) -> np.ndarray:
    """Global 4×4 matrices (F, N, 4, 4) of the Transforms at ``times`` s (None: as written)."""
    count = 1 if times is None else len(times)
    result = np.zeros((count, len(scene.transforms), 4, 4))
    for j, node in enumerate(scene.transforms):
        local = local_matrices(field_values(scene, j, times))
        result[:, j] = local if node.parent < 0 else result[:, node.parent] @ local
    return result
