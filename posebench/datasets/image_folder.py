"""A user's folder for image fitting: OpenPose keypoints, one camera per image, image sizes.

A folder holds ``<name>.jpg|png`` with ``<name>_keypoints.json`` or ``<name>.json``, or only
``<name>_keypoints.json`` files (keypoints-only, e.g. a written synthetic set).

Camera of each item: ``<name>_camera.json`` when present (as the synthetic writer makes); else the
image size from the image (PNG/JPEG header) or config ``image_size``, principal point at the
centre and focal length ``focal_length`` or, by default, the image diagonal ``sqrt(W² + H²)`` (a
~53° diagonal field of view, DPoser's choice for full images; SMPLify-X's 5000 px suits only
tight crops).
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from posebench.body.camera import PinholeCamera
from posebench.core.errors import InputError
from posebench.datasets.openpose import (
    IMAGE_SUFFIXES,
    Detection,
    read_folder,
    read_openpose,
    to_body25,
)

#: The status of an item whose keypoint file lists nobody (or nobody with a detected keypoint).
NO_PERSON = "no person detected"


@dataclass
class FolderItem:
    """One image (or keypoint file) of a user's folder: its detection and camera."""

    name: str
    keypoints_path: Path
    image: Path | None
    keypoints: np.ndarray | None  # (25, 3) BODY_25; None when no person was detected
    camera: PinholeCamera


def image_size(path: str | Path) -> tuple[int, int]:
    """(width, height) of a PNG or JPEG file from its header; one-line InputError otherwise."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            head = handle.read(26)
            if head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR":
                width, height = struct.unpack(">II", head[16:24])
                return int(width), int(height)
            if head[:2] == b"\xff\xd8":
                handle.seek(2)
                return _jpeg_size(handle, path)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    raise InputError(f"{path}: not a PNG or JPEG image; convert it or set image_size")


def _jpeg_size(handle: Any, path: Path) -> tuple[int, int]:
    """Walk the JPEG markers to the first start-of-frame and read its size."""
    while True:
        marker = handle.read(2)
        if len(marker) < 2 or marker[0] != 0xFF:
            break
        kind = marker[1]
        if kind in (0xD8, 0x01) or 0xD0 <= kind <= 0xD7:
            continue
        length_bytes = handle.read(2)
        if len(length_bytes) < 2:
            break
        (length,) = struct.unpack(">H", length_bytes)
        if 0xC0 <= kind <= 0xCF and kind not in (0xC4, 0xC8, 0xCC):
            data = handle.read(5)
            if len(data) < 5:
                break
            height, width = struct.unpack(">HH", data[1:5])
            return int(width), int(height)
        handle.seek(length - 2, 1)
    raise InputError(f"{path}: a JPEG without a readable frame header; re-save the image")


def read_camera(path: Path) -> PinholeCamera:
    """The camera of a ``<name>_camera.json`` file; one-line InputError when unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: malformed JSON ({exc})") from None
    return PinholeCamera.from_json(data, str(path))


def _camera_for(
    name: str, folder: Path, image: Path | None, config: Mapping[str, Any]
) -> PinholeCamera:
    """The camera of one item: its camera file, else image size + default intrinsics."""
    camera_file = folder / f"{name}_camera.json"
    focal = config.get("focal_length")
    if camera_file.is_file():
        camera = read_camera(camera_file)
        if focal is None:
            return camera
        width, height = camera.width, camera.height
    elif image is not None:
        width, height = image_size(image)
    elif config.get("image_size"):
        width, height = (int(v) for v in config["image_size"])
    else:
        raise InputError(
            f"{folder / (name + '_keypoints.json')}: no image and no {camera_file.name}, so the "
            "image size is unknown; set image_size: [W, H] in the task config (--task-config)"
        )
    focal = float(focal) if focal is not None else math.hypot(width, height)
    if not focal > 0:
        raise InputError(f"focal_length must be positive, got {focal}")
    return PinholeCamera.centred(focal, width, height)


def read_keypoint_folder(folder: str | Path, config: Mapping[str, Any]) -> list[FolderItem]:
    """Every image of ``folder`` with its keypoints, or, in a folder without images (the
    keypoints-only mode), every ``<name>_keypoints.json``; sorted by name. Bad files raise a
    one-line InputError; files without people give items with ``keypoints=None``.

    ``config`` (the image_fit task's) supplies ``person_index``, ``focal_length`` and
    ``image_size``.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder} is not a folder; pass the folder of images or keypoints")
    has_images = any(p.suffix.lower() in IMAGE_SUFFIXES for p in folder.iterdir())
    entries: list[tuple[str, Path, Path | None, Detection]]
    if has_images:
        entries = [
            (f.image.stem, f.keypoints_path, f.image, f.detection) for f in read_folder(folder)
        ]
    else:
        files = sorted(folder.glob("*_keypoints.json"))
        if not files:
            raise InputError(
                f"{folder}: no .jpg/.png images and no *_keypoints.json files; run OpenPose with "
                "--write_json into this folder"
            )
        entries = [(f.name[: -len("_keypoints.json")], f, None, read_openpose(f)) for f in files]
    items = []
    for name, path, image, detection in entries:
        person = detection.select(config.get("person_index"))
        keypoints = None if person is None else to_body25(person.keypoints)
        if keypoints is not None and not (keypoints[:, 2] > 0).any():
            keypoints = None
        items.append(
            FolderItem(name, path, image, keypoints, _camera_for(name, folder, image, config))
        )
    return items
