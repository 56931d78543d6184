"""Facts with one home: no copy of them as a literal in the program, the pack or the tools.

Docstrings may mention a fact for the reader; code and messages read it from its home.
"""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

import pytest

from tests.helpers import PROJECT_DIR
from tests.source_tree import parse
from upstream import k3s, openssh

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


def port_literal(port: int):
    """A literal that writes ``port``: a string naming it as a port, or the number itself when
    it is distinctive (a bare 22 is as often a pixel offset or a count as it is SSH)."""
    text = re.compile(rf"(^|[\s:(/]|port\s*){port}($|[\s/):])")
    return lambda value: (value == port and port >= 1024) or (
        isinstance(value, str) and bool(text.search(value)))


@pytest.mark.parametrize("home, port, name", [
    (PROJECT_DIR / "upstream" / "openssh.py", openssh.SSH_PORT, "upstream.openssh.SSH_PORT"),
    (K3S_HOME, k3s.API_PROXY_PORT, "upstream.k3s.API_PROXY_PORT"),
])
def test_each_port_has_one_home(home: Path, port: int, name: str) -> None:
    assert not strays(home, port_literal(port)), f"use {name}"


# Text files the program renders (rulesets, scripts, unit files): placeholders, not numbers.
RENDERED_FILES = [path for path in (PROJECT_DIR / "components").rglob("*")
                  if path.is_file() and path.suffix in {".nft", ".sh", ".service", ".yaml", ".j2"}]


@pytest.mark.parametrize("port", [openssh.SSH_PORT, k3s.API_PORT, k3s.API_PROXY_PORT])
def test_rendered_files_take_ports_from_their_home(port: int) -> None:
    pattern = re.compile(rf"(dport|port|:)\s*{port}\b")
    found = [f"{path.relative_to(PROJECT_DIR)}:{number}"
             for path in RENDERED_FILES
             for number, line in enumerate(path.read_text().splitlines(), start=1)
             if pattern.search(line) and not line.lstrip().startswith("#")]
    assert not found, f"write a placeholder the renderer fills from upstream/: {found}"


@pytest.mark.parametrize("value, caught", [
    (22, False), (6444, True), ("22", True), ("open 22/tcp", True), ("tcp dport 22 accept", True),
    ("port 22", True), ("v1.22.4", False), ("2222", False), ("cx22", False), (220, False)])
def test_the_port_matcher_finds_ports_not_digits(value: object, caught: bool) -> None:
    port = value if isinstance(value, int) and value > 1000 else 22
    assert port_literal(port)(value) is caught


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
