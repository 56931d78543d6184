"""Edit a stack's ``config:`` mapping by path, the way ``pulumi config set --path`` addresses keys.

Paths start with a key of the ``k3s-hcloud:`` namespace (the prefix may be left out) and go on
with ``.key`` for mappings and ``[n]`` for list positions. A list of named entries (worker pools,
listeners, IP pools) can also be addressed by name: ``workerPools[general].count``; setting a
whole entry under a new name appends it. Values are YAML: ``3``, ``true``, ``[a, b]``,
``{name: batch, count: 2}``. Pure: no Pulumi.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

PROJECT = "k3s-hcloud"
_TOKEN = re.compile(r"\.?([^.\[\]]+)|\[([^\]]*)\]")


class ConfigEditError(ValueError):
    """An edit that does not fit the config (bad path, missing entry, unparsable value)."""


def parse_path(path: str) -> list[str | int]:
    """``workerPools[general].count`` → ``["k3s-hcloud:workerPools", "general", "count"]``;
    a bracketed number becomes an int (a list position)."""
    tokens: list[str | int] = []
    position = 0
    while position < len(path):
        match = _TOKEN.match(path, position)
        if not match or match.end() == position:
            raise ConfigEditError(f"cannot read the path '{path}' at '{path[position:]}'")
        key, index = match.groups()
        if key is not None:
            tokens.append(key)
        else:
            tokens.append(int(index) if index.isdigit() else index)
        position = match.end()
    if not tokens or not isinstance(tokens[0], str):
        raise ConfigEditError(f"the path '{path}' must start with a config key")
    if ":" not in tokens[0]:
        tokens[0] = f"{PROJECT}:{tokens[0]}"
    return tokens


def parse_assignment(text: str) -> tuple[list[str | int], Any]:
    """``path=value`` with a YAML value."""
    path, sep, raw = text.partition("=")
    if not sep:
        raise ConfigEditError(f"'{text}' is not PATH=VALUE")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError as error:
        raise ConfigEditError(f"the value of {path} is not YAML: {error}") from None
    return parse_path(path.strip()), value


def set_value(config: dict[str, Any], path: list[str | int], value: Any) -> None:
    parent, last = _walk(config, path, create=True)
    _assign(parent, last, value, path)


def unset_value(config: dict[str, Any], path: list[str | int]) -> None:
    parent, last = _walk(config, path, create=False)
    if isinstance(parent, dict) and last in parent:
        del parent[last]
        return
    if isinstance(parent, list):
        parent.pop(_position(parent, last, path, append=False))
        return
    raise ConfigEditError(f"{_text(path)} is not set")


def _walk(config: dict[str, Any], path: list[str | int], *, create: bool) -> tuple[Any, Any]:
    node: Any = config
    for depth, token in enumerate(path[:-1]):
        following = path[depth + 1]
        if isinstance(node, dict):
            if token not in node:
                if not create:
                    raise ConfigEditError(f"{_text(path[:depth + 1])} is not set")
                node[token] = [] if isinstance(following, int) else {}
            node = node[token]
        elif isinstance(node, list):
            node = node[_position(node, token, path[:depth + 1], append=False)]
        else:
            raise ConfigEditError(f"{_text(path[:depth + 1])} is not a mapping or a list")
    return node, path[-1]


def _assign(parent: Any, last: str | int, value: Any, path: list[str | int]) -> None:
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        position = _position(parent, last, path, append=True)
        if position == len(parent):
            entry = dict(value) if isinstance(value, dict) else value
            if isinstance(last, str) and isinstance(entry, dict):
                entry = {"name": last, **entry}
            parent.append(entry)
        else:
            parent[position] = value
    else:
        raise ConfigEditError(f"{_text(path[:-1])} is not a mapping or a list")


def _position(items: list[Any], token: str | int, path: list[str | int], *, append: bool) -> int:
    where = f"{_text(path[:-1])}[{token}]"
    if isinstance(token, int):
        if 0 <= token < len(items) or (append and token == len(items)):
            return token
        raise ConfigEditError(f"{where}: the list has {len(items)} entries")
    for position, item in enumerate(items):
        if isinstance(item, dict) and item.get("name") == token:
            return position
    if append:
        return len(items)
    names = [item.get("name") for item in items if isinstance(item, dict)]
    raise ConfigEditError(f"{where}: no entry named '{token}' (entries: {names})")


def _text(path: list[str | int]) -> str:
    text = str(path[0]).removeprefix(f"{PROJECT}:")
    for token in path[1:]:
        text += f"[{token}]" if isinstance(token, int) else f".{token}"
    return text
