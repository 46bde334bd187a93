"""Memory a request would need, checked against what the machine has before the work starts.

A size in a config or on the command line can ask for more than any machine holds (a sample
task with 10^13 poses); refusing it up front with one line beats an allocator traceback, or a
machine that swaps for an hour first.
"""

from __future__ import annotations

import os
from pathlib import Path

from posebench.core.errors import ConfigError

MEMINFO = Path("/proc/meminfo")


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (Linux: MemAvailable), or None if unknown."""
    try:
        for line in MEMINFO.read_text(encoding="ascii").splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def require_memory(needed: int, what: str, hint: str, available: int | None = None) -> None:
    """Refuse ``what`` when its estimated ``needed`` bytes exceed the available memory."""
    available = available_memory() if available is None else available
    if available is not None and needed > available:
        raise ConfigError(
            f"{what} needs about {_size(needed)} of memory, more than the {_size(available)} "
            f"available here; {hint}"
        )


def _size(count: float) -> str:
    """Bytes as B, KiB, MiB, GiB or TiB."""
    if count < 1024:
        return f"{count:.0f} B"
    for unit in ("KiB", "MiB", "GiB"):
        count /= 1024
        if count < 1024:
            return f"{count:.1f} {unit}"
    return f"{count / 1024:.1f} TiB"
