"""The cluster's kubeconfig, built from the admin kubeconfig k3s writes on the first server.

k3s writes ``/etc/rancher/k3s/k3s.yaml`` pointing at ``https://127.0.0.1:6443``. The bootstrap
keeps its credentials and CA, and points it where users can reach the API:

- with an API load balancer: one context, server = the load balancer;
- without: one context per control-plane node, first server current (as hetzner-k3s 2.x does), so
  a dead node is one ``kubectl config use-context`` away instead of a broken kubeconfig.

A failed ``cluster-init`` can leave k3s.yaml empty; such a file is refused
loudly here, so an empty kubeconfig is never saved into the stack.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import yaml

from components import yaml_text
from upstream.k3s import API_PORT


class KubeconfigError(pulumi.RunError):
    """The admin kubeconfig read from the first server is unusable."""


@dataclass(frozen=True)
class AdminCredentials:
    certificate_authority_data: str
    user: dict[str, Any]
    """The ``user`` mapping (client certificate and key, or a token)."""


@dataclass(frozen=True)
class ApiServer:
    """One way to reach the API: a context name and an address."""

    name: str
    address: str


def parse_admin_kubeconfig(text: str, source: str) -> AdminCredentials:
    """Validate k3s.yaml as read from ``source``; raise :class:`KubeconfigError` if unusable."""
    fix = (f"Fix: on {source} check `systemctl status k3s` and `journalctl -u k3s`; once k3s "
           "is healthy run `pulumi up` again (the kubeconfig is re-read).")
    try:
        document = yaml.safe_load(text) if text and text.strip() else None
    except yaml.YAMLError as error:
        raise KubeconfigError(f"k3s.yaml on {source} is not YAML ({error}). {fix}") from None
    if not isinstance(document, dict) or not document:
        raise KubeconfigError(f"k3s.yaml on {source} is empty; refusing to save an empty "
                              f"kubeconfig. {fix}")
    try:
        cluster = document["clusters"][0]["cluster"]
        user = document["users"][0]["user"]
        ca_data = cluster["certificate-authority-data"]
    except (KeyError, IndexError, TypeError):
        raise KubeconfigError(f"k3s.yaml on {source} has no cluster CA or user; it is not an "
                              f"admin kubeconfig. {fix}") from None
    has_client_cert = user.get("client-certificate-data") and user.get("client-key-data")
    if not ca_data or not (has_client_cert or user.get("token")):
        raise KubeconfigError(f"k3s.yaml on {source} has empty credentials. {fix}")
    return AdminCredentials(certificate_authority_data=ca_data, user=dict(user))


def render_kubeconfig(credentials: AdminCredentials, cluster_name: str,
                      servers: Sequence[ApiServer]) -> str:
    """A kubeconfig with one context per entry of ``servers``; the first is current."""
    if not servers:
        raise ValueError("a kubeconfig needs at least one API server")
    user_name = f"{cluster_name}-admin"
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": server.name, "cluster": {
            "certificate-authority-data": credentials.certificate_authority_data,
            "server": f"https://{server.address}:{API_PORT}"}} for server in servers],
        "users": [{"name": user_name, "user": credentials.user}],
        "contexts": [{"name": server.name, "context": {"cluster": server.name,
                                                        "user": user_name}}
                     for server in servers],
        "current-context": servers[0].name,
        "preferences": {},
    }
    return yaml_text.dump(document)


def with_api_server(text: str, server_url: str) -> str:
    """The same kubeconfig with every cluster's ``server`` replaced by ``server_url``.

    For the Pulumi Kubernetes provider when the machine running ``pulumi`` reaches the API
    through a tunnel (``access.kubernetesApiServer``); the exported kubeconfig keeps the real
    addresses.
    """
    document = yaml.safe_load(text)
    for cluster in document["clusters"]:
        cluster["cluster"]["server"] = server_url
    return yaml_text.dump(document)
