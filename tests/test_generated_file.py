"""The one write-or-check step of the generators under tools/ (tools/lib/generated_file.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import PROJECT_DIR
from tools.lib.generated_file import write_or_check

SOURCE, GENERATOR = "the upstream tag", "tools/some_generator.py"


def run(path: Path, text: str, *, check: bool) -> int:
    return write_or_check(path, text, check=check, source=SOURCE, generator=GENERATOR)


def test_check_passes_only_for_the_same_text(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "facts" / "line.json"
    assert run(target, "{}\n", check=False) == 0
    assert target.read_text() == "{}\n"
    assert "wrote" in capsys.readouterr().err
    assert run(target, "{}\n", check=True) == 0
    assert capsys.readouterr().err == ""
    assert run(target, "{\"a\": 1}\n", check=True) == 1
    assert capsys.readouterr().err == (
        f"{target} differs from {SOURCE}; run {GENERATOR}\n")
    assert target.read_text() == "{}\n", "--check must not write"


def test_a_missing_file_is_stale_not_a_traceback(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "absent.json"
    assert run(target, "{}\n", check=True) == 1
    assert GENERATOR in capsys.readouterr().err
    assert not target.exists()


def test_a_project_file_is_named_relative_to_the_project(
        capsys: pytest.CaptureFixture[str]) -> None:
    committed = PROJECT_DIR / "upstream" / "apisix_chart.json"
    assert run(committed, committed.read_text() + "\n", check=True) == 1
    assert capsys.readouterr().err.startswith("upstream/apisix_chart.json differs from")
