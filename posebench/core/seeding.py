"""Seeding: one ``--seed`` seeds python, numpy and torch, and derives independent named streams."""

from __future__ import annotations

import hashlib
import random

import numpy as np
import torch


def seed_everything(seed: int) -> None:
    """Seed python's ``random``, numpy's global state and torch (CPU and every CUDA device)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # also seeds all CUDA devices


def derive_seed(seed: int, *stream: str) -> int:
    """A 63-bit seed for a named stream (e.g. ``"noise"``), stable across runs and platforms."""
    key = ":".join([str(seed), *stream]).encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:8], "little") >> 1


def make_generator(seed: int, *stream: str, device: torch.device | str = "cpu") -> torch.Generator:
    """A torch generator for a named stream: adding a stream never changes another's numbers."""
    generator = torch.Generator(device=device)
    generator.manual_seed(derive_seed(seed, *stream))
    return generator


def numpy_rng(seed: int, *stream: str) -> np.random.Generator:
    """A numpy generator for a named stream."""
    return np.random.default_rng(derive_seed(seed, *stream))
