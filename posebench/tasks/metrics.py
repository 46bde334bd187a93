"""Metric functions shared by the tasks (positions in metres in, reported units out).

Definitions follow specs/protocols.md §8 and baselines.md C.4; each function says exactly what it
computes so results can be compared with published numbers where the definitions agree.
"""

from __future__ import annotations

import numpy as np
import roma
import torch


def mpjpe_mm(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean per-joint (or per-vertex) position error in mm over all but the batch dimension.

    ``pred``, ``target``: (B, ..., J, 3) in metres, no alignment; returns (B,).
    """
    error = (pred - target).norm(dim=-1)
    return 1000.0 * error.reshape(error.shape[0], -1).mean(dim=1)


def acceleration(positions: torch.Tensor) -> torch.Tensor:
    """Second differences along time: (B, T, J, 3) -> (B, T-2, J, 3), metres/frame²."""
    return positions[:, 2:] - 2 * positions[:, 1:-1] + positions[:, :-2]


def accel_error_mm(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Acceleration error vs ground truth in mm/frame²: mean_t,j ‖a_pred − a_gt‖, (B,)."""
    return mpjpe_mm(acceleration(pred), acceleration(target))


def procrustes_align(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``pred`` (B, J, 3) after the similarity transform (rotation, translation, scale) that best
    fits it to ``target`` in least squares (Kabsch/Umeyama, via roma), as PA-MPJPE uses.
    """
    rotation, translation, scale = roma.rigid_points_registration(
        pred, target, compute_scaling=True
    )
    return scale[:, None, None] * pred @ rotation.transpose(1, 2) + translation[:, None, :]


def bootstrap_mean_ci(
    values: np.ndarray, seed: int, resamples: int = 2000, level: float = 0.95
) -> tuple[float, float, float]:
    """Mean of ``values`` and its percentile bootstrap interval (resampling the items)."""
    values = np.asarray(values, dtype=np.float64)
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, len(values), size=(resamples, len(values)))].mean(axis=1)
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(values.mean()), float(low), float(high)
