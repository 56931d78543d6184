"""Load a stack's config the way the Pulumi CLI hands it to the program.

``Pulumi.yaml`` declarations (with their ``default``) first, then ``Pulumi.<stack>.yaml``. Values
are passed on as the CLI passes them: strings as-is, everything else as JSON text. ``secure:``
values cannot be decrypted here; each becomes a placeholder that stays secret, and a structured
value that contains one is secret as a whole (as with the CLI). ESC ``environment:`` imports are
not resolved offline; the loader reports them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

HCLOUD_TOKEN_KEY = "hcloud:token"
SECRET_PLACEHOLDER = "offline-placeholder-secret"


@dataclass
class StackConfig:
    stack: str
    project: str
    values: dict[str, str] = field(default_factory=dict)
    secret_keys: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)


class StackFileError(Exception):
    """A stack or project file that cannot be read at all (not YAML, wrong shape)."""


def read_yaml(path: Path) -> dict[str, Any]:
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise StackFileError(f"{path.name}: not valid YAML ({error})") from None
    except OSError as error:
        raise StackFileError(f"{path}: cannot be read ({error.strerror})") from None
    if not isinstance(document, dict):
        raise StackFileError(f"{path.name}: expected a mapping at the top level")
    return document


def load_stack_config(project_dir: Path, stack_file: Path, stack: str | None = None,
                      *, token_placeholder: bool = True) -> StackConfig:
    project_doc = read_yaml(project_dir / "Pulumi.yaml")
    project = str(project_doc["name"])
    stack = stack or _stack_name(stack_file)
    config = StackConfig(stack=stack, project=project)

    for key, declaration in (project_doc.get("config") or {}).items():
        full_key = _qualify(key, project)
        if isinstance(declaration, dict):
            if "default" in declaration:
                _set(config, full_key, declaration["default"])
            elif "value" in declaration:
                _set(config, full_key, declaration["value"])
        else:
            _set(config, full_key, declaration)

    stack_doc = read_yaml(stack_file)
    if stack_doc.get("environment"):
        config.notes.append(
            f"ESC environment(s) {stack_doc['environment']} are not resolved offline; "
            "values they provide are missing from this plan.")
    stack_values = stack_doc.get("config") or {}
    if not isinstance(stack_values, dict):
        raise StackFileError(f"{stack_file.name}: 'config' must be a mapping of keys to values")
    for key, value in stack_values.items():
        _set(config, _qualify(str(key), project), value)

    if token_placeholder and HCLOUD_TOKEN_KEY not in config.values:
        # The offline plan needs no Hetzner account; a secret placeholder stands in for the token.
        config.values[HCLOUD_TOKEN_KEY] = SECRET_PLACEHOLDER
        config.secret_keys.add(HCLOUD_TOKEN_KEY)
        config.notes.append("hcloud:token is not set; the plan uses a secret placeholder.")
    return config


def _stack_name(stack_file: Path) -> str:
    name = stack_file.name
    if name.startswith("Pulumi.") and name.endswith((".yaml", ".yml")):
        return name.removeprefix("Pulumi.").rsplit(".", 1)[0]
    return stack_file.stem


def _qualify(key: str, project: str) -> str:
    return key if ":" in key else f"{project}:{key}"


def _set(config: StackConfig, full_key: str, value: Any) -> None:
    plain, secret = _replace_secure(value, full_key)
    config.values[full_key] = plain if isinstance(plain, str) else json.dumps(plain)
    if secret:
        config.secret_keys.add(full_key)
    else:
        config.secret_keys.discard(full_key)


def _replace_secure(value: Any, path: str) -> tuple[Any, bool]:
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return f"{SECRET_PLACEHOLDER}:{path}", True
        items = {k: _replace_secure(v, f"{path}.{k}") for k, v in value.items()}
        return {k: v for k, (v, _) in items.items()}, any(s for _, s in items.values())
    if isinstance(value, list):
        items = [_replace_secure(v, f"{path}[{i}]") for i, v in enumerate(value)]
        return [v for v, _ in items], any(s for _, s in items)
    return value, False
