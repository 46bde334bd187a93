"""``posebench view --input F [F ...]``: the command line of the browser viewer (extra ``viz``).

Importing this module costs nothing: viser, the body model and the prior load in the handler.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING

from posebench.benchmark.spec import DEFAULT_BODY_MODEL
from posebench.cli import options as opt
from posebench.core.errors import ConfigError

if TYPE_CHECKING:
    from posebench.viz.viewer import Viewer

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def add_parsers(commands: opt.Commands) -> None:
    """Register ``view`` on the ``posebench`` subcommand parser."""
    p = commands.add_parser(
        "view", help="watch poses, projection steps and motion in the browser (extra viz)"
    )
    p.add_argument(
        "--input", nargs="+", required=True, metavar="F",
        help="pose, --save-steps, motion or AMASS npz files, or a dataset name (embedded); "
        "several are shown side by side on one frame slider",
    )  # fmt: skip
    opt.add_prior(p, default="posendf",
                  help="prior whose distance is shown (default posendf; none shows 0)")  # fmt: skip
    opt.add_checkpoint(p)
    opt.add_prior_config(p, help="YAML overriding prior config")
    opt.add_body_options(p, help=f"{DEFAULT_BODY_MODEL} or smpl")
    p.add_argument("--split", default="test", help="split of a dataset input (default test)")
    p.add_argument("--sequence", type=int, default=0, help="which motion of that split (0)")
    p.add_argument("--up", choices=("auto", "y", "z"), default="auto",
                   help="up axis of the inputs' world (auto: z for AMASS, the camera's "
                   "y down for fit-image files, else y)")  # fmt: skip
    p.add_argument("--max-bodies", dest="max_bodies", type=int, default=8,
                   help="poses of a steps file shown side by side (default 8)")  # fmt: skip
    p.add_argument(
        "--fps", type=float, help="playback rate (default: the file's, else 30; steps 5)"
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8080, help="port (default 8080; 0 = any free one)")
    p.add_argument(
        "--share", action="store_true",
        help="let the viewer's share button open a public link (share.viser.studio) and accept "
        "pages of any origin; off by default",
    )  # fmt: skip
    opt.add_device(p)
    p.set_defaults(handler=cmd_view)


def cmd_view(args: argparse.Namespace) -> int:
    """Load the inputs, start the viewer, print its URL and serve until Ctrl-C."""
    viewer = build_viewer(args)
    if args.host not in LOOPBACK:
        sys.stderr.write(
            f"posebench: warning: --host {args.host} lets other machines see the viewer\n"
        )
    if args.share:
        sys.stderr.write(
            "posebench: warning: --share exposes the viewer publicly: its share button opens a "
            "public share.viser.studio link, and pages of any origin may connect and drive it\n"
        )
    print(f"posebench view: open {viewer.url} (Ctrl-C stops)", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print("posebench view: stopped")
    finally:
        viewer.stop()
    return 0


def build_viewer(args: argparse.Namespace) -> Viewer:
    """The running viewer for parsed ``view`` options, without blocking (tests use this)."""
    from posebench.benchmark import components
    from posebench.core.device import resolve_device
    from posebench.plugins import get_registry
    from posebench.viz.frames import build_scene
    from posebench.viz.inputs import read_input
    from posebench.viz.viewer import check_bindable, import_viser, start_viewer

    if args.fps is not None and not args.fps > 0:
        raise ConfigError(f"--fps must be positive, not {args.fps}")
    if args.max_bodies < 1:
        raise ConfigError(f"--max-bodies must be at least 1, not {args.max_bodies}")
    inputs = [
        read_input(spec, args.split, args.sequence, args.up, args.max_bodies) for spec in args.input
    ]
    get_registry().get("prior", args.prior)  # quick one-line errors before any slow loading
    get_registry().get("body_model", args.body_model)
    import_viser()
    check_bindable(args.host, args.port)
    device = str(resolve_device(opt.device_of(args)))
    body = components.load_body_model(args.body_model, args.body_model_path, device)
    prior = components.load_prior(args.prior, args.checkpoint, args.prior_config, device)
    scene = build_scene(inputs, body, prior, fps=args.fps)
    for view_input in inputs:
        frames = max(len(b) for b in view_input.bodies)
        count = len(view_input.bodies)
        sys.stderr.write(
            f"posebench view: {view_input.name}: {count} bod{'y' if count == 1 else 'ies'}, "
            f"{frames} {view_input.unit}{'s' if frames != 1 else ''}\n"
        )
    return start_viewer(scene, args.host, args.port, share=args.share)
