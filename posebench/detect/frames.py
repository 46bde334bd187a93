"""The pictures a detector reads: every image of a folder, or every k-th frame of a video, as RGB
arrays with the name their keypoint file takes (OpenCV, part of the ``detect`` extra)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from posebench.core.errors import InputError
from posebench.datasets.openpose import folder_images


def _cv2() -> Any:
    try:
        import cv2
    except ImportError as exc:
        raise InputError(
            "reading images and videos needs OpenCV: pip install 'pose-prior-bench[detect]'"
        ) from exc
    return cv2


def image_frames(folder: str | Path, limit: int | None = None) -> Iterator[tuple[str, np.ndarray]]:
    """``(name, (H, W, 3) uint8 RGB)`` of each image of ``folder``; ``name`` is its stem."""
    cv2 = _cv2()
    for path in folder_images(folder)[:limit]:
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is None:
            raise InputError(f"{path}: cannot be read as an image; remove it or convert it to PNG")
        yield path.stem, np.ascontiguousarray(bgr[:, :, ::-1])


def video_frames(
    path: str | Path, every: int = 1, limit: int | None = None
) -> Iterator[tuple[str, np.ndarray]]:
    """``(name, (H, W, 3) uint8 RGB)`` of every ``every``-th frame of the video at ``path``
    (at most ``limit``); ``name`` is ``<stem>_<frame index, 12 digits>``, OpenPose's naming."""
    cv2 = _cv2()
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such video file")
    capture = cv2.VideoCapture(str(path))
    try:
        ok, bgr = capture.read()
        if not ok:
            raise InputError(f"{path}: cannot be read as a video (no frame decoded)")
        index = written = 0
        while ok and (limit is None or written < limit):
            if index % every == 0:
                yield f"{path.stem}_{index:012d}", np.ascontiguousarray(bgr[:, :, ::-1])
                written += 1
            ok, bgr = capture.read()
            index += 1
    finally:
        capture.release()


def video_rate(path: str | Path) -> float | None:
    """The video's frame rate (frames/s), None where the container does not say."""
    cv2 = _cv2()
    capture = cv2.VideoCapture(str(path))
    try:
        rate = float(capture.get(cv2.CAP_PROP_FPS))
    finally:
        capture.release()
    return rate if rate > 0 else None
