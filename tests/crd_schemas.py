"""Schemas the rendered manifests are checked against.

- Gateway API: the ``openAPIV3Schema`` of the pinned CRD release in ``../shared/reference``.
- Cilium custom resources: the spec shapes of Cilium's CRDs, transcribed here (field names,
  types, enums, required fields) because the CRDs are not in the reference data. Sources:
  cilium/cilium pkg/k8s/apis/cilium.io/client/crds/v2/ciliumloadbalancerippools.yaml,
  v2alpha1/ciliuml2announcementpolicies.yaml, v2/ciliumegressgatewaypolicies.yaml.
  Unlike the real CRDs (which prune unknown fields silently), these forbid unknown fields, so a
  misspelt field fails here instead of vanishing in the cluster.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import yaml

from tests.helpers import requires_reference

_LABEL_VALUE = {"type": "string", "maxLength": 63,
                "pattern": r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$"}
LABEL_SELECTOR: dict[str, Any] = {
    "type": "object", "additionalProperties": False,
    "properties": {
        "matchLabels": {"type": "object", "additionalProperties": _LABEL_VALUE},
        "matchExpressions": {"type": "array", "items": {
            "type": "object", "additionalProperties": False, "required": ["key", "operator"],
            "properties": {"key": {"type": "string"},
                           "operator": {"enum": ["In", "NotIn", "Exists", "DoesNotExist"]},
                           "values": {"type": "array", "items": {"type": "string"}}}}},
    },
}
_IPV4_CIDR = {"type": "string", "pattern": r"^(?:(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\.){3}"
                                           r"(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\/([0-9]|[1-2][0-9]|3[0-2])$"}

CILIUM_SPECS: dict[str, dict[str, Any]] = {
    "CiliumLoadBalancerIPPool": {
        "type": "object", "additionalProperties": False,
        "properties": {
            "blocks": {"type": "array", "items": {
                "type": "object", "additionalProperties": False,
                "properties": {"cidr": {"type": "string"}, "start": {"type": "string"},
                               "stop": {"type": "string"}}}},
            "disabled": {"type": "boolean"},
            "allowFirstLastIPs": {"enum": ["Yes", "No"]},
            "serviceSelector": LABEL_SELECTOR,
        },
    },
    "CiliumL2AnnouncementPolicy": {
        "type": "object", "additionalProperties": False,
        "properties": {
            "externalIPs": {"type": "boolean"},
            "loadBalancerIPs": {"type": "boolean"},
            "interfaces": {"type": "array", "items": {"type": "string"}},
            "nodeSelector": LABEL_SELECTOR,
            "serviceSelector": LABEL_SELECTOR,
        },
    },
    "CiliumEgressGatewayPolicy": {
        "type": "object", "additionalProperties": False,
        "required": ["destinationCIDRs", "egressGateway", "selectors"],
        "properties": {
            "destinationCIDRs": {"type": "array", "items": _IPV4_CIDR},
            "excludedCIDRs": {"type": "array", "items": _IPV4_CIDR},
            "egressGateway": {
                "type": "object", "additionalProperties": False, "required": ["nodeSelector"],
                "properties": {"egressIP": {"type": "string"}, "interface": {"type": "string"},
                               "nodeSelector": LABEL_SELECTOR}},
            "selectors": {"type": "array", "items": {
                "type": "object", "additionalProperties": False,
                "properties": {"namespaceSelector": LABEL_SELECTOR,
                               "podSelector": LABEL_SELECTOR}}},
        },
    },
}


def cilium_manifest_schema(kind: str, api_version: str) -> dict[str, Any]:
    return {
        "type": "object", "additionalProperties": False,
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "apiVersion": {"const": api_version},
            "kind": {"const": kind},
            # Cluster-scoped: a namespace would be ignored.
            "metadata": {"type": "object", "required": ["name"], "additionalProperties": False,
                         "properties": {"name": {"type": "string"}}},
            "spec": CILIUM_SPECS[kind],
        },
    }


@cache
def gateway_api_schema(bundle_version: str, channel: str, kind: str, version: str) -> dict:
    """The openAPIV3Schema of one served version of a Gateway API kind."""
    directory = requires_reference(f"gateway-api-{bundle_version}", channel)
    for path in sorted(directory.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if document and document.get("kind") == "CustomResourceDefinition" and \
                    document["spec"]["names"]["kind"] == kind:
                for served in document["spec"]["versions"]:
                    if served["name"] == version:
                        return served["schema"]["openAPIV3Schema"]
    raise LookupError(f"{kind} {version} is not in Gateway API {bundle_version} {channel}")


def unknown_fields(instance: Any, schema: dict[str, Any], path: str = "") -> list[str]:
    """Fields the API server would prune: not declared where the schema lists properties."""
    found: list[str] = []
    if isinstance(instance, dict) and "properties" in schema:
        for key, value in instance.items():
            if key in schema["properties"]:
                found += unknown_fields(value, schema["properties"][key], f"{path}.{key}")
            elif not schema.get("additionalProperties") and \
                    not schema.get("x-kubernetes-preserve-unknown-fields"):
                found.append(f"{path}.{key}")
    elif isinstance(instance, dict) and isinstance(schema.get("additionalProperties"), dict):
        for key, value in instance.items():
            found += unknown_fields(value, schema["additionalProperties"], f"{path}.{key}")
    elif isinstance(instance, list) and "items" in schema:
        for index, item in enumerate(instance):
            found += unknown_fields(item, schema["items"], f"{path}[{index}]")
    return found
