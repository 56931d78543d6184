"""Facts with one home: no copy of them as a literal in the program, the pack or the tools.

Docstrings may mention a fact for the reader; code and messages read it from its home.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

from tests.helpers import PROJECT_DIR
from tests.source_tree import parse
from upstream import k3s

CODE_DIRS = ("cluster_plan", "stack_config", "components", "policies", "tools", "upstream")


def code_files() -> list[Path]:
    files = [path for directory in CODE_DIRS for path in (PROJECT_DIR / directory).rglob("*.py")]
    return sorted(files + [PROJECT_DIR / "__main__.py"])


def docstring_nodes(tree: ast.AST) -> set[int]:
    """ids of the string constants that are docstrings (module, class, function, attribute)."""
    found = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list):
            for statement in body:
                if (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
                        and isinstance(statement.value.value, str)):
                    found.add(id(statement.value))
    return found


@functools.cache
def literals(path: Path) -> tuple[tuple[int, object], ...]:
    """(line, value) of every int and str literal in code, docstrings left out."""
    tree = parse(path)
    skip = docstring_nodes(tree)
    return tuple((node.lineno, node.value) for node in ast.walk(tree)
                 if isinstance(node, ast.Constant) and id(node) not in skip
                 and not isinstance(node.value, bool) and isinstance(node.value, (int, str)))


def strays(home: Path, matches) -> list[str]:
    return [f"{path.relative_to(PROJECT_DIR)}:{line}: {value!r}"
            for path in code_files() if path != home
            for line, value in literals(path) if matches(value)]


K3S_HOME = PROJECT_DIR / "upstream" / "k3s.py"
API_PORT_TEXT = str(k3s.API_PORT)
REGISTRY_RELEASES = [str(v) for v in (*k3s.EMBEDDED_REGISTRY_MIN_BY_MINOR.values(),
                                      *k3s.EMBEDDED_REGISTRY_GA_BY_MINOR.values())]


def test_the_api_port_has_one_home() -> None:
    found = strays(K3S_HOME, lambda value: value == k3s.API_PORT
                   or (isinstance(value, str) and API_PORT_TEXT in value))
    assert not found, f"use upstream.k3s.API_PORT: {found}"


def test_the_api_load_balancer_port_has_one_home() -> None:
    port = k3s.API_LOAD_BALANCER_PORT
    found = strays(K3S_HOME, lambda value: value == port
                   or (isinstance(value, str) and str(port) in value))
    assert not found, f"use upstream.k3s.API_LOAD_BALANCER_PORT: {found}"


def test_embedded_registry_releases_have_one_home() -> None:
    found = strays(K3S_HOME, lambda value: isinstance(value, str) and any(
        release in value for release in REGISTRY_RELEASES))
    assert not found, f"use upstream.k3s.embedded_registry_minimums()/_ga_releases(): {found}"


def test_embedded_etcd_counts_have_one_home() -> None:
    text = k3s.embedded_etcd_counts_text()
    found = strays(K3S_HOME, lambda value: isinstance(value, str) and text in value)
    assert not found, f"use upstream.k3s.embedded_etcd_counts_text(): {found}"


def test_the_network_size_is_checked_in_one_place() -> None:
    # Only the address plan compares a network's prefix length with its minimum.
    home = PROJECT_DIR / "cluster_plan" / "address_plan.py"
    found = [f"{path.relative_to(PROJECT_DIR)}" for path in code_files()
             if path != home and "MAX_NETWORK_PREFIX" in path.read_text()]
    assert not found, f"call cluster_plan.address_plan.check_network_size: {found}"


@pytest.mark.parametrize("source, expected", [
    ('"""Port 6443 in a docstring."""\nPORT = 6443\n', [(2, 6443)]),
    ('MESSAGE = f"open {x} on 6443"\n', [(1, "open "), (1, " on 6443")]),
])
def test_the_literal_walker_skips_docstrings_only(tmp_path: Path, source: str,
                                                  expected: list) -> None:
    path = tmp_path / "module.py"
    path.write_text(source)
    assert sorted(literals(path), key=str) == sorted(expected, key=str)
