"""The install-script pins: derived by tools/k3s_installer_pins.py from a k3s checkout, each
checked against upstream's published ``install.sh.sha256sum``; the committed file is what the
generator gives (drift test, when a k3s checkout is present)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.helpers import GIT_MIRROR_DIR
from tools import k3s_installer_pins as generator
from upstream import k3s_installer

OLD_SCRIPT = b"#!/bin/sh\nGITHUB_URL=https://github.com/k3s-io/k3s/releases\n"
NEW_SCRIPT = b"#!/bin/sh\nGITHUB_URL=${GITHUB_URL:-https://github.com/k3s-io/k3s/releases}\n"


def run_git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True).stdout.strip()


def commit_script(repo: Path, script: bytes, *, published: bytes | None = None,
                  tag: str | None = None) -> str:
    (repo / "install.sh").write_bytes(script)
    digest = hashlib.sha256(published if published is not None else script).hexdigest()
    (repo / "install.sh.sha256sum").write_text(f"{digest}  install.sh\n")
    run_git(repo, "add", "-A")
    run_git(repo, "-c", "user.name=t", "-c", "user.email=t@example", "commit", "-qm", "script")
    if tag:
        run_git(repo, "tag", tag)
    return run_git(repo, "rev-parse", "HEAD")


@pytest.fixture
def k3s_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "k3s"
    repo.mkdir()
    run_git(repo, "init", "-q")
    return repo


def test_pins_come_from_the_bytes_and_match_the_published_checksum(
        k3s_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = commit_script(k3s_repo, OLD_SCRIPT, tag="v1.35.3+k3s1")
    commit_script(k3s_repo, NEW_SCRIPT, tag="v1.35.4+k3s1")
    output = tmp_path / "pins.json"
    output.write_text(json.dumps({"pins": {"v1.35.3+k3s1": {"ref": old}}}))
    assert generator.main(["--k3s-source", str(k3s_repo), "--output", str(output),
                           "--add", "v1.35.4+k3s1"]) == 0
    pins = json.loads(output.read_text())["pins"]
    assert pins == {
        "v1.35.3+k3s1": {"ref": old, "sha256": hashlib.sha256(OLD_SCRIPT).hexdigest(),
                         "readsGithubUrl": False},
        "v1.35.4+k3s1": {"ref": "v1.35.4+k3s1", "sha256": hashlib.sha256(NEW_SCRIPT).hexdigest(),
                         "readsGithubUrl": True},
    }
    # --check agrees with what it just wrote; --retag moves the commit pin to its tag.
    assert generator.main(["--k3s-source", str(k3s_repo), "--output", str(output),
                           "--check"]) == 0
    # ... and refuses a file that is not what it would write.
    written = output.read_text()
    output.write_text(written.replace("\n", "\n\n", 1))
    assert generator.main(["--k3s-source", str(k3s_repo), "--output", str(output),
                           "--check"]) == 1
    assert f"{output} differs from {k3s_repo}; run tools/k3s_installer_pins.py" \
        in capsys.readouterr().err
    output.write_text(written)
    assert generator.main(["--k3s-source", str(k3s_repo), "--output", str(output),
                           "--retag"]) == 0
    assert json.loads(output.read_text())["pins"]["v1.35.3+k3s1"]["ref"] == "v1.35.3+k3s1"


def test_a_script_that_differs_from_the_published_checksum_is_refused(
        k3s_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    commit_script(k3s_repo, NEW_SCRIPT, published=OLD_SCRIPT, tag="v1.35.3+k3s1")
    output = tmp_path / "pins.json"
    assert generator.main(["--k3s-source", str(k3s_repo), "--output", str(output),
                           "--add", "v1.35.3+k3s1"]) == 1
    assert f"has SHA-256 {hashlib.sha256(NEW_SCRIPT).hexdigest()}, but install.sh.sha256sum " \
           f"there says {hashlib.sha256(OLD_SCRIPT).hexdigest()}" in capsys.readouterr().err
    assert not output.exists()


def test_a_version_that_is_not_a_release_tag_is_refused(
        k3s_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    commit_script(k3s_repo, NEW_SCRIPT, tag="v1.35.3+k3s1")
    assert generator.main(["--k3s-source", str(k3s_repo), "--output", str(tmp_path / "p.json"),
                           "--add", "v1.35.9+k3s1=HEAD"]) == 1
    assert "v1.35.9+k3s1 is not a release tag" in capsys.readouterr().err


def test_the_committed_file_is_what_the_generator_renders() -> None:
    committed = json.loads(k3s_installer.PINS_FILE.read_text())
    assert k3s_installer.PINS_FILE.read_text() == generator.render(committed)
    assert committed["scriptUrl"] == generator.SCRIPT_URL
    assert committed["source"] == generator.SOURCE
    for version, entry in committed["pins"].items():
        assert set(entry) == {"ref", "sha256", "readsGithubUrl"}, version


def test_a_tag_ref_is_escaped_in_the_script_url() -> None:
    assert k3s_installer.script_url_at("v1.35.3+k3s1") == (
        "https://raw.githubusercontent.com/k3s-io/k3s/v1.35.3%2Bk3s1/install.sh")


K3S_SOURCE = os.environ.get("K3S_SOURCE") or str(GIT_MIRROR_DIR / "k3s-io+k3s" / "repo")


@pytest.mark.skipif(not Path(K3S_SOURCE).exists(),
                    reason=f"no k3s git checkout at {K3S_SOURCE} (set K3S_SOURCE): the k3s "
                           "repository is too large to mirror here, so the pins cannot be "
                           "re-derived in this environment")
def test_the_committed_pins_match_the_k3s_checkout() -> None:
    assert generator.main(["--k3s-source", K3S_SOURCE, "--check"]) == 0
