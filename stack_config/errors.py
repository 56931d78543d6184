"""Configuration errors that name the key as the user writes it, and say how to fix it."""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
from pydantic import BaseModel, ValidationError


class KeyedValueError(ValueError):
    """Raised by a cross-field validator: names the offending key path and the fix.

    ``path`` is relative to the model the validator sits on; the loader prefixes the location.
    """

    def __init__(self, path: str, message: str, fix: str) -> None:
        super().__init__(f"{message} Fix: {fix}")
        self.path = path
        self.message = message
        self.fix = fix


class KeyedValueErrors(ValueError):
    """Several :class:`KeyedValueError` from one validator, reported as one problem each."""

    def __init__(self, errors: Sequence[KeyedValueError]) -> None:
        super().__init__(" ".join(str(error) for error in errors))
        self.errors = list(errors)


@dataclass(frozen=True)
class ConfigProblem:
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message}"


class ConfigError(pulumi.RunError):
    """Invalid stack configuration. A RunError, so the Pulumi CLI prints it without a traceback."""

    def __init__(self, problems: Sequence[ConfigProblem]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"invalid stack configuration ({len(self.problems)} problem(s)):\n{lines}")


def format_location(loc: Iterable[str | int]) -> str:
    """('controlPlane', 'count') → 'controlPlane.count'; list indices become '[2]'."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif text:
            text += f".{part}"
        else:
            text = str(part)
    return text


def problems_from(error: ValidationError, root: type[BaseModel] | None = None,
                  secret_roots: frozenset[str] = frozenset()) -> list[ConfigProblem]:
    """Turn pydantic's errors into key-path problems, keeping the validators' own fix hints.

    With ``root`` (the model validated), an unknown key gets the known key it most resembles.
    Under ``secret_roots`` (top-level keys marked secret) a message never repeats the value.
    """
    problems = _problems(error, root, secret_roots)
    if not secret_roots:
        return problems
    inputs = {format_location([p for p in item["loc"] if not _is_union_tag(p)]): item.get("input")
              for item in error.errors(include_url=False)}
    return [_without_value(problem, inputs.get(problem.key))
            if problem.key.split(".")[0].split("[")[0] in secret_roots else problem
            for problem in problems]


def _without_value(problem: ConfigProblem, value: object) -> ConfigProblem:
    message = problem.message
    if isinstance(value, str) and value:
        message = message.replace(repr(value), "(secret value)")
        if len(value) >= 6:  # shorter text would also match ordinary words of the message
            message = message.replace(value, "(secret value)")
    return ConfigProblem(problem.key, message)


def _problems(error: ValidationError, root: type[BaseModel] | None,
              secret_roots: frozenset[str]) -> list[ConfigProblem]:
    problems: list[ConfigProblem] = []
    for item in error.errors(include_url=False):
        loc = [part for part in item["loc"] if not _is_union_tag(part)]
        cause = (item.get("ctx") or {}).get("error")
        causes = cause.errors if isinstance(cause, KeyedValueErrors) else [cause]
        if all(isinstance(c, KeyedValueError) for c in causes):
            prefix = format_location(loc)
            for keyed in causes:
                key = f"{prefix}.{keyed.path}" if prefix and keyed.path else (prefix or keyed.path)
                problems.append(ConfigProblem(key, f"{keyed.message} Fix: {keyed.fix}"))
            continue
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown key. Fix: " + _unknown_key_fix(root, loc)
        elif item["type"] == "missing":
            message = "required key is missing. Fix: set it in Pulumi.<stack>.yaml."
        elif item["type"] in _TYPE_FIXES:
            got = "" if loc and str(loc[0]) in secret_roots else \
                f" (got {_shown(item.get('input'))})"
            message = f"{message}{got}. Fix: {_TYPE_FIXES[item['type']]}"
        elif "Fix:" not in message:
            message = f"{message}. Fix: correct the value (see docs/configuration-checks.md)."
        problems.append(ConfigProblem(format_location(loc), message))
    return problems


_TYPE_FIXES = {
    "string_type": "write the value as text (quote it).",
    "int_type": "write a whole number.",
    "int_parsing": "write a whole number.",
    "int_from_float": "write a whole number.",
    "bool_type": "write true or false (unquoted).",
    "bool_parsing": "write true or false (unquoted).",
    "dict_type": "write a mapping of keys to values (key: value).",
    "model_type": "write a mapping of keys to values (key: value).",
    "model_attributes_type": "write a mapping of keys to values (key: value).",
    "list_type": "write a list ([a, b] or one '- item' per line).",
    "literal_error": "use one of the values listed.",
    "enum": "use one of the values listed.",
    "ip_v4_network": "write an IPv4 network in CIDR form, e.g. 10.42.0.0/16 (no host bits).",
    "ip_v4_address": "write an IPv4 address, e.g. 10.0.0.5.",
    "greater_than_equal": "use a larger number.",
    "greater_than": "use a larger number.",
    "less_than_equal": "use a smaller number.",
    "too_short": "add at least one entry.",
    "url_parsing": "write a full URL, e.g. https://registry.example.com.",
    "url_scheme": "use an http:// or https:// URL.",
}


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _unknown_key_fix(root: type[BaseModel] | None, loc: Sequence[str | int]) -> str:
    known = _known_keys(root, loc[:-1]) if root is not None else []
    unknown = str(loc[-1]) if loc else ""
    close = difflib.get_close_matches(unknown, known, n=1, cutoff=0.6)
    if not close:
        close = [k for k in known if k.lower() == unknown.lower().replace("_", "").replace("-", "")]
    if close:
        return f"did you mean '{close[0]}'? Known keys here: {', '.join(known)}."
    if known:
        return f"check the spelling; known keys here: {', '.join(known)}."
    return "check the spelling against docs/configuration-checks.md."


def _known_keys(model: Any, loc: Sequence[str | int]) -> list[str]:
    """The keys the model accepts at ``loc`` (following lists, dicts and optional models)."""
    annotation: Any = model
    for part in loc:
        annotation = _unwrap(annotation)
        if isinstance(part, int):
            args = typing.get_args(annotation)
            annotation = args[0] if args else None
            continue
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = next((f for n, f in annotation.model_fields.items()
                          if part in (n, f.alias)), None)
            annotation = field.annotation if field else None
        elif typing.get_origin(annotation) is dict:
            annotation = typing.get_args(annotation)[1]
        else:
            return []
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [f.alias or n for n, f in annotation.model_fields.items()]
    return []


def _unwrap(annotation: Any) -> Any:
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        models = [m for m in members if isinstance(m, type) and issubclass(m, BaseModel)]
        annotation = models[0] if models else (members[0] if members else None)
        return _unwrap(annotation)
    return annotation


def _is_union_tag(part: str | int) -> bool:
    # pydantic inserts union members ('IPRange', 'function-after[...]') into error locations.
    return isinstance(part, str) and (part[:1].isupper() or "[" in part)
