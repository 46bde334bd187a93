"""The spurious-zero check: it passes a field whose zeros lie on the data and fails one that
says zero far from it."""

from __future__ import annotations

import torch

from posebench.priors.posendf.calibration import spurious_zero_check, true_distance
from posebench.priors.posendf.quat import axis_angle_to_quat, canonical

SAMPLE = {"init": "orthant", "rest_sigma": 1.0, "steps": 5}


def _poses(n: int, seed: int, sigma: float = 0.2) -> torch.Tensor:
    return sigma * torch.randn(n, 21, 3, generator=torch.Generator().manual_seed(seed))


class OracleField:
    """Distance = the true one; projection = jump to the nearest training pose."""

    device = torch.device("cpu")
    config = {"sample": SAMPLE}

    def __init__(self, train: torch.Tensor) -> None:
        self.manifold = canonical(axis_angle_to_quat(train.double())).float()

    def distance_quat(self, quat: torch.Tensor) -> torch.Tensor:
        return true_distance(quat.float(), self.manifold, k=5)

    def project_quat(self, quat: torch.Tensor, steps: int | None = None) -> torch.Tensor:
        distances = 1 - (quat[:, None].float() * self.manifold[None]).sum(-1).abs().mean(-1)
        return self.manifold[distances.argmin(dim=1)]


class SpuriousField(OracleField):
    """Says zero everywhere, and projection does not move: every start 'lands'."""

    def distance_quat(self, quat: torch.Tensor) -> torch.Tensor:
        return torch.zeros(len(quat))

    def project_quat(self, quat: torch.Tensor, steps: int | None = None) -> torch.Tensor:
        return quat


def test_a_field_whose_zeros_lie_on_the_data_passes():
    train, val = _poses(300, 0), _poses(100, 1)
    report = spurious_zero_check(OracleField(train), train, val, starts=64, k=5)
    assert report.passed and report.ratio < 1.0  # projected onto training poses: near them
    assert report.steps == SAMPLE["steps"] and "passes" in report.line()


def test_a_field_that_says_zero_far_from_the_data_fails():
    train, val = _poses(300, 0), _poses(100, 1)
    report = spurious_zero_check(SpuriousField(train), train, val, starts=64, k=5)
    assert report.near_zero_share == 1.0  # the network says every start is on the manifold
    assert not report.passed and report.ratio > 3.0
    assert report.start_true_median > 10 * report.validation_true_median
    assert "FAILS" in report.line() and report.record()["passed"] is False
