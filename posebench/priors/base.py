"""The Prior contract: how plausible a body pose is, and what a prior can do with that.

A pose is local axis-angle of the 21 SMPL body joints, ``(B, 21, 3)`` in radians. Lower energy
means more plausible. A prior that lacks a capability raises
:class:`posebench.core.errors.CapabilityNotSupported`, and tasks record "not supported" instead of a
number.
"""

from __future__ import annotations

import abc
import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import roma
import torch

from posebench.core.config import merge_config, read_yaml
from posebench.core.errors import CapabilityNotSupported, InputError
from posebench.core.progress import Progress
from posebench.core.schema import Rule, Schema, check_config, number, one_of

#: Where an energy weight came from, recorded with every result.
WEIGHT_SOURCES = ("tuned", "default", "untuned")
#: What every prior's ``energy_weights`` entries take (any task's name: a weight, or a mapping
#: with its value and source); declared here so plugins' priors are checked the same way.
ENERGY_WEIGHT_SCHEMA: dict[str, Rule] = {
    "energy_weights": Rule(kinds=("mapping",), nullable=True),
    "energy_weights.*": Rule(kinds=("number", "mapping"), min=0.0, nullable=False),
    "energy_weights.*.value": number(min=0.0, nullable=False),
    "energy_weights.*.source": one_of(*WEIGHT_SOURCES, nullable=False),
}
#: Priors whose energy is a distance to the plausible set: the viewer and pictures call it a
#: distance (d); the others' an energy (E).
DISTANCE_PRIORS = ("posendf", "nrdf")


def check_pose(pose: torch.Tensor, what: str = "pose") -> torch.Tensor:
    """Validate a ``(B, 21, 3)`` axis-angle body pose: shape and finiteness, one-line errors."""
    if not isinstance(pose, torch.Tensor):
        raise InputError(f"{what} must be a torch.Tensor of shape (B, 21, 3), got {type(pose)}")
    if pose.ndim != 3 or pose.shape[1:] != (21, 3):
        raise InputError(
            f"{what} has shape {tuple(pose.shape)}; expected (B, 21, 3) axis-angle of the 21 body "
            "joints (reshape (B, 63) with .reshape(-1, 21, 3))"
        )
    if not torch.isfinite(pose).all():
        bad = int((~torch.isfinite(pose)).any(dim=(1, 2)).sum())
        raise InputError(f"{what} contains NaN or infinite values in {bad} of {len(pose)} poses")
    return pose


def merged_config(
    name: str, default_config: Mapping[str, Any], config: Mapping[str, Any] | str | Path | None,
    schema: Schema | None = None, where: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """A prior's full config: ``default_config`` with the user's overrides (a mapping or a YAML
    file) merged in. Unknown keys are one-line errors, except under ``energy_weights``, which
    takes any task's name; values of the wrong type or range too (``schema``, the prior's
    declarations: :mod:`posebench.core.schema`). ``where`` names a mapping's origin."""
    where = where or f"prior '{name}' config"
    if isinstance(config, (str, Path)):
        where, config = f"{where} file {config}", read_yaml(config)
    overrides = dict(config or {})
    check_config(overrides, default_config, {**ENERGY_WEIGHT_SCHEMA, **(schema or {})}, where)
    weights = {**(default_config.get("energy_weights") or {})}
    weights.update(overrides.pop("energy_weights", None) or {})  # open: any task's name
    defaults = {k: v for k, v in default_config.items() if k != "energy_weights"}
    merged = merge_config(defaults, overrides, where=where)
    merged["energy_weights"] = copy.deepcopy(weights)
    return merged


class Prior(abc.ABC):
    """A pose prior. Subclasses set ``name``, ``version``, ``default_config`` and implement
    :meth:`energy`; the other capabilities are optional.
    """

    name: ClassVar[str]
    version: ClassVar[str] = "0"
    #: Default configuration; a user's ``--prior-config`` may override these keys only.
    default_config: ClassVar[Mapping[str, Any]] = {}
    #: Ranges, choices and null-ness of config keys beyond the types their defaults imply
    #: (:mod:`posebench.core.schema`); a user's overrides are checked against both.
    config_schema: ClassVar[Mapping[str, Rule]] = {}
    #: A few words saying which pose :meth:`initial_pose` gives; fitting tasks record it.
    initial_pose_description: str = "rest pose"
    #: The file name :meth:`fit` gives the final checkpoint in its ``out_dir``; None for a prior
    #: that does not train. Suites find the models of other training seeds by it
    #: (:mod:`posebench.priors.training_seeds`).
    final_checkpoint: ClassVar[str | None] = None

    def __init__(self, config: Mapping[str, Any] | str | Path | None = None) -> None:
        self.config: dict[str, Any] = self.resolve_config(config)
        self.device = torch.device("cpu")
        self.checkpoint: Path | None = None

    @classmethod
    def resolve_config(cls, config: Mapping[str, Any] | str | Path | None) -> dict[str, Any]:
        """This prior's full config for the user's overrides (see :func:`merged_config`)."""
        return merged_config(cls.name, cls.default_config, config, cls.config_schema)

    # --- the contract --------------------------------------------------------------------------

    @abc.abstractmethod
    def energy(self, pose: torch.Tensor) -> torch.Tensor:
        """``(B,)`` energy of ``(B, 21, 3)`` poses, differentiable; lower is more plausible."""

    def fitting_energy(
        self, pose: torch.Tensor, progress: float, task: str | None = None
    ) -> torch.Tensor:
        """``(B,)``: the prior's term in an optimisation's objective, at ``progress`` ∈ [0, 1] of
        the way through it (the share of its steps done), in ``task`` (e.g. ``"denoise"``).

        Fits (denoising, image fitting, completion) minimise this, not :meth:`energy`: autograd's
        gradient of it is how the prior steers them. The default is :meth:`energy` itself. A
        prior whose guidance is not the gradient of a fixed energy overrides it: a diffusion
        prior's score-matching term, whose noise level falls as the fit proceeds and whose
        gradient stops at the network's estimate (``dposer``). It must be deterministic for the
        same pose, progress and task, so that fits are reproducible.
        """
        return self.energy(pose)

    def project(
        self, pose: torch.Tensor, steps: int | None = None, tol: float | None = None
    ) -> torch.Tensor:
        """The nearest plausible pose for each input pose, ``(B, 21, 3)``."""
        raise self.unsupported("projection")

    def project_steps(
        self, pose: torch.Tensor, steps: int | None = None, tol: float | None = None
    ) -> torch.Tensor:
        """Every intermediate pose of the projection, ``(S + 1, B, 21, 3)`` (index 0 = input)."""
        raise self.unsupported("saving projection steps")

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` poses ``(n, 21, 3)`` drawn from the prior."""
        raise self.unsupported("sampling")

    def initial_pose(self, n: int) -> torch.Tensor:
        """The pose an optimisation under this prior starts from, ``(n, 21, 3)`` on the prior's
        device, the same pose in every row and the same on every call (no randomness).

        Fitting tasks (image fitting) start the body pose here, as SMPLify starts from its
        GMM's mean pose and SMPLify-X from VPoser's zero latent. The default is the rest pose
        (zero axis-angle), so priors that do not override it start where they always did;
        :attr:`initial_pose_description` says in words which pose this is.
        """
        return torch.zeros(n, 21, 3, device=self.device)

    def interpolate(self, start: torch.Tensor, end: torch.Tensor, steps: int) -> torch.Tensor:
        """A path of ``steps + 1`` poses ``(steps + 1, B, 21, 3)`` from ``start`` towards ``end``.

        The default walks the per-joint slerp and projects every pose on it (just the slerp for a
        prior without projection); priors override it with their own method.
        """
        check_pose(start, "start pose")
        check_pose(end, "end pose")
        times = torch.linspace(0.0, 1.0, steps + 1, device=start.device, dtype=start.dtype)
        path = roma.rotvec_slerp(start, end, times)  # (steps + 1, B, 21, 3)
        try:
            projected = self.project(path.reshape(-1, 21, 3))
        except CapabilityNotSupported:
            return path
        return projected.reshape(path.shape)

    def fit(
        self,
        train_data: Any,
        config: Mapping[str, Any],
        out_dir: Path,
        device: torch.device,
        progress: Progress | None = None,
        resume: bool = False,
    ) -> Path:
        """Train on ``train_data``; write checkpoints under ``out_dir``; return the final one."""
        raise self.unsupported("training")

    def save(self, path: str | Path) -> None:
        """Write a checkpoint (atomically) that :meth:`load` reads back."""
        raise self.unsupported("saving checkpoints")

    def load(self, path: str | Path) -> None:
        """Read a checkpoint written by :meth:`save` (or an official file, where supported)."""
        raise self.unsupported("loading checkpoints")

    def default_checkpoint(self) -> Path | None:
        """The checkpoint shipped with the package, or None when the prior needs none."""
        return None

    def to(self, device: torch.device | str) -> Prior:
        """Move the prior to ``device`` and return it."""
        self.device = torch.device(device)
        return self

    def energy_infimum(self) -> float | None:
        """The greatest lower bound of :meth:`energy` over all poses, where the prior knows it
        (None: unknown). The published denoising objectives subtract it before squaring."""
        return None

    # --- energy weights ------------------------------------------------------------------------

    def energy_weight(self, task: str) -> tuple[float, str]:
        """The weight of this prior's energy in ``task`` and its source: tuned/default/untuned."""
        weights = self.config.get("energy_weights", {}) or {}
        entry = weights.get(task)
        if entry is None:
            return 1.0, "untuned"
        if isinstance(entry, Mapping):
            value, source = entry.get("value", 1.0), entry.get("source", "default")
        else:
            value, source = entry, "default"
        if source not in WEIGHT_SOURCES:
            raise InputError(
                f"prior '{self.name}' energy weight for '{task}' has source {source!r}; "
                f"use one of {', '.join(WEIGHT_SOURCES)}"
            )
        return float(value), str(source)

    # --- helpers for implementations -----------------------------------------------------------

    def unsupported(self, capability: str) -> CapabilityNotSupported:
        """The error to raise for a capability this prior does not have."""
        return CapabilityNotSupported("prior", self.name, capability)


class LatentPrior(Prior):
    """A prior with its own latent space (VPoser): tasks may optimise the latent code instead."""

    latent_dim: ClassVar[int]

    @abc.abstractmethod
    def encode(self, pose: torch.Tensor) -> torch.Tensor:
        """``(B, latent_dim)`` latent codes of ``(B, 21, 3)`` poses (the posterior mean)."""

    @abc.abstractmethod
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """``(B, 21, 3)`` poses for ``(B, latent_dim)`` latent codes."""

    @abc.abstractmethod
    def latent_energy(self, z: torch.Tensor) -> torch.Tensor:
        """``(B,)`` energy of latent codes (e.g. squared norm under a standard normal)."""

    def initial_latent(self, n: int) -> torch.Tensor:
        """The latent code a latent-space optimisation starts from, ``(n, latent_dim)``,
        deterministic. The default encodes :meth:`initial_pose`; a prior whose latent space has
        a natural centre overrides it (VPoser: z = 0) and :meth:`initial_pose` with its decoding.
        """
        with torch.no_grad():
            return self.encode(self.initial_pose(n)).detach()
