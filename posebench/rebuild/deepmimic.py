"""DeepMimic humanoid motion clips (JSON keyframes) on the humanoid URDF, as a ``SourceClip``.

Format (DeepMimic's README and pybullet's ``humanoid_pose_interpolator.py``):

* A JSON object with ``"Loop"`` (``"wrap"``: cyclic, ``"none"``: plays once) and ``"Frames"``,
  a list of keyframes of 44 numbers: the keyframe's duration in seconds, the root position (3,
  metres, world), the root rotation (quaternion w, x, y, z, world), then chest, neck, right hip
  (quaternions), right knee (one angle, radians), right ankle, right shoulder (quaternions),
  right elbow (angle), and the same seven values for the left side. Spherical joints turn
  relative to their parent link; knees and elbows are revolute about their URDF ``axis``.
* The skeleton is pybullet's ``humanoid/humanoid.urdf``: joint origins in the parent link's frame,
  all world-aligned at the zero pose, which stands upright with the arms hanging down. pybullet's
  DeepMimic environment loads it with ``globalScaling=0.25``, so URDF lengths x 0.25 are metres
  (a 1.62 m tall figure) while the root positions in the clips are already metres.
* DeepMimic's world is y up; at the zero pose the character faces +x with its right side at +z.
  posebench faces +z with its left at +x: a rotation of -90° about y (:data:`TO_POSEBENCH`).

End points the URDF has no joint for, taken from its collision geometry: ``head_top`` (the top of
the neck link's sphere) and ``left_toe``/``right_toe`` (the front edge of the ankle link's foot
box, on its sole). The wrists are the URDF's fixed ``*_wrist`` joints at the ends of the forearms.
"""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from posebench.core.errors import InputError
from posebench.rebuild.source import SourceClip, SourceProfile

#: Metres per URDF length unit (pybullet's DeepMimic environment: ``globalScaling=0.25``).
URDF_SCALE = 0.25
#: Numbers in one keyframe.
FRAME_LENGTH = 44
LOOP_MODES = ("wrap", "none")
#: A quaternion whose norm lies outside this range is garbage rather than a rounding slip (the
#: shipped clips range from 0.58, hand-edited keys of the kick, to 1.12); the rest are normalised.
QUATERNION_NORM_RANGE = (0.5, 1.5)
#: DeepMimic world (y up, facing +x, right at +z) -> posebench world (facing +z, left at +x).
TO_POSEBENCH = np.array([[0.0, 0.0, -1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])

#: The joints a keyframe drives, in order, with where their values start and how many there are.
FRAME_LAYOUT: tuple[tuple[str, int, int], ...] = (
    ("chest", 8, 4),
    ("neck", 12, 4),
    ("right_hip", 16, 4),
    ("right_knee", 20, 1),
    ("right_ankle", 21, 4),
    ("right_shoulder", 25, 4),
    ("right_elbow", 29, 1),
    ("left_hip", 30, 4),
    ("left_knee", 34, 1),
    ("left_ankle", 35, 4),
    ("left_shoulder", 39, 4),
    ("left_elbow", 43, 1),
)
ROOT = "root"
HEAD_TOP = "head_top"
TOES = ("left_toe", "right_toe")
WRISTS = ("left_wrist", "right_wrist")
#: Hinges and the way the distal segment moves when they flex (posebench's forward is +z).
FLEXION_DIRECTION = {
    "left_knee": -1.0,
    "right_knee": -1.0,
    "left_elbow": 1.0,
    "right_elbow": 1.0,
}
_HINGE_CHILD = {
    "left_knee": "left_ankle",
    "right_knee": "right_ankle",
    "left_elbow": "left_wrist",
    "right_elbow": "right_wrist",
}


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Humanoid:
    """The URDF skeleton in DeepMimic axes and metres, parents before children.

    ``offsets[j]`` is joint ``j``'s position in its parent's link frame; ``kinds`` is the URDF
    joint type (``spherical``, ``revolute``, ``fixed``) or ``end`` for the points added from the
    collision geometry; ``axes[j]`` is a revolute joint's unit axis (zero for the others).
    """

    joints: tuple[str, ...]
    parents: tuple[int, ...]
    offsets: np.ndarray  # (J, 3)
    kinds: tuple[str, ...]
    axes: np.ndarray  # (J, 3)
    path: str = ""

    def index(self, name: str) -> int:
        """Index of a joint, or a one-line error naming the URDF."""
        try:
            return self.joints.index(name)
        except ValueError:
            raise InputError(f"{self.path or 'humanoid URDF'}: has no joint '{name}'") from None

    def rest(self) -> np.ndarray:
        """(J, 3) joint positions at the zero pose with the root at the origin, DeepMimic axes."""
        rest = np.zeros((len(self.joints), 3))
        for j, parent in enumerate(self.parents):
            if parent >= 0:
                rest[j] = rest[parent] + self.offsets[j]
        return rest


@dataclass(frozen=True)
class DeepMimicMotion:
    """A parsed clip: keyframes on a regular time grid with unit quaternions (DeepMimic axes).

    ``durations`` are the keyframe durations as written; ``inserted`` counts the frames added by
    interpolation where a keyframe lasts a whole number of regular steps (see
    :func:`read_deepmimic_motion`).
    """

    frames: np.ndarray  # (F, 44); column 0 is the regular step
    fps: float
    loop: str
    durations: np.ndarray  # (K,) as written
    inserted: int = 0
    path: str = ""

    @property
    def n_frames(self) -> int:
        """Number of frames on the regular grid."""
        return int(self.frames.shape[0])


# --------------------------------------------------------------------------- URDF


def _floats(path: Path, text: str | None, count: int, what: str) -> np.ndarray:
    """``count`` finite numbers from an attribute (absent: zeros), else a one-line error."""
    if text is None:
        return np.zeros(count)
    try:
        values = np.array([float(t) for t in text.split()])
    except ValueError:
        raise InputError(f"{path}: {what} has a non-numeric value in {text!r}") from None
    if values.shape != (count,) or not np.isfinite(values).all():
        raise InputError(f"{path}: {what} needs {count} finite numbers, found {text!r}")
    return values


def _parse_xml(path: Path) -> ET.Element:
    """The URDF's root element; NUL bytes (the shipped file ends in one) are dropped."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}; check the path") from exc
    try:
        text = data.replace(b"\0", b"").decode("utf-8")
        root = ET.fromstring(text)
    except UnicodeDecodeError:
        raise InputError(f"{path}: is not UTF-8 text; is it a URDF file?") from None
    except ET.ParseError as exc:
        line = exc.position[0]
        raise InputError(f"{path}, line {line}: malformed XML; is it a URDF file?") from None
    if root.tag != "robot":
        raise InputError(f"{path}: the root element is <{root.tag}>, not <robot>; not a URDF")
    return root


def _origin(path: Path, element: ET.Element, what: str) -> np.ndarray:
    """xyz of an element's <origin>; a rotated origin is not supported (the humanoid has none)."""
    origin = element.find("origin")
    if origin is None:
        return np.zeros(3)
    rpy = _floats(path, origin.get("rpy"), 3, f"{what} origin rpy")
    if np.abs(rpy).max() > 1e-9:
        raise InputError(
            f"{path}: {what} has a rotated origin (rpy {rpy.tolist()}); only "
            "world-aligned joint frames are supported"
        )
    return _floats(path, origin.get("xyz"), 3, f"{what} origin xyz")


def _collision(
    path: Path, link: ET.Element | None, shape: str, what: str
) -> tuple[ET.Element, np.ndarray]:
    """The first <collision> of ``link`` with a ``shape`` geometry: (shape element, origin xyz)."""
    for collision in [] if link is None else link.findall("collision"):
        element = collision.find(f"geometry/{shape}")
        if element is not None:
            return element, _origin(path, collision, what)
    raise InputError(f"{path}: {what} has no <collision> {shape}; cannot place the end point")


@dataclass
class _Joint:
    name: str
    kind: str
    parent_link: str
    child_link: str
    offset: np.ndarray
    axis: np.ndarray


def _read_joints(path: Path, robot: ET.Element) -> list[_Joint]:
    joints = []
    for element in robot.findall("joint"):
        name = element.get("name") or ""
        kind = element.get("type") or ""
        parent, child = element.find("parent"), element.find("child")
        if not name or parent is None or child is None:
            raise InputError(f"{path}: a <joint> lacks a name, <parent> or <child>")
        if kind == "continuous":
            kind = "revolute"
        if kind not in ("spherical", "revolute", "fixed"):
            raise InputError(
                f"{path}: joint '{name}' has type {kind!r}; only spherical, "
                "revolute, continuous and fixed joints are supported"
            )
        axis = np.zeros(3)
        if kind == "revolute":
            tag = element.find("axis")
            axis = _floats(
                path, "1 0 0" if tag is None else tag.get("xyz"), 3, f"joint '{name}' axis"
            )
            if np.linalg.norm(axis) < 1e-9:
                raise InputError(f"{path}: joint '{name}' has a zero axis")
            axis = axis / np.linalg.norm(axis)
        joints.append(
            _Joint(
                name,
                kind,
                parent.get("link") or "",
                child.get("link") or "",
                _origin(path, element, f"joint '{name}'"),
                axis,
            )
        )
    return joints


def _ordered(path: Path, joints: list[_Joint]) -> list[tuple[_Joint, int]]:
    """Joints with their parent joint's index (-1 at the base), parents first; one tree only."""
    children = [j.child_link for j in joints]
    duplicate = next((c for c in children if children.count(c) > 1), None)
    if duplicate is not None:
        raise InputError(f"{path}: link '{duplicate}' is the child of two joints")
    bases = {j.parent_link for j in joints} - set(children)
    if len(bases) != 1:
        raise InputError(f"{path}: expected one base link, found {sorted(bases)}")
    placed: dict[str, int] = {bases.pop(): -1}  # link -> index of the joint that ends in it
    ordered: list[tuple[_Joint, int]] = []
    pending = joints
    while pending:
        remaining = []
        for joint in pending:
            if joint.parent_link in placed:
                ordered.append((joint, placed[joint.parent_link]))
                placed[joint.child_link] = len(ordered) - 1
            else:
                remaining.append(joint)
        if len(remaining) == len(pending):
            raise InputError(f"{path}: joint '{remaining[0].name}' is not connected to the base")
        pending = remaining
    return ordered


def _check_joint_kinds(path: Path, kinds: dict[str, str]) -> None:
    """The joints a keyframe drives (of the right type), the root and the wrists must exist."""
    wanted = {ROOT: "fixed", WRISTS[0]: "fixed", WRISTS[1]: "fixed"}
    wanted |= {name: "spherical" if count == 4 else "revolute" for name, _, count in FRAME_LAYOUT}
    for name, kind in wanted.items():
        if name not in kinds:
            raise InputError(f"{path}: has no joint '{name}'; is it the DeepMimic humanoid?")
        if kinds[name] != kind:
            raise InputError(
                f"{path}: joint '{name}' is {kinds[name]}, the DeepMimic humanoid needs it {kind}"
            )


def read_humanoid_urdf(path: str | Path, scale: float = URDF_SCALE) -> Humanoid:
    """Read the DeepMimic humanoid URDF (lengths x ``scale`` = metres) and add its end points."""
    path = Path(path)
    if not scale > 0:
        raise InputError(f"{path}: scale must be positive metres per URDF unit")
    robot = _parse_xml(path)
    joints = _read_joints(path, robot)
    names = [joint.name for joint in joints]
    twice = next((n for n in names if names.count(n) > 1), None)
    if twice is not None:
        raise InputError(f"{path}: joint name '{twice}' is used twice")
    _check_joint_kinds(path, {joint.name: joint.kind for joint in joints})
    ordered = _ordered(path, joints)
    names = [joint.name for joint, _ in ordered]
    kinds = [joint.kind for joint, _ in ordered]
    at_base = [name for (_, parent), name in zip(ordered, names, strict=True) if parent == -1]
    if at_base != [ROOT]:
        raise InputError(
            f"{path}: the base link must have exactly one joint, '{ROOT}', not {at_base}"
        )
    parents = [parent for _, parent in ordered]
    offsets = [joint.offset for joint, _ in ordered]
    axes = [joint.axis for joint, _ in ordered]
    links = {link.get("name"): link for link in robot.findall("link")}
    neck = ordered[names.index("neck")][0]
    sphere, centre = _collision(
        path, links.get(neck.child_link), "sphere", f"link '{neck.child_link}'"
    )
    radius = _floats(path, sphere.get("radius"), 1, "the head sphere radius")[0]
    ends = [(HEAD_TOP, "neck", centre + np.array([0.0, radius, 0.0]))]
    for toe, ankle in zip(TOES, ("left_ankle", "right_ankle"), strict=True):
        link = ordered[names.index(ankle)][0].child_link
        box, centre = _collision(path, links.get(link), "box", f"link '{link}'")
        size = _floats(path, box.get("size"), 3, f"the foot box of link '{link}'")
        ends.append((toe, ankle, centre + np.array([size[0] / 2, -size[1] / 2, 0.0])))
    for name, parent, offset in ends:
        names.append(name)
        kinds.append("end")
        parents.append(names.index(parent))
        offsets.append(offset)
        axes.append(np.zeros(3))
    return Humanoid(
        joints=tuple(names),
        parents=tuple(parents),
        offsets=np.array(offsets) * scale,
        kinds=tuple(kinds),
        axes=np.array(axes),
        path=str(path),
    )


# --------------------------------------------------------------------------- motion


def _load_json(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}; check the path") from exc
    except UnicodeDecodeError:
        raise InputError(f"{path}: is not UTF-8 text; is it a DeepMimic motion?") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{path}, line {exc.lineno}: not valid JSON ({exc.msg}); is it a DeepMimic motion?"
        ) from None
    if not isinstance(data, dict) or "Frames" not in data:
        raise InputError(f"{path}: no 'Frames' list; is it a DeepMimic motion?")
    return data


def _frame_array(path: Path, frames: object) -> np.ndarray:
    """(K, 44) floats, or a one-line error naming the keyframe."""
    if not isinstance(frames, list) or not frames:
        raise InputError(f"{path}: 'Frames' must be a non-empty list of keyframes")
    for k, frame in enumerate(frames):
        if not isinstance(frame, list) or len(frame) != FRAME_LENGTH:
            found = len(frame) if isinstance(frame, list) else type(frame).__name__
            raise InputError(
                f"{path}: keyframe {k} has {found} values, a DeepMimic humanoid "
                f"keyframe has {FRAME_LENGTH}"
            )
        bad = next(
            (v for v in frame if isinstance(v, bool) or not isinstance(v, int | float)), None
        )
        if bad is not None:
            raise InputError(f"{path}: keyframe {k} has a non-numeric value {bad!r}")
    values = np.array(frames, dtype=np.float64)
    bad_frames = np.flatnonzero(~np.isfinite(values).all(axis=1))
    if bad_frames.size:
        raise InputError(f"{path}: keyframe {bad_frames[0]} has NaN or infinite values")
    return values


def _quaternion_columns() -> list[int]:
    return [1 + 3] + [start for _, start, count in FRAME_LAYOUT if count == 4]


def _normalise(path: Path, values: np.ndarray) -> np.ndarray:
    """Unit quaternions in place of the written ones; garbage norms are an error."""
    values = values.copy()
    low, high = QUATERNION_NORM_RANGE
    names = [ROOT] + [name for name, _, count in FRAME_LAYOUT if count == 4]
    for name, start in zip(names, _quaternion_columns(), strict=True):
        norm = np.linalg.norm(values[:, start : start + 4], axis=1)
        bad = np.flatnonzero((norm < low) | (norm > high))
        if bad.size:
            raise InputError(
                f"{path}: keyframe {bad[0]}: the {name} quaternion has norm "
                f"{norm[bad[0]]:.3g}, not a rotation (w, x, y, z)"
            )
        values[:, start : start + 4] /= norm[:, None]
    return values


def _slerp(q0: np.ndarray, q1: np.ndarray, t: float) -> np.ndarray:
    """Spherical interpolation of unit quaternions along the shorter arc."""
    if np.dot(q0, q1) < 0:
        q1 = -q1
    angle = math.acos(min(1.0, float(np.dot(q0, q1))))
    if angle < 1e-9:
        return q0.copy()
    return (math.sin((1 - t) * angle) * q0 + math.sin(t * angle) * q1) / math.sin(angle)


def _between(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """The keyframe a fraction ``t`` of the way from ``a`` to ``b``."""
    frame = a + t * (b - a)
    for start in _quaternion_columns():
        frame[start : start + 4] = _slerp(a[start : start + 4], b[start : start + 4], t)
    return frame


def _regular(path: Path, values: np.ndarray) -> tuple[np.ndarray, float, int]:
    """Keyframes on a regular grid: (frames, step, frames inserted).

    The step is the median duration; a keyframe lasting n steps (within 5 %) is followed by n - 1
    interpolated frames; any other duration is an error. The last duration is unused.
    """
    durations = values[:, 0]
    if len(values) == 1:
        if not durations[0] > 0:
            raise InputError(
                f"{path}: one keyframe with duration {durations[0]}; cannot tell the frame rate"
            )
        return values, float(durations[0]), 0
    gaps = durations[:-1]
    step = float(np.median(gaps))
    if not step > 0:
        raise InputError(f"{path}: keyframe durations must be positive seconds")
    counts = np.rint(gaps / step).astype(int)
    bad = np.flatnonzero((counts < 1) | (np.abs(gaps - counts * step) > 0.05 * step))
    if bad.size:
        raise InputError(
            f"{path}: keyframe {bad[0]} lasts {gaps[bad[0]]} s, not a whole number "
            f"of the clip's {step} s steps"
        )
    rows = []
    for k, count in enumerate(counts):
        rows += [_between(values[k], values[k + 1], i / count) for i in range(count)]
    rows.append(values[-1])
    frames = np.array(rows)
    frames[:, 0] = step
    return frames, step, int(counts.sum() - len(counts))


def _frame_rate(step: float) -> float:
    """Frames per second; snapped to a whole number within 0.01 % (files write 1/30 as 0.033332)."""
    fps = 1.0 / step
    return float(round(fps)) if abs(fps - round(fps)) <= 1e-4 * fps else fps


def read_deepmimic_motion(path: str | Path) -> DeepMimicMotion:
    """Read a DeepMimic humanoid clip: checked, unit quaternions, keyframes on a regular grid."""
    path = Path(path)
    data = _load_json(path)
    loop = data.get("Loop", "none")
    if loop not in LOOP_MODES:
        raise InputError(f"{path}: 'Loop' is {loop!r}, expected one of {', '.join(LOOP_MODES)}")
    values = _normalise(path, _frame_array(path, data["Frames"]))
    frames, step, inserted = _regular(path, values)
    return DeepMimicMotion(
        frames=frames,
        fps=_frame_rate(step),
        loop=loop,
        durations=values[:, 0].copy(),
        inserted=inserted,
        path=str(path),
    )


# --------------------------------------------------------------------------- kinematics


def quaternion_matrix(q: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) of unit quaternions (..., 4) written w, x, y, z."""
    w, x, y, z = np.moveaxis(q, -1, 0)
    rows = (
        (1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)),
        (2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)),
        (2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)),
    )
    return np.stack([np.stack(row, axis=-1) for row in rows], axis=-2)


def axis_angle_matrix(axis: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) by ``angle`` (...) radians about the unit ``axis`` (3,)."""
    half = np.asarray(angle)[..., None] / 2
    return quaternion_matrix(np.concatenate([np.cos(half), np.sin(half) * axis], axis=-1))


def _local_rotations(humanoid: Humanoid, frames: np.ndarray) -> np.ndarray:
    """(F, J, 3, 3) each joint's rotation relative to its parent (the root's: world)."""
    n = len(frames)
    local = np.broadcast_to(np.eye(3), (n, len(humanoid.joints), 3, 3)).copy()
    local[:, humanoid.index(ROOT)] = quaternion_matrix(frames[:, 4:8])
    for name, start, count in FRAME_LAYOUT:
        j = humanoid.index(name)
        if count == 4:
            local[:, j] = quaternion_matrix(frames[:, start : start + 4])
        else:
            local[:, j] = axis_angle_matrix(humanoid.axes[j], frames[:, start])
    return local


def forward_kinematics(humanoid: Humanoid, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Joint positions (F, J, 3) and link rotations (F, J, 3, 3) in DeepMimic world axes."""
    local = _local_rotations(humanoid, frames)
    n, count = local.shape[:2]
    positions = np.zeros((n, count, 3))
    rotations = np.zeros((n, count, 3, 3))
    for j, parent in enumerate(humanoid.parents):
        if parent < 0:  # the base link carries the root position and rotation
            positions[:, j] = frames[:, 1:4] + local[:, j] @ humanoid.offsets[j]
            rotations[:, j] = local[:, j]
            continue
        positions[:, j] = positions[:, parent] + rotations[:, parent] @ humanoid.offsets[j]
        rotations[:, j] = rotations[:, parent] @ local[:, j]
    return positions, rotations


def _hinge_axes(humanoid: Humanoid, rest: np.ndarray) -> dict[str, np.ndarray]:
    """Each hinge's axis in posebench axes at rest, signed so that flexion is positive."""
    axes = {}
    forward = np.array([0.0, 0.0, 1.0])
    for name, direction in FLEXION_DIRECTION.items():
        j = humanoid.index(name)
        axis = TO_POSEBENCH @ humanoid.axes[j]
        segment = rest[humanoid.index(_HINGE_CHILD[name])] - rest[j]
        moves = float(np.cross(axis, segment) @ forward)  # how a positive turn moves the segment
        if abs(moves) < 1e-6 * np.linalg.norm(segment):
            raise InputError(
                f"{humanoid.path}: the {name} axis cannot bend the limb forwards or backwards"
            )
        axes[name] = axis * (np.sign(moves) * direction) + 0.0  # no -0.0 entries
    return axes


def deepmimic_clip(humanoid: Humanoid, motion: DeepMimicMotion) -> SourceClip:
    """Forward kinematics of a clip on the humanoid, in posebench axes (see module)."""
    positions, rotations = forward_kinematics(humanoid, motion.frames)
    rest = humanoid.rest() @ TO_POSEBENCH.T
    return SourceClip(
        joints=humanoid.joints,
        parents=humanoid.parents,
        rest=rest,
        positions=positions @ TO_POSEBENCH.T,
        rotations=TO_POSEBENCH @ rotations @ TO_POSEBENCH.T,
        fps=motion.fps,
        path=motion.path,
        hinge_axes=_hinge_axes(humanoid, rest),
    )


def read_deepmimic(path: str | Path, urdf: str | Path, scale: float = URDF_SCALE) -> SourceClip:
    """Read a DeepMimic humanoid clip on the humanoid URDF into a ``SourceClip`` (metres)."""
    return deepmimic_clip(read_humanoid_urdf(urdf, scale), read_deepmimic_motion(path))


def wheel_urdf(folder: str | Path) -> Path:
    """The humanoid URDF of a pybullet wheel, from its ``pybullet_data/data/motions`` folder."""
    return Path(folder).parent.parent / "humanoid" / "humanoid.urdf"


def read_deepmimic_folder(
    folder: str | Path, urdf: str | Path | None = None, pattern: str = "humanoid3d_*.txt"
) -> dict[str, SourceClip]:
    """Every humanoid clip in a folder by name (``walk`` for ``humanoid3d_walk.txt``)."""
    folder = Path(folder)
    files = sorted(folder.glob(pattern))
    if not files:
        raise InputError(f"{folder}: no files match {pattern!r}; is it a DeepMimic motions folder?")
    humanoid = read_humanoid_urdf(wheel_urdf(folder) if urdf is None else urdf)
    return {
        f.stem.removeprefix("humanoid3d_"): deepmimic_clip(humanoid, read_deepmimic_motion(f))
        for f in files
    }


#: How DeepMimic's humanoid drives the SMPL-22 joints. Collars, wrists and toes (SMPL's ``foot``)
#: have no DeepMimic joint and stay unobserved; the one chest joint spreads over the three spine
#: joints and the neck joint (which turns the head) over SMPL's neck and head.
DEEPMIMIC_PROFILE = SourceProfile(
    name="deepmimic",
    drive={
        "pelvis": ("root",),
        "left_hip": ("left_hip",),
        "right_hip": ("right_hip",),
        "left_knee": ("left_knee",),
        "right_knee": ("right_knee",),
        "left_ankle": ("left_ankle",),
        "right_ankle": ("right_ankle",),
        "spine3": ("chest",),
        "head": ("neck",),
        "left_shoulder": ("left_shoulder",),
        "right_shoulder": ("right_shoulder",),
        "left_elbow": ("left_elbow",),
        "right_elbow": ("right_elbow",),
    },
    segments={
        "pelvis": ("root", "chest"),
        "left_hip": ("left_hip", "left_knee"),
        "right_hip": ("right_hip", "right_knee"),
        "left_knee": ("left_knee", "left_ankle"),
        "right_knee": ("right_knee", "right_ankle"),
        "left_ankle": ("left_ankle", "left_toe"),
        "right_ankle": ("right_ankle", "right_toe"),
        "spine3": ("chest", "neck"),
        "head": ("neck", "head_top"),
        "left_shoulder": ("left_shoulder", "left_elbow"),
        "right_shoulder": ("right_shoulder", "right_elbow"),
        "left_elbow": ("left_elbow", "left_wrist"),
        "right_elbow": ("right_elbow", "right_wrist"),
    },
    hips=("left_hip", "right_hip"),
    knees=("left_knee", "right_knee"),
    ankles=("left_ankle", "right_ankle"),
    hinges={
        "left_knee": "left_knee",
        "right_knee": "right_knee",
        "left_elbow": "left_elbow",
        "right_elbow": "right_elbow",
    },
    chains={"spine3": ("spine1", "spine2", "spine3"), "head": ("neck", "head")},
)
