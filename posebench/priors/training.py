"""Resuming a prior's training from its last checkpoint, bit-identically.

A training loop saves, every so often, everything its next step depends on: the model, the
optimiser (and scheduler), the random generators and its own counters. :func:`resume_state` reads
that file back when the user asks to resume, and :func:`restore` puts each saved entry back into
its object, so the loop continues exactly as if it had never stopped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch

from posebench.core.errors import InputError


def resume_state(
    path: Path,
    resume: bool,
    map_location: torch.device | str,
    check: Callable[[Mapping[str, Any]], None],
) -> dict[str, Any] | None:
    """The training state saved at ``path`` when ``resume`` is set and the file exists, else
    None. ``check`` raises a one-line error when the state is from other data or settings."""
    if not resume or not path.is_file():
        return None
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # truncated or overwritten: torch raises zip, pickle or EOF errors
        raise InputError(
            f"cannot resume from {path}: the training state is damaged ({type(exc).__name__}); "
            "delete it to start again, or drop --resume"
        ) from exc
    if not isinstance(state, dict):
        raise InputError(
            f"cannot resume from {path}: it holds a {type(state).__name__}, not a training "
            "state; delete it to start again, or drop --resume"
        )
    check(state)
    return state


def restore(state: Mapping[str, Any], targets: Mapping[str, Any]) -> None:
    """Load each saved entry into its object: ``targets`` maps a key of ``state`` (dotted for
    nested entries, e.g. ``"rng.noise"``) to a module, optimiser or scheduler (``load_state_dict``)
    or a generator (``set_state``, from the CPU copy a generator's state always is)."""
    for key, target in targets.items():
        value: Any = state
        for part in key.split("."):
            value = value[part]
        if isinstance(target, torch.Generator):
            target.set_state(value.cpu())
        else:
            target.load_state_dict(value)
