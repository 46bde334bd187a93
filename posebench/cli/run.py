"""The benchmark commands: run, suite, tune, train, export and score."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from posebench.benchmark.spec import DEFAULT_DATASET, DEFAULT_OUT, DEFAULT_SEED, RunSpec
from posebench.cli import options as opt
from posebench.cli.help_text import tasks_and_protocols
from posebench.core.errors import ConfigError, PosebenchError, suggest
from posebench.core.schema import Rule, check_config, items, text

if TYPE_CHECKING:
    from rich.table import Table

    from posebench.results import ResultRecord

#: The run options ``export`` and ``score`` take (an outside method needs no prior).
EXTERNAL_KEYS = ("protocol", "dataset", "body_model", "body_model_path", "task_config", "seed",
                 "device", "quick", "amass_dir", "out")  # fmt: skip
#: What a suite file may set (each may be left to --priors, --tasks, --seeds) and its defaults.
SUITE_FILE_DEFAULTS: dict[str, Any] = {
    "priors": [], "tasks": [], "seeds": [DEFAULT_SEED], "train_seeds": [],
}  # fmt: skip
SUITE_FILE_SCHEMA: dict[str, Rule] = {
    "priors": items(text()),
    "tasks": items(text()),
    "seeds": items(opt.SEED_RULE),
    "train_seeds": items(opt.SEED_RULE),
}


def add_parsers(commands: opt.Commands) -> None:
    """Register run, suite, tune, export, score and train."""
    p = commands.add_parser("run", help="run one prior on one task and write its result file")
    if isinstance(p, opt.OneLineErrorParser):  # the tasks load when --help prints, not before
        p.help_extra = tasks_and_protocols
    opt.add_prior(p)
    opt.add_task(p)
    opt.add_checkpoint(p)
    opt.add_training_seed(p)
    opt.add_task_options(p)
    opt.add_components(p)
    opt.add_common(p)
    p.set_defaults(handler=cmd_run)

    p = commands.add_parser("suite", help="run priors x tasks x seeds; skip existing results")
    p.add_argument("--suite", help="packaged suite name (default: default)")
    p.add_argument("--priors", type=opt.csv_list, help="comma-separated prior names")
    p.add_argument(
        "--tasks", type=opt.csv_list,
        help="comma-separated task names, each with its first protocol or TASK@PROTOCOL (e.g. "
        "image_fit@multiview)",
    )  # fmt: skip
    p.add_argument("--seeds", type=opt.seed_list, help="comma-separated seeds, e.g. 0,1,2")
    p.add_argument(
        "--train-seeds", type=opt.seed_list, metavar="SEEDS",
        help="score each trained prior's models of these training seeds, e.g. 0,1,2 (the "
        "shipped model is its own seed; others come from posebench train --seed under "
        "--train-out); default: the shipped models only",
    )  # fmt: skip
    p.add_argument(
        "--train-out", type=opt.output_folder, metavar="DIR",
        help=f"the --out of the posebench train runs of --train-seeds (default {DEFAULT_OUT})",
    )  # fmt: skip
    p.add_argument("--force", action="store_const", const=True, help="re-run existing results")
    p.add_argument(
        "--shard", metavar="I/N",
        help="run only shard I (0-based) of N; default: torchrun's RANK/WORLD_SIZE or a Slurm "
        "array's task id and count when set, else every run",
    )  # fmt: skip
    opt.add_task_config(p)
    opt.add_components(p)
    opt.add_common(p, seed=False)
    p.set_defaults(handler=cmd_suite)

    p = commands.add_parser("tune", help="tune a prior's energy weight on the validation split")
    opt.add_prior(p, help="prior name")
    opt.add_task(p)
    opt.add_checkpoint(p)
    opt.add_task_options(p)
    p.add_argument(
        "--grid", type=opt.float_list, help="weights to try (default: declared x 10^-3..3)"
    )
    p.add_argument("--apply", type=Path, help="instead: write this tuned file's weight ...")
    p.add_argument("--to", type=Path, help="... into this prior YAML (energy_weights block)")
    opt.add_components(p)
    opt.add_common(p)
    p.set_defaults(handler=cmd_tune)

    p = commands.add_parser("export", help="write a task's frozen inputs for outside methods")
    opt.add_task(p, required=True)
    opt.add_task_options(p)
    opt.add_components(p)
    opt.add_common(p, out_help="the npz FILE to write (default <task>-inputs.npz)")
    p.set_defaults(handler=cmd_export)

    p = commands.add_parser("score", help="turn an outside method's predictions into a result")
    opt.add_task(p, required=True)
    p.add_argument("--predictions", required=True, help="npz in the task's prediction format")
    p.add_argument("--method", required=True, help="the method's name in results and tables")
    opt.add_task_options(p)
    opt.add_components(p)
    opt.add_common(p)
    p.set_defaults(handler=cmd_score)

    p = commands.add_parser("train", help="train a prior on a dataset's train split")
    opt.add_prior(p, help="prior name", required=True)
    p.add_argument("--resume", action="store_true", help="continue from the last checkpoint")
    opt.add_dataset(p)
    opt.add_prior_config(p)
    opt.add_quick(p, help="a few steps only (CI)", unset=False)
    opt.add_device(p)
    opt.add_seed(p, help=f"seed (default {DEFAULT_SEED})", default=DEFAULT_SEED)
    opt.add_out(
        p, help=f"output folder (default {DEFAULT_OUT}/)", default=DEFAULT_OUT,
        type=opt.output_folder,
    )  # fmt: skip
    opt.add_quiet(p)
    p.set_defaults(handler=cmd_train)


def _require(options: dict[str, Any], command: str, config_hint: bool = False) -> None:
    for required in ("prior", "task"):
        if not options[required]:
            extra = f" (or '{required}:' in --config)" if config_hint else ""
            raise PosebenchError(f"posebench {command} needs --{required}{extra}")


def cmd_run(args: argparse.Namespace) -> int:
    """Run one prior on one task."""
    from posebench.benchmark.runner import run
    from posebench.cli.console import make_progress

    options = opt.resolve_options(args, opt.RUN_DEFAULTS)
    _require(options, "run", config_hint=True)
    opt.check_output(options["out"], folder=True)
    outcome = run(RunSpec(**options), progress=make_progress(args.quiet))
    assert outcome.record is not None  # forced: never skipped
    print_metrics(outcome.record)
    note = weight_note(outcome.record)
    if note:
        print(note)
    print(f"result: {outcome.path}")
    return 0


def cmd_suite(args: argparse.Namespace) -> int:
    """Run every prior on every task for every seed, skipping results that exist."""
    from posebench.benchmark.runner import run
    from posebench.cli.console import make_progress
    from posebench.core.shards import parse_shard, shard_from_environment
    from posebench.plugins import Kind, get_registry

    options = opt.resolve_options(args, opt.SUITE_DEFAULTS)
    suite = packaged_suite(options.pop("suite"))
    priors = options.pop("priors") or suite["priors"]
    tasks = options.pop("tasks") or suite["tasks"]
    seeds = options.pop("seeds") or suite["seeds"]
    train_seeds = options.pop("train_seeds") or suite["train_seeds"]
    force = bool(options.pop("force"))
    opt.check_output(options["out"], folder=True)
    registry = get_registry()
    tasks = [_task_and_protocol(entry, options.get("protocol")) for entry in tasks]
    for name in priors:
        registry.get("prior", name)
    for name, protocol in tasks:
        registry.get("task", name).load()().protocol(protocol)  # unknown protocol: one line, now
    single: tuple[Kind, ...] = ("dataset", "body_model")
    for kind in single:
        registry.get(kind, options[kind])
    trained = {p: _training_seeds(p, train_seeds, options["prior_config"]) for p in priors}
    runs = [(p, t, k, s) for t in tasks for p in priors for k in trained[p] for s in seeds]
    if not runs:
        raise PosebenchError("nothing to run: the suite is empty")
    progress = make_progress(args.quiet)
    shard = parse_shard(args.shard) if args.shard else shard_from_environment()
    if shard is not None:
        total, runs = len(runs), shard.take(runs)
        progress.log(
            f"shard {shard.index}/{shard.count} ({shard.source}): {len(runs)} of {total} runs"
        )
    done = skipped = 0
    failed: dict[str, list[str]] = {}  # message -> the runs it stopped
    for prior, (task, protocol), training_seed, seed in progress.track(
        runs, "suite", total=len(runs)
    ):
        spec = RunSpec(
            prior=prior, task=task, seed=seed, training_seed=training_seed,
            **{**options, "protocol": protocol},
        )  # fmt: skip
        try:
            outcome = run(spec, force=force, progress=progress)
        except PosebenchError as exc:  # one run's problem (e.g. no trained weights): go on
            trained_with = "" if training_seed is None else f" (training seed {training_seed})"
            failed.setdefault(" ".join(str(exc).split()), []).append(
                f"{prior}{trained_with} on {task} seed {seed}"
            )
            continue
        if outcome.skipped:
            skipped += 1
            progress.log(f"exists, skipped: {outcome.path}")
        else:
            done += 1
            progress.log(f"wrote {outcome.path}")
    print(
        f"suite: {done} run, {skipped} skipped (existing; --force re-runs them) -> {options['out']}"
    )
    for message, stopped in failed.items():  # one line per problem, however many runs it stops
        shown = ", ".join(stopped[:4]) + (f", {len(stopped) - 4} more" if len(stopped) > 4 else "")
        line = f"{message} ({len(stopped)} run{'s' if len(stopped) > 1 else ''}: {shown})"
        sys.stderr.write(f"posebench: error: {line}\n")
    return opt.EXIT_USER_ERROR if failed else 0


def _task_and_protocol(entry: str, default: str | None) -> tuple[str, str | None]:
    """``image_fit@multiview`` -> ("image_fit", "multiview"); a bare name takes ``default``
    (the suite's --protocol, or None: the task's first protocol)."""
    name, _, protocol = entry.partition("@")
    return name, protocol or default


def _training_seeds(prior: str, train_seeds: list[int], prior_config: Any) -> list[int | None]:
    """The training seeds a suite scores ``prior`` with: ``train_seeds`` for a prior that
    trains, else [None] (its one model as it is, e.g. ``none``, or no seeds were asked for)."""
    from posebench.benchmark import components
    from posebench.priors.training_seeds import trains

    if not train_seeds:
        return [None]
    model = components.load_prior(prior, config=prior_config, pretrained=False)
    return list(train_seeds) if trains(model) else [None]


def packaged_suite(name: str) -> dict[str, Any]:
    """A suite shipped in ``posebench/configs/suites/<name>.yaml``; "did you mean" otherwise, and
    one line naming the file and key for a value of the wrong type or range."""
    from posebench.core.config import merge_config, read_yaml
    from posebench.core.paths import config_path

    folder = config_path("suites")
    names = sorted(
        p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml")
    )
    if name not in names:
        raise ConfigError(
            f"unknown suite '{name}'{suggest(name, names)}; suites: {', '.join(names)}"
        )
    path = folder / f"{name}.yaml"
    where = f"suite file {path}"
    suite = read_yaml(path)
    check_config(suite, SUITE_FILE_DEFAULTS, SUITE_FILE_SCHEMA, where)
    return merge_config(SUITE_FILE_DEFAULTS, suite, where=where)


def cmd_tune(args: argparse.Namespace) -> int:
    """Grid-search a prior's energy weight for a task on the validation split."""
    if args.apply is not None or args.to is not None:
        from posebench.benchmark.tuned import apply_tuned

        if args.apply is None or args.to is None:
            raise PosebenchError(
                "posebench tune --apply FILE needs --to PRIOR_YAML (and vice versa)"
            )
        weight = apply_tuned(args.apply, args.to)
        print(f"wrote weight {weight:.6g} from {args.apply} into {args.to}")
        return 0
    from posebench.benchmark.tune import tune
    from posebench.cli.console import make_progress

    options = opt.resolve_options(args, opt.RUN_DEFAULTS)
    _require(options, "tune")
    opt.check_output(options["out"], folder=True)
    path, document = tune(RunSpec(**options), grid=args.grid, progress=make_progress(args.quiet))
    metric = document["main_metric"]
    for row in document["grid"]:
        marker = "  <- best" if row["weight"] == document["weight"] else ""
        print(f"weight {row['weight']:<12.6g} {metric} {row[metric]}{marker}")
    print(f"tuned: {path} (posebench run uses it for this prior, protocol and dataset)")
    return 0


def _external_spec(args: argparse.Namespace) -> RunSpec:
    defaults = {k: opt.RUN_DEFAULTS[k] for k in EXTERNAL_KEYS}
    return RunSpec(task=args.task, **opt.resolve_options(args, defaults))


def cmd_export(args: argparse.Namespace) -> int:
    """Write a task's frozen inputs (npz with their hash)."""
    from posebench.benchmark.external import export_inputs

    spec = _external_spec(args)
    out = f"{args.task}-inputs.npz" if spec.out == DEFAULT_OUT else spec.out
    opt.check_output(out)
    path, inputs_hash = export_inputs(spec, out)
    print(f"inputs of '{args.task}' -> {path} (inputs_hash {inputs_hash})")
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    """Score an outside method's predictions into a standard result file."""
    from posebench.benchmark.external import score_predictions

    spec = _external_spec(args)
    opt.check_output(spec.out, folder=True)
    path, record = score_predictions(spec, args.predictions, args.method)
    print_metrics(record)
    print(f"result: {path}")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    """Train a prior on a dataset's train split; checkpoints go under --out."""
    from posebench.benchmark import components
    from posebench.cli.console import make_progress
    from posebench.core.device import resolve_device
    from posebench.core.seeding import seed_everything
    from posebench.plugins import get_registry
    from posebench.priors.training_seeds import training_dir

    registry = get_registry()
    registry.get("prior", args.prior)
    dataset_name = args.dataset or DEFAULT_DATASET
    registry.get("dataset", dataset_name)
    seed_everything(args.seed)
    device = resolve_device(opt.device_of(args))
    prior = components.load_prior(
        args.prior, config=args.prior_config, device=str(device), pretrained=False
    )
    dataset = components.load_dataset(dataset_name)
    out_dir = training_dir(args.out, args.prior, dataset_name, args.seed)
    config = {**prior.config, "quick": bool(args.quick), "seed": args.seed}
    progress = make_progress(args.quiet)
    final = prior.fit(dataset, config, out_dir, device, progress, resume=args.resume)
    print(f"checkpoint: {final}")
    return 0


def weight_note(record: ResultRecord) -> str | None:
    """One line on the prior's energy weight in a task that weighs it against data: where it
    came from, and how to tune it when it was not tuned (None for other tasks and for a zero
    weight, the fit without a prior)."""
    from posebench.benchmark import components

    if not components.load_task(record.task["name"]).weighs_prior_energy:
        return None
    weight, source = record.prior.get("energy_weight"), record.prior.get("energy_weight_source")
    if not weight:
        return None
    if source == "tuned":
        key = record.details.get("energy_weight_key", record.task["name"])
        entry = ((record.prior.get("config") or {}).get("energy_weights") or {}).get(key)
        shipped = entry.get("tuned_on") if isinstance(entry, dict) else None
        where = record.prior.get("energy_weight_file") or shipped or "the prior's shipped defaults"
        return f"prior energy weight {weight:g}: tuned on {where}"
    task = record.task
    return (
        f"note: prior energy weight {weight:g} is {source}, not tuned for this task on this "
        f"data; posebench tune --prior {record.prior['name']} --task {task['name']} "
        f"--protocol {task['protocol']} tunes it on the val split"
    )


def reference_table(record: ResultRecord) -> Table | None:
    """The run's reference rows (real data; prior-free baselines) beside its result, on the
    metrics they have, or None when the task has none."""
    from rich.table import Table

    rows = [(f"data: {name}", row) for name, row in record.data_rows.items()]
    rows += [(f"baseline: {name}", row) for name, row in record.baseline_rows.items()]
    if not rows:
        return None
    metrics = [m for m in record.metrics if any(row.get(m) is not None for _, row in rows)]
    table = Table(title="for reference, on the same inputs")
    table.add_column("row")
    for metric in metrics:
        table.add_column(metric)
    table.add_row(
        record.prior["name"], *(_shown(record.metrics.get(m)) for m in metrics), style="bold"
    )
    for label, row in rows:
        table.add_row(label, *(_shown(row.get(m)) for m in metrics))
    return table


def _shown(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.6g}"


def print_metrics(record: ResultRecord) -> None:
    """One run's metrics as a rich table on stdout, with units and which direction is better."""
    from rich.table import Table

    from posebench.cli.console import stdout

    task = record.task
    table = Table(
        title=f"{record.prior['name']} on {task['name']}@{task['protocol']} "
        f"({record.dataset['name']}, {record.body_model['name']}, seed {record.seed}, "
        f"{record.size})"
    )
    for column in ("metric", "value", "unit", "better"):
        table.add_column(column)
    for name, value in record.metrics.items():
        spec = task["metrics"][name]
        shown = _shown(value)
        marker = " (main)" if name == task["main_metric"] else ""
        arrow = "↑ higher" if spec["higher_is_better"] else "↓ lower"
        table.add_row(f"{name}{marker}", shown, spec["unit"], arrow)
    stdout.print(table)
    references = reference_table(record)
    if references is not None:
        stdout.print(references)
    if record.not_supported:
        print(f"note: {record.not_supported}")
