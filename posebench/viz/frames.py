"""Per-frame vertices, joints and prior distances of the bodies ``posebench view`` shows.

Pure numpy/torch (no viser), so the viewer's content is testable without a browser. Everything
is in posebench's axes (metres, y up, bodies face +z); z-up inputs (AMASS) and fits in a camera's
frame (y down) are turned onto them.
Body ``i`` starts at ``x = SPACING * i``: its first frame's pelvis is moved there horizontally
and its own motion is kept from there. All bodies share one frame axis as long as the longest;
a shorter body holds its last frame. Labels are sized in the scene (metres, so their widths are
known without a browser) and stacked in rows above the heads wherever neighbours would overlap
(:func:`label_rows`, :meth:`ViewScene.label_positions`).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from posebench.body.base import SMPL22_PARENTS, BodyModel
from posebench.core.errors import PosebenchError
from posebench.datasets.pose_files import WORLDS
from posebench.priors.base import DISTANCE_PRIORS, Prior
from posebench.viz.inputs import Body, ViewInput

SPACING = 1.2  # metres between neighbouring bodies along x
HEAD_JOINT = 15
#: The first view: viser's vertical field of view, and how far the camera stands back for a
#: row of bodies ``width`` metres wide (:func:`camera_distance`).
VIEW_FOV_DEG = 75.0
LABEL_SHARE = 1 / 60  # a label's text height as a share of the first view's height (~15 px)
LABEL_CHAR_WIDTH = 0.62  # a character's width per text height (generous for a sans-serif font)
LABEL_GAP = 0.5  # text heights kept free between two labels of one row (their boxes' padding)
LABEL_LIFT = 0.3  # metres from the head up to the lowest row of labels
LABEL_ROW = 1.8  # text heights from one row of labels to the next
CHUNK = 32  # frames posed at once and cached together
CACHE_BYTES = 512 * 2**20  # vertex cache per body; longer motions are posed again on demand
ENERGY_BATCH = 256
DEFAULT_FPS = 30.0
DEFAULT_STEP_FPS = 5.0  # projection steps: slow enough to watch a few dozen steps


def prior_distances(
    prior: Prior, pose: torch.Tensor, batch: int = ENERGY_BATCH
) -> np.ndarray | None:
    """The prior's energy of every pose (T, 21, 3), batched without gradients; None if it has
    none (a prior that cannot score poses).
    """
    device = prior.device
    out = []
    try:
        with torch.no_grad():
            for start in range(0, len(pose), batch):
                chunk = pose[start : start + batch].to(device)
                out.append(prior.energy(chunk).detach().double().cpu())
    except PosebenchError:
        return None
    return torch.cat(out).numpy() if out else np.zeros(0)


def distance_label(prior_name: str) -> str:
    """The distance field's label: 'posendf distance', or '<prior> energy' for the others."""
    return f"{prior_name} {'distance' if prior_name in DISTANCE_PRIORS else 'energy'}"


def camera_distance(width: float) -> float:
    """Metres from the first view's camera to the middle of a row of bodies ``width`` wide."""
    return 2.4 + 0.8 * width


def label_height(width: float) -> float:
    """Metres of label text height that look :data:`LABEL_SHARE` of the first view tall: labels
    are sized in the scene, so their widths are known here, but as large on screen for 2 bodies
    as for 8 (the camera stands further back for more)."""
    view = 2 * camera_distance(width) * math.tan(math.radians(VIEW_FOV_DEG) / 2)
    return LABEL_SHARE * view


def label_width(text: str, height: float) -> float:
    """Width in metres of a label of text ``height``: an upper bound for the viewer's font."""
    return len(text) * LABEL_CHAR_WIDTH * height


def label_rows(labels: list[str], xs: list[float], height: float) -> list[int]:
    """The row of each label (0 the lowest) so that no two labels of one row overlap.

    Labels are centred on their body's ``x``. Going from left to right, each label takes the
    lowest row whose last label ends at least :data:`LABEL_GAP` text heights before it starts:
    short labels or bodies far apart stay in one row, and long labels of bodies close together
    alternate between rows, however many bodies there are.
    """
    rows = [0] * len(labels)
    ends: list[float] = []  # right edge of the last label in each row
    for index in sorted(range(len(labels)), key=lambda i: xs[i]):
        half = label_width(labels[index], height) / 2
        left, right = xs[index] - half, xs[index] + half
        row = next((r for r, end in enumerate(ends) if end + LABEL_GAP * height <= left), len(ends))
        if row == len(ends):
            ends.append(right)
        else:
            ends[row] = right
        rows[index] = row
    return rows


def label_lifts(labels: list[str], xs: list[float], height: float) -> list[float]:
    """Metres above the highest head at which each label's bottom sits: :func:`label_rows`
    stacked."""
    return [LABEL_LIFT + row * LABEL_ROW * height for row in label_rows(labels, xs, height)]


class Track:
    """One body on screen: its vertices (or skeleton joints) and prior distance per frame."""

    def __init__(
        self,
        source: Body,
        body_model: BodyModel,
        slot: float,
        distances: np.ndarray | None,
        group: int = 0,
    ) -> None:
        self.label = source.label
        self.slot = slot  # x of the first frame's pelvis
        self.group = group  # which --input it came from (the viewer colours by it)
        self.frames = len(source)
        self.distances = distances
        faces = None if source.pose_body is None else body_model.faces
        # joints alone, or a body model without a mesh: drawn as a skeleton
        self.is_skeleton = faces is None
        self.faces = None if faces is None else faces.detach().cpu().numpy().astype(np.uint32)
        self.parents = np.asarray(SMPL22_PARENTS)
        self._source = source
        self._body = body_model
        self._device = body_model.device
        self._cache: OrderedDict[int, tuple[np.ndarray | None, np.ndarray]] = OrderedDict()
        points = 22 + (0 if self.faces is None else int(self.faces.max()) + 1)
        self._max_chunks = max(2, CACHE_BYTES // (12 * CHUNK * points))
        pelvis = self._posed(0)[1][0, 0]  # frame 0, in the viewer's axes
        self._shift = np.array([slot - pelvis[0], 0.0, -pelvis[2]], dtype=np.float32)

    def index(self, frame: int) -> int:
        """The body's own frame shown at ``frame``: its last one once it has ended."""
        return min(max(frame, 0), self.frames - 1)

    def vertices(self, frame: int) -> np.ndarray | None:
        """(V, 3) float32 mesh vertices at ``frame``; None for a skeleton."""
        vertices, _ = self._at(frame)
        return vertices

    def joints(self, frame: int) -> np.ndarray:
        """(22, 3) float32 SMPL-22 joints at ``frame``."""
        return self._at(frame)[1]

    def bones(self, frame: int) -> np.ndarray:
        """(21, 2, 3) line segments child-parent of the skeleton at ``frame``."""
        joints = self.joints(frame)
        children = np.arange(1, len(self.parents))
        return np.stack([joints[children], joints[self.parents[children]]], axis=1)

    def distance(self, frame: int) -> float | None:
        """The prior's distance (energy) of the pose at ``frame``; None without one."""
        if self.distances is None:
            return None
        return float(self.distances[self.index(frame)])

    def _at(self, frame: int) -> tuple[np.ndarray | None, np.ndarray]:
        index = self.index(frame)
        vertices, joints = self._posed(index // CHUNK)
        row = index % CHUNK
        return (None if vertices is None else vertices[row] + self._shift), joints[
            row
        ] + self._shift

    def _posed(self, chunk: int) -> tuple[np.ndarray | None, np.ndarray]:
        if chunk in self._cache:
            self._cache.move_to_end(chunk)
            return self._cache[chunk]
        part = slice(chunk * CHUNK, (chunk + 1) * CHUNK)
        source = self._source
        vertices: np.ndarray | None = None
        if source.pose_body is None:
            assert source.joints is not None  # a Body holds poses or joints
            joints = source.joints[part].numpy()
        else:
            root, trans = (None if t is None else t[part].to(self._device)
                           for t in (source.root_orient, source.trans))  # fmt: skip
            with torch.no_grad():
                out = self._body(source.pose_body[part].to(self._device), root, trans)
            if not self.is_skeleton:
                assert out.vertices is not None  # a body with faces gives its mesh
                vertices = self._upright(out.vertices.detach().float().cpu().numpy())
            joints = out.joints.detach().float().cpu().numpy()
        posed = (vertices, self._upright(joints))
        self._cache[chunk] = posed
        if len(self._cache) > self._max_chunks:
            self._cache.popitem(last=False)
        return posed

    def _upright(self, points: np.ndarray) -> np.ndarray:
        if self._source.world != "y":  # AMASS's z up, a fit's camera frame: turned to y up
            points = points @ WORLDS[self._source.world].T
        return points.astype(np.float32)


@dataclass
class ViewScene:
    """Everything the viewer shows: the bodies, the shared frame axis and how to label it."""

    tracks: list[Track]
    frames: int  # the longest body's
    fps: float
    unit: str  # "frame" or "step" (projection steps: step 0 is the input)
    distance_label: str
    names: list[str]  # one per --input
    label_height: float = 0.1  # metres: the labels' text height
    label_lifts: list[float] = field(default_factory=list)  # per track, above the highest head

    @property
    def width(self) -> float:
        """Metres from the first body's slot to the last one's."""
        slots = [t.slot for t in self.tracks]
        return max(slots) - min(slots) if slots else 0.0

    def floor(self) -> float:
        """Lowest y of every body's first frame: where the ground grid goes."""
        lows = []
        for t in self.tracks:
            points = t.vertices(0) if not t.is_skeleton else t.joints(0)
            assert points is not None  # a track that is no skeleton has vertices
            lows.append(float(points[:, 1].min()))
        return min(lows)

    def label_positions(self, frame: int) -> list[np.ndarray]:
        """Where each body's label sits at ``frame`` (its bottom centre): above its pelvis, in its
        row over the highest head of all bodies. Rows are laid out at the slots and the pelvis
        of a body that does not travel stays at its slot, so labels of one row never meet, and
        rows are stacked over one common top, so no row reaches into another."""
        top = max(float(t.joints(frame)[HEAD_JOINT, 1]) for t in self.tracks)
        positions = []
        for track, lift in zip(self.tracks, self.label_lifts, strict=True):
            pelvis = track.joints(frame)[0]
            positions.append(np.array([pelvis[0], top + lift, pelvis[2]], dtype=np.float32))
        return positions

    def position_text(self, frame: int) -> str:
        """'step 3 of 20 (0 = input)' or 'frame 12 of 551 (0.10 s)' for the read-only field."""
        last = self.frames - 1
        if self.unit == "step":
            return f"step {frame} of {last} (0 = input)"
        return f"frame {frame} of {last} ({frame / self.fps:.2f} s)"


def build_scene(
    inputs: list[ViewInput],
    body_model: BodyModel,
    prior: Any,
    fps: float | None = None,
) -> ViewScene:
    """Tracks for every body of every input, side by side along x, with their distances."""
    tracks: list[Track] = []
    for group, view_input in enumerate(inputs):
        for body in view_input.bodies:
            distances = None
            if body.pose_body is not None:
                distances = prior_distances(prior, body.pose_body)
            tracks.append(Track(body, body_model, SPACING * len(tracks), distances, group))
    file_fps = next((i.fps for i in inputs if i.fps), None)
    slots = [t.slot for t in tracks]
    height = label_height(max(slots) - min(slots))
    unit = "step" if {i.unit for i in inputs} == {"step"} else "frame"
    return ViewScene(
        tracks=tracks,
        frames=max(t.frames for t in tracks),
        fps=float(fps or file_fps or (DEFAULT_STEP_FPS if unit == "step" else DEFAULT_FPS)),
        unit=unit,
        distance_label=distance_label(prior.name),
        names=[i.name for i in inputs],
        label_height=height,
        label_lifts=label_lifts([t.label for t in tracks], slots, height),
    )
