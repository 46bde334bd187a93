"""The ``dposer`` prior (docs/dposer.md): a score-based diffusion model of body pose.

* ``sample``: the reverse-time SDE from noise (Euler–Maruyama, DPoser's sampler), or the fast
  deterministic DDIM-style option (config ``sample.sampler``).
* ``fitting_energy``: DPoser's truncated-timestep score loss, the term its fits minimise: the pose
  is diffused to a time t that falls linearly from ``t_max`` to ``t_min`` over the optimisation,
  the network's one-step estimate x̂₀ of the clean pose is held fixed, and the term is
  ``w(t) Σ (x − x̂₀)²`` on the normalised pose, so its gradient follows the learned score. The
  range and weighting are per task (config ``guidance``), as DPoser sets them per task.
* ``energy``: the same loss, deterministic and fully differentiable: averaged over ``energy.draws``
  fixed (t, z) pairs shared by every pose (common random numbers), with the gradient through x̂₀.
* ``project``: DPoser's denoising of a single pose: the pose is read as the diffused state at
  ``project.t_start`` and brought back to t ≈ 0 by deterministic reverse steps.
* ``initial_pose``: the mean training pose (the origin of the normalised space).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from posebench.core.atomic import atomic_torch_save
from posebench.core.config import packaged_config
from posebench.core.errors import ConfigError, InputError
from posebench.core.paths import data_path
from posebench.core.progress import Progress
from posebench.core.schema import Rule, above, at_least, between, integer, one_of, under
from posebench.core.seeding import derive_seed
from posebench.priors.base import Prior, check_pose, merged_config
from posebench.priors.dposer.diffusion import WEIGHTINGS, Normaliser, score_loss
from posebench.priors.dposer.model import POSE_DIM, ScoreNet, build_model
from posebench.priors.dposer.sampling import SAMPLERS, ddim, euler_maruyama
from posebench.priors.dposer.sde import SubVPSDE
from posebench.priors.dposer.train import FINAL_FILE, SELECTIONS
from posebench.priors.dposer.train import fit as train_dposer

CHECKPOINT_FORMAT = "posebench-dposer"
CHECKPOINT_VERSION = 1
#: Where the shipped checkpoint (trained on the embedded dataset) lives.
SHIPPED_CHECKPOINT = data_path("dposer_embedded.pt")
DEFAULT_CONFIG = packaged_config("priors/dposer.yaml")

#: How :meth:`DPoserPrior.save` stores the weights (config ``checkpoint_dtype``); loading always
#: computes in float32.
WEIGHT_DTYPES = {"float32": torch.float32, "float16": torch.float16}
_GUIDANCE: dict[str, Rule] = {  # times in (0, 1]: the score is undefined at t = 0
    "t_max": Rule(above=0.0, max=1.0),
    "t_min": Rule(above=0.0, max=1.0),
    "weighting": one_of(*WEIGHTINGS),
}
_TRAIN: dict[str, Rule] = {
    "steps": at_least(1),
    "batch_size": at_least(2),
    "lr": at_least(0),
    "warmup_steps": at_least(0),
    "grad_clip": above(0),
    "ema_decay": between(0.0, 1.0),
    "t_eps": above(0),
    "val_every": at_least(1),
    "val_draws": at_least(1),
    "select": one_of(*SELECTIONS),
    "val_samples": at_least(2),
    "val_sample_steps": at_least(1),
    "checkpoint_every": at_least(1),
    "log_every": at_least(1),
}
CONFIG_SCHEMA: dict[str, Rule] = {
    "model.hidden": at_least(1),
    "model.embed_dim": integer(min=4),
    "model.blocks": at_least(0),
    "model.groups": at_least(1),
    "model.dropout": between(0.0, 1.0),
    "checkpoint_dtype": one_of(*WEIGHT_DTYPES),
    "sde.beta_min": above(0),
    "sde.beta_max": above(0),
    "sample.sampler": one_of(*SAMPLERS),
    "sample.steps": at_least(1),
    "sample.eps": between(0.0, 1.0),
    "sample.chunk_size": at_least(1),
    "project.t_start": between(0.0, 1.0),
    "project.steps": at_least(0),
    "energy.draws": at_least(1),
    **under("energy", _GUIDANCE),
    "guidance": Rule(kinds=("mapping",)),
    **under("guidance.*", _GUIDANCE),
    **under("train", _TRAIN),
    **under("quick_train", _TRAIN, DEFAULT_CONFIG["quick_train"]),
}


class DPoserPrior(Prior):
    """DPoser (module docstring). Refuses to give numbers without trained weights."""

    name = "dposer"
    version = "1"
    default_config = DEFAULT_CONFIG
    config_schema = CONFIG_SCHEMA
    final_checkpoint = FINAL_FILE
    initial_pose_description = "dposer mean training pose (the centre of its normalised space)"

    def __init__(self, config: Mapping[str, Any] | str | Path | None = None) -> None:
        super().__init__(config)
        sde = self.config["sde"]
        self.sde = SubVPSDE(float(sde["beta_min"]), float(sde["beta_max"]))
        self.model: ScoreNet | None = None
        self.normaliser: Normaliser | None = None
        self.record: dict[str, Any] = {}

    @classmethod
    def resolve_config(cls, config: Mapping[str, Any] | str | Path | None) -> dict[str, Any]:
        """The merged config (:func:`merged_config`), with each time range falling: t_min is at
        most t_max."""
        merged = merged_config(cls.name, cls.default_config, config, cls.config_schema)
        where = f"file {config}" if isinstance(config, (str, Path)) else "config"
        for task, block in {"energy": merged["energy"], **merged["guidance"]}.items():
            if float(block["t_min"]) > float(block["t_max"]):
                raise ConfigError(
                    f"prior 'dposer' {where}: {task} t_min {block['t_min']} is above t_max "
                    f"{block['t_max']}; the time falls from t_max to t_min over a fit"
                )
        return merged

    # --- weights -------------------------------------------------------------------------------

    def default_checkpoint(self) -> Path | None:
        """posebench/data/dposer_embedded.pt when it is installed, else None."""
        return SHIPPED_CHECKPOINT if SHIPPED_CHECKPOINT.is_file() else None

    def install(self, model: ScoreNet, normaliser: Normaliser, record: Mapping[str, Any]) -> None:
        """Use ``model`` (evaluation mode, frozen) with ``normaliser``; ``record`` says how it was
        trained."""
        model.eval().requires_grad_(False)
        self.model = model.to(self.device)
        self.normaliser = normaliser.to(self.device)
        self.record = dict(record)

    def _ready(self) -> tuple[ScoreNet, Normaliser]:
        if self.model is None or self.normaliser is None:
            raise InputError(
                "prior 'dposer' has no trained weights: pass --checkpoint FILE (a posebench "
                "dposer.pt) or run 'posebench train --prior dposer'"
            )
        return self.model, self.normaliser

    def to(self, device: torch.device | str) -> DPoserPrior:
        super().to(device)
        if self.model is not None and self.normaliser is not None:
            self.model.to(self.device)
            self.normaliser = self.normaliser.to(self.device)
        return self

    def save(self, path: str | Path) -> None:
        """posebench's checkpoint: the network's (EMA) weights (in ``checkpoint_dtype``), its
        architecture and schedule, the normalisation statistics and the training record, written
        atomically."""
        model, normaliser = self._ready()
        atomic_torch_save(
            {
                "format": CHECKPOINT_FORMAT,
                "format_version": CHECKPOINT_VERSION,
                "model_config": dict(self.config["model"]),
                "sde": dict(self.config["sde"]),
                "model": {
                    k: v.detach().cpu().to(WEIGHT_DTYPES[self.config["checkpoint_dtype"]])
                    for k, v in model.state_dict().items()
                },
                "mean": normaliser.mean.cpu(),
                "std": normaliser.std.cpu(),
                "training": self.record,
            },
            path,
        )

    def load(self, path: str | Path) -> None:
        """Read a checkpoint written by :meth:`save`."""
        path = Path(path)
        try:
            data = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # zip, pickle or EOF errors of a damaged or foreign file
            raise InputError(
                f"cannot read dposer checkpoint {path} ({type(exc).__name__}); is it a file "
                "'posebench train --prior dposer' wrote?"
            ) from exc
        if not isinstance(data, dict) or data.get("format") != CHECKPOINT_FORMAT:
            raise InputError(
                f"{path} is not a posebench dposer checkpoint (format "
                f"{data.get('format') if isinstance(data, dict) else type(data).__name__!r}); "
                "train one with 'posebench train --prior dposer'"
            )
        self.config["model"] = dict(data["model_config"])
        self.config["sde"] = dict(data["sde"])
        self.sde = SubVPSDE(float(data["sde"]["beta_min"]), float(data["sde"]["beta_max"]))
        model = build_model(self.config["model"])
        try:  # weights stored in half precision are widened back to float32
            model.load_state_dict({k: v.float() for k, v in data["model"].items()})
        except RuntimeError as exc:
            raise InputError(f"dposer checkpoint {path}: weights do not fit its network") from exc
        mean, std = data["mean"].float(), data["std"].float()
        if mean.shape != (POSE_DIM,) or std.shape != (POSE_DIM,) or not (std > 0).all():
            raise InputError(f"dposer checkpoint {path}: bad normalisation statistics")
        self.install(model, Normaliser(mean, std), data.get("training") or {})

    # --- the contract --------------------------------------------------------------------------

    def _normalised(self, pose: torch.Tensor) -> torch.Tensor:
        check_pose(pose)
        _, normaliser = self._ready()
        return normaliser.normalise(pose.to(device=self.device, dtype=torch.float32))

    def energy(self, pose: torch.Tensor) -> torch.Tensor:
        """``(B,)`` score loss averaged over ``energy.draws`` fixed (t, z) pairs (module
        docstring); deterministic, and differentiable through the network."""
        model, _ = self._ready()
        x = self._normalised(pose)
        cfg = self.config["energy"]
        draws = int(cfg["draws"])
        times = torch.linspace(float(cfg["t_max"]), float(cfg["t_min"]), draws, device=self.device)
        generator = torch.Generator().manual_seed(derive_seed(0, "dposer-energy"))
        noises = torch.randn(draws, POSE_DIM, generator=generator).to(self.device)
        total = x.new_zeros(len(x))
        for time, noise in zip(times, noises, strict=True):
            total = total + score_loss(
                model, self.sde, x, time.expand(len(x)), noise.expand_as(x), cfg["weighting"], False
            )
        return (total / draws).to(pose.dtype)

    def guidance(self, task: str | None) -> Mapping[str, Any]:
        """The truncated-timestep schedule of ``task`` (the ``default`` entry when it has none)."""
        schedule = self.config["guidance"]
        return schedule.get(task or "default", schedule["default"])

    def fitting_energy(
        self, pose: torch.Tensor, progress: float, task: str | None = None
    ) -> torch.Tensor:
        """DPoser's truncated-timestep score loss at ``progress`` ∈ [0, 1] through a fit: t falls
        linearly from ``t_max`` to ``t_min``; fresh noise per step (seeded by the step, so a fit
        is reproducible); no gradient through the network's clean-pose estimate."""
        model, _ = self._ready()
        x = self._normalised(pose)
        cfg = self.guidance(task)
        progress = min(max(float(progress), 0.0), 1.0)
        t_max, t_min = float(cfg["t_max"]), float(cfg["t_min"])
        time = t_max - progress * (t_max - t_min)
        generator = torch.Generator().manual_seed(
            derive_seed(0, "dposer-guidance", task or "default", f"{progress:.9f}")
        )
        noise = torch.randn(x.shape, generator=generator).to(self.device)
        t = torch.full((len(x),), time, device=self.device)
        return score_loss(model, self.sde, x, t, noise, cfg["weighting"], True).to(pose.dtype)

    @torch.no_grad()
    def project(
        self, pose: torch.Tensor, steps: int | None = None, tol: float | None = None
    ) -> torch.Tensor:
        """Each pose read as the diffused state ``α(t₀) x`` at ``t₀ = project.t_start`` and brought
        back to t ≈ 0 by ``steps`` (default ``project.steps``) deterministic reverse steps; ``tol``
        is not used (a fixed number of steps)."""
        model, normaliser = self._ready()
        x = self._normalised(pose)
        cfg = self.config["project"]
        steps = int(cfg["steps"] if steps is None else steps)
        if steps < 0:
            raise InputError(f"projection steps must be >= 0, got {steps}")
        start = float(cfg["t_start"])
        alpha, _ = self.sde.alpha_sigma(torch.tensor([start], device=self.device))
        clean = ddim(model, self.sde, alpha * x, start, steps, float(self.config["sample"]["eps"]))
        return normaliser.denormalise(clean).to(device=pose.device, dtype=pose.dtype)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` poses by the configured sampler (``sample.steps`` steps from t = 1 to
        ``sample.eps``), drawn in chunks of ``sample.chunk_size``."""
        model, normaliser = self._ready()
        cfg = self.config["sample"]
        steps, eps, chunk = int(cfg["steps"]), float(cfg["eps"]), int(cfg["chunk_size"])
        out = []
        for start in range(0, n, chunk):
            size = min(chunk, n - start)
            if cfg["sampler"] == "euler_maruyama":
                x = euler_maruyama(model, self.sde, size, steps, eps, generator, self.device)
            else:
                where = generator.device if generator is not None else self.device
                noise = torch.randn(size, POSE_DIM, generator=generator, device=where)
                x = ddim(model, self.sde, noise.to(self.device), 1.0, steps, eps)
            out.append(normaliser.denormalise(x))
        return torch.cat(out) if out else torch.zeros(0, 21, 3, device=self.device)

    @torch.no_grad()
    def initial_pose(self, n: int) -> torch.Tensor:
        """The mean training pose in every row (zero in the normalised space)."""
        _, normaliser = self._ready()
        return normaliser.denormalise(torch.zeros(n, POSE_DIM, device=self.device))

    def fit(
        self,
        train_data: Any,
        config: Mapping[str, Any],
        out_dir: Path,
        device: torch.device,
        progress: Progress | None = None,
        resume: bool = False,
    ) -> Path:
        """Train the score network on ``train_data`` (see :mod:`.train`); returns ``dposer.pt``."""
        self.to(device)
        return train_dposer(self, train_data, config, Path(out_dir), device, progress, resume)
