"""A body model by its registered name (built-in or from a plugin), for code below the CLI.

The registry is filled by plugins (:mod:`posebench.plugins`); this turns a name into a ready
model, so priors that pose a body (VPoser's mesh loss and ``neg_elbo`` energy) can build the one
their config names without reaching up to the benchmark layer.
"""

from __future__ import annotations

from pathlib import Path

from posebench.body.base import BodyModel
from posebench.core.device import resolve_device
from posebench.core.errors import PosebenchError
from posebench.plugins import get_registry


def load_body_model(name: str, path: str | Path | None = None, device: str = "cpu") -> BodyModel:
    """The body model registered as ``name``; ``path`` points at model files for bodies that
    need them (SMPL). One-line errors for an unknown name or a registration that is no body."""
    entry = get_registry().get("body_model", name)
    target = entry.load()
    if not (isinstance(target, type) and issubclass(target, BodyModel)):
        raise PosebenchError(
            f"plugin '{entry.plugin.name}' registered body model '{entry.name}' as {target!r}, "
            f"which is not a subclass of {BodyModel.__module__}.{BodyModel.__name__}"
        )
    return target(path=path, device=resolve_device(device))
