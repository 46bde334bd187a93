"""NRDF's geometry on the product of 21 unit quaternions (w, x, y, z), one per body joint.

- Distance: the mean over joints of the angle between a joint's two quaternions on S³,
  arccos |<q, q'>| (half the rotation angle between them, so 0..π/2; the sign of a quaternion
  does not matter).
- Training points: a pose moved along geodesics by a chosen total distance: a scalar d is drawn,
  split over the joints by random positive weights (U(0, 1), normalised, times 21, so the joint
  angles average d), and each joint is turned by its share about a random axis, in its own
  frame (q' = q ⊗ δ).
- Projection step: the Euclidean gradient of the field is projected onto each joint's tangent
  space, normalised per joint, carried to the identity's tangent space along the great circle,
  scaled by the step size times the predicted distance (steps shrink near the manifold), and
  applied through the exponential map on the right: q ← q ⊗ exp(ξ).
"""

from __future__ import annotations

import torch

from posebench.body.base import NUM_BODY_JOINTS
from posebench.body.rotations import axis_angle_to_quat, quat_multiply


def canonical(quat: torch.Tensor) -> torch.Tensor:
    """Unit length per joint and w ≥ 0 (a quaternion and its negative are one rotation)."""
    quat = quat / quat.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    return torch.where(quat[..., :1] < 0, -quat, quat)


def geodesic_distance(query: torch.Tensor, other: torch.Tensor) -> torch.Tensor:
    """NRDF's pose distance of broadcastable ``(..., 21, 4)`` unit quaternions: the mean over
    joints of arccos |<q_j, q'_j>| in radians (0..π/2)."""
    dots = (query * other).sum(dim=-1).abs().clamp(max=1.0)
    return torch.arccos(dots).mean(dim=-1)


def perturb(
    quat: torch.Tensor, distance: torch.Tensor, generator: torch.Generator | None = None
) -> torch.Tensor:
    """``(B, 21, 4)`` poses moved by ``distance`` (B,) along random geodesics: each joint turns
    by ``distance × 21 × w_j`` (w_j ~ U(0, 1), normalised over the joints) about a random
    axis, in its own frame. Not canonicalised, as NRDF's training queries."""
    device = quat.device
    shape = quat.shape[:-1]
    weights = torch.rand(*shape, generator=generator, device=device)
    weights = weights / weights.sum(dim=-1, keepdim=True).clamp_min(1e-12)
    angles = distance.to(quat.dtype)[:, None] * NUM_BODY_JOINTS * weights  # (B, 21)
    axis = torch.randn(*shape, 3, generator=generator, device=device, dtype=quat.dtype)
    axis = axis / axis.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    delta = axis_angle_to_quat(axis * angles[..., None])
    return quat_multiply(quat, delta)


def random_starts(n: int, sigma: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """``(n, 21, 4)`` sampling starts: the rest pose perturbed by d ~ N(0, sigma) (NRDF: 1)."""
    device = generator.device if generator is not None else torch.device("cpu")
    rest = torch.zeros(n, NUM_BODY_JOINTS, 4, device=device)
    rest[..., 0] = 1.0
    distance = torch.randn(n, generator=generator, device=device) * sigma
    return canonical(perturb(rest, distance, generator))


def riemannian_step(
    quat: torch.Tensor,
    gradient: torch.Tensor,
    distance: torch.Tensor,
    step_size: float,
    normalise: bool = True,
) -> torch.Tensor:
    """One step of NRDF's Riemannian descent on ``(B, 21, 4)`` unit quaternions with the field's
    Euclidean ``gradient`` and predicted ``distance`` (B,): the tangent part of the gradient
    (per joint, unit length when ``normalise``), carried to the identity along the great circle
    from q, times −``step_size`` × distance, through the exponential map, applied on the right;
    unit and w ≥ 0 after."""
    tangent = gradient - (gradient * quat).sum(dim=-1, keepdim=True) * quat
    if normalise:
        tangent = tangent / tangent.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    w, xyz = quat[..., :1], quat[..., 1:]
    carried = tangent[..., 1:] - xyz * tangent[..., :1] / (1.0 + w).clamp_min(1e-6)  # (B, 21, 3)
    xi = -step_size * distance.to(quat.dtype)[:, None, None] * carried
    angle = xi.norm(dim=-1, keepdim=True)
    scale = torch.where(angle > 1e-12, torch.sin(angle) / angle.clamp_min(1e-12), 1.0)
    exp = torch.cat([torch.cos(angle), scale * xi], dim=-1)
    return canonical(quat_multiply(quat, exp))
