"""Cilium values the chart and agent accept that still break k3s nodes on a Hetzner network.

One implementation, two callers: the config validator (``stack_config``) refuses them in a stack,
the policy pack (``policies.rules``) in any registered Cilium release.
"""

from __future__ import annotations

from upstream.cilium_helm_values import ChartFinding, HelmValues, helm_string, whole_number
from upstream.k3s import API_PROXY_HOST, API_PROXY_PORT

# Names a node resolves to itself (the agent runs with hostNetwork).
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
# The IPAM mode whose pod addresses come from each node's Kubernetes PodCIDR.
NODE_POD_CIDR_IPAM = "kubernetes"


def k3s_api_findings(v: HelmValues) -> list[ChartFinding]:
    """The agent dials ``k8sServiceHost:k8sServicePort`` itself (with kube-proxy gone, always).
    On the loopback only k3s's per-node API load balancer listens on every node; the API
    server's own port is served only on servers, so Cilium on workers would never become ready.
    """
    host = helm_string(v.get("k8sServiceHost"))
    number = whole_number(v.get("k8sServicePort"))
    port = str(number) if number is not None else helm_string(v.get("k8sServicePort"))
    if host not in LOOPBACK_HOSTS or port == str(API_PROXY_PORT):
        return []
    return [ChartFinding(
        "k8sServicePort", f"{port or 'no port'} on {host}: on k3s worker nodes nothing serves "
        f"the API there; k3s's per-node API load balancer listens on {API_PROXY_PORT}.",
        f"remove k8sServiceHost/k8sServicePort (k3s-hcloud sets "
        f"{API_PROXY_HOST}:{API_PROXY_PORT}), or point them at an address that "
        "serves the API from every node.", "reject")]


def native_routing_ipam_findings(v: HelmValues) -> list[ChartFinding]:
    """Hetzner networks are routed (L3): with native routing, pod traffic between nodes follows
    the network routes hcloud-ccm's route controller creates for each node's Kubernetes PodCIDR
    (``spec.podCIDR``, handed out by k3s from its cluster-cidr). Only ``ipam.mode: kubernetes``
    takes pod addresses from those ranges; cluster-pool (the chart default), multi-pool and the
    cloud IPAMs hand out addresses no route leads to, so pods on different nodes cannot talk.
    With tunnel routing the encapsulated traffic travels between node addresses: any mode works.

    Ref: hcloud-cloud-controller-manager docs/explanation (routes per node PodCIDR);
    Cilium docs network/concepts/ipam/kubernetes.rst
    """
    mode = helm_string(v.get("ipam.mode"))
    if v.routing_mode != "native" or mode == NODE_POD_CIDR_IPAM:
        return []
    return [ChartFinding(
        "ipam.mode", f"'{mode}' hands out pod addresses that no Hetzner network route leads to: "
        "with native routing, hcloud-ccm routes only each node's Kubernetes PodCIDR.",
        f"use ipam.mode: {NODE_POD_CIDR_IPAM} (k3s-hcloud's default), or routingMode: tunnel.",
        "reject")]
