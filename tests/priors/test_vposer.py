"""The VPoser prior: official layouts and forward, KL / ELBO formulas, training, resume, contract."""

from __future__ import annotations

import json
import math
import sys
import types

import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation
from torch.nn import functional as F

import posebench
from posebench.cli.main import main
from posebench.core.errors import ConfigError, InputError, PosebenchError
from posebench.core.hashing import hash_arrays
from posebench.datasets.base import Dataset
from posebench.priors.none import uniform_rotations
from posebench.priors.vposer.model import kl_to_standard_normal
from posebench.priors.vposer.prior import VPoserPrior
from posebench.priors.vposer.train import geodesic_angle, total_loss
from posebench.testing import check_prior

# --- official layouts, written by hand from the official v2 / v1 code --------------------------

V2_SHAPES = {
    "encoder_net.1": [("weight", (63,)), ("bias", (63,)), ("running_mean", (63,)),
                      ("running_var", (63,))],
    "encoder_net.2": [("weight", (512, 63)), ("bias", (512,))],
    "encoder_net.4": [("weight", (512,)), ("bias", (512,)), ("running_mean", (512,)),
                      ("running_var", (512,))],
    "encoder_net.6": [("weight", (512, 512)), ("bias", (512,))],
    "encoder_net.7": [("weight", (512, 512)), ("bias", (512,))],
    "encoder_net.8.mu": [("weight", (32, 512)), ("bias", (32,))],
    "encoder_net.8.logvar": [("weight", (32, 512)), ("bias", (32,))],
    "decoder_net.0": [("weight", (512, 32)), ("bias", (512,))],
    "decoder_net.3": [("weight", (512, 512)), ("bias", (512,))],
    "decoder_net.5": [("weight", (126, 512)), ("bias", (126,))],
}  # fmt: skip
V1_SHAPES = {
    "bodyprior_enc_bn1": V2_SHAPES["encoder_net.1"],
    "bodyprior_enc_fc1": V2_SHAPES["encoder_net.2"],
    "bodyprior_enc_bn2": V2_SHAPES["encoder_net.4"],
    "bodyprior_enc_fc2": V2_SHAPES["encoder_net.6"],
    "bodyprior_enc_mu": V2_SHAPES["encoder_net.8.mu"],
    "bodyprior_enc_logvar": V2_SHAPES["encoder_net.8.logvar"],
    "bodyprior_dec_fc1": V2_SHAPES["decoder_net.0"],
    "bodyprior_dec_fc2": V2_SHAPES["decoder_net.3"],
    "bodyprior_dec_out": V2_SHAPES["decoder_net.5"],
}


def random_weights(shapes: dict, seed: int = 0) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    out = {}
    for module, params in shapes.items():
        for name, shape in params:
            fan_in = shape[1] if len(shape) == 2 else 1
            value = torch.randn(shape, generator=generator) / math.sqrt(fan_in)
            if name == "running_var":
                value = 0.5 + torch.rand(shape, generator=generator)
            elif name == "weight" and len(shape) == 1:
                value = 1.0 + 0.1 * value
            out[f"{module}.{name}"] = value
    return out


def bn(x, w, prefix):
    mean, var = w[f"{prefix}.running_mean"], w[f"{prefix}.running_var"]
    return (x - mean) / torch.sqrt(var + 1e-5) * w[f"{prefix}.weight"] + w[f"{prefix}.bias"]


def lin(x, w, prefix):
    return x @ w[f"{prefix}.weight"].T + w[f"{prefix}.bias"]


def gram_schmidt_by_hand(out126):
    x = out126.reshape(-1, 3, 2)
    a1, a2 = x[:, :, 0], x[:, :, 1]
    b1 = a1 / a1.norm(dim=1, keepdim=True)
    b2 = a2 - (b1 * a2).sum(dim=1, keepdim=True) * b1
    b2 = b2 / b2.norm(dim=1, keepdim=True)
    b3 = torch.cross(b1, b2, dim=1)
    return torch.stack([b1, b2, b3], dim=-1).reshape(len(out126), 21, 3, 3)


def v2_by_hand(w, pose):
    """Encoder mean / std and decoded matrices of official v2, written out layer by layer."""
    h = bn(pose.reshape(len(pose), 63), w, "encoder_net.1")
    h = F.leaky_relu(lin(h, w, "encoder_net.2"), 0.01)
    h = bn(h, w, "encoder_net.4")
    h = lin(lin(h, w, "encoder_net.6"), w, "encoder_net.7")  # no activation between 6 and 7
    mu, std = lin(h, w, "encoder_net.8.mu"), F.softplus(lin(h, w, "encoder_net.8.logvar"))
    d = F.leaky_relu(lin(mu, w, "decoder_net.0"), 0.01)
    d = F.leaky_relu(lin(d, w, "decoder_net.3"), 0.01)
    return mu, std, gram_schmidt_by_hand(lin(d, w, "decoder_net.5"))


def v1_by_hand(w, pose):
    h = bn(pose.reshape(len(pose), 63), w, "bodyprior_enc_bn1")
    h = bn(F.leaky_relu(lin(h, w, "bodyprior_enc_fc1"), 0.2), w, "bodyprior_enc_bn2")
    h = F.leaky_relu(lin(h, w, "bodyprior_enc_fc2"), 0.2)
    mu, std = lin(h, w, "bodyprior_enc_mu"), F.softplus(lin(h, w, "bodyprior_enc_logvar"))
    d = F.leaky_relu(lin(mu, w, "bodyprior_dec_fc1"), 0.2)
    d = F.leaky_relu(lin(d, w, "bodyprior_dec_fc2"), 0.2)
    return mu, std, gram_schmidt_by_hand(lin(d, w, "bodyprior_dec_out"))


def write_v02_05_ckpt(path, weights, with_counters=True):
    """A Lightning-style V02_05 checkpoint: prefixed weights, trainer body buffers, and
    hyper-parameters of a class the loading process cannot import (like omegaconf's)."""
    state = {f"vp_model.{k}": v for k, v in weights.items()}
    if with_counters:
        state["vp_model.encoder_net.1.num_batches_tracked"] = torch.tensor(7)
        state["vp_model.encoder_net.4.num_batches_tracked"] = torch.tensor(7)
    state["bm_train.v_template"] = torch.zeros(10475, 3)
    state["bm_train.shapedirs"] = torch.zeros(10475, 3, 10)
    gone = types.ModuleType("vanished_omegaconf")
    config_class = type("DictConfig", (), {"__module__": "vanished_omegaconf"})
    gone.DictConfig = config_class
    sys.modules["vanished_omegaconf"] = gone
    hparams = config_class()
    hparams.content = {"model_params": {"num_neurons": 512, "latentD": 32}}
    try:
        torch.save(
            {"epoch": 13, "global_step": 1, "pytorch-lightning_version": "1.2.0",
             "state_dict": state, "hyper_parameters": hparams, "optimizer_states": []},
            path,
        )  # fmt: skip
    finally:
        del sys.modules["vanished_omegaconf"]


def test_official_v02_05_checkpoint_loads_strictly_and_reproduces_the_spec_forward(tmp_path):
    weights = random_weights(V2_SHAPES)
    path = tmp_path / "V02_05_epoch=13_val_loss=0.03.ckpt"
    write_v02_05_ckpt(path, weights)
    prior = posebench.load_prior("vposer", checkpoint=str(path))
    assert prior.source == "official V02_05" and prior.model.architecture == "v2"
    assert sum(p.numel() for p in prior.model.parameters()) == 936_252  # official v2
    pose = 0.4 * torch.randn(6, 21, 3, generator=torch.Generator().manual_seed(1))
    mu, std, matrices = v2_by_hand(weights, pose)
    got_mu, got_std = prior.posterior(pose)
    torch.testing.assert_close(got_mu, mu, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(got_std, std, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(prior.decode_matrices(got_mu), matrices, atol=1e-5, rtol=1e-5)
    expected_aa = Rotation.from_matrix(matrices.reshape(-1, 3, 3).double().numpy()).as_rotvec()
    np.testing.assert_allclose(
        prior.decode(got_mu).reshape(-1, 3).numpy(), expected_aa, atol=2e-4, rtol=0
    )
    torch.testing.assert_close(prior.energy(pose), mu.square().sum(1), atol=1e-4, rtol=1e-5)
    # counters are optional in official files (older PyTorch)
    write_v02_05_ckpt(tmp_path / "old.ckpt", weights, with_counters=False)
    older = posebench.load_prior("vposer", checkpoint=str(tmp_path / "old.ckpt"))
    torch.testing.assert_close(older.encode(pose), got_mu)


def test_official_v1_snapshot_loads_and_reproduces_the_v1_forward(tmp_path):
    weights = random_weights(V1_SHAPES, seed=3)
    path = tmp_path / "TR00_E096.pt"
    torch.save(weights, path)
    prior = posebench.load_prior("vposer", checkpoint=str(path))
    assert prior.source == "official v1" and prior.model.architecture == "v1"
    pose = 0.4 * torch.randn(4, 21, 3, generator=torch.Generator().manual_seed(2))
    mu, std, matrices = v1_by_hand(weights, pose)
    torch.testing.assert_close(prior.encode(pose), mu, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(prior.posterior(pose)[1], std, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(prior.decode_matrices(prior.encode(pose)), matrices, atol=1e-5,
                               rtol=1e-5)  # fmt: skip


@pytest.mark.parametrize(
    "payload, message",
    [
        ({"something": torch.zeros(3)}, "is not a VPoser checkpoint"),
        ({"state_dict": {"vp_model.encoder_net.2.weight": torch.zeros(512, 63)}}, "does not match"),
        (b"not a torch file", "cannot read VPoser checkpoint"),
    ],
)
def test_bad_files_are_refused_in_one_line(tmp_path, payload, message):
    path = tmp_path / "bad.ckpt"
    if isinstance(payload, bytes):
        path.write_bytes(payload)
    else:
        torch.save(payload, path)
    with pytest.raises(InputError, match=message) as info:
        posebench.load_prior("vposer", checkpoint=str(path))
    assert "\n" not in str(info.value)


def test_untrained_prior_refuses_to_score_and_bad_config_is_refused():
    prior = VPoserPrior()  # fresh: no checkpoint loaded (load_prior would take the shipped one)
    with pytest.raises(InputError, match=r"--checkpoint.*posebench train --prior vposer"):
        prior.energy(torch.zeros(1, 21, 3))
    with pytest.raises(ConfigError, match="energy"):
        VPoserPrior({"energy": "elbo"})


# --- formulas -----------------------------------------------------------------------------------


def test_kl_is_the_closed_form_against_a_standard_normal():
    mu = torch.tensor([[1.0, 0.0], [0.5, -2.0]])
    std = torch.tensor([[1.0, math.e], [0.5, 1.0]])
    by_hand = [0.5 + (-1.0 + math.e**2 / 2 - 0.5),
               (-math.log(0.5) + (0.25 + 0.25) / 2 - 0.5) + (4.0 / 2)]  # fmt: skip
    torch.testing.assert_close(kl_to_standard_normal(mu, std), torch.tensor(by_hand))
    normal = torch.distributions.Normal
    reference = torch.distributions.kl_divergence(normal(mu, std), normal(0.0, 1.0)).sum(-1)
    torch.testing.assert_close(kl_to_standard_normal(mu, std), reference)


def test_training_loss_weights_and_schedule_follow_spec_a2():
    terms = {k: torch.tensor(v) for k, v in
             {"kl": 10.0, "mesh": 0.02, "matrot": 0.3, "jtr": 0.01}.items()}  # fmt: skip
    train = VPoserPrior().config["train"]
    early = 0.005 * 10.0 + 4 * 0.02 + 2 * 0.3 + 2 * 0.01
    assert float(total_loss(terms, train, epoch=14)) == pytest.approx(early)
    assert float(total_loss(terms, train, epoch=15)) == pytest.approx(0.005 * 10.0 + 4 * 0.02)


def test_geodesic_angle_matches_acos_and_has_finite_gradients_at_0_and_pi():
    R1 = torch.from_numpy(Rotation.random(50, random_state=0).as_matrix())
    R2 = torch.from_numpy(Rotation.random(50, random_state=1).as_matrix())
    cos = ((R1.transpose(-1, -2) @ R2).diagonal(dim1=-2, dim2=-1).sum(-1) - 1) / 2
    torch.testing.assert_close(geodesic_angle(R1, R2), torch.acos(cos.clamp(-1, 1)))
    flip = torch.from_numpy(Rotation.from_rotvec([[math.pi, 0, 0], [0, 0, 0]]).as_matrix())
    flip = flip.float().requires_grad_(True)
    geodesic_angle(flip, torch.eye(3).expand(2, 3, 3)).sum().backward()
    assert torch.isfinite(flip.grad).all()


def test_neg_elbo_is_kl_plus_scaled_reconstruction_through_the_body(tmp_path, toy_plugin):
    path = tmp_path / "v2.ckpt"
    write_v02_05_ckpt(path, random_weights(V2_SHAPES, seed=5))
    prior = posebench.load_prior(
        "vposer", checkpoint=str(path), config={"energy": "neg_elbo", "body_model": "toy-stick"}
    )
    pose = 0.3 * torch.randn(5, 21, 3, generator=torch.Generator().manual_seed(4))
    mu, std = prior.posterior(pose)
    body = toy_plugin.ToyStickBody()
    rec = (body(prior.decode(mu)).joints - body(pose).joints).abs().mean(dim=(1, 2))
    expected = kl_to_standard_normal(mu, std) + (4.0 / 0.005) * rec
    torch.testing.assert_close(prior.energy(pose), expected, atol=1e-4, rtol=1e-4)
    check_prior(prior)


# --- training ----------------------------------------------------------------------------------


class LowDimPoses(Dataset):
    """Poses on a 4-D linear subspace of the 63-D axis-angles: learnable from few samples."""

    name = "lowdim-poses"
    version = "1"
    sizes = {"train": 256, "val": 64, "test": 64}

    def poses(self, split):
        basis = 0.25 * torch.randn(4, 63, generator=torch.Generator().manual_seed(99))
        seed = list(self.sizes).index(self.check_split(split))
        codes = torch.randn(self.sizes[split], 4, generator=torch.Generator().manual_seed(seed))
        return (codes @ basis).reshape(-1, 21, 3)

    def sequences(self, split):
        return []

    def content_hash(self):
        return hash_arrays(*(self.poses(s) for s in self.splits))


SMALL = {"epochs": 3, "batch_size": 16, "checkpoint_every": 3}


def fit(tmp_path, name, train=None, resume=False, data=None, body="toy-stick"):
    prior = VPoserPrior({"body_model": body, "train": {**SMALL, **(train or {})}})
    config = {**prior.config, "quick": False, "seed": 0}
    final = prior.fit(data or posebench.load_dataset("toy-poses"), config, tmp_path / name,
                      torch.device("cpu"), resume=resume)  # fmt: skip
    return prior, final


def test_resume_after_a_step_budget_is_bit_identical(tmp_path, toy_plugin):
    _, straight = fit(tmp_path, "straight")
    _, partial = fit(tmp_path, "split", train={"max_steps": 5})  # stops inside epoch 2
    record = json.loads((partial.parent / "training.json").read_text())
    assert record["steps"] == 5 and not record["finished"]
    _, resumed = fit(tmp_path, "split", resume=True)
    a, b = torch.load(straight), torch.load(resumed)
    assert a["model"].keys() == b["model"].keys()
    for key in a["model"]:
        assert torch.equal(a["model"][key], b["model"][key]), key
    la, lb = torch.load(straight.parent / "last.pt"), torch.load(resumed.parent / "last.pt")
    for key, value in la["optimizer"]["state"].items():
        assert torch.equal(value["exp_avg_sq"], lb["optimizer"]["state"][key]["exp_avg_sq"])
    ja = json.loads((straight.parent / "training.json").read_text())
    jb = json.loads((resumed.parent / "training.json").read_text())
    assert ja["history"] == jb["history"] and jb["finished"] and jb["steps"] == 12
    with pytest.raises(ConfigError, match="drop --resume"):
        fit(tmp_path, "split", train={"lr": 5e-4}, resume=True)


@pytest.mark.slow
def test_trained_prior_reconstructs_held_out_poses_and_keeps_the_contract(tmp_path, toy_plugin):
    data = LowDimPoses()
    prior, final = fit(tmp_path, "lowdim", train={"epochs": 10, "batch_size": 32}, data=data)
    test = data.poses("test")
    mean_pose = data.poses("train").mean(dim=0, keepdim=True).expand_as(test)
    body = toy_plugin.ToyStickBody()

    def joint_error_mm(a, b):
        return 1000 * float((body(a).joints - body(b).joints).norm(dim=-1).mean())

    vae, baseline = joint_error_mm(prior.project(test), test), joint_error_mm(mean_pose, test)
    assert vae < 0.5 * baseline, (vae, baseline)  # beats the best identity-free guess
    elbo = VPoserPrior({"energy": "neg_elbo", "body_model": "toy-stick"})
    elbo.load(final)
    random = uniform_rotations(21 * 64, torch.Generator().manual_seed(0)).reshape(64, 21, 3)
    assert torch.isfinite(elbo.energy(random)).all()  # far from the data the KL must not overflow
    assert elbo.energy(test).mean() < elbo.energy(random).mean()
    assert prior.energy(test).mean() < prior.energy(random).mean()
    check_prior(prior)
    # latent space: codes decode differentiably, ||z||^2 is the latent energy
    z = torch.zeros(3, 32, requires_grad=True)
    (prior.decode(z).square().sum() + prior.latent_energy(z).sum()).backward()
    assert torch.isfinite(z.grad).all() and z.grad.abs().sum() > 0
    torch.testing.assert_close(prior.latent_energy(torch.full((2, 32), 0.5)), torch.full((2,), 8.0))
    with pytest.raises(InputError, match=r"\(B, 32\)"):
        prior.decode(torch.zeros(2, 31))
    with pytest.raises(InputError, match="NaN"):
        prior.encode(torch.full((1, 21, 3), float("nan")))


def test_cli_train_quick_writes_checkpoint_and_record(tmp_path, capsys, toy_plugin):
    config = tmp_path / "vposer.yaml"
    config.write_text("body_model: toy-stick\ntrain:\n  batch_size: 16\n")
    code = main(["train", "--prior", "vposer", "--dataset", "toy-poses", "--quick",
                 "--prior-config", str(config), "--out", str(tmp_path), "--quiet"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    folder = tmp_path / "checkpoints" / "vposer" / "toy-poses" / "seed0"
    record = json.loads((folder / "training.json").read_text())
    assert record["finished"] and record["epochs_run"] == 2 and record["fingerprint"]["quick"]
    prior = posebench.load_prior("vposer", checkpoint=str(folder / "vposer.pt"))
    assert prior.training["steps"] == record["steps"] and prior.source == "posebench"
    check_prior(prior)


def test_neg_elbo_on_the_embedded_body_is_finite_and_differentiable(tmp_path):
    path = tmp_path / "v2.ckpt"
    write_v02_05_ckpt(path, random_weights(V2_SHAPES, seed=6))
    prior = posebench.load_prior("vposer", checkpoint=str(path), config={"energy": "neg_elbo"})
    check_prior(prior, n=4)  # zero pose, random poses, near-pi rotations, bad input


def _shipped_prior_and_data():
    if VPoserPrior().default_checkpoint() is None:
        pytest.skip("no shipped vposer checkpoint (posebench/data/vposer_embedded.pt) yet")
    try:
        data = posebench.load_dataset("embedded")
    except PosebenchError as exc:
        pytest.skip(f"embedded dataset not available: {exc}")
    return posebench.load_prior("vposer"), data


@pytest.mark.slow
def test_shipped_checkpoint_beats_none_on_held_out_test_poses():
    """The shipped weights model test poses, not everything: their reconstruction error and
    negative ELBO are far below those of the none prior's samples (uniform rotations)."""
    prior, data = _shipped_prior_and_data()
    check_prior(prior)
    test = data.poses("test")
    random = posebench.load_prior("none").sample(len(test), torch.Generator().manual_seed(0))
    body = posebench.load_body_model("anny")

    def v2v_mm(pose):
        return 1000 * float(
            (body(prior.project(pose)).vertices - body(pose).vertices).norm(dim=-1).mean()
        )

    assert v2v_mm(test) < 0.5 * v2v_mm(random)
    elbo = VPoserPrior({"energy": "neg_elbo"})
    elbo.load(prior.checkpoint)
    assert torch.isfinite(elbo.energy(random)).all()  # far from the data the KL must not overflow
    assert elbo.energy(test).mean() < elbo.energy(random).mean()
    assert prior.energy(test).mean() < prior.energy(random).mean()


@pytest.mark.parametrize("drop", ["architecture", "model"])
def test_an_incomplete_posebench_checkpoint_is_a_one_line_error(tmp_path, drop):
    shipped = VPoserPrior().default_checkpoint()
    assert shipped is not None
    data = torch.load(shipped, map_location="cpu", weights_only=True)
    del data[drop]
    torch.save(data, tmp_path / "partial.pt")
    with pytest.raises(InputError, match=rf"has no '{drop}'; the file is incomplete"):
        posebench.load_prior("vposer", checkpoint=str(tmp_path / "partial.pt"))
