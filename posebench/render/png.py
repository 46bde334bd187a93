"""PNG files from RGB arrays with the standard library (zlib), so renders need no imaging package.

Writes 8-bit RGB, non-interlaced, every row with filter type 2 ("up": the difference to the row
above, which makes photographs about a quarter smaller than unfiltered rows); :func:`decode_png`
reads back that subset, rows with filter 0 or 2 (enough for tests and for embedding renders in
HTML).
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

from posebench.core.atomic import atomic_write
from posebench.core.errors import InputError

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_NONE, _UP = 0, 2  # PNG row filter types


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def encode_png(image: np.ndarray) -> bytes:
    """The PNG bytes of an (H, W, 3) uint8 RGB image."""
    image = np.ascontiguousarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) uint8 image, got {image.dtype} {image.shape}")
    height, width = image.shape[:2]
    flat = image.reshape(height, -1)
    up = np.diff(flat, axis=0, prepend=np.zeros((1, flat.shape[1]), np.uint8))  # wraps mod 256
    rows = np.concatenate([np.full((height, 1), _UP, np.uint8), up], axis=1)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        _SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(rows.tobytes(), 6))
        + _chunk(b"IEND", b"")
    )


def write_png(path: str | Path, image: np.ndarray) -> Path:
    """Write ``image`` to ``path`` atomically."""
    data = encode_png(image)
    atomic_write(path, lambda handle: handle.write(data), binary=True)
    return Path(path)


def decode_png(data: bytes) -> np.ndarray:
    """(H, W, 3) uint8 from PNG bytes as :func:`encode_png` writes them (8-bit RGB, rows with
    filter 0 or 2; older posebench wrote filter 0)."""
    if not data.startswith(_SIGNATURE):
        raise InputError("not a PNG file")
    position, header, payload = len(_SIGNATURE), None, b""
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        position += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            payload += body
    if header is None or header[2:5] != (8, 2, 0):
        raise InputError("only 8-bit RGB PNG files written by posebench can be decoded")
    width, height = header[0], header[1]
    rows = np.frombuffer(zlib.decompress(payload), np.uint8).reshape(height, 1 + 3 * width)
    if not np.isin(rows[:, 0], (_NONE, _UP)).all():
        raise InputError(
            "PNG rows use filters other than 'none' and 'up'; not written by posebench"
        )
    pixels = rows[:, 1:].copy()
    for row in np.flatnonzero(rows[:, 0] == _UP):
        if row:
            pixels[row] += pixels[row - 1]  # uint8: wraps mod 256, as the filter is defined
    return pixels.reshape(height, width, 3)
