"""The config validator: types inferred from defaults, declared ranges, one-line errors."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from posebench.core.errors import ConfigError
from posebench.core.schema import (
    Rule,
    above,
    at_least,
    between,
    check_config,
    describe,
    fits,
    integer,
    items,
    number,
    one_of,
    path,
    rule_for,
    text,
    under,
)

DEFAULTS = {
    "steps": 100,
    "lr": 0.01,
    "latent": True,
    "split": "test",
    "stride": None,
    "sizes": [[640, 480]],
    "sigmas": [0.01, 1],
    "window": {"length": 60, "fps": 30},
    "weights": {},
}
SCHEMA = {
    "steps": at_least(0),
    "lr": above(0),
    "stride": integer(min=1),
    "window.length": at_least(1),
    "window.fps": integer(min=1, nullable=True),
    "weights.*": number(min=0),
}


def check(values, schema=SCHEMA, defaults=DEFAULTS):
    check_config(values, defaults, schema, "task 'x' config file t.yaml")


@pytest.mark.parametrize(
    "values",
    [
        DEFAULTS,
        {"steps": 0, "lr": 2},  # an int where a float is the default
        {"stride": 5},
        {"stride": None, "window": {"fps": None}},
        {"sizes": [[1, 2], [3, 4]], "sigmas": [0.5]},
        {"weights": {"denoise": 3, "other": 0.5}},
        {"latent": False, "split": "val"},
    ],
    ids=str,
)
def test_valid_values_pass(values):
    check(values)


@pytest.mark.parametrize(
    ("values", "key", "expected"),
    [
        ({"steps": "ten"}, "steps", "an integer at least 0"),
        ({"steps": 1.5}, "steps", "an integer at least 0"),
        ({"steps": -1}, "steps", "an integer at least 0"),
        ({"steps": True}, "steps", "an integer"),  # a bool is no count
        ({"steps": None}, "steps", "an integer at least 0"),
        ({"lr": 0}, "lr", "a number above 0"),
        ({"lr": "1e-3"}, "lr", "a number above 0"),  # YAML 1.1 reads 1e-3 as text
        ({"lr": math.nan}, "lr", "a number"),
        ({"lr": math.inf}, "lr", "a number"),
        ({"latent": "yes"}, "latent", "true or false"),
        ({"latent": 1}, "latent", "true or false"),
        ({"split": 3}, "split", "a string"),
        ({"stride": 0}, "stride", "an integer at least 1 or null"),
        ({"window": {"length": "ten"}}, "window.length", "an integer at least 1"),
        ({"window": {"fps": 0}}, "window.fps", "an integer at least 1 or null"),
        ({"window": 3}, "window", "a mapping"),
        ({"sizes": [[640, "480"]]}, "sizes", "a list of lists of integers"),
        ({"sizes": "640x480"}, "sizes", "a list of lists of integers"),
        ({"sigmas": [0.1, "x"]}, "sigmas", "a list of numbers"),
        ({"weights": {"denoise": -1}}, "weights.denoise", "a number at least 0"),
        ({"weights": []}, "weights", "a mapping"),
    ],
    ids=str,
)
def test_bad_values_are_one_line_naming_where_key_value_and_what(values, key, expected):
    with pytest.raises(ConfigError) as info:
        check(values)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"task 'x' config file t.yaml key '{key}' is ")
    assert f"; expected {expected}" in message


def test_text_that_spells_an_allowed_number_says_how_to_write_it():
    with pytest.raises(ConfigError, match=r"above 0 \(write 0\.001: YAML reads '1e-3' as text\)$"):
        check({"lr": "1e-3"})
    with pytest.raises(ConfigError, match=r"at least 0 \(write 20: YAML reads '20' as text\)$"):
        check({"steps": "20"})
    with pytest.raises(ConfigError, match=r"at least 0$"):
        check({"steps": "1e-3"})  # not an integer either way: no hint


def test_the_value_is_shown_as_repr_and_cut():
    with pytest.raises(ConfigError, match=r"key 'steps' is 'ten'; expected"):
        check({"steps": "ten"})
    with pytest.raises(ConfigError) as info:
        check({"split": list(range(100))})
    assert "..." in str(info.value) and len(str(info.value)) < 200


def test_without_declarations_types_come_from_the_defaults():
    check(DEFAULTS, schema={})
    check({"steps": -5, "lr": -1.0}, schema={})  # no ranges declared: any integer, any number
    with pytest.raises(ConfigError, match="key 'steps' is 'x'; expected an integer$"):
        check({"steps": "x"}, schema={})
    with pytest.raises(ConfigError, match="key 'lr' is 'x'; expected a number$"):
        check({"lr": "x"}, schema={})


def test_a_null_default_accepts_anything_unless_declared():
    check({"stride": "anything"}, schema={})
    check({"stride": {"nested": [1, "x"]}}, schema={})
    with pytest.raises(ConfigError, match="key 'stride'"):
        check({"stride": "anything"})


def test_keys_the_defaults_lack_are_left_to_the_merge():
    check({"unknown": "x", "window": {"unknown": 1}})


def test_a_declaration_without_a_type_takes_the_defaults():
    assert rule_for({"a": at_least(1)}, "a", 3).kinds == ("int",)
    assert rule_for({"a": at_least(1)}, "a", 3.0).kinds == ("number",)
    assert not rule_for({"a": at_least(1)}, "a", 3).nullable
    assert rule_for({"a": integer(min=1)}, "a", None).nullable  # a null default allows null


def test_exact_declarations_win_over_wildcards():
    schema = {"w.*": number(min=0), "w.special": text()}
    assert rule_for(schema, "w.special", None).kinds == ("str",)
    assert rule_for(schema, "w.other", None).kinds == ("number",)
    assert rule_for(schema, "w.a.b", None).kinds == ("any",)  # * is one name, not several


def test_choices_and_ranges():
    check_config({"m": "rotation"}, {"m": "humor"}, {"m": one_of("humor", "rotation")}, "f")
    with pytest.raises(ConfigError, match="expected one of humor, rotation$"):
        check_config({"m": "humour"}, {"m": "humor"}, {"m": one_of("humor", "rotation")}, "f")
    rule = rule_for({"q": between(0, 1)}, "q", 0.5)
    assert fits(0, rule) and fits(1, rule) and not fits(1.01, rule) and not fits(-0.1, rule)
    rule = rule_for({"b": number(min=0, below=1)}, "b", 0.9)
    assert fits(0.0, rule) and not fits(1.0, rule)
    assert describe(rule) == "a number at least 0 and below 1"


def test_list_items_and_lengths():
    rule = rule_for({"s": items(items(integer(min=1), length=2), min_length=1)}, "s", [[1, 2]])
    assert fits([[640, 480]], rule)
    assert not fits([], rule) and not fits([[640]], rule) and not fits([[0, 480]], rule)
    assert not fits([[640, None]], rule)
    assert describe(rule) == "a non-empty list of lists of 2 integers at least 1"
    assert describe(rule_for({"t": items(text(), min_length=2)}, "t", [])) == (
        "a list of at least 2 strings"
    )


def test_integers_count_as_numbers_but_floats_are_not_integers():
    assert fits(3, rule_for({}, "x", 0.5))
    assert not fits(3.0, rule_for({}, "x", 3))
    assert fits(10**400, rule_for({}, "x", 0.5))  # no overflow on the way


def test_paths_take_path_objects_and_several_kinds_combine():
    assert fits(Path("a.yaml"), rule_for({"p": path()}, "p", None))
    rule = rule_for({"c": Rule(kinds=("path", "mapping"), nullable=True)}, "c", None)
    assert fits("a.yaml", rule) and fits({"k": 1}, rule) and fits(None, rule)
    assert not fits(3, rule)
    assert describe(rule) == "a path or a mapping or null"


def test_under_repeats_rules_below_a_prefix():
    rules = {"steps": at_least(1), "mine.every": at_least(0)}
    assert set(under("quick_overrides", rules)) == {
        "quick_overrides.steps",
        "quick_overrides.mine.every",
    }


def test_under_keeps_only_the_keys_a_block_has():
    rules = {"train.steps": at_least(1), "train.lr": at_least(0), "model.dims": items()}
    block = {"train": {"steps": 6}}
    assert set(under("quick_overrides", rules, block)) == {"quick_overrides.train.steps"}
