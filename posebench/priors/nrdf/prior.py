"""The ``nrdf`` prior (docs/nrdf.md): energy = NRDF's predicted distance to the pose manifold;
projection and sampling by its Riemannian descent; its own training points and loss.

NRDF shares Pose-NDF's network (a hierarchical per-joint encoder and a distance MLP on 21 unit
quaternions) and its official checkpoint layout, so the prior is Pose-NDF's with NRDF's
training, projection, sampling and distance; interpolation is the contract's default (slerp
between the ends, then project every pose), since NRDF defines none.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from posebench.core.config import packaged_config, read_yaml
from posebench.core.errors import ConfigError, InputError
from posebench.core.paths import data_path
from posebench.core.schema import Rule, above, at_least, integer, items, one_of, under
from posebench.priors.base import Prior, merged_config
from posebench.priors.nrdf.geometry import random_starts
from posebench.priors.nrdf.projection import StepCallback, project_quaternions
from posebench.priors.nrdf.train import FINAL_FILE
from posebench.priors.nrdf.train import fit as train_nrdf
from posebench.priors.posendf import official
from posebench.priors.posendf.config import DTYPES, LOSSES, official_source
from posebench.priors.posendf.model import ACTIVATIONS, INITS, PARENT_TABLES
from posebench.priors.posendf.prior import PoseNDFPrior

DEFAULT_CONFIG = packaged_config("priors/nrdf.yaml")
CHECKPOINT_FORMAT = "posebench-nrdf"
#: Where the shipped checkpoint (trained on the embedded dataset) lives.
SHIPPED_CHECKPOINT = data_path("nrdf_embedded.pt")

_RULES: dict[str, Rule] = {
    "model.parents": one_of(*PARENT_TABLES),
    "model.encoder_act": one_of(*ACTIVATIONS),
    "model.act": one_of(*ACTIVATIONS),
    "model.beta": above(0),
    "model.encoder_beta": above(0),
    "model.dims": items(integer(min=1), min_length=1),
    "model.hidden": at_least(1),
    "model.feature": at_least(1),
    "model.init": one_of(*INITS),
    "dtype": one_of(*DTYPES),
    "projection.steps": at_least(0),
    "projection.step_size": above(0),
    "projection.chunk_size": at_least(1),
    "sample.sigma": at_least(0),
    "sample.steps": at_least(0),
    "targets.sigma": above(0),
    "targets.per_pose": at_least(1),
    "targets.candidates": at_least(1),
    "train.steps": at_least(1),
    "train.batch_noisy": at_least(1),
    "train.batch_manifold": at_least(1),
    "train.lr": at_least(0),
    "train.weight_decay": at_least(0),
    "train.loss": one_of(*LOSSES),
    "train.weights.dist": at_least(0),
    "train.weights.man": at_least(0),
    "train.checkpoint_every": at_least(0),
    "train.log_every": at_least(0),
    "train.val_size": at_least(1),
}
#: Ranges and choices of NRDF's config; ``quick_overrides`` takes the same keys and ranges.
CONFIG_SCHEMA: dict[str, Rule] = {
    **_RULES,
    **under("quick_overrides", _RULES, DEFAULT_CONFIG["quick_overrides"]),
}


def _official_parents(config: str | Path | Mapping[str, Any], source: str) -> str:
    """The parent table an official NRDF config names (``model.StrEnc.smpl_mapping``, commas
    between the 21 parents; NRDF's code has the anatomical table)."""
    data = read_yaml(config) if isinstance(config, (str, Path)) else config
    mapping = ((data.get("model") or {}).get("StrEnc") or {}).get("smpl_mapping")
    if mapping is None:
        return "anatomical"
    try:
        parents = tuple(int(part) for part in str(mapping).split(",") if part.strip())
    except ValueError:
        parents = ()
    for name, table in PARENT_TABLES.items():
        if parents == table:
            return name
    raise ConfigError(
        f"official NRDF config {source}: model.StrEnc.smpl_mapping {mapping!r} is not a parent "
        f"table posebench knows ({', '.join(PARENT_TABLES)})"
    )


class NRDFPrior(PoseNDFPrior):
    """NRDF (docs/nrdf.md). Refuses to give numbers without trained weights."""

    name = "nrdf"
    version = "1"
    method = "NRDF"
    checkpoint_format = CHECKPOINT_FORMAT
    default_config = DEFAULT_CONFIG
    final_checkpoint = FINAL_FILE
    trainer = staticmethod(train_nrdf)
    config_schema = CONFIG_SCHEMA
    initial_pose_description = "nrdf rest pose projected onto the zero level set"

    @classmethod
    def resolve_config(cls, config: Mapping[str, Any] | str | Path | None) -> dict[str, Any]:
        """NRDF's full config from posebench overrides or an official NRDF ``config.yaml`` (its
        model keys are Pose-NDF's)."""
        where = None
        if (source := official_source(config)) is not None:
            model = official.translate_config(config)["model"]  # type: ignore[arg-type]
            model["parents"] = _official_parents(config, source)  # type: ignore[arg-type]
            config, where = {"model": model}, f"official NRDF config {source}"
        return merged_config(cls.name, cls.default_config, config, cls.config_schema, where)

    def default_checkpoint(self) -> Path | None:
        """posebench/data/nrdf_embedded.pt when it is installed, else None."""
        return SHIPPED_CHECKPOINT if SHIPPED_CHECKPOINT.is_file() else None

    def official_weights(self, state: Mapping[str, torch.Tensor]) -> Mapping[str, torch.Tensor]:
        """An official NRDF state dict without its decoder (``dec.*``: built, never used)."""
        return {k: v for k, v in state.items() if not str(k).startswith("dec.")}

    def project_quat(
        self,
        quat: torch.Tensor,
        steps: int | None = None,
        tol: float | None = None,
        on_step: StepCallback | None = None,
    ) -> torch.Tensor:
        """NRDF's Riemannian descent on ``(B, 21, 4)`` quaternions, ``steps`` (default config:
        200) steps of ``step_size`` × the predicted distance; ``tol`` is not used (the published
        projection runs a fixed number of steps)."""
        self._require_weights()
        cfg = self.config["projection"]
        steps = int(cfg["steps"] if steps is None else steps)
        if steps < 0:
            raise InputError(f"projection steps must be >= 0, got {steps}")
        return project_quaternions(
            self.model, quat.to(device=self.device, dtype=self.dtype), steps,
            float(cfg["step_size"]), int(cfg["chunk_size"]), on_step,
        )  # fmt: skip

    def interpolate(self, start: torch.Tensor, end: torch.Tensor, steps: int) -> torch.Tensor:
        """Slerp between the ends, then project every pose (the contract's default)."""
        return Prior.interpolate(self, start, end, steps)

    def sampling_starts(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``(n, 21, 4)`` starts: the rest pose moved by d ~ N(0, ``sample.sigma``); sampling
        projects them (Pose-NDF's :meth:`sample`)."""
        return random_starts(n, float(self.config["sample"]["sigma"]), generator)
