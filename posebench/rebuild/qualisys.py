"""Read a Qualisys Track Manager calibration (``.qca.txt``, XML) into calibrated cameras.

What the file holds, per ``<camera>``, and how it becomes OpenCV's model:

* ``intrinsic``: focal lengths and principal point in sensor units of 1/64 pixel, over the full
  sensor; the video image is the ``fov_video`` window of it, so a pixel position is
  ``value / 64 - left`` (``- top`` vertically). Distortion ``radialDistortion1/2`` (k1, k2) and
  ``tangentalDistortion1/2`` (p1, p2) are OpenCV's coefficients.
* ``transform``: the camera's orientation ``r11 .. r33`` (a matrix M read row by row, whose rows
  are the camera's axes in world coordinates) and its centre ``x, y, z`` in millimetres in the
  world. QTM's camera looks down its own -z axis with y up; in OpenCV's axes (z forward, y down)
  the world-to-camera rotation is ``R = diag(1, -1, -1) M`` and ``t = -R centre``.

Checked on the pose2sim demo: with this reading all four cameras see the person in front of them
and triangulated detector keypoints reproject within a few pixels; every other reading of the
axes puts a camera behind the person or reprojects tens of pixels away.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np

from posebench.body.multiview import CalibratedCamera
from posebench.core.errors import InputError

#: QTM's sensor coordinates are in 1/64 pixel.
SUBPIXELS = 64.0
_QTM_TO_OPENCV = np.diag([1.0, -1.0, -1.0])


def _number(attributes: dict[str, str], key: str, where: str) -> float:
    try:
        return float(attributes[key])
    except (KeyError, ValueError):
        raise InputError(
            f"{where}: missing or unreadable {key}; is it a QTM calibration?"
        ) from None


def parse_qca(text: str, where: str) -> list[CalibratedCamera]:
    """The active cameras of a QTM calibration file's text, in file order."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise InputError(f"{where}: not a QTM calibration (malformed XML: {exc})") from None
    cameras: list[CalibratedCamera] = []
    for node in root.iter("camera"):
        if node.get("active", "1") != "1":
            continue
        name = node.get("serial") or f"camera{len(cameras) + 1}"
        here = f"{where} camera {name}"
        parts = {key: node.find(key) for key in ("fov_video", "intrinsic", "transform")}
        missing = [key for key, part in parts.items() if part is None]
        if missing:
            raise InputError(f"{here}: no <{missing[0]}>; is it a QTM calibration?")
        fov, inner, pose = (dict(parts[k].attrib) for k in ("fov_video", "intrinsic", "transform"))  # type: ignore[union-attr]
        left, top = _number(fov, "left", here), _number(fov, "top", here)
        width = int(_number(fov, "right", here) - left + 1)
        height = int(_number(fov, "bottom", here) - top + 1)
        orientation = np.array([[_number(pose, f"r{i}{j}", here) for j in "123"] for i in "123"])
        centre = np.array([_number(pose, axis, here) for axis in "xyz"]) / 1000.0
        rotation = _QTM_TO_OPENCV @ orientation
        cameras.append(
            CalibratedCamera(
                name=name,
                width=width,
                height=height,
                fx=_number(inner, "focalLengthU", here) / SUBPIXELS,
                fy=_number(inner, "focalLengthV", here) / SUBPIXELS,
                cx=_number(inner, "centerPointU", here) / SUBPIXELS - left,
                cy=_number(inner, "centerPointV", here) / SUBPIXELS - top,
                distortion=(
                    _number(inner, "radialDistortion1", here),
                    _number(inner, "radialDistortion2", here),
                    _number(inner, "tangentalDistortion1", here),
                    _number(inner, "tangentalDistortion2", here),
                ),
                rotation=rotation,
                translation=-rotation @ centre,
            )
        )
    if not cameras:
        raise InputError(f"{where}: no active <camera> entries; is it a QTM calibration?")
    return cameras
