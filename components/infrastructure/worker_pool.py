"""WorkerPool: one named pool of identical k3s agents.

Node n (1-based) is ``<name>-<n>`` at the address plan's address n of the pool's block, in spread
group ceil(n / 10). Identity is the pool's name plus the index, never a list position: adding a
pool, removing another or growing this one leaves every existing node's inputs as they were.
Architecture follows the server type (cax = arm64; the image name resolves to the matching build).

Creates:
- ``hcloud.PlacementGroup`` ``<name>-pg-<g>`` (spread, at most 10 servers each);
- per node: ``tls.PrivateKey`` ``<name>-<n>-host-key`` and ``hcloud.Server`` ``<name>-<n>``;
- with ``autoscaling``, when the autoscaler's share fits one spread group:
  ``hcloud.PlacementGroup`` ``<name>-pg-autoscaled`` for the servers the autoscaler creates.
"""

from __future__ import annotations

import pulumi
import pulumi_hcloud as hcloud

from components.handles import NodeHandle
from components.infrastructure.k3s_node import (
    NodeEnvironment,
    NodeRequest,
    create_node,
    create_placement_groups,
    taint_text,
)
from cluster_plan.placement import split_pool
from stack_config import ClusterSpec
from stack_config.autoscaling import (
    NODE_GROUP_PLACEMENT_LABEL,
    autoscaled_share,
    node_group_name,
    spreads_autoscaled_nodes,
)
from stack_config.nodes import WorkerPoolConfig


class WorkerPool(pulumi.ComponentResource):
    nodes: list[NodeHandle]
    autoscaler_placement_group: hcloud.PlacementGroup | None

    def __init__(self, name: str, spec: ClusterSpec, pool: WorkerPoolConfig,
                 environment: NodeEnvironment, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("k3s-hcloud:infrastructure:WorkerPool", name, {"pool": pool.name}, opts)
        plan = spec.address_plan
        labels = {"cluster": spec.cluster_name, "pool": pool.name}
        groups = create_placement_groups(name, split_pool(pool.count), labels, parent=self)
        taints = [taint_text(taint) for taint in pool.taints]
        self.nodes = [
            create_node(environment, NodeRequest(
                key=f"{name}-{index}", role="agent", pool=pool.name,
                server_type=pool.server_type, image=pool.image,
                location=spec.pool_location(pool), private_ip=plan.worker(pool.name, index),
                placement_group_id=groups[index], labels=dict(pool.labels), taints=taints),
                parent=self)
            for index in range(1, pool.count + 1)]
        # The autoscaler's servers of this pool get one spread group of their own when the
        # provider can use it (stack_config/autoscaling.py); Pulumi's groups never take them.
        self.autoscaler_placement_group = None
        if pool.autoscaling and spreads_autoscaled_nodes(
                autoscaled_share(pool.count, pool.autoscaling.max)):
            group_name = f"{name}-pg-autoscaled"
            self.autoscaler_placement_group = hcloud.PlacementGroup(
                group_name, name=group_name, type="spread",
                labels={**labels, NODE_GROUP_PLACEMENT_LABEL: node_group_name(
                    spec.cluster_name, pool.name)},
                opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({"nodes": [node.key for node in self.nodes],
                               "addressRange": str(plan.pool_range(pool.name))})
