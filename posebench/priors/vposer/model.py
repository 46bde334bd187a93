"""The VPoser networks (docs/baselines.md), built so official state dicts load as-is.

Both networks map a body pose ``(N, 21, 3)`` axis-angle (flattened to 63 numbers) to a diagonal
Gaussian posterior over a 32-D latent, and a latent code back to 21 rotation matrices through
the 6D rotation representation. The posterior's second head is called ``logvar`` in the official
code but is used, after a softplus, directly as the **standard deviation**; posebench keeps that
so official weights mean what they meant.

Module names and ``nn.Sequential`` indices follow the official checkpoints (v2 and v1): a
posebench state dict *is* an official state dict without the ``vp_model.`` prefix. Dropout draws
its masks from an explicit generator when one is set, so training is reproducible and resumable
bit for bit without touching torch's global random state.
"""

from __future__ import annotations

import roma
import torch
from torch import nn
from torch.nn import functional as F

from posebench.body.base import NUM_BODY_JOINTS

POSE_DIM = NUM_BODY_JOINTS * 3  # 63
LATENT_DIM = 32
NUM_NEURONS = 512
ARCHITECTURES = ("v2", "v1")


class SeededDropout(nn.Module):
    """Dropout whose masks come from ``self.generator`` (torch's global generator when None).

    It has no parameters, so state dicts are those of ``nn.Dropout``.
    """

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p
        self.generator: torch.Generator | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = torch.rand(x.shape, generator=self.generator, device=x.device, dtype=x.dtype)
        return x * (keep >= self.p).to(x.dtype) / (1.0 - self.p)


class NormalHeads(nn.Module):
    """The posterior heads: ``mu = Linear(h)``, ``std = softplus(logvar(h))`` (official v2)."""

    def __init__(self, n_in: int, latent_dim: int) -> None:
        super().__init__()
        self.mu = nn.Linear(n_in, latent_dim)
        self.logvar = nn.Linear(n_in, latent_dim)

    def forward(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.mu(h), F.softplus(self.logvar(h))


class Rot6dToMatrix(nn.Module):
    """``(N, 21*6)`` -> ``(N, 21, 3, 3)``: each 6-vector viewed as a 3x2 matrix whose columns
    (elements 0, 2, 4 and 1, 3, 5) are Gram-Schmidt orthonormalised; ``b3 = b1 x b2``; the three
    vectors are the matrix's columns (as official v2; posebench's 6D layout is the same).
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        columns = x.reshape(-1, NUM_BODY_JOINTS, 3, 2)
        return roma.special_gramschmidt(columns, epsilon=1e-12)  # eps as F.normalize's


class VPoserV2(nn.Module):
    """VPoser v2 ("V02_05"): 0.94 M parameters; ``encoder_net`` / ``decoder_net`` as officially.

    Encoder: flatten, BN(63), Linear(63, 512), LeakyReLU(0.01), BN(512), Dropout(0.1),
    Linear(512, 512), Linear(512, 512) (no activation between these two, as in the official
    code), heads ``mu`` / ``logvar`` Linear(512, 32). Decoder: Linear(32, 512), LeakyReLU(0.01),
    Dropout(0.1), Linear(512, 512), LeakyReLU(0.01), Linear(512, 126), 6D -> matrix.
    """

    architecture = "v2"

    def __init__(self, num_neurons: int = NUM_NEURONS, latent_dim: int = LATENT_DIM) -> None:
        super().__init__()
        self.encoder_net = nn.Sequential(
            nn.Flatten(start_dim=1),  # 0
            nn.BatchNorm1d(POSE_DIM),  # 1
            nn.Linear(POSE_DIM, num_neurons),  # 2
            nn.LeakyReLU(0.01),  # 3
            nn.BatchNorm1d(num_neurons),  # 4
            SeededDropout(0.1),  # 5
            nn.Linear(num_neurons, num_neurons),  # 6
            nn.Linear(num_neurons, num_neurons),  # 7
            NormalHeads(num_neurons, latent_dim),  # 8
        )
        self.decoder_net = nn.Sequential(
            nn.Linear(latent_dim, num_neurons),  # 0
            nn.LeakyReLU(0.01),  # 1
            SeededDropout(0.1),  # 2
            nn.Linear(num_neurons, num_neurons),  # 3
            nn.LeakyReLU(0.01),  # 4
            nn.Linear(num_neurons, NUM_BODY_JOINTS * 6),  # 5
            Rot6dToMatrix(),  # 6
        )

    def encode(self, pose: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior mean and standard deviation, each ``(N, 32)``, of ``(N, 21, 3)`` poses."""
        return self.encoder_net(pose)

    def decode_matrices(self, z: torch.Tensor) -> torch.Tensor:
        """``(N, 21, 3, 3)`` local rotation matrices of ``(N, 32)`` latent codes."""
        return self.decoder_net(z)


class VPoserV1(nn.Module):
    """VPoser v1 ("vposer_v1_0", SMPLify-X / HuMoR): the named modules of the official v1 code.

    Encoder: BN(63), Linear(63, 512), LeakyReLU(0.2), BN(512), Dropout(0.1), Linear(512, 512),
    LeakyReLU(0.2), heads. Decoder: Linear(32, 512), LeakyReLU(0.2), Dropout(0.1),
    Linear(512, 512), LeakyReLU(0.2), Linear(512, 126), 6D -> matrix.
    """

    architecture = "v1"

    def __init__(self, num_neurons: int = NUM_NEURONS, latent_dim: int = LATENT_DIM) -> None:
        super().__init__()
        self.bodyprior_enc_bn1 = nn.BatchNorm1d(POSE_DIM)
        self.bodyprior_enc_fc1 = nn.Linear(POSE_DIM, num_neurons)
        self.bodyprior_enc_bn2 = nn.BatchNorm1d(num_neurons)
        self.bodyprior_enc_fc2 = nn.Linear(num_neurons, num_neurons)
        self.bodyprior_enc_mu = nn.Linear(num_neurons, latent_dim)
        self.bodyprior_enc_logvar = nn.Linear(num_neurons, latent_dim)
        self.bodyprior_dec_fc1 = nn.Linear(latent_dim, num_neurons)
        self.bodyprior_dec_fc2 = nn.Linear(num_neurons, num_neurons)
        self.bodyprior_dec_out = nn.Linear(num_neurons, NUM_BODY_JOINTS * 6)
        self.enc_dropout = SeededDropout(0.1)
        self.dec_dropout = SeededDropout(0.1)
        self.rot6d = Rot6dToMatrix()

    def encode(self, pose: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior mean and standard deviation, each ``(N, 32)``, of ``(N, 21, 3)`` poses."""
        h = self.bodyprior_enc_bn1(pose.reshape(len(pose), POSE_DIM))
        h = F.leaky_relu(self.bodyprior_enc_fc1(h), 0.2)
        h = self.enc_dropout(self.bodyprior_enc_bn2(h))
        h = F.leaky_relu(self.bodyprior_enc_fc2(h), 0.2)
        return self.bodyprior_enc_mu(h), F.softplus(self.bodyprior_enc_logvar(h))

    def decode_matrices(self, z: torch.Tensor) -> torch.Tensor:
        """``(N, 21, 3, 3)`` local rotation matrices of ``(N, 32)`` latent codes."""
        h = self.dec_dropout(F.leaky_relu(self.bodyprior_dec_fc1(z), 0.2))
        h = F.leaky_relu(self.bodyprior_dec_fc2(h), 0.2)
        return self.rot6d(self.bodyprior_dec_out(h))


VPoserNet = VPoserV2 | VPoserV1


def build_model(architecture: str) -> VPoserNet:
    """A freshly initialised network of the given architecture ("v2" or "v1")."""
    if architecture == "v2":
        return VPoserV2()
    if architecture == "v1":
        return VPoserV1()
    raise ValueError(f"unknown VPoser architecture {architecture!r}; use one of {ARCHITECTURES}")


def set_dropout_generator(model: nn.Module, generator: torch.Generator | None) -> None:
    """Make every dropout layer of ``model`` draw its masks from ``generator``."""
    for module in model.modules():
        if isinstance(module, SeededDropout):
            module.generator = generator


def kl_to_standard_normal(mu: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """``(N,)``: ``sum_d KL(N(mu_d, std_d^2) || N(0, 1))``
    = ``sum_d [-log std_d + (std_d^2 + mu_d^2) / 2 - 1/2]``.

    This is ``torch.distributions.kl_divergence`` of the two normals summed over the latent
    dimensions (training's L_KL before the batch mean). ``std`` is floored at the smallest
    normal float: far from the training data softplus underflows to 0 and the KL would be inf.
    """
    log_std = torch.log(std.clamp_min(torch.finfo(std.dtype).tiny))
    return (-log_std + 0.5 * (std.square() + mu.square()) - 0.5).sum(dim=-1)
