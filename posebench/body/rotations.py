"""Rotation conversions, distances and interpolation, batched and differentiable (on roma).

Representations (every function takes any leading batch shape ``...``):

* axis-angle ``(..., 3)``: rotation vector, angle = norm in radians (SMPL / posebench poses);
* quaternion ``(..., 4)``: **(w, x, y, z)**, unit norm. posebench exposes this order everywhere
  (Pose-NDF's convention); roma works in (x, y, z, w), and the only conversions between the two
  are :func:`wxyz_to_xyzw` and :func:`xyzw_to_wxyz` in this module;
* matrix ``(..., 3, 3)``: rotation matrix acting on column vectors;
* 6D ``(..., 6)``: the first two columns of the matrix, flattened row by row, i.e.
  ``R[..., :, :2].reshape(..., 6)`` = (R00, R01, R10, R11, R20, R21) (Zhou et al. 2019, as in
  VPoser's decoder); mapped back with Gram-Schmidt.

Quaternions returned here lie on the hemisphere w >= 0 (:func:`quat_hemisphere`), so q and -q
(the same rotation) get one representative. Gradients are finite at the zero rotation.
"""

from __future__ import annotations

import roma
import torch

from posebench.core.errors import InputError

__all__ = [
    "axis_angle_to_6d",
    "axis_angle_to_matrix",
    "axis_angle_to_quat",
    "geodesic_distance",
    "geodesic_distance_axis_angle",
    "geodesic_distance_quat",
    "matrix_to_6d",
    "matrix_to_axis_angle",
    "matrix_to_quat",
    "quat_conjugate",
    "quat_hemisphere",
    "quat_multiply",
    "quat_to_axis_angle",
    "quat_to_matrix",
    "rot6d_to_axis_angle",
    "rot6d_to_matrix",
    "slerp_axis_angle",
    "slerp_quat",
    "wxyz_to_xyzw",
    "xyzw_to_wxyz",
]


def _check(x: torch.Tensor, trailing: tuple[int, ...], what: str) -> None:
    if not isinstance(x, torch.Tensor):
        raise InputError(f"{what} must be a torch.Tensor, got {type(x).__name__}")
    if x.dim() < len(trailing) or tuple(x.shape[x.dim() - len(trailing) :]) != trailing:
        shape = ", ".join(str(n) for n in trailing)
        raise InputError(f"{what} must have shape (..., {shape}), got {tuple(x.shape)}")


# --- the one place where quaternion orders meet -----------------------------------------------


def wxyz_to_xyzw(q: torch.Tensor) -> torch.Tensor:
    """(w, x, y, z) -> roma's (x, y, z, w)."""
    _check(q, (4,), "quaternion")
    return torch.cat([q[..., 1:], q[..., :1]], dim=-1)


def xyzw_to_wxyz(q: torch.Tensor) -> torch.Tensor:
    """roma's (x, y, z, w) -> (w, x, y, z)."""
    _check(q, (4,), "quaternion")
    return torch.cat([q[..., 3:], q[..., :3]], dim=-1)


# --- quaternions (w, x, y, z) -----------------------------------------------------------------


def quat_hemisphere(q: torch.Tensor) -> torch.Tensor:
    """Flip quaternions (w, x, y, z) to the hemisphere w >= 0; q and -q are the same rotation."""
    _check(q, (4,), "quaternion")
    return torch.where(q[..., :1] < 0, -q, q)


def quat_multiply(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """Hamilton product p * q of (w, x, y, z) quaternions (apply q first, then p)."""
    return xyzw_to_wxyz(roma.quat_product(wxyz_to_xyzw(p), wxyz_to_xyzw(q)))


def quat_conjugate(q: torch.Tensor) -> torch.Tensor:
    """Conjugate (the inverse, for unit quaternions) of (w, x, y, z) quaternions."""
    _check(q, (4,), "quaternion")
    return torch.cat([q[..., :1], -q[..., 1:]], dim=-1)


def _normalize(q: torch.Tensor) -> torch.Tensor:
    return q / torch.linalg.norm(q, dim=-1, keepdim=True)


# --- conversions --------------------------------------------------------------------------------


def axis_angle_to_matrix(aa: torch.Tensor) -> torch.Tensor:
    """Axis-angle (..., 3) -> rotation matrix (..., 3, 3) (Rodrigues)."""
    _check(aa, (3,), "axis-angle")
    return roma.rotvec_to_rotmat(aa)


def matrix_to_axis_angle(R: torch.Tensor) -> torch.Tensor:
    """Rotation matrix (..., 3, 3) -> axis-angle (..., 3) with angle in [0, pi]."""
    _check(R, (3, 3), "rotation matrix")
    return roma.rotmat_to_rotvec(R)


def axis_angle_to_quat(aa: torch.Tensor) -> torch.Tensor:
    """Axis-angle (..., 3) -> unit quaternion (w, x, y, z) with w >= 0."""
    _check(aa, (3,), "axis-angle")
    return quat_hemisphere(xyzw_to_wxyz(roma.rotvec_to_unitquat(aa)))


def quat_to_axis_angle(q: torch.Tensor) -> torch.Tensor:
    """Quaternion (w, x, y, z) (normalised here) -> axis-angle (..., 3), angle in [0, pi]."""
    _check(q, (4,), "quaternion")
    return roma.unitquat_to_rotvec(wxyz_to_xyzw(_normalize(q)), shortest_arc=True)


def quat_to_matrix(q: torch.Tensor) -> torch.Tensor:
    """Quaternion (w, x, y, z) (normalised here) -> rotation matrix (..., 3, 3)."""
    _check(q, (4,), "quaternion")
    return roma.unitquat_to_rotmat(wxyz_to_xyzw(_normalize(q)))


def matrix_to_quat(R: torch.Tensor) -> torch.Tensor:
    """Rotation matrix (..., 3, 3) -> unit quaternion (w, x, y, z) with w >= 0."""
    _check(R, (3, 3), "rotation matrix")
    return quat_hemisphere(xyzw_to_wxyz(roma.rotmat_to_unitquat(R)))


def matrix_to_6d(R: torch.Tensor) -> torch.Tensor:
    """Rotation matrix (..., 3, 3) -> 6D (..., 6): its first two columns, row by row."""
    _check(R, (3, 3), "rotation matrix")
    return R[..., :, :2].reshape(*R.shape[:-2], 6)


def rot6d_to_matrix(d6: torch.Tensor) -> torch.Tensor:
    """6D (..., 6) -> rotation matrix (..., 3, 3) by Gram-Schmidt on the two columns."""
    _check(d6, (6,), "6D rotation")
    return roma.special_gramschmidt(d6.reshape(*d6.shape[:-1], 3, 2))


def axis_angle_to_6d(aa: torch.Tensor) -> torch.Tensor:
    """Axis-angle (..., 3) -> 6D (..., 6)."""
    return matrix_to_6d(axis_angle_to_matrix(aa))


def rot6d_to_axis_angle(d6: torch.Tensor) -> torch.Tensor:
    """6D (..., 6) -> axis-angle (..., 3)."""
    return matrix_to_axis_angle(rot6d_to_matrix(d6))


# --- distances ----------------------------------------------------------------------------------


def geodesic_distance(R1: torch.Tensor, R2: torch.Tensor) -> torch.Tensor:
    """Angle in [0, pi] (radians) of the rotation between matrices R1 and R2, shape (...)."""
    _check(R1, (3, 3), "rotation matrix")
    _check(R2, (3, 3), "rotation matrix")
    return roma.rotmat_geodesic_distance(R1, R2)


def geodesic_distance_axis_angle(a1: torch.Tensor, a2: torch.Tensor) -> torch.Tensor:
    """Angle in [0, pi] of the rotation between two axis-angle rotations, shape (...)."""
    _check(a1, (3,), "axis-angle")
    _check(a2, (3,), "axis-angle")
    return roma.rotvec_geodesic_distance(a1, a2)


def geodesic_distance_quat(q1: torch.Tensor, q2: torch.Tensor) -> torch.Tensor:
    """Angle in [0, pi] between rotations given as (w, x, y, z) quaternions (sign-invariant)."""
    q1, q2 = _normalize(q1), _normalize(q2)
    return roma.unitquat_geodesic_distance(wxyz_to_xyzw(q1), wxyz_to_xyzw(q2))


# --- interpolation ------------------------------------------------------------------------------


def slerp_quat(q0: torch.Tensor, q1: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
    """Spherical interpolation along the shortest arc, (w, x, y, z) in and out (w >= 0).

    ``t`` (0 gives q0, 1 gives q1) is a float or a tensor broadcastable against the batch shape
    ``...`` of q0 and q1 (e.g. one value per pair). Antipodal inputs (q1 = -q0, the same rotation)
    give that rotation for every t.
    """
    _check(q0, (4,), "quaternion")
    _check(q1, (4,), "quaternion")
    q0, q1 = _normalize(q0), _normalize(q1)
    t = torch.as_tensor(t, dtype=q0.dtype, device=q0.device)
    # q0 * exp(t log(q0^-1 q1)); the log takes the shortest arc (angle <= pi).
    delta = quat_to_axis_angle(quat_multiply(quat_conjugate(q0), q1))
    return quat_hemisphere(quat_multiply(q0, axis_angle_to_quat(t[..., None] * delta)))


def slerp_axis_angle(a0: torch.Tensor, a1: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
    """Spherical interpolation of axis-angle rotations (see :func:`slerp_quat` for ``t``)."""
    return quat_to_axis_angle(slerp_quat(axis_angle_to_quat(a0), axis_angle_to_quat(a1), t))
