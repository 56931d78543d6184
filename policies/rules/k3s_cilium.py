"""k3s and Cilium together: kube-proxy ownership, the CNI, and the pod/service ranges.

Both sides come from what is registered: k3s nodes from ``policies.rules.k3s_nodes``, the Cilium
release by its chart (``policies.rules.cilium_release``), Hetzner networks by type. Chart facts
(defaults per line, the native-routing rule) come from ``upstream.cilium_chart``.
"""

from __future__ import annotations

from ipaddress import IPv4Network, ip_network

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from policies.rules.cilium_on_hetzner import hetzner_networks
from policies.rules.cilium_release import cilium_releases, release_of
from policies.rules.k3s_nodes import K3sNode, k3s_nodes
from policies.rules.types import HELM_RELEASE
from upstream.cilium_chart import NATIVE_ROUTING_CIDR_CONTAINS_PODS_RULE
from upstream.cilium_on_hetzner import k3s_api_findings
from upstream.k3s import (API_PROXY_HOST, API_PROXY_PORT, DEFAULT_CLUSTER_CIDR,
                          DEFAULT_SERVICE_CIDR)

# k3s's defaults when config.yaml leaves them out.
K3S_DEFAULT_CIDRS = {"cluster-cidr": DEFAULT_CLUSTER_CIDR, "service-cidr": DEFAULT_SERVICE_CIDR}
# Charts that install a CNI; with flannel off, one of them must be in the stack.
CNI_CHARTS = ("cilium", "calico", "tigera-operator", "canal", "antrea", "kube-router")


def _cidr_of(node: K3sNode, key: str) -> IPv4Network | None:
    """The node's cluster-cidr / service-cidr, or None where the node does not decide it.

    Both are server flags (docs.k3s.io/cli/server): agents never carry them and take the
    cluster's ranges from the servers, so an agent's missing key is not k3s's default. A node of
    unknown role counts only when it sets the key itself.
    """
    value = node.flag(key)
    if not value:
        if node.role != "server":
            return None
        value = K3S_DEFAULT_CIDRS[key]
    try:
        network = ip_network(str(value).split(",")[0].strip(), strict=False)
    except ValueError:
        return None
    return network if isinstance(network, IPv4Network) else None


def _kube_proxy_agreement(args: StackValidationArgs, report: ReportViolation) -> None:
    servers = [n for n in k3s_nodes(args.resources) if n.role in ("server", "unknown")]
    for release in (r for r in cilium_releases(args.resources) if r.line is not None):
        replaces = release.helm_values.kube_proxy_replacement
        for node in servers:
            disabled = bool(node.flag("disable-kube-proxy"))
            if replaces and not disabled:
                report(f"{release.label} replaces kube-proxy, but k3s server '{node.name}' still "
                       "runs it (no disable-kube-proxy): both program Service rules and fight. "
                       "Fix: keep them in step — k3s-hcloud sets disable-kube-proxy exactly when "
                       "cilium.values.kubeProxyReplacement is true.", node.urn)
            elif disabled and not replaces:
                report(f"k3s server '{node.name}' disables kube-proxy, but {release.label} does "
                       "not replace it (kubeProxyReplacement false): no Service would route. "
                       "Fix: set cilium.values.kubeProxyReplacement: true, or let k3s run "
                       "kube-proxy.", node.urn)


kube_proxy_agreement = StackValidationPolicy(
    name="k3s-cilium-kube-proxy-agreement",
    description="k3s disable-kube-proxy and Cilium kubeProxyReplacement agree.",
    validate=_kube_proxy_agreement,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation_steps="Disable k3s's kube-proxy exactly when Cilium replaces it.",
    url="https://docs.cilium.io/en/stable/network/kubernetes/kubeproxy-free/",
)


def _api_server_for_kpr(args: ResourceValidationArgs, report: ReportViolation) -> None:
    release = release_of(args)
    if release is None or release.line is None:
        return
    values = release.helm_values
    if not values.kube_proxy_replacement:
        return
    missing = [key for key in ("k8sServiceHost", "k8sServicePort") if not values.get(key)]
    if missing:
        report(f"{release.label} replaces kube-proxy without {' and '.join(missing)}: with no "
               "kube-proxy, the agent cannot reach the API through the kubernetes Service. Fix: "
               f"set k8sServiceHost: {API_PROXY_HOST} and k8sServicePort: {API_PROXY_PORT} "
               "(k3s's per-node API proxy; k3s-hcloud's defaults).", None)


kpr_needs_api_server = ResourceValidationPolicy(
    name="cilium-kube-proxy-replacement-needs-api-server",
    description="With kube-proxy replacement, Cilium is told where the API server is.",
    validate=_api_server_for_kpr,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation_steps=f"Set k8sServiceHost/k8sServicePort (k3s: {API_PROXY_HOST}:{API_PROXY_PORT}).",
    url="https://docs.cilium.io/en/stable/network/kubernetes/kubeproxy-free/",
)


def _api_through_k3s_load_balancer(args: ResourceValidationArgs, report: ReportViolation) -> None:
    release = release_of(args)
    if release is None or release.line is None:
        return
    for finding in k3s_api_findings(release.helm_values):
        report(release.describe(finding), None)


api_through_k3s_load_balancer = ResourceValidationPolicy(
    name="cilium-k3s-api-through-load-balancer",
    description="A loopback k8sServiceHost is paired with k3s's per-node API load balancer port, "
                "the only API endpoint on the loopback of every node (workers run no API server).",
    validate=_api_through_k3s_load_balancer,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation_steps=f"Use {API_PROXY_HOST}:{API_PROXY_PORT} (k3s-hcloud's default), or an "
                      "address that serves the API from every node.",
    url="https://docs.k3s.io/architecture",
)


def _flannel_off_needs_cni(args: StackValidationArgs, report: ReportViolation) -> None:
    resources = list(args.resources)
    nodes = [n for n in k3s_nodes(resources) if n.flag("flannel-backend") == "none"]
    if not nodes:
        return
    charts = [str(r.props.get("chart") or "") for r in resources if r.resource_type == HELM_RELEASE]
    if any(chart.rstrip("/").rsplit("/", 1)[-1].startswith(CNI_CHARTS) for chart in charts):
        return
    report(f"k3s nodes ({', '.join(n.name for n in nodes)}) run with flannel-backend: none but "
           "the stack installs no CNI: every node stays NotReady. Fix: install Cilium (k3s-hcloud "
           "always does) or keep flannel.", nodes[0].urn)


flannel_off_needs_cni = StackValidationPolicy(
    name="k3s-flannel-none-needs-cni",
    description="k3s without flannel only together with a CNI release.",
    validate=_flannel_off_needs_cni,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation_steps="Install a CNI Helm release (Cilium) in the same stack.",
)


def _native_routing_contains_pods(args: StackValidationArgs, report: ReportViolation) -> None:
    nodes = k3s_nodes(args.resources)
    pod_cidrs = {cidr for cidr in (_cidr_of(node, "cluster-cidr") for node in nodes) if cidr}
    for release in cilium_releases(args.resources):
        for pod_cidr in sorted(pod_cidrs):
            for finding in release.findings([NATIVE_ROUTING_CIDR_CONTAINS_PODS_RULE],
                                            pod_cidr=pod_cidr):
                report(release.describe(finding), release.urn)


native_routing_contains_pods = StackValidationPolicy(
    name="cilium-native-routing-cidr-contains-pods",
    description="Cilium's ipv4NativeRoutingCIDR contains k3s's pod range (cluster-cidr).",
    validate=_native_routing_contains_pods,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation_steps="Set ipv4NativeRoutingCIDR to k3s's cluster-cidr (k3s-hcloud's default).",
    url="https://docs.cilium.io/en/stable/network/concepts/routing/",
)


def _k3s_ranges_outside_network(args: StackValidationArgs, report: ReportViolation) -> None:
    networks = [n for n in hetzner_networks(args.resources) if n.ip_range is not None]
    for node in k3s_nodes(args.resources):
        for key, config_key in (("cluster-cidr", "k3s.clusterCidr"),
                                ("service-cidr", "k3s.serviceCidr")):
            cidr = _cidr_of(node, key)
            for network in networks:
                if cidr is not None and cidr.overlaps(network.ip_range):
                    report(f"k3s node '{node.name}' uses {key} {cidr}, which overlaps Hetzner "
                           f"network '{network.name}' ({network.ip_range}): pod or Service "
                           f"addresses would shadow servers. Fix: move {config_key} out of the "
                           "network range.", node.urn)


k3s_ranges_outside_network = StackValidationPolicy(
    name="k3s-cluster-ranges-outside-hetzner-network",
    description="k3s pod and Service ranges do not overlap the Hetzner network.",
    validate=_k3s_ranges_outside_network,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation_steps="Keep cluster-cidr and service-cidr outside network.cidr.",
)

POLICIES = [kube_proxy_agreement, kpr_needs_api_server, api_through_k3s_load_balancer,
            flannel_off_needs_cni,
            native_routing_contains_pods, k3s_ranges_outside_network]
