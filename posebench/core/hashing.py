"""Content hashes of arrays and files, stored in results so inputs can be compared across runs."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np


def _as_numpy(array: Any) -> np.ndarray:
    if hasattr(array, "detach"):  # torch.Tensor, without importing torch here
        array = array.detach().cpu().numpy()
    return np.ascontiguousarray(np.asarray(array))


def hash_arrays(*arrays: Any) -> str:
    """sha256 (hex) over the dtype, shape and bytes of each array (numpy or torch, any device)."""
    digest = hashlib.sha256()
    for array in arrays:
        a = _as_numpy(array)
        digest.update(f"{a.dtype.str}{a.shape}".encode())
        digest.update(a.data)
    return digest.hexdigest()


def hash_array_chunks(dtype: Any, shape: tuple[int, ...], chunks: Iterable[Any]) -> str:
    """:func:`hash_arrays` of one array of ``dtype`` and ``shape`` given as consecutive chunks
    along its first axis (the same digest), so an array too large to build can be hashed."""
    digest = hashlib.sha256()
    digest.update(f"{np.dtype(dtype).str}{tuple(shape)}".encode())
    for chunk in chunks:
        digest.update(_as_numpy(chunk).astype(dtype, copy=False).data)
    return digest.hexdigest()


def hash_file(path: str | Path, chunk_size: int = 1 << 20) -> str:
    """sha256 (hex) of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()
