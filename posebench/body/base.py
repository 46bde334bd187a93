"""The BodyModel contract: turns local axis-angle body poses into joints, vertices and keypoints."""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import torch

if TYPE_CHECKING:
    from pathlib import Path

#: SMPL's 22 body joints (pelvis + the 21 joints of a body pose), in SMPL order.
SMPL22_JOINT_NAMES: tuple[str, ...] = (
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2",
    "left_ankle", "right_ankle", "spine3", "left_foot", "right_foot", "neck", "left_collar",
    "right_collar", "head", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist",
)  # fmt: skip

#: Parents of the 22 SMPL body joints (SMPL's 24-joint table without the two hands).
SMPL22_PARENTS: tuple[int, ...] = (
    -1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19,
)  # fmt: skip

#: Joints of a body pose: SMPL joints 1..21 (the pelvis is the root), so poses are (..., 21, 3).
NUM_BODY_JOINTS = 21


@dataclass
class BodyOutput:
    """What a body model's forward returns, batched over B poses (metres, y up)."""

    joints: torch.Tensor  # (B, 22, 3) SMPL-22 skeleton joints
    vertices: torch.Tensor | None  # (B, V, 3) mesh vertices, None for skeleton-only bodies
    body25: torch.Tensor | None = None  # (B, 25, 3) OpenPose BODY_25 keypoints in 3D, if mapped


class BodyModel(abc.ABC):
    """A posable body: SMPL-22 skeleton, optional mesh, and OpenPose keypoint maps.

    ``pose`` is local (parent-relative) axis-angle of the 21 body joints, ``(B, 21, 3)``, relative
    to the model's rest pose; ``root_orient`` ``(B, 3)`` and ``transl`` ``(B, 3)`` place the body
    in the world. Implementations are differentiable and run on CPU or CUDA.

    A registered body is built as ``cls(path=..., device=...)`` (``load_body_model``): ``path``
    names its model files (None: its default), ``device`` where its tensors live.
    """

    name: ClassVar[str]
    version: ClassVar[str] = "0"
    #: Shape coefficients ``forward`` accepts as ``shape`` (B, num_betas); 0 for a fixed body.
    num_betas: int = 0

    if TYPE_CHECKING:
        # The construction contract above, declared for the type checker only: at run time each
        # implementation's own ``__init__`` takes these keywords (the base class adds none).
        def __init__(
            self, path: str | Path | None = None, device: torch.device | str = "cpu"
        ) -> None: ...

    @property
    @abc.abstractmethod
    def parents(self) -> torch.Tensor:
        """(22,) parent index of each joint, -1 for the root."""

    @property
    def faces(self) -> torch.Tensor | None:
        """(F, 3) triangle indices of the mesh, or None for a skeleton-only body."""
        return None

    @property
    def joint_names(self) -> tuple[str, ...]:
        """Names of the 22 joints, SMPL order."""
        return SMPL22_JOINT_NAMES

    @property
    def device(self) -> torch.device:
        """Where the model's tensors live; inputs must be there too (default: the CPU)."""
        return torch.device("cpu")

    @property
    def dtype(self) -> torch.dtype:
        """The floating-point precision the model computes in (default: float32)."""
        return torch.float32

    @property
    def rest_joints(self) -> torch.Tensor:
        """(22, 3) joints of the zero pose with no root rotation or translation."""
        with torch.no_grad():
            zero = torch.zeros(1, NUM_BODY_JOINTS, 3, device=self.device, dtype=self.dtype)
            return self(zero).joints[0]

    @abc.abstractmethod
    def forward(
        self,
        pose: torch.Tensor,
        root_orient: torch.Tensor | None = None,
        transl: torch.Tensor | None = None,
        shape: torch.Tensor | None = None,
    ) -> BodyOutput:
        """Pose the body: joints (B, 22, 3), vertices (B, V, 3) and keypoints where available."""

    def __call__(
        self,
        pose: torch.Tensor,
        root_orient: torch.Tensor | None = None,
        transl: torch.Tensor | None = None,
        shape: torch.Tensor | None = None,
    ) -> BodyOutput:
        return self.forward(pose, root_orient, transl, shape)

    def forward_skeleton(
        self,
        pose: torch.Tensor,
        root_orient: torch.Tensor | None = None,
        transl: torch.Tensor | None = None,
        shape: torch.Tensor | None = None,
    ) -> BodyOutput:
        """Joints and keypoints without the mesh (``vertices`` None): what a fitting loop needs
        at every step. This default poses the whole body and drops the vertices; a body with a
        mesh overrides it to skip skinning them."""
        out = self.forward(pose, root_orient, transl, shape)
        return BodyOutput(joints=out.joints, vertices=None, body25=out.body25)

    def forward_batched(
        self,
        pose: torch.Tensor,
        root_orient: torch.Tensor | None = None,
        transl: torch.Tensor | None = None,
        shape: torch.Tensor | None = None,
        chunk: int = 256,
        mesh: bool = True,
    ) -> BodyOutput:
        """Forward of many poses without gradients, ``chunk`` poses at a time (memory).

        ``pose`` is (..., 21, 3) and the other inputs (..., k) with the same leading shape; the
        outputs keep it: joints (..., 22, 3), vertices (..., V, 3), body25 (..., 25, 3). The
        chunk size is part of the numbers (batched kernels may round differently), so callers
        that must reproduce results keep theirs fixed. ``mesh=False`` poses with
        :meth:`forward_skeleton` (no vertices: a fraction of the time and memory).
        """
        lead = pose.shape[:-2]
        flat_pose = pose.reshape(-1, *pose.shape[len(lead) :])
        others = [
            None if t is None else t.reshape(-1, *t.shape[len(lead) :])
            for t in (root_orient, transl, shape)
        ]
        joints, vertices, body25 = [], [], []
        with torch.no_grad():
            for start in range(0, flat_pose.shape[0], chunk):
                part = [None if t is None else t[start : start + chunk] for t in others]
                pose_chunk = flat_pose[start : start + chunk]
                out = self(pose_chunk, *part) if mesh else self.forward_skeleton(pose_chunk, *part)
                joints.append(out.joints)
                if out.vertices is not None:
                    vertices.append(out.vertices)
                if out.body25 is not None:
                    body25.append(out.body25)
        return BodyOutput(
            joints=torch.cat(joints).reshape(*lead, -1, 3),
            vertices=torch.cat(vertices).reshape(*lead, -1, 3) if vertices else None,
            body25=torch.cat(body25).reshape(*lead, -1, 3) if body25 else None,
        )

    def to(self, device: torch.device | str) -> BodyModel:
        """Move the model's tensors to ``device`` and return it."""
        return self
