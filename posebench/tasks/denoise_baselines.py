"""Classical denoising baselines: prior-free filters of the observed joints, scored beside priors.

Each family (a centred moving average; a Savitzky–Golay filter) has its window (and polynomial
order) chosen on the tuning split's windows with the same noise model and seed, then is applied
to the evaluation windows' observations and scored exactly like a prior's fit. They need no
body model and no prior, so a prior that does not beat them has not shown what it adds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import torch

from posebench.core.errors import ConfigError
from posebench.fitting.smoothing import moving_average, savitzky_golay
from posebench.tasks.metrics import mpjpe_mm

MOVING_AVERAGE = "moving average"
SAVITZKY_GOLAY = "Savitzky-Golay"


@dataclass(frozen=True)
class Filter:
    """One filter setting of a family: applies itself to (W, T, J, 3) joint trajectories."""

    family: str
    params: dict[str, int] = field(hash=False)
    apply: Callable[[torch.Tensor], torch.Tensor] = field(hash=False, compare=False, repr=False)

    def describe(self) -> str:
        """E.g. ``Savitzky-Golay, window 11, order 2``."""
        return ", ".join([self.family, *(f"{k} {v}" for k, v in self.params.items())])


@dataclass(frozen=True)
class Tuned:
    """A family's chosen setting and its error on the tuning windows."""

    chosen: Filter
    tuning_mpjpe_mm: float
    tried: int


def candidates(spec: Mapping[str, Any], frames: int) -> dict[str, list[Filter]]:
    """The settings to try per family (config ``baselines``), keeping those that fit in a
    window of ``frames`` frames."""
    unknown = set(spec) - {"tune_split", "moving_average", "savitzky_golay"}
    if unknown:
        raise ConfigError(f"denoise baselines: unknown keys {', '.join(sorted(unknown))}")
    out: dict[str, list[Filter]] = {}
    averages = [int(w) for w in spec.get("moving_average") or [] if 1 <= int(w) <= frames]
    if averages:
        out[MOVING_AVERAGE] = [
            Filter(MOVING_AVERAGE, {"window": w}, partial(moving_average, window=w))
            for w in averages
        ]
    sg = spec.get("savitzky_golay") or {}
    settings = [
        (int(w), int(o))
        for w in sg.get("windows") or []
        for o in sg.get("orders") or []
        if int(w) % 2 == 1 and int(o) < int(w) <= frames
    ]
    if settings:
        out[SAVITZKY_GOLAY] = [
            Filter(
                SAVITZKY_GOLAY,
                {"window": w, "order": o},
                partial(savitzky_golay, window=w, order=o),
            )
            for w, o in settings
        ]
    return out


def tune(
    families: Mapping[str, list[Filter]],
    observed: torch.Tensor,
    truth: torch.Tensor,
    joints: torch.Tensor,
) -> dict[str, Tuned]:
    """Per family, the setting with the lowest MPJPE on the tuning windows (ties: the first, i.e.
    the smallest window as listed)."""
    tuned: dict[str, Tuned] = {}
    for family, settings in families.items():
        errors = [float(mpjpe_mm(f.apply(observed), truth, joints).mean()) for f in settings]
        best = min(range(len(settings)), key=errors.__getitem__)
        tuned[family] = Tuned(settings[best], errors[best], len(settings))
    return tuned


def record(tuned: Mapping[str, Tuned], split: str, windows: int) -> dict[str, Any]:
    """What the result file keeps about the baselines: the chosen settings and how."""
    return {
        family: {
            **t.chosen.params,
            "tuned_on": f"{split} split, {windows} windows, lowest MPJPE of {t.tried} settings",
            "tuning_mpjpe_mm": t.tuning_mpjpe_mm,
        }
        for family, t in tuned.items()
    }
