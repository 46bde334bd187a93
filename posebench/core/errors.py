"""Errors a user can cause. The command line prints them as one line and exits with status 2."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class PosebenchError(Exception):
    """A problem with the user's input, files or configuration: one clear line, no traceback."""


class UnknownNameError(PosebenchError, KeyError):
    """A prior, task, dataset, body model or protocol name that nothing registered."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class ConfigError(PosebenchError):
    """A configuration file or value that is missing, malformed or has unknown keys."""


class InputError(PosebenchError):
    """An input file or array with the wrong format, shape or values (NaN, infinity)."""


class PosebenchWarning(UserWarning):
    """Something a user should know that does not stop the work: one line, printed as errors are."""


class CapabilityNotSupported(PosebenchError, NotImplementedError):
    """A prior or task lacks a capability; tasks record 'not supported' instead of a number."""

    def __init__(self, component: str, name: str, capability: str, hint: str = "") -> None:
        self.component, self.name, self.capability = component, name, capability
        message = f"{component} '{name}' does not support {capability}"
        super().__init__(f"{message}; {hint}" if hint else message)


def suggest(name: str, choices: Iterable[str]) -> str:
    """Return ' (did you mean 'x'?)' for the closest choice, or '' when nothing is close."""
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""
