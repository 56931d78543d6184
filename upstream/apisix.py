"""Apache APISIX and its ingress controller: the pinned chart and what it ships.

The facts come from apache/apisix-helm-chart's own tag, derived by ``tools/apisix_chart_facts.py``
into ``apisix_chart.json`` (a test regenerates it when a clone is present).

Why the 2.x chart line: it pairs APISIX 3.x with apisix-ingress-controller 2.x, the controller
rewrite that implements the Gateway API (GatewayClass/Gateway/HTTPRoute) besides ``Ingress`` and
the ``ApisixRoute`` CRDs, and whose ``apisix-standalone`` provider pushes the whole configuration
to APISIX's API-driven standalone mode (``/apisix/admin/configs``, kept in memory): no etcd. The
1.x controller needs APISIX's etcd-backed Admin API.
Ref: apache/apisix-ingress-controller docs/en/latest/concepts/deployment-architecture.md
     ("Standalone Mode (Experimental)"), and its install guide, "Install APISIX and APISIX
     Ingress Controller (Standalone API-driven mode)"; the GatewayProxy CRD in the chart's
     crds/apisixic-crds.yaml (provider type "apisix" or "apisix-standalone").
Upstream calls the standalone mode experimental (docs/apisix.md says what that means here).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

FACTS_FILE = Path(__file__).resolve().parent / "apisix_chart.json"

RELEASE_NAME = "apisix"
"""Helm release name; the chart names its Services ``<release>-gateway`` and ``<release>-admin``
(``apisix.fullname``: the release name alone when it contains the chart name)."""
GATEWAY_SERVICE = f"{RELEASE_NAME}-gateway"
ADMIN_SERVICE = f"{RELEASE_NAME}-admin"
STANDALONE_PROVIDER = "apisix-standalone"
"""The controller's provider for APISIX without etcd (ingress-controller config.provider.type)."""
STANDALONE_CONFIG_PROVIDER = "yaml"
"""APISIX ``deployment.role_traditional.config_provider`` of the API-driven standalone mode."""
GATEWAY_PROXY_API = "apisix.apache.org/v1alpha1"
"""The controller's GatewayProxy kind: how a GatewayClass/IngressClass finds the APISIX admin
API (the chart creates one, ``<release>-config``, with ``gatewayProxy.createDefault``)."""
GATEWAY_PROXY_NAME = f"{RELEASE_NAME}-config"
# Keys of the admin credentials Secret: the chart's defaults for secretAdminKey/secretViewerKey
# (_helpers.tpl apisix.admin.credentials.secretAdminKey / secretViewerKey).
ADMIN_KEY = "admin"
VIEWER_KEY = "viewer"


@cache
def facts() -> dict[str, Any]:
    return json.loads(FACTS_FILE.read_text())


def chart_version() -> str:
    return str(facts()["chart"]["version"])


def chart_name() -> str:
    return str(facts()["chart"]["name"])


def chart_repository() -> str:
    return str(facts()["chart"]["repository"])


def controller_name() -> str:
    """The controller's name: what GatewayClass ``spec.controllerName`` and IngressClass
    ``spec.controller`` must say for it to claim them."""
    return str(facts()["ingressController"]["controllerName"])


def crds_url() -> str:
    """The APISIX CRDs (apisixic-crds.yaml) at the pinned controller chart's tag."""
    return str(facts()["ingressController"]["crdsUrl"])


def crd_names() -> list[str]:
    return [crd["name"] for crd in facts()["ingressController"]["crds"]]


CHART_VERSION = chart_version()
