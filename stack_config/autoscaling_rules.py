"""Rules for autoscaled worker pools that span keys (the config model calls these once).

The per-network server limit and the placement-group limit live with the other limits in
``schema.py``; they count an autoscaled pool at ``autoscaling.max`` through
:attr:`WorkerPoolConfig.max_size` and :func:`autoscaler_placement_groups`.
"""

from __future__ import annotations

from collections.abc import Sequence

from stack_config.autoscaling import (
    AUTO_ASSIGNED_HOSTS,
    MAX_AUTOSCALED_SERVERS,
    MAX_NODE_GROUP_NAME,
    RESERVED_FOR_LOAD_BALANCERS,
    autoscaled_share,
    node_group_name,
    spreads_autoscaled_nodes,
)
from stack_config.errors import KeyedValueError
from stack_config.nodes import WorkerPoolConfig
from upstream.cluster_autoscaler import release_for, supported_minors


def autoscaler_placement_groups(pools: Sequence[WorkerPoolConfig]) -> int:
    """Spread groups the autoscaled node groups add (one per pool whose share fits a group)."""
    return sum(1 for pool in pools if pool.autoscaling
               and spreads_autoscaled_nodes(autoscaled_share(pool.count, pool.autoscaling.max)))


def autoscaling_problems(cluster: str, pools: Sequence[WorkerPoolConfig], *, ccm: bool,
                         kubernetes_minor: tuple[int, int]) -> list[KeyedValueError]:
    problems: list[KeyedValueError] = []
    if any(pool.autoscaling for pool in pools) and release_for(kubernetes_minor) is None:
        minor = ".".join(map(str, kubernetes_minor))
        problems.append(KeyedValueError(
            "k3s.version", f"the cluster-autoscaler has no release for Kubernetes {minor} "
            f"(releases known: {', '.join(supported_minors())}); it must match the cluster's "
            "minor.", "use a k3s release of one of those minors, or remove autoscaling."))
    total_share = 0
    for index, pool in enumerate(pools):
        if pool.autoscaling is None:
            continue
        key = f"workerPools[{index}]"
        if not ccm:
            # The provider finds a node's server by its provider id (hcloud://<server id>), which
            # only hcloud-ccm sets; without it no node ever belongs to a node group.
            problems.append(KeyedValueError(
                f"{key}.autoscaling", "the cluster-autoscaler's Hetzner provider needs "
                "hcloud-ccm (it matches nodes to servers by the provider id the CCM sets), and "
                "addons.ccm.enabled is false.",
                "set addons.ccm.enabled: true, or remove autoscaling from the pool."))
        group = node_group_name(cluster, pool.name)
        if len(group) > MAX_NODE_GROUP_NAME:
            problems.append(KeyedValueError(
                f"{key}.name", f"the node group '{group}' is longer than {MAX_NODE_GROUP_NAME} "
                "characters; the autoscaler appends up to 17 to name servers, and Hetzner "
                "server names stop at 63.",
                "use a shorter pool name (or clusterName)."))
        total_share += autoscaled_share(pool.count, pool.autoscaling.max)
    if total_share > MAX_AUTOSCALED_SERVERS:
        problems.append(KeyedValueError(
            "workerPools", f"autoscaled pools may create {total_share} servers "
            "(autoscaling.max − count, summed); Hetzner gives them addresses from the "
            f"network's first /24, which holds {AUTO_ASSIGNED_HOSTS} and keeps "
            f"{RESERVED_FOR_LOAD_BALANCERS} for load balancers.",
            f"keep the sum at {MAX_AUTOSCALED_SERVERS} or less (raise count or lower "
            "autoscaling.max)."))
    return problems


def autoscaling_advisories(cluster: str, pools: Sequence[WorkerPoolConfig]) -> list[str]:
    notes = []
    for index, pool in enumerate(pools):
        if pool.autoscaling is None:
            continue
        share = autoscaled_share(pool.count, pool.autoscaling.max)
        if share > 0 and not spreads_autoscaled_nodes(share):
            notes.append(
                f"workerPools[{index}].autoscaling: the autoscaler may create {share} servers in "
                f"node group '{node_group_name(cluster, pool.name)}', more than one spread "
                "placement group holds (10); they run without spread. Raise count or lower max "
                "to keep them spread.")
    return notes
