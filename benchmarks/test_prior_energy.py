"""Energy + gradient of every registered prior, the inner step of every fitting task."""

from __future__ import annotations

import pytest
import torch

import posebench
from posebench import plugins
from posebench.core.device import synchronize
from posebench.core.errors import InputError

BATCH = {"small": 256, "full": 65_536}


def prior_names() -> list[str]:
    return plugins.get_registry().names("prior")


@pytest.mark.parametrize("name", prior_names())
def test_energy_and_gradient(benchmark, name, size, device):
    prior = posebench.load_prior(name, device=str(device))
    pose = 0.3 * torch.randn(BATCH[size], 21, 3, generator=torch.Generator().manual_seed(0))
    pose = pose.to(device).requires_grad_(True)
    try:
        prior.energy(pose[:1])
    except InputError as exc:  # e.g. no trained weights shipped for this prior yet
        pytest.skip(str(exc))

    def energy_and_gradient() -> torch.Tensor:
        (grad,) = torch.autograd.grad(prior.energy(pose).sum(), pose)
        synchronize(device)
        return grad

    benchmark.group = f"prior energy+grad ({size})"
    benchmark.extra_info.update(prior=name, batch=BATCH[size], device=str(device))
    grad = benchmark(energy_and_gradient)
    assert grad.shape == pose.shape and torch.isfinite(grad).all()
