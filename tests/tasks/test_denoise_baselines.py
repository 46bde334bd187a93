"""The classical denoising baselines: the filters, their tuning on validation, their rows."""

from __future__ import annotations

import math

import pytest
import torch

import posebench
from posebench.core.errors import ConfigError
from posebench.fitting.smoothing import moving_average, savitzky_golay
from posebench.tasks import denoise_baselines
from posebench.tasks.denoise import DenoiseTask
from tests.tasks.test_denoise import run


def trajectories(noise: float, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """(4, 60, 22, 3) smooth joint paths (slow sines) and a noisy copy of them."""
    generator = torch.Generator().manual_seed(seed)
    t = torch.linspace(0, 2, 60).reshape(1, 60, 1, 1)
    phase = torch.rand(4, 1, 22, 3, generator=generator) * 2 * math.pi
    truth = 0.2 * torch.sin(math.pi * t + phase)
    return truth, truth + noise * torch.randn(truth.shape, generator=generator)


def test_savitzky_golay_keeps_a_polynomial_of_its_order_exactly_even_at_the_ends():
    t = torch.arange(30.0).reshape(1, 30, 1)
    quadratic = 0.01 * t**2 - 0.3 * t + 2.0
    torch.testing.assert_close(savitzky_golay(quadratic, 9, 2), quadratic, atol=1e-4, rtol=0)
    averaged = moving_average(quadratic, 9)  # a moving average bends a curve, most at the ends
    assert (averaged - quadratic).abs().max() > 0.05


def test_filters_reduce_white_noise_and_window_one_changes_nothing():
    truth, noisy = trajectories(noise=0.04)
    torch.testing.assert_close(moving_average(noisy, 1), noisy)
    for smoothed in (moving_average(noisy, 7), savitzky_golay(noisy, 11, 2)):
        assert (smoothed - truth).norm(dim=-1).mean() < 0.6 * (noisy - truth).norm(dim=-1).mean()


def test_candidates_keep_settings_that_fit_the_window_and_refuse_unknown_keys():
    spec = {"tune_split": "val", "moving_average": [3, 31, 99],
            "savitzky_golay": {"windows": [4, 5, 41], "orders": [2, 5]}}  # fmt: skip
    families = denoise_baselines.candidates(spec, frames=30)
    assert [f.params for f in families["moving average"]] == [{"window": 3}]
    assert [f.params for f in families["Savitzky-Golay"]] == [{"window": 5, "order": 2}]
    assert denoise_baselines.candidates({"moving_average": []}, frames=30) == {}
    with pytest.raises(ConfigError, match="unknown keys median"):
        denoise_baselines.candidates({"median": [3]}, frames=30)


def test_tuning_picks_a_long_window_for_heavy_noise_and_the_shortest_for_none():
    spec = {"moving_average": [1, 3, 5, 9, 15], "savitzky_golay": {"windows": [5, 9, 15, 21],
            "orders": [2]}}  # fmt: skip
    families = denoise_baselines.candidates(spec, frames=60)
    joints = torch.ones(4, 22, dtype=torch.bool)
    truth, noisy = trajectories(noise=0.04)
    tuned = denoise_baselines.tune(families, noisy, truth, joints)
    assert tuned["moving average"].chosen.params["window"] >= 5
    assert tuned["Savitzky-Golay"].chosen.params["window"] >= 9
    clean = denoise_baselines.tune(families, truth, truth, joints)
    assert clean["moving average"].chosen.params == {"window": 1}
    assert clean["moving average"].tuning_mpjpe_mm == 0.0


def test_denoise_scores_the_baselines_beside_the_prior_and_keeps_them_in_the_result(
    toy_plugin,
):
    dataset, body = toy_plugin.ToyPoses(), toy_plugin.ToyStickBody()
    few = {"optimiser": {"root_steps": 1, "frame_steps": 1, "steps": 1}}
    result = run(DenoiseTask(), posebench.load_prior("none"), dataset, body, "humor", **few)
    assert set(result.baseline_rows) == {"moving average", "Savitzky-Golay"}
    noisy = result.metrics["noisy_mpjpe_mm"]
    for family, row in result.baseline_rows.items():
        assert row["mpjpe_mm"] < noisy  # a tuned filter never makes white noise worse
        assert row["mpvpe_mm"] is None and "noisy_mpjpe_mm" not in row
        chosen = result.details["baselines"][family]
        assert chosen["window"] >= 3 and chosen["tuned_on"].startswith("val split")
    off = run(DenoiseTask(), posebench.load_prior("none"), dataset, body, "humor", baselines=None,
              **few)  # fmt: skip
    assert off.baseline_rows == {} and "baselines" not in off.details
