"""The ``posendf`` prior: energy = predicted distance to the pose manifold, projection, sampling,
training, and posebench's own and the official checkpoints."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from posebench.core.atomic import atomic_torch_save
from posebench.core.config import merge_config
from posebench.core.errors import ConfigError, InputError
from posebench.core.paths import data_path
from posebench.core.progress import Progress
from posebench.priors.base import Prior, check_pose
from posebench.priors.posendf import official
from posebench.priors.posendf.config import (
    CONFIG_SCHEMA,
    DEFAULT_CONFIG,
    DTYPES,
    official_source,
    resolve_config,
)
from posebench.priors.posendf.model import PoseNDF, build_model
from posebench.priors.posendf.projection import (
    StepCallback,
    autocast_context,
    interpolate,
    project_quaternions,
    projection_trajectory,
)
from posebench.priors.posendf.quat import canonical, pose_to_network_input, quat_to_axis_angle
from posebench.priors.posendf.starts import random_starts
from posebench.priors.posendf.train import FINAL_FILE
from posebench.priors.posendf.train import fit as train_posendf

#: posebench's own checkpoint format.
CHECKPOINT_FORMAT = "posebench-posendf"
CHECKPOINT_VERSION = 1
#: Where the shipped checkpoint (trained on the embedded dataset) lives when it exists.
SHIPPED_CHECKPOINT = data_path("posendf_embedded.pt")


class PoseNDFPrior(Prior):
    """Pose-NDF (docs/posendf.md). Refuses to give numbers without trained weights."""

    name = "posendf"
    version = "1"
    #: The method's name in messages, and posebench's checkpoint format (a subclass that is
    #: another method, NRDF, sets its own so neither reads the other's files).
    method = "Pose-NDF"
    checkpoint_format = CHECKPOINT_FORMAT
    #: The training loop :meth:`fit` runs (NRDF has its own).
    trainer = staticmethod(train_posendf)
    default_config = DEFAULT_CONFIG
    final_checkpoint = FINAL_FILE
    config_schema = CONFIG_SCHEMA
    initial_pose_description = "posendf rest pose projected onto the zero level set"

    def __init__(self, config: Mapping[str, Any] | str | Path | None = None) -> None:
        self.official_config: str | None = official_source(config)
        super().__init__(config)
        self.model = self._new_model()
        self.trained = False
        self.record: dict[str, Any] = {}

    @classmethod
    def resolve_config(cls, config: Mapping[str, Any] | str | Path | None) -> dict[str, Any]:
        """The full config, from posebench overrides or an official config (see :mod:`.config`)."""
        return resolve_config(config)

    # --- weights -------------------------------------------------------------------------------

    @property
    def dtype(self) -> torch.dtype:
        """The network's floating-point precision (config ``dtype``)."""
        return DTYPES[self.config["dtype"]]

    def _new_model(self, seed: int = 0) -> PoseNDF:
        generator = torch.Generator().manual_seed(seed)
        model = build_model(self.config["model"], generator)
        # Inference only (training builds its own model): no weight gradients, cached blocks.
        return model.requires_grad_(False).to(device=self.device, dtype=self.dtype).eval()

    def _require_weights(self) -> None:
        if not self.trained:
            raise InputError(
                f"prior '{self.name}' has no trained weights: pass --checkpoint or run "
                f"posebench train --prior {self.name}"
            )

    def default_checkpoint(self) -> Path | None:
        """posebench/data/posendf_embedded.pt when it is installed, else None."""
        return SHIPPED_CHECKPOINT if SHIPPED_CHECKPOINT.is_file() else None

    def to(self, device: torch.device | str, dtype: torch.dtype | None = None) -> PoseNDFPrior:
        """Move the network to ``device`` (and, optionally, change its precision)."""
        super().to(device)
        if dtype is not None:
            names = {v: k for k, v in DTYPES.items()}
            if dtype not in names:
                raise ConfigError(f"prior '{self.name}' runs in float32 or float64, not {dtype}")
            self.config["dtype"] = names[dtype]
        self.model = self.model.to(device=self.device, dtype=self.dtype)
        return self

    # --- the contract --------------------------------------------------------------------------

    def energy(self, pose: torch.Tensor) -> torch.Tensor:
        """``(B,)`` predicted distance of ``(B, 21, 3)`` poses to the manifold (differentiable)."""
        check_pose(pose)
        self._require_weights()
        quat = pose_to_network_input(pose.to(device=self.device, dtype=self.dtype))
        with autocast_context(self.config["bf16"], self.device):
            dist = self.model(quat)
        return dist.to(device=pose.device, dtype=pose.dtype)

    def distance_quat(self, quat: torch.Tensor) -> torch.Tensor:
        """``(B,)`` distances of ``(B, 21, 4)`` quaternions (w, x, y, z), canonicalised first."""
        self._require_weights()
        return self.model(canonical(quat.to(device=self.device, dtype=self.dtype)))

    def project(
        self,
        pose: torch.Tensor,
        steps: int | None = None,
        tol: float | None = None,
        on_step: StepCallback | None = None,
    ) -> torch.Tensor:
        """Project ``(B, 21, 3)`` poses: official update, ``steps`` (default config, 100) steps,
        a pose stops early once its distance is below ``tol``. ``on_step(step, quat)`` sees the
        (B, 21, 4) quaternions after every step (for saving trajectories)."""
        check_pose(pose)
        self._require_weights()
        quat = pose_to_network_input(pose.detach().to(device=self.device, dtype=self.dtype))
        projected = self.project_quat(quat, steps, tol, on_step)
        return quat_to_axis_angle(projected).to(device=pose.device, dtype=pose.dtype)

    def project_quat(
        self,
        quat: torch.Tensor,
        steps: int | None = None,
        tol: float | None = None,
        on_step: StepCallback | None = None,
    ) -> torch.Tensor:
        """The projection on ``(B, 21, 4)`` quaternions (w, x, y, z); returns canonical ones."""
        self._require_weights()
        cfg = self.config["projection"]
        steps = cfg["steps"] if steps is None else steps
        tol = cfg["tol"] if tol is None else tol
        if int(steps) < 0:
            raise InputError(f"projection steps must be >= 0, got {steps}")
        return project_quaternions(
            self.model,
            quat.to(device=self.device, dtype=self.dtype),
            steps=int(steps),
            tol=None if tol is None else float(tol),
            chunk_size=int(cfg["chunk_size"]),
            bf16=bool(self.config["bf16"]),
            on_step=on_step,
        )

    def initial_pose(self, n: int) -> torch.Tensor:
        """The rest pose projected onto the network's zero level set (:meth:`project` with the
        config's ``projection`` settings), the same pose in each of the ``n`` rows.

        Pose-NDF has neither a mean pose (GMM) nor a latent centre (VPoser); its model of
        plausibility is the zero level set, so the counterpart of those starts is the plausible
        pose nearest the neutral one. The rest pose itself would ignore the prior, and a sample
        would need randomness. The projection is a fixed number of gradient steps from a fixed
        input, computed for one pose and repeated, so it does not depend on ``n`` or a seed.
        """
        self._require_weights()
        rest = torch.zeros(1, 21, 3, device=self.device, dtype=self.dtype)
        start = self.project(rest).to(torch.float32)
        return start.expand(n, 21, 3).clone()

    def project_steps(
        self, pose: torch.Tensor, steps: int | None = None, tol: float | None = None
    ) -> torch.Tensor:
        """``(S + 1, B, 21, 3)``: the input (canonicalised) and the pose after every step."""
        return projection_trajectory(self, pose, steps=steps, tol=tol)

    def interpolate(self, start: torch.Tensor, end: torch.Tensor, steps: int) -> torch.Tensor:
        """The original project's interpolation: project both ends, then ``steps``
        times blend the current pose's quaternions towards the end's by ``step_size`` and
        project. It approaches the end pose geometrically and need not reach it."""
        cfg = self.config["interpolate"]
        return interpolate(
            self, start, end, steps=steps, step_size=float(cfg["step_size"]),
            project_steps=cfg["project_steps"], tol=cfg["tol"],
        )  # fmt: skip

    def sampling_starts(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``(n, 21, 4)`` random starts of sampling (config ``sample.init``)."""
        cfg = self.config["sample"]
        return random_starts(n, cfg["init"], generator, rest_sigma=float(cfg["rest_sigma"]))

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` poses: :meth:`sampling_starts` projected ``sample.steps`` steps."""
        self._require_weights()
        starts = self.sampling_starts(n, generator)
        steps = int(self.config["sample"]["steps"])
        projected = self.project_quat(starts.to(self.device), steps=steps)
        return quat_to_axis_angle(projected).to(torch.float32)

    # --- training ------------------------------------------------------------------------------

    def fit(
        self,
        train_data: Any,
        config: Mapping[str, Any],
        out_dir: Path,
        device: torch.device,
        progress: Progress | None = None,
        resume: bool = False,
    ) -> Path:
        """Train on ``train_data`` (its train split; val for monitoring) with :attr:`trainer`."""
        return self.trainer(
            self, train_data, config, Path(out_dir), torch.device(device), progress, resume
        )

    # --- checkpoints ---------------------------------------------------------------------------

    def checkpoint_dict(self) -> dict[str, Any]:
        """posebench's checkpoint: weights, the config that built them, the training record."""
        return {
            "format": self.checkpoint_format,
            "format_version": CHECKPOINT_VERSION,
            "prior_version": self.version,
            "state_dict": {k: v.detach().cpu() for k, v in self.model.state_dict().items()},
            "config": self.config,
            "record": self.record,
        }

    def save(self, path: str | Path) -> None:
        """Write posebench's checkpoint format atomically."""
        self._require_weights()
        atomic_torch_save(self.checkpoint_dict(), path)

    def load(self, path: str | Path) -> None:
        """Read posebench's checkpoint, or an official ``checkpoint_epoch_best.tar`` (which needs
        the official config: passed as ``config`` or found as ``config.yaml`` beside it)."""
        path = Path(path)
        try:
            data = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:
            raise InputError(
                f"checkpoint {path} could not be read as a torch file ({type(exc).__name__}); "
                f"pass a posebench or official {self.method} checkpoint"
            ) from exc
        if isinstance(data, Mapping) and data.get("format") == self.checkpoint_format:
            self._load_posebench(data, path)
        elif official.is_official_checkpoint(data):
            self._load_official(data, path)
        else:
            raise InputError(
                f"checkpoint {path} is neither a posebench {self.method} checkpoint nor an "
                "official one (a dict with 'model_state_dict'); check --checkpoint"
            )
        self.checkpoint = path
        self.trained = True

    def _load_posebench(self, data: Mapping[str, Any], path: Path) -> None:
        if int(data.get("format_version", 0)) > CHECKPOINT_VERSION:
            raise InputError(
                f"checkpoint {path} has format version {data['format_version']}, newer than this "
                f"posebench understands ({CHECKPOINT_VERSION}); upgrade posebench"
            )
        config, state = data.get("config"), data.get("state_dict")
        missing = [
            name
            for name, part in (("config.model", config), ("state_dict", state))
            if not isinstance(part, Mapping)
            or (name == "config.model" and not isinstance(part.get("model"), Mapping))
        ]
        if missing:
            raise InputError(
                f"checkpoint {path} is a posebench {self.method} checkpoint without its "
                f"{' and '.join(missing)}; the file is incomplete: save or train it again"
            )
        stored = merge_config(self.default_config, {"model": data["config"]["model"]})
        self.config["model"] = stored["model"]
        self.model = self._new_model()
        self._load_state(data["state_dict"], path)
        self.record = dict(data.get("record") or {})

    def _load_official(self, data: Mapping[str, Any], path: Path) -> None:
        if self.official_config is None:
            found = official.find_official_config(path)
            if found is None:
                raise ConfigError(
                    f"checkpoint {path} is an official {self.method} checkpoint; pass its official "
                    "config.yaml too (--prior-config PATH/config.yaml, or config= in load_prior)"
                )
            self.official_config = str(found)
            self.config["model"] = merge_config(
                self.default_config, official.translate_config(found)
            )["model"]
        self.model = self._new_model()
        state = official.from_official_state_dict(
            self.official_weights(data["model_state_dict"]), self.model.state_dict(), str(path)
        )
        self._load_state(state, path)
        self.record = {"source": "official", "config": self.official_config,
                       "epoch": data.get("epoch")}  # fmt: skip

    def official_weights(self, state: Mapping[str, torch.Tensor]) -> Mapping[str, torch.Tensor]:
        """The entries of an official ``model_state_dict`` that this network takes (all)."""
        return state

    def _load_state(self, state: Mapping[str, torch.Tensor], path: Path) -> None:
        try:
            self.model.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            first = str(exc).splitlines()[0]
            raise InputError(
                f"checkpoint {path} does not fit the configured architecture ({first}); use the "
                "config it was trained with"
            ) from exc
        self.model = self.model.to(device=self.device, dtype=self.dtype).eval()

    def mark_trained(self, record: Mapping[str, Any]) -> None:
        """Called by training: the weights now come from data, with this record."""
        self.trained = True
        self.record = {**dict(record), "saved_at": time.strftime("%Y-%m-%dT%H:%M:%S")}
