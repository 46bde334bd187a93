"""Pose-NDF against an independent reference of the official network, from its description.

The reference below uses the official module layout and key names (``enc.net.<i>.net.<0|2>``,
``dfnet.lin<l>``), softplus(beta=100), the off-by-one ``official_v2`` parent table, 21 sequential
BoneMLPs, pytorch3d's axis-angle -> quaternion formula and the §5 projection loop (with its
``create_graph=True``), in float64. It shares no code with posebench's model.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml
from torch import nn

import posebench
from posebench.core.errors import ConfigError, InputError
from posebench.priors.posendf.prior import PoseNDFPrior
from posebench.testing import check_prior

OFFICIAL_V2_PARENTS = [-1, -1, -1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19]


class BoneMLP(nn.Module):
    def __init__(self, in_dim: int) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(in_dim, 10), nn.Softplus(beta=100), nn.Linear(10, 6), nn.Softplus(beta=100)
        )

    def forward(self, x):
        return self.net(x)


class StructureEncoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.ModuleList([BoneMLP(4 if p < 0 else 10) for p in OFFICIAL_V2_PARENTS])

    def forward(self, quat):
        features = []
        for i, parent in enumerate(OFFICIAL_V2_PARENTS):
            x = quat[:, i] if parent < 0 else torch.cat([quat[:, i], features[parent]], dim=1)
            features.append(self.net[i](x))
        return torch.cat(features, dim=1)


class DFNet(nn.Module):
    def __init__(self, dims: list[int]) -> None:
        super().__init__()
        sizes = [126, *dims, 1]
        self.num_layers = len(sizes) - 1
        for layer in range(self.num_layers):
            setattr(self, f"lin{layer}", nn.Linear(sizes[layer], sizes[layer + 1]))
        self.act = nn.Softplus(beta=100)

    def forward(self, x):
        for layer in range(self.num_layers):
            x = self.act(getattr(self, f"lin{layer}")(x))
        return x


class ReferencePoseNDF(nn.Module):
    def __init__(self, dims: list[int]) -> None:
        super().__init__()
        self.enc = StructureEncoder()
        self.dfnet = DFNet(dims)

    def forward(self, quat):
        return self.dfnet(self.enc(quat).reshape(len(quat), -1))


def reference_quat(axis_angle):
    """pytorch3d's axis_angle_to_quaternion, (w, x, y, z)."""
    angle = axis_angle.norm(dim=-1, keepdim=True)
    half = 0.5 * angle
    small = angle.abs() < 1e-6
    safe = torch.where(small, torch.ones_like(angle), angle)
    scale = torch.where(small, 0.5 - angle * angle / 48, torch.sin(half) / safe)
    return torch.cat([torch.cos(half), axis_angle * scale], dim=-1)


def reference_prepare(quat):
    quat = torch.where(quat[..., :1] < 0, -quat, quat)
    return quat / quat.norm(dim=-1, keepdim=True)


def reference_project(net, quat, steps=100):
    """The official projection loop, second-order graph and all."""
    quat = reference_prepare(quat)
    for _ in range(steps):
        quat = quat.detach().requires_grad_(True)
        dist = net(quat)
        (grad,) = torch.autograd.grad(dist, quat, torch.ones_like(dist), create_graph=True)
        grad = grad.reshape(len(quat), -1)
        grad = grad / grad.norm(dim=1, keepdim=True).clamp_min(1e-12)
        quat = quat - (dist * grad).reshape(-1, 21, 4)
        quat = reference_prepare(quat).detach()
    return quat


def reference_axis_angle(quat):
    quat = torch.where(quat[..., :1] < 0, -quat, quat)
    half = torch.atan2(quat[..., 1:].norm(dim=-1, keepdim=True), quat[..., :1])
    sin_half = torch.sin(half)
    scale = torch.where(sin_half.abs() < 1e-9, 2.0 * torch.ones_like(half), 2 * half / sin_half)
    return quat[..., 1:] * scale


DIMS = [64, 128, 64]


def write_official_run(folder: Path, dims=DIMS, dims_as_string=True, seed=0) -> ReferencePoseNDF:
    """A random official-format run: config.yaml + checkpoints/checkpoint_epoch_best.tar."""
    torch.manual_seed(seed)
    net = ReferencePoseNDF(dims)
    with torch.no_grad():
        net.dfnet.lin0.weight.mul_(3.0)
        getattr(net.dfnet, f"lin{len(dims)}").bias.add_(0.15)  # distances of a few tenths
    config = {
        "data": {"data_dir": "./posendf_data/", "flip": True},
        "experiment": {"exp_name": "small", "val": False},
        "model": {
            "DFNet": {"name": "DFNet", "total_dim": 960, "in_dim": 126, "num_layers": 5,
                      "dims": ", ".join(map(str, dims)) if dims_as_string else list(dims),
                      "act": "softplus", "beta": 100},
            "StrEnc": {"use": True, "name": "StructureEncoder", "out_dim": 6, "act": "softplus",
                       "beta": 100},
        },
        "train": {"batch_size": 4, "optimizer_param": 1.0e-5, "loss_type": "l1", "dist": 0.5,
                  "man_loss": 0.1, "eikonal": 0.0},
    }  # fmt: skip
    (folder / "checkpoints").mkdir(parents=True, exist_ok=True)
    (folder / "config.yaml").write_text(yaml.safe_dump(config))
    state = {"epoch": 7, "model_state_dict": net.state_dict(), "optimizer_state_dict": {}}
    torch.save(state, folder / "checkpoints" / "checkpoint_epoch_best.tar")
    reloaded = ReferencePoseNDF(dims)
    reloaded.load_state_dict(torch.load(folder / "checkpoints" / "checkpoint_epoch_best.tar")[
        "model_state_dict"], strict=True)  # fmt: skip
    return reloaded.double()


def poses(n: int, seed: int, scale: float = 0.6) -> torch.Tensor:
    pose = scale * torch.randn(n, 21, 3, generator=torch.Generator().manual_seed(seed))
    pose[0] = 0.0
    pose[1, :, 0] = torch.pi - 1e-3
    return pose.double()


@pytest.fixture
def official_run(tmp_path: Path):
    reference = write_official_run(tmp_path / "run")
    return tmp_path / "run", reference


def load(run: Path, config: Path | None = None):
    return posebench.load_prior(
        "posendf",
        checkpoint=str(run / "checkpoints" / "checkpoint_epoch_best.tar"),
        config=str(config or run / "config.yaml"),
    )


def test_energy_equals_the_official_network(official_run):
    run, reference = official_run
    prior = load(run).to("cpu", torch.float64)
    assert prior.config["model"]["parents"] == "official_v2"
    pose = poses(64, 1)
    expected = reference(reference_prepare(reference_quat(pose))).squeeze(1)
    got = prior.energy(pose)
    assert expected.min() > 0.01  # the network is not trivially flat
    torch.testing.assert_close(got, expected, rtol=1e-6, atol=0.0)
    # float32, as the official network runs: equal to float precision
    got32 = load(run).energy(pose.float()).double()
    torch.testing.assert_close(got32, expected, rtol=1e-4, atol=1e-6)


def test_projection_equals_the_official_100_step_loop(official_run):
    run, reference = official_run
    prior = load(run).to("cpu", torch.float64)
    pose = poses(16, 2)
    expected = reference_axis_angle(reference_project(reference, reference_quat(pose)))
    got = prior.project(pose, steps=100)
    assert (expected - pose).abs().max() > 0.05  # the projection really moved the poses
    torch.testing.assert_close(got, expected, rtol=0.0, atol=1e-5)
    # float32, as the official network runs: the same path to float precision
    got32 = load(run).project(pose.float(), steps=100).double()
    torch.testing.assert_close(got32, expected, rtol=0.0, atol=1e-4)
    # chunking does not change the result
    prior.config["projection"]["chunk_size"] = 5
    torch.testing.assert_close(prior.project(pose, steps=100), got, rtol=0.0, atol=1e-12)


def test_a_wrong_parent_table_would_be_caught(official_run):
    """The test can fail: the anatomical table with the same weights gives other distances."""
    run, reference = official_run
    prior = load(run).to("cpu", torch.float64)
    state = prior.model.state_dict()
    prior.config["model"]["parents"] = "anatomical"
    prior.model = prior._new_model()
    prior.model.load_state_dict(state)
    pose = poses(16, 3)
    expected = reference(reference_prepare(reference_quat(pose))).squeeze(1)
    assert not torch.allclose(prior.energy(pose), expected, rtol=1e-3)


def test_list_dims_and_unused_keys_are_accepted(tmp_path: Path):
    reference = write_official_run(tmp_path / "run", dims_as_string=False, seed=3)
    prior = load(tmp_path / "run")
    pose = poses(4, 4).float()
    expected = reference(reference_prepare(reference_quat(pose.double()))).squeeze(1)
    torch.testing.assert_close(prior.energy(pose).double(), expected, rtol=1e-4, atol=1e-6)


def test_official_config_is_found_beside_the_run(official_run):
    run, _ = official_run
    prior = posebench.load_prior(
        "posendf", checkpoint=str(run / "checkpoints" / "checkpoint_epoch_best.tar")
    )
    assert prior.official_config == str(run / "config.yaml")


def test_missing_official_config_is_one_clear_error(tmp_path: Path, official_run):
    run, _ = official_run
    lonely = tmp_path / "lonely.tar"
    lonely.write_bytes((run / "checkpoints" / "checkpoint_epoch_best.tar").read_bytes())
    with pytest.raises(ConfigError, match="official config.yaml"):
        posebench.load_prior("posendf", checkpoint=str(lonely))


def test_missing_required_official_key_is_one_clear_error(tmp_path: Path, official_run):
    run, _ = official_run
    config = yaml.safe_load((run / "config.yaml").read_text())
    del config["model"]["DFNet"]["dims"]
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(config))
    with pytest.raises(ConfigError, match=r"required key 'model.DFNet.dims'") as info:
        load(run, bad)
    assert "\n" not in str(info.value)


def test_architecture_mismatch_is_one_clear_error(tmp_path: Path, official_run):
    run, _ = official_run
    config = yaml.safe_load((run / "config.yaml").read_text())
    config["model"]["DFNet"]["dims"] = "64, 64, 64"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(config))
    with pytest.raises(InputError, match="shape") as info:
        load(run, bad)
    assert "\n" not in str(info.value)


def test_untrained_prior_refuses_to_give_numbers():
    prior = PoseNDFPrior()  # fresh: load_prior would take the shipped checkpoint
    for call in (
        lambda: prior.energy(torch.zeros(1, 21, 3)),
        lambda: prior.project(torch.zeros(1, 21, 3)),
        lambda: prior.sample(2, torch.Generator().manual_seed(0)),
    ):
        with pytest.raises(InputError, match="has no trained weights: pass --checkpoint"):
            call()


def test_contract_on_an_official_checkpoint(official_run):
    run, _ = official_run
    check_prior(load(run))


def test_posebench_checkpoint_round_trip(tmp_path: Path, official_run):
    run, _ = official_run
    prior = load(run)
    prior.save(tmp_path / "mine.pt")
    again = posebench.load_prior("posendf", checkpoint=str(tmp_path / "mine.pt"))
    assert again.config["model"]["parents"] == "official_v2"
    pose = poses(8, 5).float()
    torch.testing.assert_close(again.energy(pose), prior.energy(pose), rtol=0, atol=0)
    assert again.record["source"] == "official"


def test_bf16_distances_stay_close(official_run):
    run, _ = official_run
    prior = load(run)
    pose = poses(32, 6).float()
    exact = prior.energy(pose)
    prior.config["bf16"] = True
    assert (prior.energy(pose) - exact).abs().max() < 5e-2


def test_weight_gradients_equal_the_official_network(official_run):
    """Training through the fused encoder gives the official layout's gradients."""
    from posebench.priors.posendf.official import to_official_state_dict

    run, reference = official_run
    prior = load(run).to("cpu", torch.float64)
    prior.model.train().requires_grad_(True)
    quat = reference_prepare(reference_quat(poses(8, 7)))
    reference(quat).sum().backward()
    prior.model(quat).sum().backward()
    ours = to_official_state_dict({k: p.grad for k, p in prior.model.named_parameters()})
    for key, param in reference.named_parameters():
        torch.testing.assert_close(ours[key], param.grad, rtol=1e-9, atol=1e-12, msg=key)


def test_tol_stops_each_pose_on_its_own(official_run):
    run, _ = official_run
    prior = load(run).to("cpu", torch.float64)
    pose = poses(12, 8)
    ordered = prior.energy(pose).detach().sort().values
    tol = float(ordered[3] + ordered[4]) / 2  # four poses start below it
    full = prior.project(pose, steps=50, tol=tol)
    prior.config["projection"]["chunk_size"] = 1
    torch.testing.assert_close(prior.project(pose, steps=50, tol=tol), full, rtol=0, atol=1e-12)
    # a pose already below tol does not move; the others do
    still = prior.energy(pose).detach() < tol
    assert int(still.sum()) == 4
    torch.testing.assert_close(full[still], pose[still], rtol=0, atol=1e-9)
    assert ((full[~still] - pose[~still]).abs().amax(dim=(1, 2)) > 1e-3).all()


def test_sampling_is_seeded_and_starts_are_as_configured(official_run):
    from posebench.priors.posendf.starts import random_starts

    run, _ = official_run
    prior = load(run)
    orthant = random_starts(64, "orthant", torch.Generator().manual_seed(0))
    assert (orthant >= 0).all() and torch.allclose(orthant.norm(dim=-1), torch.ones(64, 21))
    rest = random_starts(64, "rest", torch.Generator().manual_seed(0))
    assert (rest[..., 0] >= 0).all() and rest[..., 0].mean() > orthant[..., 0].mean()
    prior.config["sample"].update(init="rest", steps=3)
    a = prior.sample(5, torch.Generator().manual_seed(1))
    b = prior.sample(5, torch.Generator().manual_seed(1))
    assert a.shape == (5, 21, 3) and torch.equal(a, b)


@pytest.mark.parametrize(
    ("drop", "named"), [("config", "config.model"), ("state_dict", "state_dict")]
)
def test_an_incomplete_posebench_checkpoint_is_a_one_line_error(tmp_path: Path, drop, named):
    shipped = PoseNDFPrior().default_checkpoint()
    assert shipped is not None
    data = torch.load(shipped, map_location="cpu", weights_only=True)
    del data[drop]
    torch.save(data, tmp_path / "partial.pt")
    with pytest.raises(InputError, match=rf"without its {named}; the file is incomplete"):
        posebench.load_prior("posendf", checkpoint=str(tmp_path / "partial.pt"))
