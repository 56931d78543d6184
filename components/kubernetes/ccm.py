"""hcloud-cloud-controller-manager: node metadata, pod-network routes and Hetzner load balancers.

Creates: the ``hcloud-cloud-controller-manager`` Helm release in kube-system. It reads the Secret
``kube-system/hcloud`` (``components.kubernetes.credentials``), which must exist first.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as kubernetes

from components.kubernetes.helm_release import helm_release
from stack_config import ClusterSpec
from upstream import hetzner

NAMESPACE = "kube-system"
RELEASE_NAME = "hcloud-cloud-controller-manager"
TIMEOUT_SECONDS = 300

# The chart's Deployment tolerates node.kubernetes.io/not-ready only with NoExecute, but a node
# without a CNI carries it with NoSchedule. Cilium needs the node addresses the CCM sets
# (kubelet runs with cloud-provider=external), so the CCM must schedule first; it runs on the
# host network, so it does not need the CNI. The Cilium operator taints nodes whose agent is not
# ready yet; tolerate that too so a rescheduled CCM never waits for Cilium.
# Ref: hcloud-cloud-controller-manager chart/templates/deployment.yaml (tolerations, hostNetwork)
# Ref: kubernetes.io blog 2025-02-14 "cloud controller manager chicken and egg problem"
CNI_BOOTSTRAP_TOLERATIONS = [
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.cilium.io/agent-not-ready", "operator": "Exists", "effect": "NoSchedule"},
]


def ccm_values(spec: ClusterSpec) -> dict[str, Any]:
    """Helm values of the CCM release (names from the chart's values.yaml, CCM_CHART_VERSION)."""
    env: dict[str, Any] = {
        # Defaults for every LoadBalancer Service (annotations still win): an LB needs a location
        # or network zone, and private targets keep node public interfaces out of the path.
        "HCLOUD_LOAD_BALANCERS_LOCATION": {"value": spec.location},
        "HCLOUD_LOAD_BALANCERS_USE_PRIVATE_IP": {"value": "true"},
    }
    if not routes_pod_traffic(spec):
        # Tunnel routing carries pod traffic itself; Hetzner routes for pod CIDRs would only add
        # state (the network is still needed for private LB targets and node addresses).
        env["HCLOUD_NETWORK_ROUTES_ENABLED"] = {"value": "false"}
    return {
        # Turns on HCLOUD_NETWORK (from the Secret) and the route controller, which creates one
        # Hetzner network route per node pod CIDR so Cilium can route natively.
        "networking": {"enabled": True, "clusterCIDR": str(spec.k3s.cluster_cidr)},
        "env": env,
        "additionalTolerations": CNI_BOOTSTRAP_TOLERATIONS,
    }


def routes_pod_traffic(spec: ClusterSpec) -> bool:
    """True when Cilium routes natively, so Hetzner network routes must carry pod CIDRs."""
    return spec.cilium_chart_values.routing_mode == "native"


def install_ccm(name: str, spec: ClusterSpec,
                opts: pulumi.ResourceOptions) -> kubernetes.helm.v3.Release:
    return helm_release(
        f"{name}-ccm",
        release_name=RELEASE_NAME,
        chart=hetzner.CCM_CHART,
        version=spec.addons.ccm.version,
        repository=hetzner.HELM_REPOSITORY,
        namespace=NAMESPACE,
        values=ccm_values(spec),
        timeout_seconds=TIMEOUT_SECONDS,
        opts=opts)
