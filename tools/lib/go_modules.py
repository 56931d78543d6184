"""Read a wrapper module's go.mod requirements and go.sum hashes (no Go toolchain needed)."""

from __future__ import annotations

import re
from pathlib import Path

_REQUIRE = re.compile(r"^\s*(?:require\s+)?([\w./~-]+)\s+(v\S+)(?:\s*//.*)?$")


def go_mod_requires(path: Path) -> dict[str, str]:
    """Module path → required version, from ``require`` lines and blocks."""
    requires: dict[str, str] = {}
    in_block = False
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if stripped.startswith("require ("):
            in_block = True
            continue
        if in_block and stripped == ")":
            in_block = False
            continue
        if in_block or stripped.startswith("require "):
            match = _REQUIRE.match(stripped)
            if match:
                requires[match.group(1)] = match.group(2)
    return requires


def go_sum_hashes(path: Path) -> dict[tuple[str, str], str]:
    """(module, version) → h1 hash of the module zip (the ``/go.mod`` lines left out)."""
    hashes = {}
    for line in path.read_text().splitlines():
        module, version, digest = line.split()
        if not version.endswith("/go.mod"):
            hashes[(module, version)] = digest
    return hashes
