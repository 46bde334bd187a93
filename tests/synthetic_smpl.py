"""Synthetic SMPL-format models for tests: random geometry on SMPL's real joint tree.

Shared by the SMPL backend's tests and every test that needs a model file in SMPL's layout
(no licensed file is ever used).
"""

from __future__ import annotations

import numpy as np

SMPL_PARENTS = [-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21]


def smpl_parents(n_joints: int) -> list[int]:
    """SMPL's 24-joint tree, or SMPL+H's 52 with three-joint finger chains from each wrist."""
    if n_joints == 24:
        return SMPL_PARENTS
    # SMPL+H: the 22 body joints, then 15 finger joints per hand in chains of 3 from each wrist
    parents = SMPL_PARENTS[:22]
    for wrist in (20, 21):
        for _ in range(5):
            parents += [wrist, len(parents), len(parents) + 1]
    return parents


def make_model(n_vertices: int = 6890, n_joints: int = 24, seed: int = 0) -> dict[str, np.ndarray]:
    """A random model in SMPL's file layout (float32 to keep the files small)."""
    rng = np.random.default_rng(seed)
    v_template = rng.normal(0.0, 0.4, size=(n_vertices, 3))
    J_regressor = np.zeros((n_joints, n_vertices))
    for j in range(n_joints):
        picked = rng.choice(n_vertices, size=12, replace=False)
        J_regressor[j, picked] = rng.dirichlet(np.ones(12))
    weights = np.zeros((n_vertices, n_joints))
    for v in range(n_vertices):
        picked = rng.choice(n_joints, size=3, replace=False)
        weights[v, picked] = rng.dirichlet(np.ones(3))
    parents = smpl_parents(n_joints)
    kintree = np.stack([np.array(parents, dtype=np.int64) % 2**32, np.arange(n_joints)])
    arrays = {
        "v_template": v_template,
        "f": rng.integers(0, n_vertices, size=(2000, 3)).astype(np.uint32),
        "shapedirs": rng.normal(0.0, 0.02, size=(n_vertices, 3, 10)),
        "posedirs": rng.normal(0.0, 0.01, size=(n_vertices, 3, (n_joints - 1) * 9)),
        "J_regressor": J_regressor,
        "weights": weights,
        "kintree_table": kintree.astype(np.uint32),
    }
    return {k: v.astype(np.float32) if v.dtype == np.float64 else v for k, v in arrays.items()}
