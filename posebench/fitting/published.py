"""The published motion-denoising objectives (Pose-NDF's and DPoser-X's), re-implemented.

posebench's own objective (:func:`posebench.fitting.motion.fit_motion`) is one staged schedule
shared by every prior. The ``posendf`` and ``dposer`` denoise protocols instead minimise the
objective the two papers' motion-denoising experiments minimise, so that their tables can be
reproduced (docs/protocols.md#published-objectives). Both have the same shape: ``I`` outer
iterations ``it = 0 .. I−1`` of ``S`` Adam steps each, and at every step, for each window,

    loss = w_t (1 + it) c_t  +  w_d / (1 + it²) c_d  +  w_p (1 + it) c_p^k

* ``c_t`` = mean over frame pairs t and points v of ‖P_t,v − P_t+1,v‖ (unsquared): the motion's
  smoothness, on the mesh vertices (the joints for a body without vertices);
* ``c_d`` = mean over frames and joints of ‖J_t,j − O_t,j‖ (unsquared): the distance to the
  observations O;
* ``c_p`` = mean over frames of the prior's energy, shifted so that it is non-negative (see
  :func:`prior_cost`); k = 2 (Pose-NDF's squared distance term).

Windows are independent: the loss is summed over the windows of a batch, and Adam's updates
are element-wise, so a window's fit does not depend on the others in its batch. Only the body
pose is optimised (root orientation and translation are given); a prior with a latent space is
used through its pose energy, not optimised in its latent space.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch

from posebench.body.base import BodyModel
from posebench.core.errors import ConfigError
from posebench.core.progress import NullProgress, Progress
from posebench.priors.base import Prior

#: The objective forms a denoise config's ``objective.form`` names.
FORMS = ("posebench", "published")
ADAM_STATES = ("continue", "fresh")
TEMPORAL_POINTS = ("vertices", "joints")
#: The keys a published objective needs (all in the task config's ``objective`` block).
KEYS = (
    "outer_iterations",
    "steps",
    "lr",
    "adam_betas",
    "adam_state",
    "temporal_weight",
    "temporal_points",
    "data_weight",
    "prior_power",
    "prior_weight_key",
)


@dataclass(frozen=True)
class PublishedObjective:
    """The parameters of a published objective (module docstring)."""

    outer_iterations: int
    steps: int  # Adam steps per outer iteration
    lr: float
    adam_betas: tuple[float, float]
    adam_state: str  # continue: one Adam for all outer iterations; fresh: a new one for each
    temporal_weight: float  # w_t
    temporal_points: str  # vertices | joints
    data_weight: float  # w_d
    prior_power: int  # k
    prior_weight_key: str  # the prior's energy_weights entry that gives w_p

    @classmethod
    def from_config(cls, block: Mapping[str, Any]) -> PublishedObjective:
        """The objective of a task config's ``objective`` block (``form: published``)."""
        missing = [k for k in KEYS if block.get(k) is None]
        if missing:
            raise ConfigError(
                f"objective form 'published' needs {', '.join(missing)} in the 'objective' block"
            )
        if block["adam_state"] not in ADAM_STATES:
            raise ConfigError(f"objective.adam_state must be one of {', '.join(ADAM_STATES)}")
        if block["temporal_points"] not in TEMPORAL_POINTS:
            raise ConfigError(
                f"objective.temporal_points must be one of {', '.join(TEMPORAL_POINTS)}"
            )
        betas = tuple(float(b) for b in block["adam_betas"])
        if len(betas) != 2:
            raise ConfigError("objective.adam_betas must be two numbers")
        return cls(
            outer_iterations=int(block["outer_iterations"]),
            steps=int(block["steps"]),
            lr=float(block["lr"]),
            adam_betas=(betas[0], betas[1]),
            adam_state=str(block["adam_state"]),
            temporal_weight=float(block["temporal_weight"]),
            temporal_points=str(block["temporal_points"]),
            data_weight=float(block["data_weight"]),
            prior_power=int(block["prior_power"]),
            prior_weight_key=str(block["prior_weight_key"]),
        )

    def weights(self, it: int, prior_weight: float) -> tuple[float, float, float]:
        """(temporal, data, prior) weights of outer iteration ``it`` (0-based)."""
        return (
            self.temporal_weight * (1 + it),
            self.data_weight / (1 + it**2),
            prior_weight * (1 + it),
        )

    @property
    def total_steps(self) -> int:
        return self.outer_iterations * self.steps


def objective_form(config: Mapping[str, Any]) -> str:
    """``posebench`` or ``published``: which objective a denoise config asks for."""
    form = (config.get("objective") or {}).get("form", "posebench")
    if form not in FORMS:
        raise ConfigError(f"objective.form is {form!r}; use one of {', '.join(FORMS)}")
    return str(form)


def energy_floor(prior: Prior) -> float:
    """The value subtracted from the prior's energy before it enters the prior term: the
    energy's infimum when the prior knows it (GMM: its best component's constant), else 0."""
    infimum = prior.energy_infimum()
    return 0.0 if infimum is None else float(infimum)


def prior_cost(energy: torch.Tensor, floor: float) -> torch.Tensor:
    """``c_p`` per window, ``(W,)``, of per-frame energies ``(W, T)``: the mean over frames of
    ``max(E − floor, 0)``. The shift makes the energy zero at its minimum (as a distance is on
    the manifold), so that raising it to a power orders poses as the energy does; a value still
    below zero (a prior whose infimum is unknown and whose energy can be negative) counts as 0
    and gets no gradient, rather than having its sign squared away.
    """
    return (energy - floor).clamp_min(0.0).mean(dim=1)


def data_cost(joints: torch.Tensor, observed: torch.Tensor) -> torch.Tensor:
    """``c_d`` per window, ``(W,)``: mean over frames and joints of ‖J − O‖ (not squared)."""
    return (joints - observed).norm(dim=-1).mean(dim=(1, 2))


def temporal_cost(points: torch.Tensor) -> torch.Tensor:
    """``c_t`` per window, ``(W,)``, of ``(W, T, P, 3)`` points: mean over the T − 1 frame pairs
    and the points of ‖P_t − P_t+1‖ (not squared)."""
    return (points[:, 1:] - points[:, :-1]).norm(dim=-1).mean(dim=(1, 2))


def published_loss(
    objective: PublishedObjective,
    it: int,
    prior_weight: float,
    joints: torch.Tensor,
    points: torch.Tensor,
    observed: torch.Tensor,
    energy: torch.Tensor | None,
    floor: float = 0.0,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The loss summed over windows, and its per-window costs (``c_t``, ``c_d``, ``c_p``).

    ``joints`` and ``observed`` (W, T, 22, 3); ``points`` (W, T, P, 3) for the temporal term;
    ``energy`` (W, T) the prior's per-frame energy (None: no prior term).
    """
    w_t, w_d, w_p = objective.weights(it, prior_weight)
    costs = {"temporal": temporal_cost(points), "data": data_cost(joints, observed)}
    per_window = w_t * costs["temporal"] + w_d * costs["data"]
    if energy is not None and prior_weight > 0:
        costs["prior"] = prior_cost(energy, floor)
        per_window = per_window + w_p * costs["prior"].pow(objective.prior_power)
    return per_window.sum(), costs


@dataclass
class PublishedFit:
    """The fitted body pose of W windows of T frames, and the fit's record."""

    pose_body: torch.Tensor  # (W, T, 21, 3)
    final_loss: float  # the last step's loss, per window
    steps: int


def fit_published(
    prior: Prior,
    weight: float,
    body: BodyModel,
    observed: torch.Tensor,
    objective: PublishedObjective,
    init_pose: torch.Tensor,
    root: tuple[torch.Tensor, torch.Tensor],
    progress: Progress | None = None,
    description: str = "fitting",
) -> PublishedFit:
    """Fit the body pose of (W, T) frames to ``observed`` joints (W, T, 22, 3) by the published
    objective, from ``init_pose`` (W, T, 21, 3) with the root ``root`` = (root_orient, trans),
    each (W, T, 3), kept fixed. ``weight`` is the prior's w_p (0: no prior term).
    """
    progress = progress or NullProgress()
    n_windows, n_frames = observed.shape[:2]
    n = n_windows * n_frames
    root_orient, trans = (r.reshape(n, 3) for r in root)
    pose = init_pose.reshape(n, 21, 3).clone().requires_grad_(True)
    floor = energy_floor(prior) if weight > 0 else 0.0
    # the mesh only when the temporal term moves its vertices; joints alone skip skinning
    pose_body = body.forward if objective.temporal_points == "vertices" else body.forward_skeleton

    def step_loss(it: int, done: float) -> torch.Tensor:
        out = pose_body(pose, root_orient, trans)
        joints = out.joints.reshape(n_windows, n_frames, 22, 3)
        points = joints
        if objective.temporal_points == "vertices" and out.vertices is not None:
            points = out.vertices.reshape(n_windows, n_frames, -1, 3)
        energy = None
        if weight > 0:
            energy = prior.fitting_energy(pose, done, "denoise").reshape(n_windows, n_frames)
        loss, _ = published_loss(objective, it, weight, joints, points, observed, energy, floor)
        return loss

    def adam() -> torch.optim.Adam:
        return torch.optim.Adam([pose], lr=objective.lr, betas=objective.adam_betas)

    optimiser = adam()
    loss = torch.tensor(float("nan"))
    steps = 0
    for it in range(objective.outer_iterations):
        if it > 0 and objective.adam_state == "fresh":
            optimiser = adam()
        label = f"{description}, iteration {it + 1}/{objective.outer_iterations}"
        for _ in progress.track(range(objective.steps), label, objective.steps):
            optimiser.zero_grad(set_to_none=True)
            loss = step_loss(it, steps / max(objective.total_steps, 1))
            loss.backward()
            optimiser.step()
            steps += 1
    return PublishedFit(
        pose_body=pose.detach().reshape(n_windows, n_frames, 21, 3),
        final_loss=float(loss.detach()) / n_windows,
        steps=steps,
    )
