"""Reading upstream's git mirrors (tools/lib/git_mirror.py), shared by the generators that derive
facts from tags and files at a tag."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tools import apisix_chart_facts, provider_replacements
from tools.lib import mirror_generator
from tools.lib.git_mirror import GitReadError, has_commit, show, show_if_present, tags


def _git(work: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(work), "-c", "user.name=t", "-c", "user.email=t@example",
                    *args], check=True, capture_output=True)


@pytest.fixture
def mirror(tmp_path: Path) -> Path:
    """A bare mirror with tags v1.0.0 (chart/values.yaml) and chart-2 (the file moved)."""
    work = tmp_path / "work"
    work.mkdir()
    _git(work, "init", "-q")
    (work / "chart").mkdir()
    (work / "chart" / "values.yaml").write_bytes(b"image: a\n")
    _git(work, "add", "-A")
    _git(work, "commit", "-qm", "one")
    _git(work, "tag", "v1.0.0")
    _git(work, "mv", "chart", "charts")
    _git(work, "commit", "-qm", "two")
    _git(work, "tag", "chart-2")
    subprocess.run(["git", "clone", "-q", "--mirror", str(work), str(tmp_path / "repo")],
                   check=True, capture_output=True)
    return tmp_path / "repo"


def test_files_are_read_at_a_tag(mirror: Path) -> None:
    assert show(mirror, "v1.0.0", "chart/values.yaml") == b"image: a\n"
    assert show_if_present(mirror, "chart-2", "chart/values.yaml") is None
    assert show_if_present(mirror, "chart-2", "charts/values.yaml") == b"image: a\n"
    with pytest.raises(GitReadError, match="chart-2:chart/values.yaml"):
        show(mirror, "chart-2", "chart/values.yaml")


def test_tags_and_commits(mirror: Path) -> None:
    assert sorted(tags(mirror)) == ["chart-2", "v1.0.0"]
    assert tags(mirror, "v*") == ["v1.0.0"]
    assert has_commit(mirror, "v1.0.0")
    assert not has_commit(mirror, "v9.9.9")


def test_a_folder_that_is_no_mirror_is_a_clear_error_not_a_traceback(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(GitReadError, match="not a git repository"):
        tags(tmp_path)
    for package in provider_replacements.PACKAGES:
        (tmp_path / package.bridge.replace("/", "+") / "repo").mkdir(parents=True)
    assert provider_replacements.main(["--mirror", str(tmp_path), "--check"]) == 1
    error = capsys.readouterr().err
    assert error.startswith("error: ") and "not a git repository" in error


def test_a_mirror_generator_writes_checks_and_names_what_is_missing(
        mirror: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "facts.json"

    def run(path: str, *argv: str) -> int:
        return mirror_generator.run(
            list(argv), description="test", variable="TEST_GIT_DIR", repository="owner/chart",
            output=output, derive=lambda git_dir: show(git_dir, "v1.0.0", path).decode(),
            source="the tag v1.0.0", generator="tools/test.py")

    monkeypatch.delenv("TEST_GIT_DIR", raising=False)
    assert run("chart/values.yaml") == 1
    assert "give --git-dir DIR or set TEST_GIT_DIR" in capsys.readouterr().err
    monkeypatch.setenv("TEST_GIT_DIR", str(mirror))
    assert run("chart/values.yaml") == 0
    assert output.read_text() == "image: a\n"
    assert run("chart/values.yaml", "--check") == 0
    output.write_text("image: b\n")
    assert run("chart/values.yaml", "--check") == 1
    assert f"differs from the tag v1.0.0 of {mirror}; run tools/test.py" in capsys.readouterr().err
    assert run("chart/absent.yaml", "--git-dir", str(mirror), "--check") == 1
    assert capsys.readouterr().err.startswith("error: ")
    assert output.read_text() == "image: b\n", "a failed or --check run writes nothing"


def test_the_apisix_generator_without_a_mirror_says_how_to_give_one(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv(apisix_chart_facts.GIT_DIR_VARIABLE, raising=False)
    assert apisix_chart_facts.main(["--check"]) == 1
    assert apisix_chart_facts.GIT_DIR_VARIABLE in capsys.readouterr().err
