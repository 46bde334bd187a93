"""Per-frame vertices, joints and prior distances of the bodies ``posebench view`` shows.

Pure numpy/torch (no viser), so the viewer's content is testable without a browser. Everything
is in posebench's axes (metres, y up, bodies face +z); z-up inputs (AMASS) and fits in a camera's
frame (y down) are turned onto them.
Body ``i`` starts at ``x = SPACING * i``: its first frame's pelvis is moved there horizontally
and its own motion is kept from there. All bodies share one frame axis as long as the longest;
a shorter body holds its last frame.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from posebench.body.base import SMPL22_PARENTS, BodyModel
from posebench.core.errors import PosebenchError
from posebench.datasets.pose_files import WORLDS
from posebench.priors.base import DISTANCE_PRIORS, Prior
from posebench.viz.inputs import Body, ViewInput

SPACING = 1.2  # metres between neighbouring bodies along x
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

    def floor(self) -> float:
        """Lowest y of every body's first frame: where the ground grid goes."""
        lows = []
        for t in self.tracks:
            points = t.vertices(0) if not t.is_skeleton else t.joints(0)
            assert points is not None  # a track that is no skeleton has vertices
            lows.append(float(points[:, 1].min()))
        return min(lows)

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
    unit = "step" if {i.unit for i in inputs} == {"step"} else "frame"
    return ViewScene(
        tracks=tracks,
        frames=max(t.frames for t in tracks),
        fps=float(fps or file_fps or (DEFAULT_STEP_FPS if unit == "step" else DEFAULT_FPS)),
        unit=unit,
        distance_label=distance_label(prior.name),
        names=[i.name for i in inputs],
    )
