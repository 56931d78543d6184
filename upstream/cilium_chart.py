"""Cilium Helm values that fail: the chart's ``validate.yaml`` rejections, the agent's start-up
refusals, and the combinations where a feature stays silently off.

Pure functions over the Helm values (Cilium's own names) and the chart version, so the config
validator (before any resource exists) and the policy pack (on the registered Helm release) run
the same checks. A value that is not set falls back to the chart default of that line
(``CiliumLine.chart_defaults``), as Helm would.

Ref: cilium/cilium install/kubernetes/cilium/templates/validate.yaml (1.16–1.20), listed in full in
     domain notes §2; agent-side rules from the same notes (each names its upstream source).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from ipaddress import IPv4Network, ip_network
from typing import Any, Literal

from upstream.cilium import CiliumLine, line_of

Effect = Literal["reject", "silent"]
"""``reject``: ``helm template`` or the agent refuses. ``silent``: the feature is quietly off."""

# Ref: Cilium docs network/kubernetes/kubeproxy-free.rst (maglev.tableSize must be one of these)
MAGLEV_TABLE_SIZES = (251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071)
MAGLEV_SEED_BYTES = 12
LOAD_BALANCER_MODES = ("snat", "dsr", "hybrid")
DSR_DISPATCHES = ("opt", "ipip", "geneve")
LOAD_BALANCER_ALGORITHMS = ("random", "maglev")
ACCELERATIONS = ("disabled", "native", "best-effort")
TUNNEL_PROTOCOLS = ("", "vxlan", "geneve")
CLUSTER_NAME = re.compile(r"^([a-z0-9][-a-z0-9]*)?[a-z0-9]$")
CLUSTER_NAME_MAX = 32
MAX_CONNECTED_CLUSTERS = (255, 511)


@dataclass(frozen=True)
class ChartFinding:
    path: str
    """Helm value path (``loadBalancer.mode``) the finding is about."""
    message: str
    fix: str
    effect: Effect
    rule: str = ""
    """Id of the check that produced it (a key of ``RULES``), for the policy pack's grouping."""

    def __str__(self) -> str:
        return f"{self.path}: {self.message} Fix: {self.fix}"


class HelmValues:
    """Helm values as the chart sees them: what is set, else the line's chart default."""

    def __init__(self, values: Mapping[str, Any], line: CiliumLine) -> None:
        self._values = values
        self._line = line

    def is_set(self, path: str) -> bool:
        return _lookup(self._values, path)[0]

    def get(self, path: str) -> Any:
        found, value = _lookup(self._values, path)
        return value if found else self._line.chart_defaults.get(path)

    def on(self, path: str) -> bool:
        return go_truthy(self.get(path))

    @property
    def kube_proxy_replacement(self) -> bool:
        return helm_string(self.get("kubeProxyReplacement")) == "true"

    @property
    def routing_mode(self) -> str:
        # An empty routingMode means tunnel (values.yaml: "@default -- tunnel").
        return str(self.get("routingMode") or "tunnel")

    @property
    def ipv4_masquerade(self) -> bool:
        # enableIPv4Masquerade: "true unless ipam eni mode is active" when left null.
        value = self.get("enableIPv4Masquerade")
        return True if value is None else go_truthy(value)


def _lookup(values: Mapping[str, Any], path: str) -> tuple[bool, Any]:
    node: Any = values
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return False, None
        node = node[part]
    return True, node


def go_truthy(value: Any) -> bool:
    """Truth as Go templates see it: only false, 0, nil and empty values are false."""
    return value not in (None, False, 0, "") and value != [] and value != {}


def whole_number(value: Any) -> int | None:
    """An integer, also when it arrives as 12.0 (Pulumi sends every number as a float)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return int(value) if float(value).is_integer() else None


def helm_string(value: Any) -> str:
    """``toString`` as the chart applies it (booleans become ``true``/``false``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


Rule = Callable[[HelmValues, CiliumLine], Iterator[ChartFinding]]


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
                           f"{cluster_id}.", "give every meshed cluster a unique cluster.name.",
                           "reject")
    max_clusters = v.get("clustermesh.maxConnectedClusters")
    if max_clusters not in MAX_CONNECTED_CLUSTERS:
        yield ChartFinding("clustermesh.maxConnectedClusters",
                           f"{max_clusters} is not supported.", "use 255 or 511.", "reject")
    # Ref: Cilium docs network/clustermesh/clustermesh.rst (cluster.id 1–255, or 1–511)
    highest = 511 if max_clusters == 511 else 255
    number = whole_number(cluster_id)
    if number is None or not 0 <= number <= highest:
        yield ChartFinding("cluster.id", f"{cluster_id!r} is outside 0–{highest}; the agent "
                           "refuses to start.", f"use a number from 1 to {highest} (0 outside "
                           "Cluster Mesh).", "reject")


def _hubble_chain(v: HelmValues, line: CiliumLine) -> Iterator[ChartFinding]:
    if v.on("hubble.ui.enabled") and not v.on("hubble.relay.enabled"):
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
    mode = v.get("loadBalancer.mode") or "snat"
    if v.routing_mode != "tunnel" or mode == "snat":
        return
    dispatch = v.get("loadBalancer.dsrDispatch") or "opt"
    protocol = v.get("tunnelProtocol") or "vxlan"
    if dispatch != "geneve" or protocol != "geneve":
        yield ChartFinding("loadBalancer.mode", f"'{mode}' load balancing in tunnel routing needs "
                           f"Geneve dispatch and a Geneve tunnel (have dsrDispatch '{dispatch}', "
                           f"tunnelProtocol '{protocol}').",
                           "set loadBalancer.dsrDispatch: geneve and tunnelProtocol: geneve, "
                           "use routingMode: native, or loadBalancer.mode: snat.", "reject")


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
    try:
        routed = ip_network(text, strict=False)
    except ValueError:
        yield ChartFinding("ipv4NativeRoutingCIDR", f"'{text}' is not a CIDR.",
                           "write it like 10.42.0.0/16.", "reject")
        return
    if pod_cidr is not None and (routed.version != 4 or not pod_cidr.subnet_of(routed)):
        yield ChartFinding("ipv4NativeRoutingCIDR", f"{routed} does not contain the pod CIDR "
                           f"{pod_cidr}; pod traffic would be masqueraded or dropped.",
                           "use the pod CIDR (k3s.clusterCidr) or a range containing it.",
                           "reject")


def _maglev(v: HelmValues, line: CiliumLine) -> Iterator[ChartFinding]:
    size = v.get("maglev.tableSize")
    if v.is_set("maglev.tableSize") and size not in MAGLEV_TABLE_SIZES:
        yield ChartFinding("maglev.tableSize", f"{size!r} is not one of the supported primes.",
                           f"use one of {', '.join(map(str, MAGLEV_TABLE_SIZES))}.", "reject")
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


def _no_conntrack_rules(v: HelmValues, line: CiliumLine) -> Iterator[ChartFinding]:
    if not v.on("installNoConntrackIptablesRules"):
        return
    if not (v.kube_proxy_replacement and v.routing_mode == "native" and v.on("bpf.masquerade")):
        yield ChartFinding("installNoConntrackIptablesRules", "needs kubeProxyReplacement: true, "
                           "routingMode: native and bpf.masquerade: true.",
                           "set those three, or turn installNoConntrackIptablesRules off.",
                           "reject")


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


# Stable ids: the policy pack groups findings into its policies by these.
RULES: dict[str, Rule] = {
    "l7-proxy-required": _envoy_features_need_l7_proxy,
    "gateway-traffic-policy": _gateway_traffic_policy,
    "cluster-identity": _cluster_identity,
    "hubble-chain": _hubble_chain,
    "kube-proxy-replacement-boolean": _kube_proxy_replacement_is_boolean,
    "enumerations": _enumerations,
    "tunnel-load-balancing": _tunnel_load_balancing,
    "direct-routes-need-native-routing": _direct_routes_need_native_routing,
    "maglev": _maglev,
    "egress-gateway-prerequisites": _egress_gateway,
    "no-conntrack-prerequisites": _no_conntrack_rules,
    "gateway-needs-kube-proxy-replacement": _gateway_needs_kpr,
    "gateway-overrides-socket-lb": _gateway_overrides_socket_lb,
    "l2-announcements-need-kube-proxy-replacement": _l2_announcements_need_kpr,
}
NATIVE_ROUTING_CIDR_RULE = "native-routing-cidr"


def check_helm_values(values: Mapping[str, Any], version: str, *,
                      pod_cidr: IPv4Network | None = None) -> list[ChartFinding]:
    """Every way these Helm values fail on this Cilium version. Empty when they are accepted.

    ``pod_cidr`` (the cluster's pod range) is optional: with it, ``ipv4NativeRoutingCIDR`` is
    also checked to contain it.
    """
    line = line_of(version)
    if line is None:
        raise ValueError(f"Cilium {version} is not in a supported line")
    effective = HelmValues(values, line)
    findings = [replace(finding, rule=rule_id)
                for rule_id, rule in RULES.items() for finding in rule(effective, line)]
    findings += [replace(finding, rule=NATIVE_ROUTING_CIDR_RULE)
                 for finding in _native_routing_cidr(effective, line, pod_cidr)]
    return findings
