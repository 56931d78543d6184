"""The upstream Gateway API CRDs in ../shared/reference, parsed once per test session.

The v1.6.0 bundle is megabytes of YAML: parse it with libyaml when available, and only once.
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from tests.helpers import requires_reference

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def gateway_api_crds(version: str, channel: str = "standard") -> list[dict[str, Any]]:
    """Every CustomResourceDefinition of that release and channel (skips without the data);
    a fresh copy, so a test may change it."""
    directory = requires_reference(f"gateway-api-{version}", channel)
    return copy.deepcopy(list(_parsed(str(directory))))


@cache
def _parsed(directory: str) -> tuple[dict[str, Any], ...]:
    crds = []
    for path in sorted(Path(directory).glob("gateway.networking.k8s.io_*.yaml")):
        for document in yaml.load_all(path.read_text(), Loader=_LOADER):
            if document and document.get("kind") == "CustomResourceDefinition":
                crds.append(document)
    return tuple(crds)
