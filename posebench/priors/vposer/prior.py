"""The ``vposer`` prior: a VPoser-style VAE (docs/baselines.md), with its latent space.

Energies (config ``energy``):

* ``latent_norm`` (default): ``||μ_enc(θ)||²``, the squared norm of the posterior mean. It is the
  latent penalty ``Σ z²`` that SMPLify-X and HuMoR put on their latent variable, applied
  to the encoded pose so that pose-space tasks can use it (DPoser's VPoser baseline uses the
  un-squared norm; the square is smooth at zero and matches :meth:`latent_energy`).
* ``neg_elbo``: ``KL(q(z|θ) || N(0, I)) + (rec_weight / kl_weight) · mean |V(θ̂) - V(θ)|`` with
  ``θ̂ = decode(μ_enc(θ))``, the per-pose training objective divided by ``kl_weight``: a negative
  ELBO under the L1 (Laplace) likelihood, up to an additive constant, with the reconstruction at
  the posterior mean instead of a sample so the energy is deterministic. It poses the configured
  body model (every vertex; joints for a skeleton-only body).

Latent space (``LatentPrior``): ``encode`` = posterior mean, ``decode`` = decoder at z, and
``latent_energy(z) = ||z||²`` exactly as SMPLify-X's ``Σ z²`` (twice the negative log-density of
N(0, I) up to a constant; their published weights are for this scale). Projection is VPoser's
reconstruction, ``decode(encode(θ))``, repeated ``steps`` times. Sampling decodes z ~ N(0, I).
Fits start from z = 0 (``initial_latent``), i.e. the pose ``decode(0)`` (``initial_pose``), as
SMPLify-X does.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from posebench.body.load import load_body_model
from posebench.body.rotations import matrix_to_axis_angle
from posebench.core.atomic import atomic_torch_save
from posebench.core.config import packaged_config
from posebench.core.errors import InputError
from posebench.core.paths import data_path
from posebench.core.progress import Progress
from posebench.core.schema import Rule, above, at_least, integer, number, one_of, path, under
from posebench.priors.base import LatentPrior, check_pose
from posebench.priors.vposer import official
from posebench.priors.vposer.model import (
    ARCHITECTURES,
    LATENT_DIM,
    VPoserNet,
    build_model,
    kl_to_standard_normal,
)
from posebench.priors.vposer.train import FINAL, fit_vposer, mesh_points

SHIPPED = "vposer_embedded.pt"
ENERGIES = ("latent_norm", "neg_elbo")
_TRAIN: dict[str, Rule] = {
    "epochs": at_least(1),
    "batch_size": at_least(2),  # BatchNorm needs more than one pose per batch
    "lr": at_least(0),
    "weight_decay": at_least(0),
    "lr_patience": at_least(0),
    "lr_factor": number(min=0, below=1),  # ReduceLROnPlateau refuses factor >= 1
    "early_stop_patience": at_least(1),
    "kl_weight": above(0),  # neg_elbo divides by it
    "rec_weight": at_least(0),
    "matrot_weight": at_least(0),
    "jtr_weight": at_least(0),
    "keep_extra_until_epoch": at_least(0),
    "vertex_subsample": at_least(1, nullable=True),
    "checkpoint_every": at_least(1),
    "max_steps": integer(min=1),
}
#: Ranges and choices of VPoser's config (:mod:`posebench.core.schema`); ``quick_train`` takes
#: the keys and ranges of ``train``.
_DEFAULTS = packaged_config("priors/vposer.yaml")
CONFIG_SCHEMA: dict[str, Rule] = {
    "architecture": one_of(*ARCHITECTURES),
    "energy": one_of(*ENERGIES),
    "body_model_path": path(),
    "project.steps": at_least(0),
    "project.tol": number(min=0),
    **under("train", _TRAIN),
    **under("quick_train", _TRAIN, _DEFAULTS["quick_train"]),
}


class VPoserPrior(LatentPrior):
    """VPoser v2 ("V02_05") as a pose prior; also reads official v2 and v1 weights."""

    name = "vposer"
    version = "1"
    latent_dim = LATENT_DIM
    default_config = _DEFAULTS
    final_checkpoint = FINAL
    config_schema = CONFIG_SCHEMA
    initial_pose_description = "vposer zero latent (z = 0, decoded)"

    def __init__(self, config: Mapping[str, Any] | str | None = None) -> None:
        super().__init__(config)  # checked against CONFIG_SCHEMA (energy, architecture, ...)
        self.model: VPoserNet | None = None
        self.training: dict[str, Any] = {}
        self.source: str | None = None
        self.loss_weights = {
            k: self.config["train"][k] for k in ("kl_weight", "rec_weight")
        }  # what neg_elbo weighs; a posebench checkpoint brings the ones it was trained with
        self._body: Any = None

    # --- weights ---------------------------------------------------------------------------------

    def default_checkpoint(self) -> Path | None:
        shipped = data_path(SHIPPED)
        return shipped if shipped.is_file() else None

    def load(self, path: str | Path) -> None:
        """Read a posebench ``vposer`` file, an official V02_05 ``.ckpt`` or a v1 ``.pt``."""
        architecture, weights, extra = official.identify(official.read_file(path), path)
        model = build_model(architecture)
        weights = official.fill_batch_counters(weights, model.state_dict())
        try:
            model.load_state_dict(weights, strict=True)
        except RuntimeError as exc:
            expected, found = set(model.state_dict()), set(weights)
            detail = (
                f"{len(expected - found)} weights missing, {len(found - expected)} unexpected"
                if expected != found
                else "weights have the wrong shapes"
            )
            raise InputError(
                f"VPoser checkpoint {path} does not match the {architecture} network ({detail}); "
                "is it a VPoser file with 512 neurons and a 32-D latent?"
            ) from exc
        self._install(model)
        self.training = dict(extra.get("training", {}))
        self.source = str(extra.get("source", "posebench"))
        self.loss_weights.update(extra.get("loss_weights", {}))

    def save(self, path: str | Path) -> None:
        model = self._ready()
        atomic_torch_save(
            {
                "format": official.FORMAT,
                "format_version": official.FORMAT_VERSION,
                "architecture": model.architecture,
                "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
                "loss_weights": dict(self.loss_weights),
                "body_model": self.config["body_model"],
                "training": self.training,
            },
            path,
        )

    def to(self, device: torch.device | str) -> VPoserPrior:
        super().to(device)
        if self.model is not None:
            self.model.to(self.device)
        self._body = None
        return self

    def _install(self, model: VPoserNet) -> None:
        model.eval()  # always: BatchNorm on running statistics, no dropout (official test-time use)
        model.requires_grad_(False)  # tasks differentiate poses and latents, not weights
        self.model = model.to(self.device)

    def _ready(self) -> VPoserNet:
        if self.model is None:
            raise InputError(
                "prior 'vposer' has no trained weights: pass --checkpoint FILE (a posebench "
                "vposer.pt, an official V02_05 .ckpt or a v1 TR00_E096.pt) or run 'posebench "
                "train --prior vposer'"
            )
        return self.model

    def _body_model(self) -> Any:
        if self._body is None:
            self._body = load_body_model(
                self.config["body_model"], self.config["body_model_path"], str(self.device)
            )
        return self._body

    # --- latent space ----------------------------------------------------------------------------

    def encode(self, pose: torch.Tensor) -> torch.Tensor:
        """Posterior means ``(B, 32)`` of ``(B, 21, 3)`` poses."""
        return self.posterior(pose)[0]

    def posterior(self, pose: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior mean and standard deviation, each ``(B, 32)``."""
        check_pose(pose)
        model = self._ready()
        mu, std = model.encode(pose.to(device=self.device, dtype=torch.float32))
        return mu.to(pose.dtype), std.to(pose.dtype)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """``(B, 21, 3)`` axis-angle poses of ``(B, 32)`` latent codes (differentiable in z)."""
        return matrix_to_axis_angle(self.decode_matrices(z))

    def decode_matrices(self, z: torch.Tensor) -> torch.Tensor:
        """``(B, 21, 3, 3)`` joint rotation matrices of ``(B, 32)`` latent codes."""
        self._check_latent(z)
        model = self._ready()
        return model.decode_matrices(z.to(device=self.device, dtype=torch.float32)).to(z.dtype)

    def latent_energy(self, z: torch.Tensor) -> torch.Tensor:
        """``||z||²`` per code, ``(B,)`` (SMPLify-X's and HuMoR's latent penalty)."""
        self._check_latent(z)
        return z.square().sum(dim=-1)

    def initial_latent(self, n: int) -> torch.Tensor:
        """SMPLify-X's start: z = 0, the mode of VPoser's standard-normal latent, ``(n, 32)``."""
        self._ready()
        return torch.zeros(n, self.latent_dim, device=self.device)

    @torch.no_grad()
    def initial_pose(self, n: int) -> torch.Tensor:
        """The decoded zero latent, ``decode(0)``, ``(n, 21, 3)`` (the pose :meth:`initial_latent`
        stands for, so pose-space and latent-space fits start at the same body)."""
        return self.decode(self.initial_latent(n))

    def _check_latent(self, z: torch.Tensor) -> None:
        if not isinstance(z, torch.Tensor) or z.ndim != 2 or z.shape[1] != self.latent_dim:
            shape = tuple(z.shape) if isinstance(z, torch.Tensor) else type(z).__name__
            raise InputError(f"vposer latent codes must have shape (B, 32), got {shape}")
        if not torch.isfinite(z).all():
            raise InputError("vposer latent codes contain NaN or infinite values")

    # --- the contract ----------------------------------------------------------------------------

    def energy(self, pose: torch.Tensor) -> torch.Tensor:
        """``(B,)``: ``latent_norm`` or ``neg_elbo`` per the config (see the module docstring)."""
        if self.config["energy"] == "latent_norm":
            return self.latent_energy(self.encode(pose))
        return self.negative_elbo(pose)

    def negative_elbo(self, pose: torch.Tensor) -> torch.Tensor:
        """``KL(q(z|θ) || N(0, I)) + (rec_weight / kl_weight) · mean |V(θ̂) - V(θ)|``, ``(B,)``."""
        mu, std = self.posterior(pose)
        body = self._body_model()
        pose_hat = self.decode(mu)
        target = mesh_points(body(pose.to(self.device)), None)
        error = (mesh_points(body(pose_hat.to(self.device)), None) - target).abs()
        rec = error.mean(dim=(1, 2)).to(pose.dtype)
        scale = self.loss_weights["rec_weight"] / self.loss_weights["kl_weight"]
        return kl_to_standard_normal(mu, std) + scale * rec

    @torch.no_grad()
    def project(
        self, pose: torch.Tensor, steps: int | None = None, tol: float | None = None
    ) -> torch.Tensor:
        """``decode(encode(θ))``, repeated ``steps`` times (config ``project.steps``, default 1:
        VPoser's own reconstruction); a pose stops once no joint moves more than ``tol``."""
        check_pose(pose)
        steps = self.config["project"]["steps"] if steps is None else steps
        tol = self.config["project"]["tol"] if tol is None else tol
        x = pose.clone()
        active = torch.ones(len(x), dtype=torch.bool, device=x.device)
        for _ in range(max(int(steps), 1)):
            new = self.decode(self.encode(x)).to(device=x.device, dtype=x.dtype)
            moved = (new - x).norm(dim=-1).amax(dim=-1)
            x = torch.where(active[:, None, None], new, x)
            if tol is not None:
                active &= moved > tol
                if not active.any():
                    break
        return x

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Decode ``n`` codes z ~ N(0, I_32) (the official ``sample_poses``)."""
        self._ready()
        where = generator.device if generator is not None else self.device
        z = torch.randn(n, self.latent_dim, generator=generator, device=where)
        return self.decode(z.to(self.device))

    def fit(
        self,
        train_data: Any,
        config: Mapping[str, Any],
        out_dir: Path,
        device: torch.device,
        progress: Progress | None = None,
        resume: bool = False,
    ) -> Path:
        """Train on ``train_data``'s train split (model selection on val), see :mod:`.train`.

        Writes ``vposer.pt`` (the best-validation weights, readable by :meth:`load`),
        ``last.pt`` (everything needed to resume bit-identically) and ``training.json`` under
        ``out_dir``; returns the path of ``vposer.pt``. ``config`` is this prior's merged config
        plus ``quick`` and ``seed``; ``config["train"]["max_steps"]`` stops early (resumable).
        """
        model, final, record = fit_vposer(
            train_data, config, Path(out_dir), device, progress, resume
        )
        self.to(device)
        self._install(model)
        self.loss_weights = {k: config["train"][k] for k in ("kl_weight", "rec_weight")}
        self.training = {k: v for k, v in record.items() if k != "history"}
        self.source = "posebench"
        self.save(final)
        return final
