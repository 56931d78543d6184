"""Validate Kubernetes objects as an API server of one minor would: built-in kinds against the
Kubernetes OpenAPI schemas `kubernetes-validate` ships, custom resources against the real CRDs.

What this does not check (an API server would): CEL rules (``x-kubernetes-validations``),
defaulting, admission, and fields a structural schema prunes silently.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

CrdKey = tuple[str, str, str]
"""(group, version, kind) of a served custom resource version."""


@dataclass(frozen=True)
class CrdIndex:
    schemas: dict[CrdKey, dict[str, Any]]

    @property
    def groups(self) -> set[str]:
        return {group for group, _, _ in self.schemas}

    @classmethod
    def load(cls, folders: Iterable[Path]) -> "CrdIndex":
        schemas: dict[CrdKey, dict[str, Any]] = {}
        for folder in folders:
            for path in sorted(folder.rglob("*.yaml")):
                for doc in yaml.safe_load_all(path.read_text()):
                    if not doc or doc.get("kind") != "CustomResourceDefinition":
                        continue
                    spec = doc["spec"]
                    for version in spec["versions"]:
                        if not version.get("served", True):
                            continue
                        key = (spec["group"], version["name"], spec["names"]["kind"])
                        schemas[key] = version["schema"]["openAPIV3Schema"]
        return cls(schemas)


def _openapi_to_jsonschema(node: Any) -> Any:
    """OpenAPI v3 (structural, as CRDs write it) to JSON Schema: int-or-string and nullable."""
    if isinstance(node, list):
        return [_openapi_to_jsonschema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _openapi_to_jsonschema(value) for key, value in node.items()
           if not key.startswith("x-kubernetes-")}
    if node.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if node.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
    return out


def _describe(name: str, error: jsonschema.ValidationError) -> str:
    """Where and which rule, never the value: objects may be Secrets."""
    path = ".".join(str(p) for p in error.absolute_path) or "(top)"
    rule = repr(error.validator_value)
    return f"{name}: {path}: fails {error.validator} {rule[:200]}"


def documents(text: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


def problems(obj: dict[str, Any], kubernetes_minor: str, crds: CrdIndex) -> Iterator[str]:
    """Why the API server of ``kubernetes_minor`` (e.g. ``1.35``) would refuse ``obj``; nothing if
    it would accept it. Unknown kinds are a problem too: nothing to install them from."""
    api_version, kind = obj.get("apiVersion", ""), obj.get("kind", "")
    name = f"{kind} {obj.get('metadata', {}).get('name', '?')}"
    group, _, version = api_version.rpartition("/")
    if group in crds.groups:
        schema = crds.schemas.get((group, version, kind))
        if schema is None:
            yield f"{name}: {api_version} {kind} is not served by the CRDs installed with it"
            return
        validator = jsonschema.Draft7Validator(_openapi_to_jsonschema(schema))
        for error in validator.iter_errors(obj):
            yield _describe(name, error)
        return
    try:
        kubernetes_validate.validate(obj, f"{kubernetes_minor}.0", strict=True)
    except kubernetes_validate.ValidationError as error:
        yield _describe(name, error)
    except kubernetes_validate.SchemaNotFoundError as error:
        yield f"{name}: {error.message}"
