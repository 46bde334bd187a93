"""How many CPU threads torch may use for a piece of work.

torch's default is one thread per core. Work made of many small operations (drawing one picture,
posing one body) gains nothing from more threads and loses a lot on a shared machine, where
threads that wait for a busy core spin: rendering one picture took 180 ms with two threads and
58 ms with one on a 2-core machine running another job (benchmarks/RESULTS.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch


@contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """Run the block with at most ``count`` torch CPU threads, then restore the previous count."""
    previous = torch.get_num_threads()
    torch.set_num_threads(max(1, min(count, previous)))
    try:
        yield
    finally:
        torch.set_num_threads(previous)
