"""BlazePose's 33 landmarks as OpenPose BODY_25 keypoints (pure numpy; no detector needed).

BlazePose (MediaPipe Pose) gives each landmark x and y as fractions of the image width and height
and a visibility in [0, 1]. BODY_25 wants pixels and a confidence, 0 meaning "not detected":

* the 21 points both models name are copied (nose, eyes, ears, shoulders, elbows, wrists, hips,
  knees, ankles, heels; BlazePose's foot index is the big toe);
* Neck and MidHip, which BlazePose does not have, are the midpoints of the shoulders and of the
  hips, with the smaller of the two confidences (OpenPose's own neck sits there too);
* the small toes have no BlazePose counterpart: confidence 0 at (0, 0), as OpenPose writes a
  point it did not find;
* a landmark whose visibility is below ``min_confidence`` is written as not detected.
"""

from __future__ import annotations

import numpy as np

from posebench.body.keypoints import BODY25_NAMES
from posebench.core.errors import InputError

#: BlazePose landmark names, in the model's output order.
BLAZEPOSE_NAMES: tuple[str, ...] = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye",
    "right_eye_outer", "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder",
    "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_pinky",
    "right_pinky", "left_index", "right_index", "left_thumb", "right_thumb", "left_hip",
    "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle", "left_heel",
    "right_heel", "left_foot_index", "right_foot_index",
)  # fmt: skip

#: BODY_25 name -> the BlazePose landmark at the same place.
COPIED: dict[str, str] = {
    "Nose": "nose", "RShoulder": "right_shoulder", "RElbow": "right_elbow",
    "RWrist": "right_wrist", "LShoulder": "left_shoulder", "LElbow": "left_elbow",
    "LWrist": "left_wrist", "RHip": "right_hip", "RKnee": "right_knee", "RAnkle": "right_ankle",
    "LHip": "left_hip", "LKnee": "left_knee", "LAnkle": "left_ankle", "REye": "right_eye",
    "LEye": "left_eye", "REar": "right_ear", "LEar": "left_ear", "LBigToe": "left_foot_index",
    "LHeel": "left_heel", "RBigToe": "right_foot_index", "RHeel": "right_heel",
}  # fmt: skip

#: BODY_25 name -> the two BlazePose landmarks it is the midpoint of.
MIDPOINTS: dict[str, tuple[str, str]] = {
    "Neck": ("left_shoulder", "right_shoulder"),
    "MidHip": ("left_hip", "right_hip"),
}

#: BODY_25 points no BlazePose landmark gives: always "not detected".
MISSING: tuple[str, ...] = ("LSmallToe", "RSmallToe")


def blazepose_to_body25(
    landmarks: np.ndarray, width: int, height: int, min_confidence: float = 0.0
) -> np.ndarray:
    """``(33, 3)`` BlazePose landmarks (x, y as image fractions, visibility) -> ``(25, 3)``
    BODY_25 keypoints (x, y in pixels, confidence; 0 = not detected)."""
    landmarks = np.asarray(landmarks, dtype=np.float64)
    if landmarks.shape != (len(BLAZEPOSE_NAMES), 3):
        raise InputError(
            f"BlazePose landmarks have shape {landmarks.shape}; expected (33, 3) x, y, visibility"
        )
    if not np.isfinite(landmarks).all():
        raise InputError("BlazePose landmarks contain NaN or infinity")
    index = {name: i for i, name in enumerate(BLAZEPOSE_NAMES)}
    pixels = landmarks[:, :2] * np.array([width, height], dtype=np.float64)
    confidence = np.clip(landmarks[:, 2], 0.0, 1.0)
    out = np.zeros((len(BODY25_NAMES), 3))
    for row, name in enumerate(BODY25_NAMES):
        if name in COPIED:
            source = index[COPIED[name]]
            out[row] = (*pixels[source], confidence[source])
        elif name in MIDPOINTS:
            a, b = (index[part] for part in MIDPOINTS[name])
            out[row] = (*(pixels[a] + pixels[b]) / 2, min(confidence[a], confidence[b]))
    out[out[:, 2] < max(min_confidence, 1e-12)] = 0.0  # not detected: OpenPose writes zeros
    return out
