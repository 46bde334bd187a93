"""The pose completion task: masks, the fill-in by a prior's energy, and its reference rows."""

from __future__ import annotations

import pytest
import torch

import posebench
from posebench.body.base import SMPL22_JOINT_NAMES
from posebench.core.errors import InputError
from posebench.core.progress import NullProgress
from posebench.priors.base import Prior
from posebench.tasks.complete import (
    CompleteTask,
    Problems,
    complete_with_prior,
    moved_joints,
    nearest_train_completion,
    part_mask,
    random_masks,
    scorable_joints,
)
from posebench.testing import check_task


@pytest.fixture
def parts(toy_plugin):
    return toy_plugin.ToyPoses(), toy_plugin.ToyStickBody(), toy_plugin.ToyGaussPrior


def run(task, prior, dataset, body, protocol="parts", seed=0, **overrides):
    config = task.config(protocol, overrides, quick=True)
    return task.run(prior, dataset, body, config, torch.device("cpu"), seed, NullProgress())


def joint(name: str) -> int:
    return SMPL22_JOINT_NAMES.index(name)


def test_a_hidden_rotation_moves_exactly_the_joints_below_it():
    moved = moved_joints(part_mask("left_leg"))
    below = {joint(n) for n in ("left_knee", "left_ankle", "left_foot")}
    assert set(moved.nonzero().flatten().tolist()) == below  # the hip itself stays in place
    knee = torch.zeros(21, dtype=torch.bool)
    knee[joint("left_knee") - 1] = True
    assert set(moved_joints(knee).nonzero().flatten().tolist()) == {
        joint("left_ankle"), joint("left_foot"),
    }  # fmt: skip


def test_random_masks_hide_k_allowed_joints_per_pose_the_same_for_a_seed():
    allowed = torch.ones(21, dtype=torch.bool)
    allowed[:5] = False
    masks = random_masks(10, 4, allowed, seed=3)
    assert (masks.sum(dim=1) == 4).all() and not masks[:, :5].any()
    assert torch.equal(masks, random_masks(10, 4, allowed, seed=3))
    assert not torch.equal(masks, random_masks(10, 4, allowed, seed=4))


class Oracle(Prior):
    """Energy: squared distance to known true poses (repeated per hypothesis)."""

    name = "oracle"

    def __init__(self, truth: torch.Tensor) -> None:
        super().__init__()
        self.truth = truth

    def energy(self, pose):
        target = self.truth.repeat(len(pose) // len(self.truth), 1, 1)
        return ((pose - target) ** 2).sum(dim=(1, 2))


def test_an_oracle_energy_recovers_the_hidden_joints_and_the_visible_never_move(parts):
    dataset, _, _ = parts
    truth = dataset.poses("test")[:6]
    hidden = part_mask("legs")[None].expand(6, 21)
    problems = Problems(
        truth, hidden, ["legs"] * 6, {}, ["c"] * 6, "clip", torch.ones(22, dtype=bool)
    )
    config = {"hypotheses": 3, "init_sigma": 0.3, "steps": 300, "lr": 0.05}
    completed = complete_with_prior(Oracle(truth), problems, config, seed=0)
    assert completed.shape == (3, 6, 21, 3)
    assert torch.equal(completed[:, ~hidden], truth[None].expand(3, 6, 21, 3)[:, ~hidden])
    assert (completed - truth).abs().max() < 1e-3
    floor = complete_with_prior(posebench.load_prior("none"), problems, config, seed=0)
    assert (floor - truth)[:, hidden].abs().mean() > 0.1  # without a prior: still the starts


def test_the_nearest_train_pose_fills_in_a_training_pose_exactly(parts):
    dataset, _, _ = parts
    train = dataset.poses("train")
    truth = train[:5]
    hidden = part_mask("left_arm")[None].expand(5, 21)
    problems = Problems(
        truth, hidden, ["left_arm"] * 5, {}, ["c"] * 5, "clip", torch.ones(22, dtype=bool)
    )
    assert torch.allclose(nearest_train_completion(problems, train)[0], truth)


def test_task_scores_priors_on_the_same_problems_with_truth_and_retrieval_rows(parts):
    dataset, body, gauss = parts
    task = CompleteTask()
    fitted = run(task, gauss(config={"sigma": 0.2}), dataset, body)
    floor = run(task, posebench.load_prior("none"), dataset, body)
    assert fitted.inputs_hash == floor.inputs_hash  # the same poses and masks for every prior
    assert fitted.data_rows["truth"]["hidden_mpjpe_mm"] == 0.0
    assert fitted.data_rows["truth"]["mpjpe_mm"] == 0.0
    assert "nearest train pose" in fitted.baseline_rows
    for metrics in (fitted.metrics, floor.metrics):
        assert metrics["hidden_mpjpe_min_mm"] <= metrics["hidden_mpjpe_mm"]
        assert 0 < metrics["mpjpe_mm"] < metrics["hidden_mpjpe_mm"]  # unmasked joints: no error
    per_mask = fitted.details["hidden_mpjpe_mm_per_mask"]
    assert set(per_mask) == {"left_leg", "legs", "left_arm", "arms", "torso"}
    assert sum(len(v) for v in fitted.per_unit["values"].values()) == fitted.details["problems"]
    # the data's own distribution pulls the hidden joints to its mean: better than the starts
    assert fitted.metrics["hidden_mpjpe_mm"] < floor.metrics["hidden_mpjpe_mm"]


def test_joints_protocol_hides_random_joints(parts):
    dataset, body, gauss = parts
    result = run(CompleteTask(), gauss(), dataset, body, protocol="joints", random_joints=3)
    assert set(result.details["hidden_mpjpe_mm_per_mask"]) == {"random"}


def test_complete_task_contract(parts):
    dataset, body, gauss = parts
    check_task(CompleteTask(), gauss(), dataset, body)


def test_only_joints_whose_hiding_moves_a_true_position_are_scorable():
    captured = torch.ones(22, dtype=torch.bool)
    leaves = {"left_foot", "right_foot", "head", "left_wrist", "right_wrist"}
    expected = [n not in leaves for n in SMPL22_JOINT_NAMES[1:]]
    assert scorable_joints(captured).tolist() == expected
    captured[joint("left_collar")] = False  # nothing below it has a true position any more
    lost = {"left_collar", "left_shoulder", "left_elbow"}
    expected = [n not in leaves | lost for n in SMPL22_JOINT_NAMES[1:]]
    assert scorable_joints(captured).tolist() == expected


def test_masks_the_data_cannot_score_are_skipped_with_the_reason(parts, toy_plugin):
    _, body, gauss = parts

    class NoCollars(toy_plugin.ToyPoses):
        def observed_joints(self, split):
            captured = torch.ones(22, dtype=torch.bool)
            captured[[joint("left_collar"), joint("right_collar")]] = False
            return captured

    result = run(CompleteTask(), gauss(), NoCollars(), body)
    assert set(result.details["masks_skipped"]) == {"left_arm", "arms"}
    assert "no true position" in result.details["masks_skipped"]["arms"]
    assert set(result.details["hidden_mpjpe_mm_per_mask"]) == {"left_leg", "legs", "torso"}
    with pytest.raises(InputError, match="no mask of left_arm, arms"):
        run(CompleteTask(), gauss(), NoCollars(), body, masks=["left_arm", "arms"])
