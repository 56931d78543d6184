"""k3s nodes as the policies see them: from this program's ``K3sNode`` components, or from any
remote command that installs k3s by hand.

The program registers each node's whole ``config.yaml`` (``k3sConfig``) and its pinned release
(``k3sVersion``) as plain props of a ``k3s-hcloud:bootstrap:K3sNode`` component
(docs/contracts.md). A hand-written ``command:remote:Command`` that runs the k3s installer is read
from its text: the release tag it pins and the ``--flags`` it passes, plus its ``stdin`` when that
is a k3s config file. Commands under a ``K3sNode`` are covered by the node and skipped.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml
from pulumi_policy import PolicyResource

from policies.rules.types import K3S_NODE, REMOTE_COMMAND
from upstream.k3s import flag_name

_RELEASE_TAG = re.compile(r"v\d+\.\d+\.\d+\+k3s\d+")
_INSTALLS_K3S = re.compile(r"get\.k3s\.io|INSTALL_K3S_|K3S_VERSION=|\bk3s (server|agent)\b")
# Keys that only a k3s config.yaml has; a stdin document with one of them is read as one.
_K3S_KEYS = {"cluster-init", "flannel-backend", "disable-kube-proxy", "embedded-registry",
             "cluster-cidr", "token-file", "node-ip"}


@dataclass(frozen=True)
class K3sNode:
    name: str
    urn: str
    role: str
    """``server``, ``agent`` or ``unknown`` (a hand-written command that does not say)."""
    version: str | None
    config: Mapping[str, Any] = field(default_factory=dict)
    """config.yaml keys (flag names without ``--``); absent = k3s's default."""

    def flag(self, key: str) -> Any:
        """The value of flag ``key``, however config.yaml spells it: under its name, a short
        alias (``t`` for ``token``) or the append form (``tls-san+``), as k3s reads it."""
        if key in self.config:
            return self.config[key]
        return next((value for written, value in self.config.items()
                     if flag_name(str(written)) == key), None)


def k3s_nodes(resources: Iterable[PolicyResource]) -> list[K3sNode]:
    resources = list(resources)
    nodes = [_from_component(r) for r in resources if r.resource_type == K3S_NODE]
    covered = {r.urn for r in resources if r.resource_type == K3S_NODE}
    for resource in resources:
        if resource.resource_type != REMOTE_COMMAND:
            continue
        if resource.parent is not None and resource.parent.urn in covered:
            continue
        node = _from_command(resource)
        if node is not None:
            nodes.append(node)
    return nodes


def _from_component(resource: PolicyResource) -> K3sNode:
    props = resource.props
    config = props.get("k3sConfig")
    return K3sNode(resource.name, resource.urn, str(props.get("role") or "unknown"),
                   props.get("k3sVersion"), config if isinstance(config, Mapping) else {})


def _from_command(resource: PolicyResource) -> K3sNode | None:
    text = " ".join(str(resource.props.get(key) or "") for key in ("create", "update"))
    if not _INSTALLS_K3S.search(text):
        return None
    version = _RELEASE_TAG.search(text)
    config = dict(_flags(text))
    stdin = resource.props.get("stdin")
    if isinstance(stdin, str):
        config.update(_config_document(stdin))
    role = ("agent" if re.search(r"\bagent\b|K3S_URL=", text) and "cluster-init" not in config
            else "server" if re.search(r"\bserver\b|cluster-init", text) else "unknown")
    return K3sNode(resource.name, resource.urn, role, version.group(0) if version else None,
                   config)


def _flags(text: str) -> Iterable[tuple[str, Any]]:
    try:
        words = shlex.split(text)
    except ValueError:
        words = text.split()
    for word in words:
        for part in word.split():  # INSTALL_K3S_EXEC="--a --b" arrives as one word
            part = part.split("=", 1)[-1] if part.startswith("INSTALL_K3S_EXEC=") else part
            if part.startswith("--") and len(part) > 2:
                key, _, value = part[2:].partition("=")
                yield key, value or True


def _config_document(text: str) -> Mapping[str, Any]:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError:
        return {}
    if isinstance(document, dict) and _K3S_KEYS & set(document):
        return document
    return {}
