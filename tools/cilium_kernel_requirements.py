"""Derive the Linux kernel each Cilium feature needs, per supported line, from Cilium's own docs.

    python tools/cilium_kernel_requirements.py [--check]

Reads ``Documentation/operations/system_requirements.rst`` of each line's Go module source
(``github.com/cilium/cilium@v<version>``: the agent's minimum, "Linux kernel >= X", and the table
"Required Kernel Versions for Advanced Features") and the agent's own kernel refusals from
``upstream/cilium_charts/agent-checks.json`` ("needs kernel X or newer"), and writes
``upstream/cilium_charts/kernel-requirements.json``. ``upstream.cilium_kernel`` maps each feature
to the Helm values that turn it on and compares it with the node image's kernel.

``--check`` writes nothing and exits 1 when the committed file differs from the source.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent
if str(PROJECT_DIR) not in sys.path:
    sys.path.insert(0, str(PROJECT_DIR))

from tools.cilium_agent_checks import SourceMissing, source_dir  # noqa: E402
from upstream.cilium import SUPPORTED_LINES  # noqa: E402
from upstream.cilium_agent import agent_facts  # noqa: E402
from upstream.cilium_schema import FACTS_DIR  # noqa: E402
from tools.lib.generated_file import write_or_check  # noqa: E402

FACTS_FILE = FACTS_DIR / "kernel-requirements.json"
DOC = "Documentation/operations/system_requirements.rst"

_BASE = re.compile(r"^- `Linux kernel`_ >= (\d+)\.(\d+)", re.M)
_TABLE = re.compile(r"^Required Kernel Versions for Advanced Features\n=+\n(.*?)\n\n(?P<table>=+ =+\n"
                    r".*?\n=+ =+\n(?P<rows>.*?)\n=+ =+)\n", re.M | re.S)
_ROW = re.compile(r"^(?P<feature>.+?)\s{2,}>= (?P<major>\d+)\.(?P<minor>\d+)\s*$")
_AGENT_KERNEL = re.compile(r"needs? kernel (\d+)\.(\d+)(?:\.\d+)? or newer")


def doc_requirements(text: str) -> dict[str, Any]:
    base = _BASE.search(text)
    table = _TABLE.search(text)
    if base is None or table is None:
        raise ValueError(f"{DOC}: the kernel minimum or the advanced-features table moved")
    features = {}
    for row in table.group("rows").splitlines():
        match = _ROW.match(row)
        if match is None:
            raise ValueError(f"{DOC}: cannot read table row {row!r}")
        features[match.group("feature")] = [int(match.group("major")), int(match.group("minor"))]
    return {"base": [int(base.group(1)), int(base.group(2))], "features": features}


def agent_requirements(minor: str) -> dict[str, list[int]]:
    """``function: message`` → kernel, for each agent refusal that names a kernel version."""
    found = {}
    for check in agent_facts(SUPPORTED_LINES[minor])["checks"]:
        match = _AGENT_KERNEL.search(check["message"])
        if match and check["kind"] == "refuse":
            found[f"{check['function']}: {check['message']}"] = [int(match.group(1)),
                                                                  int(match.group(2))]
    return found


def line_requirements(minor: str) -> dict[str, Any]:
    source = source_dir(SUPPORTED_LINES[minor].newest_verified_patch)
    return {"source": source.name.split("@v", 1)[1],
            **doc_requirements((source / DOC).read_text()),
            "agent": agent_requirements(minor)}


def debian_kernel(package: str = "linux-image-amd64") -> tuple[str, tuple[int, int]] | None:
    """(suite, kernel) of the candidate of ``package`` in this machine's Debian archive, or None
    where there is no apt (the Debian registry is the source of the debian-N image kernels)."""
    try:
        policy = subprocess.run(["apt-cache", "policy", package], capture_output=True, text=True,
                                check=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    candidate = re.search(r"Candidate: (\d+)\.(\d+)\.", policy)
    suite = re.search(r"deb\.debian\.org/debian (\w+)/main", policy)
    if candidate is None or suite is None:
        return None
    return suite.group(1), (int(candidate.group(1)), int(candidate.group(2)))


def derive() -> dict[str, Any]:
    return {minor: line_requirements(minor) for minor in SUPPORTED_LINES}


def render(facts: dict[str, Any]) -> str:
    return json.dumps({"_comment": "Written by tools/cilium_kernel_requirements.py; do not edit.",
                       "lines": facts}, indent=1, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    try:
        text = render(derive())
    except SourceMissing as missing:
        print(missing, file=sys.stderr)
        return 1
    return write_or_check(FACTS_FILE, text, check=args.check, source="the Cilium source",
                          generator="tools/cilium_kernel_requirements.py")


if __name__ == "__main__":
    sys.exit(main())
