"""The sub-VP SDE DPoser diffuses poses with (Song et al. 2021, continuous time t in [0, 1]).

With ``β(t) = β₀ + t (β₁ − β₀)`` and ``m(t) = −¼ t² (β₁ − β₀) − ½ t β₀``, a clean (normalised) pose
x₀ becomes ``x_t = α(t) x₀ + σ(t) z`` with ``z ~ N(0, I)``, ``α(t) = exp(m(t))`` and
``σ(t) = 1 − exp(2 m(t))`` (the sub-VP standard deviation: no square root). The reverse-time SDE
has drift ``f(x, t) − g(t)² ∇log p_t(x)`` with ``f = −½ β(t) x`` and
``g(t)² = β(t) (1 − exp(−2 β₀ t − (β₁ − β₀) t²))``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class SubVPSDE:
    """The schedule; DPoser's values are β₀ = 0.1, β₁ = 20."""

    beta_min: float = 0.1
    beta_max: float = 20.0

    def beta(self, t: torch.Tensor) -> torch.Tensor:
        """β(t), the instantaneous noise rate."""
        return self.beta_min + t * (self.beta_max - self.beta_min)

    def log_mean_coeff(self, t: torch.Tensor) -> torch.Tensor:
        """m(t) = log α(t)."""
        return -0.25 * t**2 * (self.beta_max - self.beta_min) - 0.5 * t * self.beta_min

    def alpha_sigma(self, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """α(t) and σ(t) of the marginal ``x_t = α x₀ + σ z``."""
        m = self.log_mean_coeff(t)
        return m.exp(), -torch.expm1(2.0 * m)

    def drift_diffusion(
        self, x: torch.Tensor, t: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The forward SDE's drift ``f(x, t)`` and diffusion ``g(t)`` (``t`` shaped like x's
        batch, broadcast over the remaining dimensions)."""
        beta = self.beta(t)
        discount = -torch.expm1(-2.0 * self.beta_min * t - (self.beta_max - self.beta_min) * t**2)
        drift = -0.5 * _expand(beta, x) * x
        return drift, (beta * discount).sqrt()


def _expand(values: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``(B,)`` values shaped to broadcast against ``like`` ``(B, ...)``."""
    return values.reshape(-1, *([1] * (like.ndim - 1)))
