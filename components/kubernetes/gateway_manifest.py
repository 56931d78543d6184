"""The default Gateway rendered from ``addons.gateway`` (pure; no Pulumi).

Cilium copies ``spec.infrastructure.annotations`` (Gateway API v1.2+ standard) onto the
``cilium-gateway-<name>`` LoadBalancer Service it creates; hcloud-ccm reads them there and
provisions a Hetzner load balancer for it. That is how a Gateway gets a Hetzner LB.
Ref: https://docs.cilium.io/en/stable/network/servicemesh/gateway-api/gateway-api/
Ref: hcloud-cloud-controller-manager docs, load balancer annotations (annotation names):
     https://github.com/hetznercloud/hcloud-cloud-controller-manager/blob/main/docs/reference/load_balancer_annotations.md
"""

from __future__ import annotations

from typing import Any

from cluster_plan.load_balancer_annotations import HetznerLoadBalancer, hcloud_ccm_annotations
from stack_config import ClusterSpec
from stack_config.addons import GatewayListener
from upstream.cilium import GATEWAY_API_GROUP, GATEWAY_CLASS

API_VERSION = f"{GATEWAY_API_GROUP}/v1"


def load_balancer_annotations(spec: ClusterSpec) -> dict[str, str]:
    """hcloud-ccm annotations for the Gateway's Service (annotation values are strings)."""
    lb = spec.addons.gateway.load_balancer
    return hcloud_ccm_annotations(HetznerLoadBalancer(
        name=spec.gateway_load_balancer_name, location=lb.location or spec.location,
        type=lb.type, use_private_ip=lb.use_private_ip))


def _listener(listener: GatewayListener, allowed_routes: str) -> dict[str, Any]:
    rendered: dict[str, Any] = {
        "name": listener.name,
        "port": listener.port,
        "protocol": listener.protocol,
        "allowedRoutes": {"namespaces": {"from": allowed_routes}},
    }
    if listener.hostname:
        rendered["hostname"] = listener.hostname
    if listener.tls is not None:
        tls: dict[str, Any] = {"mode": listener.tls.mode}
        if listener.tls.certificate_secrets:
            tls["certificateRefs"] = [{"group": "", "kind": "Secret", "name": secret}
                                      for secret in listener.tls.certificate_secrets]
        rendered["tls"] = tls
    return rendered


def gateway(spec: ClusterSpec) -> dict[str, Any]:
    config = spec.addons.gateway
    return {
        "apiVersion": API_VERSION,
        "kind": "Gateway",
        "metadata": {"name": config.name, "namespace": config.namespace},
        "spec": {
            "gatewayClassName": GATEWAY_CLASS,
            "infrastructure": {"annotations": load_balancer_annotations(spec)},
            "listeners": [_listener(item, config.allowed_routes) for item in config.listeners],
        },
    }
