"""Fit body motion to 3D joint observations under a pose prior (denoising, user sequences).

The objective, for windows of T frames:

    Σ ‖J_tj − O_tj‖² / (2 σ_d²) + Σ ‖J_t+1,j − 2 J_tj + J_t−1,j‖² / (2 σ_a²) + w Σ_t E(θ_t)

with J the body model's 22 joints, O the observations, E the prior's energy and w its weight.
Root orientation and translation start from a per-frame rigid fit of the rest skeleton's pelvis
and hips to the observations. Stage 1 refines the root alone; stage 2 fits every frame on its own
(data and prior terms, no smoothness: well conditioned, so it converges in few steps); stage 3
minimises the whole objective from there (the temporal term alone converges slowly from the rest
pose). Priors with a latent space can be optimised in it (θ = decode(z), energy =
latent_energy(z)). The schedule is the same for every prior: only w and E change.

:func:`fit_windows` fits any number of windows in batches of ``batch_windows`` and poses the
result; the denoise task and ``posebench denoise`` (one window, :func:`user_motion_inputs`) both
use it. A config whose ``objective.form`` is ``published`` (the ``posendf`` and ``dposer`` denoise
protocols) is fitted by :mod:`posebench.fitting.published` instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import roma
import torch

from posebench.body.base import BodyModel, BodyOutput
from posebench.core.errors import ConfigError
from posebench.core.progress import NullProgress, Progress
from posebench.datasets.pose_files import MotionInput
from posebench.fitting.published import PublishedObjective, fit_published, objective_form
from posebench.priors.base import LatentPrior, Prior

#: Joints rigidly attached to the root (SMPL-22 indices: pelvis, hips, spine1), whose rest
#: positions fix the initial root orientation and translation.
TORSO = (0, 1, 2, 3)
#: The task whose guidance schedule a prior's fitting energy follows here (Prior.fitting_energy).
TASK = "denoise"


@dataclass
class MotionFit:
    """Fitted motion for W windows of T frames."""

    pose_body: torch.Tensor  # (W, T, 21, 3)
    root_orient: torch.Tensor  # (W, T, 3)
    trans: torch.Tensor  # (W, T, 3)
    final_loss: float
    steps: int


def rigid_root_init(body: BodyModel, observed: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Root orientation and translation (N, 3) that put the rest skeleton's torso on ``observed``
    (N, 22, 3), frame by frame (Kabsch). Assumes the root rotates about the pelvis joint (SMPL).
    """
    rest = body(observed.new_zeros(1, 21, 3)).joints[0].detach()  # (22, 3)
    torso = list(TORSO)
    source = rest[torso].expand(len(observed), -1, -1)
    rotation, translation = roma.rigid_points_registration(source, observed[:, torso])
    pelvis = rest[0]
    trans = translation + rotation @ pelvis - pelvis
    return roma.rotmat_to_rotvec(rotation), trans


def _energy_term(
    prior: Prior, pose_flat: torch.Tensor, latent: torch.Tensor | None, progress: float
) -> torch.Tensor:
    if latent is not None:
        assert isinstance(prior, LatentPrior)  # a latent code exists only for a LatentPrior
        return prior.latent_energy(latent).sum()
    return prior.fitting_energy(pose_flat, progress, TASK).sum()


def _decoded(prior: Prior, latent: torch.Tensor | None, pose: torch.Tensor) -> torch.Tensor:
    """The body pose: ``pose`` itself, or decoded from ``latent`` when fitting in latent space."""
    if latent is None:
        return pose
    assert isinstance(prior, LatentPrior)  # a latent code exists only for a LatentPrior
    return prior.decode(latent)


def fit_motion(
    prior: Prior,
    weight: float,
    body: BodyModel,
    observed: torch.Tensor,
    config: Mapping[str, Any],
    init_pose: torch.Tensor | None = None,
    root: tuple[torch.Tensor, torch.Tensor] | None = None,
    progress: Progress | None = None,
    description: str = "fitting",
) -> MotionFit:
    """Fit (W, T) frames of motion to ``observed`` joints (W, T, 22, 3).

    ``init_pose`` (W, T, 21, 3) starts the body pose (default: rest). ``root`` = (root_orient,
    trans), each (W, T, 3), fixes the root; without it the root is fitted.
    """
    progress = progress or NullProgress()
    n_windows, n_frames = observed.shape[:2]
    n = n_windows * n_frames
    flat_obs = observed.reshape(n, 22, 3)
    terms, schedule = config["terms"], config["optimiser"]
    if root is None:
        root_orient, trans = rigid_root_init(body, flat_obs)
        fit_root = True
    else:
        root_orient, trans = (r.reshape(n, 3).clone() for r in root)
        fit_root = False
    pose = init_pose.reshape(n, 21, 3) if init_pose is not None else flat_obs.new_zeros(n, 21, 3)
    pose = pose.clone()
    latent: torch.Tensor | None = None
    if bool(schedule.get("latent")) and isinstance(prior, LatentPrior) and weight > 0:
        latent = prior.encode(pose).detach().clone()

    def loss_fn(smooth: bool, with_prior: bool, done: float = 0.0) -> torch.Tensor:
        current = _decoded(prior, latent, pose)
        joints = body.forward_skeleton(current, root_orient, trans).joints.reshape(
            n_windows, n_frames, 22, 3
        )
        total = (joints - observed).pow(2).sum() / (2 * terms["data_sigma"] ** 2)
        if smooth:
            accel = joints[:, 2:] - 2 * joints[:, 1:-1] + joints[:, :-2]
            total = total + accel.pow(2).sum() / (2 * terms["accel_sigma"] ** 2)
        if with_prior and weight > 0:
            total = total + weight * _energy_term(prior, current, latent, done)
        return total / n_windows

    body_params = [latent if latent is not None else pose]
    root_params = [root_orient, trans] if fit_root else []
    stages = [  # (name, parameters, learning rate, steps, smoothness term, prior term)
        ("root", root_params, schedule["root_lr"], schedule["root_steps"] if fit_root else 0,
         False, False),
        ("frames", body_params + root_params, schedule["frame_lr"], schedule["frame_steps"],
         False, True),
        ("motion", body_params + root_params, schedule["lr"], schedule["steps"], True, True),
    ]  # fmt: skip
    loss = torch.tensor(float("nan"))
    steps = prior_steps = 0
    total_prior_steps = max(sum(stage[3] for stage in stages if stage[5]), 1)
    for stage, (name, params, lr, n_steps, smooth, with_prior) in enumerate(stages):
        if n_steps == 0:
            continue
        stage_label = f"{description}, stage {stage + 1}/{len(stages)} ({name})"
        for p in params:
            p.requires_grad_(True)
        optimiser = torch.optim.Adam(params, lr=lr)
        for _ in progress.track(range(n_steps), stage_label, n_steps):
            optimiser.zero_grad(set_to_none=True)
            loss = loss_fn(smooth, with_prior, prior_steps / total_prior_steps)
            loss.backward()
            optimiser.step()
            steps += 1
            prior_steps += int(with_prior)
        for p in params:
            p.requires_grad_(False)
    final = _decoded(prior, latent, pose)
    return MotionFit(
        pose_body=final.detach().reshape(n_windows, n_frames, 21, 3),
        root_orient=root_orient.detach().reshape(n_windows, n_frames, 3),
        trans=trans.detach().reshape(n_windows, n_frames, 3),
        final_loss=float(loss.detach()),
        steps=steps,
    )


def fit_windows(
    prior: Prior,
    weight: float,
    body: BodyModel,
    observed: torch.Tensor,
    config: Mapping[str, Any],
    init_pose: torch.Tensor | None = None,
    root: tuple[torch.Tensor, torch.Tensor] | None = None,
    progress: Progress | None = None,
    label: str | None = None,
) -> tuple[MotionFit, BodyOutput]:
    """Fit W windows of ``observed`` joints (W, T, 22, 3) in batches of ``batch_windows``
    (memory) with :func:`fit_motion`, or with the published objective of the config's
    ``objective`` block when its form is ``published`` (posebench/fitting/published.py); return
    the fit and the fitted motion's joints and vertices (W, T, ...).
    ``init_pose`` and ``root`` are as in :func:`fit_motion`; ``label`` names this fit in the
    progress display (default: with or without the prior).
    """
    size = config["batch_windows"]
    published = None
    if objective_form(config) == "published":
        published = PublishedObjective.from_config(config["objective"])
        if init_pose is None or root is None:
            raise ConfigError(
                "the published objectives fit the body pose only: they need an initial pose "
                "and a given root"
            )
    parts = []
    for start in range(0, len(observed), size):
        part = slice(start, start + size)
        name = label or (f"fitting with {prior.name}" if weight else "fitting without a prior")
        end = min(start + size, len(observed))
        description = f"{name}: windows {start + 1}-{end} of {len(observed)}"
        part_init = None if init_pose is None else init_pose[part]
        part_root = None if root is None else (root[0][part], root[1][part])
        if published is not None:
            assert part_init is not None and part_root is not None  # checked above
            args = (prior, weight, body, observed[part], published, part_init, part_root)
            parts.append(_published_part(*args, progress, description))
            continue
        parts.append(
            fit_motion(
                prior,
                weight,
                body,
                observed[part],
                config,
                init_pose=part_init,
                root=part_root,
                progress=progress,
                description=description,
            )
        )
    fit = MotionFit(
        pose_body=torch.cat([p.pose_body for p in parts]),
        root_orient=torch.cat([p.root_orient for p in parts]),
        trans=torch.cat([p.trans for p in parts]),
        final_loss=sum(p.final_loss * len(p.pose_body) for p in parts) / len(observed),
        steps=sum(p.steps for p in parts),
    )
    return fit, body.forward_batched(fit.pose_body, fit.root_orient, fit.trans, chunk=512)


def _published_part(
    prior: Prior,
    weight: float,
    body: BodyModel,
    observed: torch.Tensor,
    objective: PublishedObjective,
    init_pose: torch.Tensor,
    root: tuple[torch.Tensor, torch.Tensor],
    progress: Progress | None,
    description: str,
) -> MotionFit:
    """One batch of windows fitted by a published objective (root kept), as a MotionFit."""
    fit = fit_published(
        prior, weight, body, observed, objective, init_pose, root, progress, description
    )
    return MotionFit(
        pose_body=fit.pose_body,
        root_orient=root[0].detach().clone(),
        trans=root[1].detach().clone(),
        final_loss=fit.final_loss,
        steps=fit.steps,
    )


def user_motion_inputs(
    body: BodyModel, motion: MotionInput, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor | None, tuple[torch.Tensor, torch.Tensor] | None]:
    """A user's motion as one window for :func:`fit_windows`: the observed joints (1, T, 22, 3),
    the initial pose (1, T, 21, 3) or None, and the fixed root or None (fitted).

    Poses are a noisy estimate: the fit starts from them and observes their joints (root and
    translation zero when missing), keeping their root. Joints, when given, are the observations
    and the root is fitted to them.
    """
    init, root = None, None
    if motion.pose_body is not None:
        init = motion.pose_body.to(device)[None]
        zeros = torch.zeros(len(motion.pose_body), 3)
        root_orient = (motion.root_orient if motion.root_orient is not None else zeros).to(device)
        trans = (motion.trans if motion.trans is not None else zeros).to(device)
        if motion.joints is None:
            with torch.no_grad():
                observed = body.forward_skeleton(init[0], root_orient, trans).joints
            root = (root_orient[None], trans[None])
    if motion.joints is not None:
        observed = motion.joints.to(device)
    return observed[None], init, root
