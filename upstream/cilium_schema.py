"""The Cilium chart's ``values.schema.json``, checked offline the way Helm checks it.

Helm validates the values of a release (chart defaults coalesced with the user's values) against
the chart's JSON schema (draft-07) before rendering; a value of the wrong type stops ``helm
install`` after the servers exist. This module runs the same check before anything is
registered, from ``upstream/cilium_charts/<line>.json`` (written by
``tools/cilium_chart_facts.py`` from the real chart; a test regenerates it), without Go, Helm or
network on the user's machine.

Helm semantics kept here:
- Coalescing: a key the user sets to ``null`` is removed (the chart default applies), so it is not
  validated; everything else the user sets replaces the default and is validated.
  Ref: helm pkg/chart/common/util/coalesce.go (coalesceValues, coalesceTablesFullKey)
- Draft-07 types: ``integer`` also matches 12.0 (Pulumi sends every number as a float); a
  boolean is never a number; a string is never a boolean (``"false"`` is refused, it is not
  false). Ref: https://json-schema.org/draft-07/json-schema-validation#rfc.section.6.1.1
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from upstream.cilium import CiliumLine, line_of

FACTS_DIR = Path(__file__).resolve().parent / "cilium_charts"
# The keywords this validator implements; the generator refuses a schema that uses others.
SCHEMA_KEYWORDS = frozenset({"type", "properties", "items", "anyOf", "oneOf", "enum",
                             "minimum", "maximum"})


@dataclass(frozen=True)
class SchemaProblem:
    path: str
    """Helm value path as the user writes it (``hubble.relay.enabled``, ``extraArgs[0]``)."""
    message: str
    fix: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message} Fix: {self.fix}"


@lru_cache(maxsize=None)
def chart_facts(minor: str) -> dict[str, Any]:
    """The derived facts of one line (schema, template rules); see tools/cilium_chart_facts.py."""
    return json.loads((FACTS_DIR / f"{minor}.json").read_text())


def values_schema(line: CiliumLine) -> Mapping[str, Any]:
    return chart_facts(line.minor)["schema"]


def json_type(value: Any) -> str:
    """The JSON type of a value as the schema names it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, Sequence):
        return "array"
    return type(value).__name__


def _type_matches(value: Any, wanted: str) -> bool:
    actual = json_type(value)
    return actual == wanted or (wanted == "number" and actual == "integer")


def _same(a: Any, b: Any) -> bool:
    # JSON equality: true is not 1, 1 is 1.0.
    return json_type(a) == json_type(b) and a == b if isinstance(a, bool) or isinstance(b, bool) \
        else a == b


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _errors(value: Any, schema: Mapping[str, Any], path: str
            ) -> Iterator[tuple[str, str, Any]]:
    """(path, what is wrong, the value there) for every way ``value`` fails ``schema``."""
    wanted = schema.get("type")
    if wanted is not None:
        types = [wanted] if isinstance(wanted, str) else list(wanted)
        if not any(_type_matches(value, t) for t in types):
            yield path, _type_message(value, types), value
            return
    if "enum" in schema and not any(_same(value, choice) for choice in schema["enum"]):
        choices = ", ".join(json.dumps(choice) for choice in schema["enum"])
        yield path, f"{json.dumps(value)} is not one of {choices}.", value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            yield path, f"{_number(value)} is below the minimum {schema['minimum']}.", value
        if "maximum" in schema and value > schema["maximum"]:
            yield path, f"{_number(value)} is above the maximum {schema['maximum']}.", value
    if isinstance(value, Mapping):
        for key, sub in (schema.get("properties") or {}).items():
            # A key set to null is removed by Helm's coalescing: the chart default applies.
            if key in value and value[key] is not None:
                yield from _errors(value[key], sub, _join(path, key))
    if isinstance(value, Sequence) and not isinstance(value, str) and "items" in schema:
        for index, item in enumerate(value):
            yield from _errors(item, schema["items"], f"{path}[{index}]")
    for keyword in ("anyOf", "oneOf"):
        if keyword not in schema:
            continue
        matching = [branch for branch in schema[keyword]
                    if not any(True for _ in _errors(value, branch, path))]
        if not matching:
            yield path, _alternatives_message(value, schema[keyword]), value
        elif keyword == "oneOf" and len(matching) > 1:
            yield path, f"{json.dumps(value)} matches more than one of the allowed forms.", value


def _number(value: float | int) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _shown(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


_TYPE_WORDS = {"null": "null", "boolean": "a boolean", "integer": "an integer",
               "number": "a number", "string": "a string", "array": "a list",
               "object": "a mapping"}


def _type_message(value: Any, types: list[str]) -> str:
    wanted = " or ".join(_TYPE_WORDS.get(t, t) for t in types)
    return f"{_shown(value)} is {_TYPE_WORDS.get(json_type(value), json_type(value))}; the chart " \
           f"wants {wanted}."


def _alternatives_message(value: Any, branches: list[Mapping[str, Any]]) -> str:
    forms = []
    for branch in branches:
        if "enum" in branch:
            forms.append("one of " + ", ".join(json.dumps(c) for c in branch["enum"]))
        elif "type" in branch:
            types = [branch["type"]] if isinstance(branch["type"], str) else branch["type"]
            forms.append(" or ".join(_TYPE_WORDS.get(t, t) for t in types))
    allowed = "; ".join(forms) if forms else "the form the chart documents"
    return f"{_shown(value)} is not accepted (allowed: {allowed})."


def _fix(value: Any, message: str, path: str) -> str:
    if isinstance(value, str):
        lowered = value.strip().lower()
        if "a boolean" in message and lowered in ("true", "false", "yes", "no", "on", "off"):
            meant = "true" if lowered in ("true", "yes", "on") else "false"
            return f"write {meant} without quotes (a quoted \"{value}\" is a string, and " \
                   "Helm's templates treat every non-empty string as true)."
        if ("an integer" in message or "a number" in message) and _is_number(lowered):
            return f"write {value.strip()} without quotes."
    if "is not one of" in message or "allowed:" in message:
        return "use one of the values listed."
    if "minimum" in message or "maximum" in message:
        return "use a number inside the range the chart allows."
    if "a list" in message:
        return "write it as a YAML list (one item per line starting with '- ')."
    if "a mapping" in message:
        return "write it as a mapping of keys (see the chart's values.yaml)."
    return f"use a value of the type the Cilium chart documents for {path} (values.yaml)."


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def schema_problems(values: Mapping[str, Any], version: str) -> list[SchemaProblem]:
    """Every value the chart's ``values.schema.json`` of ``version``'s line refuses."""
    line = line_of(version)
    if line is None:
        raise ValueError(f"Cilium {version} is not in a supported line")
    problems = []
    for path, message, value in _errors(values, values_schema(line), ""):
        problems.append(SchemaProblem(path or "(values)", message, _fix(value, message, path)))
    return problems

