"""Read the Kubernetes minors a Cilium release is e2e-tested with, from Cilium's own docs.

    python tools/cilium_tested_kubernetes.py 1.20.0     # prints [oldest, newest]

Each Cilium release lists them in Documentation/network/kubernetes/requirements.rst ("All
Kubernetes versions listed are e2e tested"). The file ships in the Go module of the release, so it
is read from the Go module cache (``go env GOMODCACHE``, github.com/cilium/cilium@v<version>),
where the engine build already downloads the module. tests/test_k3s_support.py compares the
result with ``upstream.cilium.SUPPORTED_LINES[*].tested_kubernetes``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REQUIREMENTS = Path("Documentation") / "network" / "kubernetes" / "requirements.rst"
_BULLET = re.compile(r"^\*\s+(\d+)\.(\d+)\s*$")


def tested_minors(rst: str) -> list[tuple[int, int]]:
    """The bullet list of minors after the "e2e tested" sentence, in the file's order."""
    start = rst.find("e2e tested")
    if start < 0:
        raise ValueError("requirements.rst has no 'e2e tested' list")
    minors: list[tuple[int, int]] = []
    for line in rst[start:].splitlines()[1:]:
        match = _BULLET.match(line.strip())
        if match:
            minors.append((int(match.group(1)), int(match.group(2))))
        elif minors and line.strip():
            break
    if not minors:
        raise ValueError("requirements.rst lists no tested Kubernetes minor")
    return minors


def module_cache() -> Path | None:
    cache = os.environ.get("GOMODCACHE")
    if not cache:
        try:
            cache = subprocess.run(["go", "env", "GOMODCACHE"], capture_output=True, text=True,
                                   timeout=30, check=True).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            cache = str(Path.home() / "go" / "pkg" / "mod")
    path = Path(cache)
    return path if path.is_dir() else None


def module_sources(minor: str) -> list[Path]:
    """Cached cilium module directories of one line (``1.20`` → cilium@v1.20.0, …)."""
    cache = module_cache()
    if cache is None:
        return []
    pattern = re.compile(rf"^cilium@v{re.escape(minor)}\.\d+$")
    base = cache / "github.com" / "cilium"
    return sorted((p for p in base.glob("cilium@v*") if pattern.match(p.name)),
                  key=lambda p: int(p.name.rsplit(".", 1)[1])) if base.is_dir() else []


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python tools/cilium_tested_kubernetes.py <cilium version>", file=sys.stderr)
        return 1
    cache = module_cache()
    source = cache / "github.com" / "cilium" / f"cilium@v{argv[0]}" / REQUIREMENTS if cache else None
    if source is None or not source.is_file():
        print(f"cilium v{argv[0]} is not in the Go module cache (go mod download "
              f"github.com/cilium/cilium@v{argv[0]})", file=sys.stderr)
        return 1
    minors = tested_minors(source.read_text())
    print([f"{a}.{b}" for a, b in (min(minors), max(minors))])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
