"""APISIX's Helm values, GatewayClass and Gateway, rendered from ``addons.apisix`` (pure; no Pulumi).

The values follow upstream's "Standalone API-driven mode" install (apisix-ingress-controller
docs, install guide): APISIX in the traditional role with ``config_provider: yaml`` (its
configuration lives in memory, written through ``/apisix/admin/configs``), no etcd, and the
controller's ``apisix-standalone`` provider pushing the whole configuration there. The admin
keys never appear in the values: the chart reads them from a Secret (``credentials.secretName``,
environment ``APISIX_ADMIN_KEY``) and the controller's GatewayProxy from the same Secret
(``adminKey.valueFrom.secretKeyRef``).
Every value path set here exists in the pinned chart (``upstream/apisix_chart.json``
``valueDefaults``; a test checks).
"""

from __future__ import annotations

from typing import Any

from cluster_plan.load_balancer_annotations import HetznerLoadBalancer, hcloud_ccm_annotations
from stack_config import ClusterSpec
from stack_config.apisix import load_balancer_name
from upstream import apisix
from upstream.cilium import GATEWAY_API_GROUP

GATEWAY_API_VERSION = f"{GATEWAY_API_GROUP}/v1"
HTTP_PORT = 80
"""Port of the gateway Service (and its load balancer) and of the Gateway's HTTP listener: the
controller matches listeners to the port APISIX is reached on (its listener_port_match_mode)."""
ADMIN_SECRET = f"{apisix.RELEASE_NAME}-admin-keys"
"""The Secret holding the generated admin and viewer keys (keys ``admin`` and ``viewer``)."""


def admin_port() -> int:
    return int(apisix.facts()["valueDefaults"]["ingress-controller.apisix.adminService.port"])


def load_balancer_annotations(spec: ClusterSpec) -> dict[str, str]:
    lb = spec.addons.apisix.load_balancer
    return hcloud_ccm_annotations(HetznerLoadBalancer(
        name=load_balancer_name(spec.cluster_name), location=lb.location or spec.location,
        type=lb.type, use_private_ip=lb.use_private_ip))


def helm_values(spec: ClusterSpec) -> dict[str, Any]:
    config = spec.addons.apisix
    admin_key_ref = {"secretKeyRef": {"name": ADMIN_SECRET, "key": apisix.ADMIN_KEY}}
    return {
        # The data plane: a LoadBalancer Service that hcloud-ccm fronts with a Hetzner LB.
        "service": {"type": "LoadBalancer", "annotations": load_balancer_annotations(spec),
                    "http": {"servicePort": HTTP_PORT}},
        "apisix": {
            "deployment": {"mode": "traditional", "role": "traditional",
                           "role_traditional": {
                               "config_provider": apisix.STANDALONE_CONFIG_PROVIDER}},
            # The admin API stays inside the cluster: ClusterIP, no external IPs, no Ingress.
            "admin": {
                "enabled": True, "type": "ClusterIP", "externalIPs": [],
                "ingress": {"enabled": False},
                # Empty: the chart's well-known default keys must not be what runs.
                "credentials": {"admin": "", "viewer": "", "secretName": ADMIN_SECRET,
                                "secretAdminKey": apisix.ADMIN_KEY,
                                "secretViewerKey": apisix.VIEWER_KEY},
            },
        },
        "control": {"service": {"type": "ClusterIP"}},
        "etcd": {"enabled": False},
        # No etcd at all: without a user the chart renders no etcd password Secret or env.
        "externalEtcd": {"user": ""},
        apisix.facts()["ingressController"]["alias"]: {
            "enabled": True,
            "config": {
                "provider": {"type": apisix.STANDALONE_PROVIDER},
                "disableGatewayAPI": not config.serves_gateway,
                "kubernetes": {"ingressClass": config.ingress_class_name,
                               "defaultIngressClass": config.default_ingress_class},
            },
            "apisix": {"adminService": {"name": apisix.ADMIN_SERVICE,
                                        "namespace": config.namespace, "port": admin_port()}},
            "gatewayProxy": {
                "createDefault": True,
                "provider": {"controlPlane": {"auth": {"adminKey": {
                    "value": "", "valueFrom": admin_key_ref}}}},
            },
        },
    }


def gateway_class(spec: ClusterSpec) -> dict[str, Any]:
    return {
        "apiVersion": GATEWAY_API_VERSION,
        "kind": "GatewayClass",
        "metadata": {"name": spec.addons.apisix.gateway_class_name},
        "spec": {"controllerName": apisix.controller_name()},
    }


def gateway(spec: ClusterSpec) -> dict[str, Any]:
    """A Gateway of the APISIX class; its ``infrastructure.parametersRef`` names the chart's
    GatewayProxy (same namespace), which tells the controller where APISIX's admin API is."""
    config = spec.addons.apisix
    return {
        "apiVersion": GATEWAY_API_VERSION,
        "kind": "Gateway",
        "metadata": {"name": config.gateway_name, "namespace": config.namespace},
        "spec": {
            "gatewayClassName": config.gateway_class_name,
            "listeners": [{"name": "http", "protocol": "HTTP", "port": HTTP_PORT,
                           "allowedRoutes": {"namespaces": {"from": config.allowed_routes}}}],
            "infrastructure": {"parametersRef": {
                "group": apisix.GATEWAY_PROXY_API.split("/")[0], "kind": "GatewayProxy",
                "name": apisix.GATEWAY_PROXY_NAME}},
        },
    }
