"""Training seeds: which model a run of training seed t scores, and the one line when it is missing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from posebench.benchmark.components import load_prior
from posebench.core.errors import InputError
from posebench.priors.training_seeds import (
    checkpoint_for_seed,
    shipped_training_seed,
    training_dir,
    trains,
)


@pytest.mark.parametrize("name", ["gmm", "vposer", "posendf", "nrdf", "dposer"])
def test_the_shipped_model_is_training_seed_zero_on_the_embedded_data_only(name):
    prior = load_prior(name, pretrained=False)
    assert trains(prior)
    assert shipped_training_seed(prior, "embedded") == 0
    assert shipped_training_seed(prior, "amass") is None  # trained on other data: no seed there
    assert checkpoint_for_seed(prior, name, "embedded", 0, "unused") is None  # the shipped one


def test_another_seed_is_the_final_checkpoint_that_train_left_there(tmp_path):
    prior = load_prior("gmm", pretrained=False)
    folder = training_dir(tmp_path, "gmm", "embedded", 3)
    assert folder == tmp_path / "checkpoints" / "gmm" / "embedded" / "seed3"
    folder.mkdir(parents=True)
    (folder / "gmm.pkl").write_bytes(b"")
    assert checkpoint_for_seed(prior, "gmm", "embedded", 3, tmp_path) == folder / "gmm.pkl"


def test_a_missing_seed_names_the_command_with_the_shipped_recipe(tmp_path):
    prior = load_prior("posendf", pretrained=False)
    with pytest.raises(InputError) as raised:
        checkpoint_for_seed(prior, "posendf", "embedded", 1, tmp_path)
    message = str(raised.value)
    assert "\n" not in message and "training seed 1" in message
    assert (
        f"posebench train --prior posendf --dataset embedded --seed 1 --out {tmp_path} "
        "--prior-config " in message
    )
    recipe = Path(re.search(r"--prior-config (\S+)", message)[1])
    assert recipe.is_file() and recipe.name == "posendf_embedded.yaml"


def test_a_prior_without_training_has_no_seeds():
    assert not trains(load_prior("none"))
