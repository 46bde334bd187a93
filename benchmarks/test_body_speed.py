"""Speed of the body models' forward (joints, vertices, BODY_25), CPU and CUDA.

The embedded body's target: a batch of 64 poses in under 50 ms on a 2-core CPU.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from posebench.body.anny import AnnyBody
from posebench.core.device import synchronize


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


@pytest.fixture(scope="module")
def synthetic_smpl(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A random model in SMPL's layout (6890 vertices, the real 24-joint tree); no licensed data."""
    rng = np.random.default_rng(0)
    n_vertices, n_joints = 6890, 24
    parents = [-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21]
    weights = rng.dirichlet(np.ones(n_joints) * 0.1, size=n_vertices)
    regressor = rng.dirichlet(np.ones(n_vertices) * 0.01, size=n_joints)
    folder = tmp_path_factory.mktemp("smpl")
    np.savez(
        folder / "SMPL_NEUTRAL.npz",
        v_template=rng.normal(0, 0.4, (n_vertices, 3)).astype(np.float32),
        f=rng.integers(0, n_vertices, (13776, 3)).astype(np.uint32),
        shapedirs=rng.normal(0, 0.02, (n_vertices, 3, 10)).astype(np.float32),
        posedirs=rng.normal(0, 0.01, (n_vertices, 3, 207)).astype(np.float32),
        J_regressor=regressor.astype(np.float32),
        weights=weights.astype(np.float32),
        kintree_table=np.stack([np.array(parents) % 2**32, np.arange(n_joints)]).astype(np.uint32),
    )
    return str(folder)


def test_smpl_forward(benchmark, size, device, synthetic_smpl):
    pytest.importorskip("smplx")
    from posebench.body.smpl import SMPLBody

    body = SMPLBody(synthetic_smpl, device=device)
    pose = _poses(64, device)

    def forward() -> None:
        with torch.no_grad():
            body(pose)
        synchronize(device)

    forward()
    benchmark.extra_info.update(batch=64, device=str(device), model="synthetic SMPL, 6890 vertices")
    benchmark(forward)


@pytest.mark.parametrize("path", ["forward", "forward_skeleton"])
def test_anny_fitting_step_joints_and_keypoints(benchmark, size, device, path):
    """What one fitting step needs (joints and BODY_25, with gradients) by the full forward,
    which skins every vertex, and by forward_skeleton, which skins none: the ratio is the speed-up
    of every denoise and image_fit step. The batch is one denoise batch (16 windows x 60 frames)
    at full size."""
    batch = 120 if size == "small" else 960
    body = AnnyBody(device=device)
    pose = _poses(batch, device, requires_grad=True)
    pose_body = getattr(body, path)

    def step() -> None:
        out = pose_body(pose)
        (out.joints.square().sum() + out.body25.sum()).backward()
        pose.grad = None
        synchronize(device)

    step()
    benchmark.group = f"anny: joints + BODY_25 with gradients, batch {batch}"
    benchmark.extra_info.update(batch=batch, path=path, device=str(device),
                                threads=torch.get_num_threads())  # fmt: skip
    benchmark(step)
