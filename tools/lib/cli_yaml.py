"""Read Pulumi project and stack files the way the Pulumi CLI reads them.

The CLI parses these files with go-yaml v3 (YAML 1.2 core schema), not YAML 1.1 as PyYAML's
``safe_load`` does. Where the two disagree, a plan must see what ``pulumi up`` would see:

- timestamps (``2024-01-01``) stay strings: go-yaml decodes them into ``interface{}`` as strings
  "for backward compatibility" (go-yaml v3 ``decode.go``, ``scalar``);
- only ``true``/``false`` (any case form YAML 1.2 lists) are booleans; ``yes``/``no``/``on``/``off``
  are strings;
- base-60 numbers (``1:30``) are strings;
- a key given twice in one mapping is an error (go-yaml v3: "mapping key ... already defined");
- ``!!binary`` would reach the program as raw bytes; it is refused with the fix (quote a string).
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.nodes import MappingNode

_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_INT = re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0o?[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$")
_FLOAT = re.compile(r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?"
                    r"|[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)"
                    r"|\.[0-9][0-9_]*(?:[eE][-+]?[0-9]+)?"
                    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$")


class CliYamlError(ValueError):
    """A construct the Pulumi CLI refuses, or that this project refuses, with its line."""


# libyaml's parser when PyYAML has it (much faster); the resolvers and constructors below are
# Python either way, so both read the same.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class CliYamlLoader(_SafeLoader):  # type: ignore[misc, valid-type]
    """PyYAML's safe loader with go-yaml v3's implicit types and duplicate-key check."""

    yaml_implicit_resolvers: dict[str, list[tuple[str, re.Pattern[str]]]] = {}

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                raise CliYamlError(f"line {key_node.start_mark.line + 1}: a mapping key must be "
                                   "a plain value. Fix: write the key as text.")
            if key in seen:
                raise CliYamlError(
                    f"line {key_node.start_mark.line + 1}: key '{key}' is already defined on line "
                    f"{seen[key]}; the Pulumi CLI refuses a key given twice. Fix: keep one "
                    "of them.")
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_binary(self, node: yaml.Node) -> bytes:
        raise CliYamlError(f"line {node.start_mark.line + 1}: !!binary values are not "
                           "supported. Fix: write the value as a quoted string.")


    def construct_yaml_timestamp(self, node: yaml.Node) -> str:
        # An explicit !!timestamp tag: go-yaml still hands interface{} the text as written.
        return str(self.construct_scalar(node))

    def construct_yaml_set(self, node: yaml.Node) -> Any:
        raise CliYamlError(f"line {node.start_mark.line + 1}: !!set values are not supported. "
                           "Fix: write a list.")


CliYamlLoader.add_constructor("tag:yaml.org,2002:binary", CliYamlLoader.construct_yaml_binary)
CliYamlLoader.add_constructor("tag:yaml.org,2002:timestamp", CliYamlLoader.construct_yaml_timestamp)
CliYamlLoader.add_constructor("tag:yaml.org,2002:set", CliYamlLoader.construct_yaml_set)
CliYamlLoader.add_implicit_resolver("tag:yaml.org,2002:bool", _BOOL, list("tTfF"))
CliYamlLoader.add_implicit_resolver("tag:yaml.org,2002:int", _INT, list("-+0123456789"))
CliYamlLoader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT, list("-+0123456789."))
CliYamlLoader.add_implicit_resolver("tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"),
                                    ["~", "n", "N", ""])
CliYamlLoader.add_implicit_resolver("tag:yaml.org,2002:merge", re.compile(r"^(?:<<)$"), ["<"])


def _construct_int(loader: CliYamlLoader, node: yaml.ScalarNode) -> int:
    text = str(loader.construct_scalar(node)).replace("_", "")
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-")
    if digits.startswith(("0b", "0x", "0o")):
        return sign * int(digits, 0)
    if len(digits) > 1 and digits.startswith("0"):
        return sign * int(digits, 8)  # go-yaml v3 reads a leading 0 as octal, as YAML 1.1 did
    return sign * int(digits)


CliYamlLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)


def load(text: str) -> Any:
    """Parse one YAML document as the Pulumi CLI would. Raises ``yaml.YAMLError`` or
    :class:`CliYamlError` (both carry the line)."""
    return yaml.load(text, Loader=CliYamlLoader)  # noqa: S506 — a SafeLoader subclass
