"""Built-in tasks, registered through the same hook as third-party plugins."""

from __future__ import annotations

from posebench.hookspecs import hookimpl
from posebench.plugins import RegisterCallback


@hookimpl
def register_tasks(register: RegisterCallback) -> None:
    """The built-in tasks (sample, interpolate, denoise, image_fit) register here."""
    register(
        "denoise",
        "posebench.tasks.denoise:DenoiseTask",
        summary="motion denoising (HuMoR joint noise, Pose-NDF rotation noise)",
        version="1",
    )
