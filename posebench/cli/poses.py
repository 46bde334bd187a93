"""The original project's own commands, for any prior: sample, project, interpolate, denoise.

Each reads and writes npz files (see :mod:`posebench.datasets.pose_files`) and records the
prior, its checkpoint and the command in the output's ``meta``. torch loads when a command runs,
not when the parser is built.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from posebench.cli import options as opt
from posebench.cli.render import add_render_flag, render_output, settings_from
from posebench.core.errors import ConfigError, PosebenchError

if TYPE_CHECKING:
    import torch

    from posebench.priors.base import Prior

#: ``sample --n`` cap: 10**6 poses are ~0.6 GB of output arrays (pose_body and quaternions, float32)
#: plus the prior's work on them, which fits a laptop; more poses come from more runs (--seed).
MAX_SAMPLES = 1_000_000
#: ``project --steps`` cap: far beyond any prior's default (Pose-NDF: 100), and --save-steps keeps
#: every step in memory.
MAX_PROJECT_STEPS = 1_000_000
#: ``interpolate --steps`` cap: the path (steps + 1 poses per pair) is held in memory and written.
MAX_PATH_STEPS = 100_000


def add_parsers(commands: opt.Commands) -> None:
    """Register the pose commands on the ``posebench`` subcommand parser."""
    p = commands.add_parser("sample", help="draw poses from a prior")
    _prior_options(p)
    p.add_argument(
        "--n", type=opt.positive_int(MAX_SAMPLES), default=16,
        help=f"how many poses (default 16; at most {MAX_SAMPLES:,}, so the arrays and the "
        "prior's work fit in memory: run again with another --seed for more)",
    )  # fmt: skip
    opt.add_out(p, help="npz to write", required=True, type=opt.output_file)
    add_render_flag(p)
    opt.add_runtime(p)
    p.set_defaults(handler=cmd_sample)

    p = commands.add_parser("project", help="project poses onto the prior's plausible set")
    _prior_options(p)
    p.add_argument("--input", required=True, help="npz with pose_body (N, 63) or pose (N, 21, 4)")
    opt.add_out(p, help="npz to write", required=True, type=opt.output_file)
    p.add_argument(
        "--steps", type=opt.non_negative_int(MAX_PROJECT_STEPS),
        help=f"projection steps, 0..{MAX_PROJECT_STEPS:,} (default: the prior's)",
    )  # fmt: skip
    p.add_argument(
        "--tol", type=opt.non_negative_float, help="stop once every pose is within this distance"
    )
    p.add_argument("--save-steps", action="store_true", help="also store every intermediate pose")
    add_render_flag(p)
    opt.add_runtime(p)
    p.set_defaults(handler=cmd_project)

    p = commands.add_parser("interpolate", help="the prior's path between pairs of poses")
    _prior_options(p)
    p.add_argument(
        "--input", required=True, help="npz whose poses 0-1, 2-3, ... are start-end pairs"
    )
    opt.add_out(p, help="npz to write", required=True, type=opt.output_file)
    p.add_argument(
        "--steps", type=opt.positive_int(MAX_PATH_STEPS), default=20,
        help=f"steps per path, 1..{MAX_PATH_STEPS:,} (default 20)",
    )  # fmt: skip
    p.add_argument(
        "--step-size", type=opt.finite_positive_float,
        help="blend per step, above 0 (priors that have one)",
    )  # fmt: skip
    opt.add_runtime(p)
    p.set_defaults(handler=cmd_interpolate)

    add_fit_image_parser(commands)

    p = commands.add_parser("denoise", help="denoise a motion with a prior")
    _prior_options(p)
    p.add_argument("--input", required=True, help="npz with pose_body (T, 63) or joints (T, 22, 3)")
    opt.add_out(p, help="npz to write", required=True, type=opt.output_file)
    opt.add_task_config(p, help="YAML overriding denoise settings")
    opt.add_body_options(p)
    opt.add_runtime(p)
    p.set_defaults(handler=cmd_denoise)


def add_fit_image_parser(commands: opt.Commands) -> None:
    """``posebench fit-image``: SMPLify-style fitting to a folder of OpenPose keypoints."""
    p = commands.add_parser("fit-image", help="fit the body to OpenPose keypoints of images")
    _prior_options(p)
    p.add_argument("--images", required=True, help="folder of <name>.jpg|png + OpenPose JSON")
    opt.add_out(
        p, help="folder for <name>_fit.npz, <name>_overlay.png and summary.json", required=True,
        type=opt.output_folder,
    )  # fmt: skip
    opt.add_task_config(p, help="YAML overriding fitting settings")
    opt.add_body_options(p)
    opt.add_runtime(p)
    p.set_defaults(handler=cmd_fit_image)


def cmd_fit_image(args: argparse.Namespace) -> int:
    """Fit every image's selected person; 'no person detected' images are listed, not fatal."""
    from posebench.benchmark import components
    from posebench.cli.fit_image import fit_images

    components.load_task("image_fit").config("folder", args.task_config)  # checked before loads
    prior, device = _load(args)
    body = components.load_body_model(args.body_model, args.body_model_path, str(device))
    summary = fit_images(prior, body, args.images, args.out, config=args.task_config,
                         device=device, progress=_progress(args))  # fmt: skip
    error = summary["kp2d_error_px"]
    print(
        f"{summary['fitted']} images fitted with '{prior.name}' ({summary['no_person']} with no "
        f"person detected)"
        + (f", mean 2D keypoint error {error:.1f} px" if error is not None else "")
        + f" -> {args.out}"
    )
    return 0


def _prior_options(parser: argparse.ArgumentParser) -> None:
    opt.add_prior(parser, required=True)
    opt.add_checkpoint(parser)
    opt.add_prior_config(parser, help="YAML overriding prior config")


def _load(args: argparse.Namespace) -> tuple[Prior, torch.device]:
    from posebench.benchmark import components
    from posebench.core.device import resolve_device
    from posebench.core.seeding import seed_everything

    seed_everything(args.seed or 0)
    device = resolve_device(opt.device_of(args))
    prior = components.load_prior(args.prior, args.checkpoint, args.prior_config, str(device))
    return prior, device


def _meta(args: argparse.Namespace, prior: Any, **extra: Any) -> dict[str, Any]:
    from posebench.core.version import __version__

    return {
        "prior": prior.name,
        "prior_version": prior.version,
        "checkpoint": str(prior.checkpoint) if prior.checkpoint else None,
        "command": ["posebench", *sys.argv[1:]],
        "seed": args.seed or 0,
        "posebench_version": __version__,
        **extra,
    }


def _energies(prior: Any, pose: torch.Tensor) -> torch.Tensor | None:
    import torch

    try:
        with torch.no_grad():
            return prior.energy(pose)
    except PosebenchError:
        return None


def cmd_sample(args: argparse.Namespace) -> int:
    """``posebench sample --prior P --n N --out F``."""
    from posebench.core.seeding import make_generator
    from posebench.datasets.pose_files import write_poses

    if args.render is not None:
        settings_from(args)  # a bad picture option fails before the work
    prior, device = _load(args)
    pose = prior.sample(args.n, make_generator(args.seed or 0, "sample")).to(device)
    extra = {"energy": energy} if (energy := _energies(prior, pose)) is not None else {}
    path = write_poses(args.out, pose, _meta(args, prior), **extra)
    print(f"{args.n} poses from '{prior.name}' -> {path}")
    render_output(args, path)
    return 0


def cmd_project(args: argparse.Namespace) -> int:
    """``posebench project --prior P --input F --out G [--steps N] [--tol T] [--save-steps]``."""
    import torch

    from posebench.datasets.pose_files import read_poses, write_poses

    pose = read_poses(args.input)
    if args.render is not None:
        settings_from(args)  # a bad picture option fails before the work
    prior, device = _load(args)
    pose = pose.to(device)
    extra: dict[str, Any] = {}
    if args.save_steps:
        trajectory = prior.project_steps(pose, steps=args.steps, tol=args.tol)
        projected = trajectory[-1]
        extra["steps_pose_body"] = trajectory.reshape(len(trajectory), len(pose), 63)
        energies = [_energies(prior, frame) for frame in trajectory]
        known = [e for e in energies if e is not None]
        if len(known) == len(energies):  # every step has an energy
            extra["steps_energy"] = torch.stack(known)
    else:
        projected = prior.project(pose, steps=args.steps, tol=args.tol)
    for key, value in (
        ("energy_before", _energies(prior, pose)),
        ("energy", _energies(prior, projected)),
    ):
        if value is not None:
            extra[key] = value
    meta = _meta(args, prior, input=str(args.input), steps=args.steps, tol=args.tol)
    path = write_poses(args.out, projected, meta, **extra)
    print(f"{len(pose)} poses projected with '{prior.name}' -> {path}")
    render_output(args, path)
    return 0


def cmd_interpolate(args: argparse.Namespace) -> int:
    """``posebench interpolate --prior P --input F --out G [--steps N] [--step-size A]``."""
    from posebench.core.npzio import write_npz
    from posebench.datasets.pose_files import quaternions_wxyz, read_poses

    pose = read_poses(args.input)
    if len(pose) < 2 or len(pose) % 2:
        raise PosebenchError(
            f"{args.input} holds {len(pose)} poses; interpolate needs start-end pairs "
            "(an even number, at least 2)"
        )
    prior, device = _load(args)
    if args.step_size is not None:
        settings = prior.config.get("interpolate")
        if not isinstance(settings, dict) or "step_size" not in settings:
            raise ConfigError(
                f"prior '{prior.name}' has no interpolation step size; drop --step-size"
            )
        settings["step_size"] = args.step_size
    pose = pose.to(device)
    path = prior.interpolate(pose[0::2], pose[1::2], args.steps).detach()  # (S + 1, K, 21, 3)
    meta = _meta(args, prior, input=str(args.input), steps=args.steps, step_size=args.step_size)
    arrays = {
        "path_pose_body": path.reshape(len(path), path.shape[1], 63).cpu().numpy(),
        "path_pose": quaternions_wxyz(path.reshape(-1, 21, 3)).reshape(*path.shape[:2], 21, 4),
    }
    out = write_npz(args.out, arrays, meta)
    print(f"{path.shape[1]} paths of {args.steps} steps with '{prior.name}' -> {out}")
    return 0


def cmd_denoise(args: argparse.Namespace) -> int:
    """``posebench denoise --prior P --input motion.npz --out denoised.npz``.

    Poses in the input are the noisy estimate (the fit starts from them, and their root is kept
    when given); joints alone are observations the body and root are fitted to. One window of
    the whole sequence, with the denoise task's fixed schedule.
    """
    from posebench.benchmark import components
    from posebench.core.npzio import write_npz
    from posebench.datasets.pose_files import read_motion
    from posebench.fitting.motion import fit_windows, user_motion_inputs

    task = components.load_task("denoise")
    config = task.config("humor", args.task_config)  # checked before anything loads
    motion = read_motion(args.input)
    prior, device = _load(args)
    body = components.load_body_model(args.body_model, args.body_model_path, str(device))
    weight, source = prior.energy_weight(task.name)
    observed, init, root = user_motion_inputs(body, motion, device)
    fit, posed = fit_windows(prior, weight, body, observed, config, init, root, _progress(args))
    joints = posed.joints[0]
    arrays = {
        "pose_body": fit.pose_body[0].reshape(-1, 63).cpu().numpy(),
        "root_orient": fit.root_orient[0].cpu().numpy(),
        "trans": fit.trans[0].cpu().numpy(),
        "joints": joints.cpu().numpy(),
    }
    meta = _meta(
        args,
        prior,
        input=str(args.input),
        energy_weight=weight,
        energy_weight_source=source,
        body_model=args.body_model,
        fps=motion.fps,
        steps=fit.steps,
    )
    out = write_npz(args.out, arrays, meta)
    print(
        f"{len(joints)} frames denoised with '{prior.name}' (weight {weight:g}, {source}) -> {out}"
    )
    return 0


def _progress(args: argparse.Namespace) -> Any:
    from posebench.cli.console import make_progress

    return make_progress(getattr(args, "quiet", False))
