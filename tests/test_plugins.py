"""The plugin registry: built-ins through the hooks, duplicates, unknown names, bad plugins."""

from __future__ import annotations

import pytest

import posebench
from posebench import hookspecs, plugins
from posebench.core.errors import PosebenchError, UnknownNameError


def test_builtins_register_through_the_hooks():
    registry = plugins.get_registry()
    entry = registry.get("prior", "none")
    assert entry.plugin.distribution == "posebench"
    assert entry.plugin.module == "posebench.priors.plugin"
    assert entry.as_dict()["version"] == "1"
    # every built-in plugin module is a registered pluggy plugin
    for module in plugins.DEFAULT_PLUGINS:
        assert plugins.pm.get_plugin(module) is not None


def test_registered_names_are_implemented():
    """Nothing is registered that cannot be loaded: every target imports and is the right type."""
    from posebench.benchmark.components import BASES

    for entry in plugins.get_registry().entries():
        assert issubclass(entry.load_class(BASES[entry.kind]), BASES[entry.kind])


def test_registry_is_built_once_and_rebuilt_after_a_change():
    registry = plugins.get_registry()
    assert plugins.get_registry() is registry  # cached

    class Extra:
        @posebench.hookimpl
        def register_tasks(self, register):
            register("extra-task", "somewhere:Task")

    plugins.register_plugin(Extra(), name="extra-plugin")
    rebuilt = plugins.get_registry()
    assert rebuilt is not registry and "extra-task" in rebuilt.names("task")
    plugins.invalidate_registry()
    assert plugins.get_registry() is not rebuilt
    plugins.pm.unregister(name="extra-plugin")  # any change to the plugins drops the cache too
    assert "extra-task" not in plugins.get_registry().names("task")


def test_toy_plugin_components_are_listed(toy_plugin):
    registry = plugins.get_registry()
    assert "toy-energy-gap" in registry.names("task")
    assert "toy-gauss" in registry.names("prior")
    entry = registry.get("body_model", "toy-stick")
    assert entry.plugin.name == "toy-plugin"
    assert entry.load() is toy_plugin.ToyStickBody


@pytest.mark.parametrize("hook_name", sorted(plugins.KINDS.values()))
def test_hook_has_spec_and_docs(hook_name):
    """Every hook is declared, documented, and takes exactly the register callback."""
    spec = getattr(hookspecs, hook_name)
    assert spec.__doc__ and ":param register:" in spec.__doc__
    caller = getattr(plugins.pm.hook, hook_name)
    assert caller.spec is not None and caller.spec.argnames == ("register",)


def test_duplicate_name_names_both_plugins():
    class Clash:
        @posebench.hookimpl
        def register_priors(self, register):
            register("none", "somewhere:Else")

    plugins.register_plugin(Clash(), name="clash-plugin")
    with pytest.raises(PosebenchError) as excinfo:
        plugins.get_registry()
    message = str(excinfo.value)
    assert "'none'" in message
    assert "posebench.priors.plugin" in message and "clash-plugin" in message


def test_unknown_name_suggests_the_closest():
    with pytest.raises(UnknownNameError) as excinfo:
        plugins.get("prior", "nnoe")
    assert "did you mean 'none'?" in str(excinfo.value)
    assert "\n" not in str(excinfo.value)


def test_invalid_name_is_refused():
    class Bad:
        @posebench.hookimpl
        def register_tasks(self, register):
            register("Bad Name", object)

    plugins.register_plugin(Bad(), name="bad-plugin")
    with pytest.raises(PosebenchError, match="bad-plugin.*invalid task name"):
        plugins.get_registry()


def test_misspelt_hook_is_refused_by_check_pending():
    class Misspelt:
        @posebench.hookimpl
        def register_prior(self, register):  # no such hook: register_priors
            pass

    plugins.register_plugin(Misspelt(), name="misspelt-plugin")
    with pytest.raises(PosebenchError, match="misspelt-plugin"):
        plugins.check_pending()


def test_plugin_that_crashes_while_registering_is_named():
    class Crashing:
        @posebench.hookimpl
        def register_datasets(self, register):
            raise RuntimeError("boom")

    plugins.register_plugin(Crashing(), name="crashing-plugin")
    with pytest.raises(PosebenchError, match="crashing-plugin.*register_datasets.*boom"):
        plugins.get_registry()


def test_lazy_target_that_does_not_import_is_a_clear_error():
    class Lazy:
        @posebench.hookimpl
        def register_priors(self, register):
            register("ghost", "no_such_module_xyz:Ghost")

    plugins.register_plugin(Lazy(), name="lazy-plugin")
    entry = plugins.get("prior", "ghost")  # listing works without importing
    with pytest.raises(PosebenchError, match="lazy-plugin.*no_such_module_xyz"):
        entry.load()


def test_registering_a_non_prior_class_is_refused():
    from posebench.benchmark.components import load_prior

    class NotAPrior:
        @posebench.hookimpl
        def register_priors(self, register):
            register("not-a-prior", dict)

    plugins.register_plugin(NotAPrior(), name="wrong-type-plugin")
    with pytest.raises(PosebenchError, match="not a subclass of posebench.priors.base.Prior"):
        load_prior("not-a-prior")
