"""Cilium Helm values that the chart or the agent refuses, or that silently turn a feature off.

Each policy reports the findings of some rules of ``upstream.cilium_chart`` (the checks the
config validator runs) on every registered Cilium release, hand-written ones included. Gateway
API policies are in ``gateway_api``; rules that need other resources of the stack (the Hetzner
network, servers) in ``cilium_on_hetzner`` and ``node_images``.
"""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.rules.cilium_release import chart_rule_policy, release_of
from upstream.cilium import DEFAULT_VERSION, supported_lines_text
from upstream.cilium_agent import AGENT_RULES, SILENT_AGENT_RULES
from upstream.cilium_chart import (
    CHART_TEMPLATES_RULE,
    NATIVE_ROUTING_CIDR_RULE,
    VALUES_SCHEMA_RULE,
)

_DOCS = "https://docs.cilium.io/en/stable"


def _version_supported(args: ResourceValidationArgs, report: ReportViolation) -> None:
    release = release_of(args)
    if release is None or release.line is not None:
        return
    if release.version:
        problem = (f"installs Cilium chart version '{release.version}', which is not a release of "
                   f"a supported line ({supported_lines_text()})")
    else:
        problem = "installs the Cilium chart without a pinned version (Helm takes the newest)"
    report(f"Helm release '{release.name}' {problem}, so the pack cannot check its values "
           f"against that chart. Fix: set version to a release of a supported line, e.g. "
           f"'{DEFAULT_VERSION}'.", None)


version_supported = ResourceValidationPolicy(
    name="cilium-chart-version-supported",
    description="A Cilium Helm release pins a chart version of a supported line, so its values "
                "can be checked against that chart.",
    validate=_version_supported,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
    remediation_steps="Pin the release's version to an exact Cilium release (X.Y.Z) of a "
                      "supported line. In a k3s-hcloud stack: cilium.version.",
    url=f"{_DOCS}/network/kubernetes/requirements/")

egress_gateway_prerequisites = chart_rule_policy(
    "cilium-egress-gateway-prerequisites",
    "The egress gateway needs BPF masquerading, IPv4 masquerading, kube-proxy replacement, CRD "
    "identities, no CiliumEndpointSlice, and (before Cilium 1.16) the L7 proxy off.",
    ("egress-gateway-prerequisites",), severity=Severity.HIGH,
    remediation="Set bpf.masquerade: true and kubeProxyReplacement: true, leave "
                "enableIPv4Masquerade, identityAllocationMode and ciliumEndpointSlice at their "
                "defaults.",
    url=f"{_DOCS}/network/egress-gateway/egress-gateway/")

egress_gateway_without_cluster_mesh = chart_rule_policy(
    "cilium-egress-gateway-without-cluster-mesh",
    "The egress gateway is not used together with Cluster Mesh (incompatible upstream).",
    ("egress-gateway-without-cluster-mesh",), severity=Severity.MEDIUM,
    remediation="Run the egress gateway in clusters that are not part of a Cluster Mesh.",
    url="https://github.com/cilium/cilium/pull/27918")

load_balancer_dispatch = chart_rule_policy(
    "cilium-load-balancer-dsr-dispatch",
    "DSR and hybrid load balancing with tunnel (or hybrid) routing use Geneve dispatch over a "
    "Geneve tunnel; never VXLAN, never the `opt` dispatch outside native routing.",
    ("tunnel-load-balancing", "geneve-dispatch-needs-geneve-tunnel"), severity=Severity.HIGH,
    remediation="With routingMode native use loadBalancer.dsrDispatch: opt; with tunnel routing "
                "set loadBalancer.dsrDispatch: geneve and tunnelProtocol: geneve, or keep "
                "loadBalancer.mode: snat.",
    url=f"{_DOCS}/network/kubernetes/kubeproxy-free/")

direct_routes_need_native_routing = chart_rule_policy(
    "cilium-direct-routes-need-native-routing",
    "autoDirectNodeRoutes is only used with native routing.",
    ("direct-routes-need-native-routing",), severity=Severity.HIGH,
    remediation="Turn autoDirectNodeRoutes off, or use routingMode: native.",
    url=f"{_DOCS}/network/concepts/routing/")

l2_announcements_need_kpr = chart_rule_policy(
    "cilium-l2-announcements-need-kube-proxy-replacement",
    "L2 announcements are only used with kube-proxy replacement (they stay off without it).",
    ("l2-announcements-need-kube-proxy-replacement",), severity=Severity.MEDIUM,
    remediation="Set kubeProxyReplacement: true (k3s: disable-kube-proxy), or turn "
                "l2announcements off.",
    url=f"{_DOCS}/network/l2-announcements/")

valid_enums = chart_rule_policy(
    "cilium-values-valid-enums",
    "Every value has the type and value the chart's values.schema.json allows and passes the "
    "chart's own template checks (Helm refuses to install otherwise); loadBalancer.mode, "
    "dsrDispatch, algorithm, acceleration, tunnelProtocol, routingMode and kubeProxyReplacement hold values Cilium accepts.",
    (VALUES_SCHEMA_RULE, CHART_TEMPLATES_RULE, "enumerations", "kube-proxy-replacement-boolean"),
    severity=Severity.HIGH,
    remediation="Use one of the values the message lists; write booleans and numbers without "
                "quotes and lists as lists.",
    url=f"{_DOCS}/helm-reference/")

maglev_valid = chart_rule_policy(
    "cilium-maglev-valid",
    "maglev.tableSize is one of the supported primes and maglev.hashSeed is base64 of 12 bytes.",
    ("maglev",), severity=Severity.HIGH,
    remediation="Pick a table size from the list in the message; generate a seed with "
                "`head -c12 /dev/urandom | base64` (k3s-hcloud generates a secret one when "
                "maglev.hashSeed is unset).",
    url=f"{_DOCS}/network/kubernetes/kubeproxy-free/#maglev-consistent-hashing")

hubble_chain = chart_rule_policy(
    "cilium-hubble-chain-complete",
    "Hubble UI runs with Hubble Relay, and Relay with Hubble (the chart refuses otherwise).",
    ("hubble-chain",), severity=Severity.MEDIUM,
    remediation="Set hubble.enabled and hubble.relay.enabled to true when hubble.ui.enabled is.",
    url=f"{_DOCS}/observability/hubble/setup/")

cluster_identity = chart_rule_policy(
    "cilium-cluster-identity-valid",
    "cluster.name is a valid name (not 'default' with a cluster.id), cluster.id is in range, "
    "clustermesh.maxConnectedClusters is 255 or 511.",
    ("cluster-identity",), severity=Severity.HIGH,
    remediation="Give each cluster a lowercase DNS-style cluster.name of at most 32 characters "
                "and a unique cluster.id (1-255, or 1-511 with maxConnectedClusters 511).",
    url=f"{_DOCS}/network/clustermesh/clustermesh/")

native_routing_cidr = chart_rule_policy(
    "cilium-native-routing-cidr-set",
    "Native routing with masquerading names the range routed without masquerading "
    "(ipv4NativeRoutingCIDR), as a CIDR.",
    (NATIVE_ROUTING_CIDR_RULE,), severity=Severity.HIGH,
    remediation="Set ipv4NativeRoutingCIDR to the pod CIDR (k3s cluster-cidr, 10.42.0.0/16 by "
                "default) or a range containing it.",
    url=f"{_DOCS}/network/concepts/routing/#native-routing")

single_encryption = chart_rule_policy(
    "cilium-single-encryption-method",
    "WireGuard and IPsec are not enabled together (also not through extraConfig/extraArgs).",
    ("single-encryption",), severity=Severity.HIGH,
    remediation="Choose one method in encryption.type and remove enable-ipsec/enable-wireguard "
                "from extraConfig and extraArgs.",
    url=f"{_DOCS}/security/network/encryption/")

xdp_needs_kpr = chart_rule_policy(
    "cilium-xdp-needs-kube-proxy-replacement",
    "XDP acceleration (loadBalancer.acceleration: native) is only asked for with kube-proxy "
    "replacement, whose load balancer it accelerates.",
    ("xdp-needs-kube-proxy-replacement",), severity=Severity.MEDIUM,
    remediation="Set kubeProxyReplacement: true, or loadBalancer.acceleration: disabled.",
    url=f"{_DOCS}/network/kubernetes/kubeproxy-free/#loadbalancer-nodeport-xdp-acceleration")

no_conntrack_prerequisites = chart_rule_policy(
    "cilium-no-conntrack-rules-prerequisites",
    "installNoConntrackIptablesRules runs with kube-proxy replacement, native routing and BPF "
    "masquerading (the agent refuses otherwise).",
    ("no-conntrack-prerequisites",), severity=Severity.MEDIUM,
    remediation="Set kubeProxyReplacement: true, routingMode: native and bpf.masquerade: true, "
                "or turn installNoConntrackIptablesRules off.",
    url=f"{_DOCS}/operations/performance/tuning/#bypass-iptables-connection-tracking")

agent_start_up = chart_rule_policy(
    "cilium-agent-start-up-refusals",
    "Values the chart renders but the Cilium agent refuses at start (its option validation, "
    "tunnel, load-balancer, egress-gateway and bandwidth-manager set-up, read from Cilium's "
    "source per line): underlay family, port ranges, BPF map sizes, delegated IPAM, "
    "per-Service LB modes, XDP with an IPv6 underlay, BBR without BPF host routing.",
    tuple(rule for rule in AGENT_RULES if rule not in SILENT_AGENT_RULES),
    severity=Severity.HIGH,
    remediation="Change the value the message names as it says; the agent would crash-loop and "
                "leave the nodes without networking.",
    url="https://github.com/cilium/cilium/blob/main/pkg/option/config.go")

agent_silently_off = chart_rule_policy(
    "cilium-agent-silently-off",
    "Features the Cilium agent turns off at start with only a log line (the bandwidth manager "
    "with IPsec).",
    SILENT_AGENT_RULES, severity=Severity.MEDIUM,
    remediation="Use WireGuard for encryption, or turn the bandwidth manager off.",
    url=f"{_DOCS}/network/kubernetes/bandwidth-manager/",
    enforcement_level=EnforcementLevel.ADVISORY)

POLICIES = [version_supported, egress_gateway_prerequisites, egress_gateway_without_cluster_mesh,
            load_balancer_dispatch, direct_routes_need_native_routing, l2_announcements_need_kpr,
            valid_enums, maglev_valid, hubble_chain, cluster_identity, native_routing_cidr,
            single_encryption, xdp_needs_kpr, no_conntrack_prerequisites, agent_start_up,
            agent_silently_off]
