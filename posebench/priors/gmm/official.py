"""SMPLify's ``gmm_08.pkl`` format: a Python-2 pickle of ``{'means', 'covars', 'weights'}``.

Files are read through a restricted unpickler that admits numpy arrays and plain containers
only (a pickle can run arbitrary code otherwise). 69-D files cover joints 1..23 (with the two
hands); posebench models the 21 body joints, so each Gaussian is *marginalised* to the first 63
dimensions — exact per component. SMPLify-X and DPoser instead pad the 63-D pose with six zeros,
which evaluates the hand dimensions at zero although their means are not zero (a pose-independent
bias in the energy); posebench does not do that.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np
import torch

from posebench.core.atomic import atomic_write
from posebench.core.errors import InputError
from posebench.priors.gmm.mixture import Mixture

BODY_DIMS = 63  # 21 joints x 3
OFFICIAL_DIMS = 69  # 23 joints x 3 (SMPL pose[3:72])

_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("_codecs", "encode"),  # how Python 3 writes bytes in protocol 2 pickles
    ("copy_reg", "_reconstructor"),
    ("copyreg", "_reconstructor"),
    ("__builtin__", "object"),
    ("builtins", "object"),
}


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


def read_gmm_pickle(path: str | Path) -> tuple[Mixture, dict[str, Any]]:
    """A 63-D body-pose mixture from a gmm_08.pkl-style file, and any extra posebench metadata."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            data = _RestrictedUnpickler(handle, encoding="latin1").load()
    except FileNotFoundError as exc:
        raise InputError(f"GMM file {path} does not exist; check --checkpoint") from exc
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError) as exc:
        raise InputError(
            f"GMM file {path} is not a gmm_08.pkl-style pickle ({exc}); expected a dict with "
            "'means', 'covars', 'weights' (convert sklearn objects to that dict first)"
        ) from exc
    if not isinstance(data, dict) or not {"means", "covars", "weights"} <= set(data):
        keys = sorted(data) if isinstance(data, dict) else type(data).__name__
        raise InputError(
            f"GMM file {path} holds {keys}; expected a dict with 'means', 'covars', 'weights'"
        )
    means, covars, weights = (
        np.asarray(data[k], dtype=np.float64) for k in ("means", "covars", "weights")
    )
    k, dims = means.shape if means.ndim == 2 else (0, 0)
    if (
        dims not in (BODY_DIMS, OFFICIAL_DIMS)
        or covars.shape != (k, dims, dims)
        or weights.shape != (k,)
    ):
        raise InputError(
            f"GMM file {path} has means {means.shape}, covars {covars.shape}, weights "
            f"{weights.shape}; expected (K, 63 or 69), (K, D, D), (K,)"
        )
    if not all(np.isfinite(a).all() for a in (means, covars, weights)):
        raise InputError(f"GMM file {path} contains NaN or infinite values")
    try:
        mixture = Mixture(*(torch.from_numpy(a) for a in (means, covars, weights)))
    except torch.linalg.LinAlgError as exc:
        raise InputError(f"GMM file {path} has a covariance that is not positive definite") from exc
    extra = data.get("posebench", {})
    extra = dict(extra) if isinstance(extra, dict) else {}
    extra["source_dims"] = dims
    return mixture.marginal(BODY_DIMS) if dims == OFFICIAL_DIMS else mixture, extra


def write_gmm_pickle(
    path: str | Path, mixture: Mixture, extra: dict[str, Any] | None = None
) -> None:
    """Write SMPLify's format (protocol 2, numpy arrays) atomically; ``extra`` as 'posebench'."""
    data: dict[str, Any] = {
        "means": mixture.means.detach().cpu().double().numpy(),
        "covars": mixture.covars.detach().cpu().double().numpy(),
        "weights": mixture.weights.detach().cpu().double().numpy(),
    }
    if extra:
        data["posebench"] = extra
    atomic_write(path, lambda handle: pickle.dump(data, handle, protocol=2), binary=True)
