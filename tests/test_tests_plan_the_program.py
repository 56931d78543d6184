"""Tests plan the program users run, not stand-ins for parts of it.

A stand-in program wires components its own way (its own servers, its own addresses, a literal
kubeconfig) and lets a claim pass that the real wiring contradicts. So no test module may import
a harness, no harness folder may exist under tests/, and no test may construct the layers that
``K3sCluster`` wires (the bootstrap, the Kubernetes layer) itself: plan the whole program with a
small stack file instead (``tests/program_plans.py``).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.helpers import PROJECT_DIR
from tests.source_tree import parse

TESTS = PROJECT_DIR / "tests"
HARNESS = re.compile(r"harness", re.IGNORECASE)
# Components only K3sCluster may wire together.
WIRED_BY_THE_CLUSTER = ("K3sBootstrap", "KubernetesLayer")
THIS_FILE = Path(__file__).resolve()


def suite_modules() -> list[Path]:
    return sorted(p for p in TESTS.rglob("*.py") if p.resolve() != THIS_FILE)


def harness_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(parse(path)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if HARNESS.search(alias.name)]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or "", *(alias.name for alias in node.names)]
            found += [name for name in names if HARNESS.search(name)]
    return found


def constructs_wired_layers(source: str) -> list[str]:
    return [name for name in WIRED_BY_THE_CLUSTER if re.search(rf"\b{name}\(", source)]


def test_no_test_imports_a_harness() -> None:
    wrong = {str(p.relative_to(PROJECT_DIR)): harness_imports(p) for p in suite_modules()}
    assert {path: names for path, names in wrong.items() if names} == {}


def test_no_harness_lives_under_tests() -> None:
    assert [str(p.relative_to(PROJECT_DIR)) for p in TESTS.rglob("*")
            if HARNESS.search(p.name) and "__pycache__" not in p.parts] == []


def test_no_test_wires_the_layers_itself() -> None:
    wrong = {str(p.relative_to(PROJECT_DIR)): constructs_wired_layers(p.read_text())
             for p in suite_modules()}
    assert {path: names for path, names in wrong.items() if names} == {}


def test_the_checks_can_fail(tmp_path: Path) -> None:
    module = tmp_path / "test_x.py"
    module.write_text("from tests.kubernetes_harness import plan_layer_example\n"
                      "import tests.bootstrap_harness\n")
    assert harness_imports(module) == ["tests.kubernetes_harness", "tests.bootstrap_harness"]
    program = "layer = KubernetesLayer(name, spec, kubeconfig)\nboot = K3sBootstrap(name)\n"
    assert constructs_wired_layers(program) == ["K3sBootstrap", "KubernetesLayer"]
