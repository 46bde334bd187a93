"""Pose-NDF training: the published losses, end-to-end quick training, bit-identical resume."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import pytest
import torch
from torch import nn

import posebench
from posebench.cli.main import main
from posebench.priors.posendf.prior import PoseNDFPrior
from posebench.priors.posendf.train import STATE_FILE, losses
from posebench.testing import check_prior

SMALL = {"model": {"dims": [32, 32]}}


class Quadratic(nn.Module):
    """f(x) = sum of squares of all 84 inputs: gradient 2x, per-joint norm 2|x_j|."""

    def forward(self, x):
        return x.pow(2).sum(dim=(1, 2))


def test_losses_follow_the_spec():
    x = torch.randn(3, 21, 4, generator=torch.Generator().manual_seed(0))
    target = torch.tensor([1.0, 2.0, 3.0])
    clean = torch.randn(2, 21, 4, generator=torch.Generator().manual_seed(1))
    terms = losses(Quadratic(), x, target, clean, {"dist": 0.5, "man": 0.1, "eikonal": 0.2})
    f = x.pow(2).sum(dim=(1, 2))
    assert torch.isclose(terms["dist"], (f - target).abs().mean())
    assert torch.isclose(terms["man"], clean.pow(2).sum(dim=(1, 2)).mean())
    per_joint = (2 * x.norm(dim=-1) - 1).pow(2).mean()  # over samples and joints
    assert torch.isclose(terms["eikonal"], per_joint)
    total = 0.5 * terms["dist"] + 0.1 * terms["man"] + 0.2 * per_joint
    assert torch.isclose(terms["total"], total)
    l2 = losses(Quadratic(), x, target, clean, {"dist": 1, "man": 0, "eikonal": 0}, loss="l2")
    assert torch.isclose(l2["dist"], (f - target).pow(2).mean()) and "eikonal" not in l2


class Interrupt(Exception):
    pass


class StopAfter:
    """A Progress that raises after ``n`` training steps: an interruption mid-run."""

    def __init__(self, n: int | None = None) -> None:
        self.n, self.lines = n, []

    def track(self, iterable: Iterable, description: str, total: int | None = None) -> Iterator:
        for count, item in enumerate(iterable):
            if description == "train posendf" and self.n is not None and count == self.n:
                raise Interrupt
            yield item

    def log(self, message: str) -> None:
        self.lines.append(message)


NO_MINING = {"every": 0, "starts": 4, "record_steps": [1]}
MINING = {"every": 3, "starts": 4, "record_steps": [1, 2]}  # rounds at steps 3 and 6


def quick_config(prior: PoseNDFPrior, steps: int = 8, mine: dict = NO_MINING) -> dict:
    config = {**prior.config, "quick": True, "seed": 3}
    config["train"] = {**config["train"], "mine": mine}
    config["quick_overrides"] = {
        **config["quick_overrides"],
        "train": {**config["quick_overrides"]["train"], "steps": steps, "checkpoint_every": 2,
                  "batch_noisy": 32, "batch_manifold": 16},
        "targets": {**config["quick_overrides"]["targets"], "per_sigma": 16, "num_random": 16},
    }  # fmt: skip
    return config


@pytest.mark.parametrize("mine", [NO_MINING, MINING], ids=["published", "mining"])
def test_resume_after_an_interruption_is_bit_identical(tmp_path, toy_plugin, mine):
    dataset = posebench.load_dataset("toy-poses")
    device = torch.device("cpu")

    straight = PoseNDFPrior(SMALL)
    progress = StopAfter()
    straight.fit(dataset, quick_config(straight, mine=mine), tmp_path / "a", device, progress)
    assert any("dist" in line and "total" in line for line in progress.lines)
    mined_lines = [line for line in progress.lines if "mined" in line]
    assert len(mined_lines) == (2 if mine["every"] else 0)  # steps 3 and 6

    broken = PoseNDFPrior(SMALL)
    with pytest.raises(Interrupt):
        broken.fit(dataset, quick_config(broken, mine=mine), tmp_path / "b", device, StopAfter(5))
    saved = torch.load(tmp_path / "b" / STATE_FILE, weights_only=True)
    assert saved["step"] == 4  # the last checkpoint before the interruption
    assert len(saved["mined"]["target"]) == (8 if mine["every"] else 0)  # 4 starts x 2 records
    resumed = PoseNDFPrior(SMALL)
    progress = StopAfter()
    config = quick_config(resumed, mine=mine)
    final = resumed.fit(dataset, config, tmp_path / "b", device, progress, True)
    assert any("resuming" in line and "step 4" in line for line in progress.lines)

    for name, value in straight.model.state_dict().items():
        assert torch.equal(value, resumed.model.state_dict()[name]), name
    again = posebench.load_prior("posendf", checkpoint=str(final))
    assert again.record["steps"] == 8 and set(again.record["final_losses"]) >= {"dist", "man"}
    assert again.record["device"] == "cpu" and again.record["wall_time_s"] > 0
    pose = dataset.poses("test")
    assert torch.equal(again.energy(pose), straight.energy(pose))
    if mine["every"]:
        assert again.record["mining"]["queries"] == 16


def test_mined_poses_come_with_their_true_k_nn_targets():
    from posebench.priors.posendf.mining import mine_projected_starts
    from posebench.priors.posendf.quat import pose_to_network_input
    from posebench.priors.posendf.targets import pose_distance

    prior = PoseNDFPrior(SMALL)
    prior.model = prior._new_model(seed=0)
    manifold = pose_to_network_input(0.3 * torch.randn(40, 21, 3)).float()
    config = {"starts": 5, "record_steps": [2, 1]}
    queries, targets = mine_projected_starts(
        prior.model, manifold, config, prior.config["sample"], k=3, seed=0, step=7
    )
    assert queries.shape == (10, 21, 4)  # 5 starts recorded after 1 and after 2 steps
    brute = pose_distance(queries.double()[:, None], manifold.double()[None])  # (10, 40)
    expected = brute.topk(3, dim=1, largest=False).values.mean(dim=1)
    torch.testing.assert_close(targets.double(), expected, atol=1e-6, rtol=0)
    again, _ = mine_projected_starts(
        prior.model, manifold, config, prior.config["sample"], k=3, seed=0, step=7
    )
    assert torch.equal(queries, again)  # a round is a pure function of seed and step


def test_resume_with_other_settings_is_refused_naming_them(tmp_path, toy_plugin):
    """A resumed run continues the interrupted one: another seed or learning rate is an error
    (the checkpoint would record values it was not trained with); more steps are allowed."""
    from posebench.core.errors import InputError

    dataset = posebench.load_dataset("toy-poses")
    device = torch.device("cpu")
    first = PoseNDFPrior(SMALL)
    first.fit(dataset, quick_config(first, steps=2), tmp_path, device)

    other_seed = PoseNDFPrior(SMALL)
    config = {**quick_config(other_seed, steps=2), "seed": 4}
    with pytest.raises(InputError, match=r"other settings \(seed\)"):
        other_seed.fit(dataset, config, tmp_path, device, resume=True)

    other_lr = PoseNDFPrior(SMALL)
    config = quick_config(other_lr, steps=2)
    config["train"] = {**config["train"], "lr": 1e-3}
    with pytest.raises(InputError, match=r"\(train\.lr\)"):
        other_lr.fit(dataset, config, tmp_path, device, resume=True)

    longer = PoseNDFPrior(SMALL)
    progress = StopAfter()
    longer.fit(dataset, quick_config(longer, steps=4), tmp_path, device, progress, True)
    assert any("resuming" in line and "step 2" in line for line in progress.lines)


def test_a_trained_prior_keeps_the_contract(tmp_path, toy_plugin):
    prior = PoseNDFPrior(SMALL)
    config = quick_config(prior, steps=2)
    prior.fit(posebench.load_dataset("toy-poses"), config, tmp_path, torch.device("cpu"))
    check_prior(prior)


def test_train_command_quick_end_to_end(tmp_path, toy_plugin, capsys):
    config = tmp_path / "small.yaml"
    config.write_text("model: {dims: [32, 32]}\n")
    argv = ["train", "--prior", "posendf", "--dataset", "toy-poses", "--quick", "--quiet",
            "--device", "cpu", "--out", str(tmp_path), "--prior-config", str(config)]  # fmt: skip
    code = main(argv)
    out = capsys.readouterr().out
    assert code == 0
    final = tmp_path / "checkpoints" / "posendf" / "toy-poses" / "seed0" / "posendf_final.pt"
    assert f"checkpoint: {final}" in out
    prior = posebench.load_prior("posendf", checkpoint=str(final))
    assert prior.record["steps"] == 6


def test_cli_glue_targets_trajectory_interpolation(tmp_path, toy_plugin):
    from posebench.priors.posendf.projection import interpolate, projection_trajectory
    from posebench.priors.posendf.targets import load_targets, prepare_posendf_targets

    dataset = posebench.load_dataset("toy-poses")
    folder = prepare_posendf_targets(dataset, tmp_path / "targets", SMALL, seed=0, quick=True)
    data = load_targets(folder)
    assert data.meta["search"] == "exact" and data.meta["source"]["dataset"] == "toy-poses"
    assert len(data.noisy) == 5 * 64 + 64

    prior = PoseNDFPrior({**SMALL, "train": {"targets_dir": str(folder)}})
    prior.fit(dataset, quick_config(prior, steps=2), tmp_path / "run", torch.device("cpu"))
    assert not (tmp_path / "run" / "targets").exists()  # used the prepared folder
    pose = dataset.poses("test")[:3]
    path = projection_trajectory(prior, pose, steps=4)
    assert path.shape == (5, 3, 21, 3)
    torch.testing.assert_close(path[-1], prior.project(pose, steps=4))
    between = interpolate(prior, pose[:2], pose[1:3], steps=3, project_steps=2, tol=None)
    assert between.shape == (4, 2, 21, 3) and torch.isfinite(between).all()
    # the prior's own methods are these: what `project --save-steps` and the interpolate task use
    torch.testing.assert_close(prior.project_steps(pose, steps=4), path)
    prior.config["interpolate"].update(project_steps=2, tol=None)
    torch.testing.assert_close(prior.interpolate(pose[:2], pose[1:3], 3), between)


def test_prepare_targets_command(tmp_path, capsys, toy_plugin):
    """`posebench data prepare posendf-targets` writes the training set where it is told."""
    from posebench.cli.main import main

    out = tmp_path / "targets"
    code = main(["data", "prepare", "posendf-targets", "--dataset", "toy-poses", "--out", str(out),
                 "--quick", "--quiet"])  # fmt: skip
    assert (
        code == 0
        and (out / "meta.json").is_file()
        and "train.targets_dir" in capsys.readouterr().out
    )
