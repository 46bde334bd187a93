"""MediaPipe's BlazePose as posebench's offline 2D detector (the ``detect`` extra).

mediapipe 0.10.14 bundles BlazePose's full model (``model_complexity=1``), so detection runs with
no network; the lite and heavy models are downloaded at first use and are not used here. Images
are detected one by one (``static_image_mode``); a video's frames with BlazePose's tracking,
which follows the person from frame to frame.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

import numpy as np

from posebench.core.errors import InputError

#: The BlazePose model bundled with mediapipe (0: lite and 2: heavy download at first use).
MODEL_COMPLEXITY = 1
INSTALL_HINT = (
    "pip install 'pose-prior-bench[detect]' (or, without mediapipe's own heavy requirements: "
    "pip install --no-deps mediapipe==0.10.14 and the detect extra)"
)


def check_available() -> None:
    """One line saying how to install MediaPipe when it is missing (before any work starts)."""
    try:
        import mediapipe  # noqa: F401
    except ImportError as exc:
        raise InputError(f"detecting keypoints needs MediaPipe: {INSTALL_HINT}") from exc


class BlazePoseDetector:
    """One person's 33 landmarks per picture: ``(33, 3)`` x, y (fractions of the image) and
    visibility, or None when no person is found."""

    def __init__(self, video: bool = False, min_detection_confidence: float = 0.5) -> None:
        check_available()
        import mediapipe
        from mediapipe.python.solutions import pose as mp_pose

        self.version: str = mediapipe.__version__
        self._pose: Any = mp_pose.Pose(
            static_image_mode=not video,
            model_complexity=MODEL_COMPLEXITY,
            min_detection_confidence=min_detection_confidence,
        )

    def landmarks(self, rgb: np.ndarray) -> np.ndarray | None:
        """The landmarks of the most prominent person in ``rgb`` ((H, W, 3) uint8)."""
        result = self._pose.process(np.ascontiguousarray(rgb, dtype=np.uint8))
        if result.pose_landmarks is None:
            return None
        return np.array([(p.x, p.y, p.visibility) for p in result.pose_landmarks.landmark])

    def close(self) -> None:
        self._pose.close()

    def __enter__(self) -> BlazePoseDetector:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
