"""The package version and distribution name, in one place every layer can import without
loading anything else."""

__version__ = "0.2.0"

#: The name pip knows this project by. ``posebench`` on PyPI is an unrelated protein-ligand
#: docking benchmark; the command and the import package keep the name posebench.
DISTRIBUTION = "pose-prior-bench"


def extra_hint(extra: str) -> str:
    """The pip command that installs one of this project's optional extras."""
    return f"pip install '{DISTRIBUTION}[{extra}]'"


def clashing_distribution() -> str | None:
    """The installed distribution named ``posebench``, if any (the unrelated docking project,
    or this project's 0.1 under its old name): its files go into the same import package, so
    whichever was installed last has overwritten parts of the other."""
    from importlib import metadata

    try:
        other = metadata.distribution("posebench")
    except metadata.PackageNotFoundError:
        return None
    summary = (other.metadata.get_all("Summary") or ["no summary"])[0]
    return f"posebench {other.version} ({summary})"
