"""Content hashes of arrays and files, stored in results so inputs can be compared across runs."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np


def hash_arrays(*arrays: Any) -> str:
    """sha256 (hex) over the dtype, shape and bytes of each array (numpy or torch, any device)."""
    digest = hashlib.sha256()
    for array in arrays:
        if hasattr(array, "detach"):  # torch.Tensor, without importing torch here
            array = array.detach().cpu().numpy()
        a = np.ascontiguousarray(np.asarray(array))
        digest.update(f"{a.dtype.str}{a.shape}".encode())
        digest.update(a.tobytes())
    return digest.hexdigest()


def hash_file(path: str | Path, chunk_size: int = 1 << 20) -> str:
    """sha256 (hex) of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()
