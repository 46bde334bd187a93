"""Progress reporting that library code can use without importing rich.

Library code takes an optional :class:`Progress`; the command line passes a rich one
(:mod:`posebench.cli.console`), everything else gets :class:`NullProgress`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol, TypeVar

T = TypeVar("T")


class Progress(Protocol):
    """Where long work reports how far it got."""

    def track(
        self, iterable: Iterable[T], description: str, total: int | None = None
    ) -> Iterator[T]:
        """Iterate over ``iterable`` while showing progress under ``description``."""
        ...

    def log(self, message: str) -> None:
        """Print one line of status above the progress display."""
        ...


class NullProgress:
    """Shows nothing: the default outside the command line."""

    def track(
        self, iterable: Iterable[T], description: str, total: int | None = None
    ) -> Iterator[T]:
        yield from iterable

    def log(self, message: str) -> None:
        pass
