"""The Fréchet distance between two Gaussians fitted to samples: the sampling task's FID, and
what a generative prior's training can select its model by (layer: core, so both can use it)."""

from __future__ import annotations

import warnings

import numpy as np


def frechet_distance(x: np.ndarray, mean: np.ndarray, cov: np.ndarray) -> float:
    """Fréchet distance between the Gaussian fitted to ``x`` (N, D) and N(mean, cov)."""
    from scipy import linalg

    mu = x.mean(axis=0)
    sigma = np.cov(x, rowvar=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", linalg.LinAlgWarning)
        try:
            covmean = linalg.sqrtm(sigma @ cov)
            singular = not np.isfinite(covmean).all()
        except linalg.LinAlgWarning:
            singular = True
    if singular:  # a rank-deficient product: regularise as pytorch-fid does
        offset = np.eye(len(mu)) * 1e-6
        covmean = linalg.sqrtm((sigma + offset) @ (cov + offset))
    covmean = covmean.real
    return float(((mu - mean) ** 2).sum() + np.trace(sigma) + np.trace(cov) - 2 * np.trace(covmean))
