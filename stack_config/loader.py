"""Read the ``k3s-hcloud:*`` stack config from the Pulumi runtime into one :class:`ClusterSpec`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pulumi.runtime import config as runtime_config
from pydantic import ValidationError

from stack_config.base import SECRET_KEYS_CONTEXT, is_text_annotation
from stack_config.errors import ConfigError, problems_from
from stack_config.etcd_snapshots import plain_text_credentials
from stack_config.schema import ClusterSpec

PROJECT = "k3s-hcloud"


# Top-level keys whose value is text: the CLI passes them exactly as written.
TEXT_KEYS = frozenset(
    field.alias or name for name, field in ClusterSpec.model_fields.items()
    if field.annotation is not None and is_text_annotation(field.annotation))


def validate_cluster_spec(raw: Mapping[str, Any],
                          secret_keys: frozenset[str] = frozenset()) -> ClusterSpec:
    """Validate the whole config tree at once; every problem names its key and its fix.

    ``secret_keys`` are the top-level keys the CLI marks secret (some value under them was set
    with ``--secret``); the model keeps every user value under them secret.
    """
    try:
        return ClusterSpec.model_validate(dict(raw), context={SECRET_KEYS_CONTEXT: secret_keys})
    except ValidationError as error:
        raise ConfigError(problems_from(error, ClusterSpec, secret_keys)) from None


def load_cluster_spec() -> ClusterSpec:
    values, secret_keys = read_project_config()
    spec = validate_cluster_spec(decode_project_config(values), secret_keys=secret_keys)
    problems = plain_text_credentials(spec.k3s.etcd_snapshots,
                                      {f"{PROJECT}:{key}" for key in secret_keys})
    if problems:
        raise ConfigError(problems)
    return spec


def read_project_config() -> tuple[dict[str, str], frozenset[str]]:
    """Every ``k3s-hcloud:<key>`` value as the CLI hands it (text), and the keys marked secret.

    All keys are read (not only the known ones) so a misspelt key is reported, not ignored. The
    runtime's raw accessor is used because ``pulumi.Config.get`` warns on secret keys, and a
    secret key here (``k3s`` with a ``datastoreEndpoint``) is legitimate.
    """
    prefix = f"{PROJECT}:"
    keys = set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())
    values: dict[str, str] = {}
    for full_key in sorted(k for k in keys if k.startswith(prefix)):
        values[full_key[len(prefix):]] = runtime_config.get_config(full_key)
    secret = {key for key in values if runtime_config.is_config_secret(prefix + key)}
    secret |= {k[len(prefix):] for k in runtime_config.get_config_secret_keys_env()
               if k.startswith(prefix)}
    return values, frozenset(secret)


def decode_project_config(values: Mapping[str, Any]) -> dict[str, Any]:
    """Top-level values as the model needs them, decoded the way the Pulumi CLI encoded them.

    The CLI hands every value to the program as text: strings as written, everything else
    (objects, lists, numbers, booleans) as JSON. A key the model types as text (``clusterName``)
    is therefore never JSON-decoded: ``clusterName: "123"`` stays the string ``123``, as
    ``pulumi.Config.get`` would return it. Structured keys are decoded; a value that is not JSON
    stays text, so the model reports it as the wrong type under its own key.
    """
    return {key: value if key in TEXT_KEYS else _decode(value) for key, value in values.items()}


def _decode(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except (json.JSONDecodeError, RecursionError):
        return value
