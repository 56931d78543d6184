"""Cilium Helm values: computed Hetzner defaults under `cilium.values`, refused before any
resource exists when the chart or the agent would refuse them."""

from __future__ import annotations

from typing import Any

import pytest

from stack_config import validate_cluster_spec
from cluster_plan.cilium_values import deep_merge, needs_generated_hash_seed
from tests.helpers import config_problems, minimal_config


def spec_values(**config: Any) -> dict[str, Any]:
    return validate_cluster_spec({"clusterName": "dev", **config}).cilium_helm_values


def problems(config: dict[str, Any]) -> list[str]:
    return config_problems(minimal_config(**config))


def test_hetzner_defaults_for_a_minimal_stack() -> None:
    assert spec_values() == {
        "kubeProxyReplacement": True,
        "k8sServiceHost": "127.0.0.1",
        "k8sServicePort": 6444,
        "routingMode": "native",
        "ipv4NativeRoutingCIDR": "10.42.0.0/16",
        "ipam": {"mode": "kubernetes"},
        "k8s": {"requireIPv4PodCIDR": True},
        "bpf": {"masquerade": True},
        "MTU": 1450,
        "loadBalancer": {"acceleration": "best-effort"},
        "operator": {"replicas": 1, "rollOutPods": True},
        "rollOutCiliumPods": True,
        "envoy": {"rollOutPods": True},
        "defaultLBServiceIPAM": "none",
    }


def test_native_routing_cidr_follows_the_k3s_cluster_cidr() -> None:
    values = spec_values(k3s={"clusterCidr": "10.96.0.0/16"})
    assert values["ipv4NativeRoutingCIDR"] == "10.96.0.0/16"


@pytest.mark.parametrize("servers,replicas", [(1, 1), (3, 2), (5, 2)])
def test_operator_replicas_follow_the_control_plane(servers: int, replicas: int) -> None:
    assert spec_values(controlPlane={"count": servers})["operator"]["replicas"] == replicas


def test_lb_ipam_steps_aside_only_when_the_ccm_provisions_load_balancers() -> None:
    assert spec_values()["defaultLBServiceIPAM"] == "none"
    # Without the CCM, Cilium must tunnel: the config model refuses native routing then.
    assert "defaultLBServiceIPAM" not in spec_values(
        addons={"ccm": {"enabled": False}},
        cilium={"values": {"routingMode": "tunnel", "tunnelProtocol": "vxlan"}})


def test_gateway_class_is_created_when_gateway_api_is_on() -> None:
    values = spec_values(cilium={"values": {"gatewayAPI": {"enabled": True}}})
    assert values["gatewayAPI"] == {"enabled": True, "gatewayClass": {"create": "true"}}
    assert "gatewayAPI" not in spec_values()


def test_user_values_win_key_by_key_and_keep_sibling_defaults() -> None:
    values = spec_values(cilium={"values": {"loadBalancer": {"acceleration": "native",
                                                              "mode": "dsr"},
                                            "MTU": 1400, "operator": {"replicas": 3}}})
    assert values["loadBalancer"] == {"acceleration": "native", "mode": "dsr"}
    assert values["MTU"] == 1400
    assert values["operator"] == {"replicas": 3, "rollOutPods": True}
    assert values["ipam"] == {"mode": "kubernetes"}


def test_unknown_keys_pass_through() -> None:
    values = spec_values(cilium={"values": {"someFutureOption": {"enabled": True}}})
    assert values["someFutureOption"] == {"enabled": True}


def test_deep_merge_replaces_lists_and_does_not_mutate_inputs() -> None:
    base = {"a": {"b": [1, 2], "c": 1}}
    merged = deep_merge(base, {"a": {"b": [3]}})
    assert merged == {"a": {"b": [3], "c": 1}}
    assert base == {"a": {"b": [1, 2], "c": 1}}


@pytest.mark.parametrize("values,needed", [
    ({"loadBalancer": {"algorithm": "maglev"}}, True),
    ({"loadBalancer": {"algorithm": "maglev"}, "maglev": {"hashSeed": "c2VlZHNlZWRzZWVk"}}, False),
    ({"loadBalancer": {"algorithm": "random"}}, False),
    ({}, False),
])
def test_a_hash_seed_is_generated_only_for_maglev_without_one(values: dict[str, Any],
                                                              needed: bool) -> None:
    assert needs_generated_hash_seed(values) is needed


def test_chart_rejections_are_config_errors_with_the_key_and_fix() -> None:
    assert problems({"cilium": {"values": {"hubble": {"ui": {"enabled": True}}}}}) == [
        "cilium.values.hubble.ui.enabled: Hubble UI needs Hubble Relay. Fix: set "
        "hubble.relay.enabled: true (and hubble.enabled: true)."]


def test_every_chart_finding_is_reported_at_once() -> None:
    found = problems({"cilium": {"values": {"maglev": {"tableSize": 1000},
                                            "loadBalancer": {"mode": "direct"}}}})
    assert [p.split(":")[0] for p in found] == ["cilium.values.loadBalancer.mode",
                                                "cilium.values.maglev.tableSize"]


def test_silent_findings_say_so() -> None:
    [found] = problems({"cilium": {"values": {"kubeProxyReplacement": False,
                                              "l2announcements": {"enabled": True}}}})
    assert found.startswith("cilium.values.kubeProxyReplacement: (silently ignored by Cilium) "
                            "L2 announcements stay off")


def test_routing_cidr_must_contain_the_pod_cidr() -> None:
    [found] = problems({"cilium": {"values": {"ipv4NativeRoutingCIDR": "10.42.0.0/24"}}})
    assert found.startswith("cilium.values.ipv4NativeRoutingCIDR: 10.42.0.0/24 does not contain "
                            "the pod CIDR 10.42.0.0/16")


def test_gateway_needs_cilium_gateway_api() -> None:
    assert problems({"addons": {"gateway": {"enabled": True}}}) == [
        "addons.gateway.enabled: the default Gateway needs Cilium's Gateway API support, which "
        "is off. Fix: set cilium.values.gatewayAPI.enabled: true (the Gateway API CRDs are then "
        "installed before Cilium)."]


def test_gateway_needs_the_ccm_for_its_load_balancer() -> None:
    [found] = problems({"addons": {"gateway": {"enabled": True}, "ccm": {"enabled": False}},
                        "cilium": {"values": {"gatewayAPI": {"enabled": True}}}})
    assert found.startswith("addons.gateway.enabled: only hcloud-ccm gives the Gateway's Service")


def test_tls_listeners_need_a_line_with_standard_tls_route() -> None:
    gateway = {"enabled": True, "listeners": [
        {"name": "tls", "port": 443, "protocol": "TLS", "tls": {"mode": "Passthrough"}}]}
    config = {"addons": {"gateway": gateway}, "cilium": {
        "values": {"gatewayAPI": {"enabled": True}}}}
    validate_cluster_spec({"clusterName": "dev", **config})
    old = {**config, "cilium": {**config["cilium"], "version": "1.19.6",
                                "allowUntestedKubernetes": True}}
    [found] = problems(old)
    assert found.startswith("addons.gateway.listeners: TLS listeners need TLSRoute")


@pytest.mark.parametrize("key,feature", [("l2AnnouncementPolicies", "l2announcements.enabled"),
                                         ("egressGatewayPolicies", "egressGateway.enabled")])
def test_cilium_resources_need_their_feature(key: str, feature: str) -> None:
    resource = {
        "l2AnnouncementPolicies": {"name": "lan"},
        "egressGatewayPolicies": {"name": "out", "destinationCIDRs": ["192.0.2.0/24"],
                                  "egressGateway": {"nodeSelector": {"matchLabels": {"egress": "true"}}}},
    }[key]
    [found] = problems({"cilium": {key: [resource]}})
    assert found == (f"cilium.{key}: Cilium ignores these policies while {feature} is off. "
                     f"Fix: set cilium.values.{feature}: true, or remove cilium.{key}.")


def test_load_balancer_pools_with_the_ccm_get_an_advisory() -> None:
    spec = validate_cluster_spec({"clusterName": "dev", "cilium": {
        "loadBalancerIPPools": [{"name": "lan", "blocks": ["192.0.2.0/28"]}]}})
    [advisory] = [a for a in spec.advisories() if a.startswith("cilium.loadBalancerIPPools")]
    assert "loadBalancerClass io.cilium/l2-announcer" in advisory


def test_l2_announcements_get_a_hetzner_cloud_advisory() -> None:
    spec = validate_cluster_spec({"clusterName": "dev", "cilium": {
        "values": {"l2announcements": {"enabled": True}}}})
    assert any("Hetzner Cloud networks are routed" in note for note in spec.advisories())
