"""Declared types and ranges of config values, checked where a config enters: one-line errors.

Every key's type is inferred from its default value (an int default takes integers, a float any
finite number, a bool true or false, a string text, a list a list of items like the default's, a
mapping a mapping, null anything), so a plugin's component with no declarations still has its
types checked. A component declares what its defaults cannot say in a small table of
:class:`Rule` per dotted key (``"window.length": at_least(1)``): ranges, choices, null allowed, or
the type of a key whose default is null. A declared rule without a type takes the inferred one.
``*`` in a declared key matches any one name (``energy_weights.*.value``).

The alternatives were a schema library (pydantic: a runtime dependency the project does not take)
or a second YAML of schemas (a second place to keep in step with the defaults); a table beside
the code that reads the values keeps each range next to its reason, and the defaults say the rest.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from posebench.core.errors import ConfigError

Kind = Literal["bool", "int", "number", "str", "path", "list", "mapping", "any"]

#: Longest value shown in an error before it is cut (the line must stay one readable line).
SHOWN_CHARS = 60


@dataclass(frozen=True)
class Rule:
    """What one key accepts. Empty ``kinds`` and a ``nullable`` of None are inferred from the
    default; ``min``/``max`` are inclusive, ``above``/``below`` exclusive bounds of a number;
    ``items`` is the rule of a list's items, ``length``/``min_length`` its size."""

    kinds: tuple[Kind, ...] = ()
    min: float | None = None
    max: float | None = None
    above: float | None = None
    below: float | None = None
    choices: tuple[Any, ...] = ()
    nullable: bool | None = None
    items: Rule | None = None
    length: int | None = None
    min_length: int | None = None


#: A component's declarations: dotted key (``*`` for any one name) -> rule.
Schema = Mapping[str, Rule]

ANY = Rule(kinds=("any",), nullable=True)


# --- declaring ---------------------------------------------------------------------------------


def at_least(low: float, nullable: bool | None = None) -> Rule:
    """A number (of the default's type) of at least ``low``."""
    return Rule(min=low, nullable=nullable)


def above(low: float, nullable: bool | None = None) -> Rule:
    """A number (of the default's type) above ``low``."""
    return Rule(above=low, nullable=nullable)


def between(low: float, high: float, nullable: bool | None = None) -> Rule:
    """A number (of the default's type) from ``low`` to ``high``, both included."""
    return Rule(min=low, max=high, nullable=nullable)


def one_of(*choices: Any, nullable: bool | None = None) -> Rule:
    """One of ``choices`` (the names a setting knows)."""
    return Rule(choices=tuple(choices), nullable=nullable)


def integer(min: int | None = None, max: int | None = None, nullable: bool | None = None) -> Rule:
    """An integer in ``min..max`` (for keys whose default is null, or to insist on one)."""
    return Rule(kinds=("int",), min=min, max=max, nullable=nullable)


def number(
    min: float | None = None, max: float | None = None, above: float | None = None,
    below: float | None = None, nullable: bool | None = None,
) -> Rule:  # fmt: skip
    """A finite number within the bounds given (integers count as numbers)."""
    return Rule(kinds=("number",), min=min, max=max, above=above, below=below, nullable=nullable)


def text(nullable: bool | None = None) -> Rule:
    """A string."""
    return Rule(kinds=("str",), nullable=nullable)


def path(nullable: bool | None = None) -> Rule:
    """A file or folder: a string (or a path object, from Python)."""
    return Rule(kinds=("path",), nullable=nullable)


def items(
    item: Rule | None = None, length: int | None = None, min_length: int | None = None,
    nullable: bool | None = None,
) -> Rule:  # fmt: skip
    """A list whose items each follow ``item`` (inferred from the default's items when None)."""
    return Rule(kinds=("list",), items=item, length=length, min_length=min_length,
                nullable=nullable)  # fmt: skip


def under(prefix: str, schema: Schema, block: Mapping[str, Any] | None = None) -> dict[str, Rule]:
    """``schema``'s rules again under ``prefix`` (a block that overrides the same keys, such as
    ``quick_overrides``), so they are declared once; with ``block`` (that block's defaults) only
    the rules of keys it has."""
    keep = dotted_keys(block) if block is not None else None
    return {f"{prefix}.{key}": rule for key, rule in schema.items() if keep is None or key in keep}


def dotted_keys(config: Mapping[str, Any], prefix: str = "") -> set[str]:
    """Every key of a nested mapping, dotted (``window``, ``window.length``, ...)."""
    keys = set()
    for key, value in config.items():
        keys.add(f"{prefix}{key}")
        if isinstance(value, Mapping):
            keys |= dotted_keys(value, f"{prefix}{key}.")
    return keys


# --- inferring ---------------------------------------------------------------------------------


def inferred(default: Any) -> Rule:
    """The rule a default value implies (its type; null allowed only where the default is null)."""
    if default is None:
        return ANY
    if isinstance(default, bool):
        return Rule(kinds=("bool",), nullable=False)
    if isinstance(default, numbers.Integral):
        return Rule(kinds=("int",), nullable=False)
    if isinstance(default, numbers.Real):
        return Rule(kinds=("number",), nullable=False)
    if isinstance(default, str):
        return Rule(kinds=("str",), nullable=False)
    if isinstance(default, os.PathLike):
        return Rule(kinds=("path",), nullable=False)
    if isinstance(default, Mapping):
        return Rule(kinds=("mapping",), nullable=False)
    if isinstance(default, (list, tuple)):
        return Rule(kinds=("list",), items=_common_item(default), nullable=False)
    return ANY


def _common_item(values: list[Any] | tuple[Any, ...]) -> Rule:
    """The rule every item of a default list shares (integers and floats mixed: numbers)."""
    rules = [inferred(value) for value in values]
    kinds = {rule.kinds for rule in rules}
    if kinds == {("int",), ("number",)}:
        return Rule(kinds=("number",), nullable=False)
    if len(kinds) != 1 or not rules:
        return ANY
    if kinds == {("list",)}:
        return replace(rules[0], items=_common_item([i for v in values for i in v]))
    return rules[0]


def _completed(declared: Rule, implied: Rule) -> Rule:
    """``declared`` with its type, null-ness and list items taken from ``implied`` where unset."""
    kinds = declared.kinds or implied.kinds or ("any",)
    nullable = declared.nullable if declared.nullable is not None else implied.nullable
    item = declared.items
    if "list" in kinds:
        known = implied.items if implied.items not in (None, ANY) else None
        item = _completed(item or Rule(), known or Rule(kinds=("any",), nullable=False))
    return replace(declared, kinds=kinds, nullable=bool(nullable), items=item)


def _matches(pattern: str, dotted: str) -> bool:
    """Whether a declared key (``*`` for any one name) names the dotted key."""
    wanted, parts = pattern.split("."), dotted.split(".")
    return len(wanted) == len(parts) and all(
        w in ("*", p) for w, p in zip(wanted, parts, strict=True)
    )


def rule_for(schema: Schema, dotted: str, default: Any) -> Rule:
    """The complete rule of ``dotted``: its declaration (exact before ``*``), else none, with
    what the default implies filled in."""
    declared = schema.get(dotted)
    if declared is None:
        declared = next((r for k, r in schema.items() if "*" in k and _matches(k, dotted)), Rule())
    return _completed(declared, inferred(default))


# --- checking ----------------------------------------------------------------------------------


def fits(value: Any, rule: Rule) -> bool:
    """Whether ``value`` follows a complete ``rule`` (see :func:`rule_for`)."""
    if value is None:
        return bool(rule.nullable)
    if not any(_is(value, kind) for kind in rule.kinds):
        return False
    if rule.choices and value not in rule.choices:
        return False
    if _is(value, "number") and not _in_range(value, rule):
        return False
    if isinstance(value, (list, tuple)):
        if rule.length is not None and len(value) != rule.length:
            return False
        if rule.min_length is not None and len(value) < rule.min_length:
            return False
        return rule.items is None or all(fits(item, rule.items) for item in value)
    return True


def _is(value: Any, kind: Kind) -> bool:
    if kind == "any":
        return True
    if kind == "bool":
        return isinstance(value, bool)
    if isinstance(value, bool):  # True is an int to Python, never a count or a number here
        return False
    if kind == "int":
        return isinstance(value, numbers.Integral)
    if kind == "number":
        if isinstance(value, numbers.Integral):  # any size: float() of a huge one overflows
            return True
        return isinstance(value, numbers.Real) and math.isfinite(float(value))
    if kind == "str":
        return isinstance(value, str)
    if kind == "path":
        return isinstance(value, (str, os.PathLike))
    if kind == "list":
        return isinstance(value, (list, tuple))
    return isinstance(value, Mapping)


def _in_range(value: Any, rule: Rule) -> bool:
    return not (
        (rule.min is not None and value < rule.min)
        or (rule.max is not None and value > rule.max)
        or (rule.above is not None and value <= rule.above)
        or (rule.below is not None and value >= rule.below)
    )


def check_config(
    values: Mapping[str, Any], defaults: Mapping[str, Any], schema: Schema, where: str,
    prefix: str = "",
) -> None:  # fmt: skip
    """Check every value in ``values`` (a config, or overrides of one) against its rule; the
    first that does not fit is a one-line :class:`ConfigError` naming ``where``, the key, the
    value and what is allowed. Keys the defaults lack are left to the merge (unknown keys)."""
    for key, value in values.items():
        dotted = f"{prefix}{key}"
        default = defaults.get(key) if isinstance(defaults, Mapping) else None
        rule = rule_for(schema, dotted, default)
        if not fits(value, rule):
            raise ConfigError(
                f"{where} key '{dotted}' is {shown(value)}; expected {describe(rule)}"
                f"{_text_hint(value, rule)}"
            )
        if isinstance(value, Mapping):
            inner = default if isinstance(default, Mapping) else {}
            check_config(value, inner, schema, where, prefix=f"{dotted}.")


def _text_hint(value: Any, rule: Rule) -> str:
    """For text that spells an allowed number (``'1e-3'``: YAML 1.1 wants ``1.0e-3``, or a
    quoted ``'20'``), how to write it as one."""
    if not isinstance(value, str):
        return ""
    for kind, parse in (("int", int), ("number", float)):
        if kind in rule.kinds:
            try:
                number = parse(value)
            except ValueError:
                continue
            if fits(number, rule):
                return f" (write {number!r}: YAML reads {value!r} as text)"
    return ""


def shown(value: Any) -> str:
    """``repr(value)``, cut to a readable length."""
    text = repr(value)
    return text if len(text) <= SHOWN_CHARS else f"{text[: SHOWN_CHARS - 3]}..."


# --- describing --------------------------------------------------------------------------------

_NOUNS: dict[Kind, tuple[str, str]] = {
    "bool": ("true or false", "true or false values"),
    "int": ("an integer", "integers"),
    "number": ("a number", "numbers"),
    "str": ("a string", "strings"),
    "path": ("a path", "paths"),
    "list": ("a list", "lists"),
    "mapping": ("a mapping", "mappings"),
    "any": ("anything", "anything"),
}


def describe(rule: Rule, plural: bool = False) -> str:
    """What a complete rule allows, in words: ``an integer at least 1 or null``."""
    if rule.choices:
        words = f"one of {', '.join(str(c) for c in rule.choices)}"
    else:
        words = " or ".join(_kind_words(rule, kind, plural) for kind in rule.kinds)
    return f"{words} or null" if rule.nullable and "any" not in rule.kinds else words


def _kind_words(rule: Rule, kind: Kind, plural: bool) -> str:
    noun = _NOUNS[kind][1 if plural else 0]
    if kind in ("int", "number"):
        return f"{noun}{_bounds(rule)}"
    if kind == "list":
        head = f"{'non-empty ' if rule.min_length == 1 else ''}{'lists' if plural else 'list'}"
        head = head if plural else f"a {head}"
        size = f"{rule.length} " if rule.length is not None else ""
        if (rule.min_length or 0) > 1:
            size = f"at least {rule.min_length} "
        if rule.items is None or rule.items.kinds == ("any",):
            return f"{head} of {size}items" if size else head
        return f"{head} of {size}{describe(rule.items, plural=True)}"
    return noun


def _bounds(rule: Rule) -> str:
    low = rule.min if rule.min is not None else rule.above
    if rule.min is not None and rule.max is not None:
        return f" from {_number(rule.min)} to {_number(rule.max)}"
    parts = []
    if low is not None:
        parts.append(f"{'at least' if rule.min is not None else 'above'} {_number(low)}")
    if rule.max is not None:
        parts.append(f"at most {_number(rule.max)}")
    elif rule.below is not None:
        parts.append(f"below {_number(rule.below)}")
    return f" {' and '.join(parts)}" if parts else ""


def _number(value: float) -> str:
    return str(value) if isinstance(value, int) else f"{value:g}"
