"""The options the commands share, each defined once, and how a run's options are resolved.

Command line, then ``--config`` file, then the defaults of :class:`posebench.benchmark.spec.RunSpec`
(``embedded``, ``anny``, ``results``, seed 0, device ``auto``). Importing this module loads no
torch, so ``posebench --help`` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import fields
from pathlib import Path
from typing import Any, NoReturn, Protocol

from posebench.benchmark.spec import (
    DEFAULT_BODY_MODEL,
    DEFAULT_DATASET,
    DEFAULT_DEVICE,
    DEFAULT_OUT,
    DEFAULT_SEED,
    RunSpec,
)
from posebench.core.errors import ConfigError, suggest

EXIT_USER_ERROR = 2

#: Options a ``--config`` file may set for run, tune, export and score, with their defaults.
RUN_DEFAULTS: dict[str, Any] = {
    f.name: None if f.name in ("prior", "task") else f.default
    for f in fields(RunSpec)
    if f.name != "dataset_options"
}
#: The same for ``posebench suite``, which takes lists of priors, tasks and seeds instead.
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


class Container(Protocol):
    """A parser or an argument group: anything options are added to."""

    def add_argument(self, *args: Any, **kwargs: Any) -> argparse.Action: ...


class Commands(Protocol):
    """The subcommand registry of a parser (what ``add_subparsers`` returns)."""

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser: ...


def subcommands(parser: argparse.ArgumentParser, dest: str, metavar: str) -> Commands:
    """Required subcommands of ``parser`` whose usage errors are one line too."""
    commands = parser.add_subparsers(dest=dest, metavar=metavar, parser_class=OneLineErrorParser)
    commands.required = True
    return commands


# --- value types ------------------------------------------------------------------------------


def csv_list(text: str) -> list[str]:
    """``a,b,,c`` -> ``["a", "b", "c"]``."""
    return [part.strip() for part in text.split(",") if part.strip()]


def seed_list(text: str) -> list[int]:
    """``0,1,2`` -> ``[0, 1, 2]``; a usage error for anything else."""
    try:
        return [int(part) for part in csv_list(text)]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"seeds must be integers separated by commas, not {text!r}"
        ) from None


def float_list(text: str) -> list[float]:
    """``0,1e-3,10`` -> numbers; a usage error for anything else."""
    try:
        return [float(part) for part in csv_list(text)]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected numbers separated by commas, not {text!r}"
        ) from None


# --- single options ---------------------------------------------------------------------------


def add_device(parser: Container) -> None:
    """``--device``: auto, cpu, cuda or cuda:N (None when not given)."""
    parser.add_argument("--device", help="auto (CUDA when present), cpu, cuda or cuda:N")


def device_of(args: argparse.Namespace) -> str:
    """The ``--device`` a command without --config was given, else the default (auto)."""
    return args.device or DEFAULT_DEVICE


def add_seed(
    parser: Container, help: str = "seed for every random stream (default 0)",
    default: int | None = None,
) -> None:  # fmt: skip
    """``--seed``; None when not given unless a ``default`` is set (commands without --config)."""
    parser.add_argument("--seed", type=int, default=default, help=help)


def add_out(
    parser: Container, help: str, required: bool = False, default: Any = None, type: Any = None
) -> None:
    """``--out``: where a command writes; each command says what in its help."""
    parser.add_argument("--out", required=required, default=default, type=type, help=help)


def add_quiet(parser: Container) -> None:
    """``--quiet``: no progress bars (and no status lines)."""
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def add_quick(parser: Container, help: str = "CI-sized work", unset: bool | None = None) -> None:
    """``--quick``: CI-sized work. ``unset`` is its value when not given: None lets a --config
    file set it; commands without --config use False."""
    action = "store_const" if unset is None else "store_true"
    kwargs = {"const": True} if unset is None else {}
    parser.add_argument("--quick", action=action, help=help, **kwargs)


def add_config(parser: Container) -> None:
    """``--config``: a YAML file setting any of the command's options."""
    parser.add_argument("--config", type=Path, help="YAML file setting any of these options")


def add_prior(
    parser: Container, help: str = "prior name (see 'posebench plugins')", required: bool = False,
    default: str | None = None,
) -> None:  # fmt: skip
    """``--prior``: a registered prior's name."""
    parser.add_argument("--prior", required=required, default=default, help=help)


def add_task(parser: Container, required: bool = False) -> None:
    """``--task``: a registered task's name."""
    parser.add_argument("--task", required=required, help="task name")


def add_checkpoint(parser: Container) -> None:
    """``--checkpoint``: the prior's weights (default: the shipped ones)."""
    parser.add_argument("--checkpoint", help="prior checkpoint (default: the shipped one)")


def add_prior_config(parser: Container, help: str = "YAML overriding prior config keys") -> None:
    """``--prior-config``: YAML overriding keys of the prior's config."""
    parser.add_argument("--prior-config", dest="prior_config", help=help)


def add_task_config(parser: Container, help: str = "YAML overriding task config keys") -> None:
    """``--task-config``: YAML overriding keys of the task's config."""
    parser.add_argument("--task-config", dest="task_config", help=help)


def add_protocol(parser: Container) -> None:
    """``--protocol``: which of the task's protocols."""
    parser.add_argument("--protocol", help="task protocol (default: the task's first)")


def add_dataset(
    parser: Container, help: str = f"dataset name (default {DEFAULT_DATASET})",
    default: str | None = None,
) -> None:  # fmt: skip
    """``--dataset``: a registered dataset's name."""
    parser.add_argument("--dataset", default=default, help=help)


def add_amass_dir(
    parser: Container,
    help: str = "prepared AMASS folder for --dataset amass (default: $POSEBENCH_AMASS_DIR)",
    required: bool = False,
) -> None:
    """``--amass-dir``: the AMASS folder (prepared, or the download for ``data prepare``)."""
    parser.add_argument("--amass-dir", dest="amass_dir", required=required, help=help)


def add_body_model(
    parser: Container, help: str = f"body model: {DEFAULT_BODY_MODEL} or smpl",
    default: str | None = None,
) -> None:  # fmt: skip
    """``--body-model`` and ``--body-model-path`` (the folder of SMPL files)."""
    parser.add_argument("--body-model", dest="body_model", default=default, help=help)
    parser.add_argument("--body-model-path", dest="body_model_path", help="folder of SMPL files")


# --- groups -----------------------------------------------------------------------------------


def add_task_options(parser: Container) -> None:
    """``--protocol`` and ``--task-config``."""
    add_protocol(parser)
    add_task_config(parser)


def add_components(parser: Container) -> None:
    """Dataset, body model, prior config, size and the AMASS folder of a benchmark run."""
    add_dataset(parser)
    add_body_model(parser)
    add_prior_config(parser)
    add_quick(parser)
    add_amass_dir(parser)


def add_common(parser: Container, seed: bool = True) -> None:
    """Device, seed, output folder, --config and --quiet of a benchmark command."""
    add_device(parser)
    if seed:
        add_seed(parser)
    add_out(parser, help=f"folder for results and checkpoints (default {DEFAULT_OUT}/)")
    add_config(parser)
    add_quiet(parser)


def add_runtime(parser: Container) -> None:
    """Device, seed (default 0) and --quiet of the pose commands."""
    add_device(parser)
    add_seed(parser, help=f"seed (default {DEFAULT_SEED})", default=DEFAULT_SEED)
    add_quiet(parser)


def add_body_options(parser: Container, help: str = f"body model ({DEFAULT_BODY_MODEL})") -> None:
    """``--body-model`` (default anny) and ``--body-model-path`` of the pose commands."""
    add_body_model(parser, help=help, default=DEFAULT_BODY_MODEL)


# --- resolution -------------------------------------------------------------------------------


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
