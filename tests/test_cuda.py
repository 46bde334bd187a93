"""Every CUDA path against the CPU: bodies, each prior's energies, projection, sampling, training,
a whole quick suite, pictures and multi-GPU training (NCCL).

Marked ``cuda``: run with ``pytest -m cuda``; they skip without a CUDA device. The GPU script's
dry run (``benchmarks/gpu/run.sh --dry-run``) sets ``POSEBENCH_CUDA_TESTS_DEVICE=cpu`` so that
they run on the CPU instead, against themselves: CI checks that these tests work, a GPU checks
that CUDA does.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from cli_runner import cli
from synthetic_smpl import make_model

import posebench
from posebench import plugins
from posebench.body.anny import AnnyBody
from posebench.body.smpl import SMPLBody
from posebench.cli.run import packaged_suite
from posebench.core.errors import CapabilityNotSupported
from posebench.render.scene import render_poses
from posebench.render.settings import RenderSettings

pytestmark = pytest.mark.cuda

#: Set to ``cpu`` to run these tests on the CPU when there is no CUDA device (a dry run).
DEVICE_ENV = "POSEBENCH_CUDA_TESTS_DEVICE"
PRIORS = plugins.get_registry().names("prior")
TRAINED = [name for name in PRIORS if name != "none"]
HANG_GUARD_S = 1800  # a hung NCCL rendezvous must not block forever; not a speed requirement


@pytest.fixture(scope="module")
def accelerator() -> torch.device:
    """The CUDA device; the CPU in a dry run; else the test skips."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    if os.environ.get(DEVICE_ENV) == "cpu":
        return torch.device("cpu")
    pytest.skip("no CUDA device")


def poses(n: int, scale: float = 0.3, seed: int = 0) -> torch.Tensor:
    return scale * torch.randn(n, 21, 3, generator=torch.Generator().manual_seed(seed))


def energy_and_gradient(prior, pose: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    pose = pose.clone().requires_grad_(True)
    energy = prior.energy(pose)
    (grad,) = torch.autograd.grad(energy.sum(), pose)
    return energy.detach().cpu(), grad.cpu()


def test_anny_body_matches_cpu(accelerator):
    pose = poses(8, 0.4, seed=1)
    root = 0.3 * torch.randn(8, 3, generator=torch.Generator().manual_seed(2))
    cpu, device = AnnyBody(), AnnyBody(device=accelerator)
    full = device(pose.to(accelerator), root.to(accelerator))
    reference = cpu(pose, root)
    for name in ("joints", "vertices", "body25"):
        torch.testing.assert_close(getattr(full, name).cpu(), getattr(reference, name),
                                   rtol=0, atol=1e-4, msg=name)  # fmt: skip
    skeleton = device.forward_skeleton(pose.to(accelerator), root.to(accelerator))
    assert skeleton.vertices is None
    torch.testing.assert_close(skeleton.body25.cpu(), reference.body25, rtol=0, atol=1e-4)


def test_smpl_body_matches_cpu(accelerator, tmp_path):
    np.savez(tmp_path / "SMPL_NEUTRAL.npz", **make_model())
    pose = poses(4, 0.4, seed=3)
    reference = SMPLBody(path=tmp_path)(pose)
    out = SMPLBody(path=tmp_path, device=accelerator)(pose.to(accelerator))
    torch.testing.assert_close(out.vertices.cpu(), reference.vertices, rtol=0, atol=1e-4)
    torch.testing.assert_close(out.joints.cpu(), reference.joints, rtol=0, atol=1e-4)


@pytest.mark.parametrize("name", PRIORS)
def test_prior_energy_matches_cpu(name, accelerator):
    pose = poses(32)
    energy, grad = energy_and_gradient(posebench.load_prior(name, device="cpu"), pose)
    prior = posebench.load_prior(name, device=str(accelerator))
    energy_on, grad_on = energy_and_gradient(prior, pose.to(accelerator))
    scale = max(1.0, float(energy.abs().max()))
    torch.testing.assert_close(energy_on, energy, rtol=1e-3, atol=1e-4 * scale)
    torch.testing.assert_close(
        grad_on, grad, rtol=1e-3, atol=1e-3 * max(1.0, float(grad.abs().max()))
    )


@pytest.mark.parametrize("name", PRIORS)
def test_fitting_energy_and_sampling_on_device(name, accelerator):
    prior = posebench.load_prior(name, device=str(accelerator))
    pose = poses(16).to(accelerator).requires_grad_(True)
    energy = prior.fitting_energy(pose, 0.5, "denoise")
    (grad,) = torch.autograd.grad(energy.sum(), pose)
    assert energy.shape == (16,) and energy.device.type == accelerator.type
    assert torch.isfinite(energy).all() and torch.isfinite(grad).all()
    try:
        drawn = prior.sample(16, torch.Generator().manual_seed(0))
    except CapabilityNotSupported:
        return
    assert drawn.shape == (16, 21, 3) and torch.isfinite(drawn).all()


def test_posendf_projection_matches_cpu(accelerator):
    start = poses(64, 0.5, seed=4)
    reference = posebench.load_prior("posendf", device="cpu").project(start, steps=20)
    prior = posebench.load_prior("posendf", device=str(accelerator))
    projected = prior.project(start.to(accelerator), steps=20).cpu()
    torch.testing.assert_close(projected, reference, rtol=0, atol=2e-3)
    # bf16 autocast: the distances it gives stay close to float32's
    exact = prior.energy(start.to(accelerator))
    prior.config["bf16"] = True
    low = prior.energy(start.to(accelerator))
    assert float((low - exact).abs().max()) < 1e-2


@pytest.mark.slow
@pytest.mark.parametrize("name", TRAINED)
def test_training_on_device(name, accelerator, capsys, tmp_path):
    code, _, err = cli(capsys, "train", "--prior", name, "--quick", "--device", str(accelerator),
                       "--out", str(tmp_path), "--quiet")  # fmt: skip
    assert code == 0, err
    final = posebench.load_prior(name, device="cpu").final_checkpoint
    checkpoints = sorted(tmp_path.rglob(final))
    assert checkpoints, f"no {final} under {tmp_path}"
    trained = posebench.load_prior(name, checkpoint=str(checkpoints[0]), device="cpu")
    assert torch.isfinite(trained.energy(poses(4))).all()


@pytest.mark.slow
def test_quick_suite_on_device(accelerator, capsys, tmp_path):
    code, _, err = cli(capsys, "suite", "--quick", "--seeds", "0", "--device", str(accelerator),
                       "--out", str(tmp_path), "--quiet")  # fmt: skip
    assert code == 0, err
    records = [json.loads(p.read_text()) for p in sorted(tmp_path.rglob("seed0*.json"))]
    assert len(records) == len(PRIORS) * len(packaged_suite("default")["tasks"])
    for record in records:
        assert record["device"]["type"] == accelerator.type, record["device"]
        for metric, value in record["metrics"].items():
            if isinstance(value, float):
                assert not math.isnan(value), f"{record['prior']} {record['task']} {metric}"


def test_pictures_match_cpu(accelerator):
    pose = poses(2, 0.4, seed=5)
    settings = RenderSettings(size=96)
    reference = render_poses(AnnyBody(), pose, settings=settings)
    pictures = render_poses(AnnyBody(device=accelerator), pose.to(accelerator), settings=settings)
    for cpu, device in zip(reference, pictures, strict=True):
        difference = np.abs(cpu.astype(int) - device.astype(int)).max(axis=-1)
        assert difference.mean() < 2.0  # grey levels: edge pixels may round differently,
        assert (difference > 64).mean() < 0.01  # nothing else


NCCL_SCRIPT = """
import sys
from pathlib import Path
import torch
import posebench
from posebench.priors.posendf.prior import PoseNDFPrior
prior = PoseNDFPrior({overrides!r})
config = {{**prior.config, "quick": False, "seed": 5}}
prior.fit(posebench.load_dataset("embedded"), config, Path(sys.argv[1]), torch.device("cuda"))
"""


@pytest.mark.slow
def test_posendf_training_over_two_gpus_with_nccl(accelerator, tmp_path):
    if accelerator.type != "cuda" or torch.cuda.device_count() < 2:
        pytest.skip("NCCL training needs two CUDA devices")
    overrides = {"model": {"dims": [64, 64]},
                 "train": {"steps": 4, "batch_noisy": 64, "batch_manifold": 32,
                           "checkpoint_every": 2, "log_every": 1, "val_size": 16},
                 "targets": {"per_sigma": 32, "group_size": 32, "num_random": 32}}  # fmt: skip
    script = tmp_path / "train_nccl.py"
    script.write_text(NCCL_SCRIPT.format(overrides=overrides))
    root = str(Path(posebench.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
         str(script), str(tmp_path / "out")],
        env=env, capture_output=True, text=True, timeout=HANG_GUARD_S,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    trained = posebench.load_prior(
        "posendf", checkpoint=str(next((tmp_path / "out").rglob("*.pt")))
    )
    assert trained.record["processes"] == 2
