"""Training DPoser's score network on a dataset's train split, resumably and bit-identically.

Each step draws a batch of normalised training poses, times ``t ~ U(t_eps, 1)`` and noise
``z ~ N(0, I)``, and lowers the noise-prediction loss (:func:`.diffusion.noise_prediction_loss`)
with Adam (linear warm-up, gradient norm clipped), keeping an exponential moving average (EMA) of
the weights whose decay warms up as ``min(decay, (1 + n) / (10 + n))``. Every ``val_every`` steps
the EMA weights are scored on the val split, and the best ones are the final model (the last EMA
without a val split). ``select: fid`` (default) scores samples: the Fréchet distance between
``val_samples`` poses drawn with ``val_sample_steps`` Euler–Maruyama steps and the val poses, in
the z-scored 63-D axis-angle space (the sampling task's FID after normalisation, so that every
dimension counts equally); DPoser itself picks its checkpoint by a sampling metric.
``select: loss`` scores the training loss on the val poses at fixed draws (``val_draws`` per
pose); both are logged. On the embedded data the two disagree: the val loss
is lowest after a few hundred steps, when samples are still far from real poses.

Writes ``last.pt`` (everything the next step depends on) every ``checkpoint_every`` steps and
``dposer.pt`` (posebench's checkpoint) at the end.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

from posebench.core.atomic import atomic_torch_save
from posebench.core.config import merge_config
from posebench.core.errors import InputError, PosebenchError
from posebench.core.frechet import frechet_distance
from posebench.core.hashing import hash_arrays
from posebench.core.progress import NullProgress, Progress
from posebench.core.seeding import derive_seed, make_generator
from posebench.priors.dposer.diffusion import Normaliser, noise_prediction_loss
from posebench.priors.dposer.model import ScoreNet, build_model
from posebench.priors.dposer.sampling import euler_maruyama
from posebench.priors.dposer.sde import SubVPSDE
from posebench.priors.training import restore, resume_state

FINAL_FILE = "dposer.pt"
STATE_FILE = "last.pt"
STATE_FORMAT = "posebench-dposer-train-state"
#: Train keys that change neither the result of a step nor the data: a resumed run may differ
#: in them (``steps`` extends or shortens the schedule).
RESUMABLE = ("steps", "checkpoint_every", "log_every")


#: What each model-selection criterion (``train.select``) scores, for the training record.
VALIDATION = {
    "fid": "FID of {val_samples} samples ({val_sample_steps} Euler-Maruyama steps) against the "
    "val poses in the z-scored 63-D axis-angle space, EMA weights",
    "loss": "noise-prediction loss of the EMA weights on the val poses, {val_draws} fixed (t, z) "
    "draws per pose",
}
SELECTIONS = tuple(VALIDATION)


class TrainablePrior(Protocol):
    """What training needs of the prior it trains."""

    config: dict[str, Any]

    def install(
        self, model: ScoreNet, normaliser: Normaliser, record: Mapping[str, Any]
    ) -> None: ...

    def save(self, path: str | Path) -> None: ...


def training_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """The ``train`` block, with ``quick_train`` merged in when ``config["quick"]``."""
    train = dict(config["train"])
    if config.get("quick"):
        train = merge_config(train, config.get("quick_train") or {}, where="dposer quick_train")
    return train


class EMA:
    """An exponential moving average of a model's parameters, with DPoser's decay warm-up."""

    def __init__(self, model: torch.nn.Module, decay: float) -> None:
        self.decay, self.updates = decay, 0
        self.shadow = [p.detach().clone() for p in model.parameters()]

    @torch.no_grad()
    def update(self, model: torch.nn.Module) -> None:
        self.updates += 1
        decay = min(self.decay, (1 + self.updates) / (10 + self.updates))
        torch._foreach_lerp_(self.shadow, [p.detach() for p in model.parameters()], 1.0 - decay)

    def state_dict(self) -> dict[str, Any]:
        return {"updates": self.updates, "shadow": [s.clone() for s in self.shadow]}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.updates = int(state["updates"])
        for mine, saved in zip(self.shadow, state["shadow"], strict=True):
            mine.copy_(saved)

    def weights(self, model: torch.nn.Module) -> dict[str, torch.Tensor]:
        """``model``'s state dict with the averaged parameters in place of its own."""
        names = [name for name, _ in model.named_parameters()]
        state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        state.update({name: s.clone() for name, s in zip(names, self.shadow, strict=True)})
        return state


def _val_loss(
    model: ScoreNet, sde: SubVPSDE, val: torch.Tensor, draws: int, seed: int, t_eps: float
) -> float:
    """The noise-prediction loss of the val poses, averaged over ``draws`` fixed (t, z) draws."""
    generator = make_generator(seed, "dposer-val")
    total = 0.0
    with torch.no_grad():
        for _ in range(draws):
            t = torch.rand(len(val), generator=generator) * (1.0 - t_eps) + t_eps
            z = torch.randn(val.shape, generator=generator)
            total += float(noise_prediction_loss(model, sde, val, t.to(val), z.to(val)).mean())
    return total / draws


def _val_fid(
    model: ScoreNet, sde: SubVPSDE, reference: tuple[np.ndarray, np.ndarray], n: int, steps: int,
    seed: int, device: torch.device,
) -> float:  # fmt: skip
    """FID of ``n`` samples against the val poses' ``reference`` (mean, covariance), both in the
    normalised (z-scored) 63-D space, where every dimension counts equally."""
    generator = make_generator(seed, "dposer-val-samples")
    samples = euler_maruyama(model, sde, n, steps, 5e-3, generator, device)
    return frechet_distance(samples.double().cpu().numpy(), *reference)


def fit(
    prior: TrainablePrior,
    train_data: Any,
    config: Mapping[str, Any],
    out_dir: Path,
    device: torch.device,
    progress: Progress | None = None,
    resume: bool = False,
) -> Path:
    """Train on ``train_data.poses("train")``, select on ``"val"``; returns ``dposer.pt``."""
    progress = progress or NullProgress()
    seed, cfg = int(config.get("seed", 0)), training_settings(config)
    out_dir.mkdir(parents=True, exist_ok=True)
    poses = train_data.poses("train").float()
    normaliser = Normaliser.fit(poses)
    data = normaliser.normalise(poses).to(device)
    try:
        val: torch.Tensor | None = normaliser.normalise(train_data.poses("val").float()).to(device)
    except PosebenchError:  # a dataset without a val split: the last EMA weights are final
        val = None
    if val is not None:  # the FID's reference statistics, once
        flat = val.double().cpu().numpy()
        val_stats = (flat.mean(axis=0), np.cov(flat, rowvar=False))
    sde = SubVPSDE(float(config["sde"]["beta_min"]), float(config["sde"]["beta_max"]))
    fingerprint = {
        "model": dict(config["model"]),
        "sde": dict(config["sde"]),
        "train": {k: v for k, v in cfg.items() if k not in RESUMABLE},
        "data": hash_arrays(poses),
    }

    torch.manual_seed(derive_seed(seed, "dposer-init"))
    model = build_model(config["model"]).to(device)
    torch.manual_seed(derive_seed(seed, "dposer-dropout"))  # dropout draws from the global stream
    ema = EMA(model, float(cfg["ema_decay"]))
    optimizer = torch.optim.Adam(model.parameters(), lr=float(cfg["lr"]))
    draws = make_generator(seed, "dposer-train")
    step, best_score, best_state, best_step = 0, float("inf"), None, 0
    history: list[dict[str, float]] = []
    record: dict[str, Any] = {"wall_time_s": 0.0}
    state_path = out_dir / STATE_FILE

    def check(state: Mapping[str, Any]) -> None:
        saved = state.get("fingerprint")
        if state.get("format") != STATE_FORMAT or state.get("seed") != seed or saved != fingerprint:
            differing = ["seed"] if state.get("seed") != seed else []
            if isinstance(saved, Mapping):
                differing += [k for k in fingerprint if saved.get(k) != fingerprint[k]]
            raise InputError(
                f"cannot resume from {state_path}: it was trained with other settings, data or "
                f"seed ({', '.join(differing) or 'another format'}); resume with the same ones, "
                "use another --out, or drop --resume"
            )

    state = resume_state(state_path, resume, "cpu", check)
    if state is not None:
        restore(state, {"model": model, "optimizer": optimizer, "ema": ema, "draws": draws})
        torch.set_rng_state(state["torch_rng"])
        step, record = int(state["step"]), dict(state["record"])
        history = list(record.get("history", []))
        best_score, best_step = float(state["best_score"]), int(state["best_step"])
        best_state = state["best_state"]
        progress.log(f"dposer: resuming from {state_path} at step {step}")

    steps, batch = int(cfg["steps"]), int(cfg["batch_size"])
    warmup, lr, t_eps = max(int(cfg["warmup_steps"]), 1), float(cfg["lr"]), float(cfg["t_eps"])
    every, log_every = max(int(cfg["checkpoint_every"]), 1), max(int(cfg["log_every"]), 1)
    val_every = max(int(cfg["val_every"]), 1)
    started, base_wall = time.perf_counter(), float(record.get("wall_time_s", 0.0))
    loss_value = float(record.get("final_loss", float("nan")))
    model.train()
    for index in progress.track(range(step, steps), "train dposer", total=steps - step):
        rows = torch.randint(len(data), (batch,), generator=draws)
        t = torch.rand(batch, generator=draws) * (1.0 - t_eps) + t_eps
        noise = torch.randn(batch, data.shape[1], generator=draws)
        for group in optimizer.param_groups:
            group["lr"] = lr * min((index + 1) / warmup, 1.0)
        loss = noise_prediction_loss(
            model, sde, data[rows.to(device)], t.to(device), noise.to(device)
        ).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), float(cfg["grad_clip"]))
        optimizer.step()
        ema.update(model)
        step, loss_value = index + 1, float(loss.detach())
        if step % log_every == 0 or step == steps:
            progress.log(f"dposer step {step}/{steps} loss {loss_value:.5g}")
        if val is not None and (step % val_every == 0 or step == steps):
            candidate = build_model(config["model"]).to(device)
            candidate.load_state_dict(ema.weights(model))
            candidate.eval()
            val_loss = _val_loss(candidate, sde, val, int(cfg["val_draws"]), seed, t_eps)
            val_fid = _val_fid(
                candidate, sde, val_stats, int(cfg["val_samples"]), int(cfg["val_sample_steps"]),
                seed, device,
            )  # fmt: skip
            history.append({"step": step, "val_loss": val_loss, "val_fid": val_fid})
            progress.log(
                f"dposer step {step}: val loss {val_loss:.5g}, val FID {val_fid:.4g} (EMA weights)"
            )
            score = val_fid if cfg["select"] == "fid" else val_loss
            if score < best_score:
                best_score, best_step = score, step
                best_state = {k: v.cpu() for k, v in candidate.state_dict().items()}
        if step % every == 0 or step == steps:
            record = {
                "steps": step,
                "final_loss": loss_value,
                "best_step": best_step if val is not None else step,
                "selected_by": cfg["select"] if val is not None else "last step (no val split)",
                "best_val_score": best_score if val is not None else None,
                "validation": VALIDATION[cfg["select"]].format(**cfg),
                "history": list(history),
                "device": str(device),
                "wall_time_s": round(base_wall + time.perf_counter() - started, 3),
                "seed": seed,
                "dataset": getattr(train_data, "name", type(train_data).__name__),
                "train_poses": len(data),
            }
            atomic_torch_save(
                {
                    "format": STATE_FORMAT, "step": step, "seed": seed,
                    "fingerprint": fingerprint,
                    "model": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
                    "optimizer": optimizer.state_dict(), "ema": ema.state_dict(),
                    "draws": draws.get_state(), "torch_rng": torch.get_rng_state(),
                    "best_score": best_score, "best_step": best_step, "best_state": best_state,
                    "record": dict(record),
                },
                state_path,
            )  # fmt: skip
    final_model = build_model(config["model"])
    final_model.load_state_dict(best_state if best_state is not None else ema.weights(model))
    prior.install(final_model, normaliser, record)
    final = out_dir / FINAL_FILE
    prior.save(final)
    return final
