"""One pluggy PluginManager: built-in plugins, entry points, and the registry they fill.

Built-ins are ordinary plugins registered through the same hooks as third-party packages. A
third-party package declares ``[project.entry-points.posebench] name = "module"``. The environment
variable ``POSEBENCH_LOAD_PLUGINS`` restricts which entry points load: a comma-separated list of
distribution or entry-point names; empty means none (built-ins always load).

The registry is built from the hooks once and cached; registering or unregistering a plugin, or
:func:`invalidate_registry`, makes the next :func:`get_registry` build it again. Targets may be
lazy ``"module:attr"`` strings, so listing plugins imports no model code.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import pluggy

import posebench.hookspecs as hookspecs
from posebench.core.errors import PosebenchError, UnknownNameError, suggest

T = TypeVar("T")

ENTRY_POINT_GROUP = "posebench"
LOAD_PLUGINS_ENV = "POSEBENCH_LOAD_PLUGINS"

DEFAULT_PLUGINS: tuple[str, ...] = (
    "posebench.priors.plugin",
    "posebench.tasks.plugin",
    "posebench.datasets.plugin",
    "posebench.body.plugin",
)

#: What a plugin can register; the values of ``kind`` in ``posebench plugins --json``.
Kind = Literal["prior", "task", "dataset", "body_model"]

#: kind -> the hook that registers it.
KINDS: dict[Kind, str] = {
    "prior": "register_priors",
    "task": "register_tasks",
    "dataset": "register_datasets",
    "body_model": "register_body_models",
}

_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.\-]*$")


@dataclass(frozen=True)
class PluginInfo:
    """Where a registration came from: the distribution (or module) and its version."""

    name: str
    module: str
    distribution: str | None
    version: str | None


@dataclass(frozen=True)
class Entry:
    """One registered component: a prior, task, dataset or body model."""

    kind: Kind
    name: str
    target: Any = field(repr=False)
    summary: str
    version: str | None
    plugin: PluginInfo

    def load(self) -> Any:
        """Return the registered class or factory, importing a lazy ``"module:attr"`` target."""
        if not isinstance(self.target, str):
            return self.target
        module_name, _, attr = self.target.partition(":")
        try:
            obj: Any = importlib.import_module(module_name)
            for part in attr.split(".") if attr else []:
                obj = getattr(obj, part)
        except (ImportError, AttributeError) as exc:
            raise PosebenchError(
                f"{self.kind} '{self.name}' from plugin '{self.plugin.name}' could not be loaded "
                f"({self.target}: {exc}); reinstall that plugin or remove it"
            ) from exc
        return obj

    def load_class(self, base: type[T]) -> type[T]:
        """The registered class, checked to subclass ``base`` (the contract of its kind)."""
        target = self.load()
        if not (isinstance(target, type) and issubclass(target, base)):
            raise PosebenchError(
                f"plugin '{self.plugin.name}' registered {self.kind.replace('_', ' ')} "
                f"'{self.name}' as {target!r}, which is not a subclass of "
                f"{base.__module__}.{base.__name__}"
            )
        return target

    def as_dict(self) -> dict[str, Any]:
        """The JSON form used by ``posebench plugins --json``."""
        return {
            "name": self.name,
            "kind": self.kind,
            "plugin": self.plugin.distribution or self.plugin.module,
            "module": self.plugin.module,
            "version": self.version or self.plugin.version,
            "plugin_version": self.plugin.version,
            "summary": self.summary,
        }


class Registry:
    """Everything the plugins registered, by kind and name."""

    def __init__(self, entries: dict[Kind, dict[str, Entry]]) -> None:
        self._entries = entries

    def names(self, kind: Kind) -> list[str]:
        """Registered names of one kind, sorted."""
        return sorted(self._entries[kind])

    def entries(self, kind: Kind | None = None) -> Iterator[Entry]:
        """All entries of one kind (or of every kind), sorted by kind then name."""
        for k in [kind] if kind else list(KINDS):
            for name in self.names(k):
                yield self._entries[k][name]

    def get(self, kind: Kind, name: str) -> Entry:
        """The entry for ``name``; a one-line error with "did you mean" when there is none."""
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}")
        found = self._entries[kind].get(name)
        if found is not None:
            return found
        label = kind.replace("_", " ")
        available = ", ".join(self.names(kind)) or "none"
        raise UnknownNameError(
            f"unknown {label} '{name}'{suggest(name, self.names(kind))}"
            f"; available {label}s: {available} (see 'posebench plugins')"
        )


# --- the plugin manager ------------------------------------------------------------------------


class _PluginManager(pluggy.PluginManager):
    """pluggy's manager; any change to the registered plugins invalidates the cached registry."""

    def register(self, plugin: Any, name: str | None = None) -> str | None:
        invalidate_registry()
        return super().register(plugin, name)

    def unregister(self, plugin: Any = None, name: str | None = None) -> Any:
        invalidate_registry()
        return super().unregister(plugin, name)


pm = _PluginManager(hookspecs.PROJECT)
pm.add_hookspecs(hookspecs)

_loaded = False
_registry: Registry | None = None
_plugin_info: dict[str, PluginInfo] = {}
#: Entry points that failed to load: (entry point name, one-line reason).
failed_plugins: list[tuple[str, str]] = []


def _posebench_version() -> str:
    from posebench.core.version import __version__

    return __version__


def _allowed(env_value: str | None, ep: importlib.metadata.EntryPoint) -> bool:
    if env_value is None:
        return True
    allowed = {part.strip() for part in env_value.split(",") if part.strip()}
    dist = ep.dist.name if ep.dist is not None else None
    return ep.name in allowed or (dist is not None and dist in allowed)


def load_plugins() -> None:
    """Register the built-in plugins and the allowed entry points, once."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    version = _posebench_version()
    for module_name in DEFAULT_PLUGINS:
        if pm.get_plugin(module_name) is None:
            pm.register(importlib.import_module(module_name), name=module_name)
            _plugin_info[module_name] = PluginInfo(module_name, module_name, "posebench", version)
    env_value = os.environ.get(LOAD_PLUGINS_ENV)
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if not _allowed(env_value, ep) or pm.get_plugin(ep.name) is not None:
            continue
        dist = ep.dist.name if ep.dist is not None else None
        try:
            pm.register(ep.load(), name=ep.name)
        except Exception as exc:  # a broken third-party plugin must not break posebench
            failed_plugins.append((ep.name, f"{type(exc).__name__}: {exc}".splitlines()[0]))
            continue
        _plugin_info[ep.name] = PluginInfo(
            ep.name, ep.value, dist, ep.dist.version if ep.dist is not None else None
        )
    while True:  # an installed plugin with a misspelt hook is skipped, not fatal
        try:
            check_pending()
            break
        except _UnknownHookError as exc:
            if exc.plugin_name in DEFAULT_PLUGINS:
                raise
            pm.unregister(name=exc.plugin_name)
            failed_plugins.append((exc.plugin_name, str(exc)))


class _UnknownHookError(PosebenchError):
    def __init__(self, plugin_name: str, detail: str) -> None:
        self.plugin_name = plugin_name
        super().__init__(
            f"plugin '{plugin_name}' implements a hook posebench does not define ({detail}); "
            f"the hooks are: {', '.join(KINDS.values())}"
        )


def check_pending() -> None:
    """Refuse plugins whose hook implementations match no hook spec (e.g. a misspelt hook)."""
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        name = pm.get_name(exc.plugin) or repr(exc.plugin)
        raise _UnknownHookError(name, str(exc)) from exc


def reset() -> None:
    """Forget every registered plugin (for tests that install or remove entry points)."""
    global _loaded
    for name, _ in list(pm.list_name_plugin()):
        pm.unregister(name=name)
    _plugin_info.clear()
    failed_plugins.clear()
    _loaded = False
    invalidate_registry()


def invalidate_registry() -> None:
    """Drop the cached registry: the next :func:`get_registry` asks every plugin again."""
    global _registry
    _registry = None


def register_plugin(plugin: Any, name: str) -> None:
    """Register ``plugin`` (a module or object with hook implementations) beside the loaded ones."""
    load_plugins()
    pm.register(plugin, name=name)


def plugin_info(plugin_name: str) -> PluginInfo:
    """Attribution for a registered plugin (plugins registered by hand get their given name)."""
    plugin = pm.get_plugin(plugin_name)
    module = getattr(plugin, "__name__", type(plugin).__name__)
    return _plugin_info.get(plugin_name, PluginInfo(plugin_name, module, None, None))


def _make_register(kind: Kind, info: PluginInfo, entries: dict[str, Entry]) -> Callable[..., None]:
    def register(name: str, target: Any, *, summary: str = "", version: str | None = None) -> None:
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise PosebenchError(
                f"plugin '{info.name}' registered an invalid {kind} name {name!r}; names are lower "
                "case letters, digits, '_', '-' and '.'"
            )
        if name in entries:
            other = entries[name].plugin.name
            raise PosebenchError(
                f"{kind.replace('_', ' ')} '{name}' is registered by two plugins, '{other}' and "
                f"'{info.name}'; uninstall one of them or choose with {LOAD_PLUGINS_ENV}"
            )
        entries[name] = Entry(kind, name, target, summary, version, info)

    return register


def get_registry() -> Registry:
    """The registry: built once by calling every plugin's ``register_*`` hooks, then cached."""
    global _registry
    if _registry is None:
        _registry = _build_registry()
    return _registry


def _build_registry() -> Registry:
    load_plugins()
    entries: dict[Kind, dict[str, Entry]] = {kind: {} for kind in KINDS}
    for kind, hook_name in KINDS.items():
        for impl in getattr(pm.hook, hook_name).get_hookimpls():
            info = plugin_info(impl.plugin_name)
            arguments = {"register": _make_register(kind, info, entries[kind])}
            try:
                impl.function(**{arg: arguments[arg] for arg in impl.argnames})
            except PosebenchError:
                raise
            except Exception as exc:
                raise PosebenchError(
                    f"plugin '{info.name}' failed in {hook_name}: {type(exc).__name__}: {exc}"
                ) from exc
    return Registry(entries)


def get(kind: Kind, name: str) -> Entry:
    """Shortcut: ``get_registry().get(kind, name)``."""
    return get_registry().get(kind, name)
