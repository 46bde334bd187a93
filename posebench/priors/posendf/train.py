"""Training Pose-NDF: distance, manifold and per-joint eikonal losses, Adam, atomic checkpoints,
and a resume that continues bit-identically from the last checkpoint (docs/posendf.md).

Per step: ``batch_noisy`` noisy poses and ``batch_manifold`` manifold poses are drawn with
replacement by a seeded data-order generator (saved with every checkpoint together with the
model, the optimiser, the step and the torch RNG state).

Multi-GPU: started under ``torchrun`` (or inside an initialised ``torch.distributed`` process
group), training wraps the model in DistributedDataParallel. Every rank draws the same batch
indices and takes its own equal share, so the averaged gradient is the full batch's; rank 0
prepares the targets, logs and writes checkpoints.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn

from posebench.core.atomic import atomic_torch_save
from posebench.core.config import merge_config
from posebench.core.errors import ConfigError, InputError, PosebenchError
from posebench.core.progress import NullProgress, Progress
from posebench.core.seeding import derive_seed, make_generator
from posebench.priors.posendf.config import LOSSES
from posebench.priors.posendf.mining import mine_projected_starts
from posebench.priors.posendf.model import PoseNDF, build_model
from posebench.priors.posendf.quat import pose_to_network_input
from posebench.priors.posendf.targets import (
    TargetSet,
    load_targets,
    manifold_hash,
    matches,
    prepare_targets,
)
from posebench.priors.training import restore, resume_state


class TrainablePrior(Protocol):
    """What training needs of the prior it trains (a ``PoseNDFPrior``): its configs, where and
    in which precision it runs, and a place for the trained network."""

    config: dict[str, Any]
    device: torch.device
    model: PoseNDF  # replaced by the trained network

    @property
    def name(self) -> str: ...  # read only (a class attribute)

    @property
    def default_config(self) -> Mapping[str, Any]: ...  # read only (a class attribute)

    @property
    def dtype(self) -> torch.dtype: ...

    def mark_trained(self, record: Mapping[str, Any]) -> None: ...

    def save(self, path: str | Path) -> None: ...


STATE_FILE = "last.pt"
FINAL_FILE = "posendf_final.pt"
STATE_FORMAT = "posebench-posendf-train-state"


def losses(
    model: nn.Module,
    noisy: torch.Tensor,
    target: torch.Tensor,
    manifold: torch.Tensor,
    weights: Mapping[str, float],
    loss: str = "l1",
) -> dict[str, torch.Tensor]:
    """The three terms and their weighted sum ``total``."""
    w_eik = float(weights["eikonal"])
    noisy = noisy.detach().requires_grad_(w_eik > 0)
    both = model(torch.cat([noisy, manifold.detach()]))  # one forward pass (DDP-friendly)
    pred, on_manifold = both[: len(noisy)], both[len(noisy) :]
    if loss == "l1":
        dist = (pred - target).abs().mean()
    elif loss == "l2":
        dist = (pred - target).pow(2).mean()
    else:
        raise ConfigError(f"prior 'posendf' train.loss is {loss!r}; use {' or '.join(LOSSES)}")
    man = on_manifold.abs().mean()
    terms = {"dist": dist, "man": man}
    total = float(weights["dist"]) * dist + float(weights["man"]) * man
    if w_eik > 0:
        (grad,) = torch.autograd.grad(pred.sum(), noisy, create_graph=True)
        eik = (grad.norm(dim=-1) - 1.0).pow(2).mean()  # per joint quaternion, then mean
        terms["eikonal"] = eik
        total = total + w_eik * eik
    terms["total"] = total
    return terms


def effective_config(prior: TrainablePrior, config: Mapping[str, Any]) -> dict[str, Any]:
    """The prior config (without ``quick``/``seed``), with ``quick_overrides`` applied."""
    base = {key: config[key] for key in prior.default_config if key in config}
    merged = merge_config(prior.default_config, base, where=f"prior '{prior.name}' config")
    if config.get("quick"):
        merged = merge_config(merged, merged["quick_overrides"], where="quick_overrides")
    return merged


def _targets(
    cfg: Mapping[str, Any],
    train_poses: torch.Tensor,
    out_dir: Path,
    seed: int,
    device: torch.device,
    progress: Progress,
    source: Mapping[str, Any],
) -> TargetSet:
    if cfg["train"]["targets_dir"]:
        return load_targets(cfg["train"]["targets_dir"])
    folder = out_dir / "targets"
    if not matches(folder, cfg["targets"], seed, manifold_hash(train_poses)):
        progress.log(f"posendf: preparing training targets in {folder}")
        prepare_targets(train_poses, folder, cfg["targets"], seed, device, progress, source)
    return load_targets(folder)


#: Settings a resumed run may change: how long it trains and how often it logs and saves.
RESUMABLE_CHANGES = frozenset(
    f"{prefix}train.{key}"
    for prefix in ("", "quick_overrides.")
    for key in ("steps", "checkpoint_every", "log_every")
)


def differing_keys(
    saved: Mapping[str, Any], current: Mapping[str, Any], allowed: frozenset[str], prefix: str = ""
) -> list[str]:
    """Dotted keys whose values differ between two nested configs, except the ``allowed`` ones."""
    differing = []
    for key in sorted(set(saved) | set(current)):
        name = f"{prefix}{key}"
        old, new = saved.get(key), current.get(key)
        if isinstance(old, Mapping) and isinstance(new, Mapping):
            differing += differing_keys(old, new, allowed, f"{name}.")
        elif old != new and name not in allowed:
            differing.append(name)
    return differing


def _state(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    step: int,
    order: torch.Generator,
    cfg: Mapping[str, Any],
    record: Mapping[str, Any],
    mined: tuple[torch.Tensor, torch.Tensor],
) -> dict[str, Any]:
    return {
        "format": STATE_FORMAT,
        "step": step,
        "mined": {"noisy": mined[0].detach().cpu(), "target": mined[1].detach().cpu()},
        "model": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
        "optimizer": optimizer.state_dict(),
        "order_generator": order.get_state(),
        "torch_rng": torch.get_rng_state(),
        "config": cfg,
        "record": dict(record),
    }


class _Ranks:
    """This process's place in torch.distributed (rank 0 of 1 without it)."""

    def __init__(self, device: torch.device) -> None:
        import torch.distributed as dist

        self.dist = dist
        if dist.is_available() and not dist.is_initialized() and _launched_by_torchrun():
            backend = "nccl" if device.type == "cuda" else "gloo"
            dist.init_process_group(backend)
        self.active = dist.is_available() and dist.is_initialized()
        self.rank = dist.get_rank() if self.active else 0
        self.world = dist.get_world_size() if self.active else 1

    @property
    def main(self) -> bool:
        return self.rank == 0

    def barrier(self) -> None:
        if self.active:
            self.dist.barrier()

    def mean(self, values: dict[str, float]) -> dict[str, float]:
        """The mean of per-rank scalars (every rank must call it)."""
        if not self.active:
            return values
        stacked = torch.tensor(list(values.values()), dtype=torch.float64)
        self.dist.all_reduce(stacked)
        return {k: float(v) / self.world for k, v in zip(values, stacked, strict=True)}

    def share(self, rows: torch.Tensor, what: str) -> torch.Tensor:
        """This rank's equal share of a batch."""
        if len(rows) % self.world:
            raise ConfigError(
                f"prior 'posendf' {what} = {len(rows)} is not divisible by the {self.world} "
                "training processes; choose a multiple"
            )
        size = len(rows) // self.world
        return rows[self.rank * size : (self.rank + 1) * size]


def _launched_by_torchrun() -> bool:
    return int(os.environ.get("WORLD_SIZE", "1")) > 1 and "MASTER_ADDR" in os.environ


def fit(
    prior: TrainablePrior,
    train_data: Any,
    config: Mapping[str, Any],
    out_dir: Path,
    device: torch.device,
    progress: Progress | None = None,
    resume: bool = False,
) -> Path:
    """Train ``prior`` on ``train_data.poses("train")``; checkpoints under ``out_dir``.

    Writes ``last.pt`` (training state) every ``train.checkpoint_every`` steps and at the end,
    and ``posendf_final.pt`` (posebench checkpoint) at the end; returns the latter.
    """
    ranks = _Ranks(device)
    if ranks.active and device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", ranks.rank)))
        torch.cuda.set_device(device)
    progress = progress if progress is not None and ranks.main else NullProgress()
    cfg = effective_config(prior, config)
    seed = int(config.get("seed", 0))
    tcfg = cfg["train"]
    out_dir.mkdir(parents=True, exist_ok=True)
    train_poses = train_data.poses("train")
    source = {"dataset": getattr(train_data, "name", type(train_data).__name__)}
    if ranks.main:
        data = _targets(cfg, train_poses, out_dir, seed, device, progress, source)
    ranks.barrier()
    if not ranks.main:
        data = _targets(cfg, train_poses, out_dir, seed, device, progress, source)
    noisy = torch.from_numpy(np.array(data.noisy)).to(device)
    target = torch.from_numpy(np.array(data.target)).to(device)
    manifold = torch.from_numpy(np.array(data.manifold)).to(device)
    try:
        val = pose_to_network_input(train_data.poses("val")[: int(tcfg["val_size"])].float())
        val = val.to(device)
    except PosebenchError:  # a dataset without a val split: no validation line
        val = None

    prior.config = {k: v for k, v in cfg.items()}
    generator = torch.Generator().manual_seed(derive_seed(seed, "posendf-init"))
    model = build_model(cfg["model"], generator).to(device)
    optimizer = torch.optim.Adam(
        model.parameters(), lr=float(tcfg["lr"]), weight_decay=float(tcfg["weight_decay"])
    )
    order = make_generator(seed, "posendf-train-order")
    step = 0
    record: dict[str, Any] = {"wall_time_s": 0.0}  # the training record the checkpoint keeps
    state_path = out_dir / STATE_FILE

    def check(state: Mapping[str, Any]) -> None:
        if state.get("format") != STATE_FORMAT:
            raise InputError(
                f"cannot resume from {state_path}: it is not a posendf training state of this "
                "version; use another --out or drop --resume"
            )
        differing = differing_keys(state["config"], cfg, RESUMABLE_CHANGES)
        if state["record"].get("seed", seed) != seed:
            differing.insert(0, "seed")
        if differing:
            raise InputError(
                f"cannot resume from {state_path}: it was trained with other settings "
                f"({', '.join(differing)}); resume with the same config and seed, or use another "
                "--out, or drop --resume"
            )

    mine = tcfg["mine"]
    mined = (noisy[:0], target[:0])  # queries mined so far (hard negatives) and their targets
    state = resume_state(state_path, resume, "cpu", check)
    if state is not None:
        restore(state, {"model": model, "optimizer": optimizer, "order_generator": order})
        torch.set_rng_state(state["torch_rng"])
        step, record = int(state["step"]), dict(state["record"])
        saved = state.get("mined")
        if saved is not None:
            mined = (saved["noisy"].to(noisy), saved["target"].to(target))
        progress.log(f"posendf: resuming from {state_path} at step {step}")
    elif resume:
        progress.log(f"posendf: no {state_path} to resume from; starting at step 0")
    net: nn.Module = model
    if ranks.active:
        from torch.nn.parallel import DistributedDataParallel

        net = DistributedDataParallel(model, device_ids=[device] if device.type == "cuda" else None)

    steps = int(tcfg["steps"])
    every, log_every = max(int(tcfg["checkpoint_every"]), 1), max(int(tcfg["log_every"]), 1)
    started = time.perf_counter()
    base_wall = float(record.get("wall_time_s", 0.0))
    last: dict[str, float] = dict(record.get("final_losses", {}))
    model.train()
    every_mine = int(mine["every"])
    for index in progress.track(range(step, steps), "train posendf", total=steps - step):
        if every_mine > 0 and index > 0 and index % every_mine == 0:
            queries, truth = mine_projected_starts(
                model, manifold, mine, cfg["sample"], int(cfg["targets"]["k"]), seed, index
            )
            with torch.no_grad():
                said = model(queries).reshape(-1)
            mined = (torch.cat([mined[0], queries]), torch.cat([mined[1], truth]))
            record["mining"] = {
                "rounds": len(mined[1]) // len(truth),
                "queries": len(mined[1]),
                "last_round_network_median": float(said.median()),
                "last_round_true_median": float(truth.median()),
            }
            progress.log(
                f"posendf step {index}: mined {len(truth)} projected poses (network says "
                f"{float(said.median()):.4f}, true {float(truth.median()):.4f}, median); "
                f"{len(mined[1])} in all"
            )
        pool_noisy = torch.cat([noisy, mined[0]]) if len(mined[1]) else noisy
        pool_target = torch.cat([target, mined[1]]) if len(mined[1]) else target
        rows = torch.randint(len(pool_noisy), (int(tcfg["batch_noisy"]),), generator=order)
        man_rows = torch.randint(len(manifold), (int(tcfg["batch_manifold"]),), generator=order)
        rows = ranks.share(rows, "train.batch_noisy").to(device)
        man_rows = ranks.share(man_rows, "train.batch_manifold").to(device)
        terms = losses(
            net,
            pool_noisy[rows],
            pool_target[rows],
            manifold[man_rows],
            tcfg["weights"],
            tcfg["loss"],
        )
        optimizer.zero_grad(set_to_none=True)
        terms["total"].backward()
        optimizer.step()
        step = index + 1
        last = {name: float(value.detach()) for name, value in terms.items()}
        if step % log_every == 0 or step % every == 0 or step == steps:
            last = ranks.mean(last)
        if step % log_every == 0 or step == steps:
            progress.log(
                f"posendf step {step}/{steps} "
                + " ".join(f"{name} {value:.5g}" for name, value in last.items())
            )
        if step % every == 0 or step == steps:
            record = {
                **({"mining": record["mining"]} if "mining" in record else {}),
                "steps": step,
                "final_losses": last,
                "device": str(device),
                "wall_time_s": round(base_wall + time.perf_counter() - started, 3),
                "seed": seed,
                "targets": {
                    "folder": str(data.folder),
                    "search": data.meta.get("search"),
                    "counts": data.meta.get("counts"),
                },
            }
            if not ranks.main:
                continue
            if val is not None:
                with torch.no_grad():
                    record["val_mean_distance"] = float(model(val).mean())
                progress.log(
                    f"posendf step {step}: val mean distance {record['val_mean_distance']:.5g}"
                )
            atomic_torch_save(_state(model, optimizer, step, order, cfg, record, mined), state_path)

    model.eval().requires_grad_(False)
    prior.model = model.to(device=prior.device, dtype=prior.dtype)
    prior.mark_trained(
        {
            **record,
            "processes": ranks.world,
            "batch_noisy_per_process": int(tcfg["batch_noisy"]) // ranks.world,
        }
    )
    final = out_dir / FINAL_FILE
    if ranks.main:
        prior.save(final)
    ranks.barrier()
    return final
