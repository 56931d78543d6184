"""Read refs and files out of a bare git mirror (or a clone's ``.git``) of an upstream repository.

Some generators under ``tools/`` derive facts from upstream's git history (its tags, files at a
tag) where no release artifact carries them, or where the Go module proxy does not serve the
repository. They read it with plain ``git --git-dir``: any ``git clone --mirror`` serves, nothing
is checked out, and the program itself never needs the mirror.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

# A large mirror's `git tag` or a big blob stays well under this on a loaded machine.
_TIMEOUT_SECONDS = 300


class GitReadError(RuntimeError):
    """git could not answer; the message names the mirror, the command and git's own reason."""


def git(git_dir: Path | str, *args: str) -> bytes:
    """The output of ``git --git-dir=<git_dir> <args>``; raises GitReadError when git fails."""
    result = subprocess.run(["git", "--git-dir", str(git_dir), *args], capture_output=True,
                            timeout=_TIMEOUT_SECONDS, check=False)
    if result.returncode != 0:
        reason = result.stderr.decode(errors="replace").strip() or f"exit {result.returncode}"
        raise GitReadError(f"{git_dir}: git {' '.join(args)}: {reason}")
    return result.stdout


def show(git_dir: Path | str, ref: str, path: str) -> bytes:
    """The bytes of ``path`` at ``ref``."""
    return git(git_dir, "show", f"{ref}:{path}")


def show_if_present(git_dir: Path | str, ref: str, path: str) -> bytes | None:
    """The bytes of ``path`` at ``ref``, or None where ``ref`` has no such file (upstream moved
    or added it between releases)."""
    try:
        return show(git_dir, ref, path)
    except GitReadError:
        return None


def tags(git_dir: Path | str, pattern: str = "*") -> list[str]:
    """The mirror's tags that match the glob ``pattern``."""
    return git(git_dir, "tag", "--list", pattern).decode().split()


def has_commit(git_dir: Path | str, rev: str) -> bool:
    """Whether ``rev`` (a tag, branch or commit) names a commit of the mirror."""
    try:
        git(git_dir, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    except GitReadError:
        return False
    return True
