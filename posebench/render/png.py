"""PNG files from RGB arrays with the standard library (zlib), so renders need no imaging package.

Writes 8-bit RGB, non-interlaced, filter type 0 per row; :func:`decode_png` reads back exactly
that subset (enough for tests and for embedding renders in HTML).
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

from posebench.core.atomic import atomic_write
from posebench.core.errors import InputError

_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def encode_png(image: np.ndarray) -> bytes:
    """The PNG bytes of an (H, W, 3) uint8 RGB image."""
    image = np.ascontiguousarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) uint8 image, got {image.dtype} {image.shape}")
    height, width = image.shape[:2]
    rows = np.concatenate([np.zeros((height, 1), np.uint8), image.reshape(height, -1)], axis=1)
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
    """(H, W, 3) uint8 from PNG bytes as :func:`encode_png` writes them (8-bit RGB, filter 0)."""
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
    if rows[:, 0].any():
        raise InputError("PNG rows use filters other than 'none'; not written by posebench")
    return rows[:, 1:].reshape(height, width, 3).copy()
