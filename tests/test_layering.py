"""The import graph of the project's own packages: no cycles, and every layer imports only below it.

Layers, lowest first: ``upstream`` (facts about upstream projects), ``cluster_plan`` (pure
derivations from plain values), ``stack_config`` (the typed model: it validates, using the plans),
``components`` (registers resources). ``policies`` stays apart from the program so the pack can
be published on its own. Every import counts, including those under ``TYPE_CHECKING`` and inside
functions: an import that only a guard keeps from running is still a dependency.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import PROJECT_DIR
from tests.source_tree import parse

PACKAGES = ("upstream", "cluster_plan", "stack_config", "components", "policies", "tools", "bench")

# Which first-party packages each package may import (besides itself).
ALLOWED: dict[str, frozenset[str]] = {
    "upstream": frozenset(),
    "cluster_plan": frozenset({"upstream"}),
    "stack_config": frozenset({"upstream", "cluster_plan"}),
    "components": frozenset({"upstream", "cluster_plan", "stack_config"}),
    "policies": frozenset({"upstream"}),
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PROJECT_DIR).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in sorted((PROJECT_DIR / package).rglob("*.py")):
            modules[module_name(path)] = path
    return modules


def imported_names(path: Path, module: str) -> Iterator[str]:
    """Every dotted name ``path`` imports, relative imports resolved against ``module``."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(parse(path)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[:len(base) - node.level + (1 if is_package else 0)]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            # ``from pkg import sub`` imports the submodule ``pkg.sub`` when there is one, else
            # it takes a name from ``pkg`` itself (resolved by the caller).
            yield from (f"{prefix}.{alias.name}" for alias in node.names)


@functools.cache
def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        edges = set()
        for name in imported_names(path, module):
            # The longest project module the name starts with (``a.b.C`` -> ``a.b``).
            parts = name.split(".")
            while parts and ".".join(parts) not in modules:
                parts.pop()
            if parts and ".".join(parts) != module:
                edges.add(".".join(parts))
        graph[module] = edges
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules (first == last), or None."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = "open"
        stack.append(module)
        for target in sorted(graph.get(module, ())):
            if state.get(target) == "open":
                return stack[stack.index(target):] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        stack.pop()
        state[module] = "done"
        return None

    for module in sorted(graph):
        if module not in state and (cycle := visit(module)):
            return cycle
    return None


def test_the_walker_sees_the_known_edges():
    # The walk must be able to fail: it has to see edges that exist today.
    graph = import_graph()
    assert "cluster_plan.address_plan" in graph["stack_config.schema"]
    assert "stack_config" in graph["components.cluster"] or any(
        target.startswith("stack_config") for target in graph["components.cluster"])


def test_find_cycle_reports_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_layers_import_only_below(package: str):
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in import_graph().items() if module.split(".")[0] == package
        for target in targets
        if target.split(".")[0] != package and target.split(".")[0] not in ALLOWED[package])
    assert not wrong, f"{package} may import only {sorted(ALLOWED[package])}: {wrong}"


def test_a_parser_crash_falls_back_to_a_fresh_interpreter(monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(*_args: object, **_kwargs: object) -> ast.Module:
        raise SystemError("AST constructor recursion depth mismatch")

    monkeypatch.setattr(ast, "parse", crash)
    tree = parse(PROJECT_DIR / "cluster_plan" / "placement.py")
    assert any(isinstance(node, ast.FunctionDef) for node in tree.body)
