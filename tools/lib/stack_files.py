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

from tools.lib import cli_yaml

HCLOUD_TOKEN_KEY = "hcloud:token"
SECRET_PLACEHOLDER = "offline-placeholder-secret"
# A placeholder must pass the model's checks where the key has a shape (a URL): keyed by the
# last part of the config path; "{placeholder}" is replaced by the usual placeholder text.
SHAPED_PLACEHOLDERS = {
    "datastoreEndpoint": "postgres://k3s:{placeholder}@offline-placeholder.invalid:5432/k3s",
}


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
        document = cli_yaml.load(path.read_text()) or {}
    except cli_yaml.CliYamlError as error:
        raise StackFileError(f"{path.name}: {error}") from None
    except yaml.YAMLError as error:
        raise StackFileError(f"{path.name}: not valid YAML ({error})") from None
    except UnicodeDecodeError:
        raise StackFileError(f"{path.name}: not UTF-8 text. Fix: save the file as UTF-8.") from None
    except OSError as error:
        raise StackFileError(f"{path}: cannot be read ({error.strerror or error})") from None
    if not isinstance(document, dict):
        raise StackFileError(f"{path.name}: expected a mapping at the top level")
    return document


def load_stack_config(project_dir: Path, stack_file: Path, stack: str | None = None,
                      *, token_placeholder: bool = True) -> StackConfig:
    project_doc = read_yaml(project_dir / "Pulumi.yaml")
    if not isinstance(project_doc.get("name"), str):
        raise StackFileError("Pulumi.yaml: 'name' (the project name) is missing.")
    project = project_doc["name"]
    stack = stack or _stack_name(stack_file)
    config = StackConfig(stack=stack, project=project)

    declarations = project_doc.get("config") or {}
    if not isinstance(declarations, dict):
        raise StackFileError("Pulumi.yaml: 'config' must be a mapping of keys to declarations")
    for key, declaration in declarations.items():
        full_key = _qualify(str(key), project)
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
            placeholder = f"{SECRET_PLACEHOLDER}:{path}"
            shape = SHAPED_PLACEHOLDERS.get(path.rsplit(".", 1)[-1].rsplit(":", 1)[-1])
            return (shape.format(placeholder=placeholder) if shape else placeholder), True
        items = {k: _replace_secure(v, f"{path}.{k}") for k, v in value.items()}
        return {k: v for k, (v, _) in items.items()}, any(s for _, s in items.values())
    if isinstance(value, list):
        items = [_replace_secure(v, f"{path}[{i}]") for i, v in enumerate(value)]
        return [v for v, _ in items], any(s for _, s in items)
    return value, False
