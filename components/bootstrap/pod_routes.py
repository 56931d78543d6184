"""The kernel routes every k3s node needs to the pod ranges: ``<range> via <network gateway>``.

Cilium routes natively and hcloud-ccm's route controller points each node's pod /24 at that
node in the Hetzner network, but Hetzner's DHCP only routes the network's own range via the
gateway; the pod range is deliberately outside it, so the node must send it to the gateway
itself (``scripts/pod-route.sh``; docs/infrastructure.md, "Routes to the pod ranges").

Pure: no Pulumi. The same inputs feed the SSH bootstrap (``<node>-pod-route``) and the
autoscaler's join user data, so the two cannot drift.
"""

from __future__ import annotations

from stack_config import ClusterSpec

SCRIPT = "pod-route.sh"


def pod_route_env(spec: ClusterSpec) -> dict[str, str]:
    """``pod-route.sh``'s inputs: this cluster's pod range and the network's gateway."""
    return {"POD_ROUTES": str(spec.k3s.cluster_cidr),
            "NETWORK_GATEWAY": spec.address_plan.gateway}
