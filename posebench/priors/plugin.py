"""Built-in priors, registered through the same hook as third-party plugins."""

from __future__ import annotations

from posebench.hookspecs import hookimpl
from posebench.plugins import RegisterCallback


@hookimpl
def register_priors(register: RegisterCallback) -> None:
    """Register the built-in priors (lazily: nothing is imported until a prior is used)."""
    register(
        "none",
        "posebench.priors.none:NonePrior",
        summary="no prior: zero energy, identity projection, uniform random rotations (the floor)",
        version="1",
    )
    register(
        "posendf",
        "posebench.priors.posendf.prior:PoseNDFPrior",
        summary="Pose-NDF: neural distance field on the pose manifold (reference prior)",
        version="1",
    )
