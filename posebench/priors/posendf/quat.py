"""Pose-NDF's quaternion convention: unit (w, x, y, z), flipped to w >= 0, per joint.

The conversions come from :mod:`posebench.body.rotations`, where roma's (x, y, z, w) order is
converted for all of posebench.
"""

from __future__ import annotations

import torch

from posebench.body.rotations import (  # the one place roma's (x, y, z, w) order is converted
    axis_angle_to_quat,
    quat_to_axis_angle,
    wxyz_to_xyzw,
    xyzw_to_wxyz,
)

__all__ = [
    "axis_angle_to_quat",
    "canonical",
    "flip",
    "normalise",
    "pose_to_network_input",
    "quat_to_axis_angle",
    "wxyz_to_xyzw",
    "xyzw_to_wxyz",
]


def flip(quat: torch.Tensor) -> torch.Tensor:
    """Negate joint quaternions with w < 0 (strictly, as the official code): w >= 0 after."""
    return torch.where(quat[..., :1] < 0, -quat, quat)


def normalise(quat: torch.Tensor) -> torch.Tensor:
    """Unit length along the last axis (size 4), per joint; zero vectors stay finite."""
    return quat / quat.norm(dim=-1, keepdim=True).clamp_min(1e-12)


def canonical(quat: torch.Tensor) -> torch.Tensor:
    """Flip to w >= 0, then normalise per joint: what the network sees everywhere."""
    return normalise(flip(quat))


def pose_to_network_input(pose: torch.Tensor) -> torch.Tensor:
    """``(B, 21, 3)`` axis-angle body pose -> ``(B, 21, 4)`` canonical quaternions."""
    return canonical(axis_angle_to_quat(pose))
