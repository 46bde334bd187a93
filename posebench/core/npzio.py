"""npz files: read with one-line errors naming the file, write atomically with JSON metadata."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from posebench.core.atomic import atomic_path, atomic_write
from posebench.core.errors import InputError


def read_npz(
    path: str | Path, what: str, hint: str, required: Iterable[str] = ()
) -> dict[str, np.ndarray]:
    """All arrays of the npz at ``path`` (no pickles); else one line: what, which file, hint."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{what} {path} does not exist; {hint}")
    try:
        data = np.load(path, allow_pickle=False)
        if not isinstance(data, np.lib.npyio.NpzFile):  # an .npy file loads as a bare array
            raise ValueError("an .npy array, not an .npz archive")
        with data:
            arrays = {key: data[key] for key in data.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise InputError(f"{what} {path} is not a readable .npz ({exc}); {hint}") from None
    missing = [key for key in required if key not in arrays]
    if missing:
        raise InputError(f"{what} {path} lacks {', '.join(missing)}; {hint}")
    return arrays


def write_npz(path: str | Path, arrays: dict[str, Any], meta: dict[str, Any]) -> Path:
    """Write ``arrays`` and a JSON ``meta`` string as a compressed npz, atomically."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, meta=np.array(json.dumps(meta, sort_keys=True)), **arrays)
    atomic_write(path, lambda handle: handle.write(buffer.getvalue()), binary=True)
    return Path(path)


def write_reproducible_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """An .npz np.load reads, byte for byte the same for the same arrays: fixed member order,
    times and attributes, deflate level 9 (np.savez stamps members with the current time).
    """
    with (
        atomic_path(path) as tmp,
        zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
    ):
        for name, array in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.asarray(array, order="C"), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            archive.writestr(info, buffer.getvalue(), compresslevel=9)
