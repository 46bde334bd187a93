"""Training VPoser (docs/baselines.md): the loss through a body model, and a resumable loop.

Per batch of body poses θ (root orientation and translation zero):

    z ~ q(z|θ) = N(μ(θ), σ(θ)²)   (one reparameterised sample)
    θ̂ = decode(z)
    L = kl·L_KL + rec·L_mesh + [epoch < keep_extra_until_epoch] (matrot·L_matrot + jtr·L_jtr)

with ``L_KL = mean_batch sum_d KL(N(μ_d, σ_d²) || N(0, 1))``, ``L_mesh = mean |V(θ̂) - V(θ)|``
(L1 over mesh points x xyz, metres), ``L_matrot`` the mean geodesic angle between decoded and
true joint rotations (:func:`geodesic_angle`), ``L_jtr = mean |J(θ̂) - J(θ)|`` over the 22 body
joints. Validation (model selection, LR schedule, early stopping) is
``v2v = mean ||V(θ̂) - V(θ)||₂`` at the posterior mean.

Deviations from the official trainer, all because posebench trains on what it is given: the body
is the configured one (default the embedded ``anny`` body, not SMPL-X); the mesh terms use a
fixed random subset of ``vertex_subsample`` vertices (an unbiased estimate of the all-vertex mean
that keeps the cached targets small; ``null`` = all), and a skeleton-only body uses its joints as
the mesh; ``L_jtr`` is over the 22 body joints (SMPL-X has 55); validation uses the posterior mean.

Resume is bit-identical: ``last.pt`` holds the model, optimiser, scheduler, early-stopping state,
the current epoch's data order and position in it, and the states of the data-order and the
training (reparameterisation noise + dropout) generators.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from posebench.body.load import load_body_model
from posebench.body.rotations import axis_angle_to_matrix, matrix_to_axis_angle
from posebench.core.atomic import atomic_torch_save, atomic_write_json
from posebench.core.config import merge_config
from posebench.core.errors import ConfigError, InputError
from posebench.core.progress import NullProgress, Progress
from posebench.core.seeding import derive_seed, make_generator
from posebench.priors.training import restore, resume_state
from posebench.priors.vposer.model import (
    VPoserNet,
    build_model,
    kl_to_standard_normal,
    set_dropout_generator,
)

LAST = "last.pt"
FINAL = "vposer.pt"
RECORD = "training.json"
#: Train keys that do not change the result (a budget and a checkpoint cadence).
NOT_FINGERPRINTED = ("max_steps", "checkpoint_every")
TERMS = ("loss", "kl", "mesh", "matrot", "jtr")


def training_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """The ``train`` section, with ``quick_train`` merged in when ``config["quick"]``."""
    train = dict(config["train"])
    if config.get("quick"):
        train = merge_config(train, config.get("quick_train") or {}, where="vposer quick_train")
    return train


def mesh_points(output: Any, subset: torch.Tensor | None) -> torch.Tensor:
    """``(B, P, 3)``: the body's vertices (or ``subset`` of them), or its joints if it has none."""
    if output.vertices is None:
        return output.joints
    return output.vertices if subset is None else output.vertices[:, subset]


def reconstruct(model: VPoserNet, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Decoded rotation matrices ``(B, 21, 3, 3)`` and axis-angle pose ``(B, 21, 3)``."""
    matrices = model.decode_matrices(z)
    return matrices, matrix_to_axis_angle(matrices)


def geodesic_angle(R1: torch.Tensor, R2: torch.Tensor) -> torch.Tensor:
    """Angle (radians) of ``R1ᵀR2``: ``atan2(|vee(M - Mᵀ)| / 2, (tr M - 1) / 2)``.

    The same value as the official ``acos(clamp((tr M - 1) / 2, -1, 1))`` but with finite
    gradients everywhere: acos' (and roma's asin-based distance's) derivative is infinite at 0 and
    pi, and a freshly initialised decoder does produce rotations pi away from the target.
    """
    M = R1.transpose(-1, -2) @ R2
    cos = (M.diagonal(dim1=-2, dim2=-1).sum(-1) - 1.0) / 2.0
    skew = torch.stack(
        [M[..., 2, 1] - M[..., 1, 2], M[..., 0, 2] - M[..., 2, 0], M[..., 1, 0] - M[..., 0, 1]], -1
    )
    return torch.atan2(torch.linalg.vector_norm(skew, dim=-1) / 2.0, cos)


@dataclass
class Targets:
    """What the loss compares against, computed once per split (no gradients needed)."""

    pose: torch.Tensor  # (N, 21, 3)
    matrices: torch.Tensor  # (N, 21, 3, 3)
    points: torch.Tensor  # (N, P, 3)
    joints: torch.Tensor  # (N, 22, 3)


@torch.no_grad()
def make_targets(
    body: Any, pose: torch.Tensor, subset: torch.Tensor | None, chunk: int = 256
) -> Targets:
    """Pose the body on ``pose`` in chunks and keep the mesh points and joints."""
    points, joints = [], []
    for start in range(0, len(pose), chunk):
        out = body(pose[start : start + chunk])
        points.append(mesh_points(out, subset))
        joints.append(out.joints)
    return Targets(pose, axis_angle_to_matrix(pose), torch.cat(points), torch.cat(joints))


def batch_losses(
    model: VPoserNet,
    body: Any,
    targets: Targets,
    index: torch.Tensor,
    subset: torch.Tensor | None,
    noise: torch.Generator,
) -> dict[str, torch.Tensor]:
    """The four loss terms (module docstring) on one batch (a sampled z, model in train mode)."""
    pose = targets.pose[index]
    mu, std = model.encode(pose)
    eps = torch.randn(mu.shape, generator=noise, device=mu.device, dtype=mu.dtype)
    matrices, pose_hat = reconstruct(model, mu + std * eps)
    out = body(pose_hat)
    return {
        "kl": kl_to_standard_normal(mu, std).mean(),
        "mesh": (mesh_points(out, subset) - targets.points[index]).abs().mean(),
        "matrot": geodesic_angle(matrices, targets.matrices[index]).mean(),
        "jtr": (out.joints - targets.joints[index]).abs().mean(),
    }


def total_loss(terms: Mapping[str, torch.Tensor], train: Mapping[str, Any], epoch: int) -> Any:
    """``kl·L_KL + rec·L_mesh + [epoch < keep_extra_until_epoch](matrot·L_matrot + jtr·L_jtr)``."""
    loss = train["kl_weight"] * terms["kl"] + train["rec_weight"] * terms["mesh"]
    if epoch < train["keep_extra_until_epoch"]:
        loss = loss + train["matrot_weight"] * terms["matrot"] + train["jtr_weight"] * terms["jtr"]
    return loss


@torch.no_grad()
def validate(
    model: VPoserNet, body: Any, targets: Targets, subset: torch.Tensor | None, chunk: int = 256
) -> float:
    """Mean vertex-to-vertex distance (metres) of posterior-mean reconstructions (eval mode)."""
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    for start in range(0, len(targets.pose), chunk):
        pose = targets.pose[start : start + chunk]
        _, pose_hat = reconstruct(model, model.encode(pose)[0])
        err = (mesh_points(body(pose_hat), subset) - targets.points[start : start + chunk]).norm(
            dim=-1
        )
        total += float(err.sum())
        count += err.numel()
    model.train(was_training)
    return total / max(count, 1)


def _fingerprint(train_data: Any, config: Mapping[str, Any], train: Mapping[str, Any]) -> dict:
    return {
        "dataset": getattr(train_data, "name", "?"),
        "content_hash": train_data.content_hash(),
        "architecture": config["architecture"],
        "body_model": config["body_model"],
        "body_model_path": config.get("body_model_path"),
        "seed": int(config.get("seed", 0)),
        "quick": bool(config.get("quick", False)),
        "train": {k: v for k, v in train.items() if k not in NOT_FINGERPRINTED},
    }


def _check_poses(poses: Any, split: str, minimum: int) -> torch.Tensor:
    if not isinstance(poses, torch.Tensor) or poses.ndim != 3 or poses.shape[1:] != (21, 3):
        raise InputError(f"vposer training: the {split} split must be poses of shape (N, 21, 3)")
    if len(poses) < minimum or not torch.isfinite(poses).all():
        raise InputError(
            f"vposer training: the {split} split needs at least {minimum} finite poses, "
            f"got {len(poses)}"
        )
    return poses.to(torch.float32)


def fit_vposer(
    train_data: Any,
    config: Mapping[str, Any],
    out_dir: Path,
    device: torch.device,
    progress: Progress | None = None,
    resume: bool = False,
) -> tuple[VPoserNet, Path, dict[str, Any]]:
    """Train (or resume training) a VPoser network; returns it (best-validation weights), the
    path of its final checkpoint file to write, and the training record.

    The caller (:meth:`VPoserPrior.fit`) writes the final checkpoint; this writes ``last.pt``
    every ``checkpoint_every`` steps, when the ``max_steps`` budget stops the run and at the end,
    and ``training.json`` whenever it stops.
    """
    progress = progress or NullProgress()
    out_dir = Path(out_dir)
    train = training_settings(config)
    seed = int(config.get("seed", 0))
    fingerprint = _fingerprint(train_data, config, train)
    x_train = _check_poses(train_data.poses("train"), "train", 2).to(device)
    x_val = _check_poses(train_data.poses("val"), "val", 1).to(device)
    body = load_body_model(config["body_model"], config.get("body_model_path"), str(device))

    subset = None
    probe = body(x_train[:1])
    if probe.vertices is not None and train["vertex_subsample"] is not None:
        n_vertices = probe.vertices.shape[1]
        if int(train["vertex_subsample"]) < n_vertices:
            order = torch.randperm(n_vertices, generator=make_generator(seed, "vposer-vertices"))
            subset = order[: int(train["vertex_subsample"])].sort().values.to(device)
    train_targets = make_targets(body, x_train, subset)
    val_targets = make_targets(body, x_val, subset)

    with torch.random.fork_rng(devices=[]):  # seed the initialisation without side effects
        torch.manual_seed(derive_seed(seed, "vposer-init"))
        model = build_model(config["architecture"])
    model.to(device).train()
    optimizer = torch.optim.Adam(
        model.parameters(), lr=train["lr"], weight_decay=train["weight_decay"]
    )
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, mode="min", factor=train["lr_factor"], patience=train["lr_patience"]
    )
    data_order = make_generator(seed, "vposer-data-order")
    noise = make_generator(seed, "vposer-train-noise", device=device)
    set_dropout_generator(model, noise)

    batch_size = min(int(train["batch_size"]), len(x_train))
    n_batches = len(x_train) // batch_size  # drop the last partial batch (BatchNorm needs > 1)
    state: dict[str, Any] = {
        "epoch": 0, "batch": 0, "perm": None, "step": 0, "best_val": None, "best_epoch": None,
        "best_model": None, "bad_epochs": 0, "history": [], "sums": dict.fromkeys(TERMS, 0.0),
        "wall_s": 0.0, "finished": False, "stopped_early": False,
    }  # fmt: skip
    last_path = out_dir / LAST

    def check(saved: Mapping[str, Any]) -> None:
        if saved.get("fingerprint") != fingerprint:
            raise ConfigError(
                f"{last_path} is from training with other data or settings; drop --resume to "
                "start again or use another --out"
            )

    saved = resume_state(last_path, resume, device, check)
    if saved is not None:
        restore(saved, {"model": model, "optimizer": optimizer, "scheduler": scheduler,
                        "rng.data_order": data_order, "rng.noise": noise})  # fmt: skip
        state = saved["state"]
        progress.log(f"vposer: resuming at step {state['step']} (epoch {state['epoch']})")

    def save_last() -> None:
        atomic_torch_save(
            {
                "fingerprint": fingerprint,
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "rng": {"data_order": data_order.get_state(), "noise": noise.get_state()},
                "state": state,
            },
            last_path,
        )

    started = time.perf_counter()
    wall_before = state["wall_s"]
    interrupted = False
    epochs = progress.track(
        range(state["epoch"], int(train["epochs"])), "training vposer", total=None
    )
    for _ in epochs:
        if state["finished"]:
            break
        if state["perm"] is None:
            state["perm"] = torch.randperm(len(x_train), generator=data_order)
        while state["batch"] < n_batches:
            if train["max_steps"] is not None and state["step"] >= int(train["max_steps"]):
                interrupted = True
                break
            index = state["perm"][state["batch"] * batch_size : (state["batch"] + 1) * batch_size]
            terms = batch_losses(model, body, train_targets, index.to(device), subset, noise)
            loss = total_loss(terms, train, state["epoch"])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            state["step"] += 1
            state["batch"] += 1
            for key, value in (("loss", loss), *terms.items()):
                state["sums"][key] += float(value.detach())
            if state["step"] % int(train["checkpoint_every"]) == 0:
                state["wall_s"] = wall_before + time.perf_counter() - started
                save_last()
        if interrupted:
            break
        _end_epoch(state, model, body, val_targets, subset, scheduler, optimizer, train, n_batches)
        if state["epoch"] % 10 == 0 or state["finished"]:
            row = state["history"][-1]
            progress.log(
                f"vposer epoch {row['epoch']}: loss {row['loss']:.4f}, val v2v "
                f"{1000 * row['val_v2v_m']:.1f} mm, lr {row['lr']:.0e}"
            )
    if not interrupted:
        state["finished"] = True
    state["wall_s"] = wall_before + time.perf_counter() - started
    save_last()

    if state["best_model"] is not None:
        model.load_state_dict(state["best_model"])
    model.eval()
    last = state["history"][-1] if state["history"] else {}
    record = {
        "fingerprint": fingerprint,
        "finished": state["finished"],
        "steps": state["step"],
        "epochs_run": state["epoch"],
        "stopped_early": state["stopped_early"],
        "best_epoch": state["best_epoch"],
        "best_val_v2v_m": state["best_val"],
        "final_losses": {k: last[k] for k in (*TERMS, "val_v2v_m") if k in last},
        "n_train": len(x_train),
        "n_val": len(x_val),
        "batch_size": batch_size,
        "mesh_points": int(train_targets.points.shape[1]),
        "device": str(device),
        "wall_s": round(state["wall_s"], 3),
        "train_poses_per_s": round(state["step"] * batch_size / max(state["wall_s"], 1e-9), 1),
        "history": state["history"],
    }
    atomic_write_json(out_dir / RECORD, record)
    return model, out_dir / FINAL, record


def _end_epoch(
    state: dict[str, Any],
    model: VPoserNet,
    body: Any,
    val_targets: Targets,
    subset: torch.Tensor | None,
    scheduler: Any,
    optimizer: torch.optim.Optimizer,
    train: Mapping[str, Any],
    n_batches: int,
) -> None:
    """Validation, LR schedule, best weights and early stopping at the end of an epoch."""
    val = validate(model, body, val_targets, subset)
    scheduler.step(val)
    row = {"epoch": state["epoch"], **{k: v / n_batches for k, v in state["sums"].items()}}
    row.update(val_v2v_m=val, lr=float(optimizer.param_groups[0]["lr"]))
    state["history"].append(row)
    if state["best_val"] is None or val < state["best_val"]:
        state["best_val"], state["best_epoch"], state["bad_epochs"] = val, state["epoch"], 0
        state["best_model"] = copy.deepcopy(model.state_dict())
    else:
        state["bad_epochs"] += 1
    state["epoch"] += 1
    state["batch"], state["perm"] = 0, None
    state["sums"] = dict.fromkeys(TERMS, 0.0)
    if state["bad_epochs"] >= int(train["early_stop_patience"]):
        state["finished"] = state["stopped_early"] = True
    elif state["epoch"] >= int(train["epochs"]):
        state["finished"] = True
