"""The range-of-motion take (assimp test models, ``WRL/MotionCaptureROM.WRL``) as a SourceClip.

The file: a ViconIQ capture (July 2008) on a 3ds Max Biped with German bone names, exported by
Max 2008's VRML97 exporter ("free for any purpose"). What it holds, as measured:

* 30 nested Transforms ``Bip01`` (the centre of mass, the root) ... ``Bip01_R_Zeh0Nub``; the
  Biped links the thighs to the first spine link ``Bip01_Wirbels_ule`` and the clavicles to the
  neck ``Bip01_Hals``. The neck and the ``...Nub`` end nodes have no rotation keys.
* One TimeSensor (``cycleInterval 45.27``, looping) drives every interpolator. Rotations and
  translations are keyed at 10 Hz (``k / 452.7`` of the cycle, plus a last key at 45.27 s); each
  interpolator keeps a subset of those keys. The scale channels have extra and doubled keys
  (steps) where Max re-decomposed a scale.
* Every Transform carries a non-uniform ``scale`` (the Biped's box sizes) that its children
  inherit, so the exporter writes ``scaleOrientation`` too: a node's *global* matrix is
  ``U·diag(size)`` with ``U`` a rotation (the node's frame) and ``size`` the box's dimensions.
  :func:`global_frames` takes ``U`` by polar decomposition and refuses a global matrix with
  shear (non-orthogonal columns), which would mean a frame is not a rotation and a scale.
* Units: inches (the Max system unit); the head end ``Bip01_KopfNub`` is 1.75 m up at rest.
* Axes: the exporter already turned Max's z-up world into VRML's y-up one, and the subject
  faces +z with its left at +x (hip line 1.8° off the x axis at rest), so posebench's axes are
  the file's: no rotation, only inches -> metres.

* Cross-check: the package's ASE export of the same take (Max world, z up) puts every node at
  rest within 0.03 in of the VRML FK after ``(x, y, z)_vrml = (x, z, -y)_max``, and its root
  track agrees at 3.5 s and 45 s, so the cycle is Max's 1358 frames at 30 fps. The VRML node
  frames are the ASE ones turned by a constant local axis change, which rest-relative
  rotations cancel.

The rest pose is the pose the Transform fields give (equal to the first key to 0.01 mm, 0.0001
rad): the subject standing in a loose T-pose, not the Biped's figure-mode pose: upper arms out
about 10° below horizontal and swept 20-30° back, elbows bent 46° (left) and 32° (right), knees
bent 34-35°, feet turned out. ``rotations[f, j] = U_f[j] · U_rest[j]ᵀ``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from posebench.core.errors import InputError
from posebench.rebuild.source import SourceClip, SourceProfile
from posebench.rebuild.vrml import Scene, global_matrices, read_vrml

INCH = 0.0254
#: Where the take lies in a folder laid out like the sources folder (the Debian package's tree).
SOURCE_FILE = "assimp/usr/share/assimp/models/WRL/MotionCaptureROM.WRL"
#: The most a node's global matrix may shear: |cos| of the angle between two of its axes.
MAX_SHEAR = 0.05

#: The take's nodes in file order (VRML DEF names: Max wrote spaces as '_' and dropped umlauts and
#: ß: Wirbelsäule (spine), Schlüsselbein (clavicle), Fuß (foot)). Becken = pelvis, Hals = neck,
#: Kopf = head, Oberarm / Unterarm = upper arm / forearm, Oberschenkel / Unterschenkel = thigh /
#: shank, Zeh0 = toes, Finger0 = the one finger link; ...Nub = end points.
BIPED_JOINTS: tuple[str, ...] = (
    "Bip01", "Bip01_Becken", "Bip01_Wirbels_ule", "Bip01_Wirbels_ule1", "Bip01_Wirbels_ule2",
    "Bip01_Hals", "Bip01_Kopf", "Bip01_KopfNub",
    "Bip01_L_Schl_sselbein", "Bip01_L_Oberarm", "Bip01_L_Unterarm", "Bip01_L_Hand",
    "Bip01_L_Finger0", "Bip01_L_Finger0Nub",
    "Bip01_R_Schl_sselbein", "Bip01_R_Oberarm", "Bip01_R_Unterarm", "Bip01_R_Hand",
    "Bip01_R_Finger0", "Bip01_R_Finger0Nub",
    "Bip01_L_Oberschenkel", "Bip01_L_Unterschenkel", "Bip01_L_Fu_", "Bip01_L_Zeh0",
    "Bip01_L_Zeh0Nub",
    "Bip01_R_Oberschenkel", "Bip01_R_Unterschenkel", "Bip01_R_Fu_", "Bip01_R_Zeh0",
    "Bip01_R_Zeh0Nub",
)  # fmt: skip

#: The Biped's knee and elbow links, which turn about one local axis only (Biped hinges).
BIPED_HINGES: dict[str, str] = {
    "left_elbow": "Bip01_L_Unterarm",
    "right_elbow": "Bip01_R_Unterarm",
    "left_knee": "Bip01_L_Unterschenkel",
    "right_knee": "Bip01_R_Unterschenkel",
}

#: Joints the Biped attaches to another node than their VRML parent: the hips move rigidly with
#: the pelvis ``Becken`` and the spine base with the centre of mass ``Bip01`` (the file keys their
#: translations so); measured on the take, within 0.1 mm, against 105 mm and 21 mm from their
#: VRML parents. The clip's ``parents`` follow these attachments.
BIPED_ATTACHMENTS: dict[str, str] = {
    "Bip01_L_Oberschenkel": "Bip01_Becken",
    "Bip01_R_Oberschenkel": "Bip01_Becken",
    "Bip01_Wirbels_ule": "Bip01",
}

# --------------------------------------------------------------------------- recording errors

#: A joint turning faster than this relative to its parent (degrees per second) is a jump or a
#: flip: 60° between two 10-Hz keys. The fast kicks and swings of the clean parts reach 435°/s.
MAX_JOINT_SPEED = 600.0
#: Two consecutive spine links may not fold more than this (degrees): the whole lumbar spine
#: flexes about 50-60°, and the clean parts of the take stay under 31° at any one link.
MAX_SPINE_KINK = 60.0
#: The spine chain whose consecutive links are checked for folds.
SPINE_CHAIN = ("Bip01_Wirbels_ule", "Bip01_Wirbels_ule1", "Bip01_Wirbels_ule2", "Bip01_Hals")
#: Bad frames closer than this (seconds) belong to one stretch, dropped whole with what lies
#: between them.
MERGE_GAP = 3.0
#: Seconds dropped on each side of a bad stretch.
MARGIN = 0.5


# --------------------------------------------------------------------------- reading


def sample_times(scene: Scene) -> tuple[np.ndarray, float]:
    """The key times (s) of the translation and rotation channels, and their rate (Hz).

    The rate is fitted to the keys (four significant digits); a key more than a tenth of a frame
    off the grid ``k / rate`` (the take's last key, 0.07 s after the one before) is left out.
    The clip is sampled at the keys themselves, not at ``k / rate``: the scale channels step
    between keys, and interpolating them mid-step shears the frames.
    """
    keys: list[np.ndarray] = []
    cycles = set()
    for (_, target), name in scene.drivers.items():
        if target not in ("translation", "rotation"):
            continue
        clock = scene.clocks.get(name)
        if clock is None:
            raise InputError(f"{scene.path}: {name} is not driven by a TimeSensor")
        cycle = scene.timers[clock].cycle_interval
        cycles.add(cycle)
        keys.append(scene.interpolators[name].key * cycle)
    if not keys:
        raise InputError(f"{scene.path}: no interpolator moves a Transform; is it animated?")
    if len(cycles) > 1:
        raise InputError(
            f"{scene.path}: the interpolators run on TimeSensors of different cycles "
            f"{sorted(cycles)}; one clock is expected"
        )
    times = np.unique(np.concatenate(keys))
    spacing = np.diff(times)
    spacing = spacing[spacing > 1e-6]
    if len(spacing) == 0:
        raise InputError(f"{scene.path}: the animation has a single key time")
    # the mean of the near-median spacings: rounding of the keys biases the median itself
    typical = spacing[np.abs(spacing - np.median(spacing)) < 0.3 * np.median(spacing)]
    rate = float(f"{1.0 / np.mean(typical):.4g}")  # the keys carry four significant digits
    slots = times * rate
    times = times[np.abs(slots - np.round(slots)) <= 0.1]
    slots = np.round(times * rate)
    if len(np.unique(slots)) != len(slots) or np.any(np.diff(slots) != 1):
        raise InputError(
            f"{scene.path}: the rotation and translation keys do not fall one per frame on a "
            f"{rate:g} Hz grid; this reader expects a take keyed at a fixed rate"
        )
    return times, rate


def global_frames(scene: Scene, matrices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions (F, N, 3) and frames (F, N, 3, 3) of global 4x4 matrices; frames by polar
    decomposition, after checking each matrix is a rotation times a scale along its own axes."""
    linear = matrices[..., :3, :3]
    sizes = np.linalg.norm(linear, axis=-2)  # (F, N, 3) length of each axis
    if np.any(sizes < 1e-9) or np.any(np.linalg.det(linear) <= 0):
        f, j = np.argwhere((sizes < 1e-9).any(-1) | (np.linalg.det(linear) <= 0))[0]
        raise InputError(
            f"{scene.path}: {scene.names[j]} is flattened or mirrored in frame {f}; its "
            "scale must be positive"
        )
    axes = linear / sizes[..., None, :]
    gram = np.swapaxes(axes, -1, -2) @ axes
    shear = np.abs(gram - np.eye(3)).max(axis=(-1, -2))
    if shear.max() > MAX_SHEAR:
        f, j = np.unravel_index(int(np.argmax(shear)), shear.shape)
        raise InputError(
            f"{scene.path}: {scene.names[j]} is sheared in frame {f} (axes {shear[f, j]:.3f} "
            f"off orthogonal, limit {MAX_SHEAR}); its frame is not a rotation and a scale"
        )
    w, _, vt = np.linalg.svd(linear)
    return matrices[..., :3, 3], w @ vt


def _hinge_axes(scene: Scene, rest_frames: np.ndarray, rest: np.ndarray) -> dict[str, np.ndarray]:
    """World axis at rest of each Biped hinge that turns about one local axis only, signed so
    that a positive turn bends the limb further (axis along upper × lower segment)."""
    index = {name: j for j, name in enumerate(scene.names)}
    parents = scene.parents
    axes: dict[str, np.ndarray] = {}
    for joint, node in BIPED_HINGES.items():
        j = index.get(node)
        driver = scene.drivers.get((node, "rotation"))
        children = [k for k, p in enumerate(parents) if p == j]
        if j is None or driver is None or parents[j] < 0 or not children:
            continue
        values = scene.interpolators[driver].key_value[:, :3]
        local = values / np.linalg.norm(values, axis=-1, keepdims=True)
        local = local * np.where(local @ local[0] < 0, -1.0, 1.0)[:, None]
        if np.abs(local - local[0]).max() > 1e-3:
            continue  # not a hinge in this file
        axis = rest_frames[j] @ local[0]  # the turn is about the same axis in parent and child
        upper = rest[j] - rest[parents[j]]
        lower = rest[children[0]] - rest[j]
        bend = np.cross(upper, lower)
        if np.linalg.norm(bend) > 1e-9 and float(axis @ bend) < 0:
            axis = -axis
        axes[joint] = axis / np.linalg.norm(axis)
    return axes


def take_from_scene(
    scene: Scene,
    metres_per_unit: float = INCH,
    attachments: Mapping[str, str] | None = None,
) -> SourceClip:
    """The animated Transform hierarchy as a SourceClip sampled at :func:`sample_times`; rest =
    the Transform fields as written; ``attachments`` re-parent joints (child -> new parent)."""
    times, fps = sample_times(scene)
    positions, frames = global_frames(scene, global_matrices(scene, times))
    rest_position, rest_frames = global_frames(scene, global_matrices(scene))
    rest = rest_position[0] * metres_per_unit
    names = scene.names
    if "" in names:
        raise InputError(f"{scene.path}: a Transform has no DEF name; every joint needs one")
    parents = list(scene.parents)
    for child, parent in (attachments or {}).items():
        if child in names and parent in names:
            parents[names.index(child)] = names.index(parent)
    return SourceClip(
        joints=names,
        parents=tuple(parents),
        rest=rest,
        positions=positions * metres_per_unit,
        rotations=frames @ np.swapaxes(rest_frames, -1, -2),
        fps=fps,
        path=scene.path,
        hinge_axes=_hinge_axes(scene, rest_frames[0], rest),
    )


def read_rom_take(path: str | Path) -> SourceClip:
    """Read the range-of-motion VRML take: 453 frames at 10 Hz, metres, posebench axes."""
    return take_from_scene(read_vrml(path), INCH, BIPED_ATTACHMENTS)


# --------------------------------------------------------------------------- errors


def joint_speeds(clip: SourceClip) -> np.ndarray:
    """Degrees per second (F, J) each joint turns relative to its parent between frame f-1 and
    f (the root: in the world); row 0 is zero."""
    rotations = clip.rotations
    local = np.stack(
        [
            rotations[:, j] if p < 0 else np.swapaxes(rotations[:, p], -1, -2) @ rotations[:, j]
            for j, p in enumerate(clip.parents)
        ],
        axis=1,
    )
    step = np.swapaxes(local[:-1], -1, -2) @ local[1:]
    cos = (np.trace(step, axis1=-2, axis2=-1) - 1.0) / 2.0
    speeds = np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))) * clip.fps
    return np.concatenate([np.zeros((1, len(clip.joints))), speeds])


def spine_kinks(clip: SourceClip) -> np.ndarray:
    """Degrees (F, len(SPINE_CHAIN) - 2) between consecutive links of the spine chain."""
    chain = clip.positions[:, [clip.index(name) for name in SPINE_CHAIN]]
    links = np.diff(chain, axis=1)
    links = links / np.maximum(np.linalg.norm(links, axis=-1, keepdims=True), 1e-12)
    cos = np.sum(links[:, :-1] * links[:, 1:], axis=-1)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def recording_errors(clip: SourceClip) -> np.ndarray:
    """Frames (F,) bool to drop: the stretches where the capture broke down.

    A frame is bad when some joint turns faster than ``MAX_JOINT_SPEED`` into or out of it (a
    jump or flip), or two spine links fold more than ``MAX_SPINE_KINK`` (the pelvis/lumbar
    solve flipped). Bad frames less than ``MERGE_GAP`` s apart form one stretch; each stretch
    is dropped whole, with ``MARGIN`` s on either side. The clip needs the ``SPINE_CHAIN``
    joints. On the take: frames 197-397 (19.7-39.7 s), where the pelvis and lumbar solve flips.
    """
    speeds = joint_speeds(clip).max(axis=1)
    fast = speeds > MAX_JOINT_SPEED
    bad = fast | np.concatenate([fast[1:], [False]])  # a jump marks the frames on both sides
    bad |= spine_kinks(clip).max(axis=1) > MAX_SPINE_KINK
    drop = np.zeros_like(bad)
    frames = np.flatnonzero(bad)
    if len(frames) == 0:
        return drop
    gap = round(MERGE_GAP * clip.fps)
    margin = round(MARGIN * clip.fps)
    breaks = np.flatnonzero(np.diff(frames) > gap)
    starts = np.concatenate([[frames[0]], frames[breaks + 1]])
    ends = np.concatenate([frames[breaks], [frames[-1]]])
    for start, end in zip(starts, ends, strict=True):
        drop[max(start - margin, 0) : end + margin + 1] = True
    return drop


# --------------------------------------------------------------------------- profile

#: How the Biped drives the SMPL-22 body. The pelvis is ``Becken`` (``Bip01`` is the centre of
#: mass, which the pelvis follows and adds its own tilt to). The neck ``Hals`` has no keys
#: (it only follows the chest): the head's rotation relative to the chest is all in ``Kopf``, so
#: it drives SMPL's neck-and-head chain, split evenly over both (as for every source with one
#: joint there). The hands, head and toes take their rest directions from their end nodes (the
#: take's rest is a loose T-pose with bent elbows, not the body's). The Biped links the thighs to
#: ``Wirbels_ule`` (the first spine link).
ROM_PROFILE = SourceProfile(
    name="3ds Max Biped (German names)",
    drive={
        "pelvis": ("Bip01_Becken",),
        "left_hip": ("Bip01_L_Oberschenkel",),
        "right_hip": ("Bip01_R_Oberschenkel",),
        "spine1": ("Bip01_Wirbels_ule",),
        "left_knee": ("Bip01_L_Unterschenkel",),
        "right_knee": ("Bip01_R_Unterschenkel",),
        "spine2": ("Bip01_Wirbels_ule1",),
        "left_ankle": ("Bip01_L_Fu_",),
        "right_ankle": ("Bip01_R_Fu_",),
        "spine3": ("Bip01_Wirbels_ule2",),
        "left_foot": ("Bip01_L_Zeh0",),
        "right_foot": ("Bip01_R_Zeh0",),
        "left_collar": ("Bip01_L_Schl_sselbein",),
        "right_collar": ("Bip01_R_Schl_sselbein",),
        "head": ("Bip01_Kopf",),
        "left_shoulder": ("Bip01_L_Oberarm",),
        "right_shoulder": ("Bip01_R_Oberarm",),
        "left_elbow": ("Bip01_L_Unterarm",),
        "right_elbow": ("Bip01_R_Unterarm",),
        "left_wrist": ("Bip01_L_Hand",),
        "right_wrist": ("Bip01_R_Hand",),
    },
    segments={
        "left_hip": ("Bip01_L_Oberschenkel", "Bip01_L_Unterschenkel"),
        "right_hip": ("Bip01_R_Oberschenkel", "Bip01_R_Unterschenkel"),
        "spine1": ("Bip01_Wirbels_ule", "Bip01_Wirbels_ule1"),
        "left_knee": ("Bip01_L_Unterschenkel", "Bip01_L_Fu_"),
        "right_knee": ("Bip01_R_Unterschenkel", "Bip01_R_Fu_"),
        "spine2": ("Bip01_Wirbels_ule1", "Bip01_Wirbels_ule2"),
        "left_ankle": ("Bip01_L_Fu_", "Bip01_L_Zeh0"),
        "right_ankle": ("Bip01_R_Fu_", "Bip01_R_Zeh0"),
        "spine3": ("Bip01_Wirbels_ule2", "Bip01_Hals"),
        "left_collar": ("Bip01_L_Schl_sselbein", "Bip01_L_Oberarm"),
        "right_collar": ("Bip01_R_Schl_sselbein", "Bip01_R_Oberarm"),
        "left_shoulder": ("Bip01_L_Oberarm", "Bip01_L_Unterarm"),
        "right_shoulder": ("Bip01_R_Oberarm", "Bip01_R_Unterarm"),
        "left_elbow": ("Bip01_L_Unterarm", "Bip01_L_Hand"),
        "right_elbow": ("Bip01_R_Unterarm", "Bip01_R_Hand"),
        "left_wrist": ("Bip01_L_Hand", "Bip01_L_Finger0"),
        "right_wrist": ("Bip01_R_Hand", "Bip01_R_Finger0"),
        "left_foot": ("Bip01_L_Zeh0", "Bip01_L_Zeh0Nub"),
        "right_foot": ("Bip01_R_Zeh0", "Bip01_R_Zeh0Nub"),
        "head": ("Bip01_Kopf", "Bip01_KopfNub"),
    },
    chains={"head": ("neck", "head")},
    hips=("Bip01_L_Oberschenkel", "Bip01_R_Oberschenkel"),
    knees=("Bip01_L_Unterschenkel", "Bip01_R_Unterschenkel"),
    ankles=("Bip01_L_Fu_", "Bip01_R_Fu_"),
    hinges=dict(BIPED_HINGES),
)
