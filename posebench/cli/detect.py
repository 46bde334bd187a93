"""``posebench detect``: an offline 2D detector over photographs or a video, written as OpenPose
BODY_25 JSON (extra ``detect``). Building the parser imports neither torch nor the detector."""

from __future__ import annotations

import argparse
from pathlib import Path

from posebench.cli import options as opt


def fraction(text: str) -> float:
    """An argparse ``type``: a number in [0, 1]."""
    value = opt.float_range(0.0)(text)
    if value > 1.0:
        raise argparse.ArgumentTypeError(f"must be a number from 0 to 1, not {text!r}")
    return value


def add_parsers(commands: opt.Commands) -> None:
    """Register ``posebench detect`` on the subcommand parser."""
    p = commands.add_parser("detect", help="detect 2D keypoints and write OpenPose BODY_25 JSON")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--images", help="folder of .jpg/.png photographs")
    source.add_argument("--video", help="video file (every --every-th frame)")
    opt.add_out(
        p, help="folder for <name>_keypoints.json (and <name>.png of video frames)",
        required=True, type=opt.output_folder,
    )  # fmt: skip
    p.add_argument(
        "--every", type=opt.positive_int(), default=1, help="video: every k-th frame (1)"
    )
    p.add_argument("--limit", type=opt.positive_int(), help="at most this many pictures")
    p.add_argument(
        "--min-confidence", type=fraction, default=0.0,
        help="keypoints below this confidence are written as not detected (0)",
    )  # fmt: skip
    p.add_argument(
        "--detection-confidence", type=fraction, default=0.5,
        help="the detector's threshold for finding a person, 0..1 (0.5; lower it where people "
        "are missed, e.g. with two people in view)",
    )  # fmt: skip
    p.add_argument(
        "--no-frames", action="store_true",
        help="video: do not write the frames as PNG (fit-image needs them for its pictures)",
    )  # fmt: skip
    opt.add_quiet(p)
    p.set_defaults(handler=cmd_detect)


def cmd_detect(args: argparse.Namespace) -> int:
    """Detect, write the JSON files and detect.json, and say how many pictures had a person."""
    from posebench.cli.console import make_progress
    from posebench.core.errors import InputError
    from posebench.core.version import __version__
    from posebench.datasets.openpose import folder_images
    from posebench.detect import frames
    from posebench.detect.mediapipe_pose import MODEL_COMPLEXITY, BlazePoseDetector
    from posebench.detect.run import write_detections, write_record

    video = args.video is not None
    if video and not Path(args.video).is_file():
        raise InputError(f"{args.video}: no such video file")
    if not video:
        folder_images(args.images)  # a missing or empty folder is told before any work
    pictures = (
        frames.video_frames(args.video, args.every, args.limit)
        if video
        else frames.image_frames(args.images, args.limit)
    )
    with BlazePoseDetector(video, args.detection_confidence) as detector:
        summary = write_detections(
            pictures, detector.landmarks, args.out, save_frames=video and not args.no_frames,
            min_confidence=args.min_confidence, progress=make_progress(args.quiet),
        )  # fmt: skip
    write_record(args.out, {
        "detector": {"name": "mediapipe BlazePose", "version": detector.version,
                     "model_complexity": MODEL_COMPLEXITY, "tracking": video,
                     "detection_confidence": args.detection_confidence},
        "source": {"video": args.video, "every": args.every,
                   "fps": frames.video_rate(args.video)} if video else {"images": args.images},
        "layout": "BODY_25", "min_confidence": args.min_confidence, **summary,
        "posebench_version": __version__,
    })  # fmt: skip
    print(
        f"detect: {summary['frames']} pictures, {summary['with_person']} with a person "
        f"-> {args.out}"
    )
    return 0
