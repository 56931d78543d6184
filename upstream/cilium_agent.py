"""What the Cilium agent refuses at start, or quietly turns off, for values the chart renders.

The chart passes most values to the agent's ConfigMap unchecked; the agent then validates them at
start (``daemon/cmd/root.go``: ``option.Config.Validate``, fatal on error) and in the cells behind
each feature. ``tools/cilium_agent_checks.py`` lists every refusal and warning of those functions
from Cilium's source, per supported line, into ``upstream/cilium_charts/agent-checks.json``;
``AGENT_CHECKS`` below says, for each one, which rule mirrors it or why none does, and a test
fails on any listed check that is not classified (and on any classification no check needs).

The rules are pure functions over the Helm values, registered with the chart rules
(``upstream.cilium_chart.RULES``), so the config validator and the policy pack run them alike.
Each names the upstream function it mirrors, at the versions the facts were read from.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from upstream.cilium import CiliumLine
from upstream.cilium_helm_values import ChartFinding, HelmValues, helm_string, shown, whole_number

FACTS_FILE = Path(__file__).resolve().parent / "cilium_charts" / "agent-checks.json"

# Ref: pkg/datapath/tunnel/tunnel.go:newConfig: v1.18.11 and v1.19.6 accept ipv4 and ipv6 only;
# v1.20.0 adds auto (IPv4 when enabled, else IPv6) and checks the family is enabled.
UNDERLAY_AUTO_SINCE = (1, 20)
# Ref: pkg/egressgateway/manager.go:NewEgressGatewayManager ("requires an IPv4 underlay", v1.19.6+)
EGRESS_GATEWAY_NEEDS_IPV4_UNDERLAY_SINCE = (1, 19)
# Ref: pkg/loadbalancer/config.go:NewConfig (lb-reflector-wait-time, v1.20.0+)
REFLECTOR_WAIT_TIME_SINCE = (1, 20)


@cache
def _facts() -> dict[str, Any]:
    return json.loads(FACTS_FILE.read_text())["lines"]


def agent_facts(line: CiliumLine) -> dict[str, Any]:
    """The agent source facts of a line: ``checks``, ``facts``, ``source`` (the version read)."""
    return _facts()[line.minor]


def maglev_table_sizes(line: CiliumLine) -> tuple[int, ...]:
    # Ref: pkg/maglev/maglev.go maglevSupportedTableSizes, checked in UserConfig.ToConfig.
    return tuple(agent_facts(line)["facts"]["maglevTableSizes"])


def _limits(line: CiliumLine) -> dict[str, int]:
    return agent_facts(line)["facts"]["mapSizeLimits"]


def _finding(path: str, message: str, fix: str, effect: str = "reject") -> ChartFinding:
    return ChartFinding(path, message, fix, effect)  # type: ignore[arg-type]


def _ipv4_enabled(v: HelmValues) -> bool:
    return v.get("ipv4.enabled") is not False  # chart default true


def _ipv6_enabled(v: HelmValues) -> bool:
    return v.get("ipv6.enabled") is True


def underlay(v: HelmValues) -> str:
    """The tunnel underlay family the agent selects (the chart renders ``underlay-protocol``
    only when set; the agent's default is ipv4 before 1.20 and auto from 1.20)."""
    value = helm_string(v.get("underlayProtocol"))
    if not value or value == "auto":
        return "ipv4" if _ipv4_enabled(v) or not _ipv6_enabled(v) else "ipv6"
    return value


# -- pkg/datapath/tunnel/tunnel.go:newConfig --------------------------------------------------------
def _underlay_protocol(v: HelmValues, line: CiliumLine) -> Iterator[ChartFinding]:
    value = helm_string(v.get("underlayProtocol"))
    if not value:
        return
    allowed = ("ipv4", "ipv6", "auto") if line.version >= UNDERLAY_AUTO_SINCE else ("ipv4", "ipv6")
    if value not in allowed:
        yield _finding("underlayProtocol", f"'{value}' is not an underlay the Cilium "
                       f"{line.minor} agent accepts; it refuses to start.",
                       f"use one of {', '.join(allowed)}, or remove it.")
        return
    if line.version < UNDERLAY_AUTO_SINCE:
        return
    for family, enabled in (("ipv4", _ipv4_enabled(v)), ("ipv6", _ipv6_enabled(v))):
        if value == family and not enabled:
            yield _finding("underlayProtocol", f"{family} underlay with {family}.enabled off; the "
                           "agent refuses to start.", f"set {family}.enabled: true, or use the "
                           "other underlay family.")
    if value == "auto" and not _ipv4_enabled(v) and not _ipv6_enabled(v):
        yield _finding("underlayProtocol", "auto underlay with both ipv4.enabled and "
                       "ipv6.enabled off; the agent refuses to start.", "enable an IP family.")


def _tunnel_source_port_range(v: HelmValues, line: CiliumLine) -> Iterator[ChartFinding]:
    # Sscanf(range, "%d-%d"): two integers joined by a dash (the chart default is 0-0).
    text = helm_string(v.get("tunnelSourcePortRange"))
    if v.is_set("tunnelSourcePortRange") and text and not re.match(r"^[+-]?\d+-[+-]?\d+", text):
        yield _finding("tunnelSourcePortRange", f"'{text}' is not a port range; the agent refuses "
                       "to start.", "write it as low-high, e.g. 0-0 (the kernel decides).")


# -- pkg/option/config.go:DaemonConfig.Validate -----------------------------------------------------
def _negative_mtu(v: HelmValues, line: CiliumLine) -> Iterator[ChartFinding]:
    # Ref: v1.18.11 DaemonConfig.Validate "MTU '%d' cannot be negative" (gone in v1.19).
    number = whole_number(v.get("MTU"))
    if line.version < (1, 19) and number is not None and number < 0:
        yield _finding("MTU", f"{number} is negative; the agent refuses to start.",
                       "remove MTU (the program sets the Hetzner network's 1450).")


def _eni_ipv6(v: HelmValues, line: CiliumLine) -> Iterator[ChartFinding]:
    # Ref: v1.18.11/v1.19.6 DaemonConfig.Validate "IPv6 cannot be enabled in ENI IPAM mode".
    if line.version < (1, 20) and helm_string(v.get("ipam.mode")) == "eni" and _ipv6_enabled(v):
        yield _finding("ipv6.enabled", "IPv6 with ipam.mode eni; the agent refuses to start.",
                       "turn ipv6.enabled off (ENI is AWS IPAM; on Hetzner use ipam.mode: "
                       "kubernetes).")


def _policy_cidr_match_mode(v: HelmValues, line: CiliumLine) -> Iterator[ChartFinding]:
    # Ref: DaemonConfig.validatePolicyCIDRMatchMode: "nodes" and "pods" only. The chart joins a
    # list with spaces; a string is passed as it is.
    value = v.get("policyCIDRMatchMode")
    if isinstance(value, str):
        modes = value.split()
    elif isinstance(value, (list, tuple)):
        modes = [helm_string(m) for m in value]
    else:
        modes = [] if value is None else [helm_string(value)]
    unknown = [m for m in modes if m not in ("nodes", "pods")]
    if unknown:
        yield _finding("policyCIDRMatchMode", f"{', '.join(map(repr, unknown))} is not a CIDR "
                       "match mode; the agent refuses to start.", "use nodes and/or pods.")


# -- pkg/option/config.go:DaemonConfig.checkIPAMDelegatedPlugin ------------------------------------
def _delegated_ipam(v: HelmValues, line: CiliumLine) -> Iterator[ChartFinding]:
    if helm_string(v.get("ipam.mode")) != "delegated-plugin":
        return
    # The chart renders no local-router-ipv4/-ipv6, which this mode requires per enabled family.
    for family, enabled in (("IPv4", _ipv4_enabled(v)), ("IPv6", _ipv6_enabled(v))):
        if enabled:
            yield _finding("ipam.mode", f"delegated-plugin IPAM needs local-router-{family.lower()}, "
                           f"which the chart cannot set; with {family} on the agent refuses to "
                           "start.", "use ipam.mode: kubernetes (the program's default).")


# -- pkg/option/config.go:DaemonConfig.checkMapSizeLimits -------------------------------------------
def _map_sizes(v: HelmValues, line: CiliumLine) -> Iterator[ChartFinding]:
    limits = _limits(line)
    # The chart renders these only when set to a non-zero number.
    bounds = {"bpf.authMapMax": ("AuthMapEntriesMin", "AuthMapEntriesMax"),
              "bpf.ctTcpMax": ("LimitTableMin", "LimitTableMax"),
              "bpf.ctAnyMax": ("LimitTableMin", "LimitTableMax"),
              "bpf.natMax": ("LimitTableMin", "LimitTableMax")}
    sizes = {path: whole_number(v.get(path)) for path in bounds}
    for path, (low, high) in bounds.items():
        size = sizes[path]
        if size and not limits[low] <= size <= limits[high]:
            yield _finding(path, f"{size} is outside {limits[low]}–{limits[high]}; the agent "
                           "refuses to start.", f"use a size from {limits[low]} to {limits[high]}, "
                           "or remove it (the agent sizes the map from the node's memory).")
    tcp, other, nat = sizes["bpf.ctTcpMax"], sizes["bpf.ctAnyMax"], sizes["bpf.natMax"]
    if tcp and other and nat and nat > tcp + other \
            and nat != limits["NATMapEntriesGlobalDefault"]:
        yield _finding("bpf.natMax", f"{nat} exceeds the CT tables' {tcp + other} entries "
                       "(bpf.ctTcpMax + bpf.ctAnyMax); the agent refuses to start.",
                       "lower bpf.natMax or raise the CT sizes.")


# -- pkg/loadbalancer/config.go:NewConfig -----------------------------------------------------------
def _lb_map_max(v: HelmValues, line: CiliumLine) -> Iterator[ChartFinding]:
    size = whole_number(v.get("bpf.lbMapMax"))
    if v.is_set("bpf.lbMapMax") and size is not None and size <= 0:
        yield _finding("bpf.lbMapMax", f"{size} entries; the agent refuses to start.",
                       "use a positive size, or remove it (chart default 65536).")


def _node_port_range(v: HelmValues, line: CiliumLine) -> Iterator[ChartFinding]:
    if not v.is_set("nodePort.range"):
        return
    text = helm_string(v.get("nodePort.range"))
    parts = text.split(",")
    ports = [int(p) if p.isdigit() and int(p) < 1 << 16 else None for p in parts]
    if len(parts) != 2 or None in ports:
        yield _finding("nodePort.range", f"'{text}' is not a min,max port range; the agent "
                       "refuses to start.", "write it as \"30000,32767\".")
    elif ports[1] <= ports[0]:  # type: ignore[operator]
        yield _finding("nodePort.range", f"'{text}': the min port must be below the max port; "
                       "the agent refuses to start.", "write it as \"min,max\".")


def _mode_annotation(v: HelmValues, line: CiliumLine) -> Iterator[ChartFinding]:
    if not v.on("bpf.lbModeAnnotation"):
        return
    mode = helm_string(v.get("loadBalancer.mode")) or "snat"
    if mode == "hybrid":
        yield _finding("loadBalancer.mode", "hybrid is not supported as the default mode with "
                       "bpf.lbModeAnnotation; the agent refuses to start.",
                       "use snat or dsr as the default, or turn bpf.lbModeAnnotation off.")
    # Ref: v1.20.0 pkg/kpr/initializer InitKubeProxyReplacementOptions: with a VXLAN tunnel and
    # per-Service modes, only the ipip dispatch.
    if line.version >= (1, 20) and v.kube_proxy_replacement and v.tunnels \
            and (helm_string(v.get("tunnelProtocol")) or "vxlan") == "vxlan" \
            and (helm_string(v.get("loadBalancer.dsrDispatch")) or "opt") != "ipip":
        yield _finding("loadBalancer.dsrDispatch", "with a VXLAN tunnel and "
                       "bpf.lbModeAnnotation only the ipip dispatch is supported; the agent "
                       "refuses to start.", "set loadBalancer.dsrDispatch: ipip, or turn "
                       "bpf.lbModeAnnotation off.")


_DURATION = re.compile(r"^[-+]?((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+$")


def _reflector_wait_time(v: HelmValues, line: CiliumLine) -> Iterator[ChartFinding]:
    if line.version < REFLECTOR_WAIT_TIME_SINCE or not v.is_set("loadBalancer.reflectorWaitTime"):
        return
    text = helm_string(v.get("loadBalancer.reflectorWaitTime"))
    positive = _DURATION.match(text) and not text.startswith("-") \
        and any(float(n) > 0 for n in re.findall(r"\d+(?:\.\d*)?|\.\d+", text))
    if not positive:
        yield _finding("loadBalancer.reflectorWaitTime", f"'{text}' is not a positive duration; "
                       "the agent refuses to start.", "write a Go duration such as 500ms.")


# -- kube_proxy_replacement.go:InitKubeProxyReplacementOptions --------------------------------------
def _xdp_with_ipv6_underlay(v: HelmValues, line: CiliumLine) -> Iterator[ChartFinding]:
    acceleration = helm_string(v.get("loadBalancer.acceleration")) or "disabled"
    if v.kube_proxy_replacement and v.tunnels and underlay(v) == "ipv6" \
            and acceleration != "disabled":
        yield _finding("loadBalancer.acceleration", f"XDP acceleration ({acceleration}) cannot "
                       "be used with an IPv6 tunnel underlay; the agent refuses to start.",
                       "set loadBalancer.acceleration: disabled, or use the ipv4 underlay.")


def _ipip_dispatch_needs_xdp(v: HelmValues, line: CiliumLine) -> Iterator[ChartFinding]:
    # Ref: v1.18.11 daemon/cmd/kube_proxy_replacement.go "DSR dispatch mode %q currently only
    # available under XDP acceleration" (dropped in v1.19).
    acceleration = helm_string(v.get("loadBalancer.acceleration")) or "disabled"
    if line.version < (1, 19) and v.kube_proxy_replacement and v.uses_dsr \
            and helm_string(v.get("loadBalancer.dsrDispatch")) == "ipip" \
            and acceleration == "disabled":
        yield _finding("loadBalancer.dsrDispatch", "the ipip dispatch needs XDP acceleration on "
                       f"Cilium {line.minor}; the agent refuses to start.", "set "
                       "loadBalancer.acceleration: best-effort (the program's default).")


# -- pkg/egressgateway/manager.go:NewEgressGatewayManager -------------------------------------------
def _egress_gateway_underlay(v: HelmValues, line: CiliumLine) -> Iterator[ChartFinding]:
    if v.on("egressGateway.enabled") and line.version >= EGRESS_GATEWAY_NEEDS_IPV4_UNDERLAY_SINCE \
            and underlay(v) != "ipv4":
        yield _finding("underlayProtocol", "the egress gateway needs an IPv4 underlay; the agent "
                       "refuses to start.", "use underlayProtocol: ipv4, or turn the egress "
                       "gateway off.")


# -- pkg/datapath/linux/bandwidth/bandwidth.go:manager.probe ----------------------------------------
def host_legacy_routing(v: HelmValues) -> bool:
    """BPF host routing is off: asked for, or forced because masquerading goes through iptables
    or kube-proxy stays (InitKubeProxyReplacementOptions: "Falling back to legacy host routing")."""
    if v.on("bpf.hostLegacyRouting"):
        return True
    iptables_masquerade = v.ipv4_masquerade and not v.on("bpf.masquerade")
    return iptables_masquerade or not v.kube_proxy_replacement


def _bandwidth_manager(v: HelmValues, line: CiliumLine) -> Iterator[ChartFinding]:
    if not v.on("bandwidthManager.enabled"):
        return
    bbr, hostns_only = v.on("bandwidthManager.bbr"), v.on("bandwidthManager.bbrHostNamespaceOnly")
    if hostns_only and not bbr:
        yield _finding("bandwidthManager.bbrHostNamespaceOnly", "needs bandwidthManager.bbr; the "
                       "agent refuses to start.", "set bandwidthManager.bbr: true, or remove it.")
    if bbr and not hostns_only and host_legacy_routing(v):
        yield _finding("bandwidthManager.bbr", "BBR for pods needs BPF host routing, which is off "
                       "(bpf.hostLegacyRouting, or forced by iptables masquerading or kube-proxy "
                       "staying); the agent refuses to start.", "keep kubeProxyReplacement: true "
                       "and bpf.masquerade: true (the program's defaults) and bpf.hostLegacyRouting "
                       "unset, or set bandwidthManager.bbrHostNamespaceOnly: true.")


def _bandwidth_manager_with_ipsec(v: HelmValues, line: CiliumLine) -> Iterator[ChartFinding]:
    if v.on("bandwidthManager.enabled") and v.on("encryption.enabled") \
            and helm_string(v.get("encryption.type")) == "ipsec":
        yield _finding("bandwidthManager.enabled", "the agent turns the bandwidth manager off "
                       "with IPsec (it only logs a warning).", "use encryption.type: wireguard, "
                       "or turn the bandwidth manager off.", "silent")


# -- daemon/cmd/daemon_main.go:initEnv ---------------------------------------------------------------
def _ip_family(v: HelmValues, line: CiliumLine) -> Iterator[ChartFinding]:
    if not _ipv4_enabled(v) and not _ipv6_enabled(v):
        yield _finding("ipv4.enabled", "IPv4 and IPv6 are both off; the agent refuses to start.",
                       "leave ipv4.enabled on (the Hetzner network is IPv4).")


DATAPATH_MODES = ("veth", "netkit", "netkit-l2")


def _datapath_mode(v: HelmValues, line: CiliumLine) -> Iterator[ChartFinding]:
    # Ref: v1.18.11/v1.19.6 initEnv "Invalid datapath mode" (1.20 validates it elsewhere).
    mode = helm_string(v.get("bpf.datapathMode"))
    if line.version < (1, 20) and v.is_set("bpf.datapathMode") and mode not in DATAPATH_MODES:
        yield _finding("bpf.datapathMode", f"'{mode}' is not a datapath mode; the agent refuses "
                       "to start.", f"use one of {', '.join(DATAPATH_MODES)}.")


# Ref: pkg/option/monitor.go monitorAggregationOption. The agent also takes the numbers 0–4,
# but the chart writes this value into the ConfigMap unquoted, where a number is not a string
# and the ConfigMap is refused: only the names work through the chart.
MONITOR_AGGREGATION = ("", "none", "disabled", "lowest", "low", "medium", "max", "maximum")


def _monitor_aggregation(v: HelmValues, line: CiliumLine) -> Iterator[ChartFinding]:
    value = helm_string(v.get("bpf.monitorAggregation"))
    if v.is_set("bpf.monitorAggregation") and value.lower() not in MONITOR_AGGREGATION:
        yield _finding("bpf.monitorAggregation", f"'{value}' is not a monitor aggregation level; "
                       "the agent refuses to start.", "use none, low, medium or maximum.")


def _ipam_and_routing(v: HelmValues, line: CiliumLine) -> Iterator[ChartFinding]:
    mode = helm_string(v.get("ipam.mode"))
    if mode == "eni" and v.tunnels:
        yield _finding("ipam.mode", "eni IPAM cannot be used with tunnel routing; the agent "
                       "refuses to start.", "use ipam.mode: kubernetes (ENI is AWS IPAM).")
    # Ref: v1.18.11 initEnv "IPAM mode %s with %s is supported only in tunnel mode."
    if line.version < (1, 19) and mode == "multi-pool" and _ipsec(v) and not v.tunnels:
        yield _finding("ipam.mode", "multi-pool IPAM with IPsec needs tunnel routing on Cilium "
                       f"{line.minor}; the agent refuses to start.", "use ipam.mode: kubernetes.")


# -- the daemon's configuration checks (daemon/cmd/daemon.go) ----------------------------------------
def _ipsec(v: HelmValues) -> bool:
    return v.on("encryption.enabled") and helm_string(v.get("encryption.type")) == "ipsec"


def _wireguard(v: HelmValues) -> bool:
    return v.on("encryption.enabled") and helm_string(v.get("encryption.type")) == "wireguard"


def masquerading(v: HelmValues) -> bool:
    """DaemonConfig.MasqueradingEnabled: IPv4 masquerading (with IPv4 on) or IPv6 masquerading
    (with IPv6 on; the chart default of enableIPv6Masquerade is true)."""
    ipv4 = _ipv4_enabled(v) and v.ipv4_masquerade
    ipv6 = _ipv6_enabled(v) and v.get("enableIPv6Masquerade") is not False
    return ipv4 or ipv6


def _bpf_masquerade(v: HelmValues, line: CiliumLine) -> Iterator[ChartFinding]:
    bpf_masquerade = v.on("bpf.masquerade")
    if masquerading(v) and bpf_masquerade:
        # Ref: v1.18.11 newDaemon "BPF masquerade requires NodePort".
        node_port = v.kube_proxy_replacement or v.on("nodePort.enabled")
        if line.version < (1, 19) and not node_port:
            yield _finding("bpf.masquerade", f"BPF masquerading needs the BPF NodePort on Cilium "
                           f"{line.minor} (kube-proxy replacement or nodePort.enabled); the agent "
                           "refuses to start.", "set kubeProxyReplacement: true (the program's "
                           "default), or bpf.masquerade: false.")
        if v.is_set("egressMasqueradeInterfaces") and helm_string(
                v.get("egressMasqueradeInterfaces")):
            yield _finding("egressMasqueradeInterfaces", "BPF masquerading takes no masquerade "
                           "interfaces; the agent refuses to start.", "remove it (BPF "
                           "masquerading uses the native devices), or set bpf.masquerade: false.")
        if v.on("enableMasqueradeRouteSource"):
            yield _finding("enableMasqueradeRouteSource", "not supported with BPF masquerading; "
                           "the agent refuses to start.", "remove it, or set bpf.masquerade: "
                           "false.")
    elif v.on("ipMasqAgent.enabled"):
        yield _finding("ipMasqAgent.enabled", "the ip-masq-agent needs BPF masquerading and IPv4 "
                       "or IPv6 masquerading; the agent refuses to start.",
                       "set bpf.masquerade: true and leave enableIPv4Masquerade on.")
    elif bpf_masquerade:
        yield _finding("bpf.masquerade", "BPF masquerading with IPv4 and IPv6 masquerading both "
                       "off; the agent refuses to start.", "leave enableIPv4Masquerade on, or set "
                       "bpf.masquerade: false.")


def _encryption_combinations(v: HelmValues, line: CiliumLine) -> Iterator[ChartFinding]:
    if _ipsec(v):
        if v.on("l7Proxy") and v.get("dnsProxy.enableTransparentMode") is False:
            yield _finding("dnsProxy.enableTransparentMode", "IPsec with the L7 proxy needs the "
                           "DNS proxy's transparent mode; the agent refuses to start.",
                           "remove dnsProxy.enableTransparentMode (the chart turns it on).")
        if v.on("hostFirewall.enabled"):
            yield _finding("hostFirewall.enabled", "the host firewall cannot be used with IPsec; "
                           "the agent refuses to start.", "use encryption.type: wireguard, or "
                           "turn the host firewall off.")
        if line.version >= (1, 19) and v.on("encryption.strictMode.ingress.enabled"):
            yield _finding("encryption.strictMode.ingress.enabled", "IPsec does not support "
                           "strict ingress encryption; the agent refuses to start.",
                           "use encryption.type: wireguard, or turn strict ingress off.")
        overlay_ok = v.tunnels and (helm_string(v.get("tunnelProtocol")) or "vxlan") == "vxlan"
        if line.version < (1, 19) and v.on("encryption.ipsec.encryptedOverlay") and not overlay_ok:
            yield _finding("encryption.ipsec.encryptedOverlay", "the encrypted overlay needs a "
                           f"VXLAN tunnel on Cilium {line.minor}; the agent refuses to start.",
                           "turn it off (native routing encrypts pod traffic without it).")
    if (1, 19) <= line.version < (1, 20) and v.on("encryption.strictMode.ingress.enabled") \
            and not v.tunnels:
        yield _finding("encryption.strictMode.ingress.enabled", "strict ingress encryption needs "
                       f"tunnel routing on Cilium {line.minor}; the agent refuses to start.",
                       "turn strict ingress off with native routing.")
    if line.version < (1, 19) and _wireguard(v) and v.tunnels and underlay(v) == "ipv6":
        yield _finding("underlayProtocol", "WireGuard needs an IPv4 tunnel underlay on Cilium "
                       f"{line.minor}; the agent refuses to start.", "use underlayProtocol: ipv4.")


Rule = Callable[[HelmValues, CiliumLine], Iterator[ChartFinding]]
AGENT_RULES: dict[str, Rule] = {
    "agent-ip-family": _ip_family,
    "agent-datapath-mode": _datapath_mode,
    "agent-monitor-aggregation": _monitor_aggregation,
    "agent-ipam-and-routing": _ipam_and_routing,
    "agent-bpf-masquerade": _bpf_masquerade,
    "agent-encryption-combinations": _encryption_combinations,
    "agent-underlay-protocol": _underlay_protocol,
    "agent-tunnel-source-port-range": _tunnel_source_port_range,
    "agent-negative-mtu": _negative_mtu,
    "agent-eni-ipv6": _eni_ipv6,
    "agent-policy-cidr-match-mode": _policy_cidr_match_mode,
    "agent-delegated-ipam": _delegated_ipam,
    "agent-map-sizes": _map_sizes,
    "agent-lb-map-max": _lb_map_max,
    "agent-node-port-range": _node_port_range,
    "agent-mode-annotation": _mode_annotation,
    "agent-reflector-wait-time": _reflector_wait_time,
    "agent-xdp-ipv6-underlay": _xdp_with_ipv6_underlay,
    "agent-ipip-dispatch-needs-xdp": _ipip_dispatch_needs_xdp,
    "agent-egress-gateway-underlay": _egress_gateway_underlay,
    "agent-bandwidth-manager": _bandwidth_manager,
    "agent-bandwidth-manager-ipsec": _bandwidth_manager_with_ipsec,
}
SILENT_AGENT_RULES = ("agent-bandwidth-manager-ipsec",)


# -- every listed check, classified ------------------------------------------------------------------
@dataclass(frozen=True)
class AgentCheck:
    """One refusal or warning of the agent source (``function`` and the start of ``message``;
    ``arguments`` tells apart equal messages), and what this project does about it."""

    function: str
    message: str
    mirrored_by: str | None = None
    """The rule id (``upstream.cilium_chart.RULE_IDS``) that refuses the same values."""
    not_mirrored: str = ""
    """Why no rule mirrors it (not reachable from chart values, a node property, a warning)."""
    arguments: str = ""

    def matches(self, check: dict[str, str]) -> bool:
        return (check["function"] == self.function and check["message"].startswith(self.message)
                and self.arguments in check["arguments"])


_EXTRA = "no chart value renders this option (only extraConfig/extraArgs, passed unchecked)"
_NODE = "depends on the node at start (kernel, sysctl, mounts), not on a value"
_WARN = "a warning; the feature keeps working as configured"
_PARTIAL = "the wrapped error's own message is classified where it is made"

AGENT_CHECKS: tuple[AgentCheck, ...] = (
    # DaemonConfig.Validate
    AgentCheck("DaemonConfig.Validate", "unable to parse CIDR value", not_mirrored=_EXTRA),
    AgentCheck("DaemonConfig.Validate", "unable to parse internal CIDR value", not_mirrored=_EXTRA),
    AgentCheck("DaemonConfig.Validate", "MTU '%d' cannot be negative", "agent-negative-mtu"),
    AgentCheck("DaemonConfig.Validate", "RouteMetric", not_mirrored=_EXTRA),
    AgentCheck("DaemonConfig.Validate", "IPv6 cannot be enabled in ENI IPAM mode", "agent-eni-ipv6"),
    AgentCheck("DaemonConfig.Validate", "IPv6NDP cannot be enabled", not_mirrored=_EXTRA),
    AgentCheck("DaemonConfig.Validate", "invalid routing mode", "enumerations"),
    AgentCheck("DaemonConfig.Validate", "Failed to validate VTEP configuration",
               not_mirrored="VTEP (vtep.*) integrates an external VXLAN gateway; not mirrored: "
                            "validateVTEP's format checks are left to the agent"),
    AgentCheck("DaemonConfig.checkMapSizeLimits", "specified AuthMap", "agent-map-sizes"),
    AgentCheck("DaemonConfig.checkMapSizeLimits", "specified CT tables", "agent-map-sizes"),
    AgentCheck("DaemonConfig.checkMapSizeLimits", "specified NAT table", "agent-map-sizes"),
    AgentCheck("DaemonConfig.checkMapSizeLimits", "specified max entries %d for fragment",
               not_mirrored=_EXTRA),
    AgentCheck("DaemonConfig.checkIPv4NativeRoutingCIDR", "native routing cidr",
               "native-routing-cidr"),
    AgentCheck("DaemonConfig.checkIPv6NativeRoutingCIDR", "native routing cidr",
               "chart-templates"),  # the chart's own "ipv6NativeRoutingCIDR must be set" fail
    AgentCheck("DaemonConfig.checkIPAMDelegatedPlugin", "--%s must be provided",
               "agent-delegated-ipam"),
    AgentCheck("DaemonConfig.checkIPAMDelegatedPlugin", "--%s must be disabled",
               "agent-delegated-ipam"),  # reached only after the local-router refusal above
    AgentCheck("DaemonConfig.validatePolicyCIDRMatchMode", "unknown CIDR match mode",
               "agent-policy-cidr-match-mode"),
    AgentCheck("DaemonConfig.validateContainerIPLocalReservedPorts", "Invalid comma separated",
               not_mirrored=_EXTRA),
    # Cluster Mesh identity
    AgentCheck("ClusterInfo.InitClusterIDMax", "--%s=%d is invalid", "cluster-identity"),
    AgentCheck("ClusterInfo.Validate", "invalid cluster id", "cluster-identity"),
    AgentCheck("ClusterInfo.validateName", "invalid cluster name", not_mirrored=_PARTIAL),
    AgentCheck("ClusterInfo.validateName", "cannot use default cluster name", "cluster-identity"),
    AgentCheck("ValidateClusterName", "must not be empty", "cluster-identity"),
    AgentCheck("ValidateClusterName", "must not be more than", "cluster-identity"),
    AgentCheck("ValidateClusterName", "must consist of lower case", "cluster-identity"),
    # kube-proxy replacement
    AgentCheck("InitKubeProxyReplacementOptions", "CIDR is not IPv", not_mirrored=_PARTIAL),
    AgentCheck("InitKubeProxyReplacementOptions", "CIDR length must be", not_mirrored=_PARTIAL),
    AgentCheck("InitKubeProxyReplacementOptions", "Invalid value for --%s", not_mirrored=_EXTRA,
               arguments="LoadBalancerRSS"),
    AgentCheck("InitKubeProxyReplacementOptions", "DSR dispatch mode %q currently only",
               "agent-ipip-dispatch-needs-xdp"),
    AgentCheck("InitKubeProxyReplacementOptions", "With %s: %s and %s, %s enabled, N/S",
               not_mirrored="a warning of a documented trade-off (XDP with WireGuard node "
                            "encryption leaves redirected N/S traffic unencrypted)"),
    AgentCheck("InitKubeProxyReplacementOptions", "NodePort BPF configured without bind(2)",
               not_mirrored=_WARN),
    AgentCheck("InitKubeProxyReplacementOptions", "XDP acceleration cannot be used with an IPv6",
               "agent-xdp-ipv6-underlay"),
    AgentCheck("InitKubeProxyReplacementOptions", "Node Port %q mode cannot be used with %s "
               "tunneling", "tunnel-load-balancing"),
    AgentCheck("InitKubeProxyReplacementOptions", "Only --%s=%s is supported with %s tunneling",
               "agent-mode-annotation"),
    AgentCheck("InitKubeProxyReplacementOptions", "Tunnel routing with Node Port",
               "tunnel-load-balancing"),
    AgentCheck("InitKubeProxyReplacementOptions", "Node Port %q mode with %q dispatch requires",
               "geneve-dispatch-needs-geneve-tunnel"),
    AgentCheck("InitKubeProxyReplacementOptions", "Node Port %q mode with IPIP socket mark",
               not_mirrored=_EXTRA),
    AgentCheck("InitKubeProxyReplacementOptions", "%s requires the agent to run with",
               "no-conntrack-prerequisites"),
    AgentCheck("FinishKubeProxyReplacementInit", "NAT46/NAT64 requires SNAT", not_mirrored=_EXTRA),
    AgentCheck("FinishKubeProxyReplacementInit", "Unable to read net.ipv4.conf", not_mirrored=_NODE),
    AgentCheck("FinishKubeProxyReplacementInit", "DSR might not work", not_mirrored=_NODE),
    # daemon start-up: initEnv
    AgentCheck("initEnv", "Unknown verbose debug group", not_mirrored=_WARN),
    AgentCheck("initEnv", "Could not ", not_mirrored=_NODE),
    AgentCheck("initEnv", "Unable to restore agent asset permissions", not_mirrored=_NODE),
    AgentCheck("initEnv", "unable to set memory resource limits", not_mirrored=_NODE),
    AgentCheck("initEnv", "BPF template directory", not_mirrored=_NODE),
    AgentCheck("initEnv", "failed to create header files", not_mirrored=_NODE),
    AgentCheck("initEnv", "Failed to create Pidfile", not_mirrored=_NODE),
    AgentCheck("initEnv", "Cannot mkdir directory for cilium socket", not_mirrored=_NODE),
    AgentCheck("initEnv", "Cannot remove existing Cilium sock", not_mirrored=_NODE),
    AgentCheck("initEnv", "Invalid %s value %d", not_mirrored=_EXTRA),
    AgentCheck("initEnv", "Invalid setting for --allow-localhost", not_mirrored=_EXTRA),
    AgentCheck("initEnv", "Failed to parse %s", "agent-monitor-aggregation",
               arguments="MonitorAggregation"),
    AgentCheck("initEnv", "%s is enabled. Network policy will not be enforced",
               not_mirrored="a warning about policy audit mode, which is asked for on purpose"),
    AgentCheck("initEnv", "Invalid fixed identities", not_mirrored=_EXTRA),
    AgentCheck("initEnv", "Either IPv4 or IPv6 addressing must be enabled", "agent-ip-family"),
    AgentCheck("initEnv", "Unable to parse Label prefix configuration",
               not_mirrored="`labels` is a free-form identity-relevant label filter; its "
                            "syntax is left to the agent"),
    AgentCheck("initEnv", "netkit devices need kernel", "node-kernel"),
    AgentCheck("initEnv", "Invalid datapath mode", "agent-datapath-mode"),
    AgentCheck("initEnv", "--%s=true cannot be used with --%s=%s", not_mirrored=_EXTRA,
               arguments="EnableBPFTProxy"),
    AgentCheck("initEnv", "L7 proxy requires iptables rules", not_mirrored=_EXTRA),
    AgentCheck("initEnv", "Option ", not_mirrored=_EXTRA, arguments="EnableRemoteNodeMasquerade"),
    AgentCheck("initEnv", "IPSec requires DNS proxy transparent mode",
               "agent-encryption-combinations"),
    AgentCheck("initEnv", "IPSec with tunneling requires support for xfrm",
               not_mirrored="a kernel below the agent's own minimum (4.19 < 5.10)"),
    AgentCheck("initEnv", "IPSec encrypted overlay is enabled but IPSec is not",
               not_mirrored="the chart renders the option only inside its IPsec block"),
    AgentCheck("initEnv", "%s cannot be used with tunneling", "direct-routes-need-native-routing",
               arguments="EnableAutoDirectRouting"),
    AgentCheck("initEnv", "SRv6 requires IPv6", not_mirrored=_EXTRA),
    AgentCheck("initEnv", "IPSec cannot be used with the host firewall",
               "agent-encryption-combinations"),
    AgentCheck("initEnv", "Cannot specify %s or %s", not_mirrored=_EXTRA, arguments="LocalRouter"),
    AgentCheck("initEnv", "Cannot specify IPAM mode %s in tunnel mode", "agent-ipam-and-routing"),
    AgentCheck("initEnv", "IPAM mode %s with %s is supported only in tunnel mode",
               "agent-ipam-and-routing"),
    AgentCheck("initEnv", "%s requires the agent to run in direct routing mode",
               "no-conntrack-prerequisites"),
    AgentCheck("initEnv", "%s requires IPv4 support", "no-conntrack-prerequisites"),
    AgentCheck("initEnv", "Bypassing IP allocation upon endpoint restore",
               not_mirrored="a warning about an option the chart does not expose"),
    # daemon start-up: newDaemon (1.18), initAndValidateDaemonConfig (1.19+)
    AgentCheck("newDaemon", "EncryptedOverlay support requires VXLAN",
               "agent-encryption-combinations"),
    AgentCheck("newDaemon", "WireGuard requires an IPv4 underlay", "agent-encryption-combinations"),
    AgentCheck("newDaemon", "Ipsec default interface lookup failed", not_mirrored=_NODE),
    AgentCheck("initAndValidateDaemonConfig", "Ipsec default interface lookup failed",
               not_mirrored=_NODE),
    AgentCheck("newDaemon", "unable to initialize kube-proxy replacement options",
               not_mirrored=_PARTIAL),
    AgentCheck("initAndValidateDaemonConfig", "unable to initialize kube-proxy replacement",
               not_mirrored=_PARTIAL),
    AgentCheck("newDaemon", "Failed to restore existing identities", not_mirrored=_NODE),
    AgentCheck("newDaemon", "error while opening/creating BPF maps", not_mirrored=_NODE),
    AgentCheck("newDaemon", "unable to connect to get node spec", not_mirrored=_NODE),
    AgentCheck("newDaemon", "failed to initialize WireGuard agent", not_mirrored=_NODE),
    AgentCheck("newDaemon", "unable to determine direct routing device", not_mirrored=_NODE),
    AgentCheck("newDaemon", "failed to finalise LB initialization", not_mirrored=_PARTIAL),
    AgentCheck("newDaemon", "BPF masquerade requires NodePort", "agent-bpf-masquerade"),
    AgentCheck("newDaemon", "BPF masquerade does not allow to specify devices",
               "agent-bpf-masquerade"),
    AgentCheck("initAndValidateDaemonConfig", "BPF masquerade does not allow to specify devices",
               "agent-bpf-masquerade"),
    AgentCheck("newDaemon", "unable to initialize BPF masquerade support", not_mirrored=_PARTIAL),
    AgentCheck("initAndValidateDaemonConfig", "unable to initialize BPF masquerade support",
               not_mirrored=_PARTIAL),
    AgentCheck("newDaemon", "BPF masquerading to route source", "agent-bpf-masquerade"),
    AgentCheck("initAndValidateDaemonConfig", "BPF masquerading to route source",
               "agent-bpf-masquerade"),
    AgentCheck("newDaemon", "BPF ip-masq-agent requires", "agent-bpf-masquerade"),
    AgentCheck("initAndValidateDaemonConfig", "BPF ip-masq-agent requires", "agent-bpf-masquerade"),
    AgentCheck("newDaemon", "BPF masquerade requires (", "agent-bpf-masquerade"),
    AgentCheck("initAndValidateDaemonConfig", "BPF masquerade requires (", "agent-bpf-masquerade"),
    AgentCheck("newDaemon", "Unable to clean stale endpoint interfaces", not_mirrored=_NODE),
    AgentCheck("newDaemon", "Cannot annotate k8s node", not_mirrored=_NODE),
    AgentCheck("newDaemon", "error while initializing daemon", not_mirrored=_PARTIAL),
    AgentCheck("initAndValidateDaemonConfig", "WireGuard (--%s) cannot be used with IPsec",
               "single-encryption"),
    AgentCheck("initAndValidateDaemonConfig", "IPSec requires DNS proxy transparent mode",
               "agent-encryption-combinations"),
    AgentCheck("initAndValidateDaemonConfig", "IPSec with tunneling requires support for xfrm",
               not_mirrored="a kernel below the agent's own minimum (4.19 < 5.10)"),
    AgentCheck("initAndValidateDaemonConfig", "IPSec doesnt support strict ingress",
               "agent-encryption-combinations"),
    AgentCheck("initAndValidateDaemonConfig", "Strict ingress encryption requires tunneling",
               "agent-encryption-combinations"),
    AgentCheck("initAndValidateDaemonConfig", "IPSec cannot be used with the host firewall",
               "agent-encryption-combinations"),
    AgentCheck("initAndValidateDaemonConfig", "Cannot specify %s or %s with %s",
               not_mirrored=_EXTRA),
    AgentCheck("initAndValidateDaemonConfig", "CiliumNode CRD cannot be disabled",
               not_mirrored=_EXTRA),
    AgentCheck("initAndValidateDaemonConfig", "kube-proxy replacement (--%s) or BPF masquerade",
               not_mirrored=_EXTRA + " (install-iptables-rules stays at its default, true)"),
    AgentCheck("initAndValidateDaemonConfig", "unable to determine if kernel supports dynamic",
               not_mirrored=_NODE),
    AgentCheck("initAndValidateDaemonConfig", "kernel does not support dynamic pod egress",
               not_mirrored=_NODE),
    AgentCheck("initAndValidateDaemonConfig", "legacy routing mode does not support dynamic",
               not_mirrored=_EXTRA),
    # tunnel
    AgentCheck("newConfig", "invalid tunnel protocol", "enumerations"),
    AgentCheck("newConfig", "underlay protocol set to", "agent-underlay-protocol"),
    AgentCheck("newConfig", "invalid IP family for underlay", "agent-underlay-protocol"),
    AgentCheck("newConfig", "invalid tunnel source port range", "agent-tunnel-source-port-range"),
    # load balancer
    AgentCheck("NewConfig", "specified LBMap max entries", "agent-lb-map-max"),
    AgentCheck("NewConfig", "specified LB Service Map max entries", not_mirrored=_EXTRA),
    AgentCheck("NewConfig", "specified Socket Reverse NAT", not_mirrored=_EXTRA),
    AgentCheck("NewConfig", "Unable to parse", "agent-node-port-range"),
    AgentCheck("NewConfig", "NodePort range min port", "agent-node-port-range"),
    AgentCheck("NewConfig", "Invalid value for --%s", "enumerations", arguments="LBAlgorithm"),
    AgentCheck("NewConfig", "Invalid value for --%s", "enumerations", arguments="LBMode"),
    AgentCheck("NewConfig", "Invalid value for --%s", "enumerations", arguments="DSRDispatch"),
    AgentCheck("NewConfig", "both --%s and --%s were set",
               not_mirrored="the chart renders only bpf-lb-mode; node-port-mode is not a value"),
    AgentCheck("NewConfig", "The value --%s=%s is not supported as default under annotation",
               "agent-mode-annotation"),
    AgentCheck("NewConfig", "--lb-reflector-wait-time", "agent-reflector-wait-time"),
    # Maglev
    AgentCheck("UserConfig.ToConfig", "Invalid value for --%s: %d, supported values", "maglev"),
    AgentCheck("UserConfig.ToConfig", "cannot decode base64 Maglev hash seed", "maglev"),
    AgentCheck("UserConfig.ToConfig", "decoded hash seed is", "maglev"),
    # egress gateway
    AgentCheck("NewEgressGatewayManager", "egress gateway is not supported in %s identity",
               "egress-gateway-prerequisites"),
    AgentCheck("NewEgressGatewayManager", "egress gateway is not supported in combination",
               "egress-gateway-prerequisites"),
    AgentCheck("NewEgressGatewayManager", "egress gateway requires --",
               "egress-gateway-prerequisites"),
    AgentCheck("NewEgressGatewayManager", "egress gateway requires an IPv4 underlay",
               "agent-egress-gateway-underlay"),
    # bandwidth manager
    AgentCheck("manager.probe", "BPF bandwidth manager could not read procfs", not_mirrored=_NODE),
    AgentCheck("manager.probe", "cannot enable --%s, needs kernel 5.18",
               "node-kernel"),  # the node image's kernel: upstream.cilium_kernel
    AgentCheck("manager.probe", "cannot enable --%s without enabling", "agent-bandwidth-manager"),
    AgentCheck("manager.probe", "BPF bandwidth manager's BBR setup requires BPF host routing",
               "agent-bandwidth-manager"),
    AgentCheck("manager.probe", "The bandwidth manager cannot be used with IPSec",
               "agent-bandwidth-manager-ipsec"),
)
# Checks handled outside the Helm value rules (they also need the node image).
STACK_RULES = ("node-kernel",)


def classification(check: dict[str, str]) -> AgentCheck | None:
    return next((known for known in AGENT_CHECKS if known.matches(check)), None)
