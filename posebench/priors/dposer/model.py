"""DPoser's score network: a time-conditioned residual MLP that predicts the noise in a pose.

Input: the normalised 63-D pose ``x_t`` and the time t. Time enters as a sinusoidal embedding of
``999 t`` (``embed_dim`` wide) passed through one shared Linear + SiLU, then added (through its own
Linear) before every normalisation. Layers: ``Linear(63 → hidden)``, GroupNorm(32), SiLU, Dropout;
``blocks`` residual blocks of two such layers (``h ← h + block(h)``); ``Linear(hidden → 63)``.
With ``scale_by_sigma`` the output is divided by a fixed geometric noise grid (from 50 down to
0.01 over 1000 entries, indexed by ``⌊999 t⌋``), as the published network does; the result is
read as the noise ε, so the score is ``−ε̂ / σ(t)``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

POSE_DIM = 63
GRID_SIGMA_MAX, GRID_SIGMA_MIN, GRID_SIZE = 50.0, 0.01, 1000


def timestep_embedding(labels: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """``(B, dim)`` sinusoidal embedding of ``(B,)`` real-valued labels (sines then cosines)."""
    half = dim // 2
    steps = torch.arange(half, device=labels.device, dtype=torch.float32)
    frequencies = torch.exp(-math.log(max_period) * steps / (half - 1))
    angles = labels.float()[:, None] * frequencies[None]
    embedding = torch.cat([angles.sin(), angles.cos()], dim=1)
    if dim % 2:
        embedding = nn.functional.pad(embedding, (0, 1))
    return embedding


class _TimeLayer(nn.Module):
    """``Linear(h) + Linear(temb)`` → GroupNorm → SiLU → Dropout."""

    def __init__(self, width_in: int, width: int, embed_dim: int, groups: int, dropout: float):
        super().__init__()
        self.dense = nn.Linear(width_in, width)
        self.dense_t = nn.Linear(embed_dim, width)
        self.norm = nn.GroupNorm(groups, width)
        self.act = nn.SiLU()
        self.dropout = nn.Dropout(dropout)

    def forward(self, h: torch.Tensor, temb: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.act(self.norm(self.dense(h) + self.dense_t(temb))))


class _ResidualBlock(nn.Module):
    """``h + layer₂(layer₁(h))``, both layers time-conditioned."""

    def __init__(self, width: int, embed_dim: int, groups: int, dropout: float):
        super().__init__()
        self.first = _TimeLayer(width, width, embed_dim, groups, dropout)
        self.second = _TimeLayer(width, width, embed_dim, groups, dropout)

    def forward(self, h: torch.Tensor, temb: torch.Tensor) -> torch.Tensor:
        return h + self.second(self.first(h, temb), temb)


class ScoreNet(nn.Module):
    """ε̂(x_t, t) for normalised 63-D poses (module docstring)."""

    sigma_grid: torch.Tensor

    def __init__(
        self,
        hidden: int = 1024,
        embed_dim: int = 512,
        blocks: int = 2,
        groups: int = 32,
        dropout: float = 0.1,
        scale_by_sigma: bool = True,
    ) -> None:
        super().__init__()
        self.embed_dim, self.scale_by_sigma = embed_dim, scale_by_sigma
        self.time_embed = nn.Sequential(nn.Linear(embed_dim, embed_dim), nn.SiLU())
        self.first = _TimeLayer(POSE_DIM, hidden, embed_dim, groups, dropout)
        self.blocks = nn.ModuleList(
            _ResidualBlock(hidden, embed_dim, groups, dropout) for _ in range(blocks)
        )
        self.last = nn.Linear(hidden, POSE_DIM)
        grid = torch.logspace(
            math.log10(GRID_SIGMA_MAX), math.log10(GRID_SIGMA_MIN), GRID_SIZE, dtype=torch.float32
        )
        self.register_buffer("sigma_grid", grid, persistent=False)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """``(B, 63)`` predicted noise of ``(B, 63)`` noisy poses at ``(B,)`` times in [0, 1]."""
        temb = self.time_embed(timestep_embedding(999.0 * t, self.embed_dim).to(x.dtype))
        h = self.first(x, temb)
        for block in self.blocks:
            h = block(h, temb)
        out = self.last(h)
        if self.scale_by_sigma:
            index = (999.0 * t).long().clamp(0, GRID_SIZE - 1)
            out = out / self.sigma_grid[index].to(out.dtype)[:, None]
        return out


def build_model(config: Mapping[str, Any]) -> ScoreNet:
    """The network a ``model`` config block describes."""
    return ScoreNet(
        hidden=int(config["hidden"]),
        embed_dim=int(config["embed_dim"]),
        blocks=int(config["blocks"]),
        groups=int(config["groups"]),
        dropout=float(config["dropout"]),
        scale_by_sigma=bool(config["scale_by_sigma"]),
    )
