"""Built-in body models, registered through the same hook as third-party plugins."""

from __future__ import annotations

from posebench.hookspecs import RegisterCallback, hookimpl


@hookimpl
def register_body_models(register: RegisterCallback) -> None:
    """The embedded open body ('anny') and the SMPL-file backend ('smpl') register here."""
    register(
        "anny",
        "posebench.body.anny:AnnyBody",
        summary="embedded open body (Anny mesh on SMPL's 22-joint tree; default, no files needed)",
        version="1",
    )
    register(
        "smpl",
        "posebench.body.smpl:SMPLBody",
        summary="SMPL / SMPL+H / SMPL-X files from --body-model-path (needs the 'smpl' extra)",
        version="1",
    )
