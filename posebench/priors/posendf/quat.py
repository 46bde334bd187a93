"""Axis-angle <-> unit quaternions (w, x, y, z) and Pose-NDF's single-hemisphere convention.

roma works in (x, y, z, w); this module is the one place where posebench converts.
"""

from __future__ import annotations

import roma
import torch


def xyzw_to_wxyz(quat: torch.Tensor) -> torch.Tensor:
    """Reorder roma's (x, y, z, w) quaternions to posebench's (w, x, y, z)."""
    return torch.cat([quat[..., 3:], quat[..., :3]], dim=-1)


def wxyz_to_xyzw(quat: torch.Tensor) -> torch.Tensor:
    """Reorder posebench's (w, x, y, z) quaternions to roma's (x, y, z, w)."""
    return torch.cat([quat[..., 1:], quat[..., :1]], dim=-1)


def axis_angle_to_quat(axis_angle: torch.Tensor) -> torch.Tensor:
    """``(..., 3)`` axis-angle -> ``(..., 4)`` unit quaternions (w, x, y, z), smooth at 0."""
    return xyzw_to_wxyz(roma.rotvec_to_unitquat(axis_angle))


def quat_to_axis_angle(quat: torch.Tensor) -> torch.Tensor:
    """``(..., 4)`` unit quaternions (w, x, y, z) -> ``(..., 3)`` axis-angle with angle <= pi."""
    return roma.unitquat_to_rotvec(wxyz_to_xyzw(quat))


def flip(quat: torch.Tensor) -> torch.Tensor:
    """Negate joint quaternions with w < 0 (strictly, as the official code): w >= 0 after."""
    return torch.where(quat[..., :1] < 0, -quat, quat)


def normalise(quat: torch.Tensor) -> torch.Tensor:
    """Unit length along the last axis (size 4), per joint; zero vectors stay finite."""
    return quat / quat.norm(dim=-1, keepdim=True).clamp_min(1e-12)


def canonical(quat: torch.Tensor) -> torch.Tensor:
    """Flip to w >= 0, then normalise per joint: what the network sees everywhere (spec §1)."""
    return normalise(flip(quat))


def pose_to_network_input(pose: torch.Tensor) -> torch.Tensor:
    """``(B, 21, 3)`` axis-angle body pose -> ``(B, 21, 4)`` canonical quaternions."""
    return canonical(axis_angle_to_quat(pose))
