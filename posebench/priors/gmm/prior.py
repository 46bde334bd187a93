"""The ``gmm`` prior: SMPLify's max-mixture energy over the 63-D axis-angle body pose."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from posebench.core.atomic import atomic_write_json
from posebench.core.config import packaged_config
from posebench.core.errors import InputError
from posebench.core.paths import data_path
from posebench.core.progress import Progress
from posebench.core.schema import Rule, at_least, between, one_of
from posebench.core.seeding import make_generator
from posebench.priors.base import Prior, check_pose
from posebench.priors.gmm.mixture import Mixture, fit_mixture
from posebench.priors.gmm.official import BODY_DIMS, read_gmm_pickle, write_gmm_pickle

#: The file name of the final checkpoint that training writes.
FINAL = "gmm.pkl"

SHIPPED = "gmm_embedded.pkl"
#: Where projection stops (``project.stop_at``): at the plausible energy level, or at the mode.
STOP_AT = ("plausible", "mode")
#: Ranges and choices of the GMM's config (:mod:`posebench.core.schema`).
CONFIG_SCHEMA: dict[str, Rule] = {
    "n_components": at_least(1),  # 0 fails deep in k-means' one-hot labels
    "reg_covar": at_least(0),
    "max_iter": at_least(1),
    "tol": at_least(0),
    "plausible_quantile": between(0, 1),
    "project.steps": at_least(0),
    "project.step_size": at_least(0),
    "project.max_step": at_least(0),
    "project.stop_at": one_of(*STOP_AT),
}


class GMMPrior(Prior):
    """Gaussian mixture prior (SMPLify): energy = min_k [−log(w_k N(x; μ_k, Σ_k))] + const.

    Projection moves each pose towards the mean of its active component (the gradient
    preconditioned by that component's covariance, so it converges in a few bounded steps) and
    stops once the energy is at the plausible level learnt in training (or at the mode).
    """

    name = "gmm"
    version = "1"
    default_config = packaged_config("priors/gmm.yaml")
    final_checkpoint = FINAL
    config_schema = CONFIG_SCHEMA
    initial_pose_description = "gmm mean pose (weighted mean of the component means)"

    def __init__(self, config: Mapping[str, Any] | str | None = None) -> None:
        super().__init__(config)
        self.mixture: Mixture | None = None
        self.plausible_energy: float | None = None
        self.training: dict[str, Any] = {}

    # --- weights ---------------------------------------------------------------------------------

    def default_checkpoint(self) -> Path | None:
        shipped = data_path(SHIPPED)
        return shipped if shipped.is_file() else None

    def load(self, path: str | Path) -> None:
        mixture, extra = read_gmm_pickle(path)
        self.mixture = mixture.to(self.device)
        self.plausible_energy = extra.get("plausible_energy")
        self.training = dict(extra.get("training", {}))
        self.training["source_dims"] = extra["source_dims"]

    def save(self, path: str | Path) -> None:
        extra = {"plausible_energy": self.plausible_energy, "training": self.training}
        write_gmm_pickle(path, self._ready(), extra)

    def to(self, device: torch.device | str) -> GMMPrior:
        super().to(device)
        if self.mixture is not None:
            self.mixture = self.mixture.to(self.device)
        return self

    def _ready(self) -> Mixture:
        if self.mixture is None:
            raise InputError(
                "prior 'gmm' has no trained mixture: pass --checkpoint FILE (a gmm_08.pkl-style "
                "file) or run 'posebench train --prior gmm'"
            )
        return self.mixture

    # --- the contract ----------------------------------------------------------------------------

    def energy(self, pose: torch.Tensor) -> torch.Tensor:
        check_pose(pose)
        mixture = self._ready()
        flat = pose.reshape(len(pose), BODY_DIMS).to(mixture.means.dtype)
        return mixture.max_mixture_energy(flat).to(pose.dtype)

    def energy_infimum(self) -> float | None:
        """The smallest energy of any pose: the best component's constant −log w̃_k (at its
        mean). The energy is positive everywhere (it includes D/2 log 2π ≈ 57.9 for D = 63), so
        this is the offset that makes it zero at the most plausible pose."""
        return float(self._ready().nll_constants.min())

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        samples = self._ready().sample(n, generator)
        return samples.reshape(n, 21, 3).to(torch.float32)

    def mean_pose(self) -> torch.Tensor:
        """``(21, 3)``: the mixture's mean, ``Σ_k w_k μ_k / Σ_k w_k``.

        This is the mean of the mixture distribution, not its mode and not one component's
        mean; it is the body pose SMPLify starts its fits from (the component means weighted by
        the mixture weights; the division only guards a file whose weights do not sum to 1).
        """
        mixture = self._ready()
        weights = mixture.weights / mixture.weights.sum()
        return (weights @ mixture.means).reshape(21, 3)

    def initial_pose(self, n: int) -> torch.Tensor:
        """SMPLify's start: :meth:`mean_pose` in every row, ``(n, 21, 3)`` float32."""
        mean = self.mean_pose().to(device=self.device, dtype=torch.float32)
        return mean.expand(n, 21, 3).clone()

    @torch.no_grad()
    def project(
        self, pose: torch.Tensor, steps: int | None = None, tol: float | None = None
    ) -> torch.Tensor:
        check_pose(pose)
        mixture = self._ready()
        settings = self.config["project"]
        steps = settings["steps"] if steps is None else steps
        # None: run to the mode (asked for, or no plausible energy known)
        threshold = None if settings["stop_at"] == "mode" else self.plausible_energy
        x = pose.reshape(len(pose), BODY_DIMS).to(mixture.means.dtype).clone()
        active = torch.ones(len(x), dtype=torch.bool, device=x.device)
        for _ in range(steps):
            energies = mixture.component_energies(x)
            best = energies.min(dim=1)
            if threshold is not None:
                active &= best.values > threshold
            if not active.any():
                break
            step = -settings["step_size"] * (x - mixture.means[best.indices])
            per_joint = step.reshape(len(x), 21, 3).norm(dim=-1, keepdim=True)
            scale = (settings["max_step"] / per_joint.clamp_min(1e-12)).clamp(max=1.0)
            step = (step.reshape(len(x), 21, 3) * scale).reshape(len(x), BODY_DIMS)
            x = torch.where(active[:, None], x + step, x)
            if tol is not None:
                active &= step.norm(dim=1) > tol
        return x.reshape(pose.shape).to(pose.dtype)

    def project_steps(
        self, pose: torch.Tensor, steps: int | None = None, tol: float | None = None
    ) -> torch.Tensor:
        """The projection's poses after each step (each step depends only on the pose before)."""
        steps = self.config["project"]["steps"] if steps is None else steps
        frames = [check_pose(pose)]
        for _ in range(steps):
            frames.append(self.project(frames[-1], steps=1, tol=tol))
        return torch.stack(frames)

    def fit(
        self,
        train_data: Any,
        config: Mapping[str, Any],
        out_dir: Path,
        device: torch.device,
        progress: Progress | None = None,
        resume: bool = False,
    ) -> Path:
        """EM on the train split; writes ``gmm.pkl`` (SMPLify's format) and ``training.json``.

        EM on the embedded default takes seconds, so ``resume`` has nothing to continue: a
        finished checkpoint for the same data and config is kept, anything else is refitted.
        """
        out_dir = Path(out_dir)
        final = out_dir / FINAL
        record_path = out_dir / "training.json"
        poses = train_data.poses("train")
        fingerprint = {
            "dataset": getattr(train_data, "name", "?"),
            "content_hash": train_data.content_hash(),
            "config": {k: v for k, v in config.items() if k not in ("quick",)},
        }
        finished = resume and final.is_file() and record_path.is_file()
        if finished and _recorded_fingerprint(record_path) == fingerprint:
            self.load(final)
            return final
        started = time.perf_counter()
        x = poses.reshape(len(poses), BODY_DIMS).to(device=device, dtype=torch.float64)
        mixture, report = fit_mixture(
            x,
            n_components=config["n_components"],
            reg_covar=config["reg_covar"],
            max_iter=config["max_iter"],
            tol=config["tol"],
            generator=make_generator(int(config.get("seed", 0)), "gmm-init"),
        )
        energies = mixture.max_mixture_energy(x)
        self.mixture = mixture.to(self.device)
        self.plausible_energy = float(torch.quantile(energies, config["plausible_quantile"]))
        self.training = {
            "n_train": len(x),
            "em_iterations": report.iterations,
            "converged": report.converged,
            "mean_log_likelihood": report.log_likelihood,
            "device": str(device),
            "wall_s": round(time.perf_counter() - started, 3),
            "em": "torch (posebench.priors.gmm.mixture.fit_mixture), k-means++ start",
        }
        self.save(final)
        atomic_write_json(
            record_path,
            {
                "fingerprint": fingerprint,
                **self.training,
                "plausible_energy": self.plausible_energy,
            },
        )
        if progress is not None:
            progress.log(
                f"gmm: {report.iterations} EM iterations, mean log-likelihood "
                f"{report.log_likelihood:.3f}, converged={report.converged}"
            )
        return final


def _recorded_fingerprint(record_path: Path) -> Any:
    """The fingerprint a finished fit recorded, or None when the record is damaged (then the
    fit simply runs again: EM takes seconds, and nothing is lost)."""
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return record.get("fingerprint") if isinstance(record, dict) else None
