"""One refused and one accepted set of Helm values per ``fail``/``required`` of the Cilium chart.

Keys are the start of the chart's own message (as derived into upstream/cilium_charts/); the
values are dotted-path changes on top of what the program sends. Used by the offline test of our
mirror (tests/test_cilium_chart_templates.py) and by the e2e test that runs the real chart.
"""

from __future__ import annotations

from typing import Any

from tests.helpers import with_dotted_changes

# What the program sends by default (cluster_plan/cilium_values.py).
PROGRAM_VALUES: dict[str, Any] = {
    "kubeProxyReplacement": True, "k8sServiceHost": "127.0.0.1", "k8sServicePort": 6444,
    "routingMode": "native", "ipv4NativeRoutingCIDR": "10.42.0.0/16",
    "ipam": {"mode": "kubernetes"}, "k8s": {"requireIPv4PodCIDR": True},
    "bpf": {"masquerade": True}, "MTU": 1450, "loadBalancer": {"acceleration": "best-effort"},
}
_MESH = {"clustermesh.useAPIServer": True, "cluster.name": "a", "cluster.id": 1}
_HUBBLE_TLS = {"hubble.tls.auto.enabled": False}
_CERT = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t"

def _all_certs(prefix: str) -> dict[str, Any]:
    """Every certificate and key of the group the chart then requires (Hubble's or the
    clustermesh-apiserver's), so a case can leave out exactly one."""
    parts = (("server", "admin", "remote") if prefix.startswith("clustermesh.") else
             ("hubble.tls.server", "hubble.relay.tls.client", "hubble.relay.tls.server",
              "hubble.ui.tls.client", "hubble.metrics.tls.server"))
    group = [f"clustermesh.apiserver.tls.{p}" if prefix.startswith("clustermesh.") else p
             for p in parts]
    return {f"{p}.{f}": _CERT for p in group for f in ("cert", "key")}


# message start → (refused changes, accepted changes)
CASES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "enableCiliumEndpointSlice was deprecated in v1.16": (
        {"enableCiliumEndpointSlice": True}, {"ciliumEndpointSlice.enabled": True}),
    "ciliumEndpointSlice.sliceMode has been removed": (
        {"ciliumEndpointSlice.sliceMode": "identity"}, {"ciliumEndpointSlice.enabled": False}),
    "encryption.{keyFile,mountPath,secretName,interface} were": (
        {"encryption.secretName": "keys"}, {"encryption.ipsec.secretName": "keys"}),
    "proxy.prometheus.enabled and proxy.prometheus.port were deprecated": (
        {"proxy.prometheus.enabled": False}, {"envoy.prometheus.enabled": False}),
    "endpointStatus has been removed": ({"endpointStatus": {"enabled": True}}, {}),
    "remoteNodeIdentity was deprecated": ({"remoteNodeIdentity": True}, {}),
    "containerRuntime.integration was deprecated": ({"containerRuntime.integration": "crio"}, {}),
    "etcd.managed was deprecated": ({"etcd.managed": True}, {}),
    "tunnel was deprecated": ({"tunnel": "vxlan"}, {"tunnelProtocol": "vxlan"}),
    "clustermesh.apiserver.tls.ca.cert and clustermesh.apiserver.tls.ca.key were": (
        # The top-level tls.ca must be a real CA (the chart parses it): left to its default here.
        {"clustermesh.apiserver.tls.ca.cert": _CERT}, {}),
    "enableK8sEventHandover was deprecated": ({"enableK8sEventHandover": True}, {}),
    "enableCnpStatusUpdates was deprecated": ({"enableCnpStatusUpdates": True}, {}),
    "Both k8sServiceHostRef and k8sServiceHost are set": (
        {"k8sServiceHostRef.name": "api", "k8sServiceHostRef.key": "host"},
        {"k8sServiceHostRef.name": "api"}),
    "Hubble UI requires .Values.hubble.relay.enabled=true": (
        {"hubble.ui.enabled": True}, {"hubble.ui.enabled": True, "hubble.relay.enabled": True}),
    "Hubble UI in standalone with Hubble Relay server TLS enabled": (
        {"hubble.ui.enabled": True, "hubble.ui.standalone.enabled": True,
         "hubble.relay.tls.server.enabled": True},
        {"hubble.ui.enabled": True, "hubble.ui.standalone.enabled": True}),
    "Hubble Relay requires .Values.hubble.enabled=true": (
        {"hubble.relay.enabled": True, "hubble.enabled": False}, {"hubble.relay.enabled": True}),
    "Service Monitor requires monitoring.coreos.com/v1 CRDs": (
        {"prometheus.enabled": True, "prometheus.serviceMonitor.enabled": True},
        {"prometheus.enabled": True, "prometheus.serviceMonitor.enabled": True,
         "prometheus.serviceMonitor.trustCRDsExist": True}),
    "Hubble TLS certgen method=certmanager requires": (
        {"hubble.tls.auto.method": "certmanager"},
        {"hubble.tls.auto.method": "certmanager",
         "hubble.tls.auto.certManagerIssuerRef": {"name": "ca", "kind": "Issuer"}}),
    "Only one of .Values.hubble.redact.http.headers.allow": (
        {"hubble.redact.http.headers.allow": ["a"], "hubble.redact.http.headers.deny": ["b"]},
        {"hubble.redact.http.headers.allow": ["a"]}),
    "ClusterMesh TLS certgen method=certmanager requires": (
        {**_MESH, "clustermesh.apiserver.tls.auto.method": "certmanager"},
        {**_MESH, "clustermesh.apiserver.tls.auto.method": "certmanager",
         "clustermesh.apiserver.tls.auto.certManagerIssuerRef": {"name": "ca"}}),
    "Hubble UI requires hubble.ui.backend.image.tag": (
        {"hubble.ui.enabled": True, "hubble.relay.enabled": True,
         "hubble.ui.backend.image.tag": "v0.8.5"},
        {"hubble.ui.enabled": True, "hubble.relay.enabled": True,
         "hubble.ui.backend.image.tag": "v0.13.0"}),
    "Hubble UI requires hubble.ui.frontend.image.tag": (
        {"hubble.ui.enabled": True, "hubble.relay.enabled": True,
         "hubble.ui.frontend.image.tag": "v0.8.0"},
        {"hubble.ui.enabled": True, "hubble.relay.enabled": True,
         "hubble.ui.frontend.image.tag": "latest", "hubble.ui.backend.image.tag": "v0.8.0"}),
    "Ingress or Gateway API controller or Envoy L7 Load Balancer": (
        {"ingressController.enabled": True, "l7Proxy": False},
        {"ingressController.enabled": True}),
    "Cilium Ingress services of type 'LoadBalancer' or 'NodePort' need": (
        {"ingressController.enabled": True,
         "ingressController.service.externalTrafficPolicy": "Any"},
        {"ingressController.enabled": True,
         "ingressController.service.externalTrafficPolicy": "Local"}),
    "Cilium GatewayAPI needs an externalTrafficPolicy": (
        {"gatewayAPI.enabled": True, "gatewayAPI.externalTrafficPolicy": "local"},
        {"gatewayAPI.enabled": True, "gatewayAPI.externalTrafficPolicy": "Local"}),
    "Ingress/Gateway API controller and EnvoyConfig require .Values.kubeProxyReplacement": (
        {"envoyConfig.enabled": True, "kubeProxyReplacement": "disabled"},
        {"envoyConfig.enabled": True}),
    "SPIRE integration requires": (
        {"authentication.mutual.spire.enabled": True, "authentication.enabled": False},
        {"authentication.mutual.spire.enabled": True, "authentication.enabled": True}),
    "if Cilium Endpoint Slice is enabled": (
        {"ciliumEndpointSlice.enabled": True, "disableEndpointCRD": True},
        {"ciliumEndpointSlice.enabled": True}),
    "The cluster name is invalid: cannot be empty": ({"cluster.name": ""}, {"cluster.name": "a"}),
    "The cluster name is invalid: must not be more than 32 characters": (
        {"cluster.name": "a" * 33}, {"cluster.name": "a" * 32}),
    "The cluster name is invalid: must consist of lower case": (
        {"cluster.name": "Prod"}, {"cluster.name": "prod"}),
    "The cluster name is invalid: cannot use default value with cluster.id": (
        {"cluster.id": 3}, {"cluster.id": 3, "cluster.name": "prod"}),
    "Cilium is currently affected by a bug that causes traffic matched by network policies": (
        {"cni.chainingMode": "aws-cni", "cluster.name": "a", "cluster.id": 200},
        {"cni.chainingMode": "aws-cni", "cluster.name": "a", "cluster.id": 100}),
    ".Values.clustermesh.apiserver.kvstoremesh.kvstoreMode must have the value": (
        {"clustermesh.apiserver.kvstoremesh.kvstoreMode": "Internal"},
        {"clustermesh.apiserver.kvstoremesh.kvstoreMode": "internal"}),
    "The clustermesh-apiserver cannot be enabled in combination with .Values.disableEndpointCRD": (
        {**_MESH, "disableEndpointCRD": True}, _MESH),
    "The kvstoremesh container cannot be disabled in combination with": (
        {**_MESH, "identityAllocationMode": "kvstore",
         "clustermesh.apiserver.kvstoremesh.enabled": False},
        {**_MESH, "identityAllocationMode": "kvstore"}),
    "kvstoremesh.kvstoreMode=external can only be used with clustermesh.useAPIServer": (
        {"clustermesh.apiserver.kvstoremesh.kvstoreMode": "external"}, {}),
    "kvstoremesh.kvstoreMode=external can only be used with kvstoremesh.enabled": (
        {**_MESH, "clustermesh.apiserver.kvstoremesh.kvstoreMode": "external",
         "clustermesh.apiserver.kvstoremesh.enabled": False}, _MESH),
    "Only single clustermesh-apiserver replica is allowed when kvstoreMode=external": (
        {**_MESH, "identityAllocationMode": "kvstore",
         "clustermesh.apiserver.kvstoremesh.kvstoreMode": "external",
         "clustermesh.apiserver.replicas": 2},
        {**_MESH, "identityAllocationMode": "kvstore",
         "clustermesh.apiserver.kvstoremesh.kvstoreMode": "external"}),
    "KVStoreMesh with %s etcd cannot be enabled in combination with": (
        {**_MESH, "clustermesh.apiserver.kvstoremesh.kvstoreMode": "external"}, _MESH),
    "The support for providing Cluster Mesh certs and keys as helm values has been removed": (
        {**_MESH, "clustermesh.apiserver.tls.auto.enabled": False,
         "clustermesh.apiserver.tls.server.cert": _CERT},
        _MESH),
    "max-connected-clusters must be set to 255 or 511": (
        {"clustermesh.maxConnectedClusters": 256}, {"clustermesh.maxConnectedClusters": 511}),
    "envoy.baseID must be an int": ({"envoy.baseID": -1}, {"envoy.baseID": 7}),
    "k8sClientExponentialBackoff cannot be enabled when extraEnv contains": (
        {"k8sClientExponentialBackoff.enabled": True,
         "extraEnv": [{"name": "KUBE_CLIENT_BACKOFF_BASE", "value": "1"}]},
        {"k8sClientExponentialBackoff.enabled": True,
         "extraEnv": [{"name": "OTHER", "value": "1"}]}),
    "standaloneDnsProxy requires dnsProxy.proxyPort to be explicitly set": (
        {"standaloneDnsProxy.enabled": True, "dnsProxy.proxyPort": 0},
        {"standaloneDnsProxy.enabled": True, "dnsProxy.proxyPort": 10094}),
    "standaloneDnsProxy requires dnsProxy.proxyPort to be set to a non-zero value": (
        {"standaloneDnsProxy.enabled": True, "dnsProxy.proxyPort": "port"},
        {"standaloneDnsProxy.enabled": True, "dnsProxy.proxyPort": 10094}),
    ".Values.bpf.tproxy cannot be enabled with .Values.bpf.datapathMode=netkit": (
        {"bpf.tproxy": True, "bpf.datapathMode": "netkit"},
        {"bpf.tproxy": True, "bpf.datapathMode": "veth"}),
    "ipam.mode=eni requires eni.enabled=true": ({"ipam.mode": "eni"}, {"ipam.mode": "kubernetes"}),
    "kubeProxyReplacement must be explicitly set to a valid value": (
        # (BPF masquerading off too: the 1.18 agent refuses it without the BPF NodePort.)
        {"kubeProxyReplacement": "strict"}, {"kubeProxyReplacement": "false",
                                             "bpf.masquerade": False}),
    "RoutingMode must be set to native when gke.enabled=true": (
        {"gke.enabled": True, "routingMode": "tunnel", "autoDirectNodeRoutes": False},
        {"gke.enabled": True}),
    "RoutingMode must be set to tunnel when aksbyocni.enabled=true": (
        {"aksbyocni.enabled": True},
        {"aksbyocni.enabled": True, "routingMode": "tunnel", "bpf.masquerade": False,
         "ipv4NativeRoutingCIDR": None}),
    "ipv4NativeRoutingCIDR must be set when routingMode is native": (
        # The chart checks only an explicit enableIPv4Masquerade: true (the agent also refuses
        # its default, which our rule covers).
        {"ipv4NativeRoutingCIDR": None, "enableIPv4Masquerade": True}, {}),
    "ipv6NativeRoutingCIDR must be set when routingMode is native": (
        {"ipv6.enabled": True, "enableIPv6Masquerade": True},
        {"ipv6.enabled": True, "enableIPv6Masquerade": True, "ipv6NativeRoutingCIDR": "fd00::/64"}),
    "nativeRoutingCIDRFromClusterPool requires exactly one CIDR in "
    "ipam.operator.clusterPoolIPv4PodCIDRList": (
        {"ipam.mode": "cluster-pool", "ipv4NativeRoutingCIDR": None,
         "nativeRoutingCIDRFromClusterPool": True,
         "ipam.operator.clusterPoolIPv4PodCIDRList": ["10.42.0.0/17", "10.42.128.0/17"]},
        {"ipam.mode": "cluster-pool", "nativeRoutingCIDRFromClusterPool": True,
         "ipam.operator.clusterPoolIPv4PodCIDRList": ["10.42.0.0/16"]}),
    "nativeRoutingCIDRFromClusterPool requires exactly one CIDR in "
    "ipam.operator.clusterPoolIPv6PodCIDRList": (
        {"ipam.mode": "cluster-pool", "ipv6.enabled": True, "nativeRoutingCIDRFromClusterPool": True,
         "ipv6NativeRoutingCIDR": None, "enableIPv6Masquerade": False,
         "ipam.operator.clusterPoolIPv6PodCIDRList": ["fd00::/104", "fd01::/104"]},
        {"ipam.mode": "cluster-pool", "ipv6.enabled": True, "enableIPv6Masquerade": False,
         "ipv6NativeRoutingCIDR": "fd00::/64"}),
    "Value ipam.operator.clusterPoolIPv4PodCIDR removed": (
        {"ipam.mode": "cluster-pool", "ipam.operator.clusterPoolIPv4PodCIDR": "10.42.0.0/16"},
        {"ipam.mode": "cluster-pool", "ipam.operator.clusterPoolIPv4PodCIDRList": ["10.42.0.0/16"]}),
    "Value ipam.operator.clusterPoolIPv6PodCIDR removed": (
        {"ipam.mode": "cluster-pool", "ipv6.enabled": True, "ipv6NativeRoutingCIDR": "fd00::/64",
         "ipam.operator.clusterPoolIPv6PodCIDR": "fd00::/104"},
        {"ipam.mode": "cluster-pool", "ipv6.enabled": True, "ipv6NativeRoutingCIDR": "fd00::/64"}),
    "Cannot have operator.setNodeTaintsMaxNodes and not operator.removeNodeTaints": (
        {"operator.setNodeTaints": True, "operator.removeNodeTaints": False},
        {"operator.setNodeTaints": True}),
    "ConfigMap %s/%s not found, please create it or set k8sServiceHost": (
        {"k8sServiceHost": "auto"}, {"k8sServiceHost": "127.0.0.1"}),
    "Invalid configuration: Installing Cilium on GKE with 'kubernetes.io/cluster-service'": (
        {"gke.enabled": True, "keepDeprecatedLabels": True}, {"keepDeprecatedLabels": True}),
    ".Values.clustermesh.apiserver.tls.authMode must be one of": (
        {**_MESH, "clustermesh.apiserver.tls.authMode": "none"},
        {**_MESH, "clustermesh.apiserver.tls.authMode": "cluster"}),
    "unknown type %s for clustermesh.config.clusters": (
        {"cluster.name": "a", "cluster.id": 1, "clustermesh.config.enabled": True,
         "clustermesh.config.clusters": "b"},
        {"cluster.name": "a", "cluster.id": 1, "clustermesh.config.enabled": True,
         "clustermesh.config.clusters": [{"name": "b", "address": "b.example", "port": 2379}]}),
    "missing clustermesh.apiserver.config.clusters.address": (
        {"cluster.name": "a", "cluster.id": 1, "clustermesh.config.enabled": True,
         "clustermesh.config.clusters": [{"name": "b", "port": 2379}]},
        {"cluster.name": "a", "cluster.id": 1, "clustermesh.config.enabled": True,
         "clustermesh.config.clusters": [{"name": "b", "ips": ["10.1.0.1"], "port": 2379}]}),
    **{f"missing {prefix}.{field}": (
        {**changes, **_all_certs(prefix), f"{prefix}.{field}": ""},
        {**changes, **_all_certs(prefix)})
       for prefix, changes in [
           ("hubble.tls.server", _HUBBLE_TLS),
           ("hubble.relay.tls.client", {**_HUBBLE_TLS, "hubble.relay.enabled": True}),
           ("hubble.relay.tls.server", {**_HUBBLE_TLS, "hubble.relay.enabled": True,
                                        "hubble.relay.tls.server.enabled": True}),
           ("hubble.ui.tls.client", {**_HUBBLE_TLS, "hubble.relay.enabled": True,
                                     "hubble.ui.enabled": True,
                                     "hubble.relay.tls.server.enabled": True}),
           ("hubble.metrics.tls.server", {**_HUBBLE_TLS, "hubble.metrics.tls.enabled": True,
                                          "hubble.metrics.enabled": ["flow"]}),
           *((f"clustermesh.apiserver.tls.{part}",
              {**_MESH, "clustermesh.apiserver.tls.auto.enabled": False})
             for part in ("server", "admin", "remote"))]
       for field in ("cert", "key")},
}


# Calls the chart's schema makes unreachable: every value that would reach them is refused by
# values.schema.json first (a non-integer proxyPort, a clusters value that is neither a list nor a
# mapping). The chart refuses these cases with its schema error at this path instead.
SCHEMA_SHADOWED: dict[str, str] = {
    "standaloneDnsProxy requires dnsProxy.proxyPort to be set to a non-zero value":
        "/dnsProxy/proxyPort",
    "unknown type %s for clustermesh.config.clusters": "/clustermesh/config/clusters",
}


def case_values(changes: dict[str, Any]) -> dict[str, Any]:
    """The program's values with dotted-path changes (a None removes the program's value)."""
    values = with_dotted_changes(PROGRAM_VALUES, {k: v for k, v in changes.items() if v is not None})
    for dotted in (k for k, v in changes.items() if v is None):
        node = values
        *parents, leaf = dotted.split(".")
        for part in parents:
            node = node[part]
        node.pop(leaf, None)
    return values
