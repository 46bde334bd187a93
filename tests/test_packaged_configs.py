"""Every packaged config follows its declared types and ranges, and every declaration names a key
the defaults have: the validator refuses nothing posebench ships (the leaderboard's configs)."""

from __future__ import annotations

from typing import Any

import pytest

from posebench.benchmark.components import load_task
from posebench.cli.options import OPTION_SCHEMA, RUN_DEFAULTS, SUITE_DEFAULTS
from posebench.cli.run import SUITE_FILE_DEFAULTS, SUITE_FILE_SCHEMA, packaged_suite
from posebench.core.paths import config_path
from posebench.core.schema import at_least
from posebench.plugins import get_registry
from posebench.priors.base import ENERGY_WEIGHT_SCHEMA, Prior
from posebench.testing import check_config_declarations

BUILTIN = "posebench"


def builtin_names(kind: Any) -> list[str]:
    return sorted(
        entry.name for entry in get_registry().entries(kind) if entry.plugin.distribution == BUILTIN
    )


def prior_class(name: str) -> type[Prior]:
    return get_registry().get("prior", name).load_class(Prior)


TASKS = builtin_names("task")
PRIORS = builtin_names("prior")


def test_the_builtins_are_all_here():
    assert {"sample", "interpolate", "denoise", "image_fit"} <= set(TASKS)
    assert {"none", "gmm", "vposer", "posendf"} <= set(PRIORS)


@pytest.mark.parametrize("name", TASKS)
def test_every_task_protocol_and_size_validates(name):
    task = load_task(name)
    for protocol in task.protocols:
        for quick in (False, True):
            config = task.config(protocol, quick=quick)
            config.pop("protocol")
            where = f"task '{name}' protocol {protocol}{' quick' if quick else ''}"
            check_config_declarations(where, config, task.base_config(), task.config_schema)


@pytest.mark.parametrize("name", PRIORS)
def test_every_prior_default_validates(name):
    cls = prior_class(name)
    schema = {**ENERGY_WEIGHT_SCHEMA, **cls.config_schema}
    defaults = cls.default_config
    check_config_declarations(f"prior '{name}'", defaults, defaults, schema)
    assert cls.resolve_config(None) == cls.resolve_config({})


@pytest.mark.parametrize(
    "path", sorted(config_path("training").glob("*.yaml")), ids=lambda p: p.name
)
def test_packaged_training_configs_validate(path):
    """Named <prior>_<what>.yaml: the overrides a shipped checkpoint was trained with."""
    prior = path.name.split("_")[0]
    config = prior_class(prior).resolve_config(path)
    assert config["train"]


@pytest.mark.parametrize("name", sorted(p.stem for p in config_path("suites").glob("*.yaml")))
def test_packaged_suites_validate(name):
    suite = packaged_suite(name)
    assert suite["priors"] and suite["tasks"] and suite["seeds"]
    assert set(suite["priors"]) <= set(PRIORS)
    for entry in suite["tasks"]:  # TASK or TASK@PROTOCOL
        task, _, protocol = entry.partition("@")
        assert task in TASKS, entry
        assert not protocol or protocol in load_task(task).protocols, entry


def test_option_and_suite_file_declarations_hold_for_their_defaults():
    options = {**RUN_DEFAULTS, **SUITE_DEFAULTS}
    check_config_declarations("run options", RUN_DEFAULTS, options, OPTION_SCHEMA)
    check_config_declarations("suite options", SUITE_DEFAULTS, options, OPTION_SCHEMA)
    check_config_declarations(
        "suite files", SUITE_FILE_DEFAULTS, SUITE_FILE_DEFAULTS, SUITE_FILE_SCHEMA
    )


def test_a_misspelt_or_contradicted_declaration_is_caught():
    with pytest.raises(AssertionError, match="declares keys its defaults lack: stpes"):
        check_config_declarations("x", {"steps": 1}, {"steps": 1}, {"stpes": at_least(1)})
    with pytest.raises(AssertionError, match="key 'steps' is 0; expected an integer at least 1"):
        check_config_declarations("x", {"steps": 0}, {"steps": 0}, {"steps": at_least(1)})
