"""posebench detect: BlazePose landmarks -> OpenPose BODY_25, the files fit-image reads, errors.

The mapping and the writing run on landmarks the tests make; the real detector (MediaPipe, extra
``detect``) is only exercised where it is installed.
"""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest
from cli_runner import cli

from posebench.body.keypoints import BODY25_NAMES
from posebench.core.errors import InputError
from posebench.datasets.openpose import read_folder, read_openpose
from posebench.detect.blazepose import BLAZEPOSE_NAMES, blazepose_to_body25
from posebench.detect.run import write_detections

WIDTH, HEIGHT = 640, 480


def landmarks() -> np.ndarray:
    """Every landmark at its own place, with its own visibility."""
    i = np.arange(len(BLAZEPOSE_NAMES), dtype=np.float64)
    return np.stack([(i + 1) / 40, (i + 1) / 50, 0.5 + i / 100], axis=1)


def pixel(name: str) -> np.ndarray:
    row = landmarks()[BLAZEPOSE_NAMES.index(name)]
    return np.array([row[0] * WIDTH, row[1] * HEIGHT, row[2]])


def test_named_points_are_copied_side_for_side_in_pixels():
    body25 = blazepose_to_body25(landmarks(), WIDTH, HEIGHT)
    assert body25.shape == (25, 3)
    at = dict(zip(BODY25_NAMES, body25, strict=True))
    for ours, theirs in [("Nose", "nose"), ("RShoulder", "right_shoulder"),
                         ("LWrist", "left_wrist"), ("RAnkle", "right_ankle"),
                         ("LEar", "left_ear"), ("REye", "right_eye"),
                         ("LBigToe", "left_foot_index"), ("RHeel", "right_heel")]:  # fmt: skip
        np.testing.assert_allclose(at[ours], pixel(theirs), err_msg=ours)


def test_neck_and_mid_hip_are_midpoints_with_the_weaker_confidence():
    at = dict(zip(BODY25_NAMES, blazepose_to_body25(landmarks(), WIDTH, HEIGHT), strict=True))
    for ours, (a, b) in {"Neck": ("left_shoulder", "right_shoulder"),
                         "MidHip": ("left_hip", "right_hip")}.items():  # fmt: skip
        np.testing.assert_allclose(at[ours][:2], (pixel(a)[:2] + pixel(b)[:2]) / 2)
        assert at[ours][2] == min(pixel(a)[2], pixel(b)[2])


def test_points_blazepose_lacks_or_barely_sees_are_not_detected():
    marks = landmarks()
    marks[BLAZEPOSE_NAMES.index("left_knee"), 2] = 0.2
    body25 = blazepose_to_body25(marks, WIDTH, HEIGHT, min_confidence=0.3)
    at = dict(zip(BODY25_NAMES, body25, strict=True))
    for name in ("LSmallToe", "RSmallToe", "LKnee"):
        assert (at[name] == 0).all(), name
    assert (body25[:, 2] > 0).sum() == 22


@pytest.mark.parametrize(
    ("marks", "message"),
    [(np.zeros((25, 3)), "expected \\(33, 3\\)"), (np.full((33, 3), np.nan), "NaN")],
)
def test_bad_landmarks_are_one_line_errors(marks, message):
    with pytest.raises(InputError, match=message):
        blazepose_to_body25(marks, WIDTH, HEIGHT)


def test_written_files_are_the_openpose_folder_fit_image_reads(tmp_path):
    pictures = [
        (f"frame_{i:012d}", np.full((HEIGHT, WIDTH, 3), 40 * i, np.uint8)) for i in range(3)
    ]
    found = iter([landmarks(), None, landmarks()])
    summary = write_detections(iter(pictures), lambda rgb: next(found), tmp_path, save_frames=True)
    assert summary == {"frames": 3, "with_person": 2, "no_person": ["frame_000000000001"]}
    detection = read_openpose(tmp_path / "frame_000000000000_keypoints.json")
    assert detection.layout == "BODY_25" and detection.detected
    np.testing.assert_allclose(detection.people[0].keypoints,
                               blazepose_to_body25(landmarks(), WIDTH, HEIGHT))  # fmt: skip
    empty = json.loads((tmp_path / "frame_000000000001_keypoints.json").read_text())
    assert empty["people"] == []
    frames = read_folder(tmp_path)  # images paired with their keypoint files, as fit-image does
    assert [f.image.name for f in frames] == [f"{name}.png" for name, _ in pictures]
    assert [f.detection.detected for f in frames] == [True, False, True]


def test_the_command_refuses_a_missing_folder_and_names_the_install(capsys, tmp_path):
    code, _, err = cli(capsys, "detect", "--images", str(tmp_path / "nope"),
                       "--out", str(tmp_path / "out"))  # fmt: skip
    assert code == 2 and "nope is not a folder" in err and len(err.strip().splitlines()) == 1
    code, _, err = cli(capsys, "detect", "--video", str(tmp_path / "clip.mp4"),
                       "--out", str(tmp_path / "out"))  # fmt: skip
    assert code == 2 and "clip.mp4: no such video file" in err
    code, _, err = cli(capsys, "detect", "--images", str(tmp_path), "--video", "a.mp4",
                       "--out", str(tmp_path / "out"))  # fmt: skip
    assert code == 2 and "not allowed with argument" in err
    code, _, err = cli(capsys, "detect", "--images", str(tmp_path), "--min-confidence", "1.5",
                       "--out", str(tmp_path / "out"))  # fmt: skip
    assert code == 2 and "from 0 to 1" in err


@pytest.mark.skipif(
    importlib.util.find_spec("mediapipe") is not None, reason="MediaPipe is installed here"
)
def test_without_mediapipe_the_command_says_how_to_install_it(capsys, tmp_path):
    (tmp_path / "a.png").write_bytes(b"")  # never read: the detector is missing
    code, _, err = cli(capsys, "detect", "--images", str(tmp_path), "--out", str(tmp_path / "o"))
    assert code == 2 and "pip install" in err and len(err.strip().splitlines()) == 1
    sources = tmp_path / "sources"
    sources.mkdir()
    code, _, err = cli(capsys, "data", "build-multiview", "--sources", str(sources), "--quiet")
    assert code == 2 and "pose2sim-0.10.49" in err and len(err.strip().splitlines()) == 1


@pytest.mark.skipif(
    importlib.util.find_spec("mediapipe") is None or importlib.util.find_spec("cv2") is None,
    reason="MediaPipe (extra 'detect') is not installed: the real detector is not run here",
)
def test_the_real_detector_finds_the_rendered_body_where_it_is(capsys, tmp_path):
    import torch

    from posebench.body.anny import AnnyBody
    from posebench.render.png import write_png
    from posebench.render.scene import render_poses
    from posebench.render.settings import RenderSettings

    pose = torch.zeros(1, 21, 3)
    pose[0, 15, 2], pose[0, 16, 2] = -1.2, 1.2  # shoulders: arms down, not a T-pose
    picture = render_poses(AnnyBody(), pose, settings=RenderSettings(size=384, azimuth_deg=0.0))[0]
    write_png(tmp_path / "images" / "body.png", picture)
    code, _, err = cli(capsys, "detect", "--images", str(tmp_path / "images"),
                         "--out", str(tmp_path / "out"), "--quiet")  # fmt: skip
    assert code == 0, err
    person = read_openpose(tmp_path / "out" / "body_keypoints.json").people[0].keypoints
    seen = person[person[:, 2] > 0.5]
    assert len(seen) >= 15
    covered = np.argwhere(np.abs(picture.astype(int) - picture[0, 0].astype(int)).sum(-1) > 30)
    (top, left), (bottom, right) = covered.min(0), covered.max(0)
    assert (seen[:, 0] > left - 20).all() and (seen[:, 0] < right + 20).all()
    assert (seen[:, 1] > top - 20).all() and (seen[:, 1] < bottom + 20).all()
    head, feet = person[BODY25_NAMES.index("Nose"), 1], person[BODY25_NAMES.index("LAnkle"), 1]
    assert head < feet  # upright, in image rows
