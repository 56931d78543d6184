"""K3sCluster: the one top-level component of a stack.

Creates, as children, each a component of its own wired through the records in
``components.handles``:
- the explicit hcloud provider (secret token);
- ``HetznerInfrastructure``: network, firewalls, SSH keys, bastion/NAT, servers, API LB;
- ``K3sBootstrap``: k3s installed and joined over SSH, the admin kubeconfig (secret);
- ``KubernetesLayer``: Gateway API CRDs, hcloud CCM, Cilium, Cilium resources, add-ons and the
  cluster-autoscaler, through a Kubernetes provider built from that kubeconfig.
"""

from __future__ import annotations

from collections.abc import Callable

import pulumi

from components.bootstrap import K3sBootstrap
from components.bootstrap.etcd_snapshots import snapshot_hints
from components.bootstrap.k3s_config import join_url
from components.bootstrap import resize
from components.bootstrap.kubeconfig import with_api_server
from components.bootstrap.resize import ResizeGuard
from components.infrastructure import access_hints
from components.infrastructure.infrastructure import HetznerInfrastructure
from components.kubernetes import KubernetesLayer
from components.handles import ApiEndpoint, SshAccess
from components.kubernetes.autoscaler_install import AutoscalerInputs
from components.provider import hcloud_provider
from stack_config import ClusterSpec


class K3sCluster(pulumi.ComponentResource):
    kubeconfig: pulumi.Output[str]
    """Secret admin kubeconfig (API load balancer, or one context per control-plane server)."""
    api_endpoint: pulumi.Output[str]
    node_addresses: pulumi.Output[dict]
    bastion_address: pulumi.Output[str] | None
    ssh_commands: pulumi.Output[dict]
    ssh_known_hosts: pulumi.Output[str]
    ssh_private_key: pulumi.Output[str] | None
    """Secret; only when the program generated the login key."""
    gateway_name: pulumi.Output[str] | None
    cluster_mesh_ca: pulumi.Output[dict] | None
    """Secret; the Cluster Mesh CA when this stack owns it (peers read it)."""
    cluster_mesh_facts: pulumi.Output[dict] | None
    """What Cluster Mesh peers read about this cluster; None when not meshed."""
    network: pulumi.Output[dict]
    """The Hetzner network as other stacks joining it read it (``network.existing``)."""
    etcd_snapshots: pulumi.Output[dict] | None
    """Where etcd snapshots go and the command that lists them; None without embedded etcd."""

    def __init__(self, name: str, spec: ClusterSpec, hcloud_token: pulumi.Output[str],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        # privateOnly is how the policy pack tells a private-only stack; it is an output too,
        # because stack policies in a real preview see outputs.
        described = {"clusterName": spec.cluster_name, "location": spec.location,
                     "privateOnly": spec.network.private_only}
        super().__init__("k3s-hcloud:index:K3sCluster", name, described, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.provider = hcloud_provider(f"{name}-hcloud", hcloud_token, child)
        infra = self.infrastructure = HetznerInfrastructure(
            name, spec, self.provider, change_guard=_resize_guard(spec), opts=child)
        self.bootstrap = K3sBootstrap(name, spec, infra.nodes, infra.ssh, infra.api,
                                      depends_on=infra.ready, opts=child)
        self.kubeconfig = pulumi.Output.secret(self.bootstrap.kubeconfig)
        autoscaler = None
        if infra.autoscaling is not None:
            autoscaler = AutoscalerInputs(
                targets=infra.autoscaling, hcloud_token=hcloud_token,
                join_url=pulumi.Output.from_input(infra.api.join_address).apply(join_url),
                agent_join_token=self.bootstrap.agent_join_token)
        self.kubernetes = KubernetesLayer(
            name, spec, _provider_kubeconfig(self.kubeconfig, spec), hcloud_token,
            infra.network_id, cluster_identity=self.bootstrap.cluster_ca_hash,
            depends_on=layer_waits_for(spec, infra.api, self.bootstrap),
            autoscaler=autoscaler, opts=child)

        self.api_endpoint = access_hints.api_endpoint(infra.api)
        self.node_addresses = access_hints.node_addresses(infra.nodes)
        self.bastion_address = infra.bastion.public_ipv4 if infra.bastion else None
        self.ssh_commands = access_hints.ssh_commands(infra.nodes, infra.ssh)
        self.ssh_known_hosts = access_hints.known_hosts(infra.nodes, infra.ssh)
        self.ssh_private_key = infra.ssh.private_key
        self.gateway_name = self.kubernetes.gateway_name
        mesh = self.kubernetes.cluster_mesh
        self.cluster_mesh_ca = mesh.ca if mesh is not None else None
        self.cluster_mesh_facts = mesh.facts if mesh is not None else None
        self.network = infra.network_facts
        self.etcd_snapshots = snapshot_hints(
            spec, [node.key for node in infra.nodes if node.role == "server"], infra.ssh.user,
            self.ssh_commands)
        self.register_outputs({
            **described,
            "kubeconfig": self.kubeconfig,
            "apiEndpoint": self.api_endpoint,
            "nodeAddresses": self.node_addresses,
            "bastionAddress": self.bastion_address,
            "gatewayName": self.gateway_name,
        })


def layer_waits_for(spec: ClusterSpec, api: ApiEndpoint,
                    bootstrap: K3sBootstrap) -> list[pulumi.Resource]:
    """What the in-cluster layer waits for: the control plane, or only its first server.

    The Kubernetes provider talks to the first server alone (no API load balancer) or to the
    load balancer, which routes only to servers whose apiserver answers ``/readyz`` and takes a
    server out before k3s restarts on it (``cluster_plan/api_readiness.py``). Either way the
    other servers' joins (one etcd learner at a time, the API stays available) and their
    restarts on day 2 (one at a time, quorum kept) never reach the layer's connection, so it
    waits for the first server's steps (its k3s, the kubeconfig read from it, and with a load
    balancer the wait until it routes there) and on a first create runs beside the joins.
    Through an ``access.kubernetesApiServer`` tunnel the program cannot tell which server it
    ends at: every server.
    """
    ready = bootstrap.control_plane_ready
    if spec.access.kubernetes_api_server is not None:
        return ready
    others = [id(step) for server in api.servers[1:]
              for step in (bootstrap.nodes[server.key].uncordon,
                           bootstrap.nodes[server.key].membership) if step is not None]
    return [step for step in ready if id(step) not in others]


def _resize_guard(spec: ClusterSpec) -> Callable[[SshAccess], ResizeGuard] | None:
    """With ``resize-in-place`` acknowledged, each node is drained around its type change."""
    if resize.ACKNOWLEDGEMENT not in spec.acknowledge:
        return None
    slots = {pool.name: pool.max_unavailable for pool in spec.worker_pools}
    return lambda ssh: ResizeGuard(ssh, slots)


def _provider_kubeconfig(kubeconfig: pulumi.Output[str], spec: ClusterSpec) -> pulumi.Output[str]:
    """What the Kubernetes provider uses: the kubeconfig, or it pointed at the configured tunnel."""
    override = spec.access.kubernetes_api_server
    if override is None:
        return kubeconfig
    return kubeconfig.apply(lambda text: with_api_server(text, override))
