"""Configuration errors that name the key as the user writes it, and say how to fix it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pulumi
from pydantic import ValidationError


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


def problems_from(error: ValidationError) -> list[ConfigProblem]:
    """Turn pydantic's errors into key-path problems, keeping the validators' own fix hints."""
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
            message = "unknown key. Fix: check the spelling against the config reference in docs/configuration.md."
        elif item["type"] == "missing":
            message = "required key is missing. Fix: set it in Pulumi.<stack>.yaml."
        problems.append(ConfigProblem(format_location(loc), message))
    return problems


def _is_union_tag(part: str | int) -> bool:
    # pydantic inserts union members ('IPRange', 'function-after[...]') into error locations.
    return isinstance(part, str) and (part[:1].isupper() or "[" in part)
