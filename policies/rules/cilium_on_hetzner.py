"""Cilium settings that clash with a Hetzner Cloud network in the same stack.

Hetzner Cloud networks are routed (L3): a server ARPs only for the subnet gateway, never for
another server, and node-to-node traffic goes through the gateway
(https://docs.hetzner.com/cloud/networks/faq/). So
direct node routes and L2 announcements cannot do their job there, and a pod range that overlaps
the network's range hides servers behind pods.

Rules that also need the k3s config (the native routing CIDR against k3s's cluster-cidr, k3s
ranges against the network) are in ``policies/rules/k3s_cilium.py``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network, ip_network

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from policies.rules.cilium_release import IN_THIS_PROJECT, cilium_releases
from policies.rules.types import HCLOUD_NETWORK
from upstream.cilium_chart import cluster_pool_ipv4_ranges
from upstream.cilium_on_hetzner import native_routing_ipam_findings

_HETZNER_NETWORKS = "https://docs.hetzner.com/cloud/networks/faq/"


@dataclass(frozen=True)
class HetznerNetwork:
    name: str
    urn: str
    ip_range: IPv4Network | IPv6Network | None
    """None when the registered ``ipRange`` is not a CIDR (the provider refuses it)."""


def hetzner_networks(resources: Iterable[PolicyResource]) -> list[HetznerNetwork]:
    return [HetznerNetwork(r.name, r.urn, _cidr(r.props.get("ipRange")))
            for r in resources if r.resource_type == HCLOUD_NETWORK]


def _cidr(text: object) -> IPv4Network | IPv6Network | None:
    try:
        return ip_network(str(text), strict=False) if text else None
    except ValueError:
        return None


def _cluster_pool_overlaps_network(args: StackValidationArgs, report: ReportViolation) -> None:
    networks = [n for n in hetzner_networks(args.resources) if n.ip_range is not None]
    if not networks:
        return
    for release in cilium_releases(args.resources):
        if release.line is None:
            continue
        pools = cluster_pool_ipv4_ranges(release.values, release.line)
        for pool in [p for p in map(_cidr, pools or []) if p is not None]:
            for network in networks:
                assert network.ip_range is not None
                if pool.version == network.ip_range.version and pool.overlaps(network.ip_range):
                    report(f"{release.label} uses cluster-pool IPAM with pod range {pool}, which "
                           f"overlaps Hetzner network '{network.name}' ({network.ip_range}): pods "
                           "would take addresses of the nodes' network and traffic to those "
                           "servers would be routed to pods. Fix: set ipam.mode: kubernetes and "
                           "k8s.requireIPv4PodCIDR: true (pod CIDRs from k3s, routed by "
                           "hcloud-ccm), or set ipam.operator.clusterPoolIPv4PodCIDRList to a "
                           f"range outside {network.ip_range}.", release.urn)


cluster_pool_overlaps_network = StackValidationPolicy(
    name="cilium-cluster-pool-outside-hetzner-network",
    description="Cilium's cluster-pool IPAM range (chart default 10.0.0.0/8) does not overlap "
                "the Hetzner network's range.",
    validate=_cluster_pool_overlaps_network,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation_steps="On Hetzner, use ipam.mode: kubernetes with k8s.requireIPv4PodCIDR: true "
                      f"(k3s-hcloud's default). {IN_THIS_PROJECT}",
    url="https://docs.cilium.io/en/stable/network/concepts/ipam/cluster-pool/")


def _native_routing_uses_node_pod_cidrs(args: StackValidationArgs,
                                        report: ReportViolation) -> None:
    if not hetzner_networks(args.resources):
        return
    for release in cilium_releases(args.resources):
        if release.line is None:
            continue
        for finding in native_routing_ipam_findings(release.helm_values):
            report(release.describe(finding), release.urn)


native_routing_uses_node_pod_cidrs = StackValidationPolicy(
    name="cilium-native-routing-uses-node-pod-cidrs",
    description="With native routing on a Hetzner network, Cilium takes pod addresses from each "
                "node's Kubernetes PodCIDR (ipam.mode: kubernetes), the ranges hcloud-ccm routes.",
    validate=_native_routing_uses_node_pod_cidrs,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation_steps="Use ipam.mode: kubernetes with k8s.requireIPv4PodCIDR: true (k3s-hcloud's "
                      f"default), or routingMode: tunnel. {IN_THIS_PROJECT}",
    url="https://docs.cilium.io/en/stable/network/concepts/ipam/kubernetes/")


def _direct_routes_on_hetzner(args: StackValidationArgs, report: ReportViolation) -> None:
    networks = hetzner_networks(args.resources)
    if not networks:
        return
    names = ", ".join(f"'{n.name}'" for n in networks)
    for release in cilium_releases(args.resources):
        if release.line is None:
            continue
        values = release.helm_values
        # With tunnel routing the mandatory cilium-direct-routes-need-native-routing reports it.
        if values.on("autoDirectNodeRoutes") and not values.tunnels:
            report(f"{release.label} turns on autoDirectNodeRoutes, but its nodes are on Hetzner "
                   f"network {names}, which is routed (servers reach each other only through "
                   "the gateway), so direct node routes have no effect or are refused as not "
                   "directly reachable. Fix: turn autoDirectNodeRoutes off and let hcloud-ccm "
                   "route pod CIDRs in the network (networking.enabled).", release.urn)


direct_routes_on_hetzner = StackValidationPolicy(
    name="cilium-direct-routes-on-hetzner-network",
    description="autoDirectNodeRoutes assumes nodes share one L2 segment; a Hetzner Cloud "
                "network is L3-routed, so it has no effect there.",
    validate=_direct_routes_on_hetzner,
    enforcement_level=EnforcementLevel.ADVISORY,
    severity=Severity.LOW,
    remediation_steps="Keep autoDirectNodeRoutes off on Hetzner Cloud networks; use hcloud-ccm's "
                      "route controller (addons.ccm in k3s-hcloud) for native routing.",
    url=_HETZNER_NETWORKS)


def _l2_announcements_on_hetzner(args: StackValidationArgs, report: ReportViolation) -> None:
    networks = hetzner_networks(args.resources)
    if not networks:
        return
    names = ", ".join(f"'{n.name}'" for n in networks)
    for release in cilium_releases(args.resources):
        if release.line is not None and release.helm_values.on("l2announcements.enabled"):
            report(f"{release.label} turns on L2 announcements, but its nodes are on Hetzner "
                   f"network {names}, which is routed: servers ARP only for the gateway, so no "
                   "one will ask for the announced Service addresses. Fix: use hcloud-ccm load "
                   "balancers for LoadBalancer Services; keep L2 announcements for vSwitch or "
                   "on-prem L2 segments the nodes share.", release.urn)


l2_announcements_on_hetzner = StackValidationPolicy(
    name="cilium-l2-announcements-on-hetzner-network",
    description="L2 announcements answer ARP on a shared L2 segment; a Hetzner Cloud network is "
                "L3-routed, so they cannot reach clients there.",
    validate=_l2_announcements_on_hetzner,
    enforcement_level=EnforcementLevel.ADVISORY,
    severity=Severity.LOW,
    remediation_steps="Use hcloud-ccm load balancers on Hetzner Cloud networks.",
    url=_HETZNER_NETWORKS)

POLICIES = [cluster_pool_overlaps_network, native_routing_uses_node_pod_cidrs,
            direct_routes_on_hetzner, l2_announcements_on_hetzner]
