"""ControlPlane: the k3s servers, spread over placement groups and locations, and the API LB.

Server n (1-based) is ``<name>-<n>``: its location is ``controlPlane.locations`` round-robin, its
private IP the address plan's control-plane address n, its spread group ``placement.py``'s. Adding
a server never changes an existing one. ``controlPlane.protect`` turns on Hetzner delete and
rebuild protection and Pulumi's ``protect``.

Creates:
- ``hcloud.PlacementGroup`` ``<name>-pg-<location>-<g>`` (spread, at most 10 servers each);
- per server: ``tls.PrivateKey`` ``<name>-<n>-host-key`` and ``hcloud.Server`` ``<name>-<n>``;
- ``ApiLoadBalancer`` ``<name>-api`` when ``controlPlane.loadBalancer.enabled``.
"""

from __future__ import annotations

import pulumi

from components.handles import NodeHandle
from components.infrastructure.api_load_balancer import ApiLoadBalancer
from components.infrastructure.k3s_node import (
    NodeEnvironment,
    NodeRequest,
    create_node,
    create_placement_groups,
)
from cluster_plan.placement import control_plane_location, split_control_plane
from stack_config import ClusterSpec

POOL = "control-plane"


class ControlPlane(pulumi.ComponentResource):
    nodes: list[NodeHandle]
    load_balancer: ApiLoadBalancer | None

    def __init__(self, name: str, spec: ClusterSpec, environment: NodeEnvironment,
                 subnet: pulumi.Resource, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("k3s-hcloud:infrastructure:ControlPlane", name, {}, opts)
        config = spec.control_plane
        plan = spec.address_plan
        locations = spec.control_plane_locations
        labels = {"cluster": spec.cluster_name, "pool": POOL}
        groups = create_placement_groups(name, split_control_plane(config.count, locations),
                                         labels, parent=self)
        self.nodes = [
            create_node(environment, NodeRequest(
                key=f"{name}-{index}", role="server", pool=POOL,
                server_type=config.server_type, image=config.image,
                location=control_plane_location(index, locations),
                private_ip=plan.control_plane(index), placement_group_id=groups[index],
                labels={}, taints=[], protect=config.protect), parent=self)
            for index in range(1, config.count + 1)]

        self.load_balancer = None
        if config.load_balancer.enabled:
            self.load_balancer = ApiLoadBalancer(
                f"{name}-api", load_balancer_type=config.load_balancer.type,
                location=locations[0], public=config.load_balancer.public_interface,
                private_ip=plan.api_load_balancer, network_id=environment.network_id,
                subnet=subnet, servers=self.nodes, labels={"cluster": spec.cluster_name},
                opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({"servers": [node.key for node in self.nodes],
                               "privateIps": [node.private_ip for node in self.nodes]})
