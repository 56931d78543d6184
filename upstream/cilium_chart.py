"""Cilium Helm values that fail: the chart's ``validate.yaml`` rejections, the agent's start-up
refusals, and the combinations where a feature stays silently off.

Pure functions over the Helm values (Cilium's own names) and the chart version, so the config
validator (before any resource exists) and the policy pack (on the registered Helm release) run
the same checks. A value that is not set falls back to the chart default of that line
(``CiliumLine.chart_defaults``), as Helm would.

Ref: cilium/cilium install/kubernetes/cilium/templates/validate.yaml (1.16–1.20); agent-side
     rules each name the agent source they mirror.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import replace
from ipaddress import IPv4Network, IPv6Network, ip_network
from typing import Any

from upstream.cilium import CiliumLine, line_of
from upstream.cilium_agent import AGENT_RULES, maglev_table_sizes
from upstream.cilium_chart_templates import template_problems
from upstream.cilium_schema import schema_problems
from upstream.cilium_helm_values import (  # noqa: F401 (re-exported: the checks' vocabulary)
    ChartFinding,
    Effect,
    HelmValues,
    _is_list,
    go_truthy,
    helm_string,
    shown,
    whole_number,
)

MAGLEV_SEED_BYTES = 12
LOAD_BALANCER_MODES = ("snat", "dsr", "hybrid")
DSR_DISPATCHES = ("opt", "ipip", "geneve")
LOAD_BALANCER_ALGORITHMS = ("random", "maglev")
ACCELERATIONS = ("disabled", "native", "best-effort")
TUNNEL_PROTOCOLS = ("", "vxlan", "geneve")
CLUSTER_NAME = re.compile(r"^([a-z0-9][-a-z0-9]*)?[a-z0-9]$")
CLUSTER_NAME_MAX = 32
MAX_CONNECTED_CLUSTERS = (255, 511)
# Ref: cilium/cilium PR #32828: the egress gateway works with the L7 proxy from 1.16 on.
EGRESS_GATEWAY_WITH_L7_PROXY_SINCE = (1, 16)
# IPAM modes whose pod addresses come from the operator's cluster pool (chart default).
CLUSTER_POOL_IPAM = ("cluster-pool", "")


Rule = Callable[[HelmValues, CiliumLine], Iterator[ChartFinding]]


# -- the chart's values.schema.json ----------------------------------------------------------------
def _values_schema(v: HelmValues, line: CiliumLine) -> Iterator[ChartFinding]:
    # Helm validates the coalesced values against the chart's schema before rendering anything.
    for problem in schema_problems(v.as_set, line.newest_verified_patch):
        yield ChartFinding(problem.path, problem.message, problem.fix, "reject")


def _chart_templates(v: HelmValues, line: CiliumLine) -> Iterator[ChartFinding]:
    # The template calls not restated by a named rule below (see MIRRORED_BY_NAMED_RULES).
    for path, message, fix in template_problems(v.as_set, line):
        yield ChartFinding(path, message, fix, "reject")


# -- the chart's validate.yaml ---------------------------------------------------------------------
def _envoy_features_need_l7_proxy(v: HelmValues, line: CiliumLine) -> Iterator[ChartFinding]:
    users = [p for p in ("gatewayAPI.enabled", "ingressController.enabled") if v.on(p)]
    if v.get("loadBalancer.l7.backend") == "envoy":
        users.append("loadBalancer.l7.backend=envoy")
    if users and not v.on("l7Proxy"):
        yield ChartFinding("l7Proxy", f"{', '.join(users)} need(s) the L7 proxy; the chart "
                           "refuses to render with l7Proxy off.",
                           "set l7Proxy: true, or turn those features off.", "reject")


def _gateway_traffic_policy(v: HelmValues, line: CiliumLine) -> Iterator[ChartFinding]:
    policy = v.get("gatewayAPI.externalTrafficPolicy")
    if policy not in ("Cluster", "Local"):
        yield ChartFinding("gatewayAPI.externalTrafficPolicy",
                           f"'{policy}' is not a traffic policy the chart accepts.",
                           "use Cluster or Local.", "reject")


def _cluster_identity(v: HelmValues, line: CiliumLine) -> Iterator[ChartFinding]:
    name = helm_string(v.get("cluster.name"))
    if not name or len(name) > CLUSTER_NAME_MAX or not CLUSTER_NAME.match(name):
        yield ChartFinding("cluster.name",
                           f"'{name}' is not a valid Cilium cluster name.",
                           f"use 1-{CLUSTER_NAME_MAX} lowercase letters, digits and '-', starting "
                           "and ending with a letter or digit.", "reject")
    cluster_id = v.get("cluster.id")
    if name == "default" and cluster_id not in (0, None):
        yield ChartFinding("cluster.name", f"the name 'default' cannot be used with cluster.id "
                           f"{shown(cluster_id)}.",
                           "give every meshed cluster a unique cluster.name.",
                           "reject")
    max_clusters = v.get("clustermesh.maxConnectedClusters")
    if max_clusters not in MAX_CONNECTED_CLUSTERS:
        yield ChartFinding("clustermesh.maxConnectedClusters",
                           f"{shown(max_clusters)} is not supported.", "use 255 or 511.", "reject")
    # Ref: Cilium docs network/clustermesh/clustermesh.rst (cluster.id 1–255, or 1–511)
    highest = 511 if max_clusters == 511 else 255
    number = whole_number(cluster_id)
    if number is None or not 0 <= number <= highest:
        yield ChartFinding("cluster.id", f"{shown(cluster_id)} is outside 0–{highest}; the agent "
                           "refuses to start.", f"use a number from 1 to {highest} (0 outside "
                           "Cluster Mesh).", "reject")


def _hubble_chain(v: HelmValues, line: CiliumLine) -> Iterator[ChartFinding]:
    # A standalone UI brings its own backend connection (validate.yaml).
    if v.on("hubble.ui.enabled") and not v.on("hubble.ui.standalone.enabled") \
            and not v.on("hubble.relay.enabled"):
        yield ChartFinding("hubble.ui.enabled", "Hubble UI needs Hubble Relay.",
                           "set hubble.relay.enabled: true (and hubble.enabled: true).", "reject")
    if v.on("hubble.relay.enabled") and not v.on("hubble.enabled"):
        yield ChartFinding("hubble.relay.enabled", "Hubble Relay needs Hubble.",
                           "set hubble.enabled: true.", "reject")


def _kube_proxy_replacement_is_boolean(v: HelmValues, line: CiliumLine) -> Iterator[ChartFinding]:
    value = helm_string(v.get("kubeProxyReplacement"))
    if value not in ("true", "false"):
        yield ChartFinding("kubeProxyReplacement", f"'{value}' is not accepted (the old "
                           "strict/partial/disabled modes are gone).", "use true or false.",
                           "reject")


# -- the agent's start-up refusals -----------------------------------------------------------------
def _enumerations(v: HelmValues, line: CiliumLine) -> Iterator[ChartFinding]:
    choices: dict[str, tuple[str, ...]] = {
        "loadBalancer.mode": LOAD_BALANCER_MODES,
        "loadBalancer.dsrDispatch": DSR_DISPATCHES,
        "loadBalancer.algorithm": LOAD_BALANCER_ALGORITHMS,
        "loadBalancer.acceleration": ACCELERATIONS,
        "tunnelProtocol": TUNNEL_PROTOCOLS,
    }
    for path, allowed in choices.items():
        if v.is_set(path) and v.get(path) not in allowed:
            shown = ", ".join(a for a in allowed if a)
            yield ChartFinding(path, f"'{v.get(path)}' is not one of {shown}.",
                               f"use one of {shown}.", "reject")
    if v.routing_mode not in line.routing_modes:
        modes = ", ".join(line.routing_modes)
        yield ChartFinding("routingMode", f"'{v.routing_mode}' is not a routing mode of "
                           f"Cilium {line.minor}.", f"use one of {modes}.", "reject")


def _tunnel_load_balancing(v: HelmValues, line: CiliumLine) -> Iterator[ChartFinding]:
    # Ref: cilium daemon/cmd/kube_proxy_replacement.go: DSR "cannot be used with vxlan
    # tunneling", and "tunnel routing with Node Port dsr mode requires geneve dispatch" (which
    # also rules out the default `opt` dispatch outside native routing).
    if not v.tunnels or not v.uses_dsr:
        return
    mode = v.get("loadBalancer.mode")
    dispatch = v.get("loadBalancer.dsrDispatch") or "opt"
    protocol = v.get("tunnelProtocol") or "vxlan"
    if dispatch != "geneve" or protocol != "geneve":
        yield ChartFinding("loadBalancer.mode", f"'{mode}' load balancing with {v.routing_mode} "
                           "routing needs Geneve dispatch and a Geneve tunnel (have dsrDispatch "
                           f"'{dispatch}', tunnelProtocol '{protocol}').",
                           "set loadBalancer.dsrDispatch: geneve and tunnelProtocol: geneve, "
                           "use routingMode: native, or loadBalancer.mode: snat.", "reject")


def _geneve_dispatch_needs_geneve(v: HelmValues, line: CiliumLine) -> Iterator[ChartFinding]:
    # Ref: cilium daemon/cmd/kube_proxy_replacement.go: "mode with geneve dispatch requires
    # geneve tunnel protocol", checked in native routing too (tunnel routing: the rule above).
    if v.tunnels or not v.uses_dsr or v.get("loadBalancer.dsrDispatch") != "geneve":
        return
    protocol = v.get("tunnelProtocol") or "vxlan"
    if protocol != "geneve":
        yield ChartFinding("tunnelProtocol", f"Geneve DSR dispatch needs tunnelProtocol geneve "
                           f"(have '{protocol}').", "set tunnelProtocol: geneve, or use "
                           "loadBalancer.dsrDispatch: opt in native routing.", "reject")


def _direct_routes_need_native_routing(v: HelmValues, line: CiliumLine) -> Iterator[ChartFinding]:
    if v.on("autoDirectNodeRoutes") and v.routing_mode == "tunnel":
        yield ChartFinding("autoDirectNodeRoutes", "direct node routes cannot be used with "
                           "tunnel routing.", "set routingMode: native, or turn "
                           "autoDirectNodeRoutes off.", "reject")


def _native_routing_cidr(v: HelmValues, line: CiliumLine,
                         pod_cidr: IPv4Network | None) -> Iterator[ChartFinding]:
    if v.routing_mode != "native" or not v.ipv4_masquerade:
        return
    text = helm_string(v.get("ipv4NativeRoutingCIDR"))
    if not text:
        yield ChartFinding("ipv4NativeRoutingCIDR", "native routing with masquerading needs the "
                           "range that is routed without masquerading.",
                           "set it to the pod CIDR (k3s.clusterCidr) or a range containing it.",
                           "reject")
        return
    if _routed_range(text) is None:
        yield ChartFinding("ipv4NativeRoutingCIDR", f"'{text}' is not a CIDR.",
                           "write it like 10.42.0.0/16.", "reject")


def _routed_range(text: str) -> IPv4Network | IPv6Network | None:
    try:
        return ip_network(text, strict=False)
    except ValueError:
        return None


def _native_routing_cidr_contains_pods(v: HelmValues, line: CiliumLine,
                                       pod_cidr: IPv4Network | None) -> Iterator[ChartFinding]:
    if pod_cidr is None or v.routing_mode != "native" or not v.ipv4_masquerade:
        return
    routed = _routed_range(helm_string(v.get("ipv4NativeRoutingCIDR")))
    if routed is None:
        return  # unset or not a CIDR: the rule above reports it
    if routed.version != 4 or not pod_cidr.subnet_of(routed):
        yield ChartFinding("ipv4NativeRoutingCIDR", f"{routed} does not contain the pod CIDR "
                           f"{pod_cidr}; pod traffic would be masqueraded or dropped.",
                           "use the pod CIDR (k3s.clusterCidr) or a range containing it.",
                           "reject")


def _maglev(v: HelmValues, line: CiliumLine) -> Iterator[ChartFinding]:
    # Ref: pkg/maglev/maglev.go UserConfig.ToConfig (sizes read from the source per line).
    sizes = maglev_table_sizes(line)
    size = v.get("maglev.tableSize")
    if v.is_set("maglev.tableSize") and size not in sizes:
        yield ChartFinding("maglev.tableSize", f"{shown(size)} is not one of the supported primes.",
                           f"use one of {', '.join(map(str, sizes))}.", "reject")
    seed = v.get("maglev.hashSeed")
    if isinstance(seed, str) and len(_decoded(seed) or b"") != MAGLEV_SEED_BYTES:
        yield ChartFinding("maglev.hashSeed", "the seed must be base64 of exactly "
                           f"{MAGLEV_SEED_BYTES} bytes.", "generate one with `head -c12 "
                           "/dev/urandom | base64`, or leave it unset so the program generates "
                           "a secret one.", "reject")


def _decoded(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def _egress_gateway(v: HelmValues, line: CiliumLine) -> Iterator[ChartFinding]:
    if not v.on("egressGateway.enabled"):
        return
    if line.version < EGRESS_GATEWAY_WITH_L7_PROXY_SINCE and v.on("l7Proxy"):
        yield ChartFinding("l7Proxy", f"Cilium {line.minor} cannot run the egress gateway with "
                           "the L7 proxy (compatible from 1.16).", "set l7Proxy: false, or use "
                           "Cilium 1.16 or newer.", "reject")
    # Ref: Cilium docs network/egress-gateway/egress-gateway.rst (requirements)
    needs = [
        ("bpf.masquerade", v.on("bpf.masquerade"), "set bpf.masquerade: true."),
        ("enableIPv4Masquerade", v.ipv4_masquerade, "leave enableIPv4Masquerade unset or true."),
        ("kubeProxyReplacement", v.kube_proxy_replacement, "set kubeProxyReplacement: true."),
        ("ciliumEndpointSlice.enabled", not v.on("ciliumEndpointSlice.enabled"),
         "set ciliumEndpointSlice.enabled: false."),
        ("identityAllocationMode", v.get("identityAllocationMode") == "crd",
         "set identityAllocationMode: crd."),
    ]
    for path, ok, fix in needs:
        if not ok:
            yield ChartFinding(path, "the egress gateway cannot run with this setting.", fix,
                               "reject")


def cluster_mesh_enabled(v: HelmValues) -> bool:
    """Cluster Mesh is configured: an apiserver to expose, or remote clusters to connect to."""
    return (v.on("clustermesh.useAPIServer") or v.on("clustermesh.config.enabled")
            or go_truthy(v.get("clustermesh.config.clusters")))


def _egress_gateway_without_cluster_mesh(v: HelmValues, line: CiliumLine) -> Iterator[ChartFinding]:
    # Ref: cilium/cilium PR #27918 (docs: the egress gateway is incompatible with Cluster Mesh;
    # the agent does not refuse it, gateway selection across clusters just does not work).
    if v.on("egressGateway.enabled") and cluster_mesh_enabled(v):
        yield ChartFinding("egressGateway.enabled", "the egress gateway does not work together "
                           "with Cluster Mesh (clustermesh.useAPIServer / clustermesh.config).",
                           "turn the egress gateway or Cluster Mesh off in this cluster.",
                           "silent")


def encryption_methods(v: HelmValues) -> set[str]:
    """Transparent encryption the agent is asked to run: the chart's ``encryption.type`` (one of
    them), plus any ``enable-ipsec``/``enable-wireguard`` forced through ``extraConfig`` or
    ``extraArgs`` (which the chart passes to the agent unchecked)."""
    methods = set()
    if v.on("encryption.enabled"):
        methods.add(helm_string(v.get("encryption.type")))
    extra_config = v.get("extraConfig")
    # The schema wants a list; a hand-written release in the policy pack may still hold anything.
    raw_args = v.get("extraArgs")
    extra_args = [helm_string(arg) for arg in raw_args] if _is_list(raw_args) else []
    for method in ("ipsec", "wireguard"):
        flag = f"enable-{method}"
        if isinstance(extra_config, Mapping) and helm_string(extra_config.get(flag)) == "true":
            methods.add(method)
        if f"--{flag}" in extra_args or f"--{flag}=true" in extra_args:
            methods.add(method)
    return methods


def _single_encryption(v: HelmValues, line: CiliumLine) -> Iterator[ChartFinding]:
    # The agent refuses to start with both (Cilium docs, transparent encryption:
    # https://docs.cilium.io/en/stable/security/network/encryption/).
    if {"ipsec", "wireguard"} <= encryption_methods(v):
        yield ChartFinding("encryption.type", "WireGuard and IPsec are both enabled (one through "
                           "extraConfig/extraArgs); the agent refuses to start.",
                           "choose one: encryption.type wireguard or ipsec, and remove "
                           "enable-ipsec/enable-wireguard from extraConfig and extraArgs.",
                           "reject")


def _xdp_needs_kpr(v: HelmValues, line: CiliumLine) -> Iterator[ChartFinding]:
    # Ref: cilium daemon/cmd/kube_proxy_replacement.go: acceleration is a NodePort feature, and
    # NodePort is only enabled by kubeProxyReplacement (1.18 also by nodePort.enabled).
    if v.get("loadBalancer.acceleration") != "native" or v.kube_proxy_replacement:
        return
    if line.gateway_accepts_node_port and v.on("nodePort.enabled"):
        return
    yield ChartFinding("loadBalancer.acceleration", "XDP acceleration (native) only applies to "
                       "the kube-proxy replacement's load balancer, which is off.",
                       "set kubeProxyReplacement: true, or loadBalancer.acceleration: disabled.",
                       "silent")


def cluster_pool_ipv4_ranges(values: Mapping[str, Any], line: CiliumLine) -> list[str] | None:
    """Pod ranges the operator hands out in cluster-pool IPAM (the chart default mode, with
    ``10.0.0.0/8`` by default), or None when another IPAM mode assigns pod addresses."""
    v = HelmValues(values, line)
    if helm_string(v.get("ipam.mode")) not in CLUSTER_POOL_IPAM:
        return None
    return [helm_string(cidr) for cidr in v.get("ipam.operator.clusterPoolIPv4PodCIDRList") or ()]


def _no_conntrack_rules(v: HelmValues, line: CiliumLine) -> Iterator[ChartFinding]:
    if not v.on("installNoConntrackIptablesRules"):
        return
    if not (v.kube_proxy_replacement and v.routing_mode == "native" and v.on("bpf.masquerade")):
        yield ChartFinding("installNoConntrackIptablesRules", "needs kubeProxyReplacement: true, "
                           "routingMode: native and bpf.masquerade: true.",
                           "set those three, or turn installNoConntrackIptablesRules off.",
                           "reject")
    # Ref: initEnv "%s requires IPv4 support" (v1.18.11–v1.20.0, agent-checks.json).
    if v.get("ipv4.enabled") is False:
        yield ChartFinding("installNoConntrackIptablesRules", "needs IPv4 (ipv4.enabled is off); "
                           "the agent refuses to start.", "turn ipv4.enabled on, or "
                           "installNoConntrackIptablesRules off.", "reject")


# -- silently off ----------------------------------------------------------------------------------
def _gateway_needs_kpr(v: HelmValues, line: CiliumLine) -> Iterator[ChartFinding]:
    if not v.on("gatewayAPI.enabled") or v.kube_proxy_replacement:
        return
    if line.gateway_accepts_node_port and v.on("nodePort.enabled"):
        return
    yield ChartFinding("kubeProxyReplacement", "Gateway API stays off without kube-proxy "
                       "replacement (the operator only logs a warning).",
                       "set kubeProxyReplacement: true.", "silent")


def _gateway_overrides_socket_lb(v: HelmValues, line: CiliumLine) -> Iterator[ChartFinding]:
    if (line.gateway_forces_socket_lb_host_namespace_only and v.on("gatewayAPI.enabled")
            and v.is_set("socketLB.hostNamespaceOnly") and not v.on("socketLB.hostNamespaceOnly")):
        yield ChartFinding("socketLB.hostNamespaceOnly", f"Cilium {line.minor}'s chart forces "
                           "it to true whenever gatewayAPI.enabled is on; false would be ignored.",
                           "remove socketLB.hostNamespaceOnly, or turn Gateway API off.",
                           "silent")


def _l2_announcements_need_kpr(v: HelmValues, line: CiliumLine) -> Iterator[ChartFinding]:
    if v.on("l2announcements.enabled") and not v.kube_proxy_replacement:
        yield ChartFinding("kubeProxyReplacement", "L2 announcements stay off without kube-proxy "
                           "replacement.", "set kubeProxyReplacement: true.", "silent")


VALUES_SCHEMA_RULE = "values-schema"
CHART_TEMPLATES_RULE = "chart-templates"
# The chart's own `fail` calls (start of the message) that the named rules here restate, with
# the cases and fixes this project cares about; every other call is in upstream.cilium_chart_templates.
MIRRORED_BY_NAMED_RULES: dict[str, str] = {
    "ipv4NativeRoutingCIDR must be set when routingMode is native": "native-routing-cidr",
    "kubeProxyReplacement must be explicitly set to a valid value":
        "kube-proxy-replacement-boolean",
    "Cilium GatewayAPI needs an externalTrafficPolicy": "gateway-traffic-policy",
    "Hubble Relay requires .Values.hubble.enabled=true": "hubble-chain",
    "Hubble UI requires .Values.hubble.relay.enabled=true": "hubble-chain",
    "Ingress or Gateway API controller or Envoy L7 Load Balancer": "l7-proxy-required",
    "The cluster name is invalid: cannot be empty": "cluster-identity",
    "The cluster name is invalid: cannot use default value with cluster.id": "cluster-identity",
    "The cluster name is invalid: must consist of lower case": "cluster-identity",
    "The cluster name is invalid: must not be more than 32 characters": "cluster-identity",
    "max-connected-clusters must be set to 255 or 511": "cluster-identity",
}
# Stable ids: the policy pack groups findings into its policies by these.
RULES: dict[str, Rule] = {
    VALUES_SCHEMA_RULE: _values_schema,
    CHART_TEMPLATES_RULE: _chart_templates,
    "l7-proxy-required": _envoy_features_need_l7_proxy,
    "gateway-traffic-policy": _gateway_traffic_policy,
    "cluster-identity": _cluster_identity,
    "hubble-chain": _hubble_chain,
    "kube-proxy-replacement-boolean": _kube_proxy_replacement_is_boolean,
    "enumerations": _enumerations,
    "tunnel-load-balancing": _tunnel_load_balancing,
    "geneve-dispatch-needs-geneve-tunnel": _geneve_dispatch_needs_geneve,
    "direct-routes-need-native-routing": _direct_routes_need_native_routing,
    "maglev": _maglev,
    "egress-gateway-prerequisites": _egress_gateway,
    "egress-gateway-without-cluster-mesh": _egress_gateway_without_cluster_mesh,
    "single-encryption": _single_encryption,
    "xdp-needs-kube-proxy-replacement": _xdp_needs_kpr,
    "no-conntrack-prerequisites": _no_conntrack_rules,
    "gateway-needs-kube-proxy-replacement": _gateway_needs_kpr,
    "gateway-overrides-socket-lb": _gateway_overrides_socket_lb,
    "l2-announcements-need-kube-proxy-replacement": _l2_announcements_need_kpr,
    # The agent's start-up refusals read from Cilium's source (upstream.cilium_agent).
    **AGENT_RULES,
}
# Rules that also look at the cluster's pod range (given by the caller: it is k3s config, not a
# Helm value).
PodCidrRule = Callable[[HelmValues, CiliumLine, IPv4Network | None], Iterator[ChartFinding]]
NATIVE_ROUTING_CIDR_RULE = "native-routing-cidr"
NATIVE_ROUTING_CIDR_CONTAINS_PODS_RULE = "native-routing-cidr-contains-pods"
POD_CIDR_RULES: dict[str, PodCidrRule] = {
    NATIVE_ROUTING_CIDR_RULE: _native_routing_cidr,
    NATIVE_ROUTING_CIDR_CONTAINS_PODS_RULE: _native_routing_cidr_contains_pods,
}
RULE_IDS = (*RULES, *POD_CIDR_RULES)


def check_helm_values(values: Mapping[str, Any], version: str, *,
                      pod_cidr: IPv4Network | None = None,
                      rules: Iterable[str] | None = None) -> list[ChartFinding]:
    """Every way these Helm values fail on this Cilium version. Empty when they are accepted.

    ``pod_cidr`` (the cluster's pod range) is optional: with it, ``ipv4NativeRoutingCIDR`` is
    also checked to contain it. ``rules`` limits the checks to those ids (the policy pack runs
    each group on its own, so an unknown value only stops the policies that read it).
    """
    line = line_of(version)
    if line is None:
        raise ValueError(f"Cilium {version} is not in a supported line")
    selected = RULE_IDS if rules is None else tuple(rules)
    unknown = sorted(set(selected) - set(RULE_IDS))
    if unknown:
        raise ValueError(f"no chart rule(s) {', '.join(unknown)}")
    effective = HelmValues(values, line)
    findings: list[ChartFinding] = []
    for rule_id in selected:
        if rule_id in RULES:
            found = RULES[rule_id](effective, line)
        else:
            found = POD_CIDR_RULES[rule_id](effective, line, pod_cidr)
        findings += [replace(finding, rule=rule_id) for finding in found]
    return findings
