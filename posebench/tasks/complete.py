"""Pose completion: hide some joints of real held-out poses, let the prior fill them in with the
visible joints held fixed, and score the filled-in joints against the truth.

Each test pose is completed once per mask (a body part such as the left leg, or a seeded draw
of random joints) from several starts (hypotheses): the hidden joints start at the prior's own
initial pose plus seeded Gaussian noise, and Adam lowers the prior's energy over them alone (a
learning rate that decays linearly to zero). A prior without an energy (``none``) leaves them at
their start, which is the floor. Joints the data did not capture are free too but never scored.

Reference rows: the true poses (``data: truth``: zero error, and the plausibility of real
poses), and a prior-free retrieval (``baseline: nearest train pose``: the hidden joints copied
from the training pose nearest on the visible joints).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from posebench.body.base import SMPL22_JOINT_NAMES, SMPL22_PARENTS, BodyModel
from posebench.core.config import packaged_config
from posebench.core.errors import InputError
from posebench.core.hashing import hash_arrays
from posebench.core.progress import NullProgress, Progress
from posebench.core.schema import Rule, above, at_least, between, items, one_of
from posebench.core.seeding import make_generator
from posebench.datasets.base import Dataset
from posebench.priors.base import Prior
from posebench.tasks.base import Metric, Task, TaskResult
from posebench.tasks.metrics import (
    nearest_neighbour,
    nearest_neighbour_geodesic,
    position_joints,
)
from posebench.tasks.sample import DNN_DEFINITION

#: Body parts a mask may hide, by SMPL joint name (the pelvis, the root, is never hidden).
PARTS: dict[str, tuple[str, ...]] = {
    "left_leg": ("left_hip", "left_knee", "left_ankle", "left_foot"),
    "right_leg": ("right_hip", "right_knee", "right_ankle", "right_foot"),
    "left_arm": ("left_collar", "left_shoulder", "left_elbow", "left_wrist"),
    "right_arm": ("right_collar", "right_shoulder", "right_elbow", "right_wrist"),
    "torso": ("spine1", "spine2", "spine3", "neck", "head"),
}
PARTS["legs"] = PARTS["left_leg"] + PARTS["right_leg"]
PARTS["arms"] = PARTS["left_arm"] + PARTS["right_arm"]
#: The mask name that hides ``random_joints`` body joints drawn per pose from a seeded stream.
RANDOM = "random"


def part_mask(part: str) -> torch.Tensor:
    """(21,) bool over the body joints: True where ``part`` hides the joint."""
    names = SMPL22_JOINT_NAMES[1:]
    return torch.tensor([name in PARTS[part] for name in names])


def random_masks(n: int, k: int, among: torch.Tensor, seed: int) -> torch.Tensor:
    """(n, 21) bool: per pose, ``k`` of the joints ``among`` allows, from a seeded stream."""
    candidates = among.nonzero().flatten()
    if k > len(candidates):
        raise InputError(
            f"complete: random_joints is {k}, but only {len(candidates)} body joints are "
            "captured; lower random_joints with --task-config"
        )
    generator = make_generator(seed, "complete-random-joints")
    masks = torch.zeros(n, 21, dtype=torch.bool)
    for row in range(n):
        chosen = candidates[torch.randperm(len(candidates), generator=generator)[:k]]
        masks[row, chosen] = True
    return masks


def scorable_joints(captured: torch.Tensor) -> torch.Tensor:
    """(21,) bool: the captured body joints whose hiding moves some joint with a true position
    (not a leaf such as the head, nor a joint below an uncaptured one)."""
    determined = position_joints(captured)
    single = torch.eye(21, dtype=torch.bool)
    return captured[1:] & (moved_joints(single) & determined).any(dim=1)


def moved_joints(hidden: torch.Tensor) -> torch.Tensor:
    """(..., 22) bool: the SMPL-22 joints whose position a hidden rotation moves (any strict
    ancestor's rotation is hidden); ``hidden`` is (..., 21) over the body joints."""
    rotations = torch.cat([torch.zeros_like(hidden[..., :1]), hidden], dim=-1)
    moved = torch.zeros_like(rotations)
    for joint, parent in enumerate(SMPL22_PARENTS):
        if parent >= 0:
            moved[..., joint] = moved[..., parent] | rotations[..., parent]
    return moved


@dataclass
class Problems:
    """The completion problems: true poses (P, 21, 3), what is hidden (P, 21), the mask each
    problem comes from, its clip, and which joints the data captured."""

    truth: torch.Tensor
    hidden: torch.Tensor
    mask_names: list[str]
    skipped: dict[str, str]  # masks that hide nothing this data can score, and why
    units: list[str]  # the clip of each problem (or its pose, when the data names no clips)
    unit: str  # "clip" or "pose"
    captured: torch.Tensor  # (22,) bool, SMPL-22 rotations the split captured


def complete_with_prior(
    prior: Prior,
    problems: Problems,
    config: Mapping[str, Any],
    seed: int,
    progress: Progress | None = None,
) -> torch.Tensor:
    """(H, P, 21, 3): each problem completed from ``hypotheses`` starts by lowering the prior's
    fitting energy (:meth:`Prior.fitting_energy`) over the free joints (hidden or not captured)
    while the others stay at the truth."""
    truth, device = problems.truth, problems.truth.device
    free = problems.hidden | ~problems.captured[1:].to(device)  # (P, 21)
    n_hyp, n = int(config["hypotheses"]), len(truth)
    generator = make_generator(seed, "complete-starts")
    noise = torch.randn(n_hyp, n, 21, 3, generator=generator).to(device)
    start = prior.initial_pose(n).to(device).detach() + float(config["init_sigma"]) * noise
    keep = free[None, :, :, None]
    variables = start.clone().requires_grad_(True)
    steps = int(config["steps"])
    optimiser = torch.optim.Adam([variables], lr=float(config["lr"]))
    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda step: 1 - step / max(steps, 1))
    stage = f"complete {n} problems x {n_hyp} hypotheses"
    for step in (progress or NullProgress()).track(range(steps), stage, total=steps):
        pose = torch.where(keep, variables, truth)
        energy = prior.fitting_energy(pose.reshape(-1, 21, 3), step / max(steps, 1), "complete")
        if not energy.requires_grad:
            break  # an energy without gradient (the `none` prior): the starts are the answer
        optimiser.zero_grad()
        energy.sum().backward()
        optimiser.step()
        schedule.step()
    return torch.where(keep, variables.detach(), truth)


def nearest_train_completion(problems: Problems, train: torch.Tensor) -> torch.Tensor:
    """(1, P, 21, 3): the hidden joints copied from the training pose nearest (geodesic, summed
    over the visible captured joints) to each problem's visible joints."""
    visible = ~problems.hidden & problems.captured[1:].to(problems.hidden.device)
    train = train.to(problems.truth.device)
    _, rows = nearest_neighbour(problems.truth, train, weights=visible.float())
    return torch.where(problems.hidden[..., None], train[rows], problems.truth)[None]


class CompleteTask(Task):
    """Fill hidden joints of held-out poses with the prior; score them after the body model."""

    name = "complete"
    version = "1"
    protocols = ("parts", "joints")
    metrics: ClassVar[dict[str, Metric]] = {
        "hidden_mpjpe_mm": Metric(
            "mm",
            False,
            "mean position error of the joints the hidden rotations move, over "
            "poses, masks and hypotheses (root-relative, body pose only)",
        ),
        "hidden_mpjpe_min_mm": Metric(
            "mm", False, "the same for each problem's best hypothesis (DPoser-X's 'min')"
        ),
        "mpjpe_mm": Metric("mm", False, "mean position error of every scored joint"),
        "dnn": Metric(
            "rad", False, "dNN of the completed poses to the reference split (plausibility)"
        ),
    }
    main_metric = "hidden_mpjpe_mm"
    default_config = packaged_config("tasks/complete.yaml")
    config_schema: ClassVar[dict[str, Rule]] = {
        "n_poses": at_least(1),
        "hypotheses": at_least(1),
        "init_sigma": at_least(0),
        "steps": at_least(0),
        "lr": above(0),
        "masks": items(one_of(*PARTS, RANDOM), min_length=1),
        "random_joints": between(1, 21),
    }

    def run(
        self,
        prior: Prior,
        dataset: Dataset,
        body: BodyModel,
        config: Mapping[str, Any],
        device: torch.device,
        seed: int,
        progress: Progress,
    ) -> TaskResult:
        problems = self.problems(dataset, config, device, seed)
        for mask, why in problems.skipped.items():
            progress.log(f"complete: mask '{mask}' skipped: {why}")
        completed = complete_with_prior(prior, problems, config, seed, progress)
        result = self._score(completed, problems, dataset, body, config)
        truth = self._score(problems.truth[None], problems, dataset, body, config)
        nearest = nearest_train_completion(problems, dataset.poses("train"))
        result.data_rows = {"truth": truth.metrics}
        result.baseline_rows = {
            "nearest train pose": self._score(nearest, problems, dataset, body, config).metrics
        }
        return result

    def problems(
        self, dataset: Dataset, config: Mapping[str, Any], device: torch.device, seed: int
    ) -> Problems:
        """Seeded test poses, each under every mask of the protocol."""
        split = config["split"]
        poses = dataset.poses(split)
        named = dataset.pose_clips(split)
        clips = named or [f"pose{k}" for k in range(len(poses))]
        order = torch.randperm(len(poses), generator=make_generator(seed, "complete-poses"))
        chosen = order[: int(config["n_poses"])].sort().values
        captured = dataset.observed_joints(split)
        determined = position_joints(captured)
        truth, hidden, names, units = [], [], [], []
        skipped: dict[str, str] = {}
        for mask in config["masks"]:
            if mask == RANDOM:
                among = scorable_joints(captured)
                masks = random_masks(len(chosen), int(config["random_joints"]), among, seed)
            else:
                masks = (part_mask(mask) & captured[1:])[None].expand(len(chosen), 21)
                if not bool((moved_joints(masks[0]) & determined).any()):
                    skipped[mask] = (
                        f"the {split} split has no true position for any joint it moves (a "
                        "joint's position needs every rotation above it captured)"
                    )
                    continue
            truth.append(poses[chosen])
            hidden.append(masks)
            names += [mask] * len(chosen)
            units += [clips[int(k)] for k in chosen]
        if not truth:
            raise InputError(
                f"complete: no mask of {', '.join(config['masks'])} hides a joint whose position "
                f"the {split} split captures; choose other masks with --task-config"
            )
        return Problems(
            torch.cat(truth).to(device), torch.cat(hidden).to(device), names, skipped, units,
            "clip" if named else "pose", captured,
        )  # fmt: skip

    def _score(
        self, completed: torch.Tensor, problems: Problems, dataset: Dataset, body: BodyModel,
        config: Mapping[str, Any],
    ) -> TaskResult:  # fmt: skip
        """Metrics of (H, P, 21, 3) completions of ``problems``."""
        n_hyp, n = completed.shape[:2]
        device = completed.device
        determined = position_joints(problems.captured).to(device)  # (22,)
        scored_hidden = moved_joints(problems.hidden) & determined  # (P, 22)
        joints = body.forward_batched(completed, mesh=False).joints  # (H, P, 22, 3)
        target = body.forward_batched(problems.truth, mesh=False).joints  # (P, 22, 3)
        error = (joints - target).norm(dim=-1)  # (H, P, 22)
        weights = scored_hidden.float()
        hidden_error = (error * weights).sum(-1) / weights.sum(-1).clamp(min=1)  # (H, P)
        body_error = error[..., determined].mean(-1)  # (H, P)
        captured = problems.captured[1:]
        reference = dataset.poses(config["reference_split"]).to(device)
        rotations = captured & dataset.observed_joints(config["reference_split"])[1:]
        dnn = nearest_neighbour_geodesic(
            completed.reshape(-1, 21, 3), reference,
            joints=None if bool(rotations.all()) else rotations,
        )  # fmt: skip
        per_problem = (1000 * hidden_error.mean(0)).tolist()
        per_mask: dict[str, list[float]] = {}
        for name, value in zip(problems.mask_names, per_problem, strict=True):
            per_mask.setdefault(name, []).append(value)
        values: dict[str, list[float]] = {}
        for clip, value in zip(problems.units, per_problem, strict=True):
            values.setdefault(clip, []).append(value)
        return TaskResult(
            metrics={
                "hidden_mpjpe_mm": float(1000 * hidden_error.mean()),
                "hidden_mpjpe_min_mm": float(1000 * hidden_error.min(dim=0).values.mean()),
                "mpjpe_mm": float(1000 * body_error.mean()),
                "dnn": float(dnn.mean()),
            },
            details={
                "problems": n,
                "hypotheses": n_hyp,
                "hidden_mpjpe_mm_per_mask": {k: sum(v) / len(v) for k, v in per_mask.items()},
                "masks_skipped": problems.skipped,
                "scored_joints": int(determined.sum()),
                "dnn_definition": DNN_DEFINITION,
            },
            inputs_hash=hash_arrays(problems.truth, problems.hidden.to(torch.uint8)),
            per_unit={"unit": problems.unit, "item": "problem", "values": values},
        )
