"""The GMM prior: SMPLify's energy, EM, the gmm_08.pkl format, sampling, projection, training."""

from __future__ import annotations

import itertools
import json
import math
import pickle

import numpy as np
import pytest
import torch
from scipy.stats import multivariate_normal

import posebench
from posebench.cli.main import main
from posebench.core.errors import InputError
from posebench.priors.gmm.mixture import Mixture, fit_mixture
from posebench.priors.gmm.official import read_gmm_pickle
from posebench.priors.gmm.prior import GMMPrior
from posebench.priors.none import uniform_rotations
from posebench.testing import check_prior


def random_mixture(k: int = 3, d: int = 63, seed: int = 0) -> Mixture:
    rng = np.random.default_rng(seed)
    means = rng.normal(0, 0.3, (k, d))
    factors = rng.normal(0, 0.1, (k, d, d))
    covars = factors @ factors.transpose(0, 2, 1) + 1e-3 * np.eye(d)
    weights = rng.dirichlet(np.ones(k))
    return Mixture(*(torch.from_numpy(a) for a in (means, covars, weights)))


def test_energy_is_smplify_max_mixture_nll():
    """E(x) = min_k[-log(w_k N(x; μ_k, Σ_k))] - ½ min_j log det Σ_j, from scipy independently."""
    mixture = random_mixture()
    x = torch.randn(5, 63, dtype=torch.float64) * 0.3
    means, covars, weights = (t.numpy() for t in (mixture.means, mixture.covars, mixture.weights))
    logdets = [np.linalg.slogdet(c)[1] for c in covars]
    expected = [
        min(
            -math.log(w) - multivariate_normal(m, c).logpdf(xi)
            for m, c, w in zip(means, covars, weights, strict=True)
        )
        - 0.5 * min(logdets)
        for xi in x.numpy()
    ]
    np.testing.assert_allclose(mixture.max_mixture_energy(x).numpy(), expected, rtol=1e-10)
    exact = [
        np.log(
            sum(
                w * multivariate_normal(m, c).pdf(xi)
                for m, c, w in zip(means, covars, weights, strict=True)
            )
        )
        for xi in x.numpy()[:2]
    ]
    np.testing.assert_allclose(mixture.log_likelihood(x[:2]).numpy(), exact, rtol=1e-8)


def test_em_recovers_a_known_mixture():
    generator = torch.Generator().manual_seed(0)
    true_means = torch.tensor([[2.0, 0.0, 0.0], [-2.0, 1.0, 0.0]], dtype=torch.float64)
    first = true_means[0] + 0.3 * torch.randn(3000, 3, generator=generator, dtype=torch.float64)
    second = true_means[1] + 0.5 * torch.randn(1000, 3, generator=generator, dtype=torch.float64)
    mixture, report = fit_mixture(torch.cat([first, second]), n_components=2, reg_covar=1e-6)
    order = mixture.means[:, 0].argsort(descending=True)
    assert report.converged
    torch.testing.assert_close(mixture.means[order], true_means, atol=0.05, rtol=0)
    torch.testing.assert_close(
        mixture.weights[order], torch.tensor([0.75, 0.25], dtype=torch.float64), atol=0.01, rtol=0
    )
    variances = torch.diagonal(mixture.covars[order], dim1=1, dim2=2)
    torch.testing.assert_close(
        variances.sqrt(),
        torch.tensor([[0.3] * 3, [0.5] * 3], dtype=torch.float64),
        atol=0.03,
        rtol=0,
    )
    assert all(b >= a - 1e-9 for a, b in itertools.pairwise(report.history))  # EM ascends


def test_reg_covar_floors_the_covariance_eigenvalues():
    x = torch.randn(500, 63, dtype=torch.float64) * 1e-4  # nearly degenerate data
    mixture, _ = fit_mixture(x, n_components=2, reg_covar=1e-3, max_iter=5)
    assert torch.linalg.eigvalsh(mixture.covars).min() >= 1e-3


def write_python2_style_pickle(path, mixture: Mixture) -> None:
    data = {
        "covars": mixture.covars.numpy(),
        "means": mixture.means.numpy(),
        "weights": mixture.weights.numpy(),
    }
    path.write_bytes(pickle.dumps(data, protocol=2))


def test_official_69d_file_is_marginalised_to_the_body(tmp_path):
    full = random_mixture(k=8, d=69, seed=1)
    path = tmp_path / "gmm_08.pkl"
    write_python2_style_pickle(path, full)
    mixture, extra = read_gmm_pickle(path)
    assert extra["source_dims"] == 69 and mixture.dim == 63
    torch.testing.assert_close(mixture.means, full.means[:, :63])
    torch.testing.assert_close(mixture.covars, full.covars[:, :63, :63])
    # the marginal energy uses D = 63 in its constant: check against scipy on the marginal
    x = torch.zeros(1, 63, dtype=torch.float64)
    logdets = [np.linalg.slogdet(c)[1] for c in full.covars[:, :63, :63].numpy()]
    expected = min(
        -math.log(w) - multivariate_normal(m[:63], c[:63, :63]).logpdf(x[0].numpy())
        for m, c, w in zip(
            full.means.numpy(), full.covars.numpy(), full.weights.numpy(), strict=True
        )
    ) - 0.5 * min(logdets)
    assert mixture.max_mixture_energy(x).item() == pytest.approx(expected, rel=1e-10)
    prior = posebench.load_prior("gmm", checkpoint=path)
    assert prior.training["source_dims"] == 69 and prior.plausible_energy is None


def test_own_files_round_trip(tmp_path):
    prior = GMMPrior()
    prior.mixture, prior.plausible_energy = random_mixture(), 123.0
    prior.save(tmp_path / "g.pkl")
    again = posebench.load_prior("gmm", checkpoint=tmp_path / "g.pkl")
    assert again.plausible_energy == 123.0
    pose = torch.randn(4, 21, 3) * 0.2
    torch.testing.assert_close(again.energy(pose), prior.energy(pose))


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"cos\nsystem\n(S'echo pwned'\ntR.", "refusing to load os.system"),
        (
            pickle.dumps({"means": np.zeros((2, 63))}),
            "expected a dict with 'means', 'covars', 'weights'",
        ),
        (
            pickle.dumps(
                {"means": np.zeros((2, 60)), "covars": np.zeros((2, 60, 60)), "weights": np.ones(2)}
            ),
            "expected (K, 63 or 69)",
        ),
        (
            pickle.dumps(
                {"means": np.zeros((1, 63)), "covars": np.zeros((1, 63, 63)), "weights": np.ones(1)}
            ),
            "not positive definite",
        ),
        (b"not a pickle", "not a gmm_08.pkl-style pickle"),
    ],
)
def test_bad_gmm_files_are_refused_in_one_line(tmp_path, payload, message):
    path = tmp_path / "bad.pkl"
    path.write_bytes(payload)
    with pytest.raises(InputError) as excinfo:
        read_gmm_pickle(path)
    assert message in str(excinfo.value) and str(path) in str(excinfo.value)


def test_untrained_prior_refuses_to_score():
    with pytest.raises(InputError, match="no trained mixture.*posebench train --prior gmm"):
        GMMPrior().energy(torch.zeros(1, 21, 3))


def test_samples_follow_the_mixture():
    """Whitened by the true mean and covariance, samples are standard normal (SE ≈ 0.007)."""
    mixture = random_mixture(k=1, d=63, seed=2)
    samples = mixture.sample(20000, torch.Generator().manual_seed(0))
    chol = torch.linalg.cholesky(mixture.covars[0])
    white = torch.linalg.solve_triangular(chol, (samples - mixture.means[0]).T, upper=False).T
    torch.testing.assert_close(
        white.mean(0), torch.zeros(63, dtype=torch.float64), atol=0.04, rtol=0
    )
    torch.testing.assert_close(
        torch.cov(white.T), torch.eye(63, dtype=torch.float64), atol=0.05, rtol=0
    )


def test_projection_lowers_energy_in_bounded_steps_and_stops_when_plausible():
    prior = GMMPrior()
    prior.mixture = random_mixture(seed=3)
    noisy = torch.randn(16, 21, 3) * 0.8
    start = prior.energy(noisy)
    prior.plausible_energy = float(start.median())  # half the poses are already plausible
    projected = prior.project(noisy)
    end = prior.energy(projected)
    plausible = start < prior.plausible_energy - 1e-3  # (the median pose itself is a tie)
    assert torch.equal(projected[plausible], noisy[plausible])  # plausible poses stay put
    assert (end[~plausible] <= start[~plausible]).all() and (end < start).sum() >= 7
    one_step = prior.project(noisy, steps=1)
    assert (one_step - noisy).norm(dim=-1).max() <= prior.config["project"]["max_step"] + 1e-5
    prior.config["project"]["stop_at"] = "mode"
    to_mode = prior.project(noisy, steps=400)
    component = prior.mixture.component_energies(to_mode.reshape(16, 63).double()).argmin(1)
    torch.testing.assert_close(
        to_mode.reshape(16, 63).double(), prior.mixture.means[component], atol=1e-4, rtol=0
    )


def test_trained_on_poses_it_keeps_the_contract_and_beats_random_rotations(
    tmp_path, capsys, toy_plugin
):
    code = main(
        ["train", "--prior", "gmm", "--dataset", "toy-poses", "--out", str(tmp_path), "--quiet"]
    )
    assert code == 0, capsys.readouterr().err
    checkpoint = tmp_path / "checkpoints" / "gmm" / "toy-poses" / "seed0" / "gmm.pkl"
    assert f"checkpoint: {checkpoint}" in capsys.readouterr().out
    prior = posebench.load_prior("gmm", checkpoint=checkpoint)
    check_prior(prior)
    test = toy_plugin.ToyPoses().poses("test")
    random = uniform_rotations(21 * 256, torch.Generator().manual_seed(0)).reshape(256, 21, 3)
    assert prior.energy(test).mean() + 100 < prior.energy(random).mean()
    # resume keeps a finished fit for the same data and config
    stamp = checkpoint.stat().st_mtime_ns
    assert (
        main(
            [
                "train",
                "--prior",
                "gmm",
                "--dataset",
                "toy-poses",
                "--out",
                str(tmp_path),
                "--resume",
                "--quiet",
            ]
        )
        == 0
    )
    assert checkpoint.stat().st_mtime_ns == stamp
    # a damaged training record: resume fits again (seconds) instead of a JSON traceback
    record = checkpoint.with_name("training.json")
    record.write_text('{"trunc')
    train = ["train", "--prior", "gmm", "--dataset", "toy-poses", "--out", str(tmp_path)]
    assert main([*train, "--resume", "--quiet"]) == 0
    assert checkpoint.stat().st_mtime_ns != stamp and json.loads(record.read_text())["fingerprint"]
    code = main(["run", "--prior", "gmm", "--task", "toy-energy-gap", "--dataset", "toy-poses",
                 "--body-model", "toy-stick", "--checkpoint", str(checkpoint), "--out", str(tmp_path), "--quiet"])  # fmt: skip
    assert code == 0


def test_shipped_gmm_beats_random_rotations_on_held_out_test_poses():
    """Trained by 'posebench train --prior gmm' on the embedded train split (see README)."""
    prior = posebench.load_prior("gmm")
    assert prior.checkpoint is not None and prior.checkpoint.name == "gmm_embedded.pkl"
    assert prior.training["n_train"] == 2068 and prior.training["converged"]
    test = posebench.load_dataset("embedded").poses("test")
    random = uniform_rotations(21 * 512, torch.Generator().manual_seed(0)).reshape(512, 21, 3)
    # measured: test 1,075 (motion kinds not in train), uniformly random rotations about 30,000
    assert prior.energy(test).mean() + 1000 < prior.energy(random).mean()
    assert prior.energy(test).median() < prior.energy(random).min()
