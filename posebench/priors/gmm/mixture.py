"""Gaussian mixtures in torch: EM fitting, the SMPLify max-mixture energy, sampling.

EM runs in torch (float64) so it uses the GPU when there is one and adds no dependency; the
covariance floor ``reg_covar`` = 1e-3 matches the eigenvalue floor of SMPLify's gmm_08.pkl
(docs/baselines.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch


@dataclass
class Mixture:
    """Means (K, D), covariances (K, D, D) and weights (K,) of a Gaussian mixture."""

    means: torch.Tensor
    covars: torch.Tensor
    weights: torch.Tensor
    # derived, for the energy: Cholesky of the precisions and the per-component constants
    precision_chol: torch.Tensor = field(init=False, repr=False)
    logdet: torch.Tensor = field(init=False, repr=False)
    nll_constants: torch.Tensor = field(init=False, repr=False)

    def __post_init__(self) -> None:
        k, d = self.means.shape
        if self.covars.shape != (k, d, d) or self.weights.shape != (k,):
            raise ValueError(
                f"mixture shapes disagree: means {tuple(self.means.shape)}, covars "
                f"{tuple(self.covars.shape)}, weights {tuple(self.weights.shape)}"
            )
        covars = 0.5 * (self.covars + self.covars.transpose(1, 2))
        chol = torch.linalg.cholesky(covars)  # raises for a non positive-definite covariance
        eye = torch.eye(d, dtype=covars.dtype, device=covars.device).expand(k, d, d)
        # precision = Σ⁻¹ = L⁻ᵀ L⁻¹, so a Cholesky-like factor of it is L⁻ᵀ
        self.precision_chol = torch.linalg.solve_triangular(chol, eye, upper=False).transpose(1, 2)
        self.logdet = 2.0 * torch.log(torch.diagonal(chol, dim1=1, dim2=2)).sum(dim=1)
        # -log w̃_k = -log w_k + D/2 log 2π + ½ log det Σ_k - ½ min_j log det Σ_j
        self.nll_constants = (
            -torch.log(self.weights)
            + 0.5 * d * math.log(2 * math.pi)
            + 0.5 * self.logdet
            - 0.5 * self.logdet.min()
        )

    @property
    def dim(self) -> int:
        """D, the dimension of the data."""
        return int(self.means.shape[1])

    def to(self, device: torch.device | str, dtype: torch.dtype | None = None) -> Mixture:
        """A copy on ``device`` (and ``dtype``)."""
        dtype = dtype or self.means.dtype
        return Mixture(
            *(t.to(device=device, dtype=dtype) for t in (self.means, self.covars, self.weights))
        )

    def marginal(self, dims: int) -> Mixture:
        """The exact marginal over the first ``dims`` dimensions (same weights)."""
        return Mixture(self.means[:, :dims], self.covars[:, :dims, :dims], self.weights)

    def component_energies(self, x: torch.Tensor) -> torch.Tensor:
        """(N, K): ½ (x − μ_k)ᵀ Σ_k⁻¹ (x − μ_k) − log w̃_k for every component."""
        diff = x[:, None, :] - self.means[None]  # (N, K, D)
        mahalanobis = torch.einsum("nkd,kde->nke", diff, self.precision_chol).pow(2).sum(-1)
        return 0.5 * mahalanobis + self.nll_constants

    def max_mixture_energy(self, x: torch.Tensor) -> torch.Tensor:
        """(N,) SMPLify's merged max-mixture negative log-likelihood."""
        return self.component_energies(x).min(dim=1).values

    def log_likelihood(self, x: torch.Tensor) -> torch.Tensor:
        """(N,) exact log-density of the mixture (log-sum-exp over components)."""
        # -E_k = log(w_k N_k(x)) + ½ min_j log det Σ_j: remove the shared constant
        return torch.logsumexp(-self.component_energies(x), dim=1) - 0.5 * self.logdet.min()

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """(n, D) draws from the mixture."""
        device = self.means.device
        component = torch.multinomial(self.weights.cpu(), n, replacement=True, generator=generator)
        z = torch.randn(n, self.dim, generator=generator, dtype=self.means.dtype)
        chol = torch.linalg.cholesky(self.covars)
        component, z = component.to(device), z.to(device)
        return self.means[component] + torch.einsum("nde,ne->nd", chol[component], z)


@dataclass
class FitReport:
    """How EM went: iterations, final mean log-likelihood per sample, convergence."""

    iterations: int
    log_likelihood: float
    converged: bool
    history: list[float]


def _kmeans_plus_plus(x: torch.Tensor, k: int, generator: torch.Generator) -> torch.Tensor:
    """k-means++ seeding: centres chosen with probability proportional to squared distance."""
    n = x.shape[0]
    first = int(torch.randint(n, (1,), generator=generator).item())
    centres = [x[first]]
    closest = (x - centres[0]).pow(2).sum(-1)
    for _ in range(1, k):
        probabilities = (closest / closest.sum()).cpu()
        index = int(torch.multinomial(probabilities, 1, generator=generator).item())
        centres.append(x[index])
        closest = torch.minimum(closest, (x - x[index]).pow(2).sum(-1))
    return torch.stack(centres)


def _kmeans(
    x: torch.Tensor, k: int, generator: torch.Generator, iterations: int = 20
) -> torch.Tensor:
    """Hard assignments (N,) from Lloyd's k-means after k-means++ seeding."""
    centres = _kmeans_plus_plus(x, k, generator)
    for _ in range(iterations):
        labels = torch.cdist(x, centres).argmin(dim=1)
        for j in range(k):
            members = x[labels == j]
            if len(members):
                centres[j] = members.mean(dim=0)
    return torch.cdist(x, centres).argmin(dim=1)


def _m_step(x: torch.Tensor, resp: torch.Tensor, reg_covar: float) -> Mixture:
    counts = resp.sum(dim=0) + 10 * torch.finfo(x.dtype).eps  # (K,)
    means = resp.T @ x / counts[:, None]
    diff = x[:, None, :] - means[None]  # (N, K, D)
    covars = torch.einsum("nk,nkd,nke->kde", resp, diff, diff) / counts[:, None, None]
    covars = covars + reg_covar * torch.eye(x.shape[1], dtype=x.dtype, device=x.device)
    return Mixture(means, covars, counts / counts.sum())


def fit_mixture(
    x: torch.Tensor,
    n_components: int = 8,
    reg_covar: float = 1e-3,
    max_iter: int = 200,
    tol: float = 1e-4,
    generator: torch.Generator | None = None,
) -> tuple[Mixture, FitReport]:
    """Full-covariance EM from a k-means start; stops when the mean log-likelihood gains < tol."""
    x = x.to(torch.float64)
    generator = generator or torch.Generator().manual_seed(0)
    labels = _kmeans(x, n_components, generator)
    resp = torch.nn.functional.one_hot(labels, n_components).to(x.dtype)
    mixture = _m_step(x, resp, reg_covar)
    history: list[float] = []
    converged = False
    for _ in range(max_iter):
        log_prob = -mixture.component_energies(x)  # up to a constant shared by all components
        resp = torch.softmax(log_prob, dim=1)
        history.append(float(mixture.log_likelihood(x).mean()))
        if len(history) > 1 and abs(history[-1] - history[-2]) < tol:
            converged = True
            break
        mixture = _m_step(x, resp, reg_covar)
    return mixture, FitReport(len(history), history[-1], converged, history)
