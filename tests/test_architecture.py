"""The layered package: imports in ``posebench/`` only go down, and modules never import in a cycle.

Layers, bottom to top (a module may import from its own layer or any layer below)::

    0 core
    1 hookspecs, plugins, results
    2 body
    3 datasets, priors
    4 fitting
    5 tasks, testing
    6 benchmark, posebench/__init__.py
    7 leaderboard, render, viz, detect
    8 cli, posebench/__main__.py

and ``rebuild/`` beside them: it may import core, hookspecs, plugins, results, body, datasets and
itself, and only ``rebuild/`` and ``cli/`` may import it (nothing at run time needs the build half).

Placement of the three top-level files:

* ``posebench/__init__.py`` is the public API; its ``load_*`` and ``run`` functions import
  ``benchmark.components`` and ``benchmark.runner`` lazily, so it sits with ``benchmark``. Modules
  below ``benchmark`` therefore take ``hookimpl`` from ``posebench.hookspecs``, not from
  ``posebench``.
* ``posebench/testing.py`` checks the contracts of body models, datasets, priors and tasks, so it
  sits with ``tasks``; nothing in the package imports it.
* ``posebench/__main__.py`` only calls the command line, so it sits with ``cli``.

What counts as an import: every ``import`` and ``from ... import`` statement anywhere in a file,
module level, inside functions (lazy imports) and inside ``if TYPE_CHECKING:`` blocks, with
relative imports resolved. ``from package import name`` is an import of ``package.name`` when that
is a module, else of ``package``.

* The layer rule applies to all of them, ``TYPE_CHECKING`` ones included: a lower layer should not
  depend on a higher layer's types either.
* Cycles are looked for among the imports that run (module level and function-local);
  ``TYPE_CHECKING`` imports never run, so they cannot close a cycle.
* Not counted: the implicit import of a module's parent packages (Python's normal package
  initialisation), and the plugin registry's ``importlib.import_module`` of the built-in
  ``*.plugin`` modules by name, which is discovery, the same path third-party plugins take.

Every module must have a layer: a new top-level module or package fails until it is placed here.
The checker is tested on small synthetic packages below, so it cannot pass by seeing nothing.
"""

from __future__ import annotations

import ast
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE_ROOT = Path(__file__).resolve().parents[1] / "posebench"

#: top-level name inside the package (``__init__`` for the package itself) -> layer
LAYERS: dict[str, int] = {
    "core": 0,
    "hookspecs": 1,
    "plugins": 1,
    "results": 1,
    "body": 2,
    "datasets": 3,
    "priors": 3,
    "fitting": 4,
    "tasks": 5,
    "testing": 5,
    "benchmark": 6,
    "__init__": 6,
    "leaderboard": 7,
    "render": 7,
    "detect": 7,
    "viz": 7,
    "cli": 8,
    "__main__": 8,
}
BUILD = "rebuild"
#: what rebuild/ may import
BUILD_MAY_IMPORT = frozenset({"core", "hookspecs", "plugins", "results", "body", "datasets", BUILD})
#: who may import rebuild/
MAY_IMPORT_BUILD = frozenset({BUILD, "cli"})

RUNTIME_KINDS = frozenset({"module", "local"})


@dataclass(frozen=True)
class Import:
    """One import statement's edge: ``source`` imports ``target`` at ``path:line``."""

    source: str
    target: str
    path: str  # relative to the package's parent folder, e.g. "posebench/core/config.py"
    line: int
    kind: str  # "module" (runs on import), "local" (inside a function), "type-checking"

    def where(self) -> str:
        """``path:line`` for a report."""
        return f"{self.path}:{self.line}"


def module_names(root: Path) -> dict[str, Path]:
    """Dotted module name -> file for every ``.py`` file under the package folder ``root``."""
    names: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        parts = [root.name, *path.relative_to(root).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def top_level(module: str) -> str:
    """The name whose layer ``module`` takes: ``posebench.priors.base`` -> ``priors``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


class _ImportVisitor(ast.NodeVisitor):
    """Collects every import statement with its line and context (module, local, type-checking)."""

    def __init__(self) -> None:
        self.found: list[tuple[ast.Import | ast.ImportFrom, str]] = []
        self._local = 0
        self._type_checking = 0

    def _kind(self) -> str:
        if self._type_checking:
            return "type-checking"
        return "local" if self._local else "module"

    def visit_Import(self, node: ast.Import) -> None:
        self.found.append((node, self._kind()))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        self.found.append((node, self._kind()))

    def _visit_function(self, node: ast.AST) -> None:
        self._local += 1
        self.generic_visit(node)
        self._local -= 1

    visit_FunctionDef = _visit_function
    visit_AsyncFunctionDef = _visit_function
    visit_Lambda = _visit_function

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        guarded = (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
            isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
        )
        if not guarded:
            self.generic_visit(node)
            return
        self.visit(node.test)
        self._type_checking += 1
        for child in node.body:
            self.visit(child)
        self._type_checking -= 1
        for child in node.orelse:
            self.visit(child)


def _resolve(name: str, modules: dict[str, Path]) -> str:
    """The longest prefix of dotted ``name`` that is a module of the package."""
    parts = name.split(".")
    while parts and ".".join(parts) not in modules:
        parts.pop()
    return ".".join(parts)


def collect_imports(root: Path) -> list[Import]:
    """Every import of a module of the package ``root`` by a module of the same package."""
    modules = module_names(root)
    package = root.name
    edges: list[Import] = []
    for source, path in modules.items():
        visitor = _ImportVisitor()
        visitor.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        is_package = path.name == "__init__.py"
        shown = path.relative_to(root.parent).as_posix()
        for node, kind in visitor.found:
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                if node.level:
                    base = source.split(".")
                    if not is_package:
                        base = base[:-1]
                    base = base[: len(base) - (node.level - 1)]
                    stem = ".".join([*base, node.module] if node.module else base)
                else:
                    stem = node.module or ""
                targets = [f"{stem}.{alias.name}" for alias in node.names]
            for target in targets:
                if target != package and not target.startswith(package + "."):
                    continue
                resolved = _resolve(target, modules)
                edge = Import(source, resolved, shown, node.lineno, kind)
                if resolved and resolved != source and edge not in edges:
                    edges.append(edge)
    return edges


def unplaced_modules(root: Path, layers: dict[str, int] = LAYERS) -> list[str]:
    """Modules whose top-level name has no layer (and is not ``rebuild``)."""
    return [
        name
        for name in module_names(root)
        if top_level(name) not in layers and top_level(name) != BUILD
    ]


def layer_violations(imports: list[Import], layers: dict[str, int] = LAYERS) -> list[str]:
    """One line per import against the dependency rule, naming file:line and both layers."""
    problems = []
    for edge in imports:
        src, dst = top_level(edge.source), top_level(edge.target)
        why = ""
        if dst == BUILD and src not in MAY_IMPORT_BUILD:
            why = "only rebuild/ and cli/ may import build/"
        elif src == BUILD and dst not in BUILD_MAY_IMPORT:
            why = "rebuild/ may import only " + ", ".join(sorted(BUILD_MAY_IMPORT - {BUILD}))
        elif BUILD not in (src, dst) and layers.get(dst, -1) > layers.get(src, 99):
            why = "upward import"
        if why:
            problems.append(
                f"{edge.where()}: {edge.source} [{src}, layer {layers.get(src, src)}] imports "
                f"{edge.target} [{dst}, layer {layers.get(dst, dst)}] ({edge.kind}): {why}"
            )
    return problems


def _strongly_connected(graph: dict[str, dict[str, Import]]) -> list[list[str]]:
    """Tarjan's strongly connected components of ``graph`` (node -> successor -> edge)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in graph.get(node, {}):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def import_cycles(imports: list[Import]) -> list[list[Import]]:
    """One shortest cycle of run-time imports per group of modules that import each other."""
    graph: dict[str, dict[str, Import]] = {}
    for edge in imports:
        if edge.kind in RUNTIME_KINDS:
            graph.setdefault(edge.source, {}).setdefault(edge.target, edge)
    cycles = []
    for component in _strongly_connected(graph):
        if len(component) < 2:
            continue
        members, start = set(component), component[0]
        came_from: dict[str, Import] = {}
        queue = deque([start])
        while queue:  # breadth-first from start, back to start, inside the component
            node = queue.popleft()
            for succ, edge in sorted(graph.get(node, {}).items()):
                if succ not in members or succ in came_from:
                    continue
                came_from[succ] = edge
                queue.append(succ)
            if start in came_from:
                break
        path, node = [], start
        while True:
            edge = came_from[node]
            path.append(edge)
            node = edge.source
            if node == start:
                break
        cycles.append(path[::-1])
    return cycles


def describe_cycle(cycle: list[Import]) -> str:
    """``a -> b (file:line) -> ... -> a`` for a report."""
    return cycle[0].source + "".join(f" -> {e.target} ({e.where()}, {e.kind})" for e in cycle)


# --- the package itself ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def package_imports() -> list[Import]:
    return collect_imports(PACKAGE_ROOT)


def test_every_module_has_a_layer():
    unplaced = unplaced_modules(PACKAGE_ROOT)
    assert not unplaced, "modules without a layer (add them to LAYERS):\n" + "\n".join(unplaced)


def test_imports_follow_the_layer_rule(package_imports):
    assert package_imports, "no imports found: the checker is looking at the wrong folder"
    problems = layer_violations(package_imports)
    assert not problems, f"{len(problems)} imports against the layer rule:\n" + "\n".join(problems)


def test_no_import_cycles(package_imports):
    cycles = import_cycles(package_imports)
    assert not cycles, f"{len(cycles)} import cycles:\n" + "\n".join(map(describe_cycle, cycles))


# --- the checker, on synthetic packages --------------------------------------------------------


def write_package(tmp_path: Path, files: dict[str, str]) -> Path:
    """A package ``posebench`` under ``tmp_path`` with the given files (``__init__`` added)."""
    root = tmp_path / "posebench"
    for name, text in {"__init__.py": "", **files}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        init = path.parent / "__init__.py"
        if not init.exists():
            init.write_text("")
        path.write_text(text)
    return root


CLEAN = {
    "core/errors.py": "import os\n",
    "core/config.py": "from . import errors\nfrom .errors import *\n",
    "hookspecs.py": "import pluggy\nfrom posebench.core import errors\n",
    "body/base.py": "from ..core.errors import *\nfrom posebench import hookspecs\n",
    "priors/base.py": (
        "from typing import TYPE_CHECKING\n"
        "from posebench.body import base\n"
        "if TYPE_CHECKING:\n"
        "    from posebench.datasets.base import Dataset\n"
    ),
    "datasets/base.py": (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from posebench.priors.base import Prior\n"  # sideways and type-only: no cycle
        "def load():\n"
        "    import posebench.body.base\n"
    ),
    "tasks/base.py": "from posebench.priors import base\nfrom ..fitting.motion import fit\n",
    "fitting/motion.py": "def fit():\n    from posebench.priors.base import x\n",
    "rebuild/bake.py": "from posebench.datasets import base\nfrom posebench.body.base import x\n",
    "cli/main.py": "from posebench.rebuild import bake\nimport posebench.tasks.base\n",
}


def test_checker_passes_a_clean_tree(tmp_path):
    root = write_package(tmp_path, CLEAN)
    imports = collect_imports(root)
    assert len(imports) >= 12
    assert unplaced_modules(root) == []
    assert layer_violations(imports) == []
    assert import_cycles(imports) == []


def test_checker_resolves_relative_and_submodule_imports(tmp_path):
    root = write_package(tmp_path, CLEAN)
    edges = {(e.source, e.target, e.kind) for e in collect_imports(root)}
    assert ("posebench.core.config", "posebench.core.errors", "module") in edges
    assert ("posebench.body.base", "posebench.core.errors", "module") in edges
    assert ("posebench.body.base", "posebench.hookspecs", "module") in edges
    assert ("posebench.tasks.base", "posebench.fitting.motion", "module") in edges
    assert ("posebench.datasets.base", "posebench.body.base", "local") in edges
    assert ("posebench.datasets.base", "posebench.priors.base", "type-checking") in edges


def test_checker_catches_an_upward_import_even_when_lazy(tmp_path):
    root = write_package(
        tmp_path, {**CLEAN, "core/seeding.py": "def f():\n    from posebench.tasks import base\n"}
    )
    problems = layer_violations(collect_imports(root))
    assert len(problems) == 1
    assert "core/seeding.py:2" in problems[0]
    assert "[core, layer 0]" in problems[0] and "[tasks, layer 5]" in problems[0]
    assert "local" in problems[0]


def test_checker_catches_an_upward_type_checking_import(tmp_path):
    source = (
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from posebench.cli import main\n"
    )
    root = write_package(tmp_path, {**CLEAN, "body/rotations.py": source})
    imports = collect_imports(root)
    assert [p.split(": ")[0] for p in layer_violations(imports)] == [
        "posebench/body/rotations.py:3"
    ]
    assert import_cycles(imports) == []


def test_checker_catches_build_misuse(tmp_path):
    files = {
        **CLEAN,
        "datasets/embedded.py": "from posebench.rebuild import bake\n",
        "rebuild/report.py": "from posebench.tasks import base\n",
    }
    problems = layer_violations(collect_imports(write_package(tmp_path, files)))
    assert len(problems) == 2
    assert any("datasets/embedded.py:1" in p and "only rebuild/ and cli/" in p for p in problems)
    assert any("rebuild/report.py:1" in p and "rebuild/ may import only" in p for p in problems)


def test_checker_catches_a_cycle_through_a_lazy_import(tmp_path):
    files = {
        **CLEAN,
        "priors/a.py": "from posebench.priors import b\n",
        "priors/b.py": "from posebench.priors.c import x\n",
        "priors/c.py": "def f():\n    from . import a\n",
    }
    imports = collect_imports(write_package(tmp_path, files))
    assert layer_violations(imports) == []  # all sideways: only the cycle check sees it
    cycles = import_cycles(imports)
    assert len(cycles) == 1
    assert [e.source for e in cycles[0]] == ["posebench.priors.a", "posebench.priors.b",
                                             "posebench.priors.c"]  # fmt: skip
    text = describe_cycle(cycles[0])
    assert text.startswith("posebench.priors.a -> posebench.priors.b")
    assert text.endswith("-> posebench.priors.a (posebench/priors/c.py:2, local)")


def test_checker_flags_an_unplaced_module(tmp_path):
    root = write_package(tmp_path, {**CLEAN, "extras/thing.py": ""})
    assert unplaced_modules(root) == ["posebench.extras", "posebench.extras.thing"]
