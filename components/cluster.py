"""K3sCluster: the one top-level component of a stack.

Creates, as children:
- the explicit hcloud provider (secret token);
- the Hetzner infrastructure, the k3s bootstrap and the Kubernetes layer, each a component of
  its own, wired through the records in ``components.handles``.
"""

from __future__ import annotations

import pulumi

from components.provider import hcloud_provider
from stack_config import ClusterSpec


class K3sCluster(pulumi.ComponentResource):
    kubeconfig: pulumi.Output[str] | None
    api_endpoint: pulumi.Output[str] | None
    node_addresses: pulumi.Output[dict] | None
    bastion_address: pulumi.Output[str] | None
    ssh_commands: pulumi.Output[dict] | None

    def __init__(self, name: str, spec: ClusterSpec, hcloud_token: pulumi.Output[str],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("k3s-hcloud:index:K3sCluster", name,
                         {"clusterName": spec.cluster_name, "location": spec.location}, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.provider = hcloud_provider(f"{name}-hcloud", hcloud_token, child)

        self.kubeconfig = None
        self.api_endpoint = None
        self.node_addresses = None
        self.bastion_address = None
        self.ssh_commands = None
        self.register_outputs({})
