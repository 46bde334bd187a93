"""The Task contract: a fixed, versioned protocol that scores any prior through its contract."""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import torch

from posebench.core.config import merge_config, read_yaml
from posebench.core.errors import CapabilityNotSupported, UnknownNameError, suggest
from posebench.core.schema import Rule, check_config

if TYPE_CHECKING:
    from posebench.body.base import BodyModel
    from posebench.core.progress import Progress
    from posebench.datasets.base import Dataset
    from posebench.priors.base import Prior


@dataclass(frozen=True)
class Metric:
    """A metric a task reports: its unit, direction and a one-line description (what the
    leaderboard's legend says about it). ``describes_input`` marks a metric of the task's input
    itself (e.g. the noisy motion's error): the same for every prior, so it is shown once per
    task and never ranked."""

    unit: str
    higher_is_better: bool
    description: str = ""
    describes_input: bool = False

    @property
    def arrow(self) -> str:
        """↑ when higher is better, ↓ otherwise."""
        return "↑" if self.higher_is_better else "↓"


@dataclass
class TaskResult:
    """What one run of a task produced.

    ``metrics`` maps each declared metric to a number, or to None when the prior lacks the
    capability the metric needs (``not_supported`` then says which). ``details`` holds anything
    else worth keeping (per-item numbers, iterations, the energy weight used); ``arrays`` holds
    small arrays worth keeping beside the result file (a few samples, for pictures), which the
    runner writes to ``seed<k>.npz`` next to ``seed<k>.json``. ``data_rows`` maps a name (e.g. a
    split) to the same metrics computed on real data instead of the prior's output: reference
    rows the leaderboard shows beside the priors, labelled as data. ``baseline_rows`` maps a
    name to the same metrics for a prior-free method on the same inputs (e.g. a moving average
    of the noisy joints): reference rows labelled as baselines. ``per_unit`` holds the main
    metric per independent unit (e.g. ``{"unit": "clip", "item": "window", "values": {clip:
    [per-window values]}}``), for intervals and significance over units rather than seeds.
    """

    metrics: dict[str, float | None]
    details: dict[str, Any] = field(default_factory=dict)
    inputs_hash: str | None = None
    not_supported: str | None = None
    energy_weight: float | None = None
    energy_weight_source: str | None = None
    arrays: dict[str, Any] = field(default_factory=dict)
    data_rows: dict[str, dict[str, float | None]] = field(default_factory=dict)
    baseline_rows: dict[str, dict[str, float | None]] = field(default_factory=dict)
    per_unit: dict[str, Any] = field(default_factory=dict)


class Task(abc.ABC):
    """A task. Subclasses declare ``name``, ``version`` (bump when data or protocol change),
    ``protocols``, ``metrics``, ``main_metric`` and ``default_config``, and implement :meth:`run`.
    """

    name: ClassVar[str]
    version: ClassVar[str] = "0"
    protocols: ClassVar[tuple[str, ...]] = ("default",)
    metrics: ClassVar[Mapping[str, Metric]] = {}
    main_metric: ClassVar[str]
    #: Default configuration, keyed by protocol name: ``{protocol: {...}}``, plus shared keys.
    default_config: ClassVar[Mapping[str, Any]] = {}
    #: Ranges, choices and null-ness of config keys beyond the types their defaults imply
    #: (:mod:`posebench.core.schema`); a user's overrides are checked against both.
    config_schema: ClassVar[Mapping[str, Rule]] = {}
    #: Which split the task evaluates on (``posebench tune`` runs it on ``val`` instead).
    eval_split: ClassVar[str] = "test"
    #: True when the task weighs the prior's energy against a data term, so the weight can be
    #: tuned; such a task's config has a ``split`` key.
    weighs_prior_energy: ClassVar[bool] = False

    def protocol(self, name: str | None) -> str:
        """The protocol to run: ``name`` if the task has it, else the task's first protocol."""
        if name is None:
            return self.protocols[0]
        if name not in self.protocols:
            raise UnknownNameError(
                f"task '{self.name}' has no protocol '{name}'{suggest(name, self.protocols)}; "
                f"its protocols: {', '.join(self.protocols)}"
            )
        return name

    def config(
        self,
        protocol: str,
        overrides: Mapping[str, Any] | str | Path | None = None,
        quick: bool = False,
    ) -> dict[str, Any]:
        """The full configuration of one protocol: defaults, then ``quick`` sizes, then overrides.

        ``default_config`` may hold a ``quick`` mapping of the sizes CI uses; overrides are
        checked against the defaults (unknown keys, and types and ranges: :attr:`config_schema`)
        before anything is merged, so a bad value is one line naming its file and key.
        """
        base = self.base_config()
        per_protocol = (self.default_config.get("protocols") or {}).get(protocol, {}) or {}
        config = merge_config(base, per_protocol, where=f"task '{self.name}' protocol {protocol}")
        if quick:
            config = merge_config(
                config, self.default_config.get("quick") or {}, where=f"task '{self.name}' quick"
            )
        if overrides:
            where = f"task '{self.name}' config"
            if isinstance(overrides, (str, Path)):
                where, overrides = f"{where} file {overrides}", read_yaml(overrides)
            check_config(overrides, base, self.config_schema, where)
            config = merge_config(config, overrides, where=where)
        config["protocol"] = protocol
        return config

    def base_config(self) -> dict[str, Any]:
        """The defaults every protocol shares (``default_config`` without its ``protocols`` and
        ``quick`` blocks): what overrides are checked against."""
        return {k: v for k, v in self.default_config.items() if k not in ("protocols", "quick")}

    def weight_key(self, config: Mapping[str, Any]) -> str:
        """The key of the prior's ``energy_weights`` this task reads with ``config``: the task's
        name, unless a protocol weighs the prior with its own key (e.g. a published objective)."""
        return self.name

    def check_inputs(self, config: Mapping[str, Any]) -> None:
        """Refuse, with one line, files named in ``config`` that a run could not read (called
        before a run starts, so nothing is printed or written first). The default has none."""
        return None

    def check_resources(self, config: Mapping[str, Any]) -> None:
        """Refuse, with one line, sizes this machine cannot hold (called before a run starts).
        The default accepts every size: most tasks' sizes come from their data."""
        return None

    def export_inputs(
        self,
        dataset: Dataset,
        body: BodyModel,
        config: Mapping[str, Any],
        device: torch.device,
        seed: int,
    ) -> tuple[dict[str, Any], str]:
        """The frozen inputs a method outside posebench needs (arrays), and their hash."""
        raise CapabilityNotSupported("task", self.name, "exporting its inputs")

    def score(
        self,
        predictions: Mapping[str, Any],
        dataset: Dataset,
        body: BodyModel,
        config: Mapping[str, Any],
        device: torch.device,
        seed: int,
    ) -> TaskResult:
        """Metrics of an outside method's predictions for the exported inputs."""
        raise CapabilityNotSupported("task", self.name, "scoring predictions")

    @abc.abstractmethod
    def run(
        self,
        prior: Prior,
        dataset: Dataset,
        body: BodyModel,
        config: Mapping[str, Any],
        device: torch.device,
        seed: int,
        progress: Progress,
    ) -> TaskResult:
        """Score ``prior`` on ``dataset``'s evaluation split; deterministic for a seed."""
