"""SMPLify-style fitting of a body to 2D keypoints under a pose prior (docs/image_fitting.md).

Re-implemented from the published description (SMPLify / SMPLify-X / SPIN), no code copied.
Per view, with a known pinhole camera (focal f, principal point (cx, cy), R = I):

* **Projection.** The body's own BODY_25 keypoints (``BodyOutput.body25``) in camera
  coordinates (x right, y down, z forward) projected with ``u = f x / z + cx``
  (:mod:`posebench.body.camera`).
* **Camera initialisation** (SMPLify-X ``guess_init``): depth ``t_z = f · L3 / L2`` with L3 the
  rest body's torso side lengths (LShoulder–LHip, RShoulder–RHip) and L2 the detected ones;
  the pelvis is then placed so that the torso's centroid projects onto the detected one.
* **Stage 0 (camera).** Root orientation + pelvis position on the torso keypoints (plain squared
  error, confidence² weighted, + ``(w_d (t_z − t_z,init))²``), rest pose, from several yaw
  starts (0°, 90°, 180°, 270°: front/back views); the start with the lowest loss is kept.
* **Stages 1..k (body).** Body pose (or a latent code for ``LatentPrior`` priors), root
  orientation and pelvis position (and shape for bodies with ``num_betas``), Adam, fixed steps,
  starting from the camera stage's root and pelvis and from the prior's own start pose
  (:meth:`Prior.initial_pose <posebench.priors.base.Prior.initial_pose>`: the GMM's mean pose,
  VPoser's z = 0 via :meth:`~posebench.priors.base.LatentPrior.initial_latent`, Pose-NDF's
  projected rest pose, the rest pose for ``none``), as SMPLify and SMPLify-X start theirs:

      Σ_k w_k c_k² Σ_xy ρ(r̃_k) / (2 s²) + a_i · w · E(θ) + b_i · B(θ) + d_i · ‖β‖²

  with r̃ the pixel residual in reference pixels (below), ρ Geman-McClure
  ``σ² r² / (σ² + r²)`` (σ = ``gmof_sigma_px`` = 100 reference px), w_k = 0 for the ignored
  keypoints (Neck, RHip, LHip by default), c_k the detection confidence, s = ``data_sigma_px``
  (reference px), E the prior's energy and w its task weight, B the bending prior
  (:func:`bending_energy`), and the stage weights a_i, b_i, d_i decreasing stage by stage. The
  schedule is the same for every prior; only w, E and the start pose change.
* **Reference pixels (the robust scale).** Every residual is multiplied by ``1000 / H``
  (:attr:`Observations.scale`, H the image height) *before* anything else sees it: in
  :func:`data_term` the scaled residual r̃ = (projected − detected) · 1000 / H is what ρ, σ and s
  act on, and the camera stage's squared error uses the same r̃. Residuals are therefore measured
  as in a 1000-px-tall image, so a given σ or s (and the prior weights tuned against them) means
  the same share of the image at any image size: 100 reference px is a tenth of the image height
  in a 480-px and in a 1920-px image alike. SMPLify-X also uses ``1000 / H``, but as a weight
  on the loss: its Geman-McClure acts on raw pixel residuals and only its output is multiplied by
  ``(1000 / H)²``. The quadratic part is then the same, but its outlier threshold is 100 raw
  pixels, which is a larger share of a small image than of a large one. Since
  ``ρ_σ(k r) = k² ρ_{σ/k}(r)``, the robust term here is SMPLify-X's (up to constant weights)
  with the threshold set to ``σ · H / 1000`` raw pixels.
* **Side views** (shoulders close together in 2D, or a torso keypoint missing) are fitted
  twice, from the camera stage's rotation and from it turned 180°, and the lower final
  objective wins (SMPLify-X's side-view check).

The root rotation is optimised as a small rotation δ after a fixed start rotation (the start
faces the camera, i.e. it is near 180° about x, where axis-angle is badly conditioned); the
result is returned as ordinary camera-frame ``root_orient`` / ``transl`` for the body's forward.

:func:`fit_all` fits any number of views in batches of ``batch_views``; :func:`fit_folder` reads a
user's folder and fits every image with a person in it (the image_fit task's ``folder`` protocol
and ``posebench fit-image`` both use it).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import roma
import torch

from posebench.body.base import BodyModel, BodyOutput
from posebench.body.camera import PinholeCamera, intrinsics, project
from posebench.body.keypoints import BODY25_NAMES
from posebench.core.errors import ConfigError, InputError
from posebench.core.progress import NullProgress, Progress
from posebench.datasets.image_folder import NO_PERSON, FolderItem, read_keypoint_folder
from posebench.priors.base import LatentPrior, Prior

#: Elbows and knees in the 21-joint body pose: (pose index, axis, sign). ``sign · θ_axis > 0``
#: is bending the wrong way (hyper-extension). Verified on the embedded body (y up, facing +z,
#: left at +x, T-pose): a natural left-elbow bend brings the forearm forward (+z), which is a
#: negative rotation about y; the right elbow bends with a positive one; a natural knee bend
#: moves the foot backward (−z), a positive rotation about x. Same components and signs as
#: SMPLify's angle prior (full-pose indices 55, 58, 12, 15 with signs +1, −1, −1, −1).
BENDING_JOINTS: tuple[tuple[int, int, float], ...] = (
    (17, 1, 1.0),  # left elbow, about y
    (18, 1, -1.0),  # right elbow, about y
    (3, 0, -1.0),  # left knee, about x
    (4, 0, -1.0),  # right knee, about x
)

#: Torso side edges used to guess the depth: (LShoulder, LHip), (RShoulder, RHip).
TORSO_EDGES: tuple[tuple[int, int], ...] = ((5, 12), (2, 9))
#: Fallback edges when no torso side is detected: the shoulder line, then the hip line.
FALLBACK_EDGES: tuple[tuple[int, int], ...] = ((2, 5), (9, 12))
#: Keypoint residuals are measured as in an image of this height (SMPLify-X: 1000 / H).
REFERENCE_HEIGHT = 1000.0


def gmof(residual: torch.Tensor, sigma: float) -> torch.Tensor:
    """Geman-McClure robust penalty ``σ² r² / (σ² + r²)``, element-wise (≈ r² for small r,
    → σ² for outliers)."""
    squared = residual.pow(2)
    return sigma**2 * squared / (sigma**2 + squared)


def bending_energy(pose: torch.Tensor) -> torch.Tensor:
    """(B,) SMPLify-style angle prior on elbows and knees, ``Σ (exp(max(s θ, 0)) − 1)²``.

    SMPLify uses ``Σ exp(s θ)²``, which is 1 for a straight limb and only tends to 0 as the limb
    bends naturally, so it keeps pushing limbs to bend. This variant is exactly zero for the
    straight limb and every natural bend and grows exponentially with hyper-extension.
    """
    terms = [sign * pose[:, joint, axis] for joint, axis, sign in BENDING_JOINTS]
    wrong = torch.stack(terms, dim=1).clamp_min(0.0)
    return torch.expm1(wrong).pow(2).sum(dim=1)


def keypoint_indices(names: Sequence[str], where: str) -> list[int]:
    """BODY_25 indices of keypoint names; a ConfigError naming the bad one."""
    out = []
    for name in names:
        if name not in BODY25_NAMES:
            raise ConfigError(f"{where}: unknown BODY_25 keypoint {name!r}")
        out.append(BODY25_NAMES.index(name))
    return out


@dataclass
class Observations:
    """What the fitter gets for B views: detections and the intrinsics."""

    keypoints: torch.Tensor  # (B, 25, 3) x, y, confidence (0 = missing)
    camera: torch.Tensor  # (B, 3) focal, cx, cy in pixels
    height: torch.Tensor  # (B,) image height in pixels

    def __post_init__(self) -> None:
        b = self.keypoints.shape[0]
        if self.keypoints.shape != (b, 25, 3) or self.camera.shape != (b, 3):
            raise InputError(
                f"observations must be (B, 25, 3) keypoints and (B, 3) cameras, got "
                f"{tuple(self.keypoints.shape)} and {tuple(self.camera.shape)}"
            )

    @property
    def scale(self) -> torch.Tensor:
        """(B, 1, 1) pixels -> reference pixels (an image of :data:`REFERENCE_HEIGHT`)."""
        return (REFERENCE_HEIGHT / self.height)[:, None, None]


@dataclass
class ImageFit:
    """Fitted parameters for B views, in camera coordinates, plus what the run measured."""

    pose: torch.Tensor  # (B, 21, 3)
    root_orient: torch.Tensor  # (B, 3) camera frame
    transl: torch.Tensor  # (B, 3) camera frame (body forward's convention)
    shape: torch.Tensor | None  # (B, num_betas) or None
    init_depth: torch.Tensor  # (B,) the torso-length depth guess, metres
    init_root_orient: torch.Tensor  # (B, 3) after stage 0
    init_transl: torch.Tensor  # (B, 3) after stage 0
    init_pose: torch.Tensor  # (B, 21, 3) where the body stages started: the prior's start
    orientation_start_deg: torch.Tensor  # (B,) the yaw start kept by stage 0
    fitted_twice: torch.Tensor  # (B,) bool: side views fitted from both facings
    turned: torch.Tensor  # (B,) bool: the 180°-turned fit won
    stage_losses: list[float] = field(default_factory=list)  # mean per view, end of each stage
    steps: int = 0
    seconds: float = 0.0


class RestBody:
    """The body's rest keypoints and pelvis, for the cheap rigid camera stage."""

    def __init__(self, body: BodyModel, device: torch.device) -> None:
        with torch.no_grad():
            rest = body(torch.zeros(1, 21, 3, device=device))
        if rest.body25 is None:
            raise InputError(
                f"image fitting needs a body with OpenPose BODY_25 keypoints; body "
                f"'{body.name}' has none (use the embedded body 'anny' or 'smpl')"
            )
        self.keypoints = rest.body25[0].detach().float()  # (25, 3) y up, facing +z
        self.pelvis = rest.joints[0, 0].detach().float()  # (3,)


def body25_of(out: BodyOutput) -> torch.Tensor:
    """``out.body25``, of a body whose BODY_25 keypoints :class:`RestBody` has checked."""
    assert out.body25 is not None, "image fitting runs only bodies with BODY_25 keypoints"
    return out.body25


def _start_rotations(count: int, device: torch.device) -> torch.Tensor:
    """(count, 3, 3) start rotations: facing the camera (180° about x), then yawed by 360°/count
    steps about the body's vertical axis."""
    yaw = torch.arange(count, dtype=torch.float32, device=device) * (2 * math.pi / count)
    flip = roma.rotvec_to_rotmat(torch.tensor([math.pi, 0.0, 0.0], device=device))
    turn = roma.rotvec_to_rotmat(torch.stack([0 * yaw, yaw, 0 * yaw], dim=1))
    return flip[None] @ turn


def guess_depth(observed: Observations, rest: RestBody, default_share: float = 0.6) -> torch.Tensor:
    """(B,) depth of the pelvis from torso side lengths: ``f · mean(L3) / mean(L2)``.

    Uses the torso sides that are detected (both ends c > 0); without any, the shoulder or hip
    line; without those, a body spanning ``default_share`` of the image height.
    """
    keypoints, focal = observed.keypoints, observed.camera[:, 0]
    depth = focal * _rest_height(rest) / (default_share * observed.height)
    for edges in (FALLBACK_EDGES[1:], FALLBACK_EDGES[:1], TORSO_EDGES):  # last one wins
        length2d = torch.zeros_like(focal)
        length3d = torch.zeros_like(focal)
        count = torch.zeros_like(focal)
        for a, b in edges:
            seen = (keypoints[:, a, 2] > 0) & (keypoints[:, b, 2] > 0)
            length2d = length2d + seen * (keypoints[:, a, :2] - keypoints[:, b, :2]).norm(dim=1)
            length3d = length3d + seen * (rest.keypoints[a] - rest.keypoints[b]).norm()
            count = count + seen
        usable = (count > 0) & (length2d > 1.0)
        depth = torch.where(usable, focal * length3d / length2d.clamp_min(1e-6), depth)
    return depth


def _rest_height(rest: RestBody) -> torch.Tensor:
    return rest.keypoints[:, 1].max() - rest.keypoints[:, 1].min() + 0.1  # + the head above nose


def _camera_mask(keypoints: torch.Tensor, torso: list[int], usable: torch.Tensor) -> torch.Tensor:
    """(B, 25) weights of the keypoints stage 0 fits: the torso ones, or every usable detected
    keypoint for views with fewer than three detected torso keypoints."""
    detected = keypoints[..., 2] > 0
    mask = torch.zeros_like(detected)
    mask[:, torso] = detected[:, torso]
    few = mask.sum(dim=1) < 3
    fallback = detected & usable[None]
    return torch.where(few[:, None], fallback, mask).float()


def _rigid_points(rest: RestBody, rotation: torch.Tensor, pelvis: torch.Tensor) -> torch.Tensor:
    """(N, 25, 3) rest keypoints rotated about the pelvis by ``rotation`` (N, 3, 3) and moved
    to ``pelvis`` (N, 3): the body's forward at the rest pose, without running it."""
    local = rest.keypoints - rest.pelvis
    return local @ rotation.transpose(1, 2) + pelvis[:, None]


def fit_camera(
    observed: Observations,
    rest: RestBody,
    config: Mapping[str, Any],
    usable: torch.Tensor,
    progress: Progress,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Stage 0: for each view the start rotation (B, 3, 3), the pelvis position (B, 3), the
    guessed depth (B,) and the kept start's yaw index (B,)."""
    spec = config["camera"]
    torso = keypoint_indices(spec["keypoints"], "image_fit fit.camera.keypoints")
    n_starts = int(spec["orientations"])
    if n_starts < 1:
        raise ConfigError("image_fit fit.camera.orientations must be at least 1")
    b, device = observed.keypoints.shape[0], observed.keypoints.device
    depth = guess_depth(observed, rest)
    mask = _camera_mask(observed.keypoints, torso, usable)  # (B, 25)
    starts = _start_rotations(n_starts, device)  # (S, 3, 3)

    # repeat every view for every start: index = start * B + view
    base = starts.repeat_interleave(b, dim=0)
    obs = observed.keypoints.repeat(n_starts, 1, 1)
    cam = observed.camera.repeat(n_starts, 1)
    scale = observed.scale.repeat(n_starts, 1, 1)
    weight = (mask * observed.keypoints[..., 2]).pow(2).repeat(n_starts, 1)
    depth_all = depth.repeat(n_starts)
    pelvis = _place_pelvis(obs, weight, cam, depth_all, rest, base)

    delta = torch.zeros(b * n_starts, 3, device=device, requires_grad=True)
    pelvis = pelvis.detach().requires_grad_(True)
    optimiser = torch.optim.Adam([delta, pelvis], lr=float(spec["lr"]))

    def losses() -> torch.Tensor:
        rotation = base @ roma.rotvec_to_rotmat(delta)
        points = project(_rigid_points(rest, rotation, pelvis), cam)
        residual = (points - obs[..., :2]) * scale
        data = (weight * residual.pow(2).sum(dim=-1)).sum(dim=1)
        return data + (float(spec["depth_weight"]) * (pelvis[:, 2] - depth_all)).pow(2)

    for _ in progress.track(range(int(spec["steps"])), "image fit: camera", int(spec["steps"])):
        optimiser.zero_grad(set_to_none=True)
        losses().sum().backward()
        optimiser.step()
    with torch.no_grad():
        final = losses().reshape(n_starts, b)
        best = final.argmin(dim=0)  # (B,)
        pick = best * b + torch.arange(b, device=device)
        rotation = base[pick] @ roma.rotvec_to_rotmat(delta[pick])
    return rotation.detach(), pelvis[pick].detach(), depth, best


def _place_pelvis(
    obs: torch.Tensor,
    weight: torch.Tensor,
    camera: torch.Tensor,
    depth: torch.Tensor,
    rest: RestBody,
    rotation: torch.Tensor,
) -> torch.Tensor:
    """(N, 3) pelvis position that puts the weighted rest keypoints' centroid, at ``depth``,
    onto the detected keypoints' weighted centroid."""
    w = (weight > 0).float()
    total = w.sum(dim=1, keepdim=True).clamp_min(1.0)
    centre2d = (w[..., None] * obs[..., :2]).sum(dim=1) / total
    centre3d_rest = (w[..., None] * (rest.keypoints - rest.pelvis)).sum(dim=1) / total
    ray = (centre2d - camera[:, 1:]) / camera[:, :1]
    centre3d = torch.cat([ray * depth[:, None], depth[:, None]], dim=1)
    offset = (rotation @ centre3d_rest[..., None])[..., 0]
    return centre3d - offset


def data_term(
    projected: torch.Tensor, observed: Observations, weights: torch.Tensor, fit: Mapping[str, Any]
) -> torch.Tensor:
    """(B,) robust, confidence-weighted 2D term ``Σ w c² Σ_xy ρ(r̃) / (2 s²)``.

    r̃ is the residual in reference pixels (× 1000 / H, :attr:`Observations.scale`), scaled
    before the Geman-McClure, so σ = ``gmof_sigma_px`` and s = ``data_sigma_px`` are reference
    pixels too (see the module docstring for how this differs from SMPLify-X).
    """
    residual = (projected - observed.keypoints[..., :2]) * observed.scale  # reference pixels
    robust = gmof(residual, float(fit["gmof_sigma_px"])).sum(dim=-1)  # (B, 25)
    conf = observed.keypoints[..., 2]
    per_point = weights[None] * conf.pow(2) * robust
    return per_point.sum(dim=1) / (2 * float(fit["data_sigma_px"]) ** 2)


def _stage_lists(stages: Mapping[str, Any]) -> list[tuple[float, float, float]]:
    lists = [list(stages[key]) for key in ("prior_scale", "bending", "shape")]
    if len({len(x) for x in lists}) != 1 or not lists[0]:
        raise ConfigError(
            "image_fit fit.stages: prior_scale, bending and shape need the same, non-zero length"
        )
    return list(zip(*lists, strict=True))


def side_views(keypoints: torch.Tensor, ratio: float) -> torch.Tensor:
    """(B,) True where front and back are hard to tell from the torso (SMPLify-X's side-view
    check, made scale-free): a torso keypoint is missing, or the 2D shoulder distance is below
    ``ratio`` × the mean 2D torso side length."""
    torso = keypoints[:, [2, 5, 9, 12]]
    missing = (torso[..., 2] <= 0).any(dim=1)
    shoulders = (keypoints[:, 2, :2] - keypoints[:, 5, :2]).norm(dim=1)
    sides = sum((keypoints[:, a, :2] - keypoints[:, b, :2]).norm(dim=1) for a, b in TORSO_EDGES)
    return missing | (shoulders < ratio * sides / len(TORSO_EDGES))


@dataclass
class _BodyFit:
    pose: torch.Tensor
    delta: torch.Tensor
    pelvis: torch.Tensor
    betas: torch.Tensor | None
    loss: torch.Tensor  # (B,) final objective per view
    start: torch.Tensor  # (B, 21, 3) the pose the stages started from
    stage_losses: list[float]
    steps: int


def _fit_body(
    prior: Prior,
    weight: float,
    body: BodyModel,
    observed: Observations,
    rest: RestBody,
    base: torch.Tensor,
    pelvis: torch.Tensor,
    keypoint_weights: torch.Tensor,
    fit: Mapping[str, Any],
    progress: Progress,
    description: str,
) -> _BodyFit:
    """The body stages from a start rotation ``base`` (B, 3, 3) and pelvis position (B, 3);
    the body pose starts at the prior's :meth:`~posebench.priors.base.Prior.initial_pose` (a
    latent code at its :meth:`~posebench.priors.base.LatentPrior.initial_latent`)."""
    b, device = observed.keypoints.shape[0], observed.keypoints.device
    pose = prior.initial_pose(b).detach().to(device=device, dtype=torch.float32).clone()
    latent: torch.Tensor | None = None
    if bool(fit.get("latent")) and isinstance(prior, LatentPrior) and weight > 0:
        latent = prior.initial_latent(b).detach().to(device=device, dtype=torch.float32).clone()
    betas = torch.zeros(b, body.num_betas, device=device) if body.num_betas else None
    delta = torch.zeros(b, 3, device=device)
    pelvis = pelvis.clone()
    params = [latent if latent is not None else pose, delta, pelvis]
    if betas is not None:
        params.append(betas)

    def current_pose() -> torch.Tensor:
        if latent is None:
            return pose
        assert isinstance(prior, LatentPrior)  # a latent code exists only for a LatentPrior
        return prior.decode(latent)

    with torch.no_grad():
        start = current_pose().detach().clone()
    for p in params:
        p.requires_grad_(True)

    def objective(
        prior_scale: float, bending: float, shape_weight: float, done: float = 1.0
    ) -> torch.Tensor:
        out = body.forward_skeleton(current_pose(), delta, None, betas)
        local = body25_of(out) - rest.pelvis  # rest pelvis: where the root rotates about
        points = local @ base.transpose(1, 2) + pelvis[:, None]
        loss = data_term(project(points, observed.camera), observed, keypoint_weights, fit)
        if weight > 0:
            if latent is not None:
                assert isinstance(prior, LatentPrior)
                energy = prior.latent_energy(latent)
            else:
                energy = prior.fitting_energy(current_pose(), done, "image_fit")
            loss = loss + prior_scale * weight * energy
        loss = loss + bending * bending_energy(current_pose())
        if betas is not None:
            loss = loss + shape_weight * betas.pow(2).sum(dim=1)
        return loss

    stage_losses, steps = [], 0
    stages = fit["stages"]
    schedule = _stage_lists(stages)
    total = max(len(schedule) * int(stages["steps"]), 1)
    for index, weights in enumerate(schedule):
        optimiser = torch.optim.Adam(params, lr=float(stages["lr"]))
        n_steps = int(stages["steps"])
        for _ in progress.track(range(n_steps), f"{description} (stage {index + 1})", n_steps):
            optimiser.zero_grad(set_to_none=True)
            objective(*weights, steps / total).sum().backward()
            optimiser.step()
            steps += 1
        with torch.no_grad():
            final = objective(*weights)
        stage_losses.append(float(final.mean()))
    for p in params:
        p.requires_grad_(False)
    return _BodyFit(
        current_pose().detach(), delta, pelvis, betas, final, start, stage_losses, steps
    )


def fit_views(
    prior: Prior,
    weight: float,
    body: BodyModel,
    observed: Observations,
    config: Mapping[str, Any],
    progress: Progress | None = None,
    description: str = "image fit",
) -> ImageFit:
    """Fit B views (stage 0 camera, then the body stages of ``config["fit"]``); see the module
    docstring for the objective. ``weight`` multiplies the prior's energy (0: no prior).

    Views that :func:`side_views` finds ambiguous are fitted twice, from the camera stage's
    rotation and from it turned 180° about the body's vertical axis; the lower final objective
    wins (SMPLify-X does this for side views).
    """
    progress = progress or NullProgress()
    started = time.perf_counter()
    fit = config["fit"]
    device = observed.keypoints.device
    rest = RestBody(body, device)
    weights = torch.ones(25, device=device)
    weights[keypoint_indices(fit["ignore_keypoints"], "image_fit fit.ignore_keypoints")] = 0.0
    base, pelvis, depth, best = fit_camera(observed, rest, fit, weights > 0, progress)
    b = observed.keypoints.shape[0]

    twice = side_views(observed.keypoints, float(fit["camera"]["side_view_ratio"]))
    extra = twice.nonzero().flatten()
    turn = roma.rotvec_to_rotmat(torch.tensor([0.0, math.pi, 0.0], device=device))
    rows = torch.cat([torch.arange(b, device=device), extra])
    start = torch.cat([base, base[extra] @ turn])
    wide = Observations(observed.keypoints[rows], observed.camera[rows], observed.height[rows])
    result = _fit_body(
        prior, weight, body, wide, rest, start, pelvis[rows], weights, fit, progress, description
    )

    keep = torch.arange(b, device=device)
    if len(extra):
        turned = result.loss[b:] < result.loss[extra]
        keep[extra[turned]] = b + torch.nonzero(turned).flatten()
    with torch.no_grad():
        rotation = start[keep] @ roma.rotvec_to_rotmat(result.delta[keep])
    return ImageFit(
        pose=result.pose[keep],
        root_orient=roma.rotmat_to_rotvec(rotation),
        transl=(result.pelvis[keep] - rest.pelvis).detach(),
        shape=None if result.betas is None else result.betas[keep].detach(),
        init_depth=depth,
        init_root_orient=roma.rotmat_to_rotvec(base),
        init_transl=pelvis - rest.pelvis,
        init_pose=result.start[keep],
        orientation_start_deg=best.float() * (360.0 / int(fit["camera"]["orientations"])),
        fitted_twice=twice,
        turned=keep >= b,
        stage_losses=result.stage_losses,
        steps=int(fit["camera"]["steps"]) + result.steps,
        seconds=time.perf_counter() - started,
    )


# --------------------------------------------------------------------------- many views


def observations(
    keypoints: Sequence[np.ndarray], cameras: Sequence[PinholeCamera], device: torch.device
) -> Observations:
    """The fitter's input for views given as (25, 3) keypoint arrays and their cameras."""
    return Observations(
        keypoints=torch.tensor(np.stack(keypoints), dtype=torch.float32, device=device),
        camera=intrinsics(cameras, device),
        height=torch.tensor([float(c.height) for c in cameras], device=device),
    )


def fit_all(
    prior: Prior,
    weight: float,
    body: BodyModel,
    observed: Observations,
    config: Mapping[str, Any],
    progress: Progress,
) -> ImageFit:
    """Fit every view in batches of ``batch_views`` (memory); one ImageFit for all of them."""
    size = int(config["batch_views"])
    n = observed.keypoints.shape[0]
    parts = []
    for start in range(0, n, size):
        part = slice(start, start + size)
        batch = Observations(observed.keypoints[part], observed.camera[part], observed.height[part])
        description = f"image fit views {start + 1}-{min(start + size, n)}"
        parts.append(fit_views(prior, weight, body, batch, config, progress, description))
    return _concat(parts)


#: The per-view fields of an ImageFit, concatenated over batches.
_PER_VIEW = (
    "pose", "root_orient", "transl", "shape", "init_depth", "init_root_orient", "init_transl",
    "init_pose", "orientation_start_deg", "fitted_twice", "turned",
)  # fmt: skip


def _concat(parts: list[ImageFit]) -> ImageFit:
    def cat(key: str) -> Any:
        values = [getattr(p, key) for p in parts]
        return None if values[0] is None else torch.cat(values)

    return ImageFit(
        **{k: cat(k) for k in _PER_VIEW},
        stage_losses=[
            float(np.mean(x)) for x in zip(*(p.stage_losses for p in parts), strict=True)
        ],
        steps=sum(p.steps for p in parts),
        seconds=sum(p.seconds for p in parts),
    )


def fitted_keypoints(body: BodyModel, fit: ImageFit) -> torch.Tensor:
    """(B, 25, 3) BODY_25 keypoints of the fitted bodies, camera frame, without gradients."""
    posed = body.forward_batched(fit.pose, fit.root_orient, fit.transl, fit.shape, chunk=128)
    return body25_of(posed)


def keypoint_error_px(
    projected: torch.Tensor, target: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """(B,) mean over masked keypoints of the 2D distance in pixels (NaN for an empty mask)."""
    distance = (projected - target[..., :2]).norm(dim=-1)
    mask = mask.float()
    return (distance * mask).sum(dim=1) / mask.sum(dim=1)


def fitted_mask(keypoints: torch.Tensor, config: Mapping[str, Any]) -> torch.Tensor:
    """(B, 25) keypoints the fitter uses: detected (c > 0) and not in ``fit.ignore_keypoints``."""
    used = torch.ones(25, dtype=torch.bool, device=keypoints.device)
    used[keypoint_indices(config["fit"]["ignore_keypoints"], "image_fit fit.ignore_keypoints")] = (
        False
    )
    return (keypoints[..., 2] > 0) & used[None]


# --------------------------------------------------------------------------- a user's folder


@dataclass
class FolderFit:
    """A fitted folder: every item, and for the items with a person the fit (in item order),
    the fitted keypoints' projections (P, 25, 2) and their 2D errors (P,)."""

    items: list[FolderItem]
    fit: ImageFit | None = None
    projected: torch.Tensor | None = None
    errors: torch.Tensor | None = None

    @property
    def people(self) -> list[FolderItem]:
        """The items with a detected person, in the order of the fit's rows."""
        return [i for i in self.items if i.keypoints is not None]

    @property
    def people_keypoints(self) -> list[np.ndarray]:
        """The (25, 3) keypoints of :attr:`people`, in the same order."""
        return [i.keypoints for i in self.items if i.keypoints is not None]

    def per_image(self) -> list[dict[str, Any]]:
        """One entry per item: fitted (with its 2D error) or "no person detected"."""
        out, k = [], 0
        for item in self.items:
            entry: dict[str, Any] = {"name": item.name, "keypoints": str(item.keypoints_path)}
            if item.keypoints is None:
                entry["status"] = NO_PERSON
            else:
                entry["status"] = "fitted"
                entry["kp2d_error_px"] = float(self.errors[k]) if self.errors is not None else None
                k += 1
            out.append(entry)
        return out


def fit_folder(
    prior: Prior,
    weight: float,
    body: BodyModel,
    folder: str | Path,
    config: Mapping[str, Any],
    device: torch.device,
    progress: Progress,
) -> FolderFit:
    """Read ``folder`` (:func:`~posebench.datasets.image_folder.read_keypoint_folder`) and fit
    every image with a person in it; ``weight`` multiplies the prior's energy."""
    result = FolderFit(read_keypoint_folder(folder, config))
    people = result.people
    if not people:
        return result
    observed = observations(result.people_keypoints, [i.camera for i in people], device)
    result.fit = fit_all(prior, weight, body, observed, config, progress)
    result.projected = project(fitted_keypoints(body, result.fit), observed.camera)
    mask = fitted_mask(observed.keypoints, config)
    result.errors = keypoint_error_px(result.projected, observed.keypoints, mask)
    return result
