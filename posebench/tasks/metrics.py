"""Metric functions shared by the tasks (positions in metres in, reported units out).

Definitions follow the benchmark protocols (docs/protocols.md); each function says exactly what
it computes so results can be compared with published numbers where the definitions agree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import roma
import torch

from posebench.core.errors import ConfigError

# the FID lives in core so that a prior's training can select its model by it
from posebench.core.frechet import frechet_distance as frechet_distance


def mpjpe_mm(
    pred: torch.Tensor, target: torch.Tensor, joints: torch.Tensor | None = None
) -> torch.Tensor:
    """Mean per-joint (or per-vertex) position error in mm over all but the batch dimension.

    ``pred``, ``target``: (B, ..., J, 3) in metres, no alignment; ``joints``: an optional (B, J)
    or (J,) bool mask of the joints to average over (the captured ones); returns (B,).
    """
    error = (pred - target).norm(dim=-1)
    if joints is None:
        return 1000.0 * error.reshape(error.shape[0], -1).mean(dim=1)
    mask = joints.to(error.device).expand(error.shape[0], error.shape[-1])
    mask = mask.reshape(mask.shape[0], *([1] * (error.ndim - 2)), mask.shape[-1]).expand_as(error)
    total = (error * mask).reshape(error.shape[0], -1).sum(dim=1)
    return 1000.0 * total / mask.reshape(error.shape[0], -1).sum(dim=1).clamp(min=1)


def position_joints(rotation_joints: torch.Tensor) -> torch.Tensor:
    """Which SMPL-22 joint *positions* a motion determines, given which joint *rotations* it
    captured (..., 22) bool: a joint's position depends on the rotations of all its ancestors.
    """
    from posebench.body.base import SMPL22_PARENTS

    out = torch.ones_like(rotation_joints)
    for j, parent in enumerate(SMPL22_PARENTS):
        if parent >= 0:
            out[..., j] = out[..., parent] & rotation_joints[..., parent]
    return out


def acceleration(positions: torch.Tensor) -> torch.Tensor:
    """Second differences along time: (B, T, J, 3) -> (B, T-2, J, 3), metres/frame²."""
    return positions[:, 2:] - 2 * positions[:, 1:-1] + positions[:, :-2]


def accel_error_mm(
    pred: torch.Tensor, target: torch.Tensor, joints: torch.Tensor | None = None
) -> torch.Tensor:
    """Acceleration error vs ground truth in mm/frame²: mean_t,j ‖a_pred − a_gt‖, (B,); over the
    ``joints`` mask when given (see :func:`mpjpe_mm`).
    """
    return mpjpe_mm(acceleration(pred), acceleration(target), joints)


def procrustes_align(
    pred: torch.Tensor, target: torch.Tensor, joints: torch.Tensor | None = None
) -> torch.Tensor:
    """``pred`` (B, J, 3) after the similarity transform (rotation, translation, scale) that best
    fits it to ``target`` in least squares (Kabsch/Umeyama, via roma), as PA-MPJPE uses; fitted
    on the ``joints`` mask (B, J) only when given.
    """
    weights = None if joints is None else joints.to(pred).expand(pred.shape[:2])
    rotation, translation, scale = roma.rigid_points_registration(
        pred, target, weights=weights, compute_scaling=True
    )
    return scale[:, None, None] * pred @ rotation.transpose(1, 2) + translation[:, None, :]


def finite_mean(values: torch.Tensor) -> float | None:
    """Mean over the finite entries (a view without usable keypoints gives NaN), None if none."""
    values = values[torch.isfinite(values)]
    return float(values.mean()) if values.numel() else None


def cluster_bootstrap_mean(
    groups: Mapping[str, Sequence[float] | np.ndarray],
    seed: int,
    resamples: int = 2000,
    level: float = 0.95,
) -> tuple[float, float, float]:
    """Mean over all items and its percentile bootstrap interval, resampling whole groups
    (clips) with their items (windows): items of one group are not independent, so the
    interval is over the groups. With one group the interval is that group's mean, unresolved."""
    values = [np.asarray(v, dtype=np.float64) for v in groups.values() if len(v)]
    if not values:
        raise ValueError("cluster_bootstrap_mean needs at least one non-empty group")
    sums = np.array([v.sum() for v in values])
    counts = np.array([len(v) for v in values], dtype=np.float64)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(values), size=(resamples, len(values)))
    means = sums[picks].sum(axis=1) / counts[picks].sum(axis=1)
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(sums.sum() / counts.sum()), float(low), float(high)


# --- pose distributions (docs/protocols.md) -----------------------------------------------------


def average_pairwise_distance_cm(joints: torch.Tensor) -> float:
    """APD: mean over ordered pairs i ≠ j of the mean joint distance ‖J_i,k − J_j,k‖, in cm.

    ``joints``: (N, J, 3) in metres, posed with body pose only (no root, no translation).
    """
    n = joints.shape[0]
    flat = joints.reshape(n, -1, 3)
    total = joints.new_zeros((), dtype=torch.float64)
    for i in range(n):  # (N, J) distances per row keeps memory at O(N J)
        total += (flat - flat[i]).norm(dim=-1).mean(dim=1).sum().double()
    return float(100.0 * total / (n * (n - 1)))


#: Distance-matrix entries one chunk may hold (2^24 float64: 128 MiB), so memory stays bounded
#: however many points are compared; chunking rows does not change any value.
MATRIX_ENTRIES = 1 << 24


def _rows_per_chunk(columns: int, chunk: int) -> int:
    """Rows of a (rows, columns) distance block that fit in :data:`MATRIX_ENTRIES`."""
    return max(1, min(chunk, MATRIX_ENTRIES // max(columns, 1)))


def _kth_neighbour_radius(x: torch.Tensor, k: int, chunk: int = 4096) -> torch.Tensor:
    radii = []
    chunk = _rows_per_chunk(len(x), chunk)
    for start in range(0, len(x), chunk):
        distances = torch.cdist(x[start : start + chunk], x)
        radii.append(distances.kthvalue(k + 1, dim=1).values)  # +1: the point itself
    return torch.cat(radii)


def _covered(
    points: torch.Tensor, centres: torch.Tensor, radii: torch.Tensor, chunk: int = 4096
) -> torch.Tensor:
    inside = []
    chunk = _rows_per_chunk(len(centres), chunk)
    for start in range(0, len(points), chunk):
        distances = torch.cdist(points[start : start + chunk], centres)
        inside.append((distances <= radii[None]).any(dim=1))
    return torch.cat(inside)


def precision_recall(real: torch.Tensor, fake: torch.Tensor, k: int = 3) -> tuple[float, float]:
    """Improved precision and recall (Kynkäänniemi et al.; PRDC's definitions), Euclidean.

    precision = share of ``fake`` inside some real point's k-NN ball (radius among the reals);
    recall = share of ``real`` inside some fake point's k-NN ball (radius among the fakes).
    """
    smaller = min(len(real), len(fake))
    if not 1 <= k < smaller:
        raise ConfigError(
            f"precision/recall with k = {k} neighbours needs more than k points in each set, "
            f"got {len(real)} reference poses and {len(fake)} samples; use 1 <= k < {smaller} "
            "(--task-config)"
        )
    real, fake = real.double(), fake.double()
    precision = _covered(fake, real, _kth_neighbour_radius(real, k)).double().mean()
    recall = _covered(real, fake, _kth_neighbour_radius(fake, k)).double().mean()
    return float(precision), float(recall)


def _unit_quaternions(pose: torch.Tensor) -> torch.Tensor:
    return roma.rotvec_to_unitquat(pose.double())  # (..., 4); the sign does not matter below


def nearest_neighbour_geodesic(
    poses: torch.Tensor,
    reference: torch.Tensor,
    chunk: int = 256,
    reference_chunk: int = 1024,
    joints: torch.Tensor | None = None,
) -> torch.Tensor:
    """dNN per pose: min over reference poses of Σ_j 2 arccos |⟨q_j, q'_j⟩| (radians, summed
    over the 21 joints, or over the body joints a (21,) bool mask ``joints`` keeps; DPoser's
    definition, see docs/protocols.md). Exact, chunked.
    """
    return nearest_neighbour(poses, reference, chunk, reference_chunk, joints)[0]


def nearest_neighbour(
    poses: torch.Tensor,
    reference: torch.Tensor,
    chunk: int = 256,
    reference_chunk: int = 1024,
    joints: torch.Tensor | None = None,
    weights: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The dNN of each pose (:func:`nearest_neighbour_geodesic`) and the row of the reference
    pose that attains it; ``weights`` (N, 21) weighs each pose's joints in its sum (0 leaves a
    joint out, e.g. the hidden joints of a completion problem). Exact, chunked."""
    if joints is not None:
        poses, reference = poses[..., joints.to(poses.device), :], reference[..., joints, :]
        weights = None if weights is None else weights[..., joints.to(weights.device)]
    q = _unit_quaternions(poses)  # (N, 21, 4)
    r = _unit_quaternions(reference)  # (M, 21, 4)
    best, rows = [], []
    for start in range(0, len(q), chunk):
        block = q[start : start + chunk]
        weight = None if weights is None else weights[start : start + chunk, None].to(q)
        minimum = torch.full((len(block),), float("inf"), dtype=torch.float64, device=q.device)
        index = torch.zeros(len(block), dtype=torch.long, device=q.device)
        for r_start in range(0, len(r), reference_chunk):
            part = r[r_start : r_start + reference_chunk]
            dots = torch.einsum("njc,mjc->nmj", block, part).abs()
            per_joint = 2 * torch.arccos(dots.clamp(max=1.0))
            angles = (per_joint if weight is None else per_joint * weight).sum(dim=-1)
            value, where = angles.min(dim=1)
            closer = value < minimum
            minimum = torch.where(closer, value, minimum)
            index = torch.where(closer, where + r_start, index)
        best.append(minimum)
        rows.append(index)
    return torch.cat(best), torch.cat(rows)
