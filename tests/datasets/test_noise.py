"""Noise models: seeded, the right σ, hashed, and strict about their input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from posebench.core.errors import ConfigError, InputError, UnknownNameError
from posebench.core.hashing import hash_arrays
from posebench.datasets.noise import (
    NOISE_MODELS,
    add_noise,
    get_noise_model,
    humor_noise,
    rotation_noise,
)

JOINTS = torch.linspace(-1, 1, 60 * 22 * 3, dtype=torch.float64).reshape(60, 22, 3)
POSE = torch.linspace(-0.5, 0.5, 60 * 21 * 3, dtype=torch.float64).reshape(60, 21, 3)


@pytest.mark.parametrize(("name", "data"), [("humor", JOINTS), ("rotation", POSE)])
def test_same_seed_same_noise_other_seed_differs(name: str, data: torch.Tensor) -> None:
    a = add_noise(name, data, 0)
    b = add_noise(name, data, torch.Generator().manual_seed(0))
    c = add_noise(name, data, 1)
    assert torch.equal(a.noisy, b.noisy) and a.hash == b.hash
    assert not torch.equal(a.noisy, c.noisy) and a.hash != c.hash
    assert a.hash == hash_arrays(a.noisy) and a.noisy.shape == data.shape
    assert a.noisy.dtype == data.dtype and a.model == name


def test_generator_advances_between_calls() -> None:
    generator = torch.Generator().manual_seed(7)
    first = humor_noise(JOINTS, generator)
    second = humor_noise(JOINTS, generator)
    assert first.hash != second.hash and first.seed is None


def test_humor_sigma_and_mean() -> None:
    joints = torch.zeros(2000, 22, 3)
    result = humor_noise(joints, 3)
    noise = result.noisy - joints
    assert result.params == {"sigma": 0.04} and result.seed == 3
    assert noise.std().item() == pytest.approx(0.04, rel=0.01)
    assert abs(noise.mean().item()) < 0.001
    # i.i.d. per coordinate: no correlation between x and y of the same joint.
    xy = torch.corrcoef(torch.stack([noise[..., 0].reshape(-1), noise[..., 1].reshape(-1)]))
    assert abs(xy[0, 1].item()) < 0.02


@pytest.mark.parametrize("sigma", [0.1, 0.5])
def test_rotation_sigma_is_additive_on_axis_angle(sigma: float) -> None:
    result = rotation_noise(POSE, 11, sigma=sigma)
    noise = result.noisy - POSE
    assert result.params == {"sigma": sigma} and result.record()["model"] == "rotation"
    big = rotation_noise(torch.zeros(3000, 21, 3), 12, sigma=sigma).noisy
    assert big.std().item() == pytest.approx(sigma, rel=0.01)
    # Exactly pose + σ·N(0, 1) from the seeded CPU generator: additive on the axis-angle vector.
    draw = torch.randn(POSE.shape, generator=torch.Generator().manual_seed(11), dtype=POSE.dtype)
    torch.testing.assert_close(noise, sigma * draw)


def test_hash_changes_when_data_changes() -> None:
    other = JOINTS.clone()
    other[0, 0, 0] += 1e-6
    assert humor_noise(JOINTS, 0).hash != humor_noise(other, 0).hash
    assert humor_noise(JOINTS, 0).hash != humor_noise(JOINTS, 0, sigma=0.02).hash


def test_numpy_input_is_accepted_and_not_modified() -> None:
    joints = np.zeros((5, 22, 3))
    result = humor_noise(joints, 0)
    assert isinstance(result.noisy, torch.Tensor) and not joints.any()


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("humor", torch.zeros(5, 22, 2), r"\(\.\.\., J, 3\)"),
        ("humor", torch.zeros(3), r"\(\.\.\., J, 3\)"),
        ("rotation", torch.zeros(5, 23, 3), r"\(\.\.\., 21, 3\)"),
        ("rotation", torch.zeros(5, 21, 4), r"\(\.\.\., 21, 3\)"),
        ("humor", torch.full((5, 22, 3), float("nan")), "NaN"),
        ("rotation", torch.full((5, 21, 3), float("inf")), "NaN or infinity"),
        ("humor", torch.zeros(5, 22, 3, dtype=torch.int64), "floating point"),
    ],
)
def test_bad_input(name: str, data: torch.Tensor, message: str) -> None:
    with pytest.raises(InputError, match=message):
        add_noise(name, data, 0)


def test_bad_parameters_and_seed() -> None:
    with pytest.raises(ConfigError, match="sigma must be a positive"):
        humor_noise(JOINTS, 0, sigma=-1)
    with pytest.raises(ConfigError, match="takes only 'sigma'"):
        add_noise("humor", JOINTS, 0, std=0.1)
    with pytest.raises(InputError, match="integer seed"):
        humor_noise(JOINTS, "0")  # type: ignore[arg-type]


def test_lookup_suggests_close_names() -> None:
    assert set(NOISE_MODELS) == {"humor", "rotation"}
    assert get_noise_model("rotation") is rotation_noise
    with pytest.raises(UnknownNameError, match="did you mean 'humor'"):
        get_noise_model("humour")
    with pytest.raises(UnknownNameError, match="known: humor, rotation"):
        get_noise_model("xyz")
