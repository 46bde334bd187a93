"""Built-in priors, registered through the same hook as third-party plugins."""

from __future__ import annotations

from posebench.hookspecs import RegisterCallback, hookimpl


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
    register(
        "nrdf",
        "posebench.priors.nrdf.prior:NRDFPrior",
        summary="NRDF: Riemannian distance field on 21 SO(3), geodesic training points",
        version="1",
    )
    register(
        "dposer",
        "posebench.priors.dposer.prior:DPoserPrior",
        summary="DPoser: score-based diffusion prior (sub-VP SDE), truncated-timestep guidance",
        version="1",
    )
    register(
        "vposer",
        "posebench.priors.vposer.prior:VPoserPrior",
        summary="VPoser v2-style VAE (32-D latent, 6D decoder); reads official V02_05 / v1 weights",
        version="1",
    )
    register(
        "gmm",
        "posebench.priors.gmm.prior:GMMPrior",
        summary="SMPLify-style mixture of 8 full-covariance Gaussians (max-mixture NLL)",
        version="1",
    )
