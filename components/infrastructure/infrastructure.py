"""HetznerInfrastructure: every Hetzner Cloud resource of one cluster, and the handles for the bootstrap.

Every child inherits the explicit hcloud provider given here (never ambient credentials).

Creates, as child components (each file lists its own resources):
- ``PrivateNetwork`` ``<name>-network``: network (or another stack's) + cloud subnet;
- ``SshKeys`` ``<name>-ssh``: the root login keys (given, existing or generated);
- ``Firewalls`` ``<name>-firewall``: one firewall per kind of server with a public interface;
- ``Bastion`` ``<name>-bastion`` when ``bastion.enabled`` (NAT + egress route in private mode);
- ``ControlPlane`` ``<name>-cp`` (with the optional ``ApiLoadBalancer``);
- ``WorkerPool`` ``<name>-<pool>`` per worker pool (with the spread group of its autoscaled part).

Exposes the contract of ``components.handles``: ``nodes`` (control-plane servers first, then each
pool's nodes in config order), ``ssh``, ``api``, ``network_id`` (with ``network_facts``, what
stacks joining the network read) and ``ready``.
"""

from __future__ import annotations

from collections.abc import Callable

import pulumi
import pulumi_hcloud as hcloud

from components.handles import ApiEndpoint, AutoscalingTargets, JumpHost, NodeHandle, SshAccess
from components.infrastructure.bastion import Bastion
from components.infrastructure.cloud_init import PrivateEgress
from components.infrastructure.control_plane import ControlPlane
from components.infrastructure.firewall import Firewalls
from cluster_plan.firewall_rules import AccessPolicy
from components.infrastructure.k3s_node import NodeEnvironment, ServerChangeGuard
from components.infrastructure.network import PrivateNetwork
from components.infrastructure.server import ServerAttachments
from components.infrastructure.ssh_keys import SshKeys
from components.infrastructure.worker_pool import WorkerPool
from stack_config import ClusterSpec
from stack_config.autoscaling import node_group_name
from upstream.hetzner import RECURSIVE_RESOLVERS

SSH_USER = "root"


def access_policy(spec: ClusterSpec) -> AccessPolicy:
    access = spec.access
    return AccessPolicy(
        ssh_sources=tuple(str(cidr) for cidr in access.ssh_allowed_cidrs),
        api_sources=tuple(str(cidr) for cidr in access.api_allowed_cidrs),
        icmp_sources=tuple(str(cidr) for cidr in access.icmp_allowed_cidrs),
        private_only=spec.network.private_only, bastion=spec.bastion.enabled)


class HetznerInfrastructure(pulumi.ComponentResource):
    nodes: list[NodeHandle]
    ssh: SshAccess
    api: ApiEndpoint
    network_id: pulumi.Output[int]
    """The Hetzner network the servers join (this stack's, or the one ``network.existing``
    names)."""
    network_facts: pulumi.Output[dict[str, str]]
    """This stack's ``network`` output (``cluster_plan.shared_network.NetworkFacts``)."""
    ready: list[pulumi.Resource]
    """What every node's bootstrap must wait for: the subnet, in private mode the bastion and its
    0.0.0.0/0 route, and the API LB's parts. Each node's steps wait for their own server
    themselves (listing every server here would tie each node to all the others)."""
    bastion: Bastion | None
    autoscaling: AutoscalingTargets | None
    """What the cluster-autoscaler's servers join; None without autoscaled pools."""

    def __init__(self, name: str, spec: ClusterSpec, provider: hcloud.Provider,
                 change_guard: Callable[[SshAccess], ServerChangeGuard] | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        """``change_guard``: builds the steps around each server's update from the SSH access
        (set while an in-place server-type change is acknowledged)."""
        super().__init__("k3s-hcloud:infrastructure:HetznerInfrastructure", name,
                         {"privateOnly": spec.network.private_only},
                         pulumi.ResourceOptions.merge(opts,
                                                      pulumi.ResourceOptions(providers=[provider])))
        child = pulumi.ResourceOptions(parent=self)
        labels = {"cluster": spec.cluster_name}
        plan = spec.address_plan
        private_only = spec.network.private_only

        network = PrivateNetwork(f"{name}-network", spec, labels, opts=child)
        keys = SshKeys(f"{name}-ssh", spec.access, labels, opts=child)
        firewalls = Firewalls(f"{name}-firewall", access_policy(spec), labels, opts=child)

        self.bastion = None
        if spec.bastion.enabled:
            self.bastion = Bastion(f"{name}-bastion", spec, ServerAttachments(
                network_id=network.network_id, subnet=network.subnet, ssh_key_ids=keys.ids,
                firewall_ids=[firewalls.ids["bastion"]]), opts=child)

        self.ssh = SshAccess(user=SSH_USER, private_key=keys.private_key,
                             jump_host=self._jump_host(private_only))
        environment = NodeEnvironment(
            cluster=spec.cluster_name, network_id=network.network_id, subnet=network.subnet,
            ssh_key_ids=keys.ids,
            firewall_ids=[] if private_only else [firewalls.ids["nodes"]],
            egress=PrivateEgress(plan.gateway, RECURSIVE_RESOLVERS) if private_only else None,
            change_guard=change_guard(self.ssh) if change_guard is not None else None)
        control_plane = ControlPlane(f"{name}-cp", spec, environment, network.subnet, opts=child)
        pools = [WorkerPool(f"{name}-{pool.name}", spec, pool, environment, opts=child)
                 for pool in spec.worker_pools]

        self.network_id = network.network_id
        self.network_facts = network.facts
        self.autoscaling = self._autoscaling_targets(spec, network, keys, firewalls, pools)
        self.nodes = control_plane.nodes + [node for pool in pools for node in pool.nodes]
        self.api = self._api_endpoint(control_plane)
        self.ready = self._shared_prerequisites(network, control_plane)
        self.register_outputs({
            "networkId": self.network_id,
            "nodes": [node.key for node in self.nodes],
            "joinAddress": self.api.join_address,
            "loadBalanced": self.api.load_balanced,
        })

    def _shared_prerequisites(self, network: PrivateNetwork,
                              control_plane: ControlPlane) -> list[pulumi.Resource]:
        # Shared prerequisites only: each node's own steps already wait for its own server, and
        # listing every server here would tie every node's steps to every other server (adding
        # a worker would touch all of them).
        ready: list[pulumi.Resource] = [network.subnet]
        if self.bastion is not None:
            ready.append(self.bastion.server)
            if self.bastion.egress_route is not None:
                ready.append(self.bastion.egress_route)
        if control_plane.load_balancer is not None:
            ready += control_plane.load_balancer.ready
        return ready

    @staticmethod
    def _autoscaling_targets(spec: ClusterSpec, network: PrivateNetwork, keys: SshKeys,
                             firewalls: Firewalls,
                             pools: list[WorkerPool]) -> AutoscalingTargets | None:
        if not any(pool.autoscaling for pool in spec.worker_pools):
            return None
        private_only = spec.network.private_only
        groups = {node_group_name(spec.cluster_name, config.name):
                  pool.autoscaler_placement_group.id.apply(int)
                  for config, pool in zip(spec.worker_pools, pools, strict=True)
                  if pool.autoscaler_placement_group is not None}
        return AutoscalingTargets(
            network_id=network.network_id, ssh_key_id=keys.ids[0],
            firewall_id=None if private_only else firewalls.ids["nodes"],
            placement_group_ids=groups, private_only=private_only,
            network_gateway=spec.address_plan.gateway)

    def _jump_host(self, private_only: bool) -> JumpHost | None:
        if not private_only or self.bastion is None:
            return None
        return JumpHost(public_ipv4=self.bastion.public_ipv4,
                        host_public_key=self.bastion.host_public_key)

    @staticmethod
    def _api_endpoint(control_plane: ControlPlane) -> ApiEndpoint:
        lb = control_plane.load_balancer
        if lb is None:
            return ApiEndpoint(servers=control_plane.nodes)
        return ApiEndpoint(servers=control_plane.nodes, load_balancer_ip=lb.private_ip,
                           load_balancer_public_ipv4=lb.public_ipv4, open_service=lb.serve)
