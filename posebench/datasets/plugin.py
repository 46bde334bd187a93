"""Built-in datasets, registered through the same hook as third-party plugins."""

from __future__ import annotations

from posebench.hookspecs import RegisterCallback, hookimpl


@hookimpl
def register_datasets(register: RegisterCallback) -> None:
    """The embedded default ('embedded', and 'embedded-extended') and the AMASS loader ('amass')
    register here."""
    register(
        "embedded",
        "posebench.datasets.embedded:EmbeddedDataset",
        summary="the default: 19 licence-clean mocap clips (131 s) on the anny body, split by clip",
        version="2",  # posebench.datasets.embedded.EmbeddedDataset.version (not imported: lazy)
    )
    register(
        "embedded-extended",
        "posebench.datasets.embedded:EmbeddedExtendedDataset",
        summary="opt in: 'embedded' plus clips of unstated origin (boxing) as extra train data",
        version="1",  # posebench.datasets.embedded.EmbeddedExtendedDataset.version (lazy)
    )
    register(
        "amass",
        "posebench.datasets.amass:AmassDataset",
        summary="your prepared AMASS copy: VPoser / Pose-NDF pose splits, HuMoR 30 Hz motion",
        version="1",  # posebench.datasets.amass.AmassDataset.version (not imported here: lazy)
    )
