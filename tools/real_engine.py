"""Where `make engine` puts the real toolchain and upstream artifacts, and what it recorded.

The cache lives outside the repository, one folder per state of the wrapper files, so a change to
a wrapper module, the build script or the pinned artifact list builds into a fresh folder and a
warm rebuild of an unchanged tree finds everything in place:

    ${XDG_CACHE_HOME:-$HOME/.cache}/k3s-hcloud/engine-<hash>/bin/         pulumi, helm, ...
    ${XDG_CACHE_HOME:-$HOME/.cache}/k3s-hcloud/engine-<hash>/artifacts/   charts and CRDs

Run ``python3 tools/real_engine.py`` to print the folder (the build script does). Standard library
only: the build script runs it with the system Python, before any virtualenv exists.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent
WRAPPERS_DIR = PROJECT_DIR / "tools" / "engine"
ARTIFACTS_FILE = PROJECT_DIR / "upstream" / "engine_artifacts.json"
"""The one versions file: every artifact's module, version and go.sum hash, and every refusal."""

# Files whose content decides what is built; their hash names the cache folder.
_HASHED_SUFFIXES = (".mod", ".sum", ".go", ".sh", ".py")


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "k3s-hcloud"


def wrapper_files() -> list[Path]:
    files = [p for p in sorted(WRAPPERS_DIR.rglob("*"))
             if p.is_file() and p.suffix in _HASHED_SUFFIXES]
    return [*files, ARTIFACTS_FILE]


def wrappers_hash() -> str:
    digest = hashlib.sha256()
    for path in wrapper_files():
        digest.update(path.relative_to(PROJECT_DIR).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def engine_dir() -> Path:
    return cache_root() / f"engine-{wrappers_hash()}"


def bin_dir() -> Path:
    return engine_dir() / "bin"


def artifacts_dir() -> Path:
    return engine_dir() / "artifacts"


def recorded_artifacts() -> dict[str, Any]:
    return json.loads(ARTIFACTS_FILE.read_text())


def fetched_manifest() -> dict[str, Any] | None:
    """What the last `make engine` fetched into this cache folder, or None if it has not run."""
    path = artifacts_dir() / "manifest.json"
    return json.loads(path.read_text()) if path.is_file() else None


if __name__ == "__main__":
    sys.stdout.write(f"{engine_dir()}\n")
