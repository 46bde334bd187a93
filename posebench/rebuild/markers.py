"""Optical markers -> joint centres -> segment frames -> :class:`SourceClip` (geometric IK only).

For the Vicon full-body marker set of Character Studio captures (Plug-in-Gait-like names: LFWT,
LBWT, LTHI, LKNE, LSHN, LANK, LTOE, LMT5, LSHO, LUPA, LELB, LWRA, LWRB, LFIN, head, C7, T10, CLAV,
STRN). There is no pose prior and no learned model: every joint centre is a stated geometric rule
on the markers of one frame plus a few per-clip constants (medians over the clip):

* **hips**: Harrington et al. 2007 (J. Biomech. 40:595-602), the regression on pelvic width
  PW = |LFWT - RFWT|, pelvic depth PD = |mid(FWT) - mid(BWT)| and leg length
  LL = |FWT - ANK| (front-waist markers standing in for the ASIS, back-waist for the PSIS): in
  the pelvis frame with origin mid(FWT), anterior x, superior y, lateral z,
  x = -0.24 PD - 9.9 mm, y = -0.16 PW - 0.04 LL - 7.1 mm, z = ±(0.28 PD + 0.16 PW + 7.9 mm);
* **knees, ankles**: the Plug-in-Gait chord rule: the centre lies at a fixed offset from the
  lateral marker (KNE, ANK), in the plane of that marker, the proximal joint centre and the
  segment's other lateral marker (THI, SHN), where the segment from the proximal centre meets the
  offset at a right angle. Offsets: the 7 mm marker radius plus half a 100 mm knee width (57 mm)
  or half a 70 mm malleolar width (42 mm);
* **elbows**: the ELB marker itself. In this marker set it is not on the lateral epicondyle (it
  lies in the plane of shoulder, elbow and wrist), so the chord rule's medial offset does not
  apply and no direction for another offset can be read from UPA (which lies on the
  shoulder-elbow line);
* **shoulders**: below the acromion marker (SHO) along the thorax's long axis by 17 % of the
  bi-acromial distance |LSHO - RSHO| (Rab, Petuskey and Bagley 2002);
* **wrists**: mid(WRA, WRB); **hands**: the FIN marker; **toes**: mid(TOE, MT5);
* **trunk**: the thorax joint at mid(T10, STRN), the neck at mid(C7, CLAV) (also where the
  collars start), the head at the mean of the four head markers; the pelvis at mid-hips.

Each segment's frame has its long axis from its joint centre to its child's and its roll from a
third direction: the knee marker's for the thigh, the ankle marker's for the shank, MT5 - TOE for
the foot, the point of the elbow (ELB off the shoulder-wrist line, so the plane of the arm) for
the upper arm, WRA - WRB (thumb side) for the forearm and hand, the head's left side for the head,
the thorax's front, mid(CLAV, STRN) - mid(C7, T10), for the thorax and the collars; the pelvis
frame is the hip line with the front-waist minus back-waist direction.
``rotations[f, j] = A_f[j] · A_T[j]ᵀ``, where ``A_T`` is the same construction on the rest pose:
a T-pose (arms out along ±x, palms down, thumbs forward, elbows bending forward so their point is
at -z, feet forward and flat) with the clip's median segment lengths, facing +z with its left at
+x. End joints (toes, hands, head) carry their parent segment's rotation.

Quality: :func:`fit_residual` fits each segment's markers as a rigid body in the segment's own
frame (the median over frames) and gives, per frame, the RMS and largest distance between the
measured markers and that model; :meth:`MarkerFit.bone_lengths` gives the skeleton's bone
lengths. :func:`rejected_frames` rejects a frame when a needed marker is missing, a frame cannot
be built, or the residual exceeds :data:`MAX_RMS_RESIDUAL` or :data:`MAX_MARKER_ERROR`.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from posebench.core.errors import InputError
from posebench.rebuild.csm import Markers
from posebench.rebuild.source import SourceClip, SourceProfile, runs

# --------------------------------------------------------------------------- constants

#: Marker radius (14 mm Vicon markers), metres.
MARKER_RADIUS = 0.007
#: Knee centre to knee marker: half of a 100 mm knee width plus the marker radius.
KNEE_OFFSET = 0.050 + MARKER_RADIUS
#: Ankle centre to ankle marker: half of a 70 mm malleolar width plus the marker radius.
ANKLE_OFFSET = 0.035 + MARKER_RADIUS
#: Shoulder centre below the acromion marker, as a fraction of the bi-acromial distance (Rab 2002).
SHOULDER_DROP = 0.17
#: Harrington 2007 hip centre, metres: x = a·PD + b; y = a·PW + b·LL + c; z = a·PD + b·PW + c.
HARRINGTON_X = (-0.24, -0.0099)
HARRINGTON_Y = (-0.16, -0.04, -0.0071)
HARRINGTON_Z = (0.28, 0.16, 0.0079)
#: A frame's roll is undefined when its reference lies within this angle of its long axis.
MIN_REFERENCE_ANGLE = np.deg2rad(10.0)
#: Reject a frame whose RMS marker residual exceeds this (metres). In ThomasFechten.csm the
#: frames where no marker slides stay under 21 mm; frames with a sliding marker reach 25-90 mm.
MAX_RMS_RESIDUAL = 0.030
#: Reject a frame where one marker is this far from its segment's rigid model (metres). Skin
#: and joint-centre-rule errors stay under 65 mm in ThomasFechten.csm (the elbow marker moves
#: 40-50 mm along the arm between bent and straight); sliding markers give 100-340 mm.
MAX_MARKER_ERROR = 0.080

X_AXIS = np.array([1.0, 0.0, 0.0])
Y_AXIS = np.array([0.0, 1.0, 0.0])
Z_AXIS = np.array([0.0, 0.0, 1.0])
SIDES = (("left", "L", 1.0), ("right", "R", -1.0))

#: Source joints in order (parents first) with their parents.
JOINTS: tuple[str, ...] = (
    "pelvis", "left_hip", "right_hip", "thorax", "left_knee", "right_knee", "left_ankle",
    "right_ankle", "left_toe", "right_toe", "neck", "head", "left_collar", "right_collar",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_hand", "right_hand",
)  # fmt: skip
PARENTS: dict[str, str | None] = {
    "pelvis": None, "left_hip": "pelvis", "right_hip": "pelvis", "thorax": "pelvis",
    "left_knee": "left_hip", "right_knee": "right_hip", "left_ankle": "left_knee",
    "right_ankle": "right_knee", "left_toe": "left_ankle", "right_toe": "right_ankle",
    "neck": "thorax", "head": "neck", "left_collar": "thorax", "right_collar": "thorax",
    "left_shoulder": "left_collar", "right_shoulder": "right_collar",
    "left_elbow": "left_shoulder", "right_elbow": "right_shoulder", "left_wrist": "left_elbow",
    "right_wrist": "right_elbow", "left_hand": "left_wrist", "right_hand": "right_wrist",
}  # fmt: skip


#: PARENTS as indices into JOINTS (-1 for the root).
PARENT_INDEX: tuple[int, ...] = tuple(
    -1 if (p := PARENTS[j]) is None else JOINTS.index(p) for j in JOINTS
)


def _sided(left: np.ndarray, side: float) -> np.ndarray:
    """A left-side T-pose direction mirrored to the right side (x negated) when side < 0."""
    return left * np.array([side, 1.0, 1.0])


#: T-pose direction of the bone from each joint's parent to it.
REST_DIRECTIONS: dict[str, np.ndarray] = {"thorax": Y_AXIS, "neck": Y_AXIS, "head": Y_AXIS}
#: Segment starting at a joint -> (child that ends it, T-pose long axis, T-pose roll reference).
SEGMENTS: dict[str, tuple[str, np.ndarray, np.ndarray]] = {
    "pelvis": ("", X_AXIS, Z_AXIS),  # hip line (right -> left) with the pelvis's front
    "thorax": ("neck", Y_AXIS, Z_AXIS),
    "neck": ("head", Y_AXIS, X_AXIS),
}
#: Markers carried rigidly by each segment (the residual's model).
SEGMENT_MARKERS: dict[str, tuple[str, ...]] = {
    "pelvis": ("LFWT", "RFWT", "LBWT", "RBWT", "LPel", "RPel"),
    "thorax": ("C7", "T10", "CLAV", "STRN", "RBAC"),
    "neck": ("LFHD", "RFHD", "LBHD", "RBHD"),
}
for _name, _s, _side in SIDES:
    REST_DIRECTIONS |= {
        f"{_name}_hip": _sided(X_AXIS, _side),
        f"{_name}_knee": -Y_AXIS,
        f"{_name}_ankle": -Y_AXIS,
        f"{_name}_toe": Z_AXIS,
        f"{_name}_collar": Y_AXIS,  # the collars start where the neck does
        f"{_name}_shoulder": _sided(X_AXIS, _side),
        f"{_name}_elbow": _sided(X_AXIS, _side),
        f"{_name}_wrist": _sided(X_AXIS, _side),
        f"{_name}_hand": _sided(X_AXIS, _side),
    }
    _out = _sided(X_AXIS, _side)  # along the arm, and lateral for the leg segments
    SEGMENTS |= {
        f"{_name}_hip": (f"{_name}_knee", -Y_AXIS, _out),
        f"{_name}_knee": (f"{_name}_ankle", -Y_AXIS, _out),
        f"{_name}_ankle": (f"{_name}_toe", Z_AXIS, _out),
        f"{_name}_collar": (f"{_name}_shoulder", _out, Z_AXIS),
        f"{_name}_shoulder": (f"{_name}_elbow", _out, -Z_AXIS),  # point of the elbow back
        f"{_name}_elbow": (f"{_name}_wrist", _out, Z_AXIS),  # thumb forward
        f"{_name}_wrist": (f"{_name}_hand", _out, Z_AXIS),
    }
    SEGMENT_MARKERS |= {
        f"{_name}_hip": (f"{_s}THI", f"{_s}KNE"),
        f"{_name}_knee": (f"{_s}SHN", f"{_s}ANK"),
        f"{_name}_ankle": (f"{_s}HEL", f"{_s}TOE", f"{_s}MT5"),
        f"{_name}_collar": (f"{_s}SHO",),
        f"{_name}_shoulder": (f"{_s}UPA", f"{_s}ELB"),
        f"{_name}_elbow": (f"{_s}FRM", f"{_s}WRA", f"{_s}WRB"),
        f"{_name}_wrist": (f"{_s}FIN",),
    }
del _name, _s, _side, _out

#: Markers the joint centres and frames are built from (a frame missing one is rejected).
NEEDED_MARKERS: tuple[str, ...] = (
    "LFHD", "RFHD", "LBHD", "RBHD", "C7", "T10", "CLAV", "STRN", "LFWT", "RFWT", "LBWT", "RBWT",
    *(f"{s}{m}" for s in "LR" for m in ("SHO", "ELB", "WRA", "WRB", "FIN")),
    *(f"{s}{m}" for s in "LR" for m in ("THI", "KNE", "SHN", "ANK", "TOE", "MT5")),
)  # fmt: skip

#: How the marker skeleton drives the body's SMPL-22 joints (see SourceProfile). The one thorax
#: segment turns spine1-3 evenly and the one head segment neck and head; the toes (SMPL feet) are
#: unobserved: the forefoot markers sit on the rigid foot.
MARKER_PROFILE = SourceProfile(
    name="markers",
    drive={
        "pelvis": ("pelvis",),
        "spine3": ("thorax",),
        "head": ("neck",),
        **{
            f"{side}_{joint}": (f"{side}_{joint}",)
            for side, _, _ in SIDES
            for joint in ("hip", "knee", "ankle", "collar", "shoulder", "elbow", "wrist")
        },
    },
    segments={
        "spine3": ("thorax", "neck"),
        "head": ("neck", "head"),
        **{
            f"{side}_{joint}": (f"{side}_{joint}", f"{side}_{child}")
            for side, _, _ in SIDES
            for joint, child in (
                ("hip", "knee"),
                ("knee", "ankle"),
                ("ankle", "toe"),
                ("collar", "shoulder"),
                ("shoulder", "elbow"),
                ("elbow", "wrist"),
                ("wrist", "hand"),
            )
        },
    },
    hips=("left_hip", "right_hip"),
    knees=("left_knee", "right_knee"),
    ankles=("left_ankle", "right_ankle"),
    hinges={f"{side}_{j}": f"{side}_{j}" for side, _, _ in SIDES for j in ("elbow", "knee")},
    chains={"spine3": ("spine1", "spine2", "spine3"), "head": ("neck", "head")},
)


# --------------------------------------------------------------------------- geometry


def _unit(v: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _mid(*points: np.ndarray) -> np.ndarray:
    return np.mean(np.stack(points), axis=0)


def frame(primary: np.ndarray, reference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Orthonormal frames (..., 3, 3), columns [primary, reference ⟂ primary, their cross].

    Also a mask (...) of where the frame is defined: finite, and the reference at least
    MIN_REFERENCE_ANGLE away from the primary axis."""
    e1 = _unit(primary)
    along = np.sum(reference * e1, axis=-1, keepdims=True)
    perpendicular = reference - along * e1
    e2 = _unit(perpendicular)
    axes = np.stack([e1, e2, np.cross(e1, e2)], axis=-1)
    with np.errstate(invalid="ignore"):
        ok = np.linalg.norm(perpendicular, axis=-1) > np.sin(MIN_REFERENCE_ANGLE) * np.linalg.norm(
            reference, axis=-1
        )
    ok &= np.isfinite(axes).all(axis=(-2, -1))
    return axes, ok


def chord_centre(
    proximal: np.ndarray, wand: np.ndarray, marker: np.ndarray, offset: float
) -> np.ndarray:
    """Joint centre by the chord rule: in the plane (proximal, wand, marker), ``offset`` from
    ``marker`` on the side away from ``wand``, where proximal-centre-marker is a right angle."""
    d = proximal - marker
    length = np.linalg.norm(d, axis=-1, keepdims=True)
    u = d / length
    w = wand - marker
    v = -_unit(w - np.sum(w * u, axis=-1, keepdims=True) * u)
    cos = np.clip(offset / length, -1.0, 1.0)
    return marker + offset * (cos * u + np.sqrt(1.0 - cos**2) * v)


def _off_line(point: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """The vector from the line through start and end to point, perpendicular to the line."""
    u = _unit(end - start)
    d = point - start
    return d - np.sum(d * u, axis=-1, keepdims=True) * u


def _median(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(np.median(finite)) if finite.size else float("nan")


# --------------------------------------------------------------------------- joint centres


@dataclass(frozen=True)
class Subject:
    """Per-clip constants of the joint-centre rules (medians over the clip), metres."""

    pelvic_width: float
    pelvic_depth: float
    leg_length: float
    biacromial: float

    @property
    def hip(self) -> np.ndarray:
        """Left hip centre in the Harrington pelvis frame (anterior, superior, lateral)."""
        pw, pd, ll = self.pelvic_width, self.pelvic_depth, self.leg_length
        return np.array(
            [
                HARRINGTON_X[0] * pd + HARRINGTON_X[1],
                HARRINGTON_Y[0] * pw + HARRINGTON_Y[1] * ll + HARRINGTON_Y[2],
                HARRINGTON_Z[0] * pd + HARRINGTON_Z[1] * pw + HARRINGTON_Z[2],
            ]
        )


def check_marker_set(markers: Markers) -> None:
    """A one-line error naming the needed markers the capture lacks."""
    missing = [name for name in NEEDED_MARKERS if name not in markers.names]
    if missing:
        raise InputError(
            f"{markers.path or 'marker data'}: lacks the markers {', '.join(missing)}; the marker "
            "fit needs a Vicon full-body (Plug-in-Gait-like) marker set"
        )


def subject_constants(markers: Markers) -> Subject:
    """Pelvic width and depth, leg length and bi-acromial distance: medians over the clip."""
    g = markers.get
    front, back = _mid(g("LFWT"), g("RFWT")), _mid(g("LBWT"), g("RBWT"))
    legs = [np.linalg.norm(g(f"{s}FWT") - g(f"{s}ANK"), axis=-1) for s in "LR"]
    subject = Subject(
        pelvic_width=_median(np.linalg.norm(g("LFWT") - g("RFWT"), axis=-1)),
        pelvic_depth=_median(np.linalg.norm(front - back, axis=-1)),
        leg_length=_median(np.concatenate(legs)),
        biacromial=_median(np.linalg.norm(g("LSHO") - g("RSHO"), axis=-1)),
    )
    if not np.isfinite([subject.pelvic_width, subject.pelvic_depth]).all():
        raise InputError(f"{markers.path or 'marker data'}: no frame sees all four pelvis markers")
    return subject


def pelvis_axes(markers: Markers) -> tuple[np.ndarray, np.ndarray]:
    """Harrington pelvis frame per frame: origin mid(FWT) (F, 3) and axes (F, 3, 3), columns
    anterior, superior, right lateral (so the right hip is at +z, the left at -z)."""
    g = markers.get
    origin = _mid(g("LFWT"), g("RFWT"))
    axes, _ = frame(g("RFWT") - g("LFWT"), origin - _mid(g("LBWT"), g("RBWT")))
    right, anterior = axes[..., 0], axes[..., 1]
    return origin, np.stack([anterior, np.cross(right, anterior), right], axis=-1)


def joint_centres(markers: Markers, subject: Subject | None = None) -> dict[str, np.ndarray]:
    """Every source joint's centre (F, 3), NaN where a needed marker is missing (see module)."""
    check_marker_set(markers)
    subject = subject or subject_constants(markers)
    g = markers.get
    centres: dict[str, np.ndarray] = {}
    origin, axes = pelvis_axes(markers)
    for name, _, side in SIDES:
        local = subject.hip * np.array([1.0, 1.0, -side])
        centres[f"{name}_hip"] = origin + axes @ local
    centres["pelvis"] = _mid(centres["left_hip"], centres["right_hip"])
    centres["thorax"] = _mid(g("T10"), g("STRN"))
    centres["neck"] = _mid(g("C7"), g("CLAV"))
    centres["head"] = _mid(g("LFHD"), g("RFHD"), g("LBHD"), g("RBHD"))
    up = _unit(centres["neck"] - centres["thorax"])
    for name, s, _ in SIDES:
        knee = chord_centre(centres[f"{name}_hip"], g(f"{s}THI"), g(f"{s}KNE"), KNEE_OFFSET)
        ankle = chord_centre(knee, g(f"{s}SHN"), g(f"{s}ANK"), ANKLE_OFFSET)
        shoulder = g(f"{s}SHO") - SHOULDER_DROP * subject.biacromial * up
        elbow = g(f"{s}ELB")
        centres |= {
            f"{name}_knee": knee,
            f"{name}_ankle": ankle,
            f"{name}_toe": _mid(g(f"{s}TOE"), g(f"{s}MT5")),
            f"{name}_collar": centres["neck"],
            f"{name}_shoulder": shoulder,
            f"{name}_elbow": elbow,
            f"{name}_wrist": _mid(g(f"{s}WRA"), g(f"{s}WRB")),
            f"{name}_hand": g(f"{s}FIN"),
        }
    return {joint: centres[joint] for joint in JOINTS}


def _references(markers: Markers, centres: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Each segment's roll reference direction (F, 3) from the markers (see module)."""
    g = markers.get
    front = _mid(g("CLAV"), g("STRN")) - _mid(g("C7"), g("T10"))
    refs = {
        "pelvis": _mid(g("LFWT"), g("RFWT")) - _mid(g("LBWT"), g("RBWT")),
        "thorax": front,
        "neck": _mid(g("LFHD"), g("LBHD")) - _mid(g("RFHD"), g("RBHD")),
    }
    for name, s, _ in SIDES:
        thumb = g(f"{s}WRA") - g(f"{s}WRB")
        refs |= {
            f"{name}_hip": g(f"{s}KNE") - centres[f"{name}_knee"],
            f"{name}_knee": g(f"{s}ANK") - centres[f"{name}_ankle"],
            f"{name}_ankle": g(f"{s}MT5") - g(f"{s}TOE"),
            f"{name}_collar": front,
            f"{name}_shoulder": _off_line(
                g(f"{s}ELB"), centres[f"{name}_shoulder"], centres[f"{name}_wrist"]
            ),
            f"{name}_elbow": thumb,
            f"{name}_wrist": thumb,
        }
    return refs


def segment_frames(
    markers: Markers, centres: Mapping[str, np.ndarray]
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Each segment's frame (F, 3, 3) (columns: long axis, roll reference, their cross), and a
    mask (F,) of the frames where every segment's frame is defined."""
    refs = _references(markers, centres)
    frames: dict[str, np.ndarray] = {}
    ok = np.ones(markers.n_frames, dtype=bool)
    for joint, (child, _, _) in SEGMENTS.items():
        if joint == "pelvis":
            primary = centres["left_hip"] - centres["right_hip"]
        else:
            primary = centres[child] - centres[joint]
        frames[joint], defined = frame(primary, refs[joint])
        ok &= defined
    return frames, ok


def _rest_frames() -> dict[str, np.ndarray]:
    return {joint: frame(axis, ref)[0] for joint, (_, axis, ref) in SEGMENTS.items()}


def rest_pose(lengths: Mapping[str, float]) -> np.ndarray:
    """(J, 3) T-pose joint positions from bone lengths (joint -> distance to its parent)."""
    rest = np.zeros((len(JOINTS), 3))
    for j, joint in enumerate(JOINTS):
        parent = PARENTS[joint]
        if parent is not None:
            rest[j] = rest[JOINTS.index(parent)] + lengths[joint] * REST_DIRECTIONS[joint]
    return rest


def _segment_of(joint: str) -> str:
    """The segment whose rotation a joint carries: its own, or its parent's for end joints."""
    while joint not in SEGMENTS:
        parent = PARENTS[joint]
        assert parent is not None
        joint = parent
    return joint


# --------------------------------------------------------------------------- the fit


@dataclass(frozen=True)
class MarkerFit:
    """Joint centres and segment rotations for every frame; NaN where they cannot be built."""

    positions: np.ndarray  # (F, J, 3) joint centres, metres
    rotations: np.ndarray  # (F, J, 3, 3) relative to the T-pose rest
    frames: Mapping[str, np.ndarray]  # segment -> (F, 3, 3) its frame A_f
    rest: np.ndarray  # (J, 3) T-pose with the median bone lengths over the defined frames
    defined: np.ndarray  # (F,) every needed marker seen and every frame defined
    subject: Subject
    fps: float
    path: str = ""
    joints: tuple[str, ...] = JOINTS
    parents: tuple[int, ...] = PARENT_INDEX

    @property
    def n_frames(self) -> int:
        """Number of frames."""
        return int(self.positions.shape[0])

    def bone_lengths(self) -> np.ndarray:
        """(F, J) distance from each joint to its parent (0 for the root), metres."""
        parents = np.array([max(p, 0) for p in self.parents])
        return np.linalg.norm(self.positions - self.positions[:, parents], axis=-1)

    def clip(self, keep: np.ndarray | None = None) -> SourceClip:
        """The SourceClip of the kept frames (a boolean mask; default: every defined frame); its
        T-pose has the kept frames' median bone lengths (the rotations do not depend on them)."""
        keep = self.defined if keep is None else np.asarray(keep, dtype=bool) & self.defined
        if not keep.any():
            raise InputError(f"{self.path or 'marker data'}: no frame is left to build a clip from")
        lengths = np.median(self.bone_lengths()[keep], axis=0)
        return SourceClip(
            joints=self.joints,
            parents=self.parents,
            rest=rest_pose(dict(zip(self.joints, lengths, strict=True))),
            positions=self.positions[keep],
            rotations=self.rotations[keep],
            fps=self.fps,
            path=self.path,
        )


def fit_markers(markers: Markers, subject: Subject | None = None) -> MarkerFit:
    """Joint centres, segment frames and rotations relative to the T-pose, for every frame
    (``subject``: the per-clip constants, measured from the markers when not given)."""
    subject = subject or subject_constants(markers)
    centres = joint_centres(markers, subject)
    frames, defined = segment_frames(markers, centres)
    positions = np.stack([centres[j] for j in JOINTS], axis=1)
    defined &= np.isfinite(positions).all(axis=(1, 2))
    if not defined.any():
        raise InputError(
            f"{markers.path or 'marker data'}: no frame sees every marker the fit needs "
            f"({', '.join(NEEDED_MARKERS)})"
        )
    lengths = {
        joint: _median(np.linalg.norm(centres[joint] - centres[parent], axis=-1)[defined])
        for joint, parent in PARENTS.items()
        if parent is not None
    }
    rest_frames = _rest_frames()
    rotations = np.stack([frames[s] @ rest_frames[s].T for s in map(_segment_of, JOINTS)], axis=1)
    return MarkerFit(
        positions=positions,
        rotations=rotations,
        frames=frames,
        rest=rest_pose(lengths),
        defined=defined,
        subject=subject,
        fps=markers.fps,
        path=markers.path,
    )


# --------------------------------------------------------------------------- quality


@dataclass(frozen=True)
class Residual:
    """How well rigid segments explain the markers, per frame (NaN where the fit is undefined)."""

    rms: np.ndarray  # (F,) RMS marker-to-model distance over the seen markers, metres
    marker_error: np.ndarray  # (F, M) each marker's distance to its model (NaN: unseen/unused)
    names: tuple[str, ...]  # the markers of marker_error's columns
    models: Mapping[str, np.ndarray]  # segment -> (K, 3) its markers in its own frame

    @property
    def max_error(self) -> np.ndarray:
        """(F,) the largest single-marker distance, metres."""
        errors = np.where(np.isnan(self.marker_error), -np.inf, self.marker_error)
        return np.where(np.isfinite(self.rms), errors.max(axis=1), np.nan)


def _residual_pass(markers: Markers, fit: MarkerFit, basis: np.ndarray) -> Residual:
    """Residual against rigid models estimated (median) over the frames in ``basis``."""
    errors = np.full((markers.n_frames, len(markers.names)), np.nan)
    models: dict[str, np.ndarray] = {}
    for segment, names in SEGMENT_MARKERS.items():
        present = [n for n in names if n in markers.names]
        if not present:
            continue
        columns = [markers.index(n) for n in present]
        axes = fit.frames[segment]
        origin = fit.positions[:, JOINTS.index(segment)]
        offsets = markers.positions[:, columns] - origin[:, None]
        local = np.einsum("fji,fkj->fki", axes, offsets)  # Aᵀ (x - o)
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a marker never seen: NaN model
            model = np.nanmedian(np.where(basis[:, None, None], local, np.nan), axis=0)
        models[segment] = model
        predicted = origin[:, None] + np.einsum("fij,kj->fki", axes, model)
        errors[:, columns] = np.linalg.norm(markers.positions[:, columns] - predicted, axis=-1)
    errors[~fit.defined] = np.nan
    seen = np.isfinite(errors)
    with np.errstate(invalid="ignore", divide="ignore"):
        rms = np.sqrt(np.nansum(errors**2, axis=1) / seen.sum(axis=1))
    rms[~fit.defined] = np.nan
    return Residual(rms=rms, marker_error=errors, names=markers.names, models=models)


def fit_residual(markers: Markers, fit: MarkerFit) -> Residual:
    """Per-frame RMS and per-marker distance between the markers and each segment's rigid model
    (its markers in its own frame, median over the defined frames; estimated again without the
    frames that first model rejects, so a marker that slides for a while does not skew it)."""
    first = _residual_pass(markers, fit, fit.defined)
    basis = fit.defined & ~_too_far(first, MAX_RMS_RESIDUAL, MAX_MARKER_ERROR)
    return _residual_pass(markers, fit, basis if basis.any() else fit.defined)


def _too_far(residual: Residual, max_rms: float, max_marker: float) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.asarray((residual.rms > max_rms) | (residual.max_error > max_marker))


def rejected_frames(
    fit: MarkerFit,
    residual: Residual,
    max_rms: float = MAX_RMS_RESIDUAL,
    max_marker: float = MAX_MARKER_ERROR,
) -> np.ndarray:
    """(F,) bool: a needed marker is missing or a frame undefined, or the RMS residual exceeds
    ``max_rms``, or one marker is more than ``max_marker`` from its segment's rigid model."""
    return ~fit.defined | _too_far(residual, max_rms, max_marker)


# --------------------------------------------------------------------------- facing


def facing_yaw(markers: Markers) -> float:
    """Angle (radians, about +y) of the pelvis's forward direction at the first frame that sees
    all four pelvis markers, from +z; a one-line error if the capture is mirrored."""
    _, axes = pelvis_axes(markers)
    seen = np.isfinite(axes).all(axis=(1, 2))
    if not seen.any():
        raise InputError(f"{markers.path or 'marker data'}: no frame sees all four pelvis markers")
    anterior, _, right = axes[np.argmax(seen)].T
    if np.dot(np.cross(-right, Y_AXIS), anterior) <= 0:
        raise InputError(
            f"{markers.path or 'marker data'}: the pelvis's left is not at its left when it is "
            "upright (y up); is the capture mirrored or not z-up?"
        )
    return float(np.arctan2(anterior[0], anterior[2]))


def yaw_rotation(angle: float) -> np.ndarray:
    """Rotation (3, 3) by ``angle`` radians about +y (it turns +z towards +x)."""
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def face_forward(markers: Markers) -> tuple[Markers, float]:
    """The capture turned once about the vertical so the pelvis faces +z at its first frame
    (never per frame), and the angle (radians) it was turned by."""
    angle = -facing_yaw(markers)
    return markers.rotated(yaw_rotation(angle)), angle


#: Runs of consecutive kept frames as (start, stop) index pairs (see :func:`source.runs`).
kept_runs = runs


def markers_to_clip(markers: Markers) -> SourceClip:
    """The capture turned to face +z, fitted, and cut to its longest run of frames that are not
    rejected (a clip must be continuous in time), as a SourceClip."""
    faced, _ = face_forward(markers)
    fit = fit_markers(faced)
    runs = kept_runs(~rejected_frames(fit, fit_residual(faced, fit)))
    if not runs:
        raise InputError(f"{markers.path or 'marker data'}: every frame is rejected")
    start, stop = max(runs, key=lambda run: run[1] - run[0])
    keep = np.zeros(fit.n_frames, dtype=bool)
    keep[start:stop] = True
    return fit.clip(keep)
