"""The nrdf prior: its training points, training (with resume), the contract, the official layout."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml

import posebench
from posebench.core.errors import InputError
from posebench.priors.nrdf.geometry import canonical, geodesic_distance, perturb, random_starts
from posebench.priors.nrdf.targets import nearest_distance, training_points
from posebench.priors.posendf import official
from posebench.testing import check_prior

SMALL = {"model": {"dims": [32, 32]}, "train": {"steps": 6, "batch_noisy": 64,
         "batch_manifold": 64, "checkpoint_every": 3, "log_every": 3, "val_size": 16},
         "targets": {"per_pose": 2}, "projection": {"steps": 5}, "sample": {"steps": 5}}  # fmt: skip


def test_targets_are_the_exact_nearest_distance_and_never_beyond_the_move():
    manifold = random_starts(40, 1.0, torch.Generator().manual_seed(0)).double()
    source = torch.arange(40).repeat(3)
    distance = torch.rand(120, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    moved = canonical(perturb(manifold[source], distance, torch.Generator().manual_seed(2)))
    found = nearest_distance(moved, manifold, source, candidates=40)  # every pose a candidate
    brute = geodesic_distance(moved[:, None], manifold[None]).min(dim=1).values
    assert torch.allclose(found, brute)
    assert (found <= geodesic_distance(moved, manifold[source]) + 1e-12).all()
    few = nearest_distance(moved, manifold, source, candidates=3)  # fewer: never below the truth
    assert (few >= brute - 1e-12).all()


def test_training_points_follow_the_asked_spread_and_are_deterministic():
    manifold = random_starts(30, 1.0, torch.Generator().manual_seed(3))
    config = {"per_pose": 20, "sigma": 0.2, "candidates": 8}
    queries, targets = training_points(manifold, config, seed=5)
    assert queries.shape == (600, 21, 4) and targets.shape == (600,)
    assert (targets >= 0).all() and (queries[..., 0] >= 0).all()
    # |d| / 2 with d ~ N(0, 0.2) has mean 0.2 * sqrt(2 / pi) / 2 = 0.08; nearest can only be closer
    assert 0.03 < float(targets.mean()) <= 0.085
    again, _ = training_points(manifold, config, seed=5)
    assert torch.equal(queries, again)


def train(toy_plugin, out: Path, config=SMALL, resume=False):
    from posebench.benchmark.components import load_prior

    model = load_prior("nrdf", config=config, pretrained=False)
    full = {**model.config, "quick": False, "seed": 0}
    final = model.fit(toy_plugin.ToyPoses(), full, out, torch.device("cpu"), resume=resume)
    return model, final


def test_a_trained_nrdf_keeps_the_prior_contract_and_lowers_distance(tmp_path, toy_plugin):
    prior, final = train(toy_plugin, tmp_path / "run")
    assert final.name == "nrdf_final.pt" and prior.record["steps"] == 6
    check_prior(prior)
    loaded = posebench.load_prior("nrdf", checkpoint=str(final))
    pose = toy_plugin.ToyPoses().poses("test")[:8]
    assert torch.allclose(loaded.energy(pose), prior.energy(pose))
    projected = loaded.project(pose + 0.3)
    assert (loaded.energy(projected) <= loaded.energy(pose + 0.3) + 1e-6).all()


def test_interrupted_training_resumes_to_the_same_weights(tmp_path, toy_plugin):
    straight, _ = train(toy_plugin, tmp_path / "straight")
    short = {**SMALL, "train": {**SMALL["train"], "steps": 3}}
    train(toy_plugin, tmp_path / "resumed", config=short)
    resumed, _ = train(toy_plugin, tmp_path / "resumed", resume=True)
    for a, b in zip(straight.model.state_dict().values(), resumed.model.state_dict().values(),
                    strict=True):  # fmt: skip
        assert torch.equal(a, b)
    other = {**SMALL, "targets": {"per_pose": 3}}
    with pytest.raises(InputError, match="other settings or seed"):
        train(toy_plugin, tmp_path / "resumed", config=other, resume=True)


def test_reads_an_official_nrdf_run_without_its_unused_decoder(tmp_path, toy_plugin):
    prior, _ = train(toy_plugin, tmp_path / "run")
    state = official.to_official_state_dict(prior.model.state_dict())
    for joint in range(21):  # NRDF saves a decoder it never uses
        state[f"dec.net.{joint}.net.0.weight"] = torch.randn(10, 6 if joint < 3 else 10)
    run = tmp_path / "official"
    (run / "checkpoints").mkdir(parents=True)
    config = {"model": {
        "DFNet": {"name": "DFNet", "in_dim": 126, "dims": "32, 32", "act": "softplus", "beta": 100},
        "StrEnc": {"name": "StructureEncoder", "act": "softplus", "beta": 100,
                   "smpl_mapping": "-1,-1,-1,0,1,2,3,4,5,6,7,8,8,8,11,12,13,15,16,17,18"},
    }}  # fmt: skip
    (run / "config.yaml").write_text(yaml.safe_dump(config))
    checkpoint = run / "checkpoints" / "checkpoint_epoch_best.tar"
    torch.save({"epoch": 3, "model_state_dict": state, "optimizer_state_dict": {}}, checkpoint)
    loaded = posebench.load_prior(
        "nrdf", checkpoint=str(checkpoint), config=str(run / "config.yaml")
    )
    assert loaded.config["model"]["parents"] == "anatomical"
    pose = toy_plugin.ToyPoses().poses("test")[:8]
    assert torch.allclose(loaded.energy(pose), prior.energy(pose), atol=1e-6)


def test_nrdf_without_weights_says_how_to_get_them():
    from posebench.benchmark.components import load_prior

    prior = load_prior("nrdf", pretrained=False)
    with pytest.raises(InputError, match="posebench train --prior nrdf"):
        prior.energy(torch.zeros(2, 21, 3))


@pytest.mark.slow
def test_shipped_model_has_no_spurious_zeros_and_tells_clean_from_noisy():
    from posebench.datasets.noise import rotation_noise
    from posebench.priors.posendf.calibration import spurious_zero_check

    prior = posebench.load_prior("nrdf")
    assert prior.checkpoint is not None and prior.checkpoint.name == "nrdf_embedded.pt"
    dataset = posebench.load_dataset("embedded")
    report = spurious_zero_check(prior, dataset.poses("train"), dataset.poses("val"), starts=128)
    assert report.passed, report.line()
    clean = dataset.poses("test")
    noisy = rotation_noise(clean, 0, sigma=0.5).noisy
    with torch.no_grad():
        assert (
            float((prior.energy(noisy)[:, None] > prior.energy(clean)[None]).double().mean()) > 0.95
        )
