"""Cilium release lines this project supports and the facts that depend on the line.

Ref: Cilium docs network/kubernetes/requirements.rst (Kubernetes versions tested per line)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

HELM_REPOSITORY = "https://helm.cilium.io/"
CHART = "cilium"

_VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")


@dataclass(frozen=True)
class CiliumLine:
    """One supported minor line of Cilium."""

    minor: str
    newest_verified_patch: str
    tested_kubernetes: tuple[tuple[int, int], tuple[int, int]]


SUPPORTED_LINES: dict[str, CiliumLine] = {
    "1.18": CiliumLine("1.18", "1.18.12", ((1, 30), (1, 33))),
    "1.19": CiliumLine("1.19", "1.19.6", ((1, 31), (1, 34))),
    "1.20": CiliumLine("1.20", "1.20.0", ((1, 33), (1, 36))),
}
DEFAULT_VERSION = SUPPORTED_LINES["1.20"].newest_verified_patch


def line_of(version: str) -> CiliumLine | None:
    """The supported line a Cilium version belongs to, or None if it is not supported."""
    match = _VERSION.match(version)
    if not match:
        return None
    return SUPPORTED_LINES.get(f"{match.group(1)}.{match.group(2)}")


def supported_lines_text() -> str:
    return ", ".join(SUPPORTED_LINES)
