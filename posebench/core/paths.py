"""Where the installed package keeps its own files: shipped data and default configs."""

from __future__ import annotations

from pathlib import Path

#: The ``posebench`` package folder (installed or in a checkout).
PACKAGE_DIR = Path(__file__).resolve().parents[1]
#: Shipped data: the embedded body, the embedded motion, default checkpoints.
DATA_DIR = PACKAGE_DIR / "data"
#: Packaged YAML defaults for priors, tasks, suites and training.
CONFIG_DIR = PACKAGE_DIR / "configs"


def data_path(name: str) -> Path:
    """A file shipped in ``posebench/data`` (it may be absent in a trimmed install)."""
    return DATA_DIR / name


def config_path(relative: str) -> Path:
    """A packaged config, e.g. ``config_path("priors/none.yaml")``."""
    return CONFIG_DIR / relative
