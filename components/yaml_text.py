"""YAML text for every file the program renders, through libyaml's emitter when it is present.

PyYAML's pure-Python emitter was about a tenth of a 100-server plan (profiled with cProfile:
~300 dumps of cloud-init, k3s config and kubeconfig documents). libyaml's emitter writes the same
bytes for these documents — ``tests/test_yaml_text.py`` renders every machine file of the example
stacks both ways and compares them byte for byte — so it is used whenever PyYAML was built with it,
and the pure-Python dumper remains the fallback (same output, only slower).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

FAST_EMITTER = bool(getattr(yaml, "__with_libyaml__", False))
_SafeBase: type = yaml.CSafeDumper if FAST_EMITTER else yaml.SafeDumper


def _literal_multiline(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    # Multi-line strings (files, keys) as literal blocks: readable on the node, as written.
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


class SafeDumper(_SafeBase):  # type: ignore[misc, valid-type]
    """Safe representers (no Python tags), the fastest emitter available."""


class LiteralBlockDumper(_SafeBase):  # type: ignore[misc, valid-type]
    """Safe representers, with multi-line strings as ``|`` literal blocks."""


LiteralBlockDumper.add_representer(str, _literal_multiline)


def dump(document: Mapping[str, Any] | list[Any], *, sort_keys: bool = False,
         literal_blocks: bool = False, width: int | None = None,
         dumper: type | None = None) -> str:
    """Block-style YAML of ``document`` (what ``yaml.safe_dump(..., default_flow_style=False)`` writes)."""
    chosen = dumper or (LiteralBlockDumper if literal_blocks else SafeDumper)
    return yaml.dump(document, Dumper=chosen, sort_keys=sort_keys, default_flow_style=False,
                     width=width)
