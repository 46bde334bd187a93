"""The options the commands share, each defined once, and how a run's options are resolved.

Command line, then ``--config`` file, then the defaults of :class:`posebench.benchmark.spec.RunSpec`
(``embedded``, ``anny``, ``results``, seed 0, device ``auto``). Importing this module loads no
torch, so ``posebench --help`` stays fast.
"""

from __future__ import annotations

import argparse
import math
import sys
import textwrap
from collections.abc import Callable
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
from posebench.core.schema import Rule, check_config, integer, items, path, text

EXIT_USER_ERROR = 2

#: Options a ``--config`` file may set for run, tune, export and score, with their defaults.
RUN_DEFAULTS: dict[str, Any] = {
    f.name: None if f.name in ("prior", "task") else f.default
    for f in fields(RunSpec)
    if f.name != "dataset_options"
}
#: The same for ``posebench suite``, which takes lists of priors, tasks and seeds instead.
SUITE_DEFAULTS: dict[str, Any] = {
    **{
        k: v
        for k, v in RUN_DEFAULTS.items()
        if k not in ("prior", "task", "checkpoint", "seed", "training_seed")
    },
    "suite": "default",
    "priors": None,
    "tasks": None,
    "seeds": None,
    "train_seeds": None,
    "force": False,
}

#: Seeds are 0 <= seed < 2**63: torch and numpy take them, and results record them as JSON.
MAX_SEED = 2**63 - 1
#: A seed in a config file (what ``--seed`` takes).
SEED_RULE = integer(0, MAX_SEED)
_CONFIG = Rule(kinds=("path", "mapping"), nullable=True)  # a YAML file, or the keys themselves
#: Types and ranges of what a ``--config`` file sets, beyond those the defaults imply
#: (:mod:`posebench.core.schema`).
OPTION_SCHEMA: dict[str, Rule] = {
    "prior": text(),
    "task": text(),
    "protocol": text(),
    "body_model_path": path(),
    "checkpoint": path(),
    "prior_config": _CONFIG,
    "task_config": _CONFIG,
    "amass_dir": path(),
    "out": path(),
    "seed": SEED_RULE,
    "training_seed": integer(0, MAX_SEED, nullable=True),
    "train_out": path(),
    "priors": items(text()),
    "tasks": items(text()),
    "seeds": items(SEED_RULE),
    "train_seeds": items(SEED_RULE),
}


class OneLineErrorParser(argparse.ArgumentParser):
    """argparse whose usage errors are one line and exit status 2; ``help_extra``, when set,
    computes more help text at the moment ``--help`` prints (e.g. the registered tasks, which
    building the parser must not import)."""

    help_extra: Callable[[], str] | None = None

    def format_help(self) -> str:
        text = super().format_help()
        return f"{text}\n{self.help_extra()}\n" if self.help_extra else text

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
    """Required subcommands of ``parser`` whose usage errors are one line too, each with the
    description and examples of :mod:`posebench.cli.help_text`."""
    commands = parser.add_subparsers(dest=dest, metavar=metavar, parser_class=OneLineErrorParser)
    commands.required = True
    return _DocumentedCommands(commands, parser.prog)


class _DocumentedCommands:
    """Adds subcommands with their entry of :data:`posebench.cli.help_text.COMMANDS`."""

    def __init__(self, commands: Any, prog: str) -> None:
        self._commands, self._prog = commands, prog

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser:
        from posebench.cli.help_text import COMMANDS

        doc = COMMANDS.get(f"{self._prog} {name}")
        if doc is not None:
            kwargs.setdefault("description", textwrap.fill(doc.description, 88))
            kwargs.setdefault("epilog", doc.epilog())
            kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        parser: argparse.ArgumentParser = self._commands.add_parser(name, **kwargs)
        return parser


# --- value types ------------------------------------------------------------------------------


def csv_list(text: str) -> list[str]:
    """``a,b,,c`` -> ``["a", "b", "c"]``."""
    return [part.strip() for part in text.split(",") if part.strip()]


def int_range(low: int, high: int | None = None, noun: str = "") -> Callable[[str], int]:
    """An argparse ``type``: an integer in ``low..high`` (no upper end when ``high`` is None)."""
    span = f"at least {low}" if high is None else f"{low}..{high}"
    prefix = f"{noun} " if noun else ""

    def parse(text: str) -> int:
        """``text`` as an integer in range, else argparse's one-line usage error."""
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"{prefix}must be {span}, not {text!r}")
        return value

    return parse


def positive_int(max: int | None = None, noun: str = "") -> Callable[[str], int]:
    """An argparse ``type``: an integer from 1 to ``max``."""
    return int_range(1, max, noun)


def non_negative_int(max: int | None = None, noun: str = "") -> Callable[[str], int]:
    """An argparse ``type``: an integer from 0 to ``max``."""
    return int_range(0, max, noun)


#: ``--seed``: 0 <= seed < 2**63 (a bigger one overflows torch's generator).
seed_type = int_range(0, MAX_SEED, "a seed")


def float_range(low: float, inclusive: bool = True) -> Callable[[str], float]:
    """An argparse ``type``: a finite number above ``low`` (or equal to it when ``inclusive``)."""
    span = f"at least {low:g}" if inclusive else f"above {low:g}"

    def parse(text: str) -> float:
        """``text`` as a finite number in range (no NaN or infinity), else a usage error."""
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or value < low or (value == low and not inclusive):
            raise argparse.ArgumentTypeError(f"must be a finite number {span}, not {text!r}")
        return value

    return parse


#: A finite number >= 0 (a tolerance).
non_negative_float = float_range(0.0)
#: A finite number > 0 (a step size).
finite_positive_float = float_range(0.0, inclusive=False)


def finite_float(text: str) -> float:
    """An argparse ``type``: any finite number (an angle); NaN and infinity are usage errors."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, not {text!r}")
    return value


def seed_list(text: str) -> list[int]:
    """``0,1,2`` -> ``[0, 1, 2]``, each a valid seed; a usage error for anything else."""
    try:
        seeds = [int(part) for part in csv_list(text)]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"seeds must be integers separated by commas, not {text!r}"
        ) from None
    for seed in seeds:
        if not 0 <= seed <= MAX_SEED:
            raise argparse.ArgumentTypeError(
                f"seeds must be 0..{MAX_SEED}, not {seed} (in {text!r})"
            )
    return seeds


def float_list(text: str) -> list[float]:
    """``0,1e-3,10`` -> numbers; a usage error for anything else."""
    try:
        return [float(part) for part in csv_list(text)]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected numbers separated by commas, not {text!r}"
        ) from None


# --- output paths -----------------------------------------------------------------------------


def _file_in_the_way(path: Path) -> Path | None:
    """The regular file among ``path``'s parents that stops its folder being made, if any."""
    for parent in path.parents:
        if parent.exists():  # the deepest existing parent: a folder, or the file in the way
            return None if parent.is_dir() else parent
    return None


def output_problem(path: str | Path, folder: bool = False) -> str | None:
    """Why ``path`` cannot be written as a file (or, with ``folder``, made as a folder)."""
    path = Path(path)
    if not folder and path.is_dir():
        return f"'{path}' is a folder; name a file to write (e.g. '{path / 'out.npz'}')"
    if folder and path.exists() and not path.is_dir():
        return f"'{path}' is a file, not a folder; name a folder to write into"
    blocker = _file_in_the_way(path)
    if blocker is not None:
        return f"cannot write '{path}': '{blocker}' is a file, not a folder"
    return None


def check_output(path: str | Path, option: str = "--out", folder: bool = False) -> None:
    """Refuse, before any work, an output file that is a folder (a folder that is a file), or one
    whose folder cannot be made; for outputs a --config file may set too."""
    problem = output_problem(path, folder)
    if problem is not None:
        raise ConfigError(f"{option}: {problem}")


def output_file(text: str) -> str:
    """An argparse ``type`` for a file a command writes: checked before the work, kept as text."""
    problem = output_problem(text)
    if problem is not None:
        raise argparse.ArgumentTypeError(problem)
    return text


def output_folder(text: str) -> str:
    """An argparse ``type`` for a folder a command writes into: not a file, nor under one."""
    problem = output_problem(text, folder=True)
    if problem is not None:
        raise argparse.ArgumentTypeError(problem)
    return text


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
    parser.add_argument("--seed", type=seed_type, default=default, help=help)


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


def add_training_seed(parser: Container) -> None:
    """``--training-seed`` and ``--train-out``: score the prior's model of one training seed."""
    parser.add_argument(
        "--training-seed", dest="training_seed", type=seed_type, metavar="T",
        help="score the model trained with seed T (the shipped one, or posebench train --seed T "
        "--out under --train-out) instead of --checkpoint",
    )  # fmt: skip
    parser.add_argument(
        "--train-out", dest="train_out", type=output_folder, metavar="DIR",
        help=f"the --out of that posebench train run (default {DEFAULT_OUT})",
    )  # fmt: skip


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


def add_common(parser: Container, seed: bool = True, out_help: str | None = None) -> None:
    """Device, seed, output (a folder unless ``out_help`` says otherwise), --config and --quiet
    of a benchmark command."""
    add_device(parser)
    if seed:
        add_seed(parser)
    add_out(parser, help=out_help or f"folder for results and checkpoints (default {DEFAULT_OUT}/)")
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
    """Command line, then ``--config`` file, then defaults; unknown config keys are errors, and
    so are values of the wrong type or range (:data:`OPTION_SCHEMA`)."""
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
        check_config(from_file, defaults, OPTION_SCHEMA, f"config file {args.config}")
    options = {}
    for key, default in defaults.items():
        value = getattr(args, key, None)
        options[key] = value if value is not None else from_file.get(key, default)
    return options
