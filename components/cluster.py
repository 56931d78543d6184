"""K3sCluster: the one top-level component of a stack.

Creates, as children:
- the explicit hcloud provider (secret token);
- the Hetzner infrastructure (``components.infrastructure``), the k3s bootstrap and the
  Kubernetes layer, each a component of its own, wired through the records in
  ``components.handles``.
"""

from __future__ import annotations

import pulumi

from components.infrastructure import access_hints
from components.infrastructure.infrastructure import HetznerInfrastructure
from components.provider import hcloud_provider
from stack_config import ClusterSpec


class K3sCluster(pulumi.ComponentResource):
    kubeconfig: pulumi.Output[str] | None
    api_endpoint: pulumi.Output[str] | None
    node_addresses: pulumi.Output[dict] | None
    bastion_address: pulumi.Output[str] | None
    ssh_commands: pulumi.Output[dict] | None
    ssh_known_hosts: pulumi.Output[str] | None
    ssh_private_key: pulumi.Output[str] | None
    """Secret; only when the program generated the login key."""

    def __init__(self, name: str, spec: ClusterSpec, hcloud_token: pulumi.Output[str],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("k3s-hcloud:index:K3sCluster", name,
                         {"clusterName": spec.cluster_name, "location": spec.location}, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.provider = hcloud_provider(f"{name}-hcloud", hcloud_token, child)
        self.infrastructure = HetznerInfrastructure(name, spec, self.provider, opts=child)
        infra = self.infrastructure

        self.kubeconfig = None
        self.api_endpoint = access_hints.api_endpoint(infra.api, infra.nodes)
        self.node_addresses = access_hints.node_addresses(infra.nodes)
        self.bastion_address = infra.bastion.public_ipv4 if infra.bastion else None
        self.ssh_commands = access_hints.ssh_commands(infra.nodes, infra.ssh)
        self.ssh_known_hosts = access_hints.known_hosts(infra.nodes, infra.ssh)
        self.ssh_private_key = infra.ssh.private_key
        self.register_outputs({
            "apiEndpoint": self.api_endpoint,
            "nodeAddresses": self.node_addresses,
            "bastionAddress": self.bastion_address,
        })
