"""Drawing normalised poses from DPoser's network by integrating the reverse-time SDE.

* :func:`euler_maruyama`: DPoser's sampler, predictor only: ``steps`` uniform steps of the reverse
  SDE from t = 1 (pure noise) down to ``eps``; the last step's noise-free mean is the sample.
* :func:`ddim`: the fast deterministic option: at each step the network's noise estimate gives
  the clean pose ``x̂₀``, and the state moves to the next time as ``α x̂₀ + σ ε̂`` (the first-order
  probability-flow step for any Gaussian marginal). It also denoises a given pose from a chosen
  time (:meth:`DPoserPrior.project`).
"""

from __future__ import annotations

import itertools

import torch

from posebench.priors.dposer.model import POSE_DIM, ScoreNet
from posebench.priors.dposer.sde import SubVPSDE

SAMPLERS = ("euler_maruyama", "ddim")


@torch.no_grad()
def euler_maruyama(
    model: ScoreNet,
    sde: SubVPSDE,
    n: int,
    steps: int,
    eps: float,
    generator: torch.Generator | None,
    device: torch.device,
) -> torch.Tensor:
    """``(n, 63)`` normalised samples by ``steps`` Euler–Maruyama steps of the reverse SDE."""
    where = generator.device if generator is not None else device
    x = torch.randn(n, POSE_DIM, generator=generator, device=where).to(device)
    times = torch.linspace(1.0, eps, steps, device=device)
    dt = -(1.0 - eps) / steps
    mean = x
    for time in times:
        t = time.expand(n)
        _, sigma = sde.alpha_sigma(t)
        score = -model(x, t) / sigma[:, None]
        drift, diffusion = sde.drift_diffusion(x, t)
        mean = x + (drift - diffusion[:, None] ** 2 * score) * dt
        noise = torch.randn(n, POSE_DIM, generator=generator, device=where).to(device)
        x = mean + diffusion[:, None] * (-dt) ** 0.5 * noise
    return mean


@torch.no_grad()
def ddim(
    model: ScoreNet, sde: SubVPSDE, x: torch.Tensor, start: float, steps: int, eps: float
) -> torch.Tensor:
    """``(B, 63)``: ``x`` read as the state at time ``start``, moved to ``eps`` in ``steps``
    deterministic steps; returns the last clean-pose estimate."""
    times = torch.linspace(start, eps, steps + 1, device=x.device)
    clean = x
    for now, nxt in itertools.pairwise(times):
        t = now.expand(len(x))
        alpha, sigma = sde.alpha_sigma(t)
        noise = model(x, t)
        clean = (x - sigma[:, None] * noise) / alpha[:, None]
        alpha_next, sigma_next = sde.alpha_sigma(nxt.expand(len(x)))
        x = alpha_next[:, None] * clean + sigma_next[:, None] * noise
    return clean
