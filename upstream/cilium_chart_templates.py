"""Every ``fail`` and ``required`` of the Cilium chart's templates, mirrored one rule each.

The chart stops ``helm template``/``install`` with these messages; here each one is a small
function over the values as the templates see them: the chart's ``values.yaml`` with the release's
values coalesced on top (``ChartValues``), truth as Go templates read it. The list of the chart's
own calls is derived from the real templates (``upstream/cilium_charts/<line>.json``,
``templateRules``); a test requires that every one of them is mirrored here or by a named rule of
``upstream.cilium_chart``.

Ref: cilium/cilium install/kubernetes/cilium/templates/validate.yaml, cilium-configmap.yaml,
     _helpers.tpl, cilium-agent/daemonset.yaml, clustermesh-*/ and hubble/tls-provided/ (1.19.6,
     1.20.0 release tags, read from the Go module zips)
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from upstream.cilium import CiliumLine
from upstream.cilium_schema import chart_facts

Problem = tuple[str, str, str]
"""(Helm value path, what is wrong, the fix)."""


def coalesce(defaults: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """The user's values over the chart's, as Helm coalesces them: a null removes a default,
    nested mappings merge, anything else replaces. Ref: helm pkg/chart/common/util/coalesce.go"""
    merged = copy.deepcopy(dict(defaults))
    for key, value in values.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = coalesce(merged[key], value)
        else:
            merged[key] = _plain(value)
    return merged


def _plain(value: Any) -> Any:
    # The policy SDK hands read-only proxies; templates see plain data.
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [_plain(item) for item in value]
    return value


def truthy(value: Any) -> bool:
    """Go template truth: false, 0, nil and empty strings, lists and maps are false."""
    if isinstance(value, (Mapping, list, tuple, str)):
        return len(value) > 0
    return value not in (None, False, 0)


def as_int(value: Any) -> int:
    """Sprig's ``int``: numbers truncate, numeric strings parse, anything else is 0."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, str):
        try:
            return int(float(value)) if value.strip() else 0
        except ValueError:
            return 0
    return 0


def to_string(value: Any) -> str:
    """Sprig's ``toString``."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class ChartValues:
    """What ``.Values`` holds while the templates render."""

    def __init__(self, values: Mapping[str, Any], line: CiliumLine) -> None:
        self.tree = coalesce(chart_facts(line.minor)["defaults"], values)
        self.line = line

    def has(self, path: str) -> bool:
        return self._find(path)[0]

    def get(self, path: str) -> Any:
        return self._find(path)[1]

    def on(self, path: str) -> bool:
        return truthy(self.get(path))

    def text(self, path: str) -> str:
        value = self.get(path)
        return "" if value is None else to_string(value)

    def _find(self, path: str) -> tuple[bool, Any]:
        node: Any = self.tree
        for part in path.split("."):
            if not isinstance(node, Mapping) or part not in node:
                return False, None
            node = node[part]
        return True, node


Check = Callable[[ChartValues], Iterator[Problem]]


@dataclass(frozen=True)
class TemplateRule:
    message: str
    """The start of the chart's own message (matches the derived ``templateRules`` entry)."""
    check: Check


RULES: list[TemplateRule] = []


def mirrors(message: str) -> Callable[[Check], Check]:
    def register(check: Check) -> Check:
        RULES.append(TemplateRule(message, check))
        return check
    return register


# -- options removed from the chart (validate.yaml) ------------------------------------------------
_DOCS = "https://docs.cilium.io/en/stable/operations/upgrade/#helm-options"
# (paths whose non-empty value fails, the chart's message start, the fix)
_REMOVED: list[tuple[tuple[str, ...], str, str]] = [
    (("enableCiliumEndpointSlice",), "enableCiliumEndpointSlice was deprecated in v1.16",
     "use ciliumEndpointSlice.enabled instead."),
    (("ciliumEndpointSlice.sliceMode",), "ciliumEndpointSlice.sliceMode has been removed",
     "remove it (slices are always grouped by identity now)."),
    (("encryption.keyFile", "encryption.mountPath", "encryption.secretName",
      "encryption.interface"), "encryption.{keyFile,mountPath,secretName,interface} were",
     "use encryption.ipsec.keyFile, .mountPath, .secretName and .interface."),
    (("endpointStatus",), "endpointStatus has been removed", "remove it."),
    (("remoteNodeIdentity",), "remoteNodeIdentity was deprecated", "remove it."),
    (("containerRuntime.integration",), "containerRuntime.integration was deprecated",
     "remove it."),
    (("etcd.managed",), "etcd.managed was deprecated", "remove it."),
    (("tunnel",), "tunnel was deprecated", "use routingMode: tunnel and tunnelProtocol instead."),
    (("clustermesh.apiserver.tls.ca.cert", "clustermesh.apiserver.tls.ca.key"),
     "clustermesh.apiserver.tls.ca.cert and clustermesh.apiserver.tls.ca.key were",
     "use tls.ca.cert / tls.ca.key at the top level of the values."),
    (("enableK8sEventHandover",), "enableK8sEventHandover was deprecated", "remove it."),
    (("enableCnpStatusUpdates",), "enableCnpStatusUpdates was deprecated", "remove it."),
]


def _removed_option(paths: tuple[str, ...], fix: str) -> Check:
    def check(v: ChartValues) -> Iterator[Problem]:
        for path in paths:
            if v.on(path):
                yield path, "was removed from the Cilium chart; the chart refuses it.", \
                    f"{fix} See {_DOCS}"
    return check


for _paths, _message, _fix in _REMOVED:
    mirrors(_message)(_removed_option(_paths, _fix))


@mirrors("proxy.prometheus.enabled and proxy.prometheus.port were deprecated")
def _proxy_prometheus(v: ChartValues) -> Iterator[Problem]:
    # `toString` of any value but a missing one is non-empty: even false fails.
    if v.has("proxy.prometheus.enabled") and v.get("proxy.prometheus.enabled") is not None:
        yield "proxy.prometheus.enabled", "was removed from the Cilium chart.", \
            "use envoy.prometheus.enabled instead, and remove proxy.prometheus."
    if v.on("proxy.prometheus.port"):
        yield "proxy.prometheus.port", "was removed from the Cilium chart.", \
            "use envoy.prometheus.port instead, and remove proxy.prometheus."


# -- the rest of validate.yaml ---------------------------------------------------------------------
@mirrors("Both k8sServiceHostRef and k8sServiceHost are set")
def _one_api_host(v: ChartValues) -> Iterator[Problem]:
    if v.on("k8sServiceHostRef.name") and v.on("k8sServiceHostRef.key") and v.on("k8sServiceHost"):
        yield "k8sServiceHostRef", "and k8sServiceHost are both set.", "set only one of them."


@mirrors("Hubble UI in standalone with Hubble Relay server TLS enabled")
def _standalone_ui_certs(v: ChartValues) -> Iterator[Problem]:
    if v.on("hubble.ui.enabled") and v.on("hubble.ui.standalone.enabled") and \
            v.on("hubble.relay.tls.server.enabled") and not v.on("hubble.ui.standalone.tls.certsVolume"):
        yield "hubble.ui.standalone.tls.certsVolume", "a standalone Hubble UI with Relay server " \
            "TLS needs a volume with the client certificates.", "set it, or turn off " \
            "hubble.relay.tls.server.enabled."


_SERVICE_MONITORS = ("prometheus", "operator.prometheus", "envoy.prometheus",
                     "hubble.relay.prometheus")


@mirrors("Service Monitor requires monitoring.coreos.com/v1 CRDs")
def _service_monitor_crds(v: ChartValues) -> Iterator[Problem]:
    # The chart asks the cluster for the CRD; the program installs none, so only the escape
    # hatch the chart offers lets it render (helm template sees no cluster at all).
    for prefix in _SERVICE_MONITORS:
        if v.on(f"{prefix}.enabled") and v.on(f"{prefix}.serviceMonitor.enabled") and \
                not v.on("prometheus.serviceMonitor.trustCRDsExist"):
            yield f"{prefix}.serviceMonitor.enabled", "ServiceMonitors need the Prometheus " \
                "operator's monitoring.coreos.com/v1 CRDs, which this cluster does not install.", \
                "install them first and set prometheus.serviceMonitor.trustCRDsExist: true."


@mirrors("Hubble TLS certgen method=certmanager requires")
def _hubble_cert_manager(v: ChartValues) -> Iterator[Problem]:
    if v.on("hubble.enabled") and v.on("hubble.tls.enabled") and v.on("hubble.tls.auto.enabled") \
            and v.get("hubble.tls.auto.method") == "certmanager" and \
            not v.on("hubble.tls.auto.certManagerIssuerRef"):
        yield "hubble.tls.auto.certManagerIssuerRef", "cert-manager certificates need an issuer.", \
            "name the issuer, or use hubble.tls.auto.method: cronJob or helm."


@mirrors("Only one of .Values.hubble.redact.http.headers.allow")
def _redact_headers(v: ChartValues) -> Iterator[Problem]:
    if v.on("hubble.redact.http.headers.allow") and v.on("hubble.redact.http.headers.deny"):
        yield "hubble.redact.http.headers", "allow and deny are both set.", "keep one of them."


@mirrors("ClusterMesh TLS certgen method=certmanager requires")
def _clustermesh_cert_manager(v: ChartValues) -> Iterator[Problem]:
    if v.on("clustermesh.useAPIServer") and v.on("clustermesh.apiserver.tls.auto.enabled") and \
            v.get("clustermesh.apiserver.tls.auto.method") == "certmanager" and \
            not v.on("clustermesh.apiserver.tls.auto.certManagerIssuerRef"):
        yield "clustermesh.apiserver.tls.auto.certManagerIssuerRef", "cert-manager " \
            "certificates need an issuer.", "name the issuer, or use another tls.auto.method."


_SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)")


def _older_than_0_9(tag: str) -> bool:
    match = _SEMVER.match(re.sub(r"@.*$", "", tag).removeprefix("v"))
    return bool(match) and tuple(map(int, match.groups())) < (0, 9, 0)


@mirrors("Hubble UI requires hubble.ui.backend.image.tag")
def _ui_backend_tag(v: ChartValues) -> Iterator[Problem]:
    yield from _ui_tag(v, "backend")


@mirrors("Hubble UI requires hubble.ui.frontend.image.tag")
def _ui_frontend_tag(v: ChartValues) -> Iterator[Problem]:
    yield from _ui_tag(v, "frontend")


def _ui_tag(v: ChartValues, part: str) -> Iterator[Problem]:
    tags = (v.text("hubble.ui.backend.image.tag"), v.text("hubble.ui.frontend.image.tag"))
    if v.on("hubble.ui.enabled") and "latest" not in tags and \
            _older_than_0_9(v.text(f"hubble.ui.{part}.image.tag")):
        yield f"hubble.ui.{part}.image.tag", "Hubble UI needs v0.9.0 or newer.", \
            "use the chart's default tag."


@mirrors("Cilium Ingress services of type 'LoadBalancer' or 'NodePort' need")
def _ingress_traffic_policy(v: ChartValues) -> Iterator[Problem]:
    if v.on("ingressController.enabled") and \
            v.get("ingressController.service.type") in ("LoadBalancer", "NodePort") and \
            v.get("ingressController.service.externalTrafficPolicy") not in ("Cluster", "Local"):
        yield "ingressController.service.externalTrafficPolicy", "must be Cluster or Local.", \
            "use Cluster or Local."


@mirrors("Ingress/Gateway API controller and EnvoyConfig require .Values.kubeProxyReplacement")
def _envoy_features_need_explicit_kpr(v: ChartValues) -> Iterator[Problem]:
    if (v.on("envoyConfig.enabled") or v.on("ingressController.enabled")
            or v.on("gatewayAPI.enabled")) and to_string(v.get("kubeProxyReplacement")) == "disabled":
        yield "kubeProxyReplacement", "'disabled' is not accepted with Ingress, Gateway API or " \
            "EnvoyConfig.", "set kubeProxyReplacement: true."


@mirrors("SPIRE integration requires")
def _spire(v: ChartValues) -> Iterator[Problem]:
    if v.on("authentication.mutual.spire.enabled") and not v.on("authentication.enabled"):
        yield "authentication.enabled", "SPIRE mutual authentication needs it on.", \
            "set authentication.enabled: true."


@mirrors("if Cilium Endpoint Slice is enabled")
def _endpoint_slices_need_endpoint_crd(v: ChartValues) -> Iterator[Problem]:
    if v.on("ciliumEndpointSlice.enabled") and v.get("disableEndpointCRD") is True:
        yield "disableEndpointCRD", "CiliumEndpointSlices need the CiliumEndpoint CRD.", \
            "set disableEndpointCRD: false."


@mirrors("Cilium is currently affected by a bug that causes traffic matched by network policies")
def _eni_cluster_id(v: ChartValues) -> Iterator[Problem]:
    cluster_id = as_int(v.get("cluster.id"))
    extra = v.get("extraConfig")
    unsafe = isinstance(extra, Mapping) and extra.get("allow-unsafe-policy-skb-usage") == "true"
    if not unsafe and (128 <= cluster_id <= 255 or 384 <= cluster_id <= 511) and (
            v.on("eni.enabled") or v.on("alibabacloud.enabled")
            or v.get("cni.chainingMode") == "aws-cni"):
        yield "cluster.id", "ids 128-255 and 384-511 drop policy traffic in ENI/AWS-CNI modes " \
            "(cilium/cilium#21330).", "use a cluster.id below 128."


@mirrors(".Values.clustermesh.apiserver.kvstoremesh.kvstoreMode must have the value")
def _kvstore_mode(v: ChartValues) -> Iterator[Problem]:
    if v.get("clustermesh.apiserver.kvstoremesh.kvstoreMode") not in ("internal", "external"):
        yield "clustermesh.apiserver.kvstoremesh.kvstoreMode", "must be internal or external.", \
            "use internal (the default) or external."


def _crd_identities(v: ChartValues) -> bool:
    # _helpers.tpl identityAllocationCRD: crd, or a doublewrite mode.
    return v.get("identityAllocationMode") in ("crd", "doublewrite-readkvstore",
                                               "doublewrite-readcrd")


@mirrors("The clustermesh-apiserver cannot be enabled in combination with .Values.disableEndpointCRD")
def _apiserver_needs_endpoint_crd(v: ChartValues) -> Iterator[Problem]:
    if v.on("clustermesh.useAPIServer") and _crd_identities(v) and v.on("disableEndpointCRD"):
        yield "disableEndpointCRD", "the clustermesh-apiserver needs the CiliumEndpoint CRD.", \
            "set disableEndpointCRD: false."


@mirrors("The kvstoremesh container cannot be disabled in combination with")
def _kvstoremesh_needed(v: ChartValues) -> Iterator[Problem]:
    if v.on("clustermesh.useAPIServer") and not _crd_identities(v) and \
            not v.on("clustermesh.apiserver.kvstoremesh.enabled"):
        yield "clustermesh.apiserver.kvstoremesh.enabled", "kvstore identities need KVStoreMesh " \
            "for the clustermesh-apiserver.", "turn it on, or use identityAllocationMode: crd."


def _external_kvstore(v: ChartValues) -> bool:
    return v.get("clustermesh.apiserver.kvstoremesh.kvstoreMode") == "external"


@mirrors("kvstoremesh.kvstoreMode=external can only be used with clustermesh.useAPIServer")
def _external_needs_apiserver(v: ChartValues) -> Iterator[Problem]:
    if _external_kvstore(v) and not v.on("clustermesh.useAPIServer"):
        yield "clustermesh.useAPIServer", "an external KVStoreMesh etcd needs the " \
            "clustermesh-apiserver.", "set clustermesh.useAPIServer: true."


@mirrors("kvstoremesh.kvstoreMode=external can only be used with kvstoremesh.enabled")
def _external_needs_kvstoremesh(v: ChartValues) -> Iterator[Problem]:
    if _external_kvstore(v) and not v.on("clustermesh.apiserver.kvstoremesh.enabled"):
        yield "clustermesh.apiserver.kvstoremesh.enabled", "an external KVStoreMesh etcd needs " \
            "KVStoreMesh.", "set it to true."


@mirrors("Only single clustermesh-apiserver replica is allowed when kvstoreMode=external")
def _external_single_replica(v: ChartValues) -> Iterator[Problem]:
    if _external_kvstore(v) and to_string(v.get("clustermesh.apiserver.replicas")) != "1":
        yield "clustermesh.apiserver.replicas", "an external KVStoreMesh etcd allows one " \
            "replica.", "set it to 1."


@mirrors("KVStoreMesh with %s etcd cannot be enabled in combination with")
def _external_needs_kvstore_identities(v: ChartValues) -> Iterator[Problem]:
    if _external_kvstore(v) and v.get("identityAllocationMode") not in (
            "kvstore", "doublewrite-readkvstore", "doublewrite-readcrd"):
        yield "identityAllocationMode", "an external KVStoreMesh etcd needs kvstore identities.", \
            "use kvstore or a doublewrite mode, or kvstoreMode: internal."


@mirrors("The support for providing Cluster Mesh certs and keys as helm values has been removed")
def _clustermesh_certs_as_values(v: ChartValues) -> Iterator[Problem]:
    if v.on("clustermesh.useAPIServer") and not v.on("clustermesh.apiserver.tls.auto.enabled"):
        for part in ("server", "admin", "remote"):
            if v.on(f"clustermesh.apiserver.tls.{part}.cert"):
                yield f"clustermesh.apiserver.tls.{part}.cert", "certificates as Helm values " \
                    "are no longer supported.", "turn on clustermesh.apiserver.tls.auto, or " \
                    "create the secrets yourself."


@mirrors("envoy.baseID must be an int")
def _envoy_base_id(v: ChartValues) -> Iterator[Problem]:
    if not 0 <= as_int(v.get("envoy.baseID")) <= 4294967295:
        yield "envoy.baseID", "must be from 0 to 4294967295.", "use a number in that range."


@mirrors("k8sClientExponentialBackoff cannot be enabled when extraEnv contains")
def _backoff_env(v: ChartValues) -> Iterator[Problem]:
    env = v.get("extraEnv")
    if not v.on("k8sClientExponentialBackoff.enabled") or not isinstance(env, list):
        return
    names = {item.get("name") for item in env if isinstance(item, Mapping)}
    if names & {"KUBE_CLIENT_BACKOFF_BASE", "KUBE_CLIENT_BACKOFF_DURATION"}:
        yield "extraEnv", "sets KUBE_CLIENT_BACKOFF_* while k8sClientExponentialBackoff sets " \
            "them too.", "remove them from extraEnv, or turn k8sClientExponentialBackoff off."


@mirrors("standaloneDnsProxy requires dnsProxy.proxyPort to be explicitly set")
def _dns_proxy_port_set(v: ChartValues) -> Iterator[Problem]:
    if v.on("standaloneDnsProxy.enabled") and not v.on("dnsProxy.proxyPort"):
        yield "dnsProxy.proxyPort", "the standalone DNS proxy needs a fixed port.", \
            "set it, e.g. 10094."


@mirrors("standaloneDnsProxy requires dnsProxy.proxyPort to be set to a non-zero value")
def _dns_proxy_port_nonzero(v: ChartValues) -> Iterator[Problem]:
    # Reached only when the port is truthy: a non-numeric string is 0 for `int`.
    if v.on("standaloneDnsProxy.enabled") and v.on("dnsProxy.proxyPort") and \
            as_int(v.get("dnsProxy.proxyPort")) == 0:
        yield "dnsProxy.proxyPort", "must be a non-zero port number.", "set it, e.g. 10094."


@mirrors(".Values.bpf.tproxy cannot be enabled with .Values.bpf.datapathMode=netkit")
def _tproxy_with_netkit(v: ChartValues) -> Iterator[Problem]:
    if v.has("bpf.tproxy") and v.has("bpf.datapathMode") and v.on("bpf.tproxy") and \
            v.get("bpf.datapathMode") in ("netkit", "netkit-l2"):
        yield "bpf.tproxy", "does not work with the netkit datapath (cilium/cilium#39892).", \
            "turn bpf.tproxy off, or use bpf.datapathMode: veth."


@mirrors("ipam.mode=eni requires eni.enabled=true")
def _eni_ipam(v: ChartValues) -> Iterator[Problem]:
    if v.get("ipam.mode") == "eni" and not v.on("eni.enabled"):
        yield "ipam.mode", "eni needs eni.enabled (AWS only).", \
            "use kubernetes (the program's default on Hetzner)."


# -- cilium-configmap.yaml -------------------------------------------------------------------------
@mirrors("RoutingMode must be set to native when gke.enabled=true")
def _gke_routing(v: ChartValues) -> Iterator[Problem]:
    if v.on("gke.enabled") and (v.get("routingMode") or "native") != "native":
        yield "routingMode", "must be native with gke.enabled.", "remove gke.enabled (GKE only)."


@mirrors("RoutingMode must be set to tunnel when aksbyocni.enabled=true")
def _aks_routing(v: ChartValues) -> Iterator[Problem]:
    if not v.on("gke.enabled") and v.on("aksbyocni.enabled") and \
            (v.get("routingMode") or "tunnel") != "tunnel":
        yield "routingMode", "must be tunnel with aksbyocni.enabled.", \
            "remove aksbyocni.enabled (AKS only)."


def _ipam_mode(v: ChartValues) -> str:
    return to_string(v.get("ipam.mode")) if v.get("ipam.mode") is not None else ""


@mirrors("ipv6NativeRoutingCIDR must be set when routingMode is native")
def _ipv6_native_routing_cidr(v: ChartValues) -> Iterator[Problem]:
    if v.get("routingMode") == "native" and v.on("ipv6.enabled") and \
            v.on("enableIPv6Masquerade") and not v.on("ipMasqAgent.enabled") and \
            not v.on("ipv6NativeRoutingCIDR") and not (
                _ipam_mode(v) == "cluster-pool" and v.on("nativeRoutingCIDRFromClusterPool")):
        yield "ipv6NativeRoutingCIDR", "native routing with IPv6 masquerading needs the range " \
            "routed without masquerading.", "set it to the IPv6 pod range."


def _pools(value: Any) -> list[Any]:
    if isinstance(value, str):
        return value.split(" ")
    return list(value) if isinstance(value, list) else []


@mirrors("nativeRoutingCIDRFromClusterPool requires exactly one CIDR in "
         "ipam.operator.clusterPoolIPv4PodCIDRList")
def _v4_routing_cidr_from_pool(v: ChartValues) -> Iterator[Problem]:
    if _ipam_mode(v) == "cluster-pool" and v.on("ipv4.enabled") and \
            v.on("nativeRoutingCIDRFromClusterPool") and not v.on("ipv4NativeRoutingCIDR") and \
            len(_pools(v.get("ipam.operator.clusterPoolIPv4PodCIDRList"))) != 1:
        yield "ipam.operator.clusterPoolIPv4PodCIDRList", "needs exactly one CIDR for " \
            "nativeRoutingCIDRFromClusterPool.", "set ipv4NativeRoutingCIDR explicitly."


@mirrors("nativeRoutingCIDRFromClusterPool requires exactly one CIDR in "
         "ipam.operator.clusterPoolIPv6PodCIDRList")
def _v6_routing_cidr_from_pool(v: ChartValues) -> Iterator[Problem]:
    if _ipam_mode(v) == "cluster-pool" and v.on("ipv6.enabled") and \
            v.on("nativeRoutingCIDRFromClusterPool") and not v.on("ipv6NativeRoutingCIDR") and \
            len(_pools(v.get("ipam.operator.clusterPoolIPv6PodCIDRList"))) != 1:
        yield "ipam.operator.clusterPoolIPv6PodCIDRList", "needs exactly one CIDR for " \
            "nativeRoutingCIDRFromClusterPool.", "set ipv6NativeRoutingCIDR explicitly."


def _removed_pool_cidr(family: str) -> Check:
    key = f"ipam.operator.clusterPool{family}PodCIDR"

    def check(v: ChartValues) -> Iterator[Problem]:
        # 1.18 only: `hasKey`, so any value counts (a null is removed by coalescing first).
        if _ipam_mode(v) == "cluster-pool" and v.on(f"{family.lower()}.enabled") and v.has(key):
            yield key, "was removed from the Cilium chart.", f"use {key}List."
    return check


for _family in ("IPv4", "IPv6"):
    mirrors(f"Value ipam.operator.clusterPool{_family}PodCIDR removed")(
        _removed_pool_cidr(_family))


@mirrors("Cannot have operator.setNodeTaintsMaxNodes and not operator.removeNodeTaints")
def _node_taints(v: ChartValues) -> Iterator[Problem]:
    # The message names setNodeTaintsMaxNodes; the condition reads operator.setNodeTaints.
    if v.on("operator.setNodeTaints") and not v.on("operator.removeNodeTaints"):
        yield "operator.setNodeTaints", "needs operator.removeNodeTaints.", \
            "set operator.removeNodeTaints: true, or operator.setNodeTaints: false."


# -- other templates -------------------------------------------------------------------------------
@mirrors("ConfigMap %s/%s not found, please create it or set k8sServiceHost")
def _api_host_lookup(v: ChartValues) -> Iterator[Problem]:
    # "auto" looks up kubeadm's cluster-info ConfigMap, which k3s does not create (and helm
    # template cannot look up at all).
    if v.get("k8sServiceHost") == "auto":
        yield "k8sServiceHost", "'auto' reads kubeadm's cluster-info ConfigMap, which k3s does " \
            "not have.", "leave it unset: the program points Cilium at k3s's local API proxy."


@mirrors("Invalid configuration: Installing Cilium on GKE with 'kubernetes.io/cluster-service'")
def _gke_labels(v: ChartValues) -> Iterator[Problem]:
    if v.on("keepDeprecatedLabels") and v.on("gke.enabled"):
        yield "keepDeprecatedLabels", "GKE removes a kube-system DaemonSet with these labels.", \
            "set keepDeprecatedLabels: false."


@mirrors(".Values.clustermesh.apiserver.tls.authMode must be one of")
def _apiserver_auth_mode(v: ChartValues) -> Iterator[Problem]:
    if v.on("clustermesh.useAPIServer") and v.get("clustermesh.apiserver.tls.authMode") not in (
            "legacy", "migration", "cluster"):
        yield "clustermesh.apiserver.tls.authMode", "must be legacy, migration or cluster.", \
            "use one of them (default: legacy)."


def _mesh_clusters(v: ChartValues) -> list[Mapping[str, Any]]:
    clusters = v.get("clustermesh.config.clusters")
    if isinstance(clusters, Mapping):
        clusters = list(clusters.values())
    return [c for c in clusters or () if isinstance(c, Mapping) and c.get("enabled") is not False]


@mirrors("unknown type %s for clustermesh.config.clusters")
def _mesh_clusters_kind(v: ChartValues) -> Iterator[Problem]:
    clusters = v.get("clustermesh.config.clusters")
    if v.on("clustermesh.config.enabled") and not isinstance(clusters, (Mapping, list)):
        yield "clustermesh.config.clusters", "must be a list (or a mapping by name).", \
            "list the remote clusters."


@mirrors("missing clustermesh.apiserver.config.clusters.address")
def _mesh_cluster_address(v: ChartValues) -> Iterator[Problem]:
    if not v.on("clustermesh.config.enabled"):
        return
    for cluster in _mesh_clusters(v):
        if not cluster.get("ips") and not truthy(cluster.get("address")):
            yield "clustermesh.config.clusters", f"cluster {cluster.get('name')!r} has neither " \
                "ips nor an address.", "give it address (or ips) of its clustermesh-apiserver."


# hubble/tls-provided/* and (1.19) clustermesh-apiserver/tls-provided/*: with certificate
# generation off, the chart needs each certificate and key as a value.
def _provided_tls(enabled: Callable[[ChartValues], bool], prefix: str, field: str) -> Check:
    def check(v: ChartValues) -> Iterator[Problem]:
        if enabled(v) and not truthy(v.get(f"{prefix}.{field}")):
            yield f"{prefix}.{field}", "is required when TLS certificates are not generated.", \
                f"turn on automatic certificates (tls.auto.enabled), or set {prefix}.{field}."
    return check


def _hubble_tls(v: ChartValues) -> bool:
    return v.on("hubble.enabled") and v.on("hubble.tls.enabled") and \
        not v.on("hubble.tls.auto.enabled")


def _no_secret(prefix: str) -> Callable[[ChartValues], bool]:
    return lambda v: not v.on(f"{prefix}.existingSecret")


def _mesh_tls(v: ChartValues) -> bool:
    return v.on("clustermesh.useAPIServer") and \
        v.get("clustermesh.apiserver.kvstoremesh.kvstoreMode") == "internal" and \
        not v.on("clustermesh.apiserver.tls.auto.enabled") and \
        v.on("clustermesh.apiserver.tls.enableSecrets")


# The `if` at the top of each tls-provided template, as (value prefix, condition).
_PROVIDED_TLS: list[tuple[str, Callable[[ChartValues], bool]]] = [
    ("hubble.tls.server", lambda v: v.on("agent") and _hubble_tls(v)
     and _no_secret("hubble.tls.server")(v)),
    ("hubble.relay.tls.client", lambda v: _hubble_tls(v) and v.on("hubble.relay.enabled")
     and _no_secret("hubble.relay.tls.client")(v)),
    ("hubble.relay.tls.server", lambda v: _hubble_tls(v) and v.on("hubble.relay.enabled")
     and v.on("hubble.relay.tls.server.enabled") and _no_secret("hubble.relay.tls.server")(v)),
    ("hubble.ui.tls.client", lambda v: _hubble_tls(v) and v.on("hubble.ui.enabled")
     and v.on("hubble.relay.enabled") and v.on("hubble.relay.tls.server.enabled")
     and _no_secret("hubble.ui.tls.client")(v)),
    ("hubble.metrics.tls.server", lambda v: v.on("agent") and v.on("hubble.enabled")
     and v.on("hubble.metrics.tls.enabled") and not v.on("hubble.tls.auto.enabled")
     and _no_secret("hubble.metrics.tls.server")(v)),
    *((f"clustermesh.apiserver.tls.{part}", _mesh_tls) for part in ("server", "admin", "remote")),
]
for _prefix, _enabled in _PROVIDED_TLS:
    for _field in ("cert", "key"):
        mirrors(f"missing {_prefix}.{_field}")(_provided_tls(_enabled, _prefix, _field))


def line_rules(line: CiliumLine) -> list[TemplateRule]:
    """The mirrors of the calls this line's templates have (all of them where no templates of
    the line could be read)."""
    derived = chart_facts(line.minor).get("templateRules")
    if derived is None:
        return list(RULES)
    messages = [rule["message"] for rule in derived]
    return [rule for rule in RULES if any(m.startswith(rule.message) for m in messages)]


def refusing_rules(values: Mapping[str, Any], line: CiliumLine) -> list[str]:
    """The chart messages (starts) whose calls would stop the render of these values."""
    v = ChartValues(values, line)
    return [rule.message for rule in line_rules(line) if any(True for _ in rule.check(v))]


def template_problems(values: Mapping[str, Any], line: CiliumLine) -> list[Problem]:
    """What the chart's own ``fail``/``required`` calls of this line refuse in these values."""
    v = ChartValues(values, line)
    return [problem for rule in line_rules(line) for problem in rule.check(v)]
