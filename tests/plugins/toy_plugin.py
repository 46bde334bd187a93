"""A complete third-party-style plugin used only by the tests: prior, task, dataset and body.

The tests register it in-process and also ship it inside a real wheel that pip installs, so the
same module proves both registration paths. Nothing here is registered by posebench itself.
"""

from __future__ import annotations

from typing import Any

import roma
import torch

import posebench
from posebench.body.base import SMPL22_PARENTS, BodyModel, BodyOutput
from posebench.core.hashing import hash_arrays
from posebench.datasets.base import Dataset, MotionSequence
from posebench.priors.base import Prior, check_pose
from posebench.tasks.base import Metric, Task, TaskResult

# Rest offsets of the 22 joints from their parents (metres, y up, facing +z, left at +x).
_OFFSETS = torch.tensor(
    [
        [0.0, 0.9, 0.0], [0.09, -0.08, 0.0], [-0.09, -0.08, 0.0], [0.0, 0.1, 0.0],
        [0.0, -0.38, 0.0], [0.0, -0.38, 0.0], [0.0, 0.13, 0.0], [0.0, -0.40, 0.0],
        [0.0, -0.40, 0.0], [0.0, 0.05, 0.0], [0.0, -0.05, 0.12], [0.0, -0.05, 0.12],
        [0.0, 0.21, 0.0], [0.07, 0.11, 0.0], [-0.07, 0.11, 0.0], [0.0, 0.09, 0.03],
        [0.12, 0.02, 0.0], [-0.12, 0.02, 0.0], [0.26, 0.0, 0.0], [-0.26, 0.0, 0.0],
        [0.25, 0.0, 0.0], [-0.25, 0.0, 0.0],
    ]
)  # fmt: skip


class ToyStickBody(BodyModel):
    """A skeleton-only body: forward kinematics of the SMPL-22 tree with fixed bone offsets."""

    name = "toy-stick"
    version = "1"

    def __init__(self, path: Any = None, device: Any = "cpu") -> None:
        self._parents = torch.tensor(SMPL22_PARENTS)
        self.offsets = _OFFSETS.to(device)

    @property
    def parents(self) -> torch.Tensor:
        return self._parents

    def forward(self, pose, root_orient=None, transl=None, shape=None) -> BodyOutput:
        batch = pose.shape[0]
        root = root_orient if root_orient is not None else pose.new_zeros(batch, 3)
        local = roma.rotvec_to_rotmat(torch.cat([root[:, None], pose], dim=1))
        rotations, positions = [local[:, 0]], [self.offsets[0].expand(batch, 3)]
        for joint in range(1, 22):
            parent = SMPL22_PARENTS[joint]
            positions.append(positions[parent] + rotations[parent] @ self.offsets[joint])
            rotations.append(rotations[parent] @ local[:, joint])
        joints = torch.stack(positions, dim=1)
        if transl is not None:
            joints = joints + transl[:, None]
        return BodyOutput(joints=joints, vertices=None)


class ToyPoses(Dataset):
    """Gaussian poses around the rest pose (σ = 0.2 rad), fixed seed, three splits."""

    name = "toy-poses"
    version = "1"
    sizes = {"train": 64, "val": 16, "test": 32}

    def poses(self, split: str) -> torch.Tensor:
        generator = torch.Generator().manual_seed(list(self.sizes).index(self.check_split(split)))
        return 0.2 * torch.randn(self.sizes[split], 21, 3, generator=generator)

    def sequences(self, split: str) -> list[MotionSequence]:
        """Two smooth 2.5 s motions at 60 Hz: joint angles on sines, turning and walking root."""
        generator = torch.Generator().manual_seed(
            10 + list(self.sizes).index(self.check_split(split))
        )
        time = torch.arange(150, dtype=torch.float32)[:, None, None] / 60.0
        out = []
        for index in range(2):
            amplitude = 0.3 * torch.rand(21, 3, generator=generator)
            phase = 6.28 * torch.rand(21, 3, generator=generator)
            pose = amplitude * torch.sin(2.0 * time + phase)
            t = time[:, 0, 0]
            root = torch.stack([0.1 * torch.sin(t), 0.4 * t, torch.zeros_like(t)], dim=1)
            trans = torch.stack([0.5 * t, 0.02 * torch.sin(4 * t), 0.1 * t], dim=1)
            out.append(MotionSequence(pose, root, trans, fps=60.0, name=f"{split}-{index}"))
        return out

    def content_hash(self) -> str:
        return hash_arrays(*(self.poses(split) for split in self.splits))


class ToyGaussPrior(Prior):
    """An isotropic Gaussian on axis-angle: energy = |pose|² / (2 σ²)."""

    name = "toy-gauss"
    version = "1"
    default_config = {"sigma": 0.3, "energy_weights": {}}

    def energy(self, pose: torch.Tensor) -> torch.Tensor:
        check_pose(pose)
        return pose.pow(2).sum(dim=(1, 2)) / (2 * self.config["sigma"] ** 2)

    def project(self, pose, steps=None, tol=None) -> torch.Tensor:
        return check_pose(pose) * 0.5 ** (steps or 1)

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return self.config["sigma"] * torch.randn(n, 21, 3, generator=generator)


class ToyEnergyGap(Task):
    """How much lower a prior scores test poses than uniformly random rotations."""

    name = "toy-energy-gap"
    version = "1"
    protocols = ("default", "wide")
    metrics = {
        "energy_gap": Metric("", higher_is_better=True, description="random minus test energy"),
        "joint_spread_mm": Metric("mm", higher_is_better=False),
    }
    main_metric = "energy_gap"
    default_config = {"n_random": 64, "scale": 1.0, "protocols": {"wide": {"scale": 3.0}},
                      "quick": {"n_random": 16}}  # fmt: skip

    def run(self, prior, dataset, body, config, device, seed, progress) -> TaskResult:
        test = dataset.poses("test").to(device)
        generator = torch.Generator().manual_seed(seed)
        random = config["scale"] * torch.randn(config["n_random"], 21, 3, generator=generator)
        gap = prior.energy(random.to(device)).mean() - prior.energy(test).mean()
        joints = body(test).joints
        spread = (joints - joints[:, :1]).norm(dim=-1).mean() * 1000
        return TaskResult(
            metrics={"energy_gap": float(gap), "joint_spread_mm": float(spread)},
            inputs_hash=hash_arrays(random),
            details={"n_random": config["n_random"]},
        )


@posebench.hookimpl
def register_priors(register) -> None:
    register("toy-gauss", ToyGaussPrior, summary="isotropic Gaussian (test plugin)")


@posebench.hookimpl
def register_tasks(register) -> None:
    register("toy-energy-gap", ToyEnergyGap, summary="energy gap (test plugin)")


@posebench.hookimpl
def register_datasets(register) -> None:
    register("toy-poses", ToyPoses, summary="Gaussian poses (test plugin)")


@posebench.hookimpl
def register_body_models(register) -> None:
    register("toy-stick", ToyStickBody, summary="stick skeleton (test plugin)")
