"""Prior-free temporal filters of joint trajectories: the classical denoising baselines.

A pose prior earns its place in motion denoising only if it beats what a signal-processing
filter does without any knowledge of bodies; these are the filters it has to beat.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.ndimage import uniform_filter1d
from scipy.signal import savgol_filter

from posebench.core.errors import ConfigError


def moving_average(points: torch.Tensor, window: int) -> torch.Tensor:
    """Centred moving average of ``window`` frames along dim 1 of (B, T, ...); at the ends the
    first and last frames are repeated (scipy's ``nearest`` mode)."""
    _check_window(window, points.shape[1], minimum=1)
    smoothed = uniform_filter1d(_numpy(points), size=window, axis=1, mode="nearest")
    return torch.as_tensor(smoothed, dtype=points.dtype, device=points.device)


def savitzky_golay(points: torch.Tensor, window: int, order: int) -> torch.Tensor:
    """Savitzky–Golay filter along dim 1 of (B, T, ...): the centre value of a least-squares
    polynomial of degree ``order`` over ``window`` frames; at the ends the polynomial fitted to
    the first or last window is evaluated (scipy's ``interp`` mode), so the ends are not biased
    towards a constant."""
    _check_window(window, points.shape[1], minimum=order + 1)
    if window % 2 == 0:
        raise ConfigError(f"Savitzky-Golay window {window} must be odd")
    smoothed = savgol_filter(_numpy(points), window, order, axis=1, mode="interp")
    return torch.as_tensor(smoothed, dtype=points.dtype, device=points.device)


def _check_window(window: int, frames: int, minimum: int) -> None:
    if not minimum <= window <= frames:
        raise ConfigError(f"filter window {window} must be between {minimum} and {frames} frames")


def _numpy(points: torch.Tensor) -> np.ndarray:
    return points.detach().to("cpu", torch.float64).numpy()
