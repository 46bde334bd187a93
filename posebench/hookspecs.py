"""The pluggy hook specifications of posebench.

A plugin is a module (or object) with functions decorated ``@posebench.hookimpl`` whose names
match the specs below. Each hook receives a ``register`` callback::

    register(name, target, *, summary="", version=None)

``target`` is the class (or any callable returning an instance) that implements the contract, or
a lazy reference ``"package.module:ClassName"`` that is imported only when the component is used,
so that ``posebench plugins`` stays fast. Names are lower case (letters, digits, ``_``, ``-``,
``.``) and unique across all plugins: a second registration of a name is refused with a message
naming both plugins.

Built-in components are registered through these same hooks (``posebench.priors.plugin``,
``posebench.tasks.plugin``, ``posebench.datasets.plugin``, ``posebench.body.plugin``).
"""

from __future__ import annotations

from typing import Any, Protocol

import pluggy

PROJECT = "posebench"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


class RegisterCallback(Protocol):
    """The ``register`` argument every ``register_*`` hook receives."""

    def __call__(
        self, name: str, target: Any, *, summary: str = "", version: str | None = None
    ) -> None: ...


@hookspec
def register_priors(register: RegisterCallback) -> None:
    """Register pose priors: subclasses of :class:`posebench.priors.base.Prior`.

    :param register: call ``register(name, target, summary=..., version=...)`` once per prior.

    .. versionadded:: 0.1
    """


@hookspec
def register_tasks(register: RegisterCallback) -> None:
    """Register tasks that score priors: subclasses of :class:`posebench.tasks.base.Task`.

    :param register: call ``register(name, target, summary=..., version=...)`` once per task.

    .. versionadded:: 0.1
    """


@hookspec
def register_datasets(register: RegisterCallback) -> None:
    """Register datasets: subclasses of :class:`posebench.datasets.base.Dataset`.

    :param register: call ``register(name, target, summary=..., version=...)`` once per dataset.

    .. versionadded:: 0.1
    """


@hookspec
def register_body_models(register: RegisterCallback) -> None:
    """Register body models: subclasses of :class:`posebench.body.base.BodyModel`.

    :param register: call ``register(name, target, summary=..., version=...)`` once per body.

    .. versionadded:: 0.1
    """
