"""Cilium value policies on one Helm release, as the analyzer calls them.

For every policy: the program's values pass, each violation has its exact message, a release
with missing properties gets the chart's defaults (and passes), and an unknown value the policy
reads during preview raises ``UnknownValueError`` instead of passing or crashing.
"""

from __future__ import annotations

from typing import Any

import pytest
from pulumi_policy import Policy
from pulumi_policy.proxy import UnknownValueError

from policies.rules import cilium, gateway_api
from policies.rules.cilium_release import CLAIMED_RULES
from policies.rules.types import HELM_CHART_V4, HELM_RELEASE
from tests.helpers import with_dotted_changes
from tests.policy_fixtures import UNKNOWN, check_resource
from upstream.cilium_chart import NATIVE_ROUTING_CIDR_CONTAINS_PODS_RULE, RULE_IDS

NAME = "my-cilium"
# What the program sends (cluster_plan/cilium_values.py), as a compliant baseline.
BASE: dict[str, Any] = {
    "kubeProxyReplacement": True, "k8sServiceHost": "127.0.0.1", "k8sServicePort": 6444.0,
    "routingMode": "native", "ipv4NativeRoutingCIDR": "10.42.0.0/16",
    "ipam": {"mode": "kubernetes"}, "k8s": {"requireIPv4PodCIDR": True},
    "bpf": {"masquerade": True}, "MTU": 1450.0, "loadBalancer": {"acceleration": "best-effort"},
}
VALUE_POLICIES: list[Policy] = [
    *[p for p in cilium.POLICIES if p.name in CLAIMED_RULES.values()],
    *[p for p in gateway_api.POLICIES if p.name in CLAIMED_RULES.values()],
]
ALL = [cilium.version_supported, *VALUE_POLICIES]


def values(**changes: Any) -> dict[str, Any]:
    """BASE with dotted-path changes: values(**{"loadBalancer.mode": "dsr"})."""
    return with_dotted_changes(BASE, changes)


def release(changes: dict[str, Any] | None = None, version: str = "1.20.0",
            chart: str = "cilium") -> dict[str, Any]:
    return {"name": "cilium", "chart": chart, "version": version, "namespace": "kube-system",
            "repositoryOpts": {"repo": "https://helm.cilium.io/"},
            "values": values(**(changes or {}))}


def messages(policy: Policy, props: dict[str, Any], resource_type: str = HELM_RELEASE) -> list[str]:
    return check_resource(policy, resource_type, props, name=NAME)


def by_name(policy: Policy) -> str:
    return policy.name


# -- every chart rule has exactly one policy -------------------------------------------------------
def test_every_chart_rule_is_reported_by_exactly_one_policy() -> None:
    # The "contains the pod CIDR" rule needs the k3s cluster-cidr: part B's k3s policies use it.
    assert set(CLAIMED_RULES) == set(RULE_IDS) - {NATIVE_ROUTING_CIDR_CONTAINS_PODS_RULE}


# -- compliant baseline and missing properties ------------------------------------------------------
@pytest.mark.parametrize("policy", ALL, ids=by_name)
@pytest.mark.parametrize("version", ["1.18.12", "1.19.6", "1.20.0"])
def test_the_programs_values_pass(policy: Policy, version: str) -> None:
    assert messages(policy, release(version=version)) == []


@pytest.mark.parametrize("policy", ALL, ids=by_name)
def test_a_release_without_values_gets_the_chart_defaults_which_pass(policy: Policy) -> None:
    props = release()
    del props["values"]
    assert messages(policy, props) == []


@pytest.mark.parametrize("policy", VALUE_POLICIES, ids=by_name)
def test_without_a_supported_version_only_the_version_policy_reports(policy: Policy) -> None:
    broken = release({"hubble.ui.enabled": True, "maglev.tableSize": 1, "l7Proxy": False,
                      "gatewayAPI.enabled": True})
    del broken["version"]
    assert messages(policy, broken) == []
    assert len(messages(cilium.version_supported, broken)) == 1


@pytest.mark.parametrize("props", [
    {"name": "x", "chart": "hcloud-cloud-controller-manager", "version": "1.35.0",
     "values": {"hubble": {"ui": {"enabled": True}}}},
    {"name": "x", "values": {"hubble": {"ui": {"enabled": True}}}},
], ids=["another chart", "no chart"])
def test_releases_of_other_charts_are_not_cilium(props: dict[str, Any]) -> None:
    assert messages(cilium.hubble_chain, props) == []
    assert messages(cilium.version_supported, props) == []


@pytest.mark.parametrize("chart,version", [("cilium/cilium", "1.20.0"),
                                           ("oci://quay.io/cilium/charts/cilium", "1.20.0"),
                                           ("https://helm.cilium.io/cilium-1.20.0.tgz", ""),
                                           ("cilium", "v1.20.0")])
def test_cilium_is_found_by_its_chart_however_it_is_named(chart: str, version: str) -> None:
    props = {**release({"hubble.ui.enabled": True}, chart=chart), "version": version}
    assert len(messages(cilium.hubble_chain, props)) == 1
    assert messages(cilium.version_supported, props) == []


def test_a_helm_v4_chart_of_cilium_is_checked_like_a_release() -> None:
    assert len(messages(cilium.hubble_chain, release({"hubble.ui.enabled": True}),
                        HELM_CHART_V4)) == 1


def test_other_resource_types_are_ignored() -> None:
    assert messages(cilium.hubble_chain, release({"hubble.ui.enabled": True}),
                    "kubernetes:core/v1:ConfigMap") == []


# -- each violation, with its exact message ---------------------------------------------------------
PREFIX = f"Helm release '{NAME}' (Cilium 1.20.0), value "
VIOLATIONS: list[tuple[Policy, dict[str, Any], str, list[str]]] = [
    (cilium.egress_gateway_prerequisites,
     {"egressGateway.enabled": True, "bpf.masquerade": False, "kubeProxyReplacement": False},
     "1.20.0",
     [f"{PREFIX}bpf.masquerade: the egress gateway cannot run with this setting. Fix: set "
      "bpf.masquerade: true.",
      f"{PREFIX}kubeProxyReplacement: the egress gateway cannot run with this setting. Fix: set "
      "kubeProxyReplacement: true."]),
    (cilium.egress_gateway_without_cluster_mesh,
     {"egressGateway.enabled": True, "clustermesh.useAPIServer": True}, "1.20.0",
     [f"{PREFIX}egressGateway.enabled: (no error at install time) the egress gateway does not "
      "work together with Cluster Mesh (clustermesh.useAPIServer / clustermesh.config). Fix: turn "
      "the egress gateway or Cluster Mesh off in this cluster."]),
    (cilium.load_balancer_dispatch, {"routingMode": "tunnel", "loadBalancer.mode": "dsr"},
     "1.20.0",
     [f"{PREFIX}loadBalancer.mode: 'dsr' load balancing with tunnel routing needs Geneve dispatch "
      "and a Geneve tunnel (have dsrDispatch 'opt', tunnelProtocol 'vxlan'). Fix: set "
      "loadBalancer.dsrDispatch: geneve and tunnelProtocol: geneve, use routingMode: native, or "
      "loadBalancer.mode: snat."]),
    (cilium.load_balancer_dispatch,
     {"loadBalancer.mode": "hybrid", "loadBalancer.dsrDispatch": "geneve"}, "1.20.0",
     [f"{PREFIX}tunnelProtocol: Geneve DSR dispatch needs tunnelProtocol geneve (have 'vxlan'). "
      "Fix: set tunnelProtocol: geneve, or use loadBalancer.dsrDispatch: opt in native routing."]),
    (cilium.direct_routes_need_native_routing,
     {"routingMode": "tunnel", "autoDirectNodeRoutes": True}, "1.20.0",
     [f"{PREFIX}autoDirectNodeRoutes: direct node routes cannot be used with tunnel routing. Fix: "
      "set routingMode: native, or turn autoDirectNodeRoutes off."]),
    (cilium.l2_announcements_need_kpr,
     {"l2announcements.enabled": True, "kubeProxyReplacement": False}, "1.20.0",
     [f"{PREFIX}kubeProxyReplacement: (no error at install time) L2 announcements stay off "
      "without kube-proxy replacement. Fix: set kubeProxyReplacement: true."]),
    (cilium.valid_enums,
     {"loadBalancer.algorithm": "roundrobin", "kubeProxyReplacement": "strict",
      "routingMode": "hybrid"}, "1.19.6",
     [f"Helm release '{NAME}' (Cilium 1.19.6), value loadBalancer.algorithm: 'roundrobin' is not "
      "one of random, maglev. Fix: use one of random, maglev.",
      f"Helm release '{NAME}' (Cilium 1.19.6), value routingMode: 'hybrid' is not a routing mode "
      "of Cilium 1.19. Fix: use one of native, tunnel.",
      f"Helm release '{NAME}' (Cilium 1.19.6), value kubeProxyReplacement: 'strict' is not "
      "accepted (the old strict/partial/disabled modes are gone). Fix: use true or false."]),
    (cilium.maglev_valid, {"maglev.tableSize": 1000.0, "maglev.hashSeed": "c2hvcnQ="}, "1.20.0",
     [f"{PREFIX}maglev.tableSize: 1000 is not one of the supported primes. Fix: use one of 251, "
      "509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071.",
      f"{PREFIX}maglev.hashSeed: the seed must be base64 of exactly 12 bytes. Fix: generate one "
      "with `head -c12 /dev/urandom | base64`, or leave it unset so the program generates a "
      "secret one."]),
    (cilium.hubble_chain, {"hubble.ui.enabled": True}, "1.20.0",
     [f"{PREFIX}hubble.ui.enabled: Hubble UI needs Hubble Relay. Fix: set hubble.relay.enabled: "
      "true (and hubble.enabled: true)."]),
    (cilium.hubble_chain, {"hubble.enabled": False, "hubble.relay.enabled": True}, "1.20.0",
     [f"{PREFIX}hubble.relay.enabled: Hubble Relay needs Hubble. Fix: set hubble.enabled: true."]),
    (cilium.cluster_identity, {"cluster.id": 7.0}, "1.20.0",
     [f"{PREFIX}cluster.name: the name 'default' cannot be used with cluster.id 7. Fix: give "
      "every meshed cluster a unique cluster.name."]),
    (cilium.cluster_identity, {"cluster.name": "Prod_1", "cluster.id": 256.0}, "1.20.0",
     [f"{PREFIX}cluster.name: 'Prod_1' is not a valid Cilium cluster name. Fix: use 1-32 "
      "lowercase letters, digits and '-', starting and ending with a letter or digit.",
      f"{PREFIX}cluster.id: 256 is outside 0–255; the agent refuses to start. Fix: use a number "
      "from 1 to 255 (0 outside Cluster Mesh)."]),
    (cilium.native_routing_cidr, {"ipv4NativeRoutingCIDR": ""}, "1.20.0",
     [f"{PREFIX}ipv4NativeRoutingCIDR: native routing with masquerading needs the range that is "
      "routed without masquerading. Fix: set it to the pod CIDR (k3s.clusterCidr) or a range "
      "containing it."]),
    (cilium.single_encryption,
     {"encryption.enabled": True, "encryption.type": "wireguard",
      "extraConfig": {"enable-ipsec": "true"}}, "1.20.0",
     [f"{PREFIX}encryption.type: WireGuard and IPsec are both enabled (one through "
      "extraConfig/extraArgs); the agent refuses to start. Fix: choose one: encryption.type "
      "wireguard or ipsec, and remove enable-ipsec/enable-wireguard from extraConfig and "
      "extraArgs."]),
    (cilium.xdp_needs_kpr, {"loadBalancer.acceleration": "native", "kubeProxyReplacement": False},
     "1.20.0",
     [f"{PREFIX}loadBalancer.acceleration: (no error at install time) XDP acceleration (native) "
      "only applies to the kube-proxy replacement's load balancer, which is off. Fix: set "
      "kubeProxyReplacement: true, or loadBalancer.acceleration: disabled."]),
    (cilium.no_conntrack_prerequisites,
     {"installNoConntrackIptablesRules": True, "bpf.masquerade": False}, "1.20.0",
     [f"{PREFIX}installNoConntrackIptablesRules: needs kubeProxyReplacement: true, routingMode: "
      "native and bpf.masquerade: true. Fix: set those three, or turn "
      "installNoConntrackIptablesRules off."]),
    (cilium.agent_start_up,
     {"routingMode": "tunnel", "underlayProtocol": "ipv6", "ipv6.enabled": True}, "1.20.0",
     [f"{PREFIX}loadBalancer.acceleration: XDP acceleration (best-effort) cannot be used with an "
      "IPv6 tunnel underlay; the agent refuses to start. Fix: set loadBalancer.acceleration: "
      "disabled, or use the ipv4 underlay."]),
    (cilium.agent_start_up, {"underlayProtocol": "auto"}, "1.19.6",
     [f"Helm release '{NAME}' (Cilium 1.19.6), value underlayProtocol: 'auto' is not an underlay "
      "the Cilium 1.19 agent accepts; it refuses to start. Fix: use one of ipv4, ipv6, or remove "
      "it."]),
    (cilium.agent_silently_off,
     {"bandwidthManager.enabled": True, "encryption.enabled": True, "encryption.type": "ipsec"},
     "1.20.0",
     [f"{PREFIX}bandwidthManager.enabled: (no error at install time) the agent turns the "
      "bandwidth manager off with IPsec (it only logs a warning). Fix: use encryption.type: "
      "wireguard, or turn the bandwidth manager off."]),
    (gateway_api.l7_proxy_required, {"gatewayAPI.enabled": True, "l7Proxy": False}, "1.20.0",
     [f"{PREFIX}l7Proxy: gatewayAPI.enabled need(s) the L7 proxy; the chart refuses to render "
      "with l7Proxy off. Fix: set l7Proxy: true, or turn those features off."]),
    (gateway_api.needs_kube_proxy_replacement,
     {"gatewayAPI.enabled": True, "kubeProxyReplacement": False}, "1.20.0",
     [f"{PREFIX}kubeProxyReplacement: (no error at install time) Gateway API stays off without "
      "kube-proxy replacement (the operator only logs a warning). Fix: set "
      "kubeProxyReplacement: true."]),
    (gateway_api.traffic_policy_valid, {"gatewayAPI.externalTrafficPolicy": "local"}, "1.20.0",
     [f"{PREFIX}gatewayAPI.externalTrafficPolicy: 'local' is not a traffic policy the chart "
      "accepts. Fix: use Cluster or Local."]),
    (gateway_api.socket_lb_override,
     {"gatewayAPI.enabled": True, "socketLB.hostNamespaceOnly": False}, "1.20.0",
     [f"{PREFIX}socketLB.hostNamespaceOnly: (no error at install time) Cilium 1.20's chart "
      "forces it to true whenever gatewayAPI.enabled is on; false would be ignored. Fix: remove "
      "socketLB.hostNamespaceOnly, or turn Gateway API off."]),
]


@pytest.mark.parametrize("policy,changes,version,expected", VIOLATIONS,
                         ids=[f"{v[0].name}-{i}" for i, v in enumerate(VIOLATIONS)])
def test_violation_names_the_release_the_value_and_the_fix(
        policy: Policy, changes: dict[str, Any], version: str, expected: list[str]) -> None:
    assert messages(policy, release(changes, version=version)) == expected


def test_every_value_policy_has_a_violation_case() -> None:
    assert {p.name for p in VALUE_POLICIES} <= {v[0].name for v in VIOLATIONS}


@pytest.mark.parametrize("version,expected", [
    ("", "Helm release 'my-cilium' installs the Cilium chart without a pinned version (Helm "
         "takes the newest), so the pack cannot check its values against that chart. Fix: set "
         "version to a release of a supported line, e.g. '1.20.2'."),
    ("1.15.6", "Helm release 'my-cilium' installs Cilium chart version '1.15.6', which is not a "
               "release of a supported line (1.18, 1.19, 1.20), so the pack cannot check its "
               "values against that chart. Fix: set version to a release of a supported line, "
               "e.g. '1.20.2'."),
    ("~1.20.0", "Helm release 'my-cilium' installs Cilium chart version '~1.20.0', which is not a "
                "release of a supported line (1.18, 1.19, 1.20), so the pack cannot check its "
                "values against that chart. Fix: set version to a release of a supported line, "
                "e.g. '1.20.2'."),
])
def test_an_unpinned_or_unsupported_chart_version_is_reported(version: str, expected: str) -> None:
    assert messages(cilium.version_supported, release(version=version)) == [expected]


# -- unknown values during preview ------------------------------------------------------------------
READS: list[tuple[Policy, str]] = [
    (cilium.egress_gateway_prerequisites, "egressGateway.enabled"),
    (cilium.egress_gateway_without_cluster_mesh, "egressGateway.enabled"),
    (cilium.load_balancer_dispatch, "routingMode"),
    (cilium.direct_routes_need_native_routing, "autoDirectNodeRoutes"),
    (cilium.l2_announcements_need_kpr, "l2announcements.enabled"),
    (cilium.valid_enums, "loadBalancer.mode"),
    (cilium.maglev_valid, "maglev.hashSeed"),
    (cilium.hubble_chain, "hubble.ui.enabled"),
    (cilium.cluster_identity, "cluster.name"),
    (cilium.native_routing_cidr, "ipv4NativeRoutingCIDR"),
    (cilium.single_encryption, "extraConfig"),
    (cilium.xdp_needs_kpr, "loadBalancer.acceleration"),
    (cilium.no_conntrack_prerequisites, "installNoConntrackIptablesRules"),
    (cilium.agent_start_up, "underlayProtocol"),
    (cilium.agent_silently_off, "bandwidthManager.enabled"),
    (gateway_api.l7_proxy_required, "gatewayAPI.enabled"),
    (gateway_api.needs_kube_proxy_replacement, "gatewayAPI.enabled"),
    (gateway_api.traffic_policy_valid, "gatewayAPI.externalTrafficPolicy"),
    (gateway_api.socket_lb_override, "gatewayAPI.enabled"),
]


@pytest.mark.parametrize("policy,path", READS, ids=[r[0].name for r in READS])
def test_an_unknown_value_the_policy_reads_raises_during_preview(policy: Policy, path: str) -> None:
    with pytest.raises(UnknownValueError):
        messages(policy, release({path: UNKNOWN}))


def test_every_value_policy_has_an_unknown_case() -> None:
    assert {p.name for p in VALUE_POLICIES} == {r[0].name for r in READS}


@pytest.mark.parametrize("policy", ALL, ids=by_name)
@pytest.mark.parametrize("prop", ["values", "version", "chart"])
def test_unknown_release_inputs_raise(policy: Policy, prop: str) -> None:
    props = release()
    props[prop] = UNKNOWN
    if prop == "values" and policy is cilium.version_supported:
        assert messages(policy, props) == [], "the version policy does not need the values"
        return
    with pytest.raises(UnknownValueError):
        messages(policy, props)


def test_a_seed_unknown_until_deployment_stops_only_the_maglev_policy() -> None:
    # The program's generated Maglev seed is a RandomBytes output: unknown in a first preview.
    props = release({"loadBalancer.algorithm": "maglev", "maglev.hashSeed": UNKNOWN})
    with pytest.raises(UnknownValueError):
        messages(cilium.maglev_valid, props)
    assert messages(cilium.hubble_chain, props) == []
    assert messages(cilium.valid_enums, props) == []
