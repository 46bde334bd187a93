"""``posebench data describe``, ``data prepare amass`` and ``data prepare posendf-targets``."""

from __future__ import annotations

import argparse

from posebench.benchmark.spec import DEFAULT_DATASET, DEFAULT_SEED
from posebench.cli import options as opt


def add_parsers(commands: opt.Commands) -> opt.Commands:
    """Register ``data`` and its ``prepare`` actions; return the ``data`` actions (the build
    commands add ``build-embedded`` there)."""
    data = commands.add_parser("data", help="prepare and build datasets")
    data_commands = opt.subcommands(data, "data_command", "ACTION")
    p = data_commands.add_parser(
        "describe",
        help="list a dataset's clips: source, licence, motion kind, frames, seconds, split",
        description="One line per clip (source, licence, motion kind, frames, seconds, split); "
        "--json prints a list with one object per clip.",
    )
    p.add_argument("dataset", nargs="?", default=DEFAULT_DATASET, help="dataset name")
    opt.add_amass_dir(p)
    p.add_argument("--json", action="store_true", help="print JSON, one object per clip")
    p.set_defaults(handler=cmd_describe)

    prepare = data_commands.add_parser("prepare", help="prepare a dataset for posebench")
    prepare_commands = opt.subcommands(prepare, "what", "DATASET")

    p = prepare_commands.add_parser("amass", help="sample AMASS poses and motion (VPoser/HuMoR)")
    opt.add_amass_dir(p, help="the AMASS download", required=True)
    opt.add_out(p, help="folder for the prepared files", required=True, type=opt.output_folder)
    opt.add_seed(p, help=f"seed of the pose sampling (default {DEFAULT_SEED})",
                 default=DEFAULT_SEED)  # fmt: skip
    p.add_argument("--skip-bad-files", action="store_true", help="record malformed files and go on")
    opt.add_quiet(p)
    p.set_defaults(handler=cmd_prepare_amass)

    p = prepare_commands.add_parser(
        "posendf-targets", help="Pose-NDF training data: noisy poses and k-NN distance targets"
    )
    opt.add_dataset(p, help="dataset whose train split is used", default=DEFAULT_DATASET)
    opt.add_amass_dir(p, help="prepared AMASS folder (--dataset amass)")
    opt.add_prior_config(p, help="YAML overriding Pose-NDF config")
    opt.add_out(
        p, help="folder for the targets (train.targets_dir)", required=True,
        type=opt.output_folder,
    )  # fmt: skip
    opt.add_seed(p, help=f"seed of the noise (default {DEFAULT_SEED})", default=DEFAULT_SEED)
    opt.add_device(p)
    opt.add_quick(p, help="CI-sized", unset=False)
    p.add_argument(
        "--shard", metavar="I/N",
        help="build only shard I (0-based) of N into OUT/shard-I-of-N (default: torchrun's "
        "RANK/WORLD_SIZE or a Slurm array's task id and count when set)",
    )  # fmt: skip
    p.add_argument(
        "--merge", type=opt.positive_int(), metavar="N",
        help="instead: assemble the N finished shards under OUT into the whole set",
    )  # fmt: skip
    opt.add_quiet(p)
    p.set_defaults(handler=cmd_prepare_posendf_targets)
    return data_commands


def cmd_describe(args: argparse.Namespace) -> int:
    """Print a dataset's clips with their provenance and split."""
    import json

    from posebench.benchmark import components

    options = {"amass_dir": args.amass_dir} if args.amass_dir else {}
    clips = components.load_dataset(args.dataset, **options).describe()
    if args.json:
        print(json.dumps(clips, indent=2))
        return 0
    header = f"{'clip':<28} {'split':<5} {'frames':>6} {'seconds':>7} {'fps':>5}  motion / source"
    print(header)
    for c in clips:
        print(
            f"{c['id']:<28} {c['split']:<5} {c['frames']:>6} {c['seconds']:>7.1f} "
            f"{c['fps']:>5g}  {c['motion']} / {c['package']}, {c['licence']}"
        )
    by_split = {
        s: sum(c["seconds"] for c in clips if c["split"] == s) for s in ("train", "val", "test")
    }
    kinds = {c["motion"] for c in clips}
    print(
        f"{len(clips)} clips, {sum(by_split.values()):.1f} s ("
        + ", ".join(f"{s} {v:.1f} s" for s, v in by_split.items())
        + f"), {len(kinds)} motion kinds"
    )
    return 0


def cmd_prepare_amass(args: argparse.Namespace) -> int:
    """Sample AMASS poses (VPoser splits) and motion (HuMoR splits) into a prepared folder."""
    from posebench.cli.console import make_progress
    from posebench.datasets.amass_prepare import prepare_amass, summary_lines

    summary = prepare_amass(
        args.amass_dir,
        args.out,
        seed=args.seed,
        progress=make_progress(args.quiet),
        skip_bad_files=args.skip_bad_files,
    )
    for line in summary_lines(summary):
        print(line)
    print(f"use it with: posebench run --dataset amass --amass-dir {args.out} ...")
    return 0


def cmd_prepare_posendf_targets(args: argparse.Namespace) -> int:
    """Build Pose-NDF's training set from a dataset's train split (or one shard of it, or
    assemble finished shards with --merge N)."""
    from posebench.benchmark import components
    from posebench.cli.console import make_progress
    from posebench.core.device import resolve_device
    from posebench.core.shards import parse_shard, shard_from_environment
    from posebench.priors.posendf.targets import merge_target_shards, prepare_posendf_targets

    if args.merge is not None:
        out = merge_target_shards(args.out, args.merge)
        print(f"targets -> {out} ({args.merge} shards merged; train with train.targets_dir: {out})")
        return 0
    shard = parse_shard(args.shard) if args.shard else shard_from_environment()
    options = {"amass_dir": args.amass_dir} if args.amass_dir else {}
    dataset = components.load_dataset(args.dataset, **options)
    out = prepare_posendf_targets(
        dataset, args.out, prior_config=args.prior_config, seed=args.seed,
        device=resolve_device(opt.device_of(args)), quick=args.quick,
        progress=make_progress(args.quiet), shard=shard,
    )  # fmt: skip
    if shard is not None:
        print(
            f"targets shard {shard.index}/{shard.count} -> {out}; when every shard is done: "
            f"posebench data prepare posendf-targets --out {args.out} --merge {shard.count}"
        )
        return 0
    print(f"targets -> {out} (train with --prior-config setting train.targets_dir: {out})")
    return 0
