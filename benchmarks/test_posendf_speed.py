"""Pose-NDF speed: energy+grad, one projection step, a 100-step projection, 5-NN targets.

Random weights of the published size (speed does not depend on their values). No timing
assertions; ``python benchmarks/posendf_speed.py`` prints a batch sweep against an
official-style loop.
"""

from __future__ import annotations

import pytest
import torch
from posendf_speed import default_model

from posebench.core.device import synchronize
from posebench.priors.posendf.projection import project_quaternions, projection_step
from posebench.priors.posendf.starts import random_starts
from posebench.priors.posendf.targets import knn_targets

BATCH = {"small": 256, "full": 16_384}
PROJECT_BATCH = {"small": 64, "full": 4096}
KNN = {"small": (512, 8192), "full": (8192, 1_000_000)}  # (queries, manifold poses)


def starts(n: int, device: torch.device, seed: int = 0) -> torch.Tensor:
    return random_starts(n, "orthant", torch.Generator().manual_seed(seed)).to(device)


@pytest.fixture(scope="module")
def models():
    return {}


def model_on(models, device):
    if device not in models:
        models[device] = default_model(device, torch.float32)
    return models[device]


def test_energy_and_gradient(benchmark, size, device, models):
    model = model_on(models, device)
    quat = starts(BATCH[size], device)

    def run():
        x = quat.clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(model(x).sum(), x)
        synchronize(device)
        return grad

    benchmark.group = f"posendf energy+grad ({size})"
    benchmark.extra_info.update(batch=BATCH[size], device=str(device))
    assert torch.isfinite(benchmark(run)).all()


def test_one_projection_step(benchmark, size, device, models):
    model = model_on(models, device)
    quat = starts(BATCH[size], device)

    def run():
        with model.frozen():
            out, _ = projection_step(model, quat)
        synchronize(device)
        return out

    benchmark.group = f"posendf projection step ({size})"
    benchmark.extra_info.update(batch=BATCH[size], device=str(device))
    assert benchmark(run).shape == quat.shape


def test_projection_100_steps(benchmark, size, device, models):
    model = model_on(models, device)
    quat = starts(PROJECT_BATCH[size], device)

    def run():
        out = project_quaternions(model, quat, steps=100)
        synchronize(device)
        return out

    benchmark.group = f"posendf 100-step projection ({size})"
    benchmark.extra_info.update(batch=PROJECT_BATCH[size], device=str(device))
    assert torch.isfinite(benchmark.pedantic(run, rounds=3, iterations=1)).all()


@pytest.mark.parametrize("search", ["exact", "candidates"])
def test_knn_targets_chunk(benchmark, size, device, search):
    n_query, n_manifold = KNN[size]
    query = random_starts(n_query, "rest", torch.Generator().manual_seed(1)).to(device)
    manifold = random_starts(n_manifold, "rest", torch.Generator().manual_seed(2)).to(device)

    def run():
        out = knn_targets(query, manifold, k=5, search=search, manifold_chunk=16384)
        synchronize(device)
        return out

    benchmark.group = f"posendf 5-NN targets ({size})"
    benchmark.extra_info.update(queries=n_query, manifold=n_manifold, search=search,
                                device=str(device))  # fmt: skip
    dist, _ = benchmark.pedantic(run, rounds=3, iterations=1)
    assert dist.shape == (n_query, 5)
