"""The sample task scores against held-out poses: a GMM fitted by EM no longer wins by copying
its training moments, and the plausible threshold passes real held-out poses at its stated rate.
"""

from __future__ import annotations

import pytest
import torch

from posebench.core.errors import InputError
from posebench.core.progress import NullProgress
from posebench.datasets.base import Dataset
from posebench.priors.gmm.mixture import fit_mixture
from posebench.priors.gmm.prior import GMMPrior
from posebench.tasks.sample import SampleTask, build_reference, score_poses

#: Train motion differs from the held-out motion (another motion kind): its own mean and spread.
TRAIN_SHIFT, TRAIN_SIGMA, HELD_OUT_SIGMA = 0.15, 0.15, 0.25


def _poses(n: int, seed: int, shift: float, sigma: float) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return shift + sigma * torch.randn(n, 21, 3, generator=generator)


class ShiftedPoses(Dataset):
    """Train poses from one Gaussian, val and test (held out) from another."""

    name = "shifted-poses"
    version = "1"

    def poses(self, split: str) -> torch.Tensor:
        index = ("train", "val", "test").index(self.check_split(split))
        if split == "train":
            return _poses(600, index, TRAIN_SHIFT, TRAIN_SIGMA)
        return _poses(300, index, 0.0, HELD_OUT_SIGMA)

    def content_hash(self) -> str:
        return "shifted"


def _config(**overrides):
    task = SampleTask()
    return task, task.config("default", {"n_samples": 600, "n_apd": 100, **overrides}, quick=True)


def test_an_em_fitted_gmm_scores_like_its_training_data_not_better(toy_plugin):
    dataset, body = ShiftedPoses(), toy_plugin.ToyStickBody()
    gmm = GMMPrior()
    gmm.mixture, _ = fit_mixture(dataset.poses("train").reshape(-1, 63), n_components=2)
    task, config = _config()
    result = task.run(gmm, dataset, body, config, torch.device("cpu"), 0, NullProgress())
    fid, train, val = result.metrics["fid"], result.data_rows["train"], result.data_rows["val"]
    # against the training split's own moments EM scores ~0 by construction; against held-out
    # poses it scores what its training data scores, within sampling noise
    assert fid == pytest.approx(train["fid"], rel=0.1)
    assert fid > 5 * val["fid"]  # unseen real poses of the held-out kind are far closer
    assert result.metrics["fid_joints"] == pytest.approx(train["fid_joints"], rel=0.15)
    assert result.details["reference_split"] == "test"


def test_real_held_out_poses_pass_the_plausible_threshold_at_its_stated_rate(toy_plugin):
    dataset, body = ShiftedPoses(), toy_plugin.ToyStickBody()
    _, config = _config()
    reference = build_reference(dataset, body, config, torch.device("cpu"), seed=0)
    assert reference.calibration_pass_rate == pytest.approx(0.95, abs=0.01)
    fresh = _poses(400, 99, 0.0, HELD_OUT_SIGMA)  # more real poses of the held-out kind
    passed = score_poses(fresh, reference, body, config)["frac_plausible"]
    assert passed == pytest.approx(0.95, abs=0.05)  # binomial sd ≈ 0.011 at n = 400
    elsewhere = _poses(400, 7, 0.5, HELD_OUT_SIGMA)  # poses far from the held-out kind
    assert score_poses(elsewhere, reference, body, config)["frac_plausible"] < 0.1


def test_the_threshold_must_come_from_another_split(toy_plugin):
    _, config = _config(calibration_split="test")
    with pytest.raises(InputError, match="calibrated on a different split"):
        build_reference(ShiftedPoses(), toy_plugin.ToyStickBody(), config, torch.device("cpu"), 0)
