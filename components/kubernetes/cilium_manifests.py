"""Cilium custom resources rendered from the typed config (pure; no Pulumi).

Field names and shapes follow Cilium's CRDs (``pkg/k8s/apis/cilium.io/client/crds``); the
apiVersion comes from the Cilium line (``upstream.cilium``). All three kinds are cluster-scoped.
"""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network
from typing import Any

from stack_config.cilium import (
    EgressGatewayPolicy,
    IPRange,
    L2AnnouncementPolicy,
    LabelSelector,
    LoadBalancerIPPool,
)
from upstream.cilium import CiliumLine


def label_selector(selector: LabelSelector) -> dict[str, Any]:
    """A Kubernetes LabelSelector; an empty one selects everything."""
    rendered: dict[str, Any] = {}
    if selector.match_labels:
        rendered["matchLabels"] = dict(selector.match_labels)
    if selector.match_expressions:
        rendered["matchExpressions"] = [
            {"key": e.key, "operator": e.operator, **({"values": list(e.values)} if e.values else {})}
            for e in selector.match_expressions]
    return rendered


def _manifest(line: CiliumLine, kind: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": line.resource_api_versions[kind], "kind": kind,
            "metadata": {"name": name}, "spec": spec}


def _block(block: IPv4Network | IPv6Network | IPRange) -> dict[str, str]:
    if isinstance(block, IPRange):
        return {"start": str(block.start), "stop": str(block.stop)}
    return {"cidr": str(block)}


def load_balancer_ip_pool(pool: LoadBalancerIPPool, line: CiliumLine) -> dict[str, Any]:
    spec: dict[str, Any] = {"blocks": [_block(block) for block in pool.blocks]}
    if pool.service_selector is not None:
        spec["serviceSelector"] = label_selector(pool.service_selector)
    if pool.disabled:
        spec["disabled"] = True
    return _manifest(line, "CiliumLoadBalancerIPPool", pool.name, spec)


def l2_announcement_policy(policy: L2AnnouncementPolicy, line: CiliumLine) -> dict[str, Any]:
    spec: dict[str, Any] = {"externalIPs": policy.external_ips,
                            "loadBalancerIPs": policy.load_balancer_ips}
    if policy.service_selector is not None:
        spec["serviceSelector"] = label_selector(policy.service_selector)
    if policy.node_selector is not None:
        spec["nodeSelector"] = label_selector(policy.node_selector)
    if policy.interfaces:
        spec["interfaces"] = list(policy.interfaces)
    return _manifest(line, "CiliumL2AnnouncementPolicy", policy.name, spec)


def egress_gateway_policy(policy: EgressGatewayPolicy, line: CiliumLine) -> dict[str, Any]:
    selector: dict[str, Any] = {"podSelector": label_selector(policy.pod_selector)}
    if policy.namespace_selector is not None:
        selector["namespaceSelector"] = label_selector(policy.namespace_selector)
    gateway: dict[str, Any] = {"nodeSelector": label_selector(policy.egress_gateway.node_selector)}
    if policy.egress_gateway.interface:
        gateway["interface"] = policy.egress_gateway.interface
    if policy.egress_gateway.egress_ip is not None:
        gateway["egressIP"] = str(policy.egress_gateway.egress_ip)
    spec: dict[str, Any] = {
        "selectors": [selector],
        "destinationCIDRs": [str(cidr) for cidr in policy.destination_cidrs],
        "egressGateway": gateway,
    }
    if policy.excluded_cidrs:
        spec["excludedCIDRs"] = [str(cidr) for cidr in policy.excluded_cidrs]
    return _manifest(line, "CiliumEgressGatewayPolicy", policy.name, spec)
