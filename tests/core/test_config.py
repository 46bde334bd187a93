"""Strict configuration merging: unknown keys are errors, with suggestions."""

from __future__ import annotations

import pytest

from posebench.core.config import merge_config, packaged_config, read_yaml
from posebench.core.errors import ConfigError

DEFAULTS = {"steps": 100, "lr": 0.01, "schedule": {"stages": 3, "decay": 0.5}, "weights": {}}


def test_overrides_replace_values_and_keep_the_rest():
    merged = merge_config(DEFAULTS, {"steps": 5, "schedule": {"decay": 0.1}})
    assert merged == {
        "steps": 5,
        "lr": 0.01,
        "schedule": {"stages": 3, "decay": 0.1},
        "weights": {},
    }
    assert DEFAULTS["schedule"]["decay"] == 0.5  # defaults untouched


def test_unknown_key_is_an_error_with_a_suggestion():
    with pytest.raises(ConfigError, match=r"unknown key 'stpes'.*did you mean 'steps'"):
        merge_config(DEFAULTS, {"stpes": 5})


def test_unknown_nested_key_names_its_path():
    with pytest.raises(ConfigError, match=r"unknown key 'schedule.stage'"):
        merge_config(DEFAULTS, {"schedule": {"stage": 2}})


def test_empty_mapping_default_is_open():
    merged = merge_config(DEFAULTS, {"weights": {"denoise": {"value": 2.0, "source": "tuned"}}})
    assert merged["weights"]["denoise"]["value"] == 2.0


def test_scalar_for_a_mapping_is_an_error():
    with pytest.raises(ConfigError, match="must be a mapping"):
        merge_config(DEFAULTS, {"schedule": 3})


def test_yaml_file_errors_are_one_line(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        read_yaml(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("steps: [1, 2\n")
    with pytest.raises(ConfigError, match="not valid YAML at line"):
        read_yaml(bad)
    listing = tmp_path / "list.yaml"
    listing.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="must hold a mapping"):
        read_yaml(listing)


def test_merge_reads_a_file(tmp_path):
    path = tmp_path / "override.yaml"
    path.write_text("lr: 0.5\n")
    assert merge_config(DEFAULTS, path)["lr"] == 0.5
    path.write_text("lrr: 0.5\n")
    with pytest.raises(ConfigError, match=str(path)):
        merge_config(DEFAULTS, path)


def test_packaged_configs_load():
    assert packaged_config("suites/default.yaml")["priors"][-1] == "none"
    assert "energy_weights" in packaged_config("priors/none.yaml")
