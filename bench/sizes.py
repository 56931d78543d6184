"""Synthetic stack configs of a given size for the benchmarks (private network, HA control plane)."""

from __future__ import annotations

from typing import Any

CONTROL_PLANES = 3


def private_cluster(workers: int, pools: int = 1) -> dict[str, Any]:
    """A private-only cluster: bastion, 3 control planes, ``workers`` spread over ``pools`` pools."""
    per_pool, extra = divmod(workers, pools)
    worker_pools = [
        {"name": f"pool{index}", "count": per_pool + (1 if index < extra else 0), "serverType": "cx33"}
        for index in range(pools)
    ]
    return {
        "k3s-hcloud:clusterName": "bench",
        "k3s-hcloud:location": "fsn1",
        "k3s-hcloud:network": {"cidr": "10.0.0.0/16", "privateOnly": True},
        "k3s-hcloud:bastion": {"enabled": True},
        "k3s-hcloud:access": {"sshAllowedCidrs": ["198.51.100.0/24"]},
        "k3s-hcloud:controlPlane": {"count": CONTROL_PLANES, "loadBalancer": {"enabled": True}},
        "k3s-hcloud:workerPools": [p for p in worker_pools if p["count"] > 0],
    }


def nodes_to_workers(nodes: int) -> int:
    """Servers in the cluster (bastion + control planes + workers) → workers (at least one).

    Counting the bastion keeps "100 nodes" inside the ~100 servers one network can attach.
    """
    return max(nodes - CONTROL_PLANES - 1, 1)
