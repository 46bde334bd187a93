"""Seeded noise models for motion denoising, each returning the noisy data and its content hash.

``humor`` (HuMoR's protocol, docs/protocols.md): i.i.d. Gaussian noise on 3D joint
positions, ``joints + N(0, σ²)`` per coordinate, per joint, per frame; σ = 0.04 m by default
(HuMoR's ``--amass-noise-std 0.04``; DPoser also uses 0.02 and 0.1).

``rotation`` (Pose-NDF's protocol, docs/posendf.md; Pose-NDF issue #17): i.i.d. Gaussian noise
added to the axis-angle body pose of the 21 body joints, ``pose_body + N(0, σ²)`` per component,
σ = 0.1 or 0.5 rad. The sum is used as is: it is not re-wrapped to angles ≤ π, and root
orientation and hands are not touched, as in the published protocol.

HuMoR's and Pose-NDF's own noise was unseeded; here noise is always drawn from a given
generator or seed. Noise is drawn on the generator's device (CPU for an integer seed) and then
moved to the data's device, so a seed gives the same noise on CPU and CUDA.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from posebench.body.base import NUM_BODY_JOINTS
from posebench.core.errors import ConfigError, InputError, UnknownNameError, suggest
from posebench.core.hashing import hash_arrays

HUMOR_SIGMA = 0.04  # metres
ROTATION_SIGMAS = (0.1, 0.5)  # radians, the two levels Pose-NDF reports


@dataclass(frozen=True)
class NoisyData:
    """Noisy tensor, the model that made it and its parameters, and the noisy tensor's hash."""

    noisy: torch.Tensor
    model: str
    params: dict[str, float] = field(default_factory=dict)
    seed: int | None = None  # the integer seed when one was given, else None
    hash: str = ""

    def record(self) -> dict[str, Any]:
        """What a result file stores about the noisy inputs."""
        return {
            "model": self.model,
            "params": dict(self.params),
            "seed": self.seed,
            "hash": self.hash,
        }


def _as_tensor(data: Any, what: str) -> torch.Tensor:
    """A floating tensor without NaN or infinity, else an InputError."""
    tensor = torch.as_tensor(data)  # shares numpy memory; noise is never added in place
    if not tensor.is_floating_point():
        raise InputError(f"{what} must be floating point, got {tensor.dtype}")
    if not torch.isfinite(tensor).all():
        raise InputError(f"{what} contains NaN or infinity; clean the input first")
    return tensor


def _check_sigma(sigma: float, model: str) -> float:
    if not isinstance(sigma, (int, float)) or not math.isfinite(sigma) or sigma <= 0:
        raise ConfigError(f"noise model '{model}': sigma must be a positive number, got {sigma!r}")
    return float(sigma)


def _generator(generator: torch.Generator | int) -> tuple[torch.Generator, int | None]:
    """A torch.Generator (seeded on CPU from an int) and the integer seed, if one was given."""
    if isinstance(generator, torch.Generator):
        return generator, None
    if isinstance(generator, (int, np.integer)) and not isinstance(generator, bool):
        return torch.Generator("cpu").manual_seed(int(generator)), int(generator)
    raise InputError(
        f"noise needs a torch.Generator or an integer seed, got {type(generator).__name__}"
    )


def _gaussian(like: torch.Tensor, sigma: float, generator: torch.Generator) -> torch.Tensor:
    """σ·N(0, 1) shaped like `like`, drawn on the generator's device, returned on like's device."""
    noise = torch.randn(like.shape, generator=generator, dtype=like.dtype, device=generator.device)
    return sigma * noise.to(like.device)


def _result(
    noisy: torch.Tensor, model: str, params: dict[str, float], seed: int | None
) -> NoisyData:
    return NoisyData(noisy=noisy, model=model, params=params, seed=seed, hash=hash_arrays(noisy))


def humor_noise(
    joints: Any, generator: torch.Generator | int, sigma: float = HUMOR_SIGMA
) -> NoisyData:
    """HuMoR protocol: joints (..., J, 3) in metres plus i.i.d. N(0, σ²) per coordinate."""
    sigma = _check_sigma(sigma, "humor")
    joints = _as_tensor(joints, "joint positions")
    if joints.ndim < 2 or joints.shape[-1] != 3:
        raise InputError(f"joint positions must be (..., J, 3), got {tuple(joints.shape)}")
    torch_generator, seed = _generator(generator)
    noisy = joints + _gaussian(joints, sigma, torch_generator)
    return _result(noisy, "humor", {"sigma": sigma}, seed)


def rotation_noise(
    pose: Any, generator: torch.Generator | int, sigma: float = ROTATION_SIGMAS[0]
) -> NoisyData:
    """Pose-NDF protocol: axis-angle body pose (..., 21, 3) plus i.i.d. N(0, σ²) per component."""
    sigma = _check_sigma(sigma, "rotation")
    pose = _as_tensor(pose, "body pose")
    if pose.ndim < 2 or pose.shape[-2:] != (NUM_BODY_JOINTS, 3):
        raise InputError(
            f"body pose must be axis-angle (..., {NUM_BODY_JOINTS}, 3), got {tuple(pose.shape)}"
        )
    torch_generator, seed = _generator(generator)
    noisy = pose + _gaussian(pose, sigma, torch_generator)
    return _result(noisy, "rotation", {"sigma": sigma}, seed)


NoiseModel = Callable[..., NoisyData]
NOISE_MODELS: dict[str, NoiseModel] = {"humor": humor_noise, "rotation": rotation_noise}


def get_noise_model(name: str) -> NoiseModel:
    """The noise function called `name`; unknown names fail with a 'did you mean'."""
    try:
        return NOISE_MODELS[name]
    except KeyError:
        raise UnknownNameError(
            f"unknown noise model '{name}'{suggest(name, NOISE_MODELS)}; "
            f"known: {', '.join(sorted(NOISE_MODELS))}"
        ) from None


def add_noise(name: str, data: Any, generator: torch.Generator | int, **params: float) -> NoisyData:
    """Apply the noise model `name` to `data` with its parameters (e.g. sigma=0.5)."""
    model = get_noise_model(name)
    unknown = set(params) - {"sigma"}
    if unknown:
        raise ConfigError(f"noise model '{name}' takes only 'sigma', not {sorted(unknown)}")
    return model(data, generator, **params)
