"""The command line's terminal output: rich progress bars on stderr, rich tables on stdout."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

T = TypeVar("T")

stdout = Console()
stderr = Console(stderr=True)


class RichProgress:
    """A :class:`posebench.core.progress.Progress` drawn with rich (transient bars)."""

    def __init__(self, console: Console = stderr, disable: bool = False) -> None:
        self.console = console
        self.disable = disable

    def track(
        self, iterable: Iterable[T], description: str, total: int | None = None
    ) -> Iterator[T]:
        if total is None and hasattr(iterable, "__len__"):
            total = len(iterable)  # type: ignore[arg-type]
        if not self.disable and not self.console.is_terminal:
            yield from self._track_plain(iterable, description, total)
            return
        columns = (
            SpinnerColumn(),
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
        )
        with Progress(
            *columns, console=self.console, transient=True, disable=self.disable
        ) as progress:
            task = progress.add_task(description, total=total)
            for item in iterable:
                yield item
                progress.advance(task)

    def _track_plain(
        self, iterable: Iterable[T], description: str, total: int | None
    ) -> Iterator[T]:
        """Not a terminal (a log file, a pipe, CI): no live bars, one line when a stage starts
        and one when it ends, so the output shows what is running and how long each part took."""
        size = f" ({total} steps)" if total else ""
        self.log(f"{description}{size} ...")
        started = time.perf_counter()
        yield from iterable
        self.log(f"{description}: done in {time.perf_counter() - started:.1f} s")

    def log(self, message: str) -> None:
        if not self.disable:  # --quiet silences status lines too; results still print
            self.console.print(message, markup=False, highlight=False, soft_wrap=True)


def make_progress(quiet: bool) -> RichProgress:
    """The progress display of a command: rich bars on stderr, none with ``--quiet``."""
    return RichProgress(disable=quiet)
