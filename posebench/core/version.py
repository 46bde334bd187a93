"""The package version, in one place every layer can import without loading anything else."""

__version__ = "0.1.0"
