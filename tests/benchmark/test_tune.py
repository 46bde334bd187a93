"""Tuning energy weights on the validation split, and runs picking the tuned weight up."""

from __future__ import annotations

import json
import shutil
from importlib import resources

import pytest
import yaml

from posebench.benchmark.tuned import apply_tuned, tuned_path
from posebench.cli.main import main
from posebench.core.errors import ConfigError, PosebenchError
from posebench.results import read_result

TOY = ["--dataset", "toy-poses", "--body-model", "toy-stick", "--quiet", "--quick"]
FAST = "optimiser: {root_steps: 2, frame_steps: 2, steps: 3}\nbootstrap_resamples: 10\n"


def test_tune_picks_the_best_weight_on_val_and_run_uses_it(tmp_path, capsys, toy_plugin):
    task_config = tmp_path / "fast.yaml"
    task_config.write_text(FAST)
    code = main(["tune", "--prior", "toy-gauss", "--task", "denoise", *TOY, "--grid", "0,1,1000",
                 "--task-config", str(task_config), "--out", str(tmp_path)])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    path = tuned_path(tmp_path, "toy-poses", "toy-gauss", "denoise", quick=True)
    assert path.name == "denoise.quick.json"
    document = json.loads(path.read_text())
    assert document["split"] == "val" and [r["weight"] for r in document["grid"]] == [0, 1, 1000]
    best = min(document["grid"], key=lambda r: r["mpjpe_mm"])
    assert document["weight"] == best["weight"] and "<- best" in out

    code = main(["run", "--prior", "toy-gauss", "--task", "denoise", *TOY,
                 "--task-config", str(task_config), "--out", str(tmp_path)])  # fmt: skip
    assert code == 0
    (result,) = (tmp_path / "toy-poses").rglob("seed0.quick.json")
    record = read_result(result)
    assert record.prior["energy_weight"] == document["weight"]
    assert record.prior["energy_weight_source"] == "tuned"
    assert record.prior["energy_weight_file"] == str(path)


def test_a_run_never_uses_a_weight_tuned_at_the_other_size(tmp_path, capsys, toy_plugin):
    task_config = tmp_path / "fast.yaml"
    task_config.write_text(FAST)
    common = ["--prior", "toy-gauss", "--task", "denoise", *TOY, "--task-config",
              str(task_config), "--out", str(tmp_path)]  # fmt: skip
    assert main(["tune", *common, "--grid", "0,1000"]) == 0  # quick sizes (TOY has --quick)
    full = [arg for arg in common if arg != "--quick"]
    assert main(["run", *full, "--seed", "1"]) == 0  # full: the quick file is not its weight
    (result,) = (tmp_path / "toy-poses").rglob("seed1.json")
    assert read_result(result).prior["energy_weight_source"] != "tuned"
    quick_file = tuned_path(tmp_path, "toy-poses", "toy-gauss", "denoise", quick=True)
    shutil.copy(quick_file, tuned_path(tmp_path, "toy-poses", "toy-gauss", "denoise"))
    capsys.readouterr()
    assert main(["run", *full, "--seed", "2"]) == 2  # a quick-tuned file where a full run looks
    assert "was tuned with quick sizes, but this run is full" in capsys.readouterr().err


def test_apply_refuses_to_edit_an_installed_package(tmp_path):
    installed = tmp_path / "lib" / "site-packages" / "posebench" / "configs" / "priors"
    installed.mkdir(parents=True)
    prior_yaml = installed / "gmm.yaml"
    shutil.copy(resources.files("posebench") / "configs" / "priors" / "gmm.yaml", prior_yaml)
    before = prior_yaml.read_text()
    tuned = tmp_path / "denoise.json"
    tuned.write_text(json.dumps({"weight": 3.5, "task": "denoise", "dataset": "embedded",
                                 "split": "val", "size": "full", "seed": 0}))  # fmt: skip
    with pytest.raises(ConfigError, match="belongs to an installed package.*--prior-config"):
        apply_tuned(tuned, prior_yaml)
    assert prior_yaml.read_text() == before


def test_tuning_a_task_without_a_weight_is_refused(tmp_path, capsys, toy_plugin):
    code = main(
        ["tune", "--prior", "toy-gauss", "--task", "toy-energy-gap", *TOY, "--out", str(tmp_path)]
    )
    assert code == 2 and "nothing to tune" in capsys.readouterr().err


def test_apply_writes_the_weight_into_the_prior_yaml(tmp_path):
    prior_yaml = tmp_path / "gmm.yaml"
    shutil.copy(resources.files("posebench") / "configs" / "priors" / "gmm.yaml", prior_yaml)
    tuned = tmp_path / "denoise.json"
    tuned.write_text(json.dumps({"weight": 3.5, "task": "denoise", "dataset": "embedded",
                                 "split": "val", "size": "full", "seed": 0}))  # fmt: skip
    image_fit_before = yaml.safe_load(prior_yaml.read_text())["energy_weights"]["image_fit"]
    assert apply_tuned(tuned, prior_yaml) == 3.5
    config = yaml.safe_load(prior_yaml.read_text())
    assert config["energy_weights"]["denoise"]["value"] == 3.5
    assert config["energy_weights"]["denoise"]["source"] == "tuned"
    assert config["energy_weights"]["image_fit"] == image_fit_before  # other tasks untouched
    assert config["n_components"] == 8 and "# SMPLify-style GMM prior" in prior_yaml.read_text()
    prior_yaml.write_text(prior_yaml.read_text() + "extra: 1\n")
    with pytest.raises(ConfigError, match="must be the last top-level key"):
        apply_tuned(tuned, prior_yaml)


@pytest.mark.parametrize(
    ("tuned", "prior_yaml", "message"),
    [
        ({"weight": 1.0}, None, "lacks task, dataset, split, size, seed"),
        (None, "just a string\n", "holds str, not a YAML mapping"),
        (None, "energy_weights: [1, 2]\n", "has no 'energy_weights' section"),
    ],
)
def test_apply_refuses_files_it_cannot_use_with_one_line(tmp_path, tuned, prior_yaml, message):
    tuned_file, target = tmp_path / "denoise.json", tmp_path / "gmm.yaml"
    good = {"weight": 3.5, "task": "denoise", "dataset": "embedded", "split": "val",
            "size": "full", "seed": 0}  # fmt: skip
    tuned_file.write_text(json.dumps(tuned or good))
    shutil.copy(resources.files("posebench") / "configs" / "priors" / "gmm.yaml", target)
    if prior_yaml is not None:
        target.write_text(prior_yaml)
    before = target.read_text()
    with pytest.raises(PosebenchError, match=message) as info:
        apply_tuned(tuned_file, target)
    assert "\n" not in str(info.value) and target.read_text() == before


def test_a_protocol_with_its_own_weight_key_is_tuned_and_used_under_that_key(
    tmp_path, capsys, toy_plugin
):
    """The posendf protocol weighs the prior with energy_weights['denoise-posendf']: tune
    searches that weight and writes denoise-posendf.quick.json, which the posendf protocol's runs
    use and the house protocol's do not."""
    fast = tmp_path / "fast.yaml"
    fast.write_text("objective: {steps: 2}\nbootstrap_resamples: 10\nbaselines: null\n")
    common = ["--prior", "toy-gauss", "--task", "denoise", *TOY, "--task-config", str(fast),
              "--out", str(tmp_path)]  # fmt: skip
    assert main(["tune", *common, "--protocol", "posendf", "--grid", "0,5"]) == 0
    path = tuned_path(tmp_path, "toy-poses", "toy-gauss", "denoise-posendf", quick=True)
    document = json.loads(path.read_text())
    assert document["weight_key"] == "denoise-posendf" and document["protocol"] == "posendf"
    assert main(["run", *common, "--protocol", "posendf"]) == 0
    (published,) = (tmp_path / "toy-poses").rglob("denoise@posendf/**/seed0.quick.json")
    record = read_result(published)
    assert record.prior["energy_weight"] == document["weight"]
    assert record.prior["energy_weight_source"] == "tuned"
    assert record.details["energy_weight_key"] == "denoise-posendf"
    humor = ["--prior", "toy-gauss", "--task", "denoise", *TOY, "--out", str(tmp_path)]
    house = "optimiser: {root_steps: 1, frame_steps: 1, steps: 1}\nbaselines: null\n"
    fast.write_text(house)
    assert main(["run", *humor, "--task-config", str(fast)]) == 0
    (own,) = (tmp_path / "toy-poses").rglob("denoise@humor/**/seed0.quick.json")
    assert read_result(own).prior["energy_weight_source"] != "tuned"
    capsys.readouterr()
