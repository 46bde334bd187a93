"""Methods that are not plugins: export a task's inputs, score predictions into results."""

from __future__ import annotations

import numpy as np
import pytest
import roma
import torch

from posebench.cli.main import main
from posebench.core.seeding import make_generator
from posebench.results import read_result

TOY = ["--dataset", "toy-poses", "--body-model", "toy-stick", "--quiet", "--quick"]


def cli(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_denoise_inputs_round_trip_and_score_like_the_noisy_input(capsys, tmp_path, toy_plugin):
    inputs = tmp_path / "inputs.npz"
    code, out, err = cli(capsys, "export", "--task", "denoise", *TOY, "--out", str(inputs))
    assert code == 0, err
    data = np.load(inputs)
    assert data["observed_joints"].shape == (2, 60, 22, 3)
    predictions = tmp_path / "pred.npz"
    np.savez(
        predictions,
        joints=data["observed_joints"],
        inputs_hash=out.split("inputs_hash ")[1].strip(")\n"),
    )
    code, out, err = cli(capsys, "score", "--task", "denoise", *TOY, "--predictions", str(predictions),
                         "--method", "identity", "--out", str(tmp_path / "r"))  # fmt: skip
    assert code == 0, err
    (path,) = (tmp_path / "r").rglob("seed0.quick.json")
    record = read_result(path)
    assert record.prior["name"] == "identity" and record.prior["plugin"] == "external"
    assert record.metrics["mpjpe_mm"] == pytest.approx(record.metrics["noisy_mpjpe_mm"])
    assert record.metrics["mpvpe_mm"] is None


def test_predictions_for_other_inputs_are_refused(capsys, tmp_path, toy_plugin):
    np.savez(tmp_path / "p.npz", joints=np.zeros((2, 60, 22, 3)), inputs_hash="0" * 64)
    code, _, err = cli(capsys, "score", "--task", "denoise", *TOY, "--predictions", str(tmp_path / "p.npz"),
                       "--method", "zeros", "--out", str(tmp_path))  # fmt: skip
    assert code == 2 and "made for other inputs" in err and err.count("\n") == 1


@pytest.mark.parametrize(
    ("method", "message"), [("Bad Name", "must be lower case"), ("none", "registered prior")]
)
def test_method_names_are_checked(capsys, tmp_path, toy_plugin, method, message):
    np.savez(tmp_path / "p.npz", joints=np.zeros((2, 60, 22, 3)))
    code, _, err = cli(capsys, "score", "--task", "denoise", *TOY, "--predictions", str(tmp_path / "p.npz"),
                       "--method", method)  # fmt: skip
    assert code == 2 and message in err


def test_scored_samples_match_the_prior_run(capsys, tmp_path, toy_plugin):
    prior = toy_plugin.ToyGaussPrior()
    samples = prior.sample(200, make_generator(0, "sample"))
    np.savez(tmp_path / "samples.npz", pose_body=samples.reshape(200, 63).numpy())
    assert cli(capsys, "score", "--task", "sample", *TOY, "--predictions", str(tmp_path / "samples.npz"),
               "--method", "my-sampler", "--out", str(tmp_path / "r"))[0] == 0  # fmt: skip
    assert (
        cli(
            capsys,
            "run",
            "--task",
            "sample",
            "--prior",
            "toy-gauss",
            *TOY,
            "--out",
            str(tmp_path / "r"),
        )[0]
        == 0
    )
    scored = read_result(next((tmp_path / "r").rglob("my-sampler/seed0.quick.json"))).metrics
    ran = read_result(next((tmp_path / "r").rglob("toy-gauss/seed0.quick.json"))).metrics
    assert scored == pytest.approx(ran)


def test_interpolation_paths_are_scored_like_the_none_prior(capsys, tmp_path, toy_plugin):
    inputs = tmp_path / "pairs.npz"
    assert cli(capsys, "export", "--task", "interpolate", *TOY, "--out", str(inputs))[0] == 0
    data = np.load(inputs)
    start = torch.from_numpy(data["start_pose_body"]).reshape(-1, 21, 3)
    end = torch.from_numpy(data["end_pose_body"]).reshape(-1, 21, 3)
    path = roma.rotvec_slerp(start, end, torch.linspace(0, 1, int(data["steps"]) + 1))
    np.savez(tmp_path / "paths.npz", path_pose_body=path.reshape(len(path), len(start), 63).numpy())
    assert cli(capsys, "score", "--task", "interpolate", *TOY, "--predictions", str(tmp_path / "paths.npz"),
               "--method", "slerp", "--out", str(tmp_path / "r"))[0] == 0  # fmt: skip
    assert (
        cli(
            capsys,
            "run",
            "--task",
            "interpolate",
            "--prior",
            "none",
            *TOY,
            "--out",
            str(tmp_path / "r"),
        )[0]
        == 0
    )
    scored = read_result(next((tmp_path / "r").rglob("slerp/seed0.quick.json"))).metrics
    ran = read_result(next((tmp_path / "r").rglob("none/seed0.quick.json"))).metrics
    assert scored == pytest.approx(ran, abs=1e-4)
