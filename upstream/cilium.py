"""Cilium release lines this project supports and the facts that depend on the line.

Shared by the config validator (``stack_config``), the Kubernetes layer (``components.kubernetes``)
and the policy pack: each fact is written here once. Tests compare the tables with upstream's own
files where a copy is on the machine (chart values, Chart.yaml CRD list, Gateway API CRDs).

Ref: Cilium docs network/kubernetes/requirements.rst (Kubernetes versions tested per line)
Ref: Cilium docs network/servicemesh/gateway-api/gateway-api.rst (Gateway API CRDs per line)
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, Mapping

HELM_REPOSITORY = "https://helm.cilium.io/"
CHART = "cilium"
NAMESPACE = "kube-system"
# The GatewayClass the chart creates (gatewayAPI.gatewayClass.create).
GATEWAY_CLASS = "cilium"

_VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")

GATEWAY_API_GROUP = "gateway.networking.k8s.io"
_GATEWAY_API_RELEASES = "https://github.com/kubernetes-sigs/gateway-api/releases/download"
# Where a manifest names the Gateway API release it came from: the upstream release asset URL
# (``.../releases/download/<tag>/<channel>-install.yaml``) and, on every CRD of the bundle, this
# annotation (config/crd/standard/*.yaml in kubernetes-sigs/gateway-api).
GATEWAY_API_RELEASE_ASSET = re.compile(
    r"kubernetes-sigs/gateway-api/releases/download/(?P<tag>v\d+\.\d+\.\d+)/"
    r"(?P<channel>standard|experimental)-install\.yaml$")
GATEWAY_API_BUNDLE_VERSION_ANNOTATION = f"{GATEWAY_API_GROUP}/bundle-version"
_RELEASE_TAG = re.compile(r"^v(\d+)\.(\d+)\.(\d+)$")


@dataclass(frozen=True)
class GatewayApiBundle:
    """The Gateway API CRD release a Cilium line is built against, and what it must serve."""

    version: str
    """Release tag, e.g. ``v1.6.0``."""
    channel: Literal["standard", "experimental"]
    required_kinds: tuple[tuple[str, str], ...]
    """(kind, served version) pairs the Cilium operator checks for at start-up; a missing one
    leaves Gateway support silently off (https://docs.cilium.io/en/stable/network/servicemesh/gateway-api/gateway-api/)."""
    min_kubernetes: tuple[int, int]
    """Oldest Kubernetes the bundle's CRDs validate on (v1.5+ TLSRoute CEL needs 1.31)."""

    @property
    def install_url(self) -> str:
        # Ref: https://gateway-api.sigs.k8s.io/guides/#installing-gateway-api (release assets)
        return f"{_GATEWAY_API_RELEASES}/{self.version}/{self.channel}-install.yaml"

    conformance_tested: tuple[str, ...] = ()
    """Gateway API releases a Cilium release of this line passed core conformance with, per
    upstream's reports (``upstream/cilium_charts/gateway-api-conformance.json``)."""

    def accepts(self, tag: str) -> bool:
        """Whether CRDs of Gateway API release ``tag`` fit the Cilium line of this bundle.

        Same minor release as the bundle, or as a release the line passed conformance with:
        patch releases only fix bugs, while each minor moves kinds between versions and channels
        (v1.5 serves TLSRoute and ReferenceGrant as v1 and drops the v1alpha2 TLSRoute Cilium
        ≤ 1.19 reads; Gateway API release notes for v1.5).
        """
        minor = _minor_of(tag)
        return minor is not None and minor in {_minor_of(t)
                                               for t in (self.version, *self.conformance_tested)}


def _minor_of(tag: str) -> tuple[int, int] | None:
    match = _RELEASE_TAG.match(tag)
    return (int(match.group(1)), int(match.group(2))) if match else None


# Kinds every supported line reads; TLSRoute v1alpha2 (experimental channel) is optional ≤ 1.19.
_CORE_KINDS = (("GatewayClass", "v1"), ("Gateway", "v1"), ("HTTPRoute", "v1"),
               ("GRPCRoute", "v1"))

# Chart defaults the checks in ``upstream.cilium_chart`` fall back to when a value is not set.
# Identical in 1.18.12, 1.19.6 and 1.20.0 (values.yaml; a test compares them per version).
_CHART_DEFAULTS: dict[str, Any] = {
    "l7Proxy": True,
    "kubeProxyReplacement": "false",
    "routingMode": "",
    "tunnelProtocol": "",
    "autoDirectNodeRoutes": False,
    "ipv4NativeRoutingCIDR": "",
    "enableIPv4Masquerade": None,
    "bpf.masquerade": None,
    "hubble.enabled": True,
    "hubble.relay.enabled": False,
    "hubble.ui.enabled": False,
    "cluster.name": "default",
    "cluster.id": 0,
    "clustermesh.maxConnectedClusters": 255,
    "gatewayAPI.enabled": False,
    "gatewayAPI.externalTrafficPolicy": "Cluster",
    "ingressController.enabled": False,
    "loadBalancer.l7.backend": "disabled",
    "loadBalancer.acceleration": "disabled",
    "egressGateway.enabled": False,
    "l2announcements.enabled": False,
    "installNoConntrackIptablesRules": False,
    "ciliumEndpointSlice.enabled": False,
    "identityAllocationMode": "crd",
    "defaultLBServiceIPAM": "lbipam",
    "operator.replicas": 2,
    "ipam.mode": "cluster-pool",
    "ipam.operator.clusterPoolIPv4PodCIDRList": ["10.0.0.0/8"],
    "encryption.enabled": False,
    "encryption.type": "ipsec",
    "clustermesh.useAPIServer": False,
    "clustermesh.config.enabled": False,
    "clustermesh.config.clusters": [],
    "extraConfig": {},
    "extraArgs": [],
}


@dataclass(frozen=True)
class CiliumLine:
    """One supported minor line of Cilium."""

    minor: str
    newest_verified_patch: str
    tested_kubernetes: tuple[tuple[int, int], tuple[int, int]]
    gateway_api: GatewayApiBundle
    resource_api_versions: Mapping[str, str]
    """apiVersion per Cilium custom resource kind (Chart.yaml ``artifacthub.io/crds``)."""
    chart_defaults: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    routing_modes: tuple[str, ...] = ("native", "tunnel")
    gateway_accepts_node_port: bool = False
    """1.16–1.18: Gateway API also works with ``nodePort.enabled`` instead of full KPR."""
    gateway_forces_socket_lb_host_namespace_only: bool = False
    """1.20.0's chart sets ``bpf-lb-sock-hostns-only`` whenever Gateway API is on."""

    @property
    def version(self) -> tuple[int, int]:
        """The line as numbers, for facts that start at a Cilium release (``>= (1, 16)``)."""
        major, minor = self.minor.split(".")
        return int(major), int(minor)


def _defaults(**overrides: Any) -> Mapping[str, Any]:
    return MappingProxyType({**_CHART_DEFAULTS, **overrides})


_V2_RESOURCES = MappingProxyType({
    "CiliumLoadBalancerIPPool": "cilium.io/v2",
    "CiliumL2AnnouncementPolicy": "cilium.io/v2alpha1",
    "CiliumEgressGatewayPolicy": "cilium.io/v2",
})

_CONFORMANCE_REPORTS = Path(__file__).resolve().parent / "cilium_charts" / \
    "gateway-api-conformance.json"


def _conformance_tested(minor: str) -> tuple[str, ...]:
    """Gateway API tags Cilium ``minor`` (its releases and pre-releases, not ``main``) passed
    core conformance with. Ref: kubernetes-sigs/gateway-api conformance/reports/."""
    reports = json.loads(_CONFORMANCE_REPORTS.read_text())["reports"]
    prefix = re.compile(rf"^{re.escape(minor)}(\.|$)")
    return tuple(sorted({r["gatewayAPIVersion"] for r in reports
                         if prefix.match(r["cilium"]) and r["corePassed"]}))


def _bundle(version: str, channel: Literal["standard", "experimental"],
            required_kinds: tuple[tuple[str, str], ...], min_kubernetes: tuple[int, int],
            minor: str) -> GatewayApiBundle:
    return GatewayApiBundle(version, channel, required_kinds, min_kubernetes,
                            conformance_tested=_conformance_tested(minor))


SUPPORTED_LINES: dict[str, CiliumLine] = {
    "1.18": CiliumLine(
        "1.18", "1.18.12", ((1, 30), (1, 33)),
        _bundle("v1.2.0", "standard", _CORE_KINDS + (("ReferenceGrant", "v1beta1"),), (1, 26),
                "1.18"),
        _V2_RESOURCES, _defaults(**{"nodePort.enabled": False}),
        gateway_accepts_node_port=True),
    "1.19": CiliumLine(
        "1.19", "1.19.6", ((1, 31), (1, 34)),
        # v1.3.0 per the 1.19 docs; upstream's conformance report has 1.19.0-pre.2 passing
        # v1.4.0, which the CRD policy therefore accepts too.
        _bundle("v1.3.0", "standard", _CORE_KINDS + (("ReferenceGrant", "v1beta1"),), (1, 26),
                "1.19"),
        _V2_RESOURCES, _defaults()),
    "1.20": CiliumLine(
        "1.20", "1.20.2", ((1, 33), (1, 36)),
        _bundle("v1.6.0", "standard",
                _CORE_KINDS + (("TLSRoute", "v1"), ("ReferenceGrant", "v1"),
                               ("BackendTLSPolicy", "v1")),
                (1, 31), "1.20"),
        # The 1.20 source defines a "hybrid" routing mode, but the agent's option validation
        # refuses anything but native and tunnel (pkg/option/config.go DaemonConfig.Validate
        # "invalid routing mode", v1.20.0 and v1.20.2), and the chart documents only those two.
        _V2_RESOURCES, _defaults(),
        gateway_forces_socket_lb_host_namespace_only=True),
}
DEFAULT_VERSION = SUPPORTED_LINES["1.20"].newest_verified_patch


# Node images that break Cilium in known ways, with the reason: on Ubuntu 22.04 a k3s restart
# can drop node networking (systemd-networkd removes the routes Cilium installed; Cilium's
# system requirements, "systemd-networkd": https://docs.cilium.io/en/stable/operations/system_requirements/).
DISCOURAGED_NODE_IMAGES: dict[str, str] = {
    "ubuntu-22.04": "a k3s restart can drop node networking (systemd-networkd removes routes "
                    "Cilium installed)",
}


def line_of(version: str) -> CiliumLine | None:
    """The supported line a Cilium version belongs to, or None if it is not supported."""
    match = _VERSION.match(version)
    if not match:
        return None
    return SUPPORTED_LINES.get(f"{match.group(1)}.{match.group(2)}")


def supported_lines_text() -> str:
    return ", ".join(SUPPORTED_LINES)
