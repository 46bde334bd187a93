"""``posebench detect``: detect one person per picture and write OpenPose BODY_25 JSON.

For every picture ``<name>`` it writes ``<name>_keypoints.json`` (OpenPose's file name and
layout, ``people`` empty when nobody is found), and, for a video with ``save_frames``, the frame
as ``<name>.png`` beside it, so that the output folder is what ``posebench fit-image --images``
reads. ``detect.json`` records the detector, the source and the counts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from posebench.core.atomic import atomic_write_json
from posebench.core.progress import NullProgress, Progress
from posebench.datasets.openpose import write_openpose
from posebench.detect.blazepose import blazepose_to_body25
from posebench.render.png import write_png

#: (picture) -> (33, 3) landmarks or None: the detector's part, replaceable in tests.
Landmarks = Callable[[np.ndarray], "np.ndarray | None"]


def write_detections(
    frames: Iterator[tuple[str, np.ndarray]],
    landmarks: Landmarks,
    out_dir: str | Path,
    save_frames: bool = False,
    min_confidence: float = 0.0,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Detect every frame and write its BODY_25 JSON (and PNG with ``save_frames``) into
    ``out_dir``; returns the counts (frames, with a person) and the names without one."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    progress = progress or NullProgress()
    names: list[str] = []
    missing: list[str] = []
    for name, rgb in progress.track(frames, "detect"):
        found = detect_body25(rgb, landmarks, min_confidence)
        people = [] if found is None else [found]
        write_openpose(out / f"{name}_keypoints.json", people)
        if save_frames:
            write_png(out / f"{name}.png", rgb)
        names.append(name)
        if not people:
            missing.append(name)
    return {"frames": len(names), "with_person": len(names) - len(missing), "no_person": missing}


def detect_body25(
    rgb: np.ndarray, landmarks: Landmarks, min_confidence: float = 0.0
) -> np.ndarray | None:
    """(25, 3) BODY_25 keypoints (pixels, confidence) of the person in ``rgb``, None if none."""
    found = landmarks(rgb)
    if found is None:
        return None
    height, width = rgb.shape[:2]
    return blazepose_to_body25(found, width, height, min_confidence)


def detect_video(
    frames: Iterator[tuple[str, np.ndarray]],
    landmarks: Landmarks,
    min_confidence: float = 0.0,
    progress: Progress | None = None,
) -> np.ndarray:
    """(N, 25, 3) BODY_25 keypoints of every frame; all zeros where nobody was found."""
    progress = progress or NullProgress()
    rows = []
    for _, rgb in progress.track(frames, "detect"):
        found = detect_body25(rgb, landmarks, min_confidence)
        rows.append(np.zeros((25, 3)) if found is None else found)
    return np.stack(rows) if rows else np.zeros((0, 25, 3))


def write_record(out_dir: str | Path, record: dict[str, Any]) -> Path:
    """``detect.json``: what was detected from what, by which detector."""
    path = Path(out_dir) / "detect.json"
    atomic_write_json(path, record)
    return path
