"""Shared fixtures for the speed suites: device and problem size.

``POSEBENCH_BENCH_SIZE`` = ``small`` (CI-sized, the default without CUDA) or ``full`` (the default
with CUDA). Run ``pytest benchmarks --benchmark-disable`` to use the suites as smoke tests.
"""

from __future__ import annotations

import os

import pytest
import torch


def bench_size() -> str:
    """'small' or 'full', from POSEBENCH_BENCH_SIZE or the presence of CUDA."""
    value = os.environ.get("POSEBENCH_BENCH_SIZE")
    if value is None:
        return "full" if torch.cuda.is_available() else "small"
    if value not in ("small", "full"):
        raise pytest.UsageError(f"POSEBENCH_BENCH_SIZE must be 'small' or 'full', not {value!r}")
    return value


@pytest.fixture(scope="session")
def size() -> str:
    """The problem size for this run: 'small' or 'full'."""
    return bench_size()


@pytest.fixture(scope="session", params=["cpu", "cuda"])
def device(request: pytest.FixtureRequest) -> torch.device:
    """Each benchmark runs on the CPU and, where present, on CUDA."""
    if request.param == "cuda" and not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    return torch.device(request.param)


def pytest_benchmark_update_machine_info(config: pytest.Config, machine_info: dict) -> None:
    """Record torch and the GPU in the benchmark JSON, so figures carry their device."""
    machine_info["torch"] = torch.__version__
    machine_info["cuda_device"] = (
        torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    )
