"""Each Cilium values rule in upstream/cilium_chart.py: one accepted case, one refused case.

The rules mirror the chart's validate.yaml and the agent's start-up checks; the
config validator and the policy pack both call them.
"""

from __future__ import annotations

import base64
import dataclasses
from ipaddress import IPv4Network
from typing import Any

import pytest
from pulumi_policy.proxy import unknown_checking_proxy

from upstream.cilium import SUPPORTED_LINES
from tests.helpers import with_dotted_changes
from upstream.cilium_chart import (
    RULE_IDS,
    RULES,
    ChartFinding,
    HelmValues,
    check_helm_values,
    cluster_pool_ipv4_ranges,
    go_truthy,
)

# What the program sends by default (see cluster_plan/cilium_values.py), as a compliant fixture.
BASE: dict[str, Any] = {
    "kubeProxyReplacement": True, "k8sServiceHost": "127.0.0.1", "k8sServicePort": 6444,
    "routingMode": "native", "ipv4NativeRoutingCIDR": "10.42.0.0/16",
    "ipam": {"mode": "kubernetes"}, "k8s": {"requireIPv4PodCIDR": True},
    "bpf": {"masquerade": True}, "MTU": 1450, "loadBalancer": {"acceleration": "best-effort"},
}
SEED = base64.b64encode(b"twelve bytes").decode()


def values(**changes: Any) -> dict[str, Any]:
    """BASE with dotted-path changes: values(**{"loadBalancer.mode": "dsr"})."""
    return with_dotted_changes(BASE, changes)


def findings(changes: dict[str, Any], version: str = "1.20.0", **kwargs: Any) -> list[ChartFinding]:
    return check_helm_values(values(**changes), version, **kwargs)


def paths(changes: dict[str, Any], version: str = "1.20.0", **kwargs: Any) -> list[str]:
    return [f.path for f in findings(changes, version, **kwargs)]


@pytest.mark.parametrize("version", ["1.18.12", "1.19.6", "1.20.0"])
def test_the_programs_defaults_pass_on_every_line(version: str) -> None:
    assert check_helm_values(BASE, version, pod_cidr=IPv4Network("10.42.0.0/16")) == []


def test_an_unsupported_version_is_an_error_not_a_pass() -> None:
    with pytest.raises(ValueError, match="not in a supported line"):
        check_helm_values(BASE, "1.15.0")


@pytest.mark.parametrize("feature", [{"gatewayAPI.enabled": True},
                                     {"ingressController.enabled": True},
                                     {"loadBalancer.l7.backend": "envoy"}])
def test_envoy_features_need_the_l7_proxy(feature: dict[str, Any]) -> None:
    assert paths(feature) == []
    [finding] = findings({**feature, "l7Proxy": False})
    assert finding.path == "l7Proxy" and finding.effect == "reject"


def test_gateway_traffic_policy_is_cluster_or_local() -> None:
    assert paths({"gatewayAPI.externalTrafficPolicy": "Local"}) == []
    assert paths({"gatewayAPI.externalTrafficPolicy": "local"}) == ["gatewayAPI.externalTrafficPolicy"]


@pytest.mark.parametrize("name", ["", "Prod", "-prod", "a" * 33, "prod_1"])
def test_cluster_name_shape(name: str) -> None:
    assert paths({"cluster.name": name}) == ["cluster.name"]


def test_cluster_name_default_only_without_a_cluster_id() -> None:
    assert paths({"cluster.name": "prod", "cluster.id": 7}) == []
    assert paths({"cluster.id": 7}) == ["cluster.name"]


def test_cluster_id_range_follows_max_connected_clusters() -> None:
    assert paths({"cluster.name": "a", "cluster.id": 300}) == ["cluster.id"]
    assert paths({"cluster.name": "a", "cluster.id": 300,
                  "clustermesh.maxConnectedClusters": 511}) == []
    assert paths({"clustermesh.maxConnectedClusters": 300}) == ["clustermesh.maxConnectedClusters"]


def test_hubble_ui_needs_relay_which_needs_hubble() -> None:
    assert paths({"hubble.relay.enabled": True, "hubble.ui.enabled": True}) == []
    assert paths({"hubble.ui.enabled": True}) == ["hubble.ui.enabled"]
    assert paths({"hubble.relay.enabled": True, "hubble.enabled": False}) == ["hubble.relay.enabled"]


@pytest.mark.parametrize("kpr,ok", [(True, True), ("false", True), ("strict", False),
                                    ("disabled", False)])
def test_kube_proxy_replacement_is_true_or_false(kpr: Any, ok: bool) -> None:
    assert ("kubeProxyReplacement" not in paths({"kubeProxyReplacement": kpr})) is ok


@pytest.mark.parametrize("path,good,bad", [
    ("loadBalancer.mode", "hybrid", "direct"),
    ("loadBalancer.dsrDispatch", "ipip", "gre"),
    ("loadBalancer.algorithm", "maglev", "roundrobin"),
    ("loadBalancer.acceleration", "native", "xdp"),
    ("tunnelProtocol", "geneve", "gre"),
])
def test_enumerated_values(path: str, good: str, bad: str) -> None:
    assert path not in paths({path: good, "maglev.hashSeed": SEED})
    assert paths({path: bad}) == [path]


@pytest.mark.parametrize("version", ["1.18.12", "1.19.6", "1.20.0"])
def test_hybrid_routing_is_refused_on_every_line(version: str) -> None:
    # 1.20's source names a hybrid mode, but its agent refuses it at start: Ref: cilium
    # pkg/option/config.go DaemonConfig.Validate "invalid routing mode" (v1.20.0; listed in
    # upstream/cilium_charts/agent-checks.json), and the chart documents native and tunnel only.
    [finding] = findings({"routingMode": "hybrid"}, version)
    assert (finding.path, finding.rule) == ("routingMode", "enumerations")
    assert "use one of native, tunnel" in str(finding)


def test_dsr_in_tunnel_mode_needs_geneve_dispatch_and_tunnel() -> None:
    tunnel_dsr = {"routingMode": "tunnel", "loadBalancer.mode": "dsr"}
    assert paths(tunnel_dsr) == ["loadBalancer.mode"]
    assert paths({**tunnel_dsr, "loadBalancer.dsrDispatch": "geneve",
                  "tunnelProtocol": "geneve"}) == []
    assert paths({"loadBalancer.mode": "dsr"}) == [], "native routing supports DSR with opt"


@pytest.mark.parametrize("change", [
    {"loadBalancer.mode": "dsr"},                                        # VXLAN (default) + DSR
    {"loadBalancer.mode": "hybrid", "tunnelProtocol": "geneve"},         # `opt` dispatch, tunnel
    {"loadBalancer.mode": "dsr", "loadBalancer.dsrDispatch": "geneve"},  # Geneve dispatch, VXLAN
])
@pytest.mark.parametrize("routing", ["tunnel", ""])
def test_dsr_with_any_tunnel_needs_geneve_dispatch_and_tunnel(change: dict[str, Any],
                                                               routing: str) -> None:
    # An empty routingMode is the chart's tunnel default.
    [finding] = findings({**change, "routingMode": routing})
    assert (finding.path, finding.rule) == ("loadBalancer.mode", "tunnel-load-balancing")
    assert "with tunnel routing needs Geneve dispatch" in finding.message


def test_geneve_dispatch_needs_a_geneve_tunnel_even_in_native_routing() -> None:
    geneve_dsr = {"loadBalancer.mode": "dsr", "loadBalancer.dsrDispatch": "geneve"}
    [finding] = findings(geneve_dsr)
    assert (finding.path, finding.rule) == ("tunnelProtocol", "geneve-dispatch-needs-geneve-tunnel")
    assert paths({**geneve_dsr, "tunnelProtocol": "geneve"}) == []
    assert paths({"loadBalancer.dsrDispatch": "geneve"}) == [], "SNAT mode never dispatches"


def test_auto_direct_node_routes_need_native_routing() -> None:
    assert paths({"autoDirectNodeRoutes": True}) == []
    assert "autoDirectNodeRoutes" in paths({"autoDirectNodeRoutes": True, "routingMode": "tunnel"})
    assert "autoDirectNodeRoutes" in paths({"autoDirectNodeRoutes": True, "routingMode": ""}), \
        "an empty routingMode is the chart's tunnel default"


def test_native_routing_needs_a_routing_cidr_that_contains_the_pods() -> None:
    pods = IPv4Network("10.42.0.0/16")
    assert paths({}, pod_cidr=pods) == []
    assert paths({"ipv4NativeRoutingCIDR": ""}) == ["ipv4NativeRoutingCIDR"]
    assert paths({"ipv4NativeRoutingCIDR": "10.42.0.0/24"}, pod_cidr=pods) == ["ipv4NativeRoutingCIDR"]
    assert [f.rule for f in findings({"ipv4NativeRoutingCIDR": "10.42.0.0/24"}, pod_cidr=pods)] \
        == ["native-routing-cidr-contains-pods"], "its own id: the pod range is k3s config"
    assert [f.rule for f in findings({"ipv4NativeRoutingCIDR": "nonsense"}, pod_cidr=pods)] == [
        "native-routing-cidr"], "one finding for a value that is not a CIDR"
    assert paths({"ipv4NativeRoutingCIDR": "10.0.0.0/8"}, pod_cidr=pods) == []
    # (BPF masquerading off too: the agent refuses it without any masquerading.)
    assert paths({"ipv4NativeRoutingCIDR": "", "enableIPv4Masquerade": False,
                  "bpf.masquerade": False}) == [], \
        "without masquerading there is nothing to exempt"


def test_maglev_table_size_is_one_of_the_primes() -> None:
    assert paths({"maglev.tableSize": 16381}) == []
    assert paths({"maglev.tableSize": 16384}) == ["maglev.tableSize"]


@pytest.mark.parametrize("seed,ok", [(SEED, True), (base64.b64encode(b"eleven byte").decode(), False),
                                     ("not base64!", False)])
def test_maglev_seed_is_base64_of_twelve_bytes(seed: str, ok: bool) -> None:
    assert ("maglev.hashSeed" not in paths({"maglev.hashSeed": seed})) is ok


def test_egress_gateway_requirements() -> None:
    assert paths({"egressGateway.enabled": True}) == []
    assert paths({"egressGateway.enabled": True, "bpf.masquerade": False}) == ["bpf.masquerade"]
    assert paths({"egressGateway.enabled": True, "ciliumEndpointSlice.enabled": True}) == [
        "ciliumEndpointSlice.enabled"]
    assert "kubeProxyReplacement" in paths({"egressGateway.enabled": True,
                                            "kubeProxyReplacement": False})


def test_egress_gateway_with_the_l7_proxy_is_refused_before_cilium_1_16() -> None:
    # No supported line is older than 1.16; the fact is version-driven, so test it on a copy of
    # a line that claims to be 1.15.
    old = dataclasses.replace(SUPPORTED_LINES["1.18"], minor="1.15")
    egress = values(**{"egressGateway.enabled": True})
    refused = list(RULES["egress-gateway-prerequisites"](HelmValues(egress, old), old))
    assert [f.path for f in refused] == ["l7Proxy"], "l7Proxy defaults to true"
    assert list(RULES["egress-gateway-prerequisites"](
        HelmValues({**egress, "l7Proxy": False}, old), old)) == []
    assert paths({"egressGateway.enabled": True, "l7Proxy": True}, "1.18.12") == []


@pytest.mark.parametrize("mesh", [{"clustermesh.useAPIServer": True},
                                  {"clustermesh.config.enabled": True},
                                  {"clustermesh.config.clusters": [{"name": "other"}]}])
def test_egress_gateway_and_cluster_mesh_do_not_mix(mesh: dict[str, Any]) -> None:
    assert paths(mesh) == []
    [finding] = findings({**mesh, "egressGateway.enabled": True})
    assert (finding.path, finding.effect) == ("egressGateway.enabled", "silent")


@pytest.mark.parametrize("change,refused", [
    ({"encryption.enabled": True, "encryption.type": "wireguard"}, False),
    ({"encryption.enabled": True, "encryption.type": "wireguard",
      "extraConfig": {"enable-ipsec": "true"}}, True),
    ({"encryption.enabled": True, "encryption.type": "ipsec",
      "extraArgs": ["--enable-wireguard"]}, True),
    ({"encryption.enabled": False, "encryption.type": "ipsec",
      "extraConfig": {"enable-wireguard": True}}, False),
    ({"extraConfig": {"enable-wireguard": "true", "enable-ipsec": "true"}}, True),
])
def test_wireguard_and_ipsec_together_are_refused(change: dict[str, Any], refused: bool) -> None:
    assert ("encryption.type" in paths(change)) is refused


def test_xdp_acceleration_is_silently_off_without_kube_proxy_replacement() -> None:
    native = {"loadBalancer.acceleration": "native"}
    assert paths(native) == []
    [finding] = findings({**native, "kubeProxyReplacement": False})
    assert (finding.path, finding.effect) == ("loadBalancer.acceleration", "silent")
    assert paths({"loadBalancer.acceleration": "best-effort", "kubeProxyReplacement": False}) == []
    assert paths({**native, "kubeProxyReplacement": False, "nodePort.enabled": True},
                 "1.18.12") == [], "1.18's nodePort.enabled also runs the BPF load balancer"


def test_cluster_pool_ranges_fall_back_to_the_chart_default() -> None:
    line = SUPPORTED_LINES["1.20"]
    assert cluster_pool_ipv4_ranges({}, line) == ["10.0.0.0/8"]
    assert cluster_pool_ipv4_ranges({"ipam": {"mode": "cluster-pool", "operator": {
        "clusterPoolIPv4PodCIDRList": ["172.20.0.0/16"]}}}, line) == ["172.20.0.0/16"]
    assert cluster_pool_ipv4_ranges(BASE, line) is None, "kubernetes IPAM: ranges come from k3s"


def test_no_conntrack_iptables_rules_need_kpr_native_routing_and_bpf_masquerade() -> None:
    assert paths({"installNoConntrackIptablesRules": True}) == []
    assert paths({"installNoConntrackIptablesRules": True, "bpf.masquerade": False}) == [
        "installNoConntrackIptablesRules"]


def test_gateway_api_is_silently_off_without_kube_proxy_replacement() -> None:
    [finding] = findings({"gatewayAPI.enabled": True, "kubeProxyReplacement": False})
    assert (finding.path, finding.effect) == ("kubeProxyReplacement", "silent")


def test_cilium_1_18_gateway_also_accepts_node_port() -> None:
    node_port = {"gatewayAPI.enabled": True, "kubeProxyReplacement": False,
                 "nodePort.enabled": True}
    assert paths(node_port, "1.18.12") == []
    assert paths(node_port, "1.19.6") == ["kubeProxyReplacement"]


def test_cilium_1_20_gateway_overrides_socket_lb_host_namespace_only() -> None:
    change = {"gatewayAPI.enabled": True, "socketLB.hostNamespaceOnly": False}
    assert [(f.path, f.effect) for f in findings(change, "1.20.0")] == [
        ("socketLB.hostNamespaceOnly", "silent")]
    assert paths(change, "1.19.6") == []


def test_l2_announcements_are_silently_off_without_kube_proxy_replacement() -> None:
    assert paths({"l2announcements.enabled": True}) == []
    assert paths({"l2announcements.enabled": True, "kubeProxyReplacement": False}) == [
        "kubeProxyReplacement"]


def test_findings_read_as_key_message_and_fix() -> None:
    [finding] = findings({"maglev.tableSize": 1000})
    assert str(finding).startswith("maglev.tableSize: 1000 is not one of the supported primes. "
                                   "Fix: use one of 251, 509,")


def test_numbers_recorded_by_the_engine_as_floats_are_still_whole_numbers() -> None:
    # The policy pack sees registered inputs, where Pulumi sends every number as a float.
    assert paths({"cluster.name": "a", "cluster.id": 12.0, "maglev.tableSize": 65521.0,
                  "clustermesh.maxConnectedClusters": 511.0}) == []
    # 12.5 is refused twice: the chart's schema wants an integer, and the id range needs one.
    assert [(f.rule, f.path) for f in findings({"cluster.name": "a", "cluster.id": 12.5})] == [
        ("values-schema", "cluster.id"), ("cluster-identity", "cluster.id")]


def test_rules_can_be_run_by_id_and_unknown_ids_are_an_error() -> None:
    bad = values(**{"hubble.ui.enabled": True, "maglev.tableSize": 1000})
    assert [f.rule for f in check_helm_values(bad, "1.20.0")] == ["hubble-chain", "maglev"]
    assert [f.rule for f in check_helm_values(bad, "1.20.0", rules=["maglev"])] == ["maglev"]
    assert set(RULE_IDS) >= {"maglev", "native-routing-cidr", "native-routing-cidr-contains-pods"}
    with pytest.raises(ValueError, match="no chart rule"):
        check_helm_values(bad, "1.20.0", rules=["maglevv"])


def test_values_seen_through_the_policy_sdks_proxy_give_the_same_findings() -> None:
    # The pack reads registered inputs through read-only Mapping/Sequence proxies, not dicts.
    change = {"egressGateway.enabled": True, "clustermesh.config.clusters": [],
              "hubble.ui.enabled": True}
    proxied = unknown_checking_proxy(values(**change))
    assert check_helm_values(proxied, "1.20.0") == findings(change)
    assert go_truthy(unknown_checking_proxy({"a": []})["a"]) is False
    assert go_truthy(unknown_checking_proxy({"a": [1]})["a"]) is True
