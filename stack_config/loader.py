"""Read the ``k3s-hcloud:*`` stack config from the Pulumi runtime into one :class:`ClusterSpec`."""

from __future__ import annotations

import json
from typing import Any

from pulumi.runtime import config as runtime_config
from pydantic import ValidationError

from stack_config.errors import ConfigError, problems_from
from stack_config.etcd_snapshots import plain_text_credentials
from stack_config.schema import ClusterSpec

PROJECT = "k3s-hcloud"


def validate_cluster_spec(raw: dict[str, Any]) -> ClusterSpec:
    """Validate the whole config tree at once; every problem names its key and its fix."""
    try:
        return ClusterSpec.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(problems_from(error)) from None


def load_cluster_spec() -> ClusterSpec:
    spec = validate_cluster_spec(read_project_config())
    problems = plain_text_credentials(spec.k3s.etcd_snapshots, secret_config_keys())
    if problems:
        raise ConfigError(problems)
    return spec


def secret_config_keys() -> set[str]:
    """Full keys (``k3s-hcloud:k3s``) the CLI hands over as secrets (in the runtime's set, or
    in ``PULUMI_CONFIG_SECRET_KEYS`` where the language host passes them by environment)."""
    keys = set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())
    listed = set(runtime_config.get_config_secret_keys_env())
    return {key for key in keys if key in listed or runtime_config.is_config_secret(key)}


def read_project_config() -> dict[str, Any]:
    """Every ``k3s-hcloud:<key>`` value, structured values decoded from the CLI's JSON.

    All keys are read (not only the known ones) so a misspelt key is reported, not ignored. The
    runtime's raw accessor is used because ``pulumi.Config.get`` warns on secret keys, and a
    secret key here (``k3s`` with a ``datastoreEndpoint``) is legitimate.
    """
    prefix = f"{PROJECT}:"
    keys = set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())
    raw: dict[str, Any] = {}
    for full_key in sorted(k for k in keys if k.startswith(prefix)):
        value = runtime_config.get_config(full_key)
        raw[full_key[len(prefix):]] = _decode(value)
    return raw


def _decode(value: Any) -> Any:
    # The CLI hands objects, lists, numbers and booleans to the program as JSON text.
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value
