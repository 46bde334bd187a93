"""Run a posebench command as its own process and measure it: wall and CPU time, peak memory.

Peak resident memory comes from ``wait4``'s resource usage (Linux: kilobytes); it counts the
touched pages of memory-mapped files too, so the peak of the process's anonymous memory alone
(``RssAnon`` in ``/proc/PID/status``, read every 50 ms) is recorded beside it: mapped files are
the part the operating system can drop and read again.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path


def run_posebench(
    argv: list[str], env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> dict[str, float]:
    """``python -m posebench ARGV``: wall and CPU seconds, peak RSS and anonymous MiB. A failure
    stops the benchmark with the end of the command's error output."""
    with tempfile.TemporaryFile("w+") as errors:  # a file, not a pipe: a chatty child can't block
        started = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-m", "posebench", *argv], cwd=cwd,
                                 env=dict(env or os.environ), stdout=subprocess.DEVNULL,
                                 stderr=errors, text=True)  # fmt: skip
        anonymous = [0]
        watcher = threading.Thread(target=watch_anonymous, args=(child.pid, anonymous), daemon=True)
        watcher.start()
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        watcher.join()
        if os.waitstatus_to_exitcode(status) != 0:
            errors.seek(0)
            raise SystemExit(f"posebench {' '.join(argv)} failed: {errors.read().strip()[-800:]}")
    return {"wall_s": round(wall, 2), "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
            "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
            "peak_anon_mib": round(anonymous[0] / 1024, 1)}  # fmt: skip


def watch_anonymous(pid: int, peak: list[int]) -> None:
    """Keep ``peak[0]`` at the largest ``RssAnon`` (kB) of process ``pid`` until it is gone."""
    status = Path(f"/proc/{pid}/status")
    while True:
        try:
            text = status.read_text()
        except OSError:
            return
        if "RssAnon" not in text:  # a zombie: the process has exited
            return
        for line in text.splitlines():
            if line.startswith("RssAnon:"):
                peak[0] = max(peak[0], int(line.split()[1]))
        time.sleep(0.05)
