"""``/etc/rancher/k3s/registries.yaml`` from ``k3s.registries`` plus the embedded mirror's needs.

With the embedded registry mirror (Spegel), a registry is only shared between nodes when it has a
``mirrors:`` entry; an entry without endpoints is enough (the upstream registry stays the
fallback). A user's own entry for the same registry is kept as written.
Ref: https://docs.k3s.io/installation/registry-mirror
Ref: https://docs.k3s.io/installation/private-registry
"""

from __future__ import annotations

from typing import Any

from components import yaml_text

from stack_config.k3s import K3sConfig


def render_registries(k3s: K3sConfig) -> dict[str, Any]:
    document = k3s.registries.model_dump(mode="json", exclude_defaults=True)
    mirrors: dict[str, Any] = {host: _without_root_slash(entry)
                               for host, entry in document.get("mirrors", {}).items()}
    if k3s.embedded_registry_mirror.enabled:
        for registry in k3s.embedded_registry_mirror.registries:
            mirrors.setdefault(registry, {})
    if mirrors:
        document["mirrors"] = mirrors
    return document


def registries_yaml(k3s: K3sConfig) -> str:
    return yaml_text.dump(render_registries(k3s), sort_keys=True)


def _without_root_slash(entry: dict[str, Any]) -> dict[str, Any]:
    # pydantic normalises "https://mirror.example" to "https://mirror.example/"; write the URL as
    # users write it (k3s appends the registry API path to the endpoint's own path).
    endpoints = [url[:-1] if url.endswith("/") and url.count("/") == 3 else url
                 for url in entry.get("endpoint", [])]
    return entry | ({"endpoint": endpoints} if endpoints else {})
