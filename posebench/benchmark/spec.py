"""What one run is asked to do: the typed options every benchmark command shares, and defaults.

Importing this module is cheap (no torch): the command line builds its options and ``--help``
from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: The defaults of the run options, written once here (the command line shows them in ``--help``).
DEFAULT_DATASET = "embedded"
DEFAULT_BODY_MODEL = "anny"
DEFAULT_OUT = "results"
DEFAULT_SEED = 0
DEFAULT_DEVICE = "auto"

PathLike = str | Path
ConfigLike = str | Path | Mapping[str, Any]


@dataclass(frozen=True, kw_only=True)
class RunSpec:
    """One run's options: which prior (if any) on which task, with which data, body and seed.

    ``run``, ``tune``, ``export`` and ``score`` take one; ``prior`` is None for the last two.
    ``amass_dir`` is the option of the ``amass`` dataset; ``dataset_options`` passes any other
    keyword to a dataset's constructor. ``training_seed`` picks the prior's model trained with
    that seed (the shipped one, or what ``posebench train --seed`` wrote under ``train_out``)
    instead of ``checkpoint``; None scores the given or shipped checkpoint as it is.
    """

    prior: str | None = None
    task: str
    protocol: str | None = None
    dataset: str = DEFAULT_DATASET
    body_model: str = DEFAULT_BODY_MODEL
    body_model_path: PathLike | None = None
    checkpoint: PathLike | None = None
    prior_config: ConfigLike | None = None
    task_config: ConfigLike | None = None
    seed: int = DEFAULT_SEED
    training_seed: int | None = None
    train_out: PathLike = DEFAULT_OUT
    device: str = DEFAULT_DEVICE
    quick: bool = False
    out: PathLike = DEFAULT_OUT
    amass_dir: PathLike | None = None
    dataset_options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def size(self) -> str:
        """``quick`` or ``full``: the size recorded in results."""
        return "quick" if self.quick else "full"

    def dataset_kwargs(self) -> dict[str, Any]:
        """Keywords for the dataset's constructor (the AMASS folder, when one is given)."""
        kwargs = dict(self.dataset_options)
        if self.amass_dir:
            kwargs["amass_dir"] = self.amass_dir
        return kwargs
