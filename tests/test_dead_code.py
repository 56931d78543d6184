"""No dead code vulture is sure of: unused imports, unreachable code, unused arguments and
variables it rates at 80 % confidence or more (``vulture`` from PyPI, requirements-dev.txt).

Lower-confidence findings (unused functions and attributes) are mostly pydantic validators and
registered checks that only a decorator calls: those are reviewed by hand, not here
(``vulture components stack_config ... --min-confidence 60``, docs/development.md).
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.helpers import PROJECT_DIR

PRODUCT = ("components", "stack_config", "cluster_plan", "upstream", "policies", "tools", "bench",
           "deploy", "__main__.py")


def vulture(*paths: str) -> subprocess.CompletedProcess[str]:
    pytest.importorskip("vulture", reason="vulture is in requirements-dev.txt; pip install it")
    return subprocess.run([sys.executable, "-m", "vulture", *paths, "--min-confidence", "80"],
                          cwd=PROJECT_DIR, capture_output=True, text=True, check=False)


def test_product_code_has_no_certain_dead_code() -> None:
    result = vulture(*PRODUCT)
    assert result.returncode == 0 and result.stdout == "", result.stdout + result.stderr


def test_an_unused_import_is_found(tmp_path) -> None:
    module = tmp_path / "dead.py"
    module.write_text("import json\n\n\ndef f() -> int:\n    return 1\n    print('never')\n")
    result = vulture(str(module))
    assert "unused import 'json'" in result.stdout
    assert "unreachable code" in result.stdout
