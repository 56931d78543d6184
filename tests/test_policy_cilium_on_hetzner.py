"""Cilium settings against the Hetzner resources of the same stack, and node images.

Stack policies: a compliant baseline, each violation's exact message, missing properties and
unknown values during preview.
"""

from __future__ import annotations

from typing import Any

import pytest
from pulumi_policy import Policy, PolicyResource
from pulumi_policy.proxy import UnknownValueError

from policies.rules.cilium_on_hetzner import (
    cluster_pool_overlaps_network,
    direct_routes_on_hetzner,
    l2_announcements_on_hetzner,
)
from policies.rules.node_images import ubuntu_2204_nodes
from policies.rules.types import HCLOUD_NETWORK, HCLOUD_SERVER, HELM_RELEASE
from tests.policy_fixtures import UNKNOWN, check_stack, stack_resource

PROGRAM_VALUES: dict[str, Any] = {
    "kubeProxyReplacement": True, "routingMode": "native", "ipv4NativeRoutingCIDR": "10.42.0.0/16",
    "ipam": {"mode": "kubernetes"}, "k8s": {"requireIPv4PodCIDR": True},
    "bpf": {"masquerade": True},
}
POLICIES = [cluster_pool_overlaps_network, direct_routes_on_hetzner, l2_announcements_on_hetzner,
            ubuntu_2204_nodes]


def cilium(values: Any = None, version: str = "1.20.0") -> PolicyResource:
    return stack_resource(HELM_RELEASE, {"chart": "cilium", "version": version,
                                         "values": PROGRAM_VALUES if values is None else values},
                          "my-cilium")


def network(ip_range: Any = "10.0.0.0/16") -> PolicyResource:
    return stack_resource(HCLOUD_NETWORK, {"ipRange": ip_range}, "dev-network")


def server(image: Any = "ubuntu-24.04", name: str = "dev-cp-1") -> PolicyResource:
    return stack_resource(HCLOUD_SERVER, {"image": image, "serverType": "cx23"}, name)


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.name)
def test_the_programs_stack_passes(policy: Policy) -> None:
    assert check_stack(policy, [network(), cilium(), server()]) == []


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.name)
@pytest.mark.parametrize("resources", [
    lambda: [stack_resource(HCLOUD_NETWORK, {}, "n"), cilium({}), server()],
    lambda: [network(), cilium({"ipam": {"mode": "cluster-pool"}}, version=""), server()],
    lambda: [network(), cilium(), stack_resource(HCLOUD_SERVER, {}, "s")],
], ids=["network without ipRange", "unpinned release", "server without image"])
def test_missing_properties_are_not_violations(policy: Policy, resources: Any) -> None:
    assert check_stack(policy, resources()) == []


def test_a_release_without_values_gets_the_chart_defaults() -> None:
    # Chart defaults: cluster-pool IPAM from 10.0.0.0/8 (a violation here), no direct routes,
    # no L2 announcements.
    bare = stack_resource(HELM_RELEASE, {"chart": "cilium", "version": "1.20.0"}, "my-cilium")
    [overlap] = check_stack(cluster_pool_overlaps_network, [network(), bare])
    assert "pod range 10.0.0.0/8" in overlap
    for policy in (direct_routes_on_hetzner, l2_announcements_on_hetzner, ubuntu_2204_nodes):
        assert check_stack(policy, [network(), bare, server()]) == []


# -- cluster-pool IPAM ------------------------------------------------------------------------------
def test_chart_default_cluster_pool_overlaps_a_typical_network() -> None:
    assert check_stack(cluster_pool_overlaps_network, [network(), cilium({})]) == [
        "Helm release 'my-cilium' (Cilium 1.20.0) uses cluster-pool IPAM with pod range "
        "10.0.0.0/8, which overlaps Hetzner network 'dev-network' (10.0.0.0/16): pods would take "
        "addresses of the nodes' network and traffic to those servers would be routed to pods. "
        "Fix: set ipam.mode: kubernetes and k8s.requireIPv4PodCIDR: true (pod CIDRs from k3s, "
        "routed by hcloud-ccm), or set ipam.operator.clusterPoolIPv4PodCIDRList to a range "
        "outside 10.0.0.0/16."]


def test_an_explicit_pool_is_compared_range_by_range() -> None:
    pools = {"ipam": {"mode": "cluster-pool", "operator": {
        "clusterPoolIPv4PodCIDRList": ["172.20.0.0/16", "10.4.128.0/17"]}}}
    [message] = check_stack(cluster_pool_overlaps_network, [network("10.4.0.0/16"), cilium(pools)])
    assert "pod range 10.4.128.0/17, which overlaps Hetzner network 'dev-network' (10.4.0.0/16)" \
        in message
    outside = {"ipam": {"mode": "cluster-pool", "operator": {
        "clusterPoolIPv4PodCIDRList": ["172.20.0.0/16"]}}}
    assert check_stack(cluster_pool_overlaps_network, [network(), cilium(outside)]) == []


def test_without_a_hetzner_network_there_is_nothing_to_overlap() -> None:
    assert check_stack(cluster_pool_overlaps_network, [cilium({})]) == []


# -- autoDirectNodeRoutes and L2 announcements on a routed network -----------------------------------
def test_direct_node_routes_on_a_hetzner_network_are_advised_against() -> None:
    values = {**PROGRAM_VALUES, "autoDirectNodeRoutes": True}
    assert check_stack(direct_routes_on_hetzner, [network(), cilium(values)]) == [
        "Helm release 'my-cilium' (Cilium 1.20.0) turns on autoDirectNodeRoutes, but its nodes "
        "are on Hetzner network 'dev-network', which is routed (servers reach each other only "
        "through the gateway), so direct node routes have no effect or are refused as not "
        "directly reachable. Fix: turn autoDirectNodeRoutes off and let hcloud-ccm route pod "
        "CIDRs in the network (networking.enabled)."]
    assert check_stack(direct_routes_on_hetzner, [cilium(values)]) == [], "no Hetzner network"
    tunnel = {**values, "routingMode": "tunnel"}
    assert check_stack(direct_routes_on_hetzner, [network(), cilium(tunnel)]) == [], \
        "tunnel routing: the mandatory cilium-direct-routes-need-native-routing reports it"


def test_l2_announcements_on_a_hetzner_network_are_advised_against() -> None:
    values = {**PROGRAM_VALUES, "l2announcements": {"enabled": True}}
    assert check_stack(l2_announcements_on_hetzner, [network(), cilium(values)]) == [
        "Helm release 'my-cilium' (Cilium 1.20.0) turns on L2 announcements, but its nodes are on "
        "Hetzner network 'dev-network', which is routed: servers ARP only for the gateway, so no "
        "one will ask for the announced Service addresses. Fix: use hcloud-ccm load balancers for "
        "LoadBalancer Services; keep L2 announcements for vSwitch or on-prem L2 segments the "
        "nodes share."]
    assert check_stack(l2_announcements_on_hetzner, [cilium(values)]) == []


def test_the_hetzner_advisories_are_advisory() -> None:
    for policy in (direct_routes_on_hetzner, l2_announcements_on_hetzner, ubuntu_2204_nodes):
        assert policy.enforcement_level is not None
        assert policy.enforcement_level.value == "advisory"
    assert cluster_pool_overlaps_network.enforcement_level.value == "mandatory"  # type: ignore


# -- node images -------------------------------------------------------------------------------------
def test_ubuntu_22_04_nodes_with_cilium_are_advised_against() -> None:
    resources = [cilium(), server("ubuntu-22.04", "dev-cp-1"), server("ubuntu-24.04", "dev-w-1")]
    assert check_stack(ubuntu_2204_nodes, resources) == [
        "Server 'dev-cp-1' runs image 'ubuntu-22.04' in a stack that installs Cilium (Helm "
        "release 'my-cilium'): a k3s restart can drop node networking (systemd-networkd removes "
        "routes Cilium installed). Fix: use ubuntu-24.04 or openSUSE MicroOS for Cilium nodes."]


def test_ubuntu_22_04_without_cilium_is_not_this_packs_concern() -> None:
    assert check_stack(ubuntu_2204_nodes, [server("ubuntu-22.04")]) == []


# -- unknown values during preview --------------------------------------------------------------------
UNKNOWN_CASES: list[tuple[Policy, Any]] = [
    (cluster_pool_overlaps_network, lambda: [network(UNKNOWN), cilium({})]),
    (cluster_pool_overlaps_network, lambda: [network(), cilium({"ipam": {"mode": UNKNOWN}})]),
    (cluster_pool_overlaps_network, lambda: [network(), cilium(
        {"ipam": {"mode": "cluster-pool", "operator": {"clusterPoolIPv4PodCIDRList": UNKNOWN}}})]),
    (direct_routes_on_hetzner, lambda: [network(), cilium({"autoDirectNodeRoutes": UNKNOWN})]),
    (l2_announcements_on_hetzner, lambda: [network(), cilium({"l2announcements": UNKNOWN})]),
    (ubuntu_2204_nodes, lambda: [cilium(), server(UNKNOWN)]),
    (ubuntu_2204_nodes, lambda: [stack_resource(HELM_RELEASE, {"chart": UNKNOWN}, "r"),
                                 server("ubuntu-22.04")]),
]


@pytest.mark.parametrize("policy,resources", UNKNOWN_CASES,
                         ids=[f"{c[0].name}-{i}" for i, c in enumerate(UNKNOWN_CASES)])
def test_unknown_values_raise_during_preview(policy: Policy, resources: Any) -> None:
    with pytest.raises(UnknownValueError):
        check_stack(policy, resources())
