"""APISIX's admin API stays inside the cluster and never runs with the chart's published keys.

The admin API (port 9180) writes every route, upstream and plugin APISIX serves — in standalone
mode the whole configuration at once (``/apisix/admin/configs``). The ``apisix`` chart can put it
on a LoadBalancer or NodePort Service, external IPs or an Ingress (values ``apisix.admin.type``,
``externalIPs``, ``ingress.enabled``), and its values.yaml ships fixed admin and viewer keys
(``apisix.admin.credentials``) that anyone can read in the chart.
Ref: apache/apisix-helm-chart charts/apisix/templates/service-admin.yaml, ingress-admin.yaml,
     configmap.yaml (admin_key); values in upstream/apisix_chart.json.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.rules.types import HELM_RELEASE
from upstream import apisix

_DOCS = "https://apisix.apache.org/docs/apisix/admin-api/"


def _admin_values(args: ResourceValidationArgs) -> Mapping[str, Any] | None:
    if args.resource_type != HELM_RELEASE or args.props.get("chart") != apisix.chart_name():
        return None
    values = args.props.get("values")
    if not isinstance(values, Mapping):
        return None  # unknown in a preview, or no values: the chart defaults (ClusterIP)
    admin = (values.get("apisix") or {}).get("admin") or {}
    return admin if isinstance(admin, Mapping) else {}


def _admin_inside(args: ResourceValidationArgs, report: ReportViolation) -> None:
    admin = _admin_values(args)
    if admin is None:
        return
    exposures = []
    service_type = admin.get("type", "ClusterIP")
    if service_type != "ClusterIP":
        exposures.append(f"apisix.admin.type is {service_type}")
    if admin.get("externalIPs"):
        exposures.append("apisix.admin.externalIPs is set")
    if (admin.get("ingress") or {}).get("enabled"):
        exposures.append("apisix.admin.ingress.enabled is true")
    if exposures:
        report(f"APISIX release '{args.name}' exposes its admin API outside the cluster "
               f"({'; '.join(exposures)}): whoever reaches it rewrites every route. Fix: keep "
               "apisix.admin.type ClusterIP without externalIPs or an Ingress (k3s-hcloud "
               "always does); reach it with kubectl port-forward.", args.urn)


def _admin_key_generated(args: ResourceValidationArgs, report: ReportViolation) -> None:
    admin = _admin_values(args)
    if admin is None:
        return
    credentials = admin.get("credentials") or {}
    if credentials.get("secretName"):
        return  # the keys come from a Secret
    defaults = apisix.facts()["valueDefaults"]
    published = {defaults["apisix.admin.credentials.admin"],
                 defaults["apisix.admin.credentials.viewer"]}
    used = {credentials.get("admin", defaults["apisix.admin.credentials.admin"]),
            credentials.get("viewer", defaults["apisix.admin.credentials.viewer"])}
    if used & published:
        report(f"APISIX release '{args.name}' runs its admin API with a key published in the "
               "chart's values.yaml. Fix: set apisix.admin.credentials.secretName to a Secret "
               "holding generated keys (k3s-hcloud generates them).", args.urn)


admin_api_inside_cluster = ResourceValidationPolicy(
    name="apisix-admin-api-inside-cluster",
    description="The APISIX chart's admin API Service is ClusterIP, with no external IPs and no "
                "Ingress.",
    validate=_admin_inside,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    remediation_steps="Keep apisix.admin.type ClusterIP, externalIPs empty and "
                      "apisix.admin.ingress.enabled false.",
    url=_DOCS)

admin_key_not_published = ResourceValidationPolicy(
    name="apisix-admin-key-not-the-published-default",
    description="The APISIX admin API does not run with the admin/viewer keys from the chart's "
                "values.yaml.",
    validate=_admin_key_generated,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    remediation_steps="Generate the keys and pass them through "
                      "apisix.admin.credentials.secretName.",
    url=_DOCS)

POLICIES = [admin_api_inside_cluster, admin_key_not_published]
