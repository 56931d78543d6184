"""The stdin framing of the two bootstrap commands that ship files to a node.

- The **file bundle** (``apply-k3s.sh``, not secret) lists every file the bootstrap manages on a
  node, one per line: ``<mode> <path> inline:<base64 content>`` or ``<mode> <path> staged:<name>``.
  ``staged:`` files are secrets: the bundle only names them; their content was put on the node
  by the secrets command, so the file bundle (and config.yaml in it) stays readable in the plan.
- The **secret bundle** (``stage-secrets.sh``, secret) carries those contents:
  ``<name> <base64 content>`` per line.

Base64 keeps each record on one line whatever the file holds; paths, modes and names are
validated here and again by the scripts.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from components.bootstrap.paths import MANAGED_PREFIXES

_MODE = re.compile(r"^0[0-7]{3}$")
_PATH = re.compile(r"^/[A-Za-z0-9._/-]+$")
_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]*$")


@dataclass(frozen=True)
class NodeFile:
    """A file whose content may appear in the plan."""

    path: str
    content: str
    mode: str = "0600"


@dataclass(frozen=True)
class StagedFile:
    """A secret file: its content travels in the secret bundle under ``name``."""

    path: str
    name: str
    mode: str = "0600"


def _check_target(path: str, mode: str) -> None:
    if not (_PATH.match(path) and ".." not in path and path.startswith(MANAGED_PREFIXES)):
        raise ValueError(f"bootstrap may not manage '{path}' (allowed under {MANAGED_PREFIXES})")
    if not _MODE.match(mode):
        raise ValueError(f"'{mode}' is not an octal file mode like 0600")


def _check_name(name: str) -> None:
    if not _NAME.match(name):
        raise ValueError(f"'{name}' is not a staged secret name (lowercase, digits, '.', '-')")


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def encode_file_bundle(files: Sequence[NodeFile], staged: Sequence[StagedFile] = ()) -> str:
    lines = []
    for item in files:
        _check_target(item.path, item.mode)
        lines.append(f"{item.mode} {item.path} inline:{_b64(item.content)}")
    for secret in staged:
        _check_target(secret.path, secret.mode)
        _check_name(secret.name)
        lines.append(f"{secret.mode} {secret.path} staged:{secret.name}")
    paths = [line.split(" ")[1] for line in lines]
    if len(set(paths)) != len(paths):
        raise ValueError(f"a file appears twice in the bundle: {sorted(paths)}")
    return "\n".join(lines) + "\n"


def encode_secret_bundle(secrets: Mapping[str, str]) -> str:
    lines = []
    for name, content in secrets.items():
        _check_name(name)
        lines.append(f"{name} {_b64(content)}")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class BundleEntry:
    mode: str
    path: str
    content: str | None
    """Decoded inline content; None for a staged secret."""
    staged_name: str | None


def decode_file_bundle(text: str) -> dict[str, BundleEntry]:
    """Path → entry; the inverse of :func:`encode_file_bundle` (for tests and policy readers)."""
    entries: dict[str, BundleEntry] = {}
    for line in text.splitlines():
        if not line:
            continue
        mode, path, source = line.split(" ")
        kind, _, value = source.partition(":")
        if kind == "inline":
            entries[path] = BundleEntry(mode, path, base64.b64decode(value).decode(), None)
        elif kind == "staged":
            entries[path] = BundleEntry(mode, path, None, value)
        else:
            raise ValueError(f"unknown bundle source '{kind}' for {path}")
    return entries


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
