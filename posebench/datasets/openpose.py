"""OpenPose JSON keypoints: read, pick a person, write (docs/image_fitting.md).

A file holds ``{"version": 1.3, "people": [...]}``; each person has flat ``[x, y, c, ...]`` arrays.
Body layouts, named as OpenPose's ``--model_pose``: BODY_25 (75 values) and COCO (18 points,
54 values; not MS-COCO-17), told apart by length.
Confidence 0 means "not detected" whatever x and y say. A file with no people is a valid
result (``Detection.detected`` is False), not an error.

Several people: :func:`select_person` picks the one with the largest sum of confidences over
detected keypoints (c > 0); ties go to the larger bounding box of those keypoints, then to the
earlier person in the file. ``person_index`` overrides the rule.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from posebench.body.keypoints import BODY25_NAMES, COCO18_NAMES
from posebench.core.atomic import atomic_write
from posebench.core.errors import InputError

LAYOUTS: dict[str, tuple[str, ...]] = {"BODY_25": BODY25_NAMES, "COCO": COCO18_NAMES}

# The arrays of one person, in the order OpenPose writes them (wPeopleJsonSaver.hpp).
PART_KEYS: tuple[str, ...] = (
    "pose_keypoints_2d",
    "face_keypoints_2d",
    "hand_left_keypoints_2d",
    "hand_right_keypoints_2d",
    "pose_keypoints_3d",
    "face_keypoints_3d",
    "hand_left_keypoints_3d",
    "hand_right_keypoints_3d",
)
IMAGE_SUFFIXES: tuple[str, ...] = (".jpg", ".jpeg", ".png")


@dataclass(frozen=True)
class Person:
    """One detected person: body keypoints (K, 3) as x, y, confidence, plus the other arrays."""

    keypoints: np.ndarray
    person_id: tuple[int, ...] = (-1,)
    extra: dict[str, list[float]] = field(default_factory=dict)  # face/hand/3d arrays, flat

    @property
    def visible(self) -> np.ndarray:
        """(K,) bool: detected keypoints (confidence > 0)."""
        return self.keypoints[:, 2] > 0

    @property
    def score(self) -> float:
        """Sum of confidences over detected keypoints (the person-selection rule)."""
        return float(self.keypoints[self.visible, 2].sum())

    @property
    def box_area(self) -> float:
        """Area of the bounding box of the detected keypoints (0 with fewer than two)."""
        xy = self.keypoints[self.visible, :2]
        if len(xy) < 2:
            return 0.0
        width, height = xy.max(axis=0) - xy.min(axis=0)
        return float(width * height)


@dataclass(frozen=True)
class Detection:
    """The contents of one OpenPose JSON file; ``people`` is empty when no one was detected."""

    people: tuple[Person, ...]
    layout: str | None  # "BODY_25" or "COCO" (18 points); None when there are no people
    path: str = ""
    version: Any = 1.3

    @property
    def detected(self) -> bool:
        """True when the file has at least one person."""
        return bool(self.people)

    def select(self, person_index: int | None = None) -> Person | None:
        """The chosen person (see the module docstring), or None when no one was detected."""
        return select_person(self, person_index)


@dataclass(frozen=True)
class Frame:
    """An image paired with its keypoint file."""

    image: Path
    keypoints_path: Path
    detection: Detection


# --------------------------------------------------------------------------- reading


def _layout_of(count: int, layout: str | None, where: str) -> str:
    """The layout of a flat pose array of `count` values, checked against a requested one."""
    found = {3 * len(names): name for name, names in LAYOUTS.items()}.get(count)
    if layout is not None:
        if layout not in LAYOUTS:
            raise InputError(f"unknown keypoint layout {layout!r}; use one of {sorted(LAYOUTS)}")
        if found != layout:
            raise InputError(
                f"{where}: {layout} needs {3 * len(LAYOUTS[layout])} values, found {count}"
            )
    if found is None:
        raise InputError(
            f"{where}: pose_keypoints_2d has {count} values; expected 75 (BODY_25) or 54 (COCO)"
        )
    return found


#: The largest magnitude a keypoint coordinate can have as a float.
FLOAT_MAX = sys.float_info.max


def _numbers(value: Any, where: str) -> list[float]:
    """A flat list of finite numbers, else an InputError."""
    if not isinstance(value, list) or not all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in value
    ):
        raise InputError(f"{where} must be a flat list of numbers")
    # an integer beyond float64 (JSON allows any length) is out of range, not a crash
    if any(isinstance(v, int) and abs(v) > FLOAT_MAX for v in value):
        raise InputError(f"{where} holds an integer beyond the range of floating point numbers")
    if not all(math.isfinite(v) for v in value):
        raise InputError(f"{where} contains NaN or infinity")
    return [float(v) for v in value]


def _parse_person(entry: Any, layout: str | None, where: str) -> tuple[Person, str]:
    if not isinstance(entry, dict) or "pose_keypoints_2d" not in entry:
        raise InputError(f"{where} has no pose_keypoints_2d")
    flat = _numbers(entry["pose_keypoints_2d"], f"{where}: pose_keypoints_2d")
    found = _layout_of(len(flat), layout, where)
    keypoints = np.array(flat, dtype=np.float64).reshape(-1, 3)
    if (keypoints[:, 2] < 0).any():
        raise InputError(f"{where}: pose_keypoints_2d has a negative confidence")
    person_id = entry.get("person_id", [-1])
    ids = person_id if isinstance(person_id, list) else [person_id]
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise InputError(f"{where}: person_id must be an integer or a list of integers")
    extra = {
        key: _numbers(entry[key], f"{where}: {key}")
        for key in PART_KEYS[1:]
        if entry.get(key) not in (None, [])
    }
    return Person(keypoints=keypoints, person_id=tuple(ids), extra=extra), found


def parse_openpose(data: Any, path: str = "", layout: str | None = None) -> Detection:
    """A Detection from already-loaded OpenPose JSON; `path` only names the source in errors."""
    source = path or "OpenPose JSON"
    if layout is not None and layout not in LAYOUTS:
        raise InputError(f"unknown keypoint layout {layout!r}; use one of {sorted(LAYOUTS)}")
    if not isinstance(data, dict) or not isinstance(data.get("people"), list):
        raise InputError(f"{source}: not OpenPose keypoints (no 'people' list)")
    people, layouts = [], set()
    for i, entry in enumerate(data["people"]):
        person, found = _parse_person(entry, layout, f"{source}: people[{i}]")
        people.append(person)
        layouts.add(found)
    if len(layouts) > 1:
        raise InputError(f"{source}: people mix keypoint layouts {sorted(layouts)}")
    found_layout = layouts.pop() if layouts else layout
    return Detection(tuple(people), found_layout, path, data.get("version", 1.3))


def read_openpose(path: str | Path, layout: str | None = None) -> Detection:
    """Read one OpenPose JSON file; `layout` ("BODY_25"/"COCO") is detected when None."""
    path = Path(path)
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}; check the path") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: malformed JSON ({exc}); re-export it from OpenPose") from exc
    return parse_openpose(data, str(path), layout)


def select_person(detection: Detection, person_index: int | None = None) -> Person | None:
    """The largest-confidence person (ties: larger box, then earlier), or `person_index`."""
    if not detection.people:
        return None
    if person_index is not None:
        if not 0 <= person_index < len(detection.people):
            raise InputError(
                f"{detection.path or 'detection'}: person_index {person_index} is out of range; "
                f"the file has {len(detection.people)} people"
            )
        return detection.people[person_index]
    best = max(range(len(detection.people)), key=lambda i: _rank(detection.people[i], i))
    return detection.people[best]


def _rank(person: Person, index: int) -> tuple[float, float, int]:
    return (person.score, person.box_area, -index)


def to_body25(keypoints: np.ndarray) -> np.ndarray:
    """COCO keypoints (..., 18, 3) in BODY_25 order; MidHip and the feet are missing (c=0)."""
    keypoints = np.asarray(keypoints)
    if keypoints.shape[-2:] == (25, 3):
        return keypoints.copy()
    if keypoints.shape[-2:] != (18, 3):
        raise InputError(f"keypoints must be (..., 18, 3) or (..., 25, 3), got {keypoints.shape}")
    out = np.zeros((*keypoints.shape[:-2], 25, 3), dtype=keypoints.dtype)
    out[..., :8, :] = keypoints[..., :8, :]
    out[..., 9:19, :] = keypoints[..., 8:, :]
    return out


# --------------------------------------------------------------------------- folders


def keypoint_candidates(image: str | Path, keypoints_dir: str | Path | None = None) -> list[Path]:
    """The two accepted keypoint file names for an image: `<name>_keypoints.json`, `<name>.json`."""
    image = Path(image)
    folder = Path(keypoints_dir) if keypoints_dir is not None else image.parent
    return [folder / f"{image.stem}_keypoints.json", folder / f"{image.stem}.json"]


def folder_images(images_dir: str | Path) -> list[Path]:
    """The `<name>.jpg|jpeg|png` files of a folder, sorted by name; one-line errors for a missing
    folder or one without images."""
    images_dir = Path(images_dir)
    if not images_dir.is_dir():
        raise InputError(f"{images_dir} is not a folder; pass the folder of images")
    images = sorted(p for p in images_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not images:
        raise InputError(f"{images_dir}: no .jpg or .png images found")
    return images


def read_folder(
    images_dir: str | Path, keypoints_dir: str | Path | None = None, layout: str | None = None
) -> list[Frame]:
    """Pair every `<name>.jpg|jpeg|png` with its keypoint file (either name), sorted by name."""
    frames = []
    for image in folder_images(images_dir):
        found = [p for p in keypoint_candidates(image, keypoints_dir) if p.is_file()]
        if not found:
            names = " or ".join(p.name for p in keypoint_candidates(image, keypoints_dir))
            raise InputError(f"{image}: no keypoint file; expected {names} (run OpenPose first)")
        if len(found) > 1:
            raise InputError(f"{image}: both {found[0]} and {found[1]} exist; keep only one")
        frames.append(Frame(image, found[0], read_openpose(found[0], layout)))
    return frames


# --------------------------------------------------------------------------- writing


def _person_json(person: Person | np.ndarray, where: str) -> dict[str, Any]:
    """One `people` entry with every key OpenPose writes, in its order."""
    if not isinstance(person, Person):
        person = Person(keypoints=np.asarray(person, dtype=np.float64))
    keypoints = np.asarray(person.keypoints, dtype=np.float64)
    if keypoints.ndim != 2 or keypoints.shape[1] != 3:
        raise InputError(f"{where}: keypoints must be (K, 3) x, y, confidence")
    _layout_of(keypoints.size, None, where)
    if not np.isfinite(keypoints).all():
        raise InputError(f"{where}: keypoints contain NaN or infinity")
    entry: dict[str, Any] = {"person_id": list(person.person_id)}
    for key in PART_KEYS:
        if key == "pose_keypoints_2d":
            entry[key] = [_plain(v) for v in keypoints.reshape(-1)]
        else:
            entry[key] = _numbers(list(person.extra.get(key, [])), f"{where}: {key}")
    return entry


def _plain(value: float) -> float | int:
    """Whole numbers as ints (OpenPose writes 0 for missing points), others as floats."""
    return int(value) if value == 0 else float(value)


def openpose_json(
    people: Sequence[Person | np.ndarray], version: Any = 1.3, source: str = "OpenPose JSON"
) -> dict[str, Any]:
    """The JSON object OpenPose writes for one image; `source` names it in errors."""
    return {
        "version": version,
        "people": [_person_json(p, f"{source}: people[{i}]") for i, p in enumerate(people)],
    }


def write_openpose(
    path: str | Path, people: Sequence[Person | np.ndarray], version: Any = 1.3
) -> Path:
    """Write people (Person or (K, 3) arrays) as OpenPose JSON, atomically; returns the path."""
    path = Path(path)
    text = json.dumps(openpose_json(people, version, str(path)), allow_nan=False)
    atomic_write(path, lambda handle: handle.write(text))
    return path
