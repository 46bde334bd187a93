"""Build the ``image_fit`` multi-view protocol's file from the pose2sim demo recording.

Build-time only (``posebench data build-multiview --sources DIR``); the file ships with posebench
and :mod:`posebench.datasets.multiview` reads it. The steps, each recorded in the file's metadata:

1. Read the four videos and the QTM calibration out of the pinned pose2sim wheel (BSD-3).
2. Detect BODY_25 keypoints in every frame of every view (the caller's detector: ``posebench
   detect``'s BlazePose; the detections are stored as detected, in distorted pixels).
3. Synchronise: the demo's cameras were not started together. Each camera's whole-frame offset
   against the first is the one that minimises the median triangulation reprojection error
   (:func:`synchronise`); the frames all four views share are kept.
4. Triangulate every frame from the undistorted keypoints (:func:`posebench.body.multiview.
   triangulate`: confidence-weighted DLT, views that disagree dropped) and keep the frames whose
   reference is good enough (:data:`MAX_FRAME_ERROR_PX`, :data:`MIN_KEYPOINTS`).
5. Cut one picture per view around the person at a few frames, downscaled, for the
   leaderboard's pictures of real fits.

The reference is triangulated detector output, not motion capture: its accuracy is the
detector's and the calibration's, which the reprojection errors in the file state.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from posebench.body.keypoints import BODY25_NAMES
from posebench.body.multiview import CalibratedCamera, triangulate
from posebench.core.errors import InputError
from posebench.core.npzio import write_reproducible_npz
from posebench.core.progress import NullProgress, Progress
from posebench.core.version import __version__
from posebench.datasets.multiview import FORMAT_VERSION
from posebench.rebuild.catalogue import Package
from posebench.rebuild.packages import check_sha256, read_members
from posebench.rebuild.qualisys import parse_qca


@dataclass(frozen=True)
class DemoPackage:
    """The registry package the recording comes from (pinned by sha256) and what is in it."""

    package: Package
    calibration: str
    videos: tuple[str, ...]
    fps: float


POSE2SIM = DemoPackage(
    package=Package(
        name="pose2sim",
        version="0.10.49",
        registry="PyPI (wheel)",
        file="pose2sim-0.10.49-py3-none-any.whl",
        sha256="403e0dc4065898ba6a595e72a8970950310979253d60e24c2e00b16b36bf21e1",
        get_it="pip download --no-deps pose2sim==0.10.49",
        licence="BSD-3-Clause, Copyright (c) 2022, perfanalytics (pose2sim's LICENSE)",
    ),
    calibration="Pose2Sim/Demo_SinglePerson/calibration/Calib.qca.txt",
    videos=tuple(f"Pose2Sim/Demo_SinglePerson/videos/cam0{i}.mp4" for i in range(1, 5)),
    fps=60.0,
)

#: Keypoints a view reports below this confidence are not used to triangulate (pose2sim's own
#: threshold for its demo).
MIN_CONFIDENCE = 0.3
#: A view whose reprojection stays farther than this (ideal-image pixels) is dropped from a
#: keypoint (pose2sim's demo threshold); a keypoint no two views agree on is not triangulated.
MAX_KEYPOINT_ERROR_PX = 15.0
#: A frame is kept when its mean reprojection error is at most this ...
MAX_FRAME_ERROR_PX = 10.0
#: ... and at least this many of its BODY_25 keypoints were triangulated.
MIN_KEYPOINTS = 15
#: Offsets searched per camera, in frames either way.
SYNC_SEARCH = 15
#: Pictures: frames of the synchronised sequence (as shares of it) and their size.
PICTURE_AT = (0.25, 0.6)
PICTURE_HEIGHT = 256
PICTURE_MARGIN = 1.4  # box height / the person's tallest detected extent in the views


#: Reads one video's frames: (video file) -> iterator of (H, W, 3) uint8 RGB arrays.
FrameReader = Callable[[Path], Any]
#: Detects one video: (video file) -> (frames, 25, 3) BODY_25 keypoints in pixels.
VideoDetector = Callable[[Path], np.ndarray]


def check_sources(sources: str | Path, demo: DemoPackage = POSE2SIM) -> Path:
    """The pinned package file in ``sources``; one line saying how to get it otherwise."""
    pinned = demo.package
    wheel = Path(sources) / pinned.file
    if not wheel.is_file():
        raise InputError(
            f"{wheel} does not exist; download it into {sources} with: {pinned.get_it}"
        )
    check_sha256(wheel, pinned.sha256)
    return wheel


def extract_demo(
    sources: str | Path, out: Path, demo: DemoPackage = POSE2SIM
) -> tuple[list[CalibratedCamera], list[Path]]:
    """The calibration and the videos of the pinned ``demo`` package in ``sources`` (videos
    written into ``out``)."""
    wheel = check_sources(sources, demo)
    members = read_members(wheel, (demo.calibration, *demo.videos))
    try:
        text = members[demo.calibration].decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{wheel}:{demo.calibration} is not a text file") from None
    cameras = parse_qca(text, f"{wheel}:{demo.calibration}")
    if len(cameras) != len(demo.videos):
        raise InputError(
            f"{wheel}: {len(cameras)} cameras calibrated for {len(demo.videos)} videos"
        )
    videos = []
    for member in demo.videos:
        path = out / Path(member).name
        path.write_bytes(members[member])
        videos.append(path)
    return cameras, videos


def undistort_all(cameras: Sequence[CalibratedCamera], keypoints: np.ndarray) -> np.ndarray:
    """(V, N, 25, 3) detections -> the same in each view's ideal image (zeros stay zeros)."""
    return np.stack([camera.ideal_keypoints(keypoints[v]) for v, camera in enumerate(cameras)])


def _aligned(ideal: np.ndarray, offsets: Sequence[int]) -> np.ndarray:
    """(V, F, 25, 3): view v's frames shifted by offsets[v], cut to the frames all views have
    (none when fewer than two)."""
    numbers = frame_numbers(offsets, ideal.shape[1])
    if len(numbers) < 2:
        return ideal[:, :0]
    return np.stack([ideal[v, numbers[:, v]] for v in range(len(offsets))])


def _median_error(cameras: Sequence[CalibratedCamera], aligned: np.ndarray) -> float:
    """Median over every other frame of its median reprojection error (no view dropped)."""
    errors = []
    for frame in range(0, aligned.shape[1], 2):
        result = triangulate(cameras, aligned[:, frame], MIN_CONFIDENCE, math.inf)
        if result.used.any():
            errors.append(float(np.median(result.error_px[result.used])))
    return float(np.median(errors)) if errors else math.inf


def synchronise(cameras: Sequence[CalibratedCamera], ideal: np.ndarray) -> list[int]:
    """Whole-frame offsets of each view against the first, by coordinate descent (two passes
    over the views, each offset in ±:data:`SYNC_SEARCH`) on the median reprojection error."""
    offsets = [0] * len(cameras)
    for _ in range(2):
        for view in range(1, len(cameras)):
            trials = {
                o: _median_error(
                    cameras, _aligned(ideal, [*offsets[:view], o, *offsets[view + 1 :]])
                )
                for o in range(-SYNC_SEARCH, SYNC_SEARCH + 1)
            }
            offsets[view] = min(trials, key=lambda o: (trials[o], abs(o)))
    return offsets


def frame_numbers(offsets: Sequence[int], frames: int) -> np.ndarray:
    """(F, V) the video frame each view contributes to each synchronised frame: frame t of the
    first view with frame t + offsets[v] of view v, for every t all views have."""
    start = max(0, *(-o for o in offsets))
    stop = min(frames, *(frames - o for o in offsets))
    times = np.arange(start, max(start, stop), dtype=np.int64)
    return times[:, None] + np.asarray(offsets, dtype=np.int64)[None]


def picture_box(keypoints: np.ndarray, height: float) -> np.ndarray:
    """[x0, y0, x1, y1] of a 1:2 (width:height) box of ``height`` pixels centred on the
    detected keypoints of one view."""
    found = keypoints[keypoints[:, 2] > 0, :2]
    centre = 0.5 * (found.min(axis=0) + found.max(axis=0))
    half = np.array([height / 4.0, height / 2.0])
    return np.round(np.concatenate([centre - half, centre + half])).astype(np.int64)


def cut_picture(rgb: np.ndarray, box: np.ndarray, factor: int) -> np.ndarray:
    """The ``box`` of ``rgb`` (grey outside the image), shrunk by ``factor`` by block means."""
    x0, y0, x1, y1 = (int(v) for v in box)
    canvas = np.full((y1 - y0, x1 - x0, 3), 128, dtype=np.float64)
    height, width = rgb.shape[:2]
    sx0, sy0, sx1, sy1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
    canvas[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = rgb[sy0:sy1, sx0:sx1]
    h, w = canvas.shape[0] // factor, canvas.shape[1] // factor
    blocks = canvas[: h * factor, : w * factor].reshape(h, factor, w, factor, 3)
    return np.round(blocks.mean(axis=(1, 3))).astype(np.uint8)


def _pictures(
    videos: Sequence[Path],
    keypoints: np.ndarray,
    numbers: np.ndarray,
    kept: np.ndarray,
    read_frames: FrameReader,
) -> dict[str, np.ndarray]:
    """Pictures of the views at a few kept frames: (P, V, H, H/2, 3) uint8 and their boxes."""
    kept_frames = np.flatnonzero(kept)
    chosen = sorted({int(kept_frames[int(share * (len(kept_frames) - 1))]) for share in PICTURE_AT})
    extent = max(
        float(np.ptp(keypoints[v, numbers[t, v]][keypoints[v, numbers[t, v], :, 2] > 0, 1]))
        for t in chosen
        for v in range(len(videos))
    )
    factor = max(1, math.ceil(PICTURE_MARGIN * extent / PICTURE_HEIGHT))
    size = factor * PICTURE_HEIGHT
    views = len(videos)
    wanted = {(v, int(numbers[t, v])): i for i, t in enumerate(chosen) for v in range(views)}
    pictures = np.zeros((len(chosen), views, PICTURE_HEIGHT, PICTURE_HEIGHT // 2, 3), np.uint8)
    boxes = np.zeros((len(chosen), views, 4), dtype=np.int64)
    for view, video in enumerate(videos):
        for number, rgb in enumerate(read_frames(video)):
            if (view, number) not in wanted:
                continue
            index = wanted[(view, number)]
            boxes[index, view] = picture_box(keypoints[view, number], size)
            pictures[index, view] = cut_picture(rgb, boxes[index, view], factor)
    return {
        "picture_frames": np.array(chosen, dtype=np.int64),
        "picture_boxes": boxes,
        "pictures": pictures,
    }


def build_multiview(
    sources: str | Path,
    out_path: Path,
    detect_video: VideoDetector,
    read_frames: FrameReader,
    detector: dict[str, Any],
    work_dir: Path,
    progress: Progress | None = None,
    demo: DemoPackage = POSE2SIM,
) -> dict[str, Any]:
    """Build the protocol file at ``out_path`` (see the module docstring); return its summary."""
    progress = progress or NullProgress()
    cameras, videos = extract_demo(sources, work_dir, demo)
    detected = [detect_video(video) for video in progress.track(videos, "detect")]
    frames = min(len(d) for d in detected)
    keypoints = np.stack([d[:frames] for d in detected])  # (V, N, 25, 3)
    ideal = undistort_all(cameras, keypoints)
    offsets = synchronise(cameras, ideal)
    numbers = frame_numbers(offsets, frames)
    synced = _aligned(ideal, offsets)
    results = [
        triangulate(cameras, synced[:, t], MIN_CONFIDENCE, MAX_KEYPOINT_ERROR_PX)
        for t in range(synced.shape[1])
    ]
    frame_error = np.array([r.mean_error_px() for r in results])
    triangulated = np.array([int(r.valid.sum()) for r in results])
    kept = (frame_error <= MAX_FRAME_ERROR_PX) & (triangulated >= MIN_KEYPOINTS)
    if not kept.any():
        raise InputError("no frame of the demo could be triangulated; was the detector changed?")
    arrays: dict[str, np.ndarray] = {
        "keypoints": np.stack([keypoints[v, numbers[:, v]] for v in range(len(cameras))], axis=1),
        "video_frames": numbers,
        "points3d": np.stack([r.points for r in results]),
        "used": np.stack([r.used for r in results]),
        "reprojection_error_px": np.stack([r.error_px for r in results]),
        "kept": kept,
    }
    for key in cameras[0].to_arrays():
        arrays[f"camera_{key}"] = np.stack([c.to_arrays()[key] for c in cameras])
    arrays.update(_pictures(videos, keypoints, numbers, kept, read_frames))
    summary = {
        "format_version": FORMAT_VERSION,
        "posebench_version": __version__,
        "source": {
            "package": demo.package.file,
            "sha256": demo.package.sha256,
            "download": demo.package.get_it,
            "licence": demo.package.licence,
            "videos": list(demo.videos),
            "calibration": demo.calibration,
            "fps": demo.fps,
        },
        "cameras": [c.name for c in cameras],
        "keypoints": list(BODY25_NAMES),
        "detector": detector,
        "sync": {
            "offsets": offsets,
            "method": "whole-frame offset per camera minimising the median reprojection error",
        },
        "triangulation": {
            "min_confidence": MIN_CONFIDENCE,
            "max_keypoint_error_px": MAX_KEYPOINT_ERROR_PX,
            "max_frame_error_px": MAX_FRAME_ERROR_PX,
            "min_keypoints": MIN_KEYPOINTS,
            "frames": len(kept),
            "kept": int(kept.sum()),
            "mean_error_px_kept": float(frame_error[kept].mean()),
        },
    }
    write_reproducible_npz(
        out_path, {"meta": np.asarray(json.dumps(summary, sort_keys=True)), **arrays}
    )
    return summary
