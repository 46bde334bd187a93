"""Motion denoising: recover clean motion from noisy observations, with every prior the same way.

Protocols: ``humor`` (N(0, 0.04² m²) on the 22 joint positions, root fitted; HuMoR's noise
under posebench's own objective) and ``rotation-0.1`` / ``rotation-0.5`` (N(0, σ²) on the
axis-angle body pose, root known; Pose-NDF's noise, posebench's objective); ``posendf`` and
``dposer`` follow Pose-NDF's and DPoser-X's published objectives and setups
(posebench/fitting/published.py), see docs/protocols.md. Windows of 60 frames at 30 Hz (dposer:
at each sequence's own rate) from the test split. The fit is
:func:`posebench.fitting.motion.fit_windows`, the same as ``posebench denoise``'s.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from posebench.body.base import BodyModel, BodyOutput
from posebench.core.config import packaged_config
from posebench.core.errors import ConfigError, InputError
from posebench.core.progress import Progress
from posebench.core.schema import Rule, above, at_least, integer, items, number, one_of, text
from posebench.core.seeding import make_generator
from posebench.datasets.base import Dataset, MotionSequence, windows
from posebench.datasets.noise import NoisyData, humor_noise, rotation_noise
from posebench.fitting.motion import fit_windows
from posebench.fitting.published import (
    ADAM_STATES,
    FORMS,
    TEMPORAL_POINTS,
    PublishedObjective,
    objective_form,
)
from posebench.priors.base import Prior
from posebench.tasks import denoise_baselines
from posebench.tasks.base import Metric, Task, TaskResult
from posebench.tasks.metrics import (
    accel_error_mm,
    cluster_bootstrap_mean,
    mpjpe_mm,
    position_joints,
)

#: The noise models (``noise.model``): on the joint positions, or on the axis-angle body pose.
NOISE_MODELS = ("humor", "rotation")
#: Where the body pose starts (``init``; the YAML says how).
INITS = ("observed", "mean-noise")
#: Ranges and choices of the denoise config (:mod:`posebench.core.schema`).
CONFIG_SCHEMA: dict[str, Rule] = {
    "window.length": at_least(3),  # the acceleration error needs three frames
    "window.fps": integer(min=1, nullable=True),  # null: each sequence's own rate
    "window.stride": integer(min=1),
    "max_windows": integer(min=0),  # 0 and null: every window
    "batch_windows": at_least(1),
    "noise.model": one_of(*NOISE_MODELS),
    "noise.sigma": at_least(0),
    "terms.data_sigma": above(0),  # the terms divide by 2 sigma^2
    "terms.accel_sigma": above(0),
    "optimiser.root_steps": at_least(0),
    "optimiser.root_lr": at_least(0),
    "optimiser.frame_steps": at_least(0),
    "optimiser.frame_lr": at_least(0),
    "optimiser.steps": at_least(0),
    "optimiser.lr": at_least(0),
    "init": one_of(*INITS),
    "init_sigma": at_least(0),
    "objective.form": one_of(*FORMS),
    "objective.outer_iterations": integer(min=1),
    "objective.steps": integer(min=0),
    "objective.lr": number(min=0),
    "objective.adam_betas": items(number(min=0, below=1), length=2),  # Adam's range
    "objective.adam_state": one_of(*ADAM_STATES, nullable=True),
    "objective.temporal_weight": number(min=0),
    "objective.temporal_points": one_of(*TEMPORAL_POINTS, nullable=True),
    "objective.data_weight": number(min=0),
    "objective.prior_power": integer(min=1),
    "objective.prior_weight_key": text(),
    "baselines": Rule(nullable=True),  # null: no baseline rows
    "baselines.moving_average": items(at_least(1), nullable=True),
    "baselines.savitzky_golay": Rule(nullable=True),
    "baselines.savitzky_golay.windows": items(at_least(1), nullable=True),
    "baselines.savitzky_golay.orders": items(at_least(0), nullable=True),
    "bootstrap_resamples": at_least(1),
}


def motion_windows(dataset: Dataset, config: Mapping[str, Any]) -> list[MotionSequence]:
    """The task's windows: ``length`` frames at ``fps`` from the split's sequences, or at each
    sequence's own rate when ``fps`` is null (from :meth:`Dataset.native_sequences`)."""
    spec = config["window"]
    stride = spec["stride"] or dataset.window_stride or spec["length"]
    out: list[MotionSequence] = []
    native = spec["fps"] is None
    split = config["split"]
    sequences = dataset.native_sequences(split) if native else dataset.sequences(split)
    for sequence in sequences:
        fps = sequence.fps if native else spec["fps"]
        out.extend(windows(sequence, spec["length"], fps, stride))
    if config.get("max_windows"):
        out = out[: config["max_windows"]]
    if not out:
        rate = "its native rate" if native else f"{spec['fps']} Hz"
        raise InputError(
            f"dataset '{dataset.name}' split {split} has no sequence of "
            f"{spec['length']} frames at {rate}; use a shorter window (--task-config)"
        )
    return out


@dataclass
class Prepared:
    """A denoise run's frozen inputs: windows, ground truth, noisy observations."""

    clips: list[MotionSequence]
    gt: BodyOutput
    noisy_out: BodyOutput  # the observations (joints; vertices under rotation noise)
    init_pose: torch.Tensor | None
    root: tuple[torch.Tensor, torch.Tensor] | None
    noisy: NoisyData
    joints: torch.Tensor  # (W, 22) bool: the joint positions each window's source determines
    complete: torch.Tensor  # (W,) bool: the window's source captured every joint rotation


class DenoiseTask(Task):
    """Fit per-frame pose (+ root) to noisy observations; report errors against ground truth."""

    name = "denoise"
    version = "1"
    protocols = ("humor", "rotation-0.1", "rotation-0.5", "posendf", "dposer")
    metrics: ClassVar[dict[str, Metric]] = {
        "mpjpe_mm": Metric(
            "mm",
            False,
            "mean per-joint position error over the captured of 22 joints, no alignment",
        ),
        "mpvpe_mm": Metric("mm", False, "mean per-vertex position error, no alignment"),
        "accel_error": Metric("mm/frame²", False, "joint acceleration error vs ground truth"),
        "noisy_mpjpe_mm": Metric(
            "mm", False, "MPJPE of the noisy input itself, before any fit", describes_input=True
        ),
        "noisy_mpvpe_mm": Metric(
            "mm", False, "MPVPE of the noisy input (rotation noise only)", describes_input=True
        ),
        "noisy_accel_error": Metric(
            "mm/frame²", False, "acceleration error of the noisy input", describes_input=True
        ),
        "mpjpe_vs_none_mm": Metric(
            "mm", False, "MPJPE minus the no-prior fit's on the same windows (< 0: the prior helps)"
        ),
    }
    main_metric = "mpjpe_mm"
    weighs_prior_energy = True
    default_config = packaged_config("tasks/denoise.yaml")
    config_schema = CONFIG_SCHEMA

    def prepare(
        self, dataset: Dataset, body: BodyModel, config: Mapping[str, Any], device: torch.device,
        seed: int,
    ) -> Prepared:  # fmt: skip
        """The windows, their ground truth and the seeded noisy observations (the frozen inputs)."""
        if config["pose_only"] and config["fit_root"]:
            raise ConfigError("denoise: pose_only keeps the root at zero; set fit_root: false")
        clips = motion_windows(dataset, config)
        gt_pose, gt_root, gt_trans = (
            torch.stack([getattr(w, key) for w in clips]).to(device=device, dtype=torch.float32)
            for key in ("pose_body", "root_orient", "trans")
        )
        if config["pose_only"]:  # the pose alone: zero root orientation and translation
            gt_root, gt_trans = torch.zeros_like(gt_root), torch.zeros_like(gt_trans)
        gt = body.forward_batched(gt_pose, gt_root, gt_trans, chunk=512)
        noise = config["noise"]
        generator = make_generator(seed, "denoise", config["protocol"])
        init_pose, root = None, None
        if noise["model"] == "humor":
            noisy = humor_noise(gt.joints.cpu(), generator, sigma=noise["sigma"])
            noisy_out = BodyOutput(joints=noisy.noisy.to(device), vertices=None)
        else:
            noisy = rotation_noise(gt_pose.cpu(), generator, sigma=noise["sigma"])
            init_pose = noisy.noisy.to(device)
            noisy_out = body.forward_batched(init_pose, gt_root, gt_trans, chunk=512)
        if config["init"] == "mean-noise":  # the mean pose (zeros) plus small seeded noise
            init_generator = make_generator(seed, "denoise", config["protocol"], "init")
            start = config["init_sigma"] * torch.randn(gt_pose.shape, generator=init_generator)
            init_pose = start.to(device)
        elif config["init"] != "observed":
            raise ConfigError(f"denoise: init is {config['init']!r}; use {' or '.join(INITS)}")
        if not config["fit_root"]:
            root = (gt_root, gt_trans)
        captured = torch.stack([_captured(w) for w in clips])
        return Prepared(
            clips, gt, noisy_out, init_pose, root, noisy, position_joints(captured),
            captured.all(dim=1),
        )  # fmt: skip

    def run(
        self,
        prior: Prior,
        dataset: Dataset,
        body: BodyModel,
        config: Mapping[str, Any],
        device: torch.device,
        seed: int,
        progress: Progress,
    ) -> TaskResult:
        inputs = self.prepare(dataset, body, config, device, seed)
        observed = inputs.noisy_out.joints
        published = objective_form(config) == "published"
        weight_key = self.weight_key(config)
        weight, source = prior.energy_weight(weight_key)
        fit_inputs = (body, observed, config, inputs.init_pose, inputs.root, progress)
        fits = 2 if weight != 0.0 and config["compare_to_none"] else 1
        label = f"fit 1/{fits}, with {prior.name}" if weight else "fit 1/1, without a prior"
        _, fitted = fit_windows(prior, weight, *fit_inputs, label=label)
        result = self._score(fitted, inputs)
        per_window = torch.tensor(result.details["per_window_mpjpe_mm"])
        if weight == 0.0:
            result.metrics["mpjpe_vs_none_mm"] = 0.0
        elif config["compare_to_none"]:
            label = "fit 2/2, without a prior (for mpjpe_vs_none_mm)"
            _, baseline = fit_windows(prior, 0.0, *fit_inputs, label=label)
            baseline_error = mpjpe_mm(baseline.joints, inputs.gt.joints, inputs.joints)
            difference = (per_window - baseline_error.cpu()).tolist()
            by_clip: dict[str, list[float]] = {}
            for window, value in zip(inputs.clips, difference, strict=True):
                by_clip.setdefault(_clip_of(window), []).append(value)
            mean, low, high = cluster_bootstrap_mean(
                by_clip, seed, resamples=config["bootstrap_resamples"]
            )
            result.metrics["mpjpe_vs_none_mm"] = mean
            result.details["mpjpe_vs_none_ci95_mm"] = [low, high]
            result.details["mpjpe_vs_none_interval_unit"] = (
                f"clips ({len(by_clip)}; their windows resampled together)"
            )
        if config["baselines"]:
            self._add_baselines(result, inputs, dataset, body, config, device, seed)
        result.energy_weight, result.energy_weight_source = weight, source
        result.details["energy_weight_key"] = weight_key
        schedule = config["optimiser"]
        if published:
            steps = PublishedObjective.from_config(config["objective"]).total_steps
        else:
            steps = (
                (schedule["root_steps"] if config["fit_root"] else 0)
                + schedule["frame_steps"]
                + schedule["steps"]
            )
        result.details["iterations"] = {
            "adam_steps_per_batch": steps,
            "window_batches": math.ceil(len(inputs.clips) / config["batch_windows"]),
            "fits": 1 if weight == 0.0 or not config["compare_to_none"] else 2,
        }
        return result

    def weight_key(self, config: Mapping[str, Any]) -> str:
        """The published objectives weigh the prior with their own key (``prior_weight_key``,
        e.g. ``denoise-posendf``); the house objective with ``denoise``."""
        if objective_form(config) == "published":
            return str(config["objective"]["prior_weight_key"])
        return self.name

    def _add_baselines(
        self, result: TaskResult, inputs: Prepared, dataset: Dataset, body: BodyModel,
        config: Mapping[str, Any], device: torch.device, seed: int,
    ) -> None:  # fmt: skip
        """Score the classical filters (:mod:`posebench.tasks.denoise_baselines`) on the same
        observations, each family's window tuned on ``baselines.tune_split``."""
        spec = config["baselines"]
        frames = inputs.gt.joints.shape[1]
        families = denoise_baselines.candidates(spec, frames)
        if not families:
            return
        tuning = (  # tune runs evaluate on the tuning split itself: its inputs are at hand
            inputs
            if config["split"] == spec["tune_split"]
            else self.prepare(dataset, body, {**config, "split": spec["tune_split"]}, device, seed)
        )
        tuned = denoise_baselines.tune(
            families, tuning.noisy_out.joints, tuning.gt.joints, tuning.joints
        )
        observed = inputs.noisy_out.joints
        for family, chosen in tuned.items():
            filtered = BodyOutput(joints=chosen.chosen.apply(observed), vertices=None)
            metrics = self._score(filtered, inputs).metrics
            result.baseline_rows[family] = {
                k: v for k, v in metrics.items() if not self.metrics[k].describes_input
            }
        result.details["baselines"] = denoise_baselines.record(
            tuned, spec["tune_split"], len(tuning.clips)
        )

    def _score(self, fitted: BodyOutput, inputs: Prepared) -> TaskResult:
        """Metrics of fitted motion against the ground truth (and the noisy input's)."""
        gt, noisy_out, joints = inputs.gt, inputs.noisy_out, inputs.joints
        complete = inputs.complete  # vertices move with every joint's rotation
        per_window = mpjpe_mm(fitted.joints, gt.joints, joints)
        metrics: dict[str, float | None] = {
            "mpjpe_mm": float(per_window.mean()),
            "mpvpe_mm": _mean_or_none(fitted.vertices, gt.vertices, complete),
            "accel_error": float(accel_error_mm(fitted.joints, gt.joints, joints).mean()),
            "noisy_mpjpe_mm": float(mpjpe_mm(noisy_out.joints, gt.joints, joints).mean()),
            "noisy_mpvpe_mm": _mean_or_none(noisy_out.vertices, gt.vertices, complete),
            "noisy_accel_error": float(accel_error_mm(noisy_out.joints, gt.joints, joints).mean()),
            "mpjpe_vs_none_mm": None,
        }
        details: dict[str, Any] = {
            "windows": len(inputs.clips),
            "scored_joints_per_window": joints.sum(dim=1).tolist(),
            "mpvpe_windows": int(complete.sum()),
            "window_names": [w.name for w in inputs.clips],
            "per_window_mpjpe_mm": per_window.cpu().tolist(),
            "noise": inputs.noisy.record(),
        }
        per_clip: dict[str, list[float]] = {}
        for window, error in zip(inputs.clips, per_window.cpu().tolist(), strict=True):
            per_clip.setdefault(_clip_of(window), []).append(error)
        return TaskResult(
            metrics=metrics,
            details=details,
            inputs_hash=inputs.noisy.hash,
            per_unit={"unit": "clip", "item": "window", "values": per_clip},
        )

    def export_inputs(
        self, dataset: Dataset, body: BodyModel, config: Mapping[str, Any], device: torch.device,
        seed: int,
    ) -> tuple[dict[str, Any], str]:  # fmt: skip
        inputs = self.prepare(dataset, body, config, device, seed)
        arrays: dict[str, Any] = {
            "observed_joints": inputs.noisy_out.joints.cpu().numpy(),
            "window_names": [w.name for w in inputs.clips],
            "fps": config["window"]["fps"] or [w.fps for w in inputs.clips],
        }
        if inputs.init_pose is not None:
            key = "init_pose_body" if config["init"] == "mean-noise" else "noisy_pose_body"
            arrays[key] = inputs.init_pose.cpu().numpy()
        if inputs.root is not None:
            arrays["root_orient"] = inputs.root[0].cpu().numpy()
            arrays["trans"] = inputs.root[1].cpu().numpy()
        return arrays, inputs.noisy.hash

    def score(
        self, predictions: Mapping[str, Any], dataset: Dataset, body: BodyModel,
        config: Mapping[str, Any], device: torch.device, seed: int,
    ) -> TaskResult:  # fmt: skip
        """Score predicted motion: ``pose_body`` (W, T, 63) with ``root_orient`` and ``trans``
        (W, T, 3), or ``joints`` (W, T, 22, 3) (then MPVPE is not available)."""
        inputs = self.prepare(dataset, body, config, device, seed)
        windows, frames = inputs.gt.joints.shape[:2]
        if "pose_body" in predictions:
            pose = _array(predictions, "pose_body", (windows, frames, 63), device)
            root, trans = (
                _array(predictions, key, (windows, frames, 3), device)
                for key in ("root_orient", "trans")
            )
            pose = pose.reshape(windows, frames, 21, 3)
            fitted = body.forward_batched(pose, root, trans, chunk=512)
        else:
            joints = _array(predictions, "joints", (windows, frames, 22, 3), device)
            fitted = BodyOutput(joints=joints, vertices=None)
        return self._score(fitted, inputs)


def _array(
    predictions: Mapping[str, Any], key: str, shape: tuple[int, ...], device: torch.device
) -> torch.Tensor:
    if key not in predictions:
        raise InputError(f"predictions lack '{key}'; expected shape {shape}")
    array = torch.as_tensor(predictions[key], dtype=torch.float32, device=device)
    if array.numel() != math.prod(shape):
        raise InputError(f"predictions '{key}' have shape {tuple(array.shape)}; expected {shape}")
    if not torch.isfinite(array).all():
        raise InputError(f"predictions '{key}' contain NaN or infinite values")
    return array.reshape(shape)


def _mean_or_none(
    pred: torch.Tensor | None, target: torch.Tensor | None, windows: torch.Tensor
) -> float | None:
    """Mean vertex error over the windows whose source captured every joint (vertices move
    with every joint's rotation), or None.
    """
    if pred is None or target is None or not bool(windows.any()):
        return None
    keep = windows.to(pred.device)
    return float(mpjpe_mm(pred[keep], target[keep]).mean())


def _clip_of(window: MotionSequence) -> str:
    """The clip a window was cut from: windows of one clip are not independent of each other."""
    return window.name.rsplit("@", 1)[0]


def _captured(window: MotionSequence) -> torch.Tensor:
    """(22,) bool: the joints the window's source captured in all of its frames."""
    observed = window.meta.get("observed")
    if observed is None:
        return torch.ones(22, dtype=torch.bool)
    return torch.as_tensor(observed).reshape(-1, 22).all(dim=0)
