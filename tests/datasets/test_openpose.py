"""OpenPose JSON: layouts, person selection, missing people, folder pairing, writing."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from posebench.core.errors import InputError
from posebench.datasets.openpose import (
    BODY25_NAMES,
    COCO18_NAMES,
    PART_KEYS,
    Person,
    read_folder,
    read_openpose,
    select_person,
    to_body25,
    write_openpose,
)


def keypoints(count: int, confidence: float = 0.5, scale: float = 1.0, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 100, size=(count, 2)) * scale
    return np.column_stack([xy, np.full(count, confidence)])


def person_json(points: np.ndarray, **extra) -> dict:
    return {"person_id": [-1], "pose_keypoints_2d": points.reshape(-1).tolist(), **extra}


def write_raw(path: Path, people: list[dict], version=1.3) -> Path:
    path.write_text(json.dumps({"version": version, "people": people}))
    return path


def test_name_tables_follow_openpose_order() -> None:
    assert len(BODY25_NAMES) == 25 and len(COCO18_NAMES) == 18
    assert BODY25_NAMES[8] == "MidHip" and BODY25_NAMES[24] == "RHeel"
    assert COCO18_NAMES[8] == "RHip" and COCO18_NAMES[17] == "LEar"
    # BODY_25 = COCO-18 with MidHip inserted at 8 and six foot points appended.
    assert BODY25_NAMES[:8] == COCO18_NAMES[:8]
    assert BODY25_NAMES[9:19] == COCO18_NAMES[8:]


@pytest.mark.parametrize(("count", "layout"), [(25, "BODY_25"), (18, "COCO")])
def test_layout_detected_by_length(tmp_path: Path, count: int, layout: str) -> None:
    points = keypoints(count)
    detection = read_openpose(write_raw(tmp_path / "a_keypoints.json", [person_json(points)]))
    assert detection.layout == layout and detection.detected
    np.testing.assert_array_equal(detection.people[0].keypoints, points)
    assert detection.people[0].person_id == (-1,)


def test_given_layout_must_match(tmp_path: Path) -> None:
    path = write_raw(tmp_path / "a.json", [person_json(keypoints(18))])
    with pytest.raises(InputError, match="BODY_25 needs 75 values, found 54"):
        read_openpose(path, layout="BODY_25")
    with pytest.raises(InputError, match="unknown keypoint layout 'BODY25'"):
        read_openpose(write_raw(tmp_path / "none.json", []), layout="BODY25")


def test_no_people_is_a_result_not_a_crash(tmp_path: Path) -> None:
    detection = read_openpose(write_raw(tmp_path / "empty.json", []))
    assert not detection.detected and detection.people == ()
    assert detection.select() is None and select_person(detection, 0) is None


def test_largest_confidence_wins_then_box_area(tmp_path: Path) -> None:
    weak = keypoints(25, confidence=0.3, seed=1)
    strong = keypoints(25, confidence=0.9, seed=2)
    strong[:10, 2] = 0.0  # missing points do not count: 15 * 0.9 = 13.5 > 25 * 0.3 = 7.5
    detection = read_openpose(
        write_raw(tmp_path / "two.json", [person_json(weak), person_json(strong)])
    )
    assert detection.select() is detection.people[1]
    assert detection.people[1].score == pytest.approx(13.5)
    assert detection.select(person_index=0) is detection.people[0]
    small = keypoints(25, confidence=0.5, scale=0.5, seed=3)
    big = keypoints(25, confidence=0.5, scale=2.0, seed=3)
    tie = read_openpose(write_raw(tmp_path / "tie.json", [person_json(small), person_json(big)]))
    assert tie.select() is tie.people[1]


def test_person_index_out_of_range(tmp_path: Path) -> None:
    path = write_raw(tmp_path / "one.json", [person_json(keypoints(25))])
    with pytest.raises(InputError, match=r"one\.json: person_index 3 is out of range"):
        read_openpose(path).select(3)


def test_zero_confidence_is_missing(tmp_path: Path) -> None:
    points = keypoints(25)
    points[4] = [0, 0, 0]
    points[7] = [12.0, 34.0, 0.0]  # coordinates but c == 0: still missing
    person = read_openpose(write_raw(tmp_path / "m.json", [person_json(points)])).people[0]
    assert person.visible.sum() == 23 and not person.visible[[4, 7]].any()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"version": 1.3, "people": [', "malformed JSON"),
        ('{"version": 1.3}', "no 'people' list"),
        ('{"people": [{"pose_keypoints_2d": [1, 2, 3]}]}', "has 3 values; expected 75"),
        ('{"people": [{"pose_keypoints_2d": "abc"}]}', "flat list of numbers"),
        ('{"people": [{"face_keypoints_2d": []}]}', "no pose_keypoints_2d"),
        ('{"people": [{"pose_keypoints_2d": [NaN' + ", 0" * 74 + "]}]}", "NaN or infinity"),
        ('{"people": [{"pose_keypoints_2d": [0, 0, -1' + ", 0" * 72 + "]}]}", "negative"),
    ],
)
def test_malformed_files(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad_keypoints.json"
    path.write_text(text)
    with pytest.raises(InputError, match=message) as info:
        read_openpose(path)
    assert str(path) in str(info.value)


def test_mixed_layouts_are_refused(tmp_path: Path) -> None:
    path = write_raw(
        tmp_path / "mix.json", [person_json(keypoints(25)), person_json(keypoints(18))]
    )
    with pytest.raises(InputError, match="mix keypoint layouts"):
        read_openpose(path)


def test_writer_matches_openpose_layout(tmp_path: Path) -> None:
    points = keypoints(25)
    path = write_openpose(tmp_path / "img_keypoints.json", [points])
    data = json.loads(path.read_text())
    assert list(data) == ["version", "people"] and data["version"] == 1.3
    entry = data["people"][0]
    assert list(entry) == ["person_id", *PART_KEYS]
    assert entry["person_id"] == [-1] and len(entry["pose_keypoints_2d"]) == 75
    assert all(entry[key] == [] for key in PART_KEYS[1:])
    assert not list(tmp_path.glob("*.tmp"))  # the temporary file was renamed away
    assert os.stat(path).st_mode & 0o044  # readable by others like a normal file


def test_round_trip_keeps_people_and_extra_arrays(tmp_path: Path) -> None:
    face = keypoints(70, seed=5).reshape(-1).tolist()
    people = [
        Person(keypoints(25, seed=1), person_id=(3,), extra={"face_keypoints_2d": face}),
        Person(keypoints(25, seed=2)),
    ]
    first = read_openpose(write_openpose(tmp_path / "a.json", people))
    again = read_openpose(write_openpose(tmp_path / "b.json", first.people))
    for detection in (first, again):
        assert len(detection.people) == 2 and detection.layout == "BODY_25"
        np.testing.assert_array_equal(detection.people[0].keypoints, people[0].keypoints)
        assert detection.people[0].person_id == (3,)
        assert detection.people[0].extra == {"face_keypoints_2d": face}
    assert (tmp_path / "a.json").read_text() == (tmp_path / "b.json").read_text()
    empty = read_openpose(write_openpose(tmp_path / "none.json", []))
    assert not empty.detected


def test_writer_refuses_bad_keypoints(tmp_path: Path) -> None:
    bad = keypoints(25)
    bad[3, 0] = np.nan
    with pytest.raises(InputError, match="NaN"):
        write_openpose(tmp_path / "x.json", [bad])
    with pytest.raises(InputError, match="expected 75"):
        write_openpose(tmp_path / "x.json", [keypoints(20)])
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_folder_pairs_images_with_either_naming(tmp_path: Path) -> None:
    for name in ("b.png", "a.jpg", "c.jpeg", "notes.txt"):
        (tmp_path / name).write_bytes(b"")
    write_openpose(tmp_path / "a_keypoints.json", [keypoints(25)])
    write_openpose(tmp_path / "b.json", [])
    write_openpose(tmp_path / "c_keypoints.json", [keypoints(18)])
    frames = read_folder(tmp_path)
    assert [f.image.name for f in frames] == ["a.jpg", "b.png", "c.jpeg"]
    assert [f.keypoints_path.name for f in frames] == [
        "a_keypoints.json",
        "b.json",
        "c_keypoints.json",
    ]
    assert [f.detection.detected for f in frames] == [True, False, True]
    np.testing.assert_array_equal(
        to_body25(frames[2].detection.people[0].keypoints)[:, 2] > 0,
        [True] * 8 + [False] + [True] * 10 + [False] * 6,
    )


def test_folder_with_separate_keypoint_dir_and_errors(tmp_path: Path) -> None:
    images, keys = tmp_path / "images", tmp_path / "keypoints"
    images.mkdir()
    keys.mkdir()
    (images / "x.jpg").write_bytes(b"")
    with pytest.raises(InputError, match=r"x_keypoints\.json or x\.json"):
        read_folder(images, keys)
    write_openpose(keys / "x_keypoints.json", [keypoints(25)])
    assert read_folder(images, keys)[0].keypoints_path == keys / "x_keypoints.json"
    write_openpose(keys / "x.json", [keypoints(25)])
    with pytest.raises(InputError, match="keep only one"):
        read_folder(images, keys)
    with pytest.raises(InputError, match=r"no \.jpg or \.png"):
        read_folder(keys)
