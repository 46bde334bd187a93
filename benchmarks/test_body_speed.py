"""Speed of the body models' forward (joints, vertices, BODY_25), CPU and CUDA.

The embedded body's target: a batch of 64 poses in under 50 ms on a 2-core CPU.
"""

from __future__ import annotations

import pytest
import torch

from posebench.body.anny import AnnyBody


def synchronize(device: torch.device) -> None:
    """Wait for queued CUDA work so a timing covers it (kept local: no import from conftest)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _batches(size: str) -> list[int]:
    return [64] if size == "small" else [64, 512, 4096]


def _poses(batch: int, device: torch.device, requires_grad: bool = False) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    pose = (0.3 * torch.randn(batch, 21, 3, generator=g)).to(device)
    return pose.requires_grad_(requires_grad)


@pytest.mark.parametrize("batch", [64, 512, 4096])
def test_anny_forward(benchmark, size, device, batch):
    if batch not in _batches(size):
        pytest.skip(f"batch {batch} runs at size 'full' only")
    body = AnnyBody(device=device)
    pose = _poses(batch, device)
    root = torch.zeros(batch, 3, device=device)

    def forward() -> None:
        with torch.no_grad():
            body(pose, root_orient=root, transl=root)
        synchronize(device)

    forward()  # warm up
    benchmark.extra_info.update(batch=batch, device=str(device), threads=torch.get_num_threads())
    benchmark(forward)


def test_anny_forward_backward(benchmark, size, device):
    body = AnnyBody(device=device)
    pose = _poses(64, device, requires_grad=True)

    def step() -> None:
        out = body(pose)
        (out.vertices.square().sum() + out.body25.sum()).backward()
        pose.grad = None
        synchronize(device)

    step()
    benchmark.extra_info.update(batch=64, device=str(device), threads=torch.get_num_threads())
    benchmark(step)


def test_anny_load(benchmark):
    benchmark.extra_info.update(what="AnnyBody() from the shipped npz")
    benchmark(AnnyBody)
