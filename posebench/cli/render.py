"""``posebench render`` and the ``--render`` option of ``sample`` and ``project``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from posebench.benchmark.spec import DEFAULT_BODY_MODEL
from posebench.cli import options as opt
from posebench.render.settings import MODES, RenderSettings

if TYPE_CHECKING:
    from posebench.render.files import Rendered

#: ``render --frames`` cap: a strip is one picture wide per frame (100 x 384 px is already wide).
MAX_FRAMES = 100


def add_picture_options(parser: argparse.ArgumentParser) -> None:
    """How pictures look: mode, size, camera angles; and which body draws them."""
    group = parser.add_argument_group("pictures")
    group.add_argument("--mode", choices=MODES, default="mesh", help="mesh (default) or skeleton")
    group.add_argument(
        "--size", type=opt.int_range(16, 4096, "render size"), default=384,
        help="picture side in pixels, 16..4096 (384)",
    )  # fmt: skip
    group.add_argument(
        "--azimuth", type=opt.finite_float, default=20.0, help="camera azimuth, degrees (20)"
    )
    group.add_argument(
        "--elevation", type=opt.finite_float, default=10.0, help="camera elevation, degrees (10)"
    )
    opt.add_body_options(group, help=f"body ({DEFAULT_BODY_MODEL})")


def add_render_flag(parser: argparse.ArgumentParser) -> None:
    """``--render [DIR]`` for commands that write a pose file."""
    parser.add_argument(
        "--render",
        nargs="?",
        const="",
        metavar="DIR",
        type=opt.output_folder,
        help="also draw the output as PNG pictures (default folder: <out>_render/)",
    )
    add_picture_options(parser)


def add_parsers(commands: opt.Commands) -> None:
    """Register ``posebench render`` on the subcommand parser."""
    p = commands.add_parser("render", help="draw poses, projection steps or paths as PNG pictures")
    p.add_argument(
        "--input", required=True,
        help="pose, motion, fit-image, AMASS, --save-steps or path npz file",
    )  # fmt: skip
    opt.add_out(p, help="folder for the PNG files", required=True, type=opt.output_folder)
    p.add_argument(
        "--limit", type=opt.positive_int(), default=64, help="at most this many poses/strips (64)"
    )
    p.add_argument(
        "--every", type=opt.positive_int(), default=1, help="every k-th pose or path (1)"
    )
    p.add_argument(
        "--frames", type=opt.int_range(2, MAX_FRAMES), default=6,
        help=f"steps shown per strip, 2..{MAX_FRAMES} (6)",
    )  # fmt: skip
    p.add_argument(
        "--columns", type=opt.positive_int(), default=8, help="pictures per row of grid.png (8)"
    )
    add_picture_options(p)
    opt.add_runtime(p)
    p.set_defaults(handler=cmd_render)


def settings_from(args: argparse.Namespace) -> RenderSettings:
    """The render settings the command line asked for."""
    return RenderSettings(args.mode, args.size, args.azimuth, args.elevation)


def render_to(
    args: argparse.Namespace, source: str | Path, out_dir: str | Path, **options: Any
) -> Rendered:
    """Render ``source`` into ``out_dir`` with the command's settings, body and device."""
    from posebench.benchmark import components
    from posebench.core.device import resolve_device
    from posebench.render.files import render_file

    settings = settings_from(args)  # checks the settings before the body loads
    device = resolve_device(opt.device_of(args))
    body = components.load_body_model(args.body_model, args.body_model_path, str(device))
    return render_file(source, out_dir, body, settings, device=device, **options)


def render_output(args: argparse.Namespace, written: str | Path) -> None:
    """``--render``: draw the file a command just wrote and say where the pictures went."""
    if args.render is None:
        return
    written = Path(written)
    out_dir = Path(args.render) if args.render else written.with_name(f"{written.stem}_render")
    rendered = render_to(args, written, out_dir)
    print(f"{len(rendered.pictures)} pictures -> {out_dir} (all in {rendered.grid.name})")


def cmd_render(args: argparse.Namespace) -> int:
    """``posebench render --input F --out DIR``."""
    rendered = render_to(
        args, args.input, args.out, limit=args.limit, every=args.every, frames=args.frames,
        columns=args.columns,
    )  # fmt: skip
    more = f"; {rendered.left_out} more left out by --limit" if rendered.left_out else ""
    print(
        f"{len(rendered.pictures)} pictures ({args.mode}, {args.size} px) -> {args.out} "
        f"(all in {rendered.grid.name}){more}"
    )
    return 0
