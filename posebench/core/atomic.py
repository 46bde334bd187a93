"""Atomic file writes: a reader sees the old file or the complete new one, never half of one."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from posebench.core.errors import PosebenchError


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path`` in one rename."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        os.chmod(tmp_name, 0o666 & ~_umask())  # mkstemp makes 0600; match a plain open()
    except OSError as exc:
        raise PosebenchError(f"cannot write {path}: {exc.strerror}; choose another --out") from exc
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb") as handle:  # make the bytes durable before the rename
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _umask() -> int:
    """The process umask (reading it means setting it; it is put back at once)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write(path: str | Path, write: Callable[[IO[Any]], Any], binary: bool = False) -> None:
    """Call ``write(handle)`` on a temporary file, then move it over ``path`` atomically."""
    with (
        atomic_path(path) as tmp,
        open(tmp, "wb" if binary else "w", encoding=None if binary else "utf-8") as handle,
    ):
        write(handle)


def atomic_write_json(path: str | Path, data: Any) -> None:
    """Write ``data`` as indented JSON (strict: no NaN) atomically."""
    text = json.dumps(data, indent=2, sort_keys=False, allow_nan=False) + "\n"
    atomic_write(path, lambda handle: handle.write(text))


def atomic_torch_save(obj: Any, path: str | Path) -> None:
    """``torch.save`` atomically: checkpoints are never left half-written by an interruption."""
    import torch

    with atomic_path(path) as tmp:
        torch.save(obj, tmp)
