"""Training NRDF: its training points (:mod:`.targets`), then Adam on the L1 distance loss plus the
mean predicted distance of training poses (which should be zero), resumable bit-identically.

Writes ``targets.pt`` (the training points, reused when the seed, settings and data match),
``last.pt`` (everything the next step depends on) every ``checkpoint_every`` steps and
``nrdf_final.pt`` (posebench's checkpoint) at the end.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from posebench.core.atomic import atomic_torch_save
from posebench.core.errors import InputError, PosebenchError
from posebench.core.hashing import hash_arrays
from posebench.core.progress import NullProgress, Progress
from posebench.core.seeding import derive_seed, make_generator
from posebench.priors.nrdf.geometry import canonical
from posebench.priors.nrdf.targets import training_points
from posebench.priors.posendf.model import build_model
from posebench.priors.posendf.quat import pose_to_network_input
from posebench.priors.posendf.train import (
    RESUMABLE_CHANGES,
    TrainablePrior,
    differing_keys,
    effective_config,
    losses,
)
from posebench.priors.training import restore, resume_state

FINAL_FILE = "nrdf_final.pt"
STATE_FILE = "last.pt"
TARGETS_FILE = "targets.pt"
STATE_FORMAT = "posebench-nrdf-train-state"


def _training_points(
    manifold: torch.Tensor, cfg: Mapping[str, Any], seed: int, out_dir: Path, progress: Progress
) -> tuple[torch.Tensor, torch.Tensor]:
    """The training points, from ``targets.pt`` when it was made from the same data, settings and
    seed, else built and written there."""
    key = {"manifold": hash_arrays(manifold), "targets": dict(cfg["targets"]), "seed": seed}
    path = out_dir / TARGETS_FILE
    if path.is_file():
        try:
            saved = torch.load(path, map_location="cpu", weights_only=True)
        except Exception:  # damaged: build them again
            saved = None
        if isinstance(saved, dict) and saved.get("key") == key:
            return saved["queries"], saved["targets"]
    progress.log(
        f"nrdf: building {int(cfg['targets']['per_pose']) * len(manifold):,} training points"
    )
    queries, targets = training_points(manifold, cfg["targets"], seed, progress)
    atomic_torch_save({"key": key, "queries": queries, "targets": targets}, path)
    return queries, targets


def fit(
    prior: TrainablePrior,
    train_data: Any,
    config: Mapping[str, Any],
    out_dir: Path,
    device: torch.device,
    progress: Progress | None = None,
    resume: bool = False,
) -> Path:
    """Train ``prior`` on ``train_data.poses("train")`` (val for a logged mean distance)."""
    progress = progress or NullProgress()
    cfg = effective_config(prior, config)
    seed, tcfg = int(config.get("seed", 0)), cfg["train"]
    out_dir.mkdir(parents=True, exist_ok=True)
    manifold = canonical(pose_to_network_input(train_data.poses("train").float()))
    queries, targets = _training_points(manifold, cfg, seed, out_dir, progress)
    queries, targets, manifold = queries.to(device), targets.to(device), manifold.to(device)
    try:
        val = pose_to_network_input(train_data.poses("val")[: int(tcfg["val_size"])].float())
        val = val.to(device)
    except PosebenchError:  # a dataset without a val split: no validation line
        val = None

    prior.config = dict(cfg)
    model = build_model(cfg["model"], torch.Generator().manual_seed(derive_seed(seed, "nrdf-init")))
    model = model.to(device)
    optimizer = torch.optim.Adam(
        model.parameters(), lr=float(tcfg["lr"]), weight_decay=float(tcfg["weight_decay"])
    )
    order = make_generator(seed, "nrdf-train-order")
    step = 0
    record: dict[str, Any] = {"wall_time_s": 0.0}
    state_path = out_dir / STATE_FILE

    def check(state: Mapping[str, Any]) -> None:
        saved = state.get("config")
        differing = (
            differing_keys(saved, cfg, RESUMABLE_CHANGES) if isinstance(saved, Mapping) else []
        )
        if state.get("seed") != seed:
            differing.insert(0, "seed")
        if state.get("format") != STATE_FORMAT or not isinstance(saved, Mapping) or differing:
            raise InputError(
                f"cannot resume from {state_path}: it was trained with other settings or seed "
                f"({', '.join(differing) or 'another format'}); resume with the same config and "
                "seed, or use another --out, or drop --resume"
            )

    state = resume_state(state_path, resume, "cpu", check)
    if state is not None:
        restore(state, {"model": model, "optimizer": optimizer, "order_generator": order})
        step, record = int(state["step"]), dict(state["record"])
        progress.log(f"nrdf: resuming from {state_path} at step {step}")
    steps = int(tcfg["steps"])
    every, log_every = max(int(tcfg["checkpoint_every"]), 1), max(int(tcfg["log_every"]), 1)
    weights = {**tcfg["weights"], "eikonal": 0.0}
    started, base_wall = time.perf_counter(), float(record.get("wall_time_s", 0.0))
    last: dict[str, float] = dict(record.get("final_losses", {}))
    model.train()
    for index in progress.track(range(step, steps), "train nrdf", total=steps - step):
        rows = torch.randint(len(queries), (int(tcfg["batch_noisy"]),), generator=order)
        on = torch.randint(len(manifold), (int(tcfg["batch_manifold"]),), generator=order)
        terms = losses(
            model, queries[rows.to(device)], targets[rows.to(device)], manifold[on.to(device)],
            weights, tcfg["loss"],
        )  # fmt: skip
        optimizer.zero_grad(set_to_none=True)
        terms["total"].backward()
        optimizer.step()
        step = index + 1
        last = {name: float(value.detach()) for name, value in terms.items()}
        if step % log_every == 0 or step == steps:
            progress.log(
                f"nrdf step {step}/{steps} " + " ".join(f"{k} {v:.5g}" for k, v in last.items())
            )
        if step % every == 0 or step == steps:
            record = {
                "steps": step,
                "final_losses": last,
                "device": str(device),
                "wall_time_s": round(base_wall + time.perf_counter() - started, 3),
                "seed": seed,
                "dataset": getattr(train_data, "name", type(train_data).__name__),
                "training_points": len(queries),
            }
            if val is not None:
                with torch.no_grad():
                    record["val_mean_distance"] = float(model(val).mean())
            atomic_torch_save(
                {
                    "format": STATE_FORMAT, "step": step, "seed": seed, "config": cfg,
                    "model": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
                    "optimizer": optimizer.state_dict(), "order_generator": order.get_state(),
                    "record": dict(record),
                },
                state_path,
            )  # fmt: skip
    model.eval().requires_grad_(False)
    prior.model = model.to(device=prior.device, dtype=prior.dtype)
    prior.mark_trained(record)
    final = out_dir / FINAL_FILE
    prior.save(final)
    return final
