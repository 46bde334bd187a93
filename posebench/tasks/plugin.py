"""Built-in tasks, registered through the same hook as third-party plugins."""

from __future__ import annotations

from posebench.hookspecs import RegisterCallback, hookimpl


@hookimpl
def register_tasks(register: RegisterCallback) -> None:
    """The built-in tasks (sample, interpolate, denoise, image_fit, complete) register here."""
    register(
        "denoise",
        "posebench.tasks.denoise:DenoiseTask",
        summary="motion denoising (HuMoR joint noise, Pose-NDF rotation noise)",
        version="1",
    )
    register(
        "sample",
        "posebench.tasks.sample:SampleTask",
        summary="pose sampling: APD, FID, precision/recall, dNN, share plausible",
        version="1",
    )
    register(
        "interpolate",
        "posebench.tasks.interpolate:InterpolateTask",
        summary="pose interpolation: plausibility along the path, smoothness, endpoint error",
        version="1",
    )
    register(
        "complete",
        "posebench.tasks.complete:CompleteTask",
        summary="pose completion: hidden body parts or joints filled in by the prior",
        version="1",
    )
    register(
        "image_fit",
        "posebench.tasks.image_fit:ImageFitTask",
        summary="image fitting: SMPLify-style fit to OpenPose BODY_25 keypoints (synthetic set)",
        version="1",
    )
