"""Splitting work over machines (a suite's runs, Pose-NDF's target units): ``--shard I/N``,
torchrun ranks or a Slurm array.

Each suite run (prior, task, seed) writes its own result file, so shards never collide and the
leaderboard merges them by reading the shared folder; each target unit draws from its own seeded
stream, so target shards are assembled into exactly the unsharded set. The split is round-robin
over a fixed order (the suite's task, prior, seed; the planned target units), so every shard
gets a share of every kind of work.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from posebench.core.errors import ConfigError

T = TypeVar("T")

_SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` (0-based) of ``count``, and where that came from."""

    index: int
    count: int
    source: str = "--shard"

    def __post_init__(self) -> None:
        if self.count < 1 or not 0 <= self.index < self.count:
            raise ConfigError(
                f"shard {self.index}/{self.count} (from {self.source}): the index must be "
                f"0..{max(self.count - 1, 0)} of at least one shard"
            )

    def take(self, runs: Sequence[T]) -> list[T]:
        """This shard's runs: every ``count``-th from ``index``."""
        return list(runs[self.index :: self.count])


def parse_shard(text: str) -> Shard:
    """``I/N`` (0-based index I of N shards) from the command line."""
    match = _SHARD.match(text)
    if not match:
        raise ConfigError(f"--shard {text!r}: use I/N, e.g. 0/4 for the first of four shards")
    return Shard(int(match[1]), int(match[2]))


def shard_from_environment(env: Mapping[str, str] | None = None) -> Shard | None:
    """The shard a launcher assigned: torchrun's ``RANK``/``WORLD_SIZE``, or a Slurm array's
    ``SLURM_ARRAY_TASK_ID`` (minus ``SLURM_ARRAY_TASK_MIN``) of ``SLURM_ARRAY_TASK_COUNT``;
    None when neither is set."""
    env = os.environ if env is None else env
    for index_key, count_key, offset_key in (
        ("RANK", "WORLD_SIZE", None),
        ("SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT", "SLURM_ARRAY_TASK_MIN"),
    ):
        if index_key in env and count_key in env:
            source = f"${index_key}/${count_key}"
            try:
                index = int(env[index_key]) - int(env.get(offset_key or "", "0") or 0)
                count = int(env[count_key])
            except ValueError as exc:
                raise ConfigError(f"{source} is not a pair of integers ({exc})") from exc
            return Shard(index, count, source)
    return None
