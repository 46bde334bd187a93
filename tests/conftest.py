"""Shared fixtures: a clean plugin manager per test, the toy plugin registered on demand, and the
embedded body loaded once per session (tests must not modify it in place)."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
import torch

from posebench import plugins
from posebench.body.anny import AnnyBody

TOY_PLUGIN_FILE = Path(__file__).parent / "plugins" / "toy_plugin.py"


def load_toy_module() -> ModuleType:
    """Import tests/plugins/toy_plugin.py as a module (it is not an installed package)."""
    spec = importlib.util.spec_from_file_location("toy_plugin", TOY_PLUGIN_FILE)
    module = importlib.util.module_from_spec(spec)
    sys.modules["toy_plugin"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def clean_plugins(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test starts from the built-ins alone: no entry points of the environment leak in."""
    monkeypatch.setenv(plugins.LOAD_PLUGINS_ENV, "")
    plugins.reset()
    yield
    plugins.reset()


@pytest.fixture
def toy_plugin() -> ModuleType:
    """The toy plugin, registered for the duration of one test."""
    module = load_toy_module()
    plugins.register_plugin(module, name="toy-plugin")
    return module


@pytest.fixture(scope="session")
def body() -> AnnyBody:
    """The embedded body, float32 as it loads."""
    return AnnyBody()


@pytest.fixture(scope="session")
def body64() -> AnnyBody:
    """The embedded body as a float64 copy, for checks at double precision."""
    return AnnyBody().to(dtype=torch.float64)


@pytest.fixture(scope="module")
def one_thread() -> Iterator[None]:
    """Small batches gain nothing from threads and lose a lot on a shared, busy CPU: a module
    that uses this (``pytestmark = pytest.mark.usefixtures("one_thread")``) runs on one."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
