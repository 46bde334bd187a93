"""What DPoser computes with its score network: noising a pose, the one-step estimate of the clean
pose from a noisy one, and the truncated-timestep score loss its fits minimise.

All of it works on normalised poses: the 63 axis-angle numbers of the 21 body joints, each
z-scored with the training split's mean and standard deviation (:class:`Normaliser`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from posebench.priors.dposer.model import POSE_DIM, ScoreNet
from posebench.priors.dposer.sde import SubVPSDE

#: How the score loss weighs a timestep t, with r = α(t) / σ(t): ``none`` 1/2 (DPoser's motion
#: denoising), ``snr`` ½√(1 + r) (its completion and image fitting), ``snr_squared`` ½√(1 + r²)
#: (DPoser-X's image fitting).
WEIGHTINGS = ("none", "snr", "snr_squared")


@dataclass(frozen=True)
class Normaliser:
    """Per-dimension z-scoring of flattened ``(B, 63)`` axis-angle poses."""

    mean: torch.Tensor  # (63,)
    std: torch.Tensor  # (63,)

    @classmethod
    def fit(cls, poses: torch.Tensor, floor: float = 1e-6) -> Normaliser:
        """The training poses' ``(N, 21, 3)`` statistics (``floor`` keeps unmoved dimensions
        finite)."""
        flat = poses.reshape(len(poses), POSE_DIM).double()
        return cls(flat.mean(0).float(), flat.std(0).clamp_min(floor).float())

    def to(self, device: torch.device) -> Normaliser:
        return Normaliser(self.mean.to(device), self.std.to(device))

    def normalise(self, pose: torch.Tensor) -> torch.Tensor:
        """``(B, 63)`` normalised vectors of ``(B, 21, 3)`` poses."""
        return (pose.reshape(len(pose), POSE_DIM) - self.mean) / self.std

    def denormalise(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, 21, 3)`` poses of ``(B, 63)`` normalised vectors."""
        return (x * self.std + self.mean).reshape(len(x), 21, 3)


def diffuse(sde: SubVPSDE, x: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """``x_t = α(t) x + σ(t) z`` for ``(B, 63)`` poses, ``(B,)`` times and ``(B, 63)`` noise."""
    alpha, sigma = sde.alpha_sigma(t)
    return alpha[:, None] * x + sigma[:, None] * noise


def clean_estimate(
    model: ScoreNet, sde: SubVPSDE, x_t: torch.Tensor, t: torch.Tensor
) -> torch.Tensor:
    """The one-step (Tweedie) estimate of the clean pose, ``x̂₀ = (x_t − σ ε̂) / α``
    (equivalently ``(x_t + σ² ∇log p_t) / α``)."""
    alpha, sigma = sde.alpha_sigma(t)
    return (x_t - sigma[:, None] * model(x_t, t)) / alpha[:, None]


def timestep_weight(sde: SubVPSDE, t: torch.Tensor, weighting: str) -> torch.Tensor:
    """The weight of the score loss at ``(B,)`` times (see :data:`WEIGHTINGS`)."""
    if weighting == "none":
        return torch.full_like(t, 0.5)
    alpha, sigma = sde.alpha_sigma(t)
    ratio = alpha / sigma
    if weighting == "snr":
        return 0.5 * (1.0 + ratio).sqrt()
    if weighting == "snr_squared":
        return 0.5 * (1.0 + ratio.square()).sqrt()
    raise ValueError(f"unknown weighting {weighting!r}; use one of {', '.join(WEIGHTINGS)}")


def score_loss(
    model: ScoreNet,
    sde: SubVPSDE,
    x: torch.Tensor,
    t: torch.Tensor,
    noise: torch.Tensor,
    weighting: str,
    stop_gradient: bool,
) -> torch.Tensor:
    """DPoser's prior term, per pose ``(B,)``: ``w(t) Σ_d (x − x̂₀(x_t))²`` where ``x_t`` is ``x``
    diffused to ``t`` with ``noise``. With ``stop_gradient`` (DPoser's fits) no gradient flows
    through ``x̂₀``, so the gradient is ``2 w(t) (x − x̂₀)``: a step along the score that the
    network estimates at noise level t."""
    x_t = diffuse(sde, x, t, noise)
    if stop_gradient:
        with torch.no_grad():
            target = clean_estimate(model, sde, x_t, t)
    else:
        target = clean_estimate(model, sde, x_t, t)
    return timestep_weight(sde, t, weighting) * (x - target).square().sum(dim=1)


def noise_prediction_loss(
    model: ScoreNet, sde: SubVPSDE, x: torch.Tensor, t: torch.Tensor, noise: torch.Tensor
) -> torch.Tensor:
    """The training loss, per pose ``(B,)``: ``mean_d (ε̂(x_t, t) − z)²`` (denoising score
    matching with the noise as target and no likelihood weighting, as DPoser trains)."""
    return (model(diffuse(sde, x, t, noise), t) - noise).square().mean(dim=1)
