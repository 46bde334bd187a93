"""Where the checkpoint of each training seed lives, so a suite can score several trained models
of one prior and its intervals include training variance.

``posebench train --prior P --dataset D --seed T --out OUT`` trains into
``OUT/checkpoints/P/D/seed<T>/`` and leaves the final checkpoint there under the prior's
:attr:`~posebench.priors.base.Prior.final_checkpoint` name. The checkpoint shipped with the
package counts as the training seed its training record (``<checkpoint>.training.json``, key
``seed``) names, on the dataset it names, so that seed needs no training of its own.
"""

from __future__ import annotations

import json
from pathlib import Path

from posebench.core.errors import InputError
from posebench.core.paths import config_path
from posebench.priors.base import Prior


def training_dir(out: str | Path, prior: str, dataset: str, seed: int) -> Path:
    """The folder ``posebench train`` writes one training seed's checkpoints into."""
    return Path(out) / "checkpoints" / prior / dataset / f"seed{seed}"


def trains(prior: Prior) -> bool:
    """Whether the prior has trained models at all (a shipped checkpoint, or a final checkpoint
    that its :meth:`~Prior.fit` leaves); priors without one (``none``) have no training seeds."""
    return prior.final_checkpoint is not None or prior.default_checkpoint() is not None


def training_record(checkpoint: Path) -> dict[str, object]:
    """The training record written beside a shipped checkpoint (empty when there is none)."""
    path = checkpoint.with_suffix(".training.json")
    if not path.is_file():
        return {}
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"training record {path} is not valid JSON ({exc}); restore it") from exc
    return record if isinstance(record, dict) else {}


def shipped_training_seed(prior: Prior, dataset: str) -> int | None:
    """The training seed of the prior's shipped checkpoint when it was trained on ``dataset``
    (None when there is no shipped checkpoint, or its record names no seed or another dataset)."""
    shipped = prior.default_checkpoint()
    if shipped is None:
        return None
    record = training_record(Path(shipped))
    seed, trained_on = record.get("seed"), record.get("dataset")
    if not isinstance(seed, int) or isinstance(seed, bool) or trained_on != dataset:
        return None
    return seed


def checkpoint_for_seed(
    prior: Prior, name: str, dataset: str, seed: int, train_out: str | Path
) -> Path | None:
    """The checkpoint of training seed ``seed``: None means the shipped one (it was trained with
    that seed); else the final checkpoint under :func:`training_dir`. A one-line error says how
    to train it when it is missing."""
    if shipped_training_seed(prior, dataset) == seed:
        return None
    if prior.final_checkpoint is None:
        raise InputError(
            f"prior '{name}' does not declare the checkpoint file its training leaves "
            "(final_checkpoint), so its training seeds cannot be found; score it without "
            "--train-seeds"
        )
    folder = training_dir(train_out, name, dataset, seed)
    path = folder / prior.final_checkpoint
    if not path.is_file():
        raise InputError(
            f"no {name} checkpoint for training seed {seed} ({path} does not exist); train it "
            f"with the shipped model's recipe: posebench train --prior {name} --dataset "
            f"{dataset} --seed {seed} --out {train_out}{_recipe_hint(prior)}"
        )
    return path


def _recipe_hint(prior: Prior) -> str:
    """`` --prior-config FILE`` when the shipped model's record names the config it was
    trained with (relative: a packaged config, as ``training/<name>.yaml``), else ''."""
    shipped = prior.default_checkpoint()
    if shipped is None:
        return ""
    recipe = training_record(Path(shipped)).get("prior_config")
    if not isinstance(recipe, str) or not recipe:
        return ""
    return f" --prior-config {config_path(recipe) if not Path(recipe).is_absolute() else recipe}"
