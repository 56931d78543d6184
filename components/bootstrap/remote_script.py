"""Command lines that run this package's ``scripts/*.sh`` on a node.

The script travels inside the command (``bash -c '<script>' <name>``) and its inputs are
environment assignments in front of it (``env KEY=value``), not pulumi-command's ``environment``:
sshd only passes variables it is configured to accept (``AcceptEnv``), and stock images accept
just ``LANG``/``LC_*``. Values here are plain strings by type: a command line is logged and shown
in error messages, so secrets go on stdin only. Assumes a POSIX login shell for the SSH user.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from functools import cache
from pathlib import Path

SCRIPTS_DIR = Path(__file__).resolve().parent / "scripts"
_ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")


@cache
def script_text(name: str) -> str:
    return (SCRIPTS_DIR / name).read_text()


def remote_script(name: str, env: Mapping[str, str] | None = None, *, sudo: bool = False) -> str:
    """``[sudo -n] env K=V … bash -c '<scripts/name>' name``; ``name`` becomes the script's $0."""
    assignments = []
    for key, value in (env or {}).items():
        if not _ENV_NAME.match(key) or not isinstance(value, str):
            raise TypeError(f"script input {key!r} must be an UPPER_CASE name with a plain str "
                            "value (secrets go on stdin, never on the command line)")
        assignments.append(f"{key}={shlex.quote(value)}")
    parts = (["sudo", "-n"] if sudo else []) + ["env", *assignments, "bash", "-c",
                                                 shlex.quote(script_text(name)), name]
    return " ".join(parts)
