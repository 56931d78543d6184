"""The pure renderers of the Kubernetes layer, without any Pulumi machinery: Gateway, Cilium
custom resources, upgrade Plans and the CCM values."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from components.kubernetes import cilium_manifests, gateway_manifest, upgrade_plans
from components.kubernetes.ccm import ccm_values
from stack_config import ConfigError, validate_cluster_spec
from tests.crd_schemas import cilium_manifest_schema
from upstream.cilium import SUPPORTED_LINES

GATEWAY_ON = {"values": {"gatewayAPI": {"enabled": True}}}


def spec(**config: Any):
    return validate_cluster_spec({"clusterName": "web", **config})


def gateway(**gateway_config: Any) -> dict[str, Any]:
    return gateway_manifest.gateway(spec(cilium=GATEWAY_ON,
                                         addons={"gateway": {"enabled": True, **gateway_config}}))


def problems(**config: Any) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        spec(**config)
    return [str(p) for p in caught.value.problems]


# -- Gateway ---------------------------------------------------------------------------------------
def test_gateway_lb_location_defaults_to_the_cluster_location() -> None:
    annotations = gateway_manifest.load_balancer_annotations(
        spec(location="fsn1", cilium=GATEWAY_ON, addons={"gateway": {"enabled": True}}))
    assert annotations["load-balancer.hetzner.cloud/location"] == "fsn1"
    assert annotations["load-balancer.hetzner.cloud/name"] == "web-default"


def test_gateway_lb_settings_become_string_annotations() -> None:
    annotations = gateway(loadBalancer={"type": "lb21", "location": "hel1",
                                        "usePrivateIp": False})["spec"]["infrastructure"]["annotations"]
    assert annotations == {"load-balancer.hetzner.cloud/name": "web-default",
                           "load-balancer.hetzner.cloud/location": "hel1",
                           "load-balancer.hetzner.cloud/type": "lb21",
                           "load-balancer.hetzner.cloud/use-private-ip": "false"}


def test_https_listener_terminates_with_the_named_certificate() -> None:
    [listener] = gateway(listeners=[{"name": "https", "port": 443, "protocol": "HTTPS",
                                     "hostname": "*.example.com",
                                     "tls": {"certificateSecrets": ["example-com-tls"]}}],
                         allowedRoutes="All")["spec"]["listeners"]
    assert listener == {
        "name": "https", "port": 443, "protocol": "HTTPS", "hostname": "*.example.com",
        "allowedRoutes": {"namespaces": {"from": "All"}},
        "tls": {"mode": "Terminate",
                "certificateRefs": [{"group": "", "kind": "Secret", "name": "example-com-tls"}]},
    }


@pytest.mark.parametrize("listener,message", [
    ({"name": "https", "port": 443, "protocol": "HTTPS"},
     "HTTPS listeners terminate TLS and need a certificate."),
    ({"name": "http", "port": 80, "protocol": "HTTP", "tls": {"mode": "Terminate"}},
     "HTTP listeners carry no TLS settings."),
    ({"name": "tls", "port": 443, "protocol": "TLS"}, "TLS listeners need a TLS mode."),
    ({"name": "tcp", "port": 5432, "protocol": "TCP", "hostname": "db.example.com"},
     "TCP listeners cannot match a hostname."),
])
def test_listeners_follow_the_gateway_crds_rules(listener: dict[str, Any], message: str) -> None:
    [found] = problems(cilium=GATEWAY_ON, addons={"gateway": {"enabled": True,
                                                              "listeners": [listener]}})
    assert found.startswith("addons.gateway.listeners[0].") and message in found


def test_listener_names_and_endpoints_are_unique() -> None:
    twice = [{"name": "http", "port": 80}, {"name": "http", "port": 8080}]
    [found] = problems(cilium=GATEWAY_ON, addons={"gateway": {"enabled": True, "listeners": twice}})
    assert found.startswith("addons.gateway.listeners: duplicate listener name(s) http.")
    same = [{"name": "a", "port": 80}, {"name": "b", "port": 80}]
    [found] = problems(cilium=GATEWAY_ON, addons={"gateway": {"enabled": True, "listeners": same}})
    assert "share port, protocol and hostname" in found


def test_private_nodes_need_a_private_target_load_balancer() -> None:
    [found] = problems(network={"privateOnly": True}, bastion={"enabled": True}, cilium=GATEWAY_ON,
                       addons={"gateway": {"enabled": True, "loadBalancer": {"usePrivateIp": False}}})
    assert found.startswith("addons.gateway.loadBalancer.usePrivateIp: nodes have no public IPs")


def test_gateway_lb_name_must_fit_a_hetzner_name() -> None:
    [found] = problems(clusterName="c" * 40, cilium=GATEWAY_ON,
                       addons={"gateway": {"enabled": True, "name": "g" * 30}})
    assert found.startswith("addons.gateway.name: the load balancer name")


# -- Cilium custom resources -----------------------------------------------------------------------
def test_label_selector_requirements_are_checked_like_kubernetes() -> None:
    [found] = problems(cilium={"loadBalancerIPPools": [{"name": "p", "blocks": ["192.0.2.0/28"],
                                                         "serviceSelector": {"matchExpressions": [
                                                             {"key": "tier", "operator": "In"}]}}]})
    assert found == ("cilium.loadBalancerIPPools[0].serviceSelector.matchExpressions[0].values: "
                     "operator In needs values. Fix: list at least one value.")


def test_ip_ranges_are_ordered() -> None:
    [found] = problems(cilium={"loadBalancerIPPools": [{"name": "p", "blocks": [
        {"start": "192.0.2.9", "stop": "192.0.2.1"}]}]})
    assert found.startswith("cilium.loadBalancerIPPools[0].blocks[0].stop: 192.0.2.1 comes before")


@pytest.mark.parametrize("minor", sorted(SUPPORTED_LINES))
def test_cilium_resources_use_the_lines_api_versions_and_crd_shapes(minor: str) -> None:
    line = SUPPORTED_LINES[minor]
    config = spec(cilium={
        "values": {"l2announcements": {"enabled": True}, "egressGateway": {"enabled": True}},
        "loadBalancerIPPools": [{"name": "lan", "blocks": ["2001:db8::/120"], "disabled": True}],
        "l2AnnouncementPolicies": [{"name": "lan", "externalIPs": True}],
        "egressGatewayPolicies": [{"name": "out", "destinationCIDRs": ["0.0.0.0/0"],
                                   "namespaceSelector": {"matchLabels": {"egress": "nat"}},
                                   "egressGateway": {"nodeSelector": {}, "interface": "enp7s0"}}],
    }).cilium
    rendered = [cilium_manifests.load_balancer_ip_pool(config.load_balancer_ip_pools[0], line),
                cilium_manifests.l2_announcement_policy(config.l2_announcement_policies[0], line),
                cilium_manifests.egress_gateway_policy(config.egress_gateway_policies[0], line)]
    for manifest in rendered:
        jsonschema.validate(manifest, cilium_manifest_schema(manifest["kind"],
                                                             line.resource_api_versions[manifest["kind"]]))
    pool, l2, egress = rendered
    assert pool["spec"] == {"blocks": [{"cidr": "2001:db8::/120"}], "disabled": True}
    assert l2["spec"] == {"externalIPs": True, "loadBalancerIPs": True}
    assert egress["spec"]["selectors"] == [{"podSelector": {},
                                           "namespaceSelector": {"matchLabels": {"egress": "nat"}}}]
    assert egress["spec"]["egressGateway"] == {"nodeSelector": {}, "interface": "enp7s0"}


def test_the_shape_check_catches_a_misspelt_field() -> None:
    line = SUPPORTED_LINES["1.20"]
    manifest = {"apiVersion": "cilium.io/v2", "kind": "CiliumLoadBalancerIPPool",
                "metadata": {"name": "p"}, "spec": {"cidrs": [{"cidr": "192.0.2.0/28"}]}}
    with pytest.raises(jsonschema.ValidationError, match="'cidrs' was unexpected"):
        jsonschema.validate(manifest, cilium_manifest_schema(
            "CiliumLoadBalancerIPPool", line.resource_api_versions["CiliumLoadBalancerIPPool"]))


# -- upgrade Plans ---------------------------------------------------------------------------------
def test_servers_upgrade_one_at_a_time_then_agents_after_them() -> None:
    server = upgrade_plans.server_plan("v1.35.4+k3s1")
    agent = upgrade_plans.agent_plan("v1.35.4+k3s1")
    assert server["spec"]["concurrency"] == 1 and agent["spec"]["concurrency"] == 1
    assert server["spec"]["nodeSelector"]["matchExpressions"] == [
        {"key": "node-role.kubernetes.io/control-plane", "operator": "In", "values": ["true"]}]
    assert agent["spec"]["nodeSelector"]["matchExpressions"] == [
        {"key": "node-role.kubernetes.io/control-plane", "operator": "DoesNotExist"}]
    assert agent["spec"]["prepare"]["args"] == ["prepare", server["metadata"]["name"]]
    for plan in (server, agent):
        assert plan["apiVersion"] == "upgrade.cattle.io/v1"
        assert plan["metadata"]["namespace"] == "system-upgrade"
        assert plan["spec"]["version"] == "v1.35.4+k3s1"
        assert plan["spec"]["upgrade"] == {"image": "rancher/k3s-upgrade"}


# -- CCM -------------------------------------------------------------------------------------------
def test_ccm_values_follow_the_cluster() -> None:
    values = ccm_values(spec(location="hel1", k3s={"clusterCidr": "10.96.0.0/16"}))
    assert values["networking"] == {"enabled": True, "clusterCIDR": "10.96.0.0/16"}
    assert values["env"]["HCLOUD_LOAD_BALANCERS_LOCATION"] == {"value": "hel1"}
    assert values["env"]["HCLOUD_LOAD_BALANCERS_USE_PRIVATE_IP"] == {"value": "true"}
